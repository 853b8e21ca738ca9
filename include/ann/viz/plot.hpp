#pragma once
// Figures made of axes, in the manner of matplotlib.pyplot with its default style:
//   Figure fig(16, 12);                     // inches, at 100 dpi: 1600 x 1200 pixels
//   auto axes = fig.subplots(2, 2);         // default subplot parameters (left 0.125, ...)
//   axes[0]->plot(y, {colors::course(0), 2.0}, "mlp_1");   // x = 1..n
//   axes[0]->set_title("training_loss", TitleLoc::left, 18);
//   fig.legend(entries, Loc::upper_center, 3, 18);
//   fig.save_png("part3_plots.png");        // or save_svg, or save (by extension)
// Sizes (line widths, fonts, ticks) are in points; the figure's dpi turns them into pixels.
#include <array>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ann/viz/canvas.hpp"
#include "ann/viz/legend.hpp"
#include "ann/viz/svg.hpp"
#include "ann/viz/ticks.hpp"

namespace ann::viz {

enum class TitleLoc { left, center, right };

class Axes {
public:
    // ---- content --------------------------------------------------------------------------
    void plot(std::vector<double> x, std::vector<double> y, const Style& s, const std::string& label = "") {
        if (x.size() != y.size()) fail("Axes::plot: ", x.size(), " x values but ", y.size(), " y values");
        series_.push_back({std::move(x), std::move(y), s, label, {}});
        laid_out_ = false;
    }
    // y against 1..n, as the course's plots draw curves against the step.
    void plot(const std::vector<double>& y, const Style& s, const std::string& label = "") {
        std::vector<double> x(y.size());
        for (std::size_t i = 0; i < y.size(); ++i) x[i] = static_cast<double>(i + 1);
        plot(std::move(x), y, s, label);
    }
    // Points with a colour each (edge-less filled circles of `size` points diameter).
    void scatter(std::vector<double> x, std::vector<double> y, std::vector<Color> c, double size = 6) {
        if (x.size() != y.size() || c.size() != x.size())
            fail("Axes::scatter: ", x.size(), " x, ", y.size(), " y and ", c.size(), " colours (expected equal counts)");
        Style s;
        s.line = false;
        s.marker = Marker::circle;
        s.markersize = size;
        series_.push_back({std::move(x), std::move(y), s, "", std::move(c)});
        laid_out_ = false;
    }
    // A picture of the data plane: f(x, y) gives the colour at each pixel centre (e.g. a filled
    // contour of a network's output); drawn beneath the curves.
    void fill_function(std::function<Color(double, double)> f) { fill_fn_ = std::move(f); }
    // An RGB image (rows x cols x 3, 0..1) filling the axes with square pixels; the axes box
    // shrinks to the image's aspect ratio (matplotlib's imshow with adjustable='box').
    void imshow(std::vector<float> rgb, int cols, int rows) {
        if (rgb.size() != static_cast<std::size_t>(cols) * rows * 3)
            fail("Axes::imshow: ", rgb.size(), " values for a ", rows, "x", cols, " RGB image");
        image_ = std::move(rgb);
        img_cols_ = cols, img_rows_ = rows;
        ticks_ = false;
    }

    // ---- decoration -----------------------------------------------------------------------
    void set_title(const std::string& t, TitleLoc loc = TitleLoc::center, double font = 12) {
        title_ = t, title_loc_ = loc, title_font_ = font;
    }
    void set_xlabel(const std::string& t, double font = 10) { xlabel_ = t, label_font_x_ = font; }
    void set_ylabel(const std::string& t, double font = 10) { ylabel_ = t, label_font_y_ = font; }
    void set_tick_labelsize(double font) { tick_font_ = font; }
    void set_xlim(double lo, double hi) { xlim_ = Range{lo, hi}, laid_out_ = false; }
    void set_ylim(double lo, double hi) { ylim_ = Range{lo, hi}, laid_out_ = false; }
    void set_ticks_visible(bool on) { ticks_ = on; }
    // An invisible axes draws nothing (plt's ax.axis('off') plus no frame).
    void set_visible(bool on) { visible_ = on; }
    void legend(std::vector<LegendEntry> entries, Loc loc = Loc::best, double font = 10) {
        legend_ = std::move(entries), legend_loc_ = loc, legend_font_ = font;
    }

    // ---- queries (tests and figure layout use them) -----------------------------------------
    Range xlim() const { return view_x(); }
    Range ylim() const { return view_y(); }
    // The pixel box of the axes once the figure is laid out (valid after Figure::render).
    Rect box() const { return box_; }
    Point to_pixel(double x, double y) const {
        const Range rx = laid_out_ ? vx_ : view_x(), ry = laid_out_ ? vy_ : view_y();
        return {box_.x0 + (x - rx.lo) / (rx.hi - rx.lo) * box_.width(),
                box_.y1 - (y - ry.lo) / (ry.hi - ry.lo) * box_.height()};
    }
    std::vector<double> xticks() const { return ticks_for(view_x(), true); }
    std::vector<double> yticks() const { return ticks_for(view_y(), false); }

private:
    friend class Figure;
    struct Series {
        std::vector<double> x, y;
        Style style;
        std::string label;
        std::vector<Color> point_colors;
    };

    Range data_range(bool x_axis) const {
        double lo = std::numeric_limits<double>::infinity(), hi = -lo;
        for (const auto& s : series_)
            for (double v : x_axis ? s.x : s.y)
                if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
        if (lo > hi) return {0, 1};
        return {lo, hi};
    }
    Range view_x() const {
        if (xlim_) return nonsingular(*xlim_);
        bool any = false;
        for (const auto& s : series_) any = any || !s.x.empty();
        return any ? with_margins(data_range(true)) : Range{0, 1};
    }
    Range view_y() const {
        if (ylim_) return nonsingular(*ylim_);
        bool any = false;
        for (const auto& s : series_) any = any || !s.y.empty();
        return any ? with_margins(data_range(false)) : Range{0, 1};
    }
    std::vector<double> ticks_for(Range r, bool x_axis) const {
        const double len_px = x_axis ? box_.width() : box_.height();
        return nice_ticks(r, auto_nbins(len_px / px_per_pt_, tick_font_, x_axis));
    }

    void layout(const Rect& cell, double px_per_pt) {
        px_per_pt_ = px_per_pt;
        // the view limits scan all data: computed once here, not per point drawn
        vx_ = view_x(), vy_ = view_y(), laid_out_ = true;
        box_ = cell;
        if (!image_.empty()) {  // shrink to the image's aspect, centred
            const double sx = cell.width() / img_cols_, sy = cell.height() / img_rows_, s = std::min(sx, sy);
            const double w = img_cols_ * s, h = img_rows_ * s;
            box_ = {cell.x0 + (cell.width() - w) / 2, cell.y0 + (cell.height() - h) / 2, 0, 0};
            box_.x1 = box_.x0 + w, box_.y1 = box_.y0 + h;
        }
    }

    // S is a drawing surface: Canvas (PNG) or SvgSurface (SVG), with the same drawing calls.
    template <class S>
    void draw(S& cv) const {
        const double pt = px_per_pt_;
        const Range rx = vx_, ry = vy_;
        // background and plane fill
        cv.fill_rect(box_, colors::white());
        cv.set_clip(box_);
        if (fill_fn_) {
            // sampled at pixel centres into an RGBA raster covering the box's pixels
            const int x0 = static_cast<int>(std::floor(box_.x0)), x1 = static_cast<int>(std::ceil(box_.x1));
            const int y0 = static_cast<int>(std::floor(box_.y0)), y1 = static_cast<int>(std::ceil(box_.y1));
            std::vector<float> rgba(static_cast<std::size_t>(x1 - x0) * (y1 - y0) * 4);
            for (int py = y0; py < y1; ++py)
                for (int px = x0; px < x1; ++px) {
                    const double x = rx.lo + (px + 0.5 - box_.x0) / box_.width() * (rx.hi - rx.lo);
                    const double y = ry.lo + (box_.y1 - py - 0.5) / box_.height() * (ry.hi - ry.lo);
                    const double cov = std::clamp(std::min({px + 1 - box_.x0, box_.x1 - px, py + 1 - box_.y0, box_.y1 - py}), 0.0, 1.0);
                    const Color c = fill_fn_(x, y);
                    float* q = &rgba[(static_cast<std::size_t>(py - y0) * (x1 - x0) + (px - x0)) * 4];
                    q[0] = c.r, q[1] = c.g, q[2] = c.b, q[3] = c.a * static_cast<float>(cov);
                }
            cv.image_rgba(rgba, x1 - x0, y1 - y0, Rect{double(x0), double(y0), double(x1), double(y1)});
        }
        if (!image_.empty()) cv.image(image_, img_cols_, img_rows_, box_);
        for (const auto& s : series_) {
            if (s.style.line && s.x.size() >= 2) {
                // NaN (null in JSON) breaks a curve, as in matplotlib
                std::vector<Point> pts;
                pts.reserve(s.x.size());
                for (std::size_t i = 0; i <= s.x.size(); ++i) {
                    if (i < s.x.size() && std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
                        pts.push_back(to_pixel(s.x[i], s.y[i]));
                        continue;
                    }
                    cv.polyline(pts, s.style.color, s.style.linewidth * pt, s.style.linestyle);
                    pts.clear();
                }
            }
            if (s.style.marker == Marker::circle)
                for (std::size_t i = 0; i < s.x.size(); ++i)
                    if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
                        cv.fill_circle(to_pixel(s.x[i], s.y[i]), s.style.markersize * pt / 2,
                                   s.point_colors.empty() ? s.style.color : s.point_colors[i]);
        }
        cv.reset_clip();

        // spines: 0.8 pt black, centred on the box edge
        const double sw = 0.8 * pt;
        cv.polyline({{box_.x0, box_.y0}, {box_.x1, box_.y0}, {box_.x1, box_.y1}, {box_.x0, box_.y1}, {box_.x0, box_.y0}},
                    colors::black(), sw);

        const Font& f = *default_font();
        const double tick_px = tick_font_ * pt, tick_len = 3.5 * pt, tick_pad = 3.5 * pt;
        double xlabel_top = box_.y1 + sw / 2, ylabel_right = box_.x0 - sw / 2;
        if (ticks_) {
            const auto xt = xticks(), yt = yticks();
            const TickLabels xl = format_ticks(xt), yl = format_ticks(yt);
            double max_w = 0;
            for (std::size_t i = 0; i < xt.size(); ++i) {
                const double px = to_pixel(xt[i], ry.lo).x;
                cv.line({px, box_.y1}, {px, box_.y1 + tick_len}, colors::black(), sw);
                cv.text(xl.labels[i], px, box_.y1 + tick_len + tick_pad, tick_px, colors::black(), HAlign::center, VAlign::top);
            }
            if (!xt.empty()) xlabel_top = box_.y1 + tick_len + tick_pad + f.ascent(float(tick_px)) + f.descent(float(tick_px));
            for (std::size_t i = 0; i < yt.size(); ++i) {
                const double py = to_pixel(rx.lo, yt[i]).y;
                cv.line({box_.x0 - tick_len, py}, {box_.x0, py}, colors::black(), sw);
                cv.text(yl.labels[i], box_.x0 - tick_len - tick_pad, py, tick_px, colors::black(), HAlign::right, VAlign::center);
                max_w = std::max(max_w, double(f.text_width(yl.labels[i], float(tick_px))));
            }
            if (!yt.empty()) ylabel_right = box_.x0 - tick_len - tick_pad - max_w;
            if (!xl.multiplier.empty())
                cv.text(xl.multiplier, box_.x1, xlabel_top + 2 * pt, tick_px, colors::black(), HAlign::right, VAlign::top);
            if (!yl.multiplier.empty())
                cv.text(yl.multiplier, box_.x0, box_.y0 - 2 * pt, tick_px, colors::black(), HAlign::left, VAlign::bottom);
        }
        const double labelpad = 4 * pt;
        if (!xlabel_.empty())
            cv.text(xlabel_, (box_.x0 + box_.x1) / 2, xlabel_top + labelpad, label_font_x_ * pt, colors::black(),
                    HAlign::center, VAlign::top);
        if (!ylabel_.empty())
            cv.text(ylabel_, ylabel_right - labelpad, (box_.y0 + box_.y1) / 2, label_font_y_ * pt, colors::black(),
                    HAlign::center, VAlign::bottom, 90);
        if (!title_.empty()) {
            const double tx = title_loc_ == TitleLoc::left ? box_.x0 : title_loc_ == TitleLoc::right ? box_.x1 : (box_.x0 + box_.x1) / 2;
            const HAlign ha = title_loc_ == TitleLoc::left ? HAlign::left : title_loc_ == TitleLoc::right ? HAlign::right : HAlign::center;
            const double up = (ticks_ && !format_ticks(yticks()).multiplier.empty()) ? tick_px + 2 * pt : 0;
            cv.text(title_, tx, box_.y0 - 6 * pt - up, title_font_ * pt, colors::black(), ha, VAlign::bottom);
        }
        if (!legend_.empty()) {
            const double font_px = legend_font_ * pt;
            const LegendLayout L = legend_layout(legend_, font_px, 1);
            const Loc loc = legend_loc_ == Loc::best ? best_loc(L.box_w, L.box_h, 0.5 * font_px) : legend_loc_;
            draw_legend(cv, legend_, L, legend_origin(loc, box_, L.box_w, L.box_h, 0.5 * font_px), pt);
        }
    }

    // matplotlib's 'best': the first of its candidate places that covers the fewest data points.
    Loc best_loc(double w, double h, double pad) const {
        const Loc order[] = {Loc::upper_right, Loc::upper_left, Loc::lower_left, Loc::lower_right, Loc::right,
                             Loc::center_left, Loc::center_right, Loc::lower_center, Loc::upper_center, Loc::center};
        Loc best = Loc::upper_right;
        std::size_t best_n = std::numeric_limits<std::size_t>::max();
        for (Loc loc : order) {
            const Point o = legend_origin(loc, box_, w, h, pad);
            std::size_t n = 0;
            for (const auto& s : series_)
                for (std::size_t i = 0; i < s.x.size(); ++i) {
                    const Point p = to_pixel(s.x[i], s.y[i]);
                    n += p.x >= o.x && p.x <= o.x + w && p.y >= o.y && p.y <= o.y + h;
                }
            if (n < best_n) best = loc, best_n = n;
            if (n == 0) break;
        }
        return best;
    }

    std::vector<Series> series_;
    std::function<Color(double, double)> fill_fn_;
    std::vector<float> image_;
    int img_cols_ = 0, img_rows_ = 0;
    std::string title_, xlabel_, ylabel_;
    TitleLoc title_loc_ = TitleLoc::center;
    double title_font_ = 12, label_font_x_ = 10, label_font_y_ = 10, tick_font_ = 10;
    std::optional<Range> xlim_, ylim_;
    bool ticks_ = true, visible_ = true;
    std::vector<LegendEntry> legend_;
    Loc legend_loc_ = Loc::best;
    double legend_font_ = 10;
    Rect box_{};
    double px_per_pt_ = 100.0 / 72;
    Range vx_, vy_;
    bool laid_out_ = false;  // vx_, vy_ valid; any change of content or limits clears it
};

// Subplot spacing as fractions of the figure (matplotlib's rcParams figure.subplot.*).
struct SubplotParams {
    double left = 0.125, right = 0.9, bottom = 0.11, top = 0.88, wspace = 0.2, hspace = 0.2;
};

class Figure {
public:
    Figure(double width_in, double height_in, double dpi = 100) : w_in_(width_in), h_in_(height_in), dpi_(dpi) {
        if (!(width_in > 0) || !(height_in > 0) || !(dpi > 0) || width_in * dpi > 20000 || height_in * dpi > 20000)
            fail("Figure: size ", width_in, "x", height_in, " in at ", dpi, " dpi (expected positive, at most 20000 px)");
    }

    int width_px() const { return static_cast<int>(std::lround(w_in_ * dpi_)); }
    int height_px() const { return static_cast<int>(std::lround(h_in_ * dpi_)); }
    double px_per_pt() const { return dpi_ / 72.0; }

    // A rows x cols grid of axes, row by row, placed as plt.subplots places them.
    std::vector<Axes*> subplots(int rows, int cols, SubplotParams p = {}) {
        if (rows <= 0 || cols <= 0) fail("Figure::subplots: ", rows, "x", cols, " (expected positive)");
        std::vector<Axes*> out;
        const double W = p.right - p.left, H = p.top - p.bottom;
        const double cw = W / (cols + p.wspace * (cols - 1)), ch = H / (rows + p.hspace * (rows - 1));
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c < cols; ++c) {
                const double l = p.left + c * cw * (1 + p.wspace), t = p.top - r * ch * (1 + p.hspace);
                out.push_back(add_axes(l, t - ch, cw, ch));
            }
        return out;
    }
    // An axes at [left, bottom, width, height] in figure fractions (matplotlib's add_axes).
    Axes* add_axes(double left, double bottom, double width, double height) {
        axes_.push_back(std::make_unique<Axes>());
        rects_.push_back({left, bottom, width, height});
        return axes_.back().get();
    }

    void legend(std::vector<LegendEntry> entries, Loc loc = Loc::upper_center, int ncol = 1, double font = 10) {
        legend_ = std::move(entries), legend_loc_ = loc == Loc::best ? Loc::upper_right : loc;
        legend_ncol_ = ncol, legend_font_ = font;
    }
    // A title for the whole figure, centred, with its bottom at `y` (figure fraction from the bottom).
    void suptitle(const std::string& t, double y = 0.98, double font = 12) { sup_ = t, sup_y_ = y, sup_font_ = font; }

    // Lays out the axes and draws everything on `surface` (a Canvas or an SvgSurface of
    // width_px() x height_px()).
    template <class S>
    void draw(S& cv) {
        const double W = width_px(), H = height_px();
        for (std::size_t i = 0; i < axes_.size(); ++i) {
            const auto& r = rects_[i];
            axes_[i]->layout({r[0] * W, (1 - r[1] - r[3]) * H, (r[0] + r[2]) * W, (1 - r[1]) * H}, px_per_pt());
        }
        for (auto& a : axes_)
            if (a->visible_) a->draw(cv);
        const double pt = px_per_pt();
        if (!sup_.empty())
            cv.text(sup_, W / 2, (1 - sup_y_) * H, sup_font_ * pt, colors::black(), HAlign::center,
                    sup_y_ < 0.5 ? VAlign::bottom : VAlign::top);
        if (!legend_.empty()) {
            const double font_px = legend_font_ * pt;
            const LegendLayout L = legend_layout(legend_, font_px, legend_ncol_);
            draw_legend(cv, legend_, L, legend_origin(legend_loc_, {0, 0, W, H}, L.box_w, L.box_h, 0.5 * font_px), pt);
        }
    }
    Canvas render() {
        Canvas cv(width_px(), height_px());
        draw(cv);
        return cv;
    }
    void save_png(const std::string& path) { render().save_png(path); }
    void save_svg(const std::string& path) {
        SvgSurface svg(width_px(), height_px());
        draw(svg);
        svg.save(path);
    }
    // SVG if the path ends in ".svg", PNG otherwise.
    void save(const std::string& path) {
        if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".svg") == 0)
            save_svg(path);
        else
            save_png(path);
    }

    const std::vector<std::unique_ptr<Axes>>& axes() const { return axes_; }

private:
    double w_in_, h_in_, dpi_;
    std::vector<std::unique_ptr<Axes>> axes_;
    std::vector<std::array<double, 4>> rects_;
    std::vector<LegendEntry> legend_;
    Loc legend_loc_ = Loc::upper_center;
    int legend_ncol_ = 1;
    double legend_font_ = 10;
    std::string sup_;
    double sup_y_ = 0.98, sup_font_ = 12;
};

}  // namespace ann::viz
