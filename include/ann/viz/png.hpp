#pragma once
// PNG output through stb_image_write, written atomically (temp file + rename) so that a reader
// never sees half a picture.
#include <cstdio>
#include <string>
#include <vector>

#include "ann/core/error.hpp"

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

// rgb is height rows of width pixels of 3 (or `channels`) bytes each.
inline void write_png(const std::string& path, int width, int height, int channels,
                      const std::vector<unsigned char>& pixels) {
    if (width <= 0 || height <= 0 || (channels != 1 && channels != 3 && channels != 4))
        fail(path, ": cannot write a ", width, "x", height, "x", channels, " PNG (expected positive sizes, 1/3/4 channels)");
    if (pixels.size() != static_cast<std::size_t>(width) * height * channels)
        fail(path, ": PNG needs ", static_cast<std::size_t>(width) * height * channels, " bytes, got ", pixels.size());
    const std::string tmp = path + ".tmp";
    if (!stbi_write_png(tmp.c_str(), width, height, channels, pixels.data(), width * channels)) {
        std::remove(tmp.c_str());
        fail(path, ": cannot write PNG (is the folder there and writable?)");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        fail(path, ": cannot rename ", tmp, " to it");
    }
}

}  // namespace ann::viz
