#pragma once
// Appends integers, floats and strings to a byte buffer in little-endian order, whatever the
// host's byte order: files written on any machine read the same everywhere.
// docs/file-format.md describes the encodings (string = u64 length + bytes).
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace ann::io {

class ByteWriter {
public:
    void u8(std::uint8_t v) { buf_.push_back(static_cast<char>(v)); }
    void u32(std::uint32_t v) { put_le(v, 4); }
    void u64(std::uint64_t v) { put_le(v, 8); }
    void i64(std::int64_t v) { put_le(static_cast<std::uint64_t>(v), 8); }
    void f64(double v) {
        std::uint64_t bits;
        std::memcpy(&bits, &v, 8);
        u64(bits);
    }
    void string(std::string_view s) {
        u64(s.size());
        buf_.append(s.data(), s.size());
    }
    void bytes(std::string_view s) { buf_.append(s.data(), s.size()); }

    // IEEE-754 float32/float64 values, bit for bit (NaN payloads and -0 included).
    template <class T>
    void floats(const T* p, std::size_t n) {
        static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "float or double only");
        using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
        const std::size_t start = buf_.size();
        buf_.resize(start + n * sizeof(T));
        char* out = buf_.data() + start;
        for (std::size_t i = 0; i < n; ++i) {
            U bits;
            std::memcpy(&bits, p + i, sizeof(T));
            for (std::size_t k = 0; k < sizeof(T); ++k) out[i * sizeof(T) + k] = static_cast<char>(bits >> (8 * k));
        }
    }

    std::size_t size() const { return buf_.size(); }
    const std::string& data() const { return buf_; }
    std::string take() { return std::move(buf_); }

private:
    void put_le(std::uint64_t v, int n) {
        for (int k = 0; k < n; ++k) buf_.push_back(static_cast<char>(v >> (8 * k)));
    }
    std::string buf_;
};

}  // namespace ann::io
