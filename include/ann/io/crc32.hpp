#pragma once
// CRC-32 (IEEE 802.3, the polynomial of zlib, PNG and gzip), so a file's checksum can be
// checked with Python's zlib.crc32. It detects every burst error up to 32 bits and random
// corruption with probability 1 - 2^-32: enough to tell a damaged file from a good one.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ann::io {

namespace detail {
inline const std::array<std::uint32_t, 256>& crc32_table() {
    static const std::array<std::uint32_t, 256> table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    return table;
}
}  // namespace detail

// crc32(b, crc32(a)) == crc32(a + b): large buffers can be checksummed piecewise.
inline std::uint32_t crc32(std::string_view bytes, std::uint32_t crc = 0) {
    const auto& table = detail::crc32_table();
    std::uint32_t c = crc ^ 0xFFFFFFFFu;
    for (unsigned char b : bytes) c = table[(c ^ b) & 0xFFu] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

}  // namespace ann::io
