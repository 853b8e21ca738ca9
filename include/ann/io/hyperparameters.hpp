#pragma once
// Hyperparameters in checkpoint sections (optimizers, learning-rate schedulers): checked one way.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "ann/core/error.hpp"

namespace ann::io {

using NamedValues = std::vector<std::pair<std::string, double>>;

// The file's hyperparameters against the live optimizer's or scheduler's (`holder`), by name (an
// optional one absent from either side is 0). Exact comparison: resuming with other
// hyperparameters would not continue the saved run. Then the list must be exactly what the live
// object writes (no explicit zeros, no repeats, same order), so that every file that loads is
// written back byte for byte.
inline void check_hyperparameters(const NamedValues& file, const NamedValues& mine, const std::vector<std::string>& optional,
                                  const std::string& display_name, const char* holder, const std::string& source) {
    auto is_optional = [&](const std::string& n) { return std::find(optional.begin(), optional.end(), n) != optional.end(); };
    auto find = [](const NamedValues& list, const std::string& n) -> const double* {
        for (const auto& [name, v] : list)
            if (name == n) return &v;
        return nullptr;
    };
    for (const auto& [name, v] : file)
        if (!find(mine, name) && !is_optional(name))
            fail(source, ": holds an unknown ", display_name, " hyperparameter '", name, "' = ", v);
    std::vector<std::string> names;
    for (const auto& [name, v] : mine) names.push_back(name);
    for (const auto& n : optional) names.push_back(n);
    for (const auto& name : names) {
        const double* in_file = find(file, name);
        const double* here = find(mine, name);
        if (!in_file && !is_optional(name))
            fail(source, ": lacks the ", display_name, " hyperparameter '", name, "'");
        const double a = in_file ? *in_file : 0.0, b = here ? *here : 0.0;
        if (!(a == b))
            fail(source, ": was saved with ", display_name, " ", name, " = ", a, ", this ", holder, " has ", name,
                 " = ", b);
    }
    if (file != mine) {
        std::string got;
        for (const auto& [name, v] : file) got += (got.empty() ? "" : ", ") + name;
        fail(source, ": ", display_name, " hyperparameters (", got,
             ") are not in the form ann writes (optional ones only when not 0, each once, in order)");
    }
}

}  // namespace ann::io
