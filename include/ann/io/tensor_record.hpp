#pragma once
// One named tensor as stored in a file:
//   string name | u8 dtype (1 = float32, 2 = float64) | u32 rank (<= 8) | rank x u64 dims |
//   prod(dims) values, little-endian IEEE-754
// read_tensor_record checks the structure only (the data must fit in the file); to_tensor then
// checks dtype and shape against what the model expects and decodes the values.
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "ann/core/array.hpp"
#include "ann/core/error.hpp"
#include "ann/core/tensor.hpp"
#include "ann/io/byte_reader.hpp"
#include "ann/io/byte_writer.hpp"

namespace ann::io {

enum class DType : std::uint8_t { float32 = 1, float64 = 2 };

inline const char* to_string(DType d) { return d == DType::float32 ? "float32" : "float64"; }
inline std::size_t size_of(DType d) { return d == DType::float32 ? 4 : 8; }

template <class T>
constexpr DType dtype_of() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "files hold float or double tensors");
    return std::is_same_v<T, float> ? DType::float32 : DType::float64;
}

inline constexpr std::uint32_t kMaxRank = 8;
inline constexpr std::uint64_t kMaxNameLength = 4096;

struct TensorRecord {
    std::string name;
    DType dtype = DType::float32;
    std::vector<std::uint64_t> dims;
    std::string data;  // the raw little-endian values

    std::uint64_t numel() const {
        std::uint64_t n = 1;
        for (auto d : dims) n *= d;  // cannot overflow: read_tensor_record checked it
        return n;
    }
};

template <class T>
void write_tensor_record(ByteWriter& w, const std::string& name, const Tensor<T>& t) {
    w.string(name);
    w.u8(static_cast<std::uint8_t>(dtype_of<T>()));
    w.u32(static_cast<std::uint32_t>(t.dimension()));
    for (auto d : t.shape()) w.u64(d);
    w.floats(t.data(), t.size());
}

// A parameter or optimizer state on any device (a GPU's is copied to the host first).
template <class T>
void write_tensor_record(ByteWriter& w, const std::string& name, const Array<T>& a) {
    Tensor<T> copy;
    write_tensor_record(w, name, a.host_values(copy));
}

inline TensorRecord read_tensor_record(ByteReader& r, const std::string& what) {
    TensorRecord rec;
    rec.name = r.string(what + " name", kMaxNameLength);
    const std::string where = what + " '" + rec.name + "'";
    const std::size_t dtype_at = r.offset();
    const std::uint8_t dtype = r.u8(where + " dtype");
    if (dtype != 1 && dtype != 2) r.fail_at(dtype_at, where, ": unknown dtype tag ", int(dtype), " (1 = float32, 2 = float64)");
    rec.dtype = static_cast<DType>(dtype);
    const std::size_t rank_at = r.offset();
    const std::uint32_t rank = r.u32(where + " rank");
    if (rank > kMaxRank) r.fail_at(rank_at, where, ": rank ", rank, " exceeds the limit of ", kMaxRank);
    std::uint64_t bytes = size_of(rec.dtype);
    bool too_big = false;
    for (std::uint32_t i = 0; i < rank; ++i) {
        const std::uint64_t d = r.u64(where + " dimension " + std::to_string(i));
        rec.dims.push_back(d);
        if (d != 0 && bytes > UINT64_MAX / d) too_big = true;
        else bytes *= d;
    }
    // Data larger than the rest of the file can only be a corrupt shape: say so before reading.
    if (too_big || bytes > r.remaining())
        r.fail_at(r.offset(), "file is truncated or corrupt: ", where, " of shape ", shape_str(rec.dims), " needs ",
                  too_big ? std::string("more than 2^64") : std::to_string(bytes), " bytes of data, only ",
                  r.remaining(), " left");
    rec.data = std::string(r.take(bytes, where + " data"));
    return rec;
}

// The record as a tensor of the expected type and shape, or an error naming both sides.
template <class T>
Tensor<T> to_tensor(const TensorRecord& rec, const Shape& expected, const std::string& source, const std::string& what) {
    if (rec.dtype != dtype_of<T>())
        fail(source, ": ", what, " '", rec.name, "' holds ", to_string(rec.dtype), " values, expected ",
             to_string(dtype_of<T>()));
    if (!std::equal(rec.dims.begin(), rec.dims.end(), expected.begin(), expected.end()))
        fail(source, ": ", what, " '", rec.name, "' has shape ", shape_str(rec.dims), " in the file, expected ",
             shape_str(expected));
    Tensor<T> t = Tensor<T>::from_shape(expected);
    ByteReader r(rec.data, source);
    r.floats(t.data(), t.size(), what + " '" + rec.name + "' data");
    return t;
}

}  // namespace ann::io
