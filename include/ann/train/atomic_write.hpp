#pragma once
// Results files are written whole or not at all: the content goes to a temporary file in the
// same folder, is flushed, and is renamed over the destination (rename is atomic on POSIX).
#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "ann/core/error.hpp"

namespace ann::train {

inline void write_file_atomic(const std::string& path, const std::string& content) {
    namespace fs = std::filesystem;
    const fs::path p(path);
    std::error_code ec;
    if (p.has_parent_path()) {
        fs::create_directories(p.parent_path(), ec);
        if (ec) fail(p.parent_path().string(), ": cannot create folder (", ec.message(), ")");
    }
    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) fail(tmp, ": cannot create file");
    const bool wrote = std::fwrite(content.data(), 1, content.size(), f) == content.size();
    const bool flushed = std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
    const bool closed = std::fclose(f) == 0;
    if (!(wrote && flushed && closed)) {
        fs::remove(tmp, ec);
        fail(path, ": write error (disk full?)");
    }
    fs::rename(tmp, p, ec);
    if (ec) {
        std::error_code ec2;
        fs::remove(tmp, ec2);
        fail(path, ": cannot rename ", tmp, " into place (", ec.message(), ")");
    }
}

}  // namespace ann::train
