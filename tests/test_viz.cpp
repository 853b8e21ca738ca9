// ann::viz: the pictures themselves are checked, by decoding the PNGs (stb_image) and looking
// at pixels where lines, text, regions and grid cells must (and must not) be.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "ann/viz/homework.hpp"

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

using namespace ann;
using namespace ann::viz;
namespace fs = std::filesystem;

namespace {

struct Png {
    int w = 0, h = 0;
    std::vector<unsigned char> px;  // RGB
    std::array<int, 3> at(int x, int y) const {
        const unsigned char* p = &px[(static_cast<std::size_t>(y) * w + x) * 3];
        return {p[0], p[1], p[2]};
    }
    int gray(int x, int y) const {
        auto c = at(x, y);
        return (c[0] + c[1] + c[2]) / 3;
    }
};

Png decode(const std::string& path) {
    Png p;
    int n = 0;
    unsigned char* d = stbi_load(path.c_str(), &p.w, &p.h, &n, 3);
    REQUIRE(d != nullptr);
    p.px.assign(d, d + static_cast<std::size_t>(p.w) * p.h * 3);
    stbi_image_free(d);
    return p;
}

Png save_and_decode(const Canvas& cv, const std::string& name) {
    const std::string path = (fs::temp_directory_path() / ("ann_test_viz_" + name + ".png")).string();
    cv.save_png(path);
    Png p = decode(path);
    fs::remove(path);
    return p;
}

bool near(std::array<int, 3> c, std::array<int, 3> want, int tol = 6) {
    for (int i = 0; i < 3; ++i)
        if (std::abs(c[i] - want[i]) > tol) return false;
    return true;
}

fs::path fresh_dir(const std::string& name) {
    const fs::path d = fs::temp_directory_path() / ("ann_test_viz_" + name);
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

}  // namespace

TEST_CASE("canvas: a line is drawn where it should be, anti-aliased at its edges", "[viz][canvas]") {
    Canvas cv(100, 60);
    cv.line({10, 30}, {90, 30}, colors::black(), 3);         // covers y in [28.5, 31.5]
    cv.line({50, 5}, {50, 20.5}, Color::hex("#ff0000"), 1);  // vertical red, x in [49.5, 50.5]
    const Png p = save_and_decode(cv, "line");
    REQUIRE(p.w == 100);
    REQUIRE(p.h == 60);
    CHECK(p.gray(50, 29) == 0);
    CHECK(p.gray(50, 30) == 0);
    CHECK(p.gray(50, 25) == 255);
    CHECK(p.gray(50, 35) == 255);
    CHECK(p.gray(5, 30) == 255);  // beyond the round cap
    // the rows at y = 28 and 31 are half covered: anti-aliased, not aliased
    CHECK(p.gray(50, 28) > 80);
    CHECK(p.gray(50, 28) < 180);
    CHECK(p.gray(50, 31) > 80);
    CHECK(p.gray(50, 31) < 180);
    // the red line: half of column 49 and half of column 50
    CHECK(p.at(49, 12)[0] == 255);
    CHECK(p.at(49, 12)[1] > 90);
    CHECK(p.at(49, 12)[1] < 170);
    CHECK(p.at(52, 12) == std::array<int, 3>{255, 255, 255});
}

TEST_CASE("canvas: dashed lines repeat 3.7 w on, 1.6 w off", "[viz][canvas]") {
    Canvas cv(220, 20);
    cv.line({0, 10}, {220, 10}, colors::black(), 4, LineStyle::dashed);  // period 21.2 px
    const Png p = save_and_decode(cv, "dash");
    int runs = 0;
    bool inside = false;
    std::vector<int> starts;
    for (int x = 0; x < 220; ++x) {
        const bool dark = p.gray(x, 10) < 128;
        if (dark && !inside) ++runs, starts.push_back(x);
        inside = dark;
    }
    CHECK(runs >= 10);
    CHECK(runs <= 11);
    for (std::size_t i = 1; i < starts.size(); ++i) CHECK(std::abs((starts[i] - starts[i - 1]) - 21.2) <= 1.5);
    // dash 14.8 px, gap 6.4 px at mid-line
    CHECK(p.gray(7, 10) == 0);
    CHECK(p.gray(18, 10) > 200);
}

TEST_CASE("canvas: polygons get exact fractional coverage, circles are filled", "[viz][canvas]") {
    Canvas cv(40, 40);
    cv.fill_rect({10.5, 10, 20, 20}, colors::black());
    cv.fill_circle({30, 30}, 4, Color::hex("#0000ff"));
    const Png p = save_and_decode(cv, "poly");
    CHECK(p.gray(15, 15) == 0);
    CHECK(std::abs(p.gray(10, 15) - 128) <= 2);  // half-covered column
    CHECK(p.gray(21, 15) == 255);
    CHECK(p.at(30, 30) == std::array<int, 3>{0, 0, 255});
    CHECK(p.at(30, 36) == std::array<int, 3>{255, 255, 255});
}

TEST_CASE("text: glyphs are rendered from the font, anti-aliased, inside the reported box", "[viz][text]") {
    Canvas cv(200, 80);
    const Rect box = cv.text("Hello, ann", 10, 40, 20, colors::black());
    const Png p = save_and_decode(cv, "text");
    int ink = 0, partial = 0, outside = 0;
    for (int y = 0; y < p.h; ++y)
        for (int x = 0; x < p.w; ++x) {
            const int g = p.gray(x, y);
            if (g < 250) {
                ++ink;
                if (x < box.x0 - 2 || x > box.x1 + 2 || y < box.y0 - 2 || y > box.y1 + 2) ++outside;
            }
            if (g > 30 && g < 225) ++partial;
        }
    CHECK(ink > 150);      // real glyph pixels...
    CHECK(partial > 40);   // ...with grey edges
    CHECK(outside == 0);
    CHECK(box.width() > 80);
    CHECK(box.width() < 130);
    // the width follows the font's metrics: two "l" are narrower than two "W"
    const Font& f = *default_font();
    CHECK(f.text_width("ll", 20) < f.text_width("WW", 20));
    // rotated text is taller than wide
    Canvas rc(80, 200);
    const Rect r = rc.text("vertical", 40, 100, 20, colors::black(), HAlign::center, VAlign::center, 90);
    CHECK(r.height() > 2 * r.width());
    const Png q = save_and_decode(rc, "vtext");
    int ink_rows = 0;
    for (int y = 0; y < q.h; ++y) {
        bool any = false;
        for (int x = 0; x < q.w; ++x) any = any || q.gray(x, y) < 200;
        ink_rows += any;
    }
    CHECK(ink_rows > 50);
}

TEST_CASE("text: a font can be loaded from a .ttf path at run time; bad files are errors", "[viz][text]") {
    const std::string ttf = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    if (!std::ifstream(ttf).good()) {
        WARN("no DejaVuSans.ttf on this machine: skipping the run-time load");
        return;
    }
    auto f = Font::load(ttf);
    CHECK(f->text_width("abc", 10) > 10);
    const TextMask m = f->render("x", 30);
    float sum = 0;
    for (float c : m.coverage) sum += c;
    CHECK(sum > 20);
    // figures can be told to use it
    set_default_font(f);
    CHECK(default_font() == f);
    CHECK(default_font()->name() == ttf);
    set_default_font(nullptr);
    CHECK(default_font() != f);
    CHECK_THROWS_WITH(Font::load("/nonexistent.ttf"), Catch::Contains("/nonexistent.ttf"));
    const std::string junk = (fs::temp_directory_path() / "ann_test_viz_junk.ttf").string();
    std::ofstream(junk) << "this is not a font at all";
    CHECK_THROWS_WITH(Font::load(junk), Catch::Contains("not a TrueType font"));
    fs::remove(junk);
}

TEST_CASE("ticks: nice values, labels and multipliers", "[viz][ticks]") {
    CHECK(nice_ticks({0, 1}, 5) == std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1});
    const auto t = nice_ticks({-67.4, 1417.4}, 9);  // a 1350-step curve with margins
    CHECK(t.front() == 0);
    CHECK(t[1] == 200);
    CHECK(t.back() == 1400);
    CHECK(nice_ticks({0.95, 1.35}, 9).size() >= 4);
    const TickLabels l = format_ticks({-1, -0.5, 0, 0.5, 1});
    CHECK(l.labels[0] == "\xE2\x88\x92" "1.0");
    CHECK(l.labels[2] == "0.0");
    CHECK(l.multiplier.empty());
    CHECK(format_ticks({0, 2.5, 5}).labels[1] == "2.5");
    CHECK(format_ticks({0, 200, 400}).labels[2] == "400");
    const TickLabels small = format_ticks({0, 2e-6, 4e-6});
    CHECK(small.multiplier == "1e\xE2\x88\x92" "6");
    CHECK(small.labels[1] == "2");
    CHECK(with_margins({0, 10}).lo == Approx(-0.5));
    CHECK(nonsingular({3, 3}).hi > 3);
}

TEST_CASE("plot: curves land at their data coordinates, with tick marks on the axes", "[viz][plot]") {
    Figure fig(4, 3);
    Axes& ax = *fig.subplots(1, 1)[0];
    Style s;
    s.color = Color::hex("#ff0000");
    s.linewidth = 2;
    ax.plot({0, 10}, {5, 5}, s);
    ax.set_xlim(0, 10);
    ax.set_ylim(0, 10);
    ax.set_xlabel("x");
    ax.set_ylabel("y");
    ax.set_title("T");
    const Png p = save_and_decode(fig.render(), "plot");
    CHECK(p.w == 400);
    CHECK(p.h == 300);
    const Rect b = ax.box();
    CHECK(b.x0 == Approx(0.125 * 400));
    CHECK(b.y1 == Approx((1 - 0.11) * 300));
    const Point mid = ax.to_pixel(5, 5);
    CHECK(near(p.at(int(mid.x), int(mid.y)), {255, 0, 0}, 40));
    CHECK(p.gray(int(mid.x), int(mid.y) - 10) == 255);  // white above the line
    // 0, 2, ..., 10 (5 would need 10 intervals; 223 pt of axis allow 7): the tick at x = 4
    // hangs below the bottom spine, and there is none at x = 5
    CHECK(ax.xticks() == std::vector<double>{0, 2, 4, 6, 8, 10});
    const Point four = ax.to_pixel(4, 0);
    CHECK(std::min(p.gray(int(four.x) - 1, int(b.y1) + 3), p.gray(int(four.x), int(b.y1) + 3)) < 128);
    CHECK(p.gray(int(mid.x), int(b.y1) + 3) == 255);
    // frame: left spine is dark all the way down
    for (int y = int(b.y0) + 2; y < int(b.y1) - 2; y += 7) CHECK(p.gray(int(std::lround(b.x0)), y) < 160);
}

TEST_CASE("make_grid: cell positions, padding and normalisation", "[viz][grid]") {
    // three 2x2 images with values 0..3, 10..13, 20..23
    Tensor<double> b = Tensor<double>::from_shape({3, 1, 2, 2});
    for (std::size_t n = 0; n < 3; ++n)
        for (std::size_t i = 0; i < 4; ++i) b.data()[n * 4 + i] = 10.0 * n + i;
    GridOptions o;
    o.nrow = 2, o.padding = 1, o.pad_value = 0.5f;
    const RgbImage g = make_grid(b, o);
    CHECK(g.cols == 2 * 3 + 1);
    CHECK(g.rows == 2 * 3 + 1);
    // image n=1 sits in column 1 of row 0, starting at (1 + 3, 1)
    CHECK(g.at(4, 1)[0] == Approx(10.0 / 23));
    CHECK(g.at(5, 2)[0] == Approx(13.0 / 23));
    CHECK(g.at(1, 4)[0] == Approx(20.0 / 23));  // n=2: row 1, column 0
    CHECK(g.at(0, 0)[0] == 0.5f);               // padding
    CHECK(g.at(3, 1)[0] == 0.5f);
    CHECK(g.at(4, 4)[0] == 0.5f);  // the empty fourth cell keeps the pad value
    CHECK(g.at(1, 1)[0] == 0.0f);
    CHECK(g.at(1, 1)[1] == g.at(1, 1)[0]);  // gray: R = G = B
    o.normalize = Normalize::each;
    const RgbImage e = make_grid(b, o);
    CHECK(e.at(4, 1)[0] == Approx(0.0));
    CHECK(e.at(5, 2)[0] == Approx(1.0));
    o.normalize = Normalize::none;
    const RgbImage r = make_grid(b, o);
    CHECK(r.at(2, 1)[0] == 1.0f);  // raw 1 stays 1
    CHECK(r.at(4, 1)[0] == 1.0f);  // raw 10 clips to 1
    // colour: channel planes go to R, G, B
    Tensor<double> c = xt::zeros<double>({1, 3, 1, 1});
    c(0, 0, 0, 0) = 1, c(0, 2, 0, 0) = 0.5;
    o.normalize = Normalize::global, o.range = std::make_pair(0.0, 1.0), o.padding = 0;
    const RgbImage col = make_grid(c, o);
    CHECK(col.at(0, 0)[0] == 1.0f);
    CHECK(col.at(0, 0)[1] == 0.0f);
    CHECK(col.at(0, 0)[2] == 0.5f);
    CHECK_THROWS_WITH(make_grid(Tensor<double>(xt::zeros<double>({2, 2, 3, 3}))), Catch::Contains("(2, 2, 3, 3)"));
}

TEST_CASE("decision boundary: regions, contour and points on the right sides of a known function", "[viz][boundary]") {
    // output > 0.5 exactly where x1 > 0
    const Field f = [](const Tensor<double>& p) {
        std::vector<double> out(p.shape()[0]);
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = 1 / (1 + std::exp(-10 * p(i, 0)));
        return out;
    };
    Tensor<double> x = {{-1.0, -1.0}, {1.0, 1.0}, {-1.0, 1.0}, {1.0, -1.0}};
    const std::vector<int> y{0, 1, 0, 1};
    Figure fig(6.4, 4.8);
    Axes& ax = *fig.subplots(1, 1)[0];
    decision_boundary(ax, f, x, y);
    const Png p = save_and_decode(fig.render(), "boundary");
    const std::array<int, 3> below{248, 192, 192}, above{214, 236, 243};  // lightcoral / lightblue at alpha 0.5
    auto px = [&](double a, double b) {
        const Point q = ax.to_pixel(a, b);
        return p.at(int(q.x), int(q.y));
    };
    CHECK(near(px(-0.5, 0.0), below, 3));
    CHECK(near(px(-0.9, -0.3), below, 3));
    CHECK(near(px(0.5, 0.0), above, 3));
    CHECK(near(px(0.9, 0.6), above, 3));
    // the 0.5 contour is a black line at x1 = 0
    const Point c = ax.to_pixel(0.0, 0.3);
    int darkest = 255;
    for (int dx = -2; dx <= 2; ++dx) darkest = std::min(darkest, p.gray(int(c.x) + dx, int(c.y)));
    CHECK(darkest < 40);
    // class 0 points are RdYlBu's dark red, class 1 its dark blue
    CHECK(near(px(-1, -1), {165, 0, 38}, 10));
    CHECK(near(px(1, 1), {49, 54, 149}, 10));
    // tight limits: the data range plus 0.1
    CHECK(ax.xlim().lo == Approx(-1.1));
    CHECK(ax.ylim().hi == Approx(1.1).margin(0.011));
}

TEST_CASE("part 1/2 figures: boundary PNG and a conv-output grid that is not clipped to white", "[viz][homework]") {
    const fs::path d = fresh_dir("p12");
    const Field f = [](const Tensor<double>& p) {
        std::vector<double> out(p.shape()[0]);
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = p(i, 0) * p(i, 1) < 0 ? 1.0 : 0.0;
        return out;
    };
    Tensor<double> x = {{-1.0, -1.0}, {1.0, -1.0}, {-1.0, 1.0}, {1.0, 1.0}};
    part1_boundary((d / "b.png").string(), f, x, {0, 1, 1, 0});
    const Png b = decode((d / "b.png").string());
    CHECK(b.w == 640);
    CHECK(b.h == 480);

    // conv outputs in the hundreds, like the course's: raw they would all be white
    Tensor<double> out = Tensor<double>::from_shape({5, 8, 25, 25});
    for (std::size_t i = 0; i < out.size(); ++i) out.data()[i] = 300.0 * std::sin(0.01 * double(i));
    part2_grid((d / "g.png").string(), out);
    const Png g = decode((d / "g.png").string());
    CHECK(g.w == 800);
    CHECK(g.h == 800);
    // the grid is 8 * 27 + 2 = 218 px wide and 5 * 27 + 2 = 137 px tall, scaled to the axes width
    const double scale = 0.775 * 800 / 218.0;
    const int gx0 = int(0.125 * 800) + 2, gy0 = int(400 - 137 * scale / 2) + 2;
    int white = 0, mid = 0, n = 0;
    for (int y = gy0; y < gy0 + int(130 * scale); ++y)
        for (int x = gx0; x < gx0 + int(210 * scale); ++x) {
            const int v = g.gray(x, y);
            white += v >= 254, mid += v > 40 && v < 215, ++n;
        }
    CHECK(white < n / 10);
    CHECK(mid > n / 3);
    // padding between cells is black (pad value 0), e.g. the column between cell 0 and cell 1
    const int pad_x = int(0.125 * 800 + 27.5 * scale);
    CHECK(g.gray(pad_x, 400) < 10);
    fs::remove_all(d);
}

TEST_CASE("visualize_weights: a ceil(sqrt(n)) grid on one shared scale", "[viz][homework]") {
    const fs::path d = fresh_dir("w");
    // 5 filters (3, 3, 3): filter k constant at k - 2 -> vmin = -1, vmax = 1 after the 0.5 factor
    Tensor<double> w = Tensor<double>::from_shape({5, 3, 3, 3});
    for (std::size_t k = 0; k < 5; ++k)
        for (std::size_t i = 0; i < 27; ++i) w.data()[k * 27 + i] = double(k) - 2.0;
    visualize_weights((d / "w.png").string(), w);
    const Png p = decode((d / "w.png").string());
    CHECK(p.w == 960);
    CHECK(p.h == 720);
    // count cells by their gray level: k=0,1 -> black (clipped / at vmin), 2 -> mid gray, 3,4 -> white
    // 3x3 grid: the figure has cells at rows/cols 0..2; sample each cell centre
    SubplotParams sp;
    const double W = 960, H = 720, cw = (sp.right - sp.left) * W / (3 + 0.2 * 2), ch = (sp.top - sp.bottom) * H / (3 + 0.2 * 2);
    std::vector<int> levels;
    for (int k = 0; k < 9; ++k) {
        const int r = k / 3, c = k % 3;
        const double cx = sp.left * W + c * cw * 1.2 + cw / 2, cy = (1 - sp.top) * H + r * ch * 1.2 + ch / 2;
        levels.push_back(p.gray(int(cx), int(cy)));
    }
    CHECK(levels[0] == 0);
    CHECK(levels[1] == 0);
    CHECK(std::abs(levels[2] - 128) <= 2);
    CHECK(levels[3] == 255);
    CHECK(levels[4] == 255);
    for (int k = 5; k < 9; ++k) CHECK(levels[k] == 255);  // unused cells: blank
    CHECK_THROWS_WITH(visualize_weights((d / "x.png").string(), Tensor<double>(xt::zeros<double>({4, 7}))),
                      Catch::Contains("(4, 7)"));
    fs::remove_all(d);
}

namespace {

void write_json(const fs::path& p, const nlohmann::json& j) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << j.dump();
}

std::vector<double> ramp(std::size_t n, double a, double b) {
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = a + (b - a) * double(i) / double(n - 1);
    return v;
}

// Share of pixels in [x0, x1) x [y0, y1) within tol of colour c.
double share(const Png& p, int x0, int y0, int x1, int y1, std::array<int, 3> c, int tol = 30) {
    int hit = 0, n = 0;
    for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) hit += near(p.at(x, y), c, tol), ++n;
    return double(hit) / n;
}

}  // namespace

TEST_CASE("homework_figures: draws every figure whose JSON exists, from synthetic results", "[viz][homework]") {
    const fs::path d = fresh_dir("results");
    const char* names[] = {"cnn_3", "mlp_1"};  // written out of order: the figure sorts them
    for (const char* n : names) {
        nlohmann::json j;
        j["name"] = n;
        const bool mlp = std::string(n) == "mlp_1";
        j["loss_curve"] = ramp(100, 2.3, mlp ? 1.0 : 0.5);
        j["train_acc_curve"] = ramp(100, 10, mlp ? 40 : 60);
        j["val_acc_curve"] = ramp(100, 10, mlp ? 38 : 55);
        j["test_acc"] = mlp ? 37.5 : 54.0;
        j["record_every"] = 10;
        j["extra_key"] = "ignored";
        if (mlp)
            j["weights"] = std::vector<std::vector<double>>(32, ramp(3072, -0.1, 0.1));
        else
            j["weights"] = std::vector<std::vector<std::vector<std::vector<double>>>>(
                16, std::vector<std::vector<std::vector<double>>>(3, std::vector<std::vector<double>>(3, ramp(3, -1, 1))));
        write_json(d / "part3" / (std::string("part3_") + n + ".json"), j);
    }
    nlohmann::json p5;
    p5["name"] = "cnn_4";
    for (const char* s : {"1", "01", "001"}) {
        p5[std::string("loss_curve_") + s] = ramp(50, 2.3, 1.0);
        p5[std::string("val_acc_curve_") + s] = ramp(50, 10, 50);
    }
    write_json(d / "part5" / "part5_cnn_4.json", p5);
    nlohmann::json sc;
    sc["name"] = "cnn_4";
    sc["steps_per_epoch"] = 900;
    sc["runs"] = {{{"label", "0.1 -> 0.01 at epoch 7"}, {"val_acc_curve", ramp(2700, 10, 60)}}};
    sc["test_acc_scheduled"] = 60.5;
    sc["test_acc_adam"] = nullptr;
    write_json(d / "part5" / "part5_cnn_4_scheduled.json", sc);

    const auto written = write_homework_figures(d.string());
    const std::vector<std::string> want{(d / "part3/part3_plots.png").string(), (d / "part3/weights_mlp_1.png").string(),
                                        (d / "part3/weights_cnn_3.png").string(), (d / "part5/part5_plots.png").string(),
                                        (d / "part5/scheduled_lr.png").string()};
    CHECK(written == want);  // part 4 has no JSON: skipped
    CHECK_FALSE(fs::exists(d / "part4" / "part4_plots.png"));

    const Png p3 = decode((d / "part3/part3_plots.png").string());
    REQUIRE(p3.w == 1600);
    REQUIRE(p3.h == 1200);
    // mlp_1 (first in homework order) is blue #0000ff, cnn_3 red #ff0000: both in the loss panel
    // (top left: x 200..~740, y ~144..~560) and in the figure legend at the top
    CHECK(share(p3, 200, 150, 740, 540, {0, 0, 255}) > 0.002);
    CHECK(share(p3, 200, 150, 740, 540, {255, 0, 0}) > 0.002);
    CHECK(share(p3, 500, 0, 1100, 120, {0, 0, 255}) > 0.0005);
    CHECK(share(p3, 500, 0, 1100, 120, {255, 0, 0}) > 0.0005);
    CHECK(share(p3, 500, 0, 1100, 120, {0, 0, 0}, 60) > 0.003);  // legend text
    // nothing drawn in the right margin
    CHECK(share(p3, 1460, 200, 1600, 1100, {255, 255, 255}, 0) > 0.99);

    const Png w = decode((d / "part3/weights_mlp_1.png").string());
    CHECK(w.w == 960);
    const Png s = decode((d / "part5/scheduled_lr.png").string());
    CHECK(s.w == 1200);
    CHECK(share(s, 120, 100, 1140, 680, {0, 0, 255}) > 0.002);

    // a malformed file is an error naming it
    write_json(d / "part4" / "part4_mlp_1.json", nlohmann::json{{"name", "mlp_1"}, {"relu_loss_curve", "oops"}});
    CHECK_THROWS_WITH(write_homework_figures(d.string()), Catch::Contains("part4_mlp_1.json") && Catch::Contains("relu_loss_curve"));
    std::ofstream(d / "part4" / "part4_mlp_1.json") << "{ not json";
    CHECK_THROWS_WITH(write_homework_figures(d.string()), Catch::Contains("part4_mlp_1.json") && Catch::Contains("not valid JSON"));
    fs::remove_all(d);
}

TEST_CASE("homework_figures: part 4 with two architectures; an empty folder writes nothing", "[viz][homework]") {
    const fs::path d = fresh_dir("results4");
    CHECK(write_homework_figures(d.string()).empty());
    CHECK(write_homework_figures((d / "missing").string()).empty());
    for (const char* n : {"mlp_1", "cnn_5"}) {
        nlohmann::json j;
        j["name"] = n;
        j["relu_loss_curve"] = ramp(80, 2.3, std::string(n) == "mlp_1" ? 0.8 : 1.5);
        j["sigmoid_loss_curve"] = ramp(80, 2.3, 2.2);
        j["relu_grad_curve"] = ramp(80, 0.5, 0.1);
        j["sigmoid_grad_curve"] = ramp(80, 1e-3, 1e-4);
        write_json(d / "part4" / (std::string("part4_") + n + ".json"), j);
    }
    const auto written = write_homework_figures(d.string());
    REQUIRE(written.size() == 1);
    const Png p = decode(written[0]);
    CHECK(p.w == 1600);
    CHECK(share(p, 200, 150, 780, 1050, {0, 0, 255}) > 0.002);  // mlp_1
    CHECK(share(p, 200, 150, 780, 1050, {255, 0, 0}) > 0.002);  // cnn_5, second colour
    fs::remove_all(d);
}

TEST_CASE("svg: the same figure as vector elements, text escaped, rasters embedded", "[viz][svg]") {
    const fs::path d = fresh_dir("svg");
    Figure fig(4, 3);
    Axes& ax = *fig.subplots(1, 1)[0];
    Style s;
    s.color = Color::hex("#ff0000");
    s.linestyle = LineStyle::dashed;
    ax.plot({0, 10}, {5, 5}, s, "a");
    ax.set_xlim(0, 10);
    ax.set_ylim(0, 10);
    ax.set_title("training of <cnn_4> & co");
    ax.legend({{"a", s}});
    fig.save((d / "f.svg").string());
    std::ifstream in(d / "f.svg");
    const std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
    CHECK(svg.find("width=\"400\" height=\"300\"") != std::string::npos);
    CHECK(svg.size() - svg.rfind("</svg>") == 7);
    auto count = [&](const std::string& needle) {
        std::size_t n = 0;
        for (std::size_t at = svg.find(needle); at != std::string::npos; at = svg.find(needle, at + 1)) ++n;
        return n;
    };
    CHECK(count("<g ") == count("</g>"));
    CHECK(svg.find("training of &lt;cnn_4&gt; &amp; co") != std::string::npos);
    // the red dashed curve from (0, 5) to (10, 5) in pixels
    const Point a = ax.to_pixel(0, 5), b = ax.to_pixel(10, 5);
    char pts[96];
    std::snprintf(pts, sizeof pts, "points=\"%g,%g %g,%g \"", a.x, a.y, b.x, b.y);
    CHECK(svg.find(pts) != std::string::npos);
    CHECK(count("stroke=\"#ff0000\"") == 2);  // curve and legend handle
    CHECK(count("stroke-dasharray") == 2);
    CHECK(count("<text ") >= 10);             // ticks, title, legend

    // the decision boundary's regions are an embedded PNG
    Tensor<double> x = {{-1.0, -1.0}, {1.0, 1.0}};
    part1_boundary((d / "b.svg").string(), [](const Tensor<double>& p) { return std::vector<double>(p.shape()[0], 0.7); }, x, {0, 1});
    std::ifstream bin(d / "b.svg");
    const std::string b_svg((std::istreambuf_iterator<char>(bin)), std::istreambuf_iterator<char>());
    CHECK(b_svg.find("xlink:href=\"data:image/png;base64,iVBORw0KGgo") != std::string::npos);
    CHECK(b_svg.find("<circle") != std::string::npos);
    fs::remove_all(d);
}
