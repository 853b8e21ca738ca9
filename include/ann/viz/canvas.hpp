#pragma once
// A raster canvas with anti-aliased drawing: lines of any width (solid or dashed), filled
// circles, rectangles and polygons, text, and images. Coordinates are in pixels, (0,0) is the
// top-left corner, pixel (i, j) covers [i, i+1) x [j, j+1).
//
// Every shape is first rasterised into a coverage mask (0..1 per pixel, the MAX over the
// shape's parts) and then composited once, so the joints of a polyline or overlapping dashes
// are never blended twice and translucent strokes look even.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ann/viz/color.hpp"
#include "ann/viz/font.hpp"
#include "ann/viz/png.hpp"

namespace ann::viz {

struct Point {
    double x = 0, y = 0;
};

struct Rect {
    double x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // left, top, right, bottom
    double width() const { return x1 - x0; }
    double height() const { return y1 - y0; }
};

enum class LineStyle { solid, dashed, dotted };
enum class HAlign { left, center, right };
enum class VAlign { top, center, baseline, bottom };

class Canvas {
public:
    Canvas(int width, int height, Color background = colors::white())
        : w_(width), h_(height), clip_{0, 0, double(width), double(height)} {
        if (width <= 0 || height <= 0 || width > 20000 || height > 20000)
            fail("Canvas: size ", width, "x", height, " (expected 1..20000 pixels per side)");
        rgb_.resize(static_cast<std::size_t>(width) * height * 3);
        for (std::size_t i = 0; i < rgb_.size(); i += 3) {
            rgb_[i] = background.r;
            rgb_[i + 1] = background.g;
            rgb_[i + 2] = background.b;
        }
    }

    int width() const { return w_; }
    int height() const { return h_; }

    // Drawing outside the clip rectangle is discarded (partially covered pixels are kept partly).
    void set_clip(const Rect& r) { clip_ = r; }
    void reset_clip() { clip_ = {0, 0, double(w_), double(h_)}; }

    Color pixel(int x, int y) const {
        const float* p = &rgb_[(static_cast<std::size_t>(y) * w_ + x) * 3];
        return {p[0], p[1], p[2], 1};
    }

    // Source-over blending of colour c at coverage `cov` into pixel (x, y).
    void blend(int x, int y, const Color& c, float cov) {
        if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
        const float a = std::clamp(cov, 0.0f, 1.0f) * c.a;
        if (a <= 0) return;
        float* p = &rgb_[(static_cast<std::size_t>(y) * w_ + x) * 3];
        p[0] += (c.r - p[0]) * a;
        p[1] += (c.g - p[1]) * a;
        p[2] += (c.b - p[2]) * a;
    }

    // ---- lines ----------------------------------------------------------------------------
    // A polyline of the given width (pixels). Dash lengths are multiples of the width, like
    // matplotlib's scaled dashes: '--' is 3.7 on / 1.6 off, ':' is 1 on / 1.65 off.
    void polyline(const std::vector<Point>& pts, const Color& c, double width, LineStyle style = LineStyle::solid) {
        if (pts.size() < 2 || width <= 0) return;
        Mask m = mask_for(pts, width / 2 + 1.5);
        if (m.empty()) return;
        if (style == LineStyle::solid) {
            for (std::size_t i = 0; i + 1 < pts.size(); ++i) m.capsule(pts[i], pts[i + 1], width / 2);
        } else {
            const double on = (style == LineStyle::dashed ? 3.7 : 1.0) * width;
            const double off = (style == LineStyle::dashed ? 1.6 : 1.65) * width;
            dashes(m, pts, on, off, width / 2);
        }
        composite(m, c);
    }
    void line(Point a, Point b, const Color& c, double width, LineStyle style = LineStyle::solid) {
        polyline({a, b}, c, width, style);
    }

    // ---- filled shapes --------------------------------------------------------------------
    void fill_circle(Point center, double radius, const Color& c) {
        Mask m = mask_for({center}, radius + 1);
        if (m.empty()) return;
        for (int y = m.y0; y < m.y1; ++y)
            for (int x = m.x0; x < m.x1; ++x) {
                const double d = std::hypot(x + 0.5 - center.x, y + 0.5 - center.y);
                m.max_at(x, y, static_cast<float>(std::clamp(radius + 0.5 - d, 0.0, 1.0)));
            }
        composite(m, c);
    }

    // Axis-aligned rectangle with exact fractional edge coverage.
    void fill_rect(const Rect& r, const Color& c) {
        fill_polygon({{r.x0, r.y0}, {r.x1, r.y0}, {r.x1, r.y1}, {r.x0, r.y1}}, c);
    }

    // Even-odd polygon fill: exact horizontal coverage, 8 sub-scanlines per pixel row.
    void fill_polygon(const std::vector<Point>& poly, const Color& c) {
        if (poly.size() < 3) return;
        Mask m = mask_for(poly, 1);
        if (m.empty()) return;
        const int sub = 8;
        std::vector<double> xs;
        std::vector<float> row(static_cast<std::size_t>(m.x1 - m.x0));
        for (int y = m.y0; y < m.y1; ++y) {
            std::fill(row.begin(), row.end(), 0.0f);
            for (int s = 0; s < sub; ++s) {
                const double sy = y + (s + 0.5) / sub;
                xs.clear();
                for (std::size_t i = 0; i < poly.size(); ++i) {
                    const Point a = poly[i], b = poly[(i + 1) % poly.size()];
                    if ((a.y <= sy && b.y > sy) || (b.y <= sy && a.y > sy))
                        xs.push_back(a.x + (sy - a.y) / (b.y - a.y) * (b.x - a.x));
                }
                std::sort(xs.begin(), xs.end());
                for (std::size_t k = 0; k + 1 < xs.size(); k += 2) {
                    const double xa = std::max<double>(xs[k], m.x0), xb = std::min<double>(xs[k + 1], m.x1);
                    for (int x = static_cast<int>(std::floor(xa)); x < xb && x < m.x1; ++x) {
                        const double cov = std::min<double>(x + 1, xb) - std::max<double>(x, xa);
                        if (cov > 0) row[static_cast<std::size_t>(x - m.x0)] += static_cast<float>(cov / sub);
                    }
                }
            }
            for (int x = m.x0; x < m.x1; ++x) m.max_at(x, y, row[static_cast<std::size_t>(x - m.x0)]);
        }
        composite(m, c);
    }

    // ---- text -----------------------------------------------------------------------------
    // Draws UTF-8 text of em size px anchored at (x, y); rotation is 0 or 90 (counter-clockwise,
    // reading bottom to top, as matplotlib's y labels). Returns the box it covered.
    Rect text(const std::string& s, double x, double y, double px, const Color& c, HAlign ha = HAlign::left,
              VAlign va = VAlign::baseline, int rotation = 0, const Font* font = nullptr) {
        const Font& f = font ? *font : *default_font();
        const TextMask t = f.render(s, static_cast<float>(px));
        const double tw = f.text_width(s, static_cast<float>(px));
        const double asc = f.ascent(static_cast<float>(px)), desc = f.descent(static_cast<float>(px));
        const int pad = 2;  // Font::render's left padding
        // Offsets of the text's own box, in text coordinates (along, across): the origin is the
        // left end of the baseline, "across" grows downwards.
        const double ax = ha == HAlign::left ? 0 : ha == HAlign::center ? tw / 2 : tw;
        const double ay = va == VAlign::baseline ? 0 : va == VAlign::top ? -asc : va == VAlign::bottom ? desc : (desc - asc) / 2;
        if (rotation == 0) {
            const int ox = static_cast<int>(std::lround(x - ax)) - pad, oy = static_cast<int>(std::lround(y - ay)) - t.baseline;
            for (int ty = 0; ty < t.height; ++ty)
                for (int tx = 0; tx < t.width; ++tx)
                    if (in_clip(ox + tx, oy + ty)) blend(ox + tx, oy + ty, c, t.at(tx, ty));
            return {x - ax, y - ay - asc, x - ax + tw, y - ay + desc};
        }
        // 90 degrees: text x runs upwards, text "down" runs to the right.
        const int ox = static_cast<int>(std::lround(x - ay)) - t.baseline, oy = static_cast<int>(std::lround(y + ax)) + pad;
        for (int ty = 0; ty < t.height; ++ty)
            for (int tx = 0; tx < t.width; ++tx) {
                const int px_ = ox + ty, py_ = oy - tx;
                if (in_clip(px_, py_)) blend(px_, py_, c, t.at(tx, ty));
            }
        return {x - ay - asc, y + ax - tw, x - ay + desc, y + ax};
    }

    // ---- images ---------------------------------------------------------------------------
    // Draws an RGB float image (rows x cols x 3, values 0..1) into `dst`, nearest-neighbour.
    void image(const std::vector<float>& rgb, int cols, int rows, const Rect& dst) {
        for_each_image_pixel(cols, rows, dst, [&](int x, int y, std::size_t src) {
            const float* p = &rgb[src * 3];
            float* q = &rgb_[(static_cast<std::size_t>(y) * w_ + x) * 3];
            q[0] = p[0], q[1] = p[1], q[2] = p[2];
        });
    }

    // Blends an RGBA float image (rows x cols x 4, values 0..1, straight alpha) into `dst`.
    void image_rgba(const std::vector<float>& rgba, int cols, int rows, const Rect& dst) {
        for_each_image_pixel(cols, rows, dst, [&](int x, int y, std::size_t src) {
            const float* p = &rgba[src * 4];
            blend(x, y, {p[0], p[1], p[2], 1.0f}, p[3]);
        });
    }

    // Visits every canvas pixel inside `dst` and the clip, with the index of the image pixel
    // (cols x rows, nearest-neighbour) that lands on it.
    template <class Fn>
    void for_each_image_pixel(int cols, int rows, const Rect& dst, Fn&& fn) {
        const int x0 = static_cast<int>(std::floor(dst.x0)), x1 = static_cast<int>(std::ceil(dst.x1));
        const int y0 = static_cast<int>(std::floor(dst.y0)), y1 = static_cast<int>(std::ceil(dst.y1));
        for (int y = std::max(y0, 0); y < std::min(y1, h_); ++y)
            for (int x = std::max(x0, 0); x < std::min(x1, w_); ++x) {
                if (!in_clip(x, y)) continue;
                const double u = (x + 0.5 - dst.x0) / dst.width(), v = (y + 0.5 - dst.y0) / dst.height();
                if (u < 0 || u >= 1 || v < 0 || v >= 1) continue;
                const int ix = std::min(cols - 1, static_cast<int>(u * cols)), iy = std::min(rows - 1, static_cast<int>(v * rows));
                fn(x, y, static_cast<std::size_t>(iy) * cols + ix);
            }
    }

    // ---- output ---------------------------------------------------------------------------
    std::vector<unsigned char> rgb8() const {
        std::vector<unsigned char> out(rgb_.size());
        for (std::size_t i = 0; i < rgb_.size(); ++i)
            out[i] = static_cast<unsigned char>(std::lround(std::clamp(rgb_[i], 0.0f, 1.0f) * 255.0f));
        return out;
    }
    void save_png(const std::string& path) const { write_png(path, w_, h_, 3, rgb8()); }

private:
    struct Mask {
        int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
        std::vector<float> cov;
        bool empty() const { return x1 <= x0 || y1 <= y0; }
        void max_at(int x, int y, float v) {
            float& c = cov[static_cast<std::size_t>(y - y0) * (x1 - x0) + (x - x0)];
            c = std::max(c, std::min(v, 1.0f));
        }
        // A segment with round caps of half-width hw: coverage falls off over one pixel.
        void capsule(Point a, Point b, double hw) {
            const int bx0 = std::max(x0, static_cast<int>(std::floor(std::min(a.x, b.x) - hw - 1)));
            const int bx1 = std::min(x1, static_cast<int>(std::ceil(std::max(a.x, b.x) + hw + 1)));
            const int by0 = std::max(y0, static_cast<int>(std::floor(std::min(a.y, b.y) - hw - 1)));
            const int by1 = std::min(y1, static_cast<int>(std::ceil(std::max(a.y, b.y) + hw + 1)));
            const double dx = b.x - a.x, dy = b.y - a.y, len2 = dx * dx + dy * dy;
            // Lines thinner than a pixel are drawn a pixel wide at proportionally lower coverage.
            const double drawn = std::max(hw, 0.5), fade = std::min(1.0, hw / 0.5);
            for (int y = by0; y < by1; ++y)
                for (int x = bx0; x < bx1; ++x) {
                    const double px = x + 0.5 - a.x, py = y + 0.5 - a.y;
                    const double t = len2 > 0 ? std::clamp((px * dx + py * dy) / len2, 0.0, 1.0) : 0.0;
                    const double d = std::hypot(px - t * dx, py - t * dy);
                    const double c = std::clamp(drawn + 0.5 - d, 0.0, 1.0) * fade;
                    if (c > 0) max_at(x, y, static_cast<float>(c));
                }
        }
    };

    bool in_clip(int x, int y) const {
        return x >= 0 && y >= 0 && x < w_ && y < h_ && x + 0.5 >= clip_.x0 && x + 0.5 <= clip_.x1 &&
               y + 0.5 >= clip_.y0 && y + 0.5 <= clip_.y1;
    }

    // A mask over the points' bounding box grown by `grow`, cut to the clip rectangle.
    Mask mask_for(const std::vector<Point>& pts, double grow) const {
        double lx = 1e300, ly = 1e300, hx = -1e300, hy = -1e300;
        for (const auto& p : pts) {
            if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
            lx = std::min(lx, p.x), ly = std::min(ly, p.y), hx = std::max(hx, p.x), hy = std::max(hy, p.y);
        }
        Mask m;
        if (lx > hx) return m;
        const double cx0 = std::max(0.0, clip_.x0), cy0 = std::max(0.0, clip_.y0);
        const double cx1 = std::min<double>(w_, clip_.x1), cy1 = std::min<double>(h_, clip_.y1);
        m.x0 = static_cast<int>(std::floor(std::max(lx - grow, cx0)));
        m.y0 = static_cast<int>(std::floor(std::max(ly - grow, cy0)));
        m.x1 = static_cast<int>(std::ceil(std::min(hx + grow, cx1)));
        m.y1 = static_cast<int>(std::ceil(std::min(hy + grow, cy1)));
        if (!m.empty()) m.cov.assign(static_cast<std::size_t>(m.x1 - m.x0) * (m.y1 - m.y0), 0.0f);
        return m;
    }

    void composite(const Mask& m, const Color& c) {
        for (int y = m.y0; y < m.y1; ++y)
            for (int x = m.x0; x < m.x1; ++x) {
                const float v = m.cov[static_cast<std::size_t>(y - m.y0) * (m.x1 - m.x0) + (x - m.x0)];
                if (v > 0 && in_clip(x, y)) blend(x, y, c, v);
            }
    }

    // Walks the polyline laying dashes of length `on` separated by `off`. Each dash is drawn
    // with round caps and shortened by the cap radius at both ends, so that what one sees is
    // `on` long; the pattern runs on across vertices, as matplotlib's does.
    static void dashes(Mask& m, const std::vector<Point>& pts, double on, double off, double hw) {
        const double period = on + off;
        double phase = 0;  // distance along the pattern
        std::vector<Point> dash;
        auto flush = [&] {
            if (dash.size() >= 2) {
                // shorten by hw at both ends (only if the dash is long enough)
                double total = 0;
                for (std::size_t i = 0; i + 1 < dash.size(); ++i)
                    total += std::hypot(dash[i + 1].x - dash[i].x, dash[i + 1].y - dash[i].y);
                const double cut = std::min(hw, total / 2 - 1e-9);
                trim(dash, cut, true);
                trim(dash, cut, false);
                for (std::size_t i = 0; i + 1 < dash.size(); ++i) m.capsule(dash[i], dash[i + 1], hw);
            }
            dash.clear();
        };
        for (std::size_t i = 0; i + 1 < pts.size(); ++i) {
            Point a = pts[i];
            const Point b = pts[i + 1];
            double seg = std::hypot(b.x - a.x, b.y - a.y);
            if (!std::isfinite(seg)) continue;
            while (seg > 0) {
                const bool drawing = phase < on;
                const double left = drawing ? on - phase : period - phase;
                const double step = std::min(left, seg);
                const double f = step / seg;
                const Point nxt{a.x + (b.x - a.x) * f, a.y + (b.y - a.y) * f};
                if (drawing) {
                    if (dash.empty()) dash.push_back(a);
                    dash.push_back(nxt);
                }
                a = nxt;
                seg -= step;
                phase += step;
                if (drawing && phase >= on - 1e-12) flush();
                if (phase >= period - 1e-12) phase = 0;
            }
        }
        flush();
    }

    static void trim(std::vector<Point>& d, double cut, bool front) {
        if (cut <= 0) return;
        if (!front) std::reverse(d.begin(), d.end());
        while (d.size() >= 2 && cut > 0) {
            const double l = std::hypot(d[1].x - d[0].x, d[1].y - d[0].y);
            if (l <= cut) {
                cut -= l;
                d.erase(d.begin());
            } else {
                const double f = cut / l;
                d[0] = {d[0].x + (d[1].x - d[0].x) * f, d[0].y + (d[1].y - d[0].y) * f};
                cut = 0;
            }
        }
        if (!front) std::reverse(d.begin(), d.end());
    }

    int w_, h_;
    std::vector<float> rgb_;
    Rect clip_;
};

}  // namespace ann::viz
