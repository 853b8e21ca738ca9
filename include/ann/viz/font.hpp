#pragma once
// A TrueType font rasterised by stb_truetype, for anti-aliased text in figures.
//
// Where the font comes from, first match wins:
//   1. set_default_font(Font::load(path)): any .ttf the caller names;
//   2. the environment variable ANN_FONT (a .ttf path);
//   3. the header ann/viz/embedded_font_data.hpp that ann's build generates from DejaVu Sans
//      (cmake/AnnEmbedFont.cmake) and installs with the headers;
//   4. DejaVu Sans at the usual Debian/Fedora/Homebrew paths.
// default_font() throws ann::Error if none is found.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "ann/io/read_file.hpp"
#include "ann/core/error.hpp"

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
// Static linkage keeps the header-only library free of ODR clashes with a user's own copy.
#ifndef STBTT_STATIC
#define STBTT_STATIC
#endif
#define STB_TRUETYPE_IMPLEMENTATION
#include <stb_truetype.h>
#undef STB_TRUETYPE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#if __has_include("ann/viz/embedded_font_data.hpp")
#include "ann/viz/embedded_font_data.hpp"
#define ANN_VIZ_HAS_EMBEDDED_FONT 1
#endif

namespace ann::viz {

// An 8-bit coverage image of rendered text: (0,0) is the top-left; the baseline is at row `baseline`.
struct TextMask {
    int width = 0, height = 0, baseline = 0;
    std::vector<float> coverage;  // width * height, 0..1
    float at(int x, int y) const { return coverage[static_cast<std::size_t>(y) * width + x]; }
};

class Font {
public:
    static constexpr std::uint64_t kMaxFontBytes = std::uint64_t(64) << 20;  // DejaVuSans: 740 kB

    // Reads a .ttf file; throws ann::Error naming the file if it is missing or not a font.
    static std::shared_ptr<Font> load(const std::string& path) {
        const std::string data = io::read_file(path, kMaxFontBytes);  // regular files only, size capped
        std::vector<unsigned char> bytes(data.begin(), data.end());
        return std::shared_ptr<Font>(new Font(std::move(bytes), path));
    }

    // Wraps font bytes the caller keeps alive (e.g. the embedded font).
    static std::shared_ptr<Font> from_memory(const unsigned char* data, std::size_t size, const std::string& name) {
        return std::shared_ptr<Font>(new Font(data, size, name));
    }

    const std::string& name() const { return name_; }

    // Ascent and descent (positive, below the baseline) in pixels for an em size of px.
    float ascent(float px) const { return ascent_ * scale(px); }
    float descent(float px) const { return -descent_ * scale(px); }

    // Width of a UTF-8 string at an em size of px, with kerning.
    float text_width(const std::string& utf8, float px) const {
        const auto cps = decode(utf8);
        const float s = scale(px);
        float x = 0;
        for (std::size_t i = 0; i < cps.size(); ++i) {
            int adv = 0, lsb = 0;
            stbtt_GetCodepointHMetrics(&info_, cps[i], &adv, &lsb);
            x += adv * s;
            if (i + 1 < cps.size()) x += s * stbtt_GetCodepointKernAdvance(&info_, cps[i], cps[i + 1]);
        }
        return x;
    }

    // Renders a UTF-8 string with subpixel glyph placement. The mask is as wide as the advance
    // (plus overhang) and as tall as ascent + descent.
    TextMask render(const std::string& utf8, float px) const {
        const auto cps = decode(utf8);
        const float s = scale(px);
        TextMask m;
        const int pad = 2;
        m.baseline = static_cast<int>(std::ceil(ascent(px))) + pad;
        m.width = static_cast<int>(std::ceil(text_width(utf8, px))) + 2 * pad + 2;
        m.height = m.baseline + static_cast<int>(std::ceil(descent(px))) + pad;
        m.coverage.assign(static_cast<std::size_t>(m.width) * m.height, 0.0f);
        float x = pad;
        std::vector<unsigned char> glyph;
        for (std::size_t i = 0; i < cps.size(); ++i) {
            const float fx = x - std::floor(x);
            int x0, y0, x1, y1;
            stbtt_GetCodepointBitmapBoxSubpixel(&info_, cps[i], s, s, fx, 0, &x0, &y0, &x1, &y1);
            const int gw = x1 - x0, gh = y1 - y0;
            if (gw > 0 && gh > 0) {
                glyph.assign(static_cast<std::size_t>(gw) * gh, 0);
                stbtt_MakeCodepointBitmapSubpixel(&info_, glyph.data(), gw, gh, gw, s, s, fx, 0, cps[i]);
                const int ox = static_cast<int>(std::floor(x)) + x0, oy = m.baseline + y0;
                for (int gy = 0; gy < gh; ++gy)
                    for (int gx = 0; gx < gw; ++gx) {
                        const int tx = ox + gx, ty = oy + gy;
                        if (tx < 0 || ty < 0 || tx >= m.width || ty >= m.height) continue;
                        float& c = m.coverage[static_cast<std::size_t>(ty) * m.width + tx];
                        c = std::min(1.0f, c + glyph[static_cast<std::size_t>(gy) * gw + gx] / 255.0f);
                    }
            }
            int adv = 0, lsb = 0;
            stbtt_GetCodepointHMetrics(&info_, cps[i], &adv, &lsb);
            x += adv * s;
            if (i + 1 < cps.size()) x += s * stbtt_GetCodepointKernAdvance(&info_, cps[i], cps[i + 1]);
        }
        return m;
    }

    // UTF-8 to code points; malformed bytes become U+FFFD rather than an error.
    static std::vector<int> decode(const std::string& s) {
        std::vector<int> out;
        for (std::size_t i = 0; i < s.size();) {
            const unsigned char c = static_cast<unsigned char>(s[i]);
            int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
            if (n < 0 || i + static_cast<std::size_t>(n) >= s.size()) {
                out.push_back(0xFFFD);
                ++i;
                continue;
            }
            int cp = n == 0 ? c : c & (0x3F >> n);
            bool ok = true;
            for (int k = 1; k <= n; ++k) {
                const unsigned char d = static_cast<unsigned char>(s[i + k]);
                if ((d >> 6) != 2) ok = false;
                cp = (cp << 6) | (d & 0x3F);
            }
            if (!ok) {
                out.push_back(0xFFFD);
                ++i;
                continue;
            }
            out.push_back(cp);
            i += static_cast<std::size_t>(n) + 1;
        }
        return out;
    }

private:
    Font(std::vector<unsigned char> bytes, std::string name) : owned_(std::move(bytes)), name_(std::move(name)) {
        init(owned_.data(), owned_.size());
    }
    Font(const unsigned char* data, std::size_t size, std::string name) : name_(std::move(name)) { init(data, size); }

    void init(const unsigned char* data, std::size_t size) {
        if (size < 12) fail(name_, ": not a TrueType font (", size, " bytes)");
        const int offset = stbtt_GetFontOffsetForIndex(data, 0);
        if (offset < 0 || !stbtt_InitFont(&info_, data, offset))
            fail(name_, ": not a TrueType font (stb_truetype cannot parse it)");
        stbtt_GetFontVMetrics(&info_, &ascent_, &descent_, &line_gap_);
    }
    // Font sizes are em sizes, as in matplotlib (a 10 pt font at 100 dpi has a 13.9 px em).
    float scale(float px) const { return stbtt_ScaleForMappingEmToPixels(&info_, px); }

    std::vector<unsigned char> owned_;
    std::string name_;
    stbtt_fontinfo info_{};
    int ascent_ = 0, descent_ = 0, line_gap_ = 0;
};

namespace detail {
inline std::shared_ptr<Font>& font_override() {
    static std::shared_ptr<Font> font;
    return font;
}
}  // namespace detail

// Makes every figure drawn from now on use `font` (nullptr: back to the search below), e.g.
//   ann::viz::set_default_font(ann::viz::Font::load("/path/to/font.ttf"));
inline void set_default_font(std::shared_ptr<Font> font) { detail::font_override() = std::move(font); }

// The font figures use unless told otherwise (see the top of this file for the search order).
inline std::shared_ptr<Font> default_font() {
    if (const auto& f = detail::font_override()) return f;
    static std::shared_ptr<Font> font = [] {
        if (const char* env = std::getenv("ANN_FONT"); env && *env) return Font::load(env);
#ifdef ANN_VIZ_HAS_EMBEDDED_FONT
        return Font::from_memory(reinterpret_cast<const unsigned char*>(embedded_font::data), embedded_font::size,
                                 embedded_font::name);
#else
        for (const char* p : {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf",
                              "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
                              "/opt/homebrew/share/fonts/DejaVuSans.ttf", "/usr/local/share/fonts/DejaVuSans.ttf"}) {
            if (std::ifstream(p).good()) return Font::load(p);
        }
        fail("ann::viz: no font found (set ANN_FONT to a .ttf file, or install fonts-dejavu-core)");
#endif
    }();
    return font;
}

}  // namespace ann::viz
