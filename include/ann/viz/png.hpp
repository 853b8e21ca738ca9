#pragma once
// PNG output through stb_image_write's in-memory encoder and ann's one atomic writer.
#include <string>
#include <vector>

#include "ann/core/error.hpp"
#include "ann/io/atomic_file.hpp"

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#ifndef STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_STATIC
#endif
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#undef STB_IMAGE_WRITE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace ann::viz {

// PNG bytes of height rows of width pixels of `channels` (1, 3 or 4) bytes each.
inline std::string encode_png(int width, int height, int channels, const std::vector<unsigned char>& pixels,
                              const std::string& what) {
    if (width <= 0 || height <= 0 || (channels != 1 && channels != 3 && channels != 4))
        fail(what, ": cannot write a ", width, "x", height, "x", channels, " PNG (expected positive sizes, 1/3/4 channels)");
    if (pixels.size() != static_cast<std::size_t>(width) * height * channels)
        fail(what, ": PNG needs ", static_cast<std::size_t>(width) * height * channels, " bytes, got ", pixels.size());
    std::string png;
    const int ok = stbi_write_png_to_func(
        [](void* ctx, void* data, int size) { static_cast<std::string*>(ctx)->append(static_cast<char*>(data), size); },
        &png, width, height, channels, pixels.data(), width * channels);
    if (!ok || png.empty()) fail(what, ": the PNG encoder failed (out of memory?)");
    return png;
}

// Encodes in memory, then writes through io::write_file_atomic: complete or absent, never a
// partial picture, and every write checked.
inline void write_png(const std::string& path, int width, int height, int channels,
                      const std::vector<unsigned char>& pixels) {
    io::write_file_atomic(path, encode_png(width, height, channels, pixels, path));
}

}  // namespace ann::viz
