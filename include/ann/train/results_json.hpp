#pragma once
// JSON results files (layout: docs/cifar.md) and reading them back.
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "ann/core/array.hpp"
#include "ann/core/error.hpp"
#include "ann/core/tensor.hpp"
#include "ann/io/atomic_file.hpp"
#include "ann/io/json_file.hpp"

namespace ann::train {

using Json = nlohmann::json;

// A tensor as nested arrays following its shape: (32, 3072) -> 32 arrays of 3072 numbers.
template <class T>
Json tensor_to_json(const Tensor<T>& t) {
    const auto& shape = t.shape();
    if (shape.empty()) return Json(static_cast<double>(*t.data()));
    std::size_t pos = 0;
    // Recursion over dimensions; leaves are the innermost rows.
    std::function<Json(std::size_t)> build = [&](std::size_t dim) -> Json {
        Json a = Json::array();
        for (std::size_t i = 0; i < shape[dim]; ++i) {
            if (dim + 1 == shape.size())
                a.push_back(static_cast<double>(t.data()[pos++]));
            else
                a.push_back(build(dim + 1));
        }
        return a;
    };
    return build(0);
}

// Creates the parent folders, then writes atomically (io::write_file_atomic: temporary file,
// fsync, rename, folder fsync), so a results file is complete or absent, never half-written.
inline void write_json_atomic(const std::string& path, const Json& j) {
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(parent, ec);
        if (ec) fail(parent.string(), ": cannot create folder (", ec.message(), ")");
    }
    io::write_file_atomic(path, j.dump() + "\n");
}

// Reads a JSON file (io::read_json: size, nesting and string limits); throws naming the file.
inline Json read_json(const std::string& path) { return io::read_json(path); }

// The same for an array on any device (a GPU's is copied to the host first).
template <class T>
Json tensor_to_json(const Array<T>& a) {
    Tensor<T> copy;
    return tensor_to_json(a.host_values(copy));
}

}  // namespace ann::train
