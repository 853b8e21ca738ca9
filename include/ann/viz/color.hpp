#pragma once
// Colours for figures: linear 0..1 RGB with an alpha, plus matplotlib's names we use.
#include <string>

#include "ann/core/error.hpp"

namespace ann::viz {

struct Color {
    float r = 0, g = 0, b = 0, a = 1;

    // "#rrggbb" or "#rrggbbaa", as matplotlib writes them.
    static Color hex(const std::string& s) {
        auto nib = [&](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            fail("Color::hex: bad digit in \"", s, "\" (expected #rrggbb)");
        };
        if ((s.size() != 7 && s.size() != 9) || s[0] != '#') fail("Color::hex: \"", s, "\" is not #rrggbb or #rrggbbaa");
        auto byte = [&](std::size_t i) { return (nib(s[i]) * 16 + nib(s[i + 1])) / 255.0f; };
        return {byte(1), byte(3), byte(5), s.size() == 9 ? byte(7) : 1.0f};
    }
    static Color gray(float v, float alpha = 1) { return {v, v, v, alpha}; }
    Color with_alpha(float alpha) const { return {r, g, b, alpha}; }
};

namespace colors {
inline Color white() { return {1, 1, 1, 1}; }
inline Color black() { return {0, 0, 0, 1}; }
// matplotlib's default property cycle (tab10).
inline Color tab(int i) {
    static const char* c[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                              "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    return Color::hex(c[((i % 10) + 10) % 10]);
}
// The course's utils.py colour list for its comparison plots, in its order.
inline Color course(int i) {
    static const char* c[] = {"#0000ff", "#ff0000", "#d2691e", "#ff00ff", "#00ff00", "#000000", "#373788"};
    return Color::hex(c[((i % 7) + 7) % 7]);
}
}  // namespace colors

}  // namespace ann::viz
