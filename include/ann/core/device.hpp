#pragma once
// Where a tensor's memory lives and where the arithmetic on it runs.
#include <string>

#include "ann/core/error.hpp"

namespace ann {

enum class Device { cpu, cuda };

inline const char* to_string(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }

inline Device parse_device(const std::string& s) {
    if (s == "cpu") return Device::cpu;
    if (s == "cuda") return Device::cuda;
    fail("unknown device '", s, "' (expected cpu or cuda)");
}

}  // namespace ann
