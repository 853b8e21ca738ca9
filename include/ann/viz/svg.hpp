#pragma once
// An SVG drawing surface with the same drawing calls as Canvas, so that a Figure can be written
// as a vector picture too (Figure::save_svg). Curves, markers, shapes and text become SVG
// elements (text in "DejaVu Sans", placed by the same font metrics as on the Canvas); rasters
// (images, filled decision regions) are embedded as base64 PNG. Coordinates are pixels.
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "ann/viz/canvas.hpp"

namespace ann::viz {

class SvgSurface {
public:
    SvgSurface(int width, int height) : w_(width), h_(height) {
        out_ << "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" version=\"1.1\""
             << " width=\"" << width << "\" height=\"" << height << "\" viewBox=\"0 0 " << width << ' ' << height << "\">\n"
             << "<rect x=\"0\" y=\"0\" width=\"" << width << "\" height=\"" << height << "\" fill=\"#ffffff\"/>\n";
    }

    int width() const { return w_; }
    int height() const { return h_; }

    void set_clip(const Rect& r) {
        reset_clip();
        const int id = ++clips_;
        out_ << "<clipPath id=\"c" << id << "\"><rect x=\"" << num(r.x0) << "\" y=\"" << num(r.y0) << "\" width=\""
             << num(r.width()) << "\" height=\"" << num(r.height()) << "\"/></clipPath>\n<g clip-path=\"url(#c" << id << ")\">\n";
        clipped_ = true;
    }
    void reset_clip() {
        if (clipped_) out_ << "</g>\n";
        clipped_ = false;
    }

    void polyline(const std::vector<Point>& pts, const Color& c, double width, LineStyle style = LineStyle::solid) {
        if (pts.size() < 2 || width <= 0) return;
        out_ << "<polyline fill=\"none\" stroke=\"" << hex(c) << '"' << opacity("stroke-opacity", c) << " stroke-width=\""
             << num(width) << "\" stroke-linejoin=\"round\"";
        if (style == LineStyle::solid) {
            out_ << " stroke-linecap=\"round\"";
        } else {
            const double on = (style == LineStyle::dashed ? 3.7 : 1.0) * width;
            const double off = (style == LineStyle::dashed ? 1.6 : 1.65) * width;
            out_ << " stroke-linecap=\"butt\" stroke-dasharray=\"" << num(on) << ',' << num(off) << '"';
        }
        out_ << " points=\"";
        for (const auto& p : pts) out_ << num(p.x) << ',' << num(p.y) << ' ';
        out_ << "\"/>\n";
    }
    void line(Point a, Point b, const Color& c, double width, LineStyle style = LineStyle::solid) {
        polyline({a, b}, c, width, style);
    }

    void fill_circle(Point center, double radius, const Color& c) {
        out_ << "<circle cx=\"" << num(center.x) << "\" cy=\"" << num(center.y) << "\" r=\"" << num(radius) << "\" fill=\""
             << hex(c) << '"' << opacity("fill-opacity", c) << "/>\n";
    }
    void fill_rect(const Rect& r, const Color& c) {
        out_ << "<rect x=\"" << num(r.x0) << "\" y=\"" << num(r.y0) << "\" width=\"" << num(r.width()) << "\" height=\""
             << num(r.height()) << "\" fill=\"" << hex(c) << '"' << opacity("fill-opacity", c) << "/>\n";
    }
    void fill_polygon(const std::vector<Point>& poly, const Color& c) {
        if (poly.size() < 3) return;
        out_ << "<polygon fill-rule=\"evenodd\" fill=\"" << hex(c) << '"' << opacity("fill-opacity", c) << " points=\"";
        for (const auto& p : poly) out_ << num(p.x) << ',' << num(p.y) << ' ';
        out_ << "\"/>\n";
    }

    Rect text(const std::string& s, double x, double y, double px, const Color& c, HAlign ha = HAlign::left,
              VAlign va = VAlign::baseline, int rotation = 0, const Font* font = nullptr) {
        const Font& f = font ? *font : *default_font();
        const double tw = f.text_width(s, static_cast<float>(px));
        const double asc = f.ascent(static_cast<float>(px)), desc = f.descent(static_cast<float>(px));
        const double ax = ha == HAlign::left ? 0 : ha == HAlign::center ? tw / 2 : tw;
        const double ay = va == VAlign::baseline ? 0 : va == VAlign::top ? -asc : va == VAlign::bottom ? desc : (desc - asc) / 2;
        const char* anchor = ha == HAlign::left ? "start" : ha == HAlign::center ? "middle" : "end";
        out_ << "<text font-family=\"DejaVu Sans, Bitstream Vera Sans, sans-serif\" font-size=\"" << num(px)
             << "\" text-anchor=\"" << anchor << "\" fill=\"" << hex(c) << '"';
        if (rotation == 0)
            out_ << " x=\"" << num(x) << "\" y=\"" << num(y - ay) << "\">";
        else
            out_ << " x=\"0\" y=\"0\" transform=\"translate(" << num(x - ay) << ',' << num(y) << ") rotate(-90)\">";
        out_ << escape(s) << "</text>\n";
        if (rotation == 0) return {x - ax, y - ay - asc, x - ax + tw, y - ay + desc};
        return {x - ay - asc, y + ax - tw, x - ay + desc, y + ax};
    }

    // rgb: rows x cols x 3 floats in 0..1; drawn without smoothing, as the Canvas draws it.
    void image(const std::vector<float>& rgb, int cols, int rows, const Rect& dst) { embed(rgb, cols, rows, 3, dst); }
    void image_rgba(const std::vector<float>& rgba, int cols, int rows, const Rect& dst) { embed(rgba, cols, rows, 4, dst); }

    std::string str() {
        reset_clip();
        return out_.str() + "</svg>\n";
    }

    // Writes the picture through io::write_file_atomic.
    void save(const std::string& path) { io::write_file_atomic(path, str()); }

private:
    static std::string num(double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.2f", v);
        std::string s = buf;
        while (!s.empty() && s.back() == '0') s.pop_back();
        if (!s.empty() && s.back() == '.') s.pop_back();
        return s == "-0" ? "0" : s;
    }
    static std::string hex(const Color& c) {
        auto b = [](float v) { return static_cast<int>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255)); };
        char buf[8];
        std::snprintf(buf, sizeof buf, "#%02x%02x%02x", b(c.r), b(c.g), b(c.b));
        return buf;
    }
    static std::string opacity(const char* attr, const Color& c) {
        if (c.a >= 1) return "";
        return std::string(" ") + attr + "=\"" + num(std::max(0.0f, c.a)) + '"';
    }
    static std::string escape(const std::string& s) {
        std::string o;
        for (char ch : s) {
            switch (ch) {
                case '&': o += "&amp;"; break;
                case '<': o += "&lt;"; break;
                case '>': o += "&gt;"; break;
                case '"': o += "&quot;"; break;
                default: o += ch;
            }
        }
        return o;
    }
    static std::string base64(const std::string& d) {
        static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        std::string o;
        o.reserve((d.size() + 2) / 3 * 4);
        auto byte = [&d](std::size_t i) { return i < d.size() ? unsigned(static_cast<unsigned char>(d[i])) : 0u; };
        for (std::size_t i = 0; i < d.size(); i += 3) {
            const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
            o += t[(v >> 18) & 63];
            o += t[(v >> 12) & 63];
            o += i + 1 < d.size() ? t[(v >> 6) & 63] : '=';
            o += i + 2 < d.size() ? t[v & 63] : '=';
        }
        return o;
    }
    void embed(const std::vector<float>& px, int cols, int rows, int ch, const Rect& dst) {
        if (cols <= 0 || rows <= 0) return;
        std::vector<unsigned char> bytes(px.size());
        for (std::size_t i = 0; i < px.size(); ++i)
            bytes[i] = static_cast<unsigned char>(std::lround(std::clamp(px[i], 0.0f, 1.0f) * 255));
        const std::string png = encode_png(cols, rows, ch, bytes, "SVG image");
        out_ << "<image x=\"" << num(dst.x0) << "\" y=\"" << num(dst.y0) << "\" width=\"" << num(dst.width())
             << "\" height=\"" << num(dst.height()) << "\" preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\""
             << " xlink:href=\"data:image/png;base64," << base64(png) << "\"/>\n";
    }

    int w_, h_;
    std::ostringstream out_;
    int clips_ = 0;
    bool clipped_ = false;
};

}  // namespace ann::viz
