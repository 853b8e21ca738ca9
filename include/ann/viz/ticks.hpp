#pragma once
// Axis ranges and "nice" tick values, after matplotlib's defaults: data limits plus 5% margins,
// ticks from MaxNLocator (steps 1, 2, 2.5, 5, 10 times a power of ten, at most nbins intervals),
// labels from ScalarFormatter (as many decimals as the step needs, a "1e-5" multiplier for
// very small or large values, and the Unicode minus sign).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

namespace ann::viz {

struct Range {
    double lo = 0, hi = 1;
};

// matplotlib's nonsingular(): a zero-width range is widened so that it can be drawn.
inline Range nonsingular(Range r) {
    if (!std::isfinite(r.lo) || !std::isfinite(r.hi)) return {0, 1};
    if (r.hi < r.lo) std::swap(r.lo, r.hi);
    if (r.hi - r.lo <= 1e-12 * std::max(1.0, std::max(std::fabs(r.lo), std::fabs(r.hi)))) {
        const double d = r.lo == 0 ? 0.05 : 0.05 * std::fabs(r.lo);
        return {r.lo - d, r.hi + d};
    }
    return r;
}

// Data limits [lo, hi] grown by margin * (hi - lo) on each side (axes.xmargin = 0.05).
inline Range with_margins(Range data, double margin = 0.05) {
    data = nonsingular(data);
    const double d = (data.hi - data.lo) * margin;
    return {data.lo - d, data.hi + d};
}

// Tick values inside [r.lo, r.hi] with at most `nbins` intervals between them.
inline std::vector<double> nice_ticks(Range r, int nbins) {
    r = nonsingular(r);
    nbins = std::max(1, nbins);
    const double raw = (r.hi - r.lo) / nbins;
    const double scale = std::pow(10.0, std::floor(std::log10(raw)));
    static const double steps[] = {1, 2, 2.5, 5, 10, 20};
    double step = scale * 10;
    for (double s : steps) {
        const double st = s * scale;
        const double lo = std::floor(r.lo / st + 1e-9) * st, hi = std::ceil(r.hi / st - 1e-9) * st;
        if ((hi - lo) / st <= nbins + 1e-9) {
            step = st;
            break;
        }
    }
    std::vector<double> out;
    const double first = std::ceil(r.lo / step - 1e-9);
    for (double k = first;; k += 1) {
        double v = k * step;
        if (v > r.hi + step * 1e-9) break;
        if (std::fabs(v) < step * 1e-9) v = 0;  // no "-0"
        out.push_back(v);
        if (out.size() > 100) break;
    }
    return out;
}

// The number of intervals matplotlib's 'auto' MaxNLocator aims for on an axis `length_pt` long
// with tick labels of `font_pt`: one label per 3 font sizes along x, 2 along y, at most 9.
inline int auto_nbins(double length_pt, double font_pt, bool x_axis) {
    const int n = static_cast<int>(std::floor(length_pt / (font_pt * (x_axis ? 3.0 : 2.0))));
    return std::clamp(n, 1, 9);
}

// Labels for `ticks`, plus the multiplier text ("1e-5", empty if none) that goes with them.
struct TickLabels {
    std::vector<std::string> labels;
    std::string multiplier;
};

inline std::string unicode_minus(std::string s) {
    std::string out;
    for (char c : s) {
        if (c == '-')
            out += "\xE2\x88\x92";  // U+2212 MINUS SIGN, as matplotlib writes it
        else
            out += c;
    }
    return out;
}

inline TickLabels format_ticks(const std::vector<double>& ticks) {
    TickLabels t;
    if (ticks.empty()) return t;
    double amax = 0;
    for (double v : ticks) amax = std::max(amax, std::fabs(v));
    int exponent = 0;
    if (amax > 0) {
        const int e = static_cast<int>(std::floor(std::log10(amax)));
        if (e <= -5 || e >= 6) exponent = e;  // axes.formatter.limits = (-5, 6)
    }
    const double scale = std::pow(10.0, -exponent);
    double step = ticks.size() > 1 ? std::fabs(ticks[1] - ticks[0]) * scale : std::fabs(ticks[0]) * scale;
    int decimals = 0;
    if (step > 0) {
        // the fewest decimals that tell all ticks apart exactly
        for (decimals = 0; decimals < 10; ++decimals) {
            const double q = step * std::pow(10.0, decimals);
            if (std::fabs(q - std::round(q)) < 1e-6 * std::max(1.0, q)) break;
        }
    }
    for (double v : ticks) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.*f", decimals, v * scale);
        std::string s = buf;
        if (s.find_first_not_of("-0.") == std::string::npos) s = decimals ? "0." + std::string(decimals, '0') : "0";
        t.labels.push_back(unicode_minus(s));
    }
    if (exponent != 0) t.multiplier = unicode_minus("1e" + std::to_string(exponent));
    return t;
}

}  // namespace ann::viz
