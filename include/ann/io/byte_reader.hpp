#pragma once
// Reads what ByteWriter wrote, from an untrusted buffer: every read first checks that enough
// bytes remain, and every length or count read from the data is compared with the bytes that
// remain before anything is allocated, so no input can make the reader overrun the buffer or
// allocate memory out of proportion to the input's size (tests/test_io.cpp and fuzz/ check this).
// Errors are ann::Error naming the source (a path), the byte offset and what was being read.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ann/core/error.hpp"

namespace ann::io {

class ByteReader {
public:
    ByteReader(std::string_view data, std::string source) : data_(data), source_(std::move(source)) {}

    std::uint8_t u8(const std::string& what) { return static_cast<std::uint8_t>(get_le(1, what)); }
    std::uint32_t u32(const std::string& what) { return static_cast<std::uint32_t>(get_le(4, what)); }
    std::uint64_t u64(const std::string& what) { return get_le(8, what); }
    std::int64_t i64(const std::string& what) { return static_cast<std::int64_t>(get_le(8, what)); }
    double f64(const std::string& what) {
        const std::uint64_t bits = get_le(8, what);
        double v;
        std::memcpy(&v, &bits, 8);
        return v;
    }

    // u64 length + bytes. max_len rejects absurd lengths with a clearer message than "truncated".
    std::string string(const std::string& what, std::uint64_t max_len = UINT64_MAX) {
        const std::size_t at = pos_;
        const std::uint64_t n = u64(what + " length");
        if (n > max_len) fail_at(at, what, " length ", n, " exceeds the limit of ", max_len, " bytes");
        const std::string_view s = take(n, what);
        return std::string(s);
    }

    std::string_view take(std::uint64_t n, const std::string& what) {
        need(n, what);
        const std::string_view s = data_.substr(pos_, static_cast<std::size_t>(n));
        pos_ += static_cast<std::size_t>(n);
        return s;
    }

    // n IEEE-754 values written by ByteWriter::floats.
    template <class T>
    void floats(T* out, std::uint64_t n, const std::string& what) {
        static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "float or double only");
        using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
        if (n > remaining() / sizeof(T)) need(UINT64_MAX, what);  // n * sizeof(T) may overflow
        const auto* in = reinterpret_cast<const unsigned char*>(data_.data() + pos_);
        for (std::uint64_t i = 0; i < n; ++i) {
            U bits = 0;
            for (std::size_t k = 0; k < sizeof(T); ++k) bits |= static_cast<U>(in[i * sizeof(T) + k]) << (8 * k);
            std::memcpy(out + i, &bits, sizeof(T));
        }
        pos_ += static_cast<std::size_t>(n * sizeof(T));
    }

    std::size_t offset() const { return pos_; }
    std::size_t remaining() const { return data_.size() - pos_; }
    const std::string& source() const { return source_; }

    template <class... Args>
    [[noreturn]] void fail_at(std::size_t at, const Args&... parts) const {
        fail(source_, ": at byte ", at, ": ", parts...);
    }

private:
    void need(std::uint64_t n, const std::string& what) const {
        if (n > remaining()) {
            if (n == UINT64_MAX)
                fail_at(pos_, "file is truncated or corrupt: ", what, " does not fit in the ", remaining(),
                        " bytes left");
            fail_at(pos_, "file is truncated or corrupt: ", what, " needs ", n, " bytes, only ", remaining(),
                    " left");
        }
    }
    std::uint64_t get_le(int n, const std::string& what) {
        need(static_cast<std::uint64_t>(n), what);
        std::uint64_t v = 0;
        for (int k = 0; k < n; ++k) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(data_[pos_ + k])) << (8 * k);
        pos_ += static_cast<std::size_t>(n);
        return v;
    }

    std::string_view data_;
    std::string source_;
    std::size_t pos_ = 0;
};

}  // namespace ann::io
