#pragma once
// One error type for the whole library: messages name the layer/file and the expected vs actual
// value, so a user can act on them without a debugger.
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ann {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// "(50, 3, 32, 32)": the way shapes appear in every message.
template <class S>
std::string shape_str(const S& shape) {
    std::ostringstream os;
    os << '(';
    bool first = true;
    for (auto d : shape) {
        if (!first) os << ", ";
        os << d;
        first = false;
    }
    if (shape.size() == 1) os << ',';
    os << ')';
    return os.str();
}

template <class... Args>
[[noreturn]] inline void fail(const Args&... parts) {
    std::ostringstream os;
    (os << ... << parts);
    throw Error(os.str());
}

}  // namespace ann
