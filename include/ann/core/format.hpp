#pragma once
// Numbers in layer names as Python prints them (repr: the fewest significant digits that read
// back as the same double; positional from 1e-4 up to 1e16, else d.ddde-XX), so ann's names
// match PyTorch's: LeakyReLU(negative_slope=0.01), Dropout(p=0.5).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace ann {

inline std::string float_repr(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    int digits = 1;
    for (; digits < 17; ++digits) {
        std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    std::snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
    const int exp = std::atoi(std::strchr(buf, 'e') + 1);
    if (exp < -4 || exp >= 16) return buf;
    std::snprintf(buf, sizeof buf, "%.*f", std::max(0, digits - 1 - exp), v);
    std::string s = buf;
    if (s.find('.') == std::string::npos) s += ".0";
    return s;
}

}  // namespace ann
