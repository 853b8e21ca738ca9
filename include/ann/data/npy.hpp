#pragma once
// NumPy .npy files (format versions 1.0, 2.0 and 3.0), read and written without NumPy.
//
// read_npy() treats its input as hostile: it checks the magic string, the header length, the
// header dict (exactly the keys 'descr', 'fortran_order', 'shape'), the dtype, the byte order,
// the shape (no overflow of the element count) and that the data size matches the file size.
// Every failure is an ann::Error naming the file and what was expected.
//
// Supported dtypes: bool, int8/16/32/64, uint8/16/32/64, float32/64, little-endian (or
// byte-order-free for one-byte types). C order only; Fortran-ordered files are refused rather
// than silently transposed.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "ann/core/error.hpp"
#include "ann/core/tensor.hpp"
#include "ann/io/atomic_file.hpp"
#include "ann/io/read_file.hpp"

namespace ann::data {

enum class NpyType { b1, i1, i2, i4, i8, u1, u2, u4, u8, f4, f8 };

inline std::size_t npy_itemsize(NpyType t) {
    switch (t) {
        case NpyType::b1: case NpyType::i1: case NpyType::u1: return 1;
        case NpyType::i2: case NpyType::u2: return 2;
        case NpyType::i4: case NpyType::u4: case NpyType::f4: return 4;
        default: return 8;
    }
}

// NumPy's name for the dtype: "uint8", "float64", ...
inline const char* npy_type_name(NpyType t) {
    switch (t) {
        case NpyType::b1: return "bool";
        case NpyType::i1: return "int8";
        case NpyType::i2: return "int16";
        case NpyType::i4: return "int32";
        case NpyType::i8: return "int64";
        case NpyType::u1: return "uint8";
        case NpyType::u2: return "uint16";
        case NpyType::u4: return "uint32";
        case NpyType::u8: return "uint64";
        case NpyType::f4: return "float32";
        default: return "float64";
    }
}

template <class T> struct npy_type_of;
template <> struct npy_type_of<bool> { static constexpr NpyType value = NpyType::b1; };
template <> struct npy_type_of<std::int8_t> { static constexpr NpyType value = NpyType::i1; };
template <> struct npy_type_of<std::int16_t> { static constexpr NpyType value = NpyType::i2; };
template <> struct npy_type_of<std::int32_t> { static constexpr NpyType value = NpyType::i4; };
template <> struct npy_type_of<std::int64_t> { static constexpr NpyType value = NpyType::i8; };
template <> struct npy_type_of<std::uint8_t> { static constexpr NpyType value = NpyType::u1; };
template <> struct npy_type_of<std::uint16_t> { static constexpr NpyType value = NpyType::u2; };
template <> struct npy_type_of<std::uint32_t> { static constexpr NpyType value = NpyType::u4; };
template <> struct npy_type_of<std::uint64_t> { static constexpr NpyType value = NpyType::u8; };
template <> struct npy_type_of<float> { static constexpr NpyType value = NpyType::f4; };
template <> struct npy_type_of<double> { static constexpr NpyType value = NpyType::f8; };

// The raw content of a .npy file: dtype, shape and the little-endian element bytes.
struct NpyArray {
    std::string path;  // for messages
    NpyType type = NpyType::f8;
    Shape shape;
    std::vector<unsigned char> bytes;

    std::size_t size() const { return numel(shape); }

    // Element i converted to double (exact for every supported type but 64-bit integers > 2^53).
    double value(std::size_t i) const {
        const unsigned char* p = bytes.data() + i * npy_itemsize(type);
        auto get = [p](auto v) {
            std::memcpy(&v, p, sizeof v);  // little-endian host assumed (checked in read_npy)
            return static_cast<double>(v);
        };
        switch (type) {
            case NpyType::b1: return p[0] != 0 ? 1.0 : 0.0;
            case NpyType::i1: return get(std::int8_t{});
            case NpyType::i2: return get(std::int16_t{});
            case NpyType::i4: return get(std::int32_t{});
            case NpyType::i8: return get(std::int64_t{});
            case NpyType::u1: return get(std::uint8_t{});
            case NpyType::u2: return get(std::uint16_t{});
            case NpyType::u4: return get(std::uint32_t{});
            case NpyType::u8: return get(std::uint64_t{});
            case NpyType::f4: return get(float{});
            default: return get(double{});
        }
    }

    // The array as a tensor of T, converting element by element.
    template <class T>
    Tensor<T> to_tensor() const {
        Tensor<T> t = Tensor<T>::from_shape(shape);
        T* d = t.data();
        for (std::size_t i = 0; i < t.size(); ++i) d[i] = static_cast<T>(value(i));
        return t;
    }

    // Throws unless the file holds `want` and has `rank` dimensions (rank 0: any).
    const NpyArray& expect(NpyType want, std::size_t rank = 0, const std::string& what = "") const {
        if (type != want)
            fail(path, ": expected ", what.empty() ? "" : what + " of ", "dtype ", npy_type_name(want),
                 ", got ", npy_type_name(type));
        if (rank != 0 && shape.size() != rank)
            fail(path, ": expected ", what.empty() ? "an array" : what, " of rank ", rank, ", got shape ",
                 shape_str(shape));
        return *this;
    }
};

namespace detail {

// A cursor over the Python literal of the header: {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }
class NpyHeaderParser {
public:
    NpyHeaderParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

    void parse(std::string& descr, bool& fortran, Shape& shape) {
        bool have_descr = false, have_fortran = false, have_shape = false;
        expect('{');
        skip_ws();
        while (peek() != '}') {
            const std::string key = string_literal();
            expect(':');
            if (key == "descr") {
                if (have_descr) bad("a single 'descr' key");
                descr = string_literal();
                have_descr = true;
            } else if (key == "fortran_order") {
                if (have_fortran) bad("a single 'fortran_order' key");
                fortran = boolean();
                have_fortran = true;
            } else if (key == "shape") {
                if (have_shape) bad("a single 'shape' key");
                shape = tuple();
                have_shape = true;
            } else {
                bad("only the keys 'descr', 'fortran_order' and 'shape', not '" + key + "'");
            }
            skip_ws();
            if (peek() == ',') {
                ++i_;
                skip_ws();
            } else if (peek() != '}') {
                bad("',' or '}' after a value");
            }
        }
        ++i_;
        if (!have_descr || !have_fortran || !have_shape)
            bad("the keys 'descr', 'fortran_order' and 'shape'");
        skip_ws();
        if (i_ != s_.size()) bad("nothing but spaces after the header dict");
    }

private:
    const std::string& s_;
    const std::string& path_;
    std::size_t i_ = 0;

    [[noreturn]] void bad(const std::string& what) const {
        fail(path_, ": malformed .npy header (expected ", what, " at offset ", i_, " of \"", s_, "\")");
    }
    char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
    void skip_ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n')) ++i_;
    }
    void expect(char c) {
        skip_ws();
        if (peek() != c) bad(std::string("'") + c + "'");
        ++i_;
    }
    std::string string_literal() {
        skip_ws();
        const char q = peek();
        if (q != '\'' && q != '"') bad("a quoted string");
        const std::size_t end = s_.find(q, i_ + 1);
        if (end == std::string::npos) bad("a closing quote");
        std::string out = s_.substr(i_ + 1, end - i_ - 1);
        i_ = end + 1;
        return out;
    }
    bool boolean() {
        skip_ws();
        if (s_.compare(i_, 4, "True") == 0) {
            i_ += 4;
            return true;
        }
        if (s_.compare(i_, 5, "False") == 0) {
            i_ += 5;
            return false;
        }
        bad("True or False");
    }
    std::size_t integer() {
        skip_ws();
        if (peek() < '0' || peek() > '9') bad("a non-negative integer");
        std::size_t v = 0;
        while (peek() >= '0' && peek() <= '9') {
            const std::size_t d = static_cast<std::size_t>(peek() - '0');
            if (v > (std::numeric_limits<std::size_t>::max() - d) / 10) bad("a dimension that fits in 64 bits");
            v = v * 10 + d;
            ++i_;
        }
        if (peek() == 'L') ++i_;  // Python 2 longs
        return v;
    }
    Shape tuple() {
        Shape out;
        expect('(');
        skip_ws();
        while (peek() != ')') {
            out.push_back(integer());
            if (out.size() > 32) bad("at most 32 dimensions");
            skip_ws();
            if (peek() == ',') {
                ++i_;
                skip_ws();
            } else if (peek() != ')') {
                bad("',' or ')' in the shape");
            }
        }
        ++i_;
        return out;
    }
};

inline NpyType parse_descr(const std::string& d, const std::string& path) {
    if (d.size() < 2) fail(path, ": unsupported .npy dtype '", d, "' (expected e.g. '<f8' or '|u1')");
    const char order = d[0];
    const std::string code = d.substr(1);
    struct Known { const char* code; NpyType type; };
    static const Known known[] = {{"b1", NpyType::b1}, {"i1", NpyType::i1}, {"i2", NpyType::i2},
                                  {"i4", NpyType::i4}, {"i8", NpyType::i8}, {"u1", NpyType::u1},
                                  {"u2", NpyType::u2}, {"u4", NpyType::u4}, {"u8", NpyType::u8},
                                  {"f4", NpyType::f4}, {"f8", NpyType::f8}};
    for (const auto& k : known) {
        if (code != k.code) continue;
        const bool one_byte = npy_itemsize(k.type) == 1;
        if (order == '>' && !one_byte)
            fail(path, ": big-endian dtype '", d, "' is not supported (expected little-endian '<", code, "')");
        if (order != '<' && order != '|' && !(order == '>' && one_byte) && order != '=')
            fail(path, ": unsupported byte order in dtype '", d, "' (expected '<' or '|')");
        return k.type;
    }
    fail(path, ": unsupported .npy dtype '", d,
         "' (expected bool, int8..int64, uint8..uint64, float32 or float64)");
}

inline bool host_is_little_endian() {
    const std::uint16_t one = 1;
    unsigned char b;
    std::memcpy(&b, &one, 1);
    return b == 1;
}

}  // namespace detail

// Parses a whole .npy file held in memory; `path` names it in messages.
inline NpyArray parse_npy(const unsigned char* buf, std::size_t n, const std::string& path) {
    static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    if (n < 10) fail(path, ": truncated .npy file (", n, " bytes; expected at least a 10-byte preamble)");
    if (std::memcmp(buf, magic, 6) != 0) fail(path, ": not a .npy file (expected the magic string \\x93NUMPY)");
    const unsigned major = buf[6];
    std::size_t header_len = 0, offset = 0;
    if (major == 1) {
        header_len = buf[8] | (std::size_t(buf[9]) << 8);
        offset = 10;
    } else if (major == 2 || major == 3) {
        if (n < 12) fail(path, ": truncated .npy file (", n, " bytes; expected at least a 12-byte preamble)");
        header_len = buf[8] | (std::size_t(buf[9]) << 8) | (std::size_t(buf[10]) << 16) | (std::size_t(buf[11]) << 24);
        offset = 12;
    } else {
        fail(path, ": unsupported .npy format version ", major, ".", unsigned(buf[7]), " (expected 1.0, 2.0 or 3.0)");
    }
    if (header_len > n - offset)
        fail(path, ": truncated .npy file (header says ", header_len, " bytes, only ", n - offset, " follow)");
    std::string header(reinterpret_cast<const char*>(buf + offset), header_len);
    for (char c : header)
        if (c == '\0') fail(path, ": malformed .npy header (expected text, found a NUL byte)");

    std::string descr;
    bool fortran = false;
    NpyArray a;
    a.path = path;
    detail::NpyHeaderParser(header, path).parse(descr, fortran, a.shape);
    a.type = detail::parse_descr(descr, path);
    if (fortran) fail(path, ": Fortran-ordered arrays are not supported (expected fortran_order False)");
    if (!detail::host_is_little_endian()) fail(path, ": reading .npy needs a little-endian host");

    const std::size_t item = npy_itemsize(a.type);
    // The product of the non-zero dimensions must fit too, even when a zero makes the array
    // empty: tensor strides are that product, and overflowing them is undefined behaviour
    // (found by fuzz/npy_reader). NumPy rejects such shapes as well ("array is too big").
    std::size_t count = 1, strides = 1;
    const std::size_t limit = static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max());
    for (auto d : a.shape) {
        if (d != 0 && strides > limit / d)
            fail(path, ": shape ", shape_str(a.shape), " has more elements than fit in memory");
        if (d != 0) strides *= d;
        count *= d;
    }
    if (count > std::numeric_limits<std::size_t>::max() / item)
        fail(path, ": shape ", shape_str(a.shape), " has more bytes than fit in memory");
    const std::size_t data_bytes = count * item, have = n - offset - header_len;
    if (have < data_bytes)
        fail(path, ": truncated .npy file (shape ", shape_str(a.shape), " of ", npy_type_name(a.type), " needs ",
             data_bytes, " data bytes, the file has ", have, ")");
    if (have > data_bytes)
        fail(path, ": ", have - data_bytes, " unexpected bytes after the data of shape ", shape_str(a.shape));
    a.bytes.assign(buf + offset + header_len, buf + n);
    return a;
}

// At most io::kMaxInputBytes (1 GiB); a folder, FIFO or device is refused by name.
inline NpyArray read_npy(const std::string& path) {
    const std::string buf = io::read_file(path);
    return parse_npy(reinterpret_cast<const unsigned char*>(buf.data()), buf.size(), path);
}

// Reads a file that must hold dtype T (no conversion), e.g. load_npy<std::uint8_t>("samples_0.npy").
template <class T>
Tensor<T> load_npy(const std::string& path) {
    const NpyArray a = read_npy(path);
    a.expect(npy_type_of<T>::value);
    return a.to_tensor<T>();
}

// The bytes of a version-1.0 .npy file holding `t` (header padded to a multiple of 64 bytes,
// as NumPy writes it).
template <class T, class E>
std::string npy_bytes(const E& t) {
    static_assert(sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8, "unsupported type");
    const NpyType type = npy_type_of<T>::value;
    std::string descr = (npy_itemsize(type) == 1 ? "|" : "<") + std::string(1, "biiiiuuuuff"[int(type)]) +
                        std::to_string(npy_itemsize(type));
    std::string shape = "(";
    for (std::size_t i = 0; i < t.dimension(); ++i) shape += std::to_string(t.shape()[i]) + (t.dimension() == 1 ? ",)" : i + 1 < t.dimension() ? ", " : ")");
    if (t.dimension() == 0) shape += ")";
    std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    const std::size_t total = 10 + header.size() + 1;
    header += std::string((64 - total % 64) % 64, ' ') + "\n";
    std::string out = "\x93NUMPY";
    out += '\x01';
    out += '\x00';
    out += static_cast<char>(header.size() & 0xff);
    out += static_cast<char>((header.size() >> 8) & 0xff);
    out += header;
    const auto contiguous = xt::eval(t);  // row-major copy of any expression
    out.append(reinterpret_cast<const char*>(contiguous.data()), contiguous.size() * sizeof(T));
    return out;
}

// Writes `t` to `path` atomically: a reader never sees a half-written file.
template <class T, class E>
void save_npy(const std::string& path, const E& t) {
    io::write_file_atomic(path, npy_bytes<T>(t));
}

template <class T>
void save_npy(const std::string& path, const Tensor<T>& t) {
    save_npy<T, Tensor<T>>(path, t);
}

}  // namespace ann::data
