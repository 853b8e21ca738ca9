#pragma once
// MD5 (RFC 1321), streaming. Used only to check downloaded/extracted files against published
// checksums, never for anything security related.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ann/core/error.hpp"
#include "ann/io/read_file.hpp"

namespace ann::data {

class Md5 {
public:
    void update(const void* data, std::size_t n) {
        const auto* p = static_cast<const std::uint8_t*>(data);
        total_ += n;
        if (fill_ > 0) {
            const std::size_t take = std::min(n, std::size_t(64) - fill_);
            std::memcpy(buf_ + fill_, p, take);
            fill_ += take, p += take, n -= take;
            if (fill_ < 64) return;
            block(buf_);
            fill_ = 0;
        }
        for (; n >= 64; p += 64, n -= 64) block(p);
        std::memcpy(buf_, p, n);
        fill_ = n;
    }

    // Lower-case hex digest. The object must not be updated afterwards.
    std::string hex() {
        const std::uint64_t bits = total_ * 8;
        const std::uint8_t pad = 0x80, zero = 0;
        update(&pad, 1);
        while (fill_ != 56) update(&zero, 1);
        std::uint8_t len[8];
        for (int i = 0; i < 8; ++i) len[i] = static_cast<std::uint8_t>(bits >> (8 * i));
        update(len, 8);
        static const char* digits = "0123456789abcdef";
        std::string out;
        for (std::uint32_t v : h_)
            for (int i = 0; i < 4; ++i) {
                const auto byte = static_cast<std::uint8_t>(v >> (8 * i));
                out += digits[byte >> 4];
                out += digits[byte & 15];
            }
        return out;
    }

private:
    static std::uint32_t rotl(std::uint32_t x, int c) { return (x << c) | (x >> (32 - c)); }

    void block(const std::uint8_t* p) {
        static const std::uint32_t K[64] = {
            0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
            0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
            0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
            0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
            0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
            0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
            0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
            0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
        static const int S[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                  5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                                  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};
        std::uint32_t M[16];
        for (int i = 0; i < 16; ++i)
            M[i] = std::uint32_t(p[4 * i]) | std::uint32_t(p[4 * i + 1]) << 8 | std::uint32_t(p[4 * i + 2]) << 16 |
                   std::uint32_t(p[4 * i + 3]) << 24;
        std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3];
        for (int i = 0; i < 64; ++i) {
            std::uint32_t f;
            int g;
            if (i < 16) f = (b & c) | (~b & d), g = i;
            else if (i < 32) f = (d & b) | (~d & c), g = (5 * i + 1) % 16;
            else if (i < 48) f = b ^ c ^ d, g = (3 * i + 5) % 16;
            else f = c ^ (b | ~d), g = (7 * i) % 16;
            const std::uint32_t tmp = d;
            d = c;
            c = b;
            b = b + rotl(a + f + K[i] + M[g], S[i]);
            a = tmp;
        }
        h_[0] += a, h_[1] += b, h_[2] += c, h_[3] += d;
    }

    std::uint32_t h_[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
    std::uint8_t buf_[64] = {};
    std::size_t fill_ = 0;
    std::uint64_t total_ = 0;
};

inline std::string md5_hex(const void* data, std::size_t n) {
    Md5 m;
    m.update(data, n);
    return m.hex();
}

// MD5 of a whole file; throws ann::Error naming the file if it cannot be read.
inline std::string md5_file(const std::string& path) {
    const io::InputFile f = io::open_input(path);
    Md5 m;
    std::vector<char> buf(1 << 20);
    for (;;) {
        const ssize_t got = ::read(f.fd(), buf.data(), buf.size());
        if (got == 0) break;
        if (got < 0) {
            if (errno == EINTR) continue;
            fail(path, ": read error (", io::detail::errno_text(errno), ")");
        }
        m.update(buf.data(), static_cast<std::size_t>(got));
    }
    return m.hex();
}

}  // namespace ann::data
