#pragma once
// Legends as matplotlib draws them: a rounded white box (80% opaque, light gray edge) holding
// one row per entry — a short line (and/or marker) handle, then the label — in `ncol` columns.
// All sizes are in units of the legend's font size, with matplotlib's defaults.
#include <string>
#include <vector>

#include "ann/viz/canvas.hpp"

namespace ann::viz {

enum class Marker { none, circle };

// What a curve looks like; shared by plots and legend handles. Widths and sizes are in points.
struct Style {
    Color color = colors::tab(0);
    double linewidth = 1.5;
    LineStyle linestyle = LineStyle::solid;
    Marker marker = Marker::none;
    double markersize = 6;  // diameter
    bool line = true;       // false: markers only
};

struct LegendEntry {
    std::string label;
    Style style;
};

// Where a legend goes relative to its anchor box (axes or figure).
enum class Loc { best, upper_right, upper_left, lower_left, lower_right, right, center_left, center_right,
                 lower_center, upper_center, center };

struct LegendLayout {
    double font_px, row_h, handle_w, handle_pad, col_gap, border, box_w, box_h;
    std::vector<double> col_w;
    int ncol, nrow;
};

inline LegendLayout legend_layout(const std::vector<LegendEntry>& entries, double font_px, int ncol) {
    LegendLayout L{};
    const Font& f = *default_font();
    L.font_px = font_px;
    L.ncol = std::max(1, std::min<int>(ncol, static_cast<int>(entries.size())));
    L.nrow = (static_cast<int>(entries.size()) + L.ncol - 1) / L.ncol;
    L.row_h = f.ascent(float(font_px)) + f.descent(float(font_px));
    L.handle_w = 2.0 * font_px;
    L.handle_pad = 0.8 * font_px;
    L.col_gap = 2.0 * font_px;
    L.border = 0.4 * font_px;
    L.col_w.assign(static_cast<std::size_t>(L.ncol), 0.0);
    // matplotlib fills columns first: entry k goes to column k / nrow.
    for (std::size_t k = 0; k < entries.size(); ++k) {
        const std::size_t c = k / static_cast<std::size_t>(L.nrow);
        L.col_w[c] = std::max(L.col_w[c], L.handle_w + L.handle_pad + f.text_width(entries[k].label, float(font_px)));
    }
    L.box_w = 2 * L.border;
    for (double w : L.col_w) L.box_w += w;
    L.box_w += L.col_gap * (L.ncol - 1);
    L.box_h = 2 * L.border + L.nrow * L.row_h + (L.nrow - 1) * 0.5 * font_px;
    return L;
}

// Top-left corner of a w x h legend placed at `loc` inside `anchor`, `pad` pixels from its edges.
inline Point legend_origin(Loc loc, const Rect& anchor, double w, double h, double pad) {
    double x = anchor.x0 + pad, y = anchor.y0 + pad;
    const double cx = (anchor.x0 + anchor.x1 - w) / 2, cy = (anchor.y0 + anchor.y1 - h) / 2;
    const double rx = anchor.x1 - pad - w, by = anchor.y1 - pad - h;
    switch (loc) {
        case Loc::upper_right: case Loc::best: x = rx; break;
        case Loc::upper_left: break;
        case Loc::lower_left: y = by; break;
        case Loc::lower_right: x = rx, y = by; break;
        case Loc::right: case Loc::center_right: x = rx, y = cy; break;
        case Loc::center_left: y = cy; break;
        case Loc::lower_center: x = cx, y = by; break;
        case Loc::upper_center: x = cx; break;
        case Loc::center: x = cx, y = cy; break;
    }
    return {x, y};
}

// px_per_pt converts the entries' line widths and marker sizes.
template <class S>
void draw_legend_handle(S& cv, const Style& s, double x, double y_mid, double w, double px_per_pt) {
    if (s.line)
        cv.line({x, y_mid}, {x + w, y_mid}, s.color, s.linewidth * px_per_pt, s.linestyle);
    if (s.marker == Marker::circle) cv.fill_circle({x + w / 2, y_mid}, s.markersize * px_per_pt / 2, s.color);
}

template <class S>
void rounded_rect(S& cv, const Rect& r, double radius, const Color& fill, const Color& edge, double edge_w) {
    auto outline = [&](double inset) {
        std::vector<Point> p;
        const double rr = std::max(0.0, radius - inset);
        const Rect q{r.x0 + inset, r.y0 + inset, r.x1 - inset, r.y1 - inset};
        const double cxs[4] = {q.x1 - rr, q.x0 + rr, q.x0 + rr, q.x1 - rr};
        const double cys[4] = {q.y0 + rr, q.y0 + rr, q.y1 - rr, q.y1 - rr};
        for (int c = 0; c < 4; ++c)
            for (int k = 0; k <= 8; ++k) {
                const double a = (c * 90 + k * 90.0 / 8) * M_PI / 180;  // counter-clockwise from +x
                p.push_back({cxs[c] + rr * std::cos(a), cys[c] - rr * std::sin(a)});
            }
        return p;
    };
    cv.fill_polygon(outline(0), fill);
    auto o = outline(edge_w / 2);
    o.push_back(o.front());
    cv.polyline(o, edge, edge_w);
}

// Draws the legend with its top-left at `origin`.
template <class S>
void draw_legend(S& cv, const std::vector<LegendEntry>& entries, const LegendLayout& L, Point origin,
                        double px_per_pt) {
    const Rect box{origin.x, origin.y, origin.x + L.box_w, origin.y + L.box_h};
    rounded_rect(cv, box, 0.2 * L.font_px, colors::white().with_alpha(0.8f), Color::gray(0.8f), 1.0 * px_per_pt);
    const Font& f = *default_font();
    double cx = origin.x + L.border;
    for (int c = 0; c < L.ncol; ++c) {
        for (int r = 0; r < L.nrow; ++r) {
            const std::size_t k = static_cast<std::size_t>(c * L.nrow + r);
            if (k >= entries.size()) break;
            const double top = origin.y + L.border + r * (L.row_h + 0.5 * L.font_px);
            const double baseline = top + f.ascent(float(L.font_px));
            const double mid = top + L.row_h / 2;
            draw_legend_handle(cv, entries[k].style, cx, mid, L.handle_w, px_per_pt);
            cv.text(entries[k].label, cx + L.handle_w + L.handle_pad, baseline, L.font_px, colors::black());
        }
        cx += L.col_w[static_cast<std::size_t>(c)] + L.col_gap;
    }
}

}  // namespace ann::viz
