#pragma once
// The homework's figures, with the content and layout of the course's utils.py helpers
// (part1PlotBoundary, part2Plots, part3Plots, visualizeWeights, part4Plots, part5Plots), drawn
// by ann::viz and written as PNG (or SVG, for paths ending in ".svg"). homework_figures(dir) draws all of parts 3-5 from the JSON
// files the training programs leave in dir (layout: see results.hpp and docs).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "ann/viz/decision_boundary.hpp"
#include "ann/viz/image_grid.hpp"
#include "ann/viz/plot.hpp"
#include "ann/viz/results.hpp"

namespace ann::viz {

namespace detail {
constexpr double kFont = 18, kTickFont = 12, kSmallLegend = 12;  // the course's font sizes

inline Style curve_style(int k, LineStyle ls = LineStyle::solid) {
    Style s;
    s.color = colors::course(k);
    s.linewidth = 2;
    s.linestyle = ls;
    return s;
}
inline Style black_style(LineStyle ls) {
    Style s = curve_style(5, ls);
    return s;
}
inline void decorate(Axes& ax, const std::string& title, TitleLoc loc, const std::string& xl, const std::string& yl) {
    ax.set_title(title, loc, kFont);
    ax.set_xlabel(xl, kFont);
    ax.set_ylabel(yl, kFont);
    ax.set_tick_labelsize(kTickFont);
}
}  // namespace detail

// ---- part 1 --------------------------------------------------------------------------------
// part1PlotBoundary: x (N, 2) points, y their 0/1 labels, f the network's output for (M, 2) inputs.
inline void part1_boundary(const std::string& path, const Field& f, const Tensor<double>& x, const std::vector<int>& y,
                           const std::string& title = "Decision Boundary") {
    Figure fig(6.4, 4.8);
    Axes& ax = *fig.subplots(1, 1)[0];
    decision_boundary(ax, f, x, y);
    ax.set_xlabel("x1");
    ax.set_ylabel("x2");
    ax.set_title(title);
    fig.save(path);
}

// ---- part 2 --------------------------------------------------------------------------------
// part2Plots: conv outputs (B, C_out, H, W) as a grid of B*C_out single-channel images, 8 per
// row (so for C_out = 8: one row per input image, one column per kernel), at most nmax images.
// Unlike the course's helper (which hands raw values to imshow, so nearly all clip to white),
// values are normalised to [0, 1] over the whole batch.
inline void part2_grid(const std::string& path, const Tensor<double>& out, std::size_t nmax = 64,
                       Normalize norm = Normalize::global) {
    if (out.dimension() != 4) fail("part2_grid: expected conv outputs (B, C_out, H, W), got ", shape_str(out.shape()));
    const std::size_t H = out.shape()[2], W = out.shape()[3];
    const std::size_t n = std::min(nmax, out.shape()[0] * out.shape()[1]);
    if (n == 0) fail("part2_grid: no images in ", shape_str(out.shape()));
    Tensor<double> imgs = Tensor<double>::from_shape({n, 1, H, W});
    std::copy(out.data(), out.data() + n * H * W, imgs.data());
    GridOptions o;
    o.nrow = 8;
    o.normalize = norm;
    const RgbImage g = make_grid(imgs, o);
    Figure fig(8, 8);
    fig.subplots(1, 1)[0]->imshow(g.rgb, g.cols, g.rows);
    fig.save(path);
}

// ---- part 3 --------------------------------------------------------------------------------
inline void part3_plots(const std::string& path, const std::vector<Part3Result>& results) {
    using namespace detail;
    if (results.empty()) fail("part3_plots: no results to plot");
    Figure fig(16, 12);
    // hspace 0.3 rather than 0.2: at font size 18 the top row's x labels would touch the bottom titles
    auto ax = fig.subplots(2, 2, SubplotParams{0.125, 0.9, 0.11, 0.88, 0.2, 0.3});
    std::vector<LegendEntry> names;
    for (std::size_t k = 0; k < results.size(); ++k) {
        const auto& r = results[k];
        const int c = static_cast<int>(k);
        ax[0]->plot(r.loss_curve, curve_style(c), r.name);
        ax[1]->plot(r.train_acc_curve, curve_style(c), r.name);
        ax[1]->plot(r.val_acc_curve, curve_style(c, LineStyle::dashed), r.name);
        Style dot = curve_style(c);
        dot.line = false, dot.marker = Marker::circle, dot.markersize = 9;
        const double train_final = r.train_acc_curve.empty() ? std::nan("") : r.train_acc_curve.back();
        ax[2]->plot({train_final}, {r.test_acc}, dot, r.name);
        const std::size_t m = std::min(r.train_acc_curve.size(), r.val_acc_curve.size());
        ax[3]->plot(Curve(r.train_acc_curve.begin(), r.train_acc_curve.begin() + m),
                    Curve(r.val_acc_curve.begin(), r.val_acc_curve.begin() + m), curve_style(c), r.name);
        names.push_back({r.name, curve_style(c)});
    }
    decorate(*ax[0], "training_loss", TitleLoc::left, "step", "loss");
    decorate(*ax[1], "train_and_val_accuracies", TitleLoc::right, "step", "acc.");
    ax[1]->legend({{"train.", black_style(LineStyle::solid)}, {"val.", black_style(LineStyle::dashed)}}, Loc::best,
                  kSmallLegend);
    decorate(*ax[2], "test_vs_training_accuracy", TitleLoc::left, "training", "test");
    decorate(*ax[3], "validation_vs_training_accuracy", TitleLoc::right, "training", "validation");
    fig.legend(names, Loc::upper_center, 3, kFont);
    fig.save(path);
}

// visualizeWeights: the first layer's weights as a ceil(sqrt(n)) x ceil(sqrt(n)) grid of small
// images on one shared scale (vmin = 0.5 min, vmax = 0.5 max over all weights, clipped):
//   (n, 3072) - an MLP's units, each shown as the 32x32 RGB image its weights multiply;
//   (n, 1024) - 32x32 gray images;
//   (O, C, kh, kw) - conv filters, kh x kw, RGB for C = 3, gray for C = 1, else channel 0.
inline void visualize_weights(const std::string& path, const Tensor<double>& w) {
    std::size_t n = 0, h = 0, wd = 0, ch = 0;
    if (w.dimension() == 2 && (w.shape()[1] == 3072 || w.shape()[1] == 1024)) {
        n = w.shape()[0], h = 32, wd = 32, ch = w.shape()[1] / 1024;
    } else if (w.dimension() == 4) {
        n = w.shape()[0], ch = w.shape()[1], h = w.shape()[2], wd = w.shape()[3];
    } else {
        fail("visualize_weights: expected (units, 3072), (units, 1024) or (O, C, kh, kw) weights, got ",
             shape_str(w.shape()));
    }
    if (n == 0 || ch == 0 || h == 0 || wd == 0) fail("visualize_weights: empty weights ", shape_str(w.shape()));
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (double v : w)
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    const double vmin = 0.5 * lo, vmax = 0.5 * hi, span = std::max(vmax - vmin, 1e-12);
    const std::size_t dim = static_cast<std::size_t>(std::ceil(std::sqrt(static_cast<double>(n))));
    Figure fig(6.4, 4.8, 150);
    auto axes = fig.subplots(static_cast<int>(dim), static_cast<int>(dim));
    const std::size_t plane = h * wd, per = ch * plane;
    for (std::size_t k = 0; k < n; ++k) {
        std::vector<float> rgb(plane * 3);
        for (std::size_t p = 0; p < plane; ++p)
            for (std::size_t c = 0; c < 3; ++c) {
                const std::size_t src = k * per + (ch == 3 ? c : 0) * plane + p;
                rgb[p * 3 + c] = static_cast<float>(std::clamp((w.data()[src] - vmin) / span, 0.0, 1.0));
            }
        axes[k]->imshow(std::move(rgb), static_cast<int>(wd), static_cast<int>(h));
    }
    for (std::size_t k = n; k < axes.size(); ++k) axes[k]->set_visible(false);
    fig.save(path);
}

// ---- part 4 --------------------------------------------------------------------------------
inline void part4_plots(const std::string& path, const std::vector<Part4Result>& results) {
    using namespace detail;
    if (results.empty()) fail("part4_plots: no results to plot");
    Figure fig(16, 12);
    auto ax = fig.subplots(1, 2);
    std::vector<LegendEntry> names;
    for (std::size_t k = 0; k < results.size(); ++k) {
        const auto& r = results[k];
        const int c = static_cast<int>(k);
        ax[0]->plot(r.relu_loss_curve, curve_style(c), r.name);
        ax[0]->plot(r.sigmoid_loss_curve, curve_style(c, LineStyle::dashed), r.name);
        ax[1]->plot(r.relu_grad_curve, curve_style(c), r.name);
        ax[1]->plot(r.sigmoid_grad_curve, curve_style(c, LineStyle::dashed), r.name);
        names.push_back({r.name, curve_style(c)});
    }
    const std::vector<LegendEntry> acts{{"ReLU", black_style(LineStyle::solid)}, {"Sigmoid", black_style(LineStyle::dashed)}};
    decorate(*ax[0], "training_losses", TitleLoc::left, "step", "loss");
    ax[0]->legend(acts, Loc::upper_left, kSmallLegend);
    decorate(*ax[1], "gradient_magnitudes", TitleLoc::right, "step", "|grad_loss|");
    ax[1]->legend(acts, Loc::upper_right, kSmallLegend);
    fig.legend(names, Loc::upper_center, 3, kFont);
    fig.save(path);
}

// ---- part 5 --------------------------------------------------------------------------------
inline void part5_plots(const std::string& path, const Part5Result& r) {
    using namespace detail;
    Figure fig(16, 12);
    auto ax = fig.subplots(1, 2);
    fig.suptitle("training of <" + r.name + "> with different learning rates", 0.025, kFont);
    const Curve* loss[3] = {&r.loss_curve_1, &r.loss_curve_01, &r.loss_curve_001};
    const Curve* acc[3] = {&r.val_acc_curve_1, &r.val_acc_curve_01, &r.val_acc_curve_001};
    const char* labels[3] = {"lr=0.1", "lr=0.01", "lr=0.001"};
    std::vector<LegendEntry> entries;
    for (int k = 0; k < 3; ++k) {
        ax[0]->plot(*loss[k], curve_style(k), labels[k]);
        ax[1]->plot(*acc[k], curve_style(k), labels[k]);
        entries.push_back({labels[k], curve_style(k)});
    }
    decorate(*ax[0], "training_losses", TitleLoc::left, "step", "loss");
    decorate(*ax[1], "validation_accuracies", TitleLoc::right, "step", "accuracy");
    fig.legend(entries, Loc::upper_center, 3, kFont);
    fig.save(path);
}

// Validation accuracy of the scheduled-learning-rate runs against the epoch (step * record_every
// / steps_per_epoch), one curve per run, with the test accuracies in the title when known.
inline void scheduled_lr_plot(const std::string& path, const ScheduledResult& r) {
    using namespace detail;
    if (r.runs.empty()) fail("scheduled_lr_plot: ", r.name, " has no runs");
    Figure fig(12, 8);
    Axes& ax = *fig.subplots(1, 1, SubplotParams{0.1, 0.95, 0.15, 0.88, 0.2, 0.2})[0];
    std::vector<LegendEntry> entries;
    for (std::size_t k = 0; k < r.runs.size(); ++k) {
        const auto& c = r.runs[k].val_acc_curve;
        Curve x(c.size());
        for (std::size_t i = 0; i < c.size(); ++i) x[i] = static_cast<double>(i + 1) * r.record_every / r.steps_per_epoch;
        ax.plot(x, c, curve_style(static_cast<int>(k)), r.runs[k].label);
        entries.push_back({r.runs[k].label, curve_style(static_cast<int>(k))});
    }
    std::string title = "validation accuracy of <" + r.name + "> with scheduled learning rate";
    char buf[128];
    if (r.test_acc_scheduled) {
        std::snprintf(buf, sizeof buf, "test accuracy: scheduled SGD %.2f%%", *r.test_acc_scheduled);
        std::string sub = buf;
        if (r.test_acc_adam) {
            std::snprintf(buf, sizeof buf, ", Adam (part 3) %.2f%%", *r.test_acc_adam);
            sub += buf;
        }
        fig.suptitle(sub, 0.025, kTickFont + 2);
    }
    decorate(ax, title, TitleLoc::center, "epoch", "validation accuracy (%)");
    ax.legend(entries, Loc::lower_right, kSmallLegend + 2);
    fig.save(path);
}

// ---- all of parts 3-5 ----------------------------------------------------------------------
namespace detail {
// part3_<name>.json files in dir, ordered as the homework lists the architectures.
inline std::vector<std::string> result_files(const std::filesystem::path& dir, const std::string& prefix,
                                             bool scheduled) {
    std::vector<std::string> out;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) return out;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        const std::string f = e.path().filename().string();
        if (!e.is_regular_file() || f.rfind(prefix, 0) != 0 || f.size() < 5 || f.substr(f.size() - 5) != ".json") continue;
        const bool is_sched = f.size() > 15 && f.substr(f.size() - 15) == "_scheduled.json";
        if (is_sched == scheduled) out.push_back(e.path().string());
    }
    auto rank = [](const std::string& p) {
        static const char* order[] = {"mlp_1", "mlp_2", "cnn_3", "cnn_4", "cnn_5"};
        const std::string f = std::filesystem::path(p).filename().string();
        for (int i = 0; i < 5; ++i)
            if (f.find(std::string("_") + order[i] + "_") != std::string::npos ||
                f.find(std::string("_") + order[i] + ".") != std::string::npos)
                return i;
        return 5;
    };
    std::sort(out.begin(), out.end(), [&](const std::string& a, const std::string& b) {
        return rank(a) != rank(b) ? rank(a) < rank(b) : a < b;
    });
    return out;
}
}  // namespace detail

// Reads whichever of results_dir/part3/part3_*.json, part4/part4_*.json, part5/part5_*.json and
// part5/part5_*_scheduled.json exist and writes part3/part3_plots.png, part3/weights_<name>.png,
// part4/part4_plots.png, part5/part5_plots.png (from the first part-5 file in homework order) and
// part5/scheduled_lr.png. Returns the paths written.
inline std::vector<std::string> write_homework_figures(const std::string& results_dir) {
    namespace fs = std::filesystem;
    const fs::path root(results_dir);
    std::vector<std::string> written;
    if (auto files = detail::result_files(root / "part3", "part3_", false); !files.empty()) {
        std::vector<Part3Result> rs;
        for (const auto& f : files) rs.push_back(read_part3(f));
        const std::string p = (root / "part3" / "part3_plots.png").string();
        part3_plots(p, rs);
        written.push_back(p);
        for (std::size_t i = 0; i < rs.size(); ++i) {
            if (rs[i].weights.size() == 0) continue;
            // Named after the result file (part3_<arch>.json), never after text inside it.
            const std::string stem = fs::path(files[i]).stem().string();
            const std::string w = (root / "part3" / ("weights_" + stem.substr(6) + ".png")).string();
            visualize_weights(w, rs[i].weights);
            written.push_back(w);
        }
    }
    if (auto files = detail::result_files(root / "part4", "part4_", false); !files.empty()) {
        std::vector<Part4Result> rs;
        for (const auto& f : files) rs.push_back(read_part4(f));
        const std::string p = (root / "part4" / "part4_plots.png").string();
        part4_plots(p, rs);
        written.push_back(p);
    }
    if (auto files = detail::result_files(root / "part5", "part5_", false); !files.empty()) {
        const std::string p = (root / "part5" / "part5_plots.png").string();
        part5_plots(p, read_part5(files.front()));
        written.push_back(p);
    }
    if (auto files = detail::result_files(root / "part5", "part5_", true); !files.empty()) {
        const std::string p = (root / "part5" / "scheduled_lr.png").string();
        scheduled_lr_plot(p, read_scheduled(files.front()));
        written.push_back(p);
    }
    return written;
}

inline void homework_figures(const std::string& results_dir) { write_homework_figures(results_dir); }

}  // namespace ann::viz
