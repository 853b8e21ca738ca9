#pragma once
// Homework part 1 as a function, shared by the part1_xor program and the homework driver:
// the activation functions and their derivatives (1.1), and the hand-written MLP of
// part1_xor_mlp.hpp trained on XOR with each hidden activation (1.2), one decision-boundary
// figure per activation.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "ann/viz/homework.hpp"
#include "cli.hpp"
#include "part1_xor_mlp.hpp"

namespace part1 {

struct Options {
    std::string out = "results/part1";
    std::uint64_t seed = 0;
    int epochs = 10000;
    double lr = 0.001;
    std::size_t hidden = 4;
    std::vector<std::string> activations{"sigmoid", "tanh", "relu"};
};

namespace detail {

// 1.1: one panel per function, the function and its derivative over [-5, 5].
void activation_figure(const std::string& path) {
    using namespace ann::viz;
    Figure fig(15, 4.8);
    auto ax = fig.subplots(1, 3, SubplotParams{0.06, 0.98, 0.13, 0.88, 0.25, 0.2});
    std::vector<double> x;
    for (int i = 0; i <= 1000; ++i) x.push_back(-5 + i * 0.01);
    struct Fn { const char* title; const char* y; const char* dy; double (*f)(double); double (*df)(double); };
    const Fn fns[3] = {
        {"Tanh", "y = tanh(x)", "\xE2\x88\x82y/\xE2\x88\x82x = 1 \xE2\x88\x92 tanh\xC2\xB2(x)",
         [](double v) { return std::tanh(v); }, [](double v) { return 1 - std::tanh(v) * std::tanh(v); }},
        {"Sigmoid", "y = \xCF\x83(x) = 1 / (1 + e\xE2\x81\xBB\xCB\xA3)", "\xE2\x88\x82y/\xE2\x88\x82x = \xCF\x83(x)(1 \xE2\x88\x92 \xCF\x83(x))",
         [](double v) { return 1 / (1 + std::exp(-v)); },
         [](double v) { const double s = 1 / (1 + std::exp(-v)); return s * (1 - s); }},
        {"ReLU", "y = max(0, x)", "\xE2\x88\x82y/\xE2\x88\x82x = 1 if x > 0 else 0",
         [](double v) { return v > 0 ? v : 0.0; }, [](double v) { return v > 0 ? 1.0 : 0.0; }},
    };
    for (int k = 0; k < 3; ++k) {
        std::vector<double> y, dy;
        for (double v : x) y.push_back(fns[k].f(v)), dy.push_back(fns[k].df(v));
        Style s;
        s.color = colors::tab(0);
        s.linewidth = 2;
        ax[k]->plot(x, y, s, fns[k].y);
        Style d = s;
        d.color = colors::tab(1);
        d.linestyle = LineStyle::dashed;
        ax[k]->plot(x, dy, d, fns[k].dy);
        ax[k]->set_title(fns[k].title, TitleLoc::center, 14);
        ax[k]->set_xlabel("x", 12);
        ax[k]->legend({{fns[k].y, s}, {fns[k].dy, d}}, k == 0 ? Loc::lower_right : Loc::upper_left, 10);
    }
    fig.save_png(path);
}

}  // namespace detail


// Returns the validation accuracy (percent) per activation.
inline std::map<std::string, double> run(const Options& o) {
    const std::string& out = o.out;
    const std::uint64_t seed = o.seed;
    const int epochs = o.epochs;
    const double lr = o.lr;
    const std::size_t hidden = o.hidden;
    const auto& acts = o.activations;
    std::map<std::string, double> accuracies;
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec) ann::fail(out, ": cannot create the output folder (", ec.message(), ")");
    cli::remove_stale(out);
    detail::activation_figure(out + "/activations.png");
    std::printf("wrote %s/activations.png\n", out.c_str());

    ann::Rng data_rng(seed);
    const part1::XorData d = part1::part1_create_dataset(data_rng, 1000, 100, 0.4);
    for (const auto& name : acts) {
        const part1::Act act = part1::parse_act(name);
        // each activation gets its own initial weights, independent of the order they run in
        ann::Rng rng(seed * 0x9E3779B97F4A7C15ull + 1 + static_cast<std::uint64_t>(act));
        part1::MLP nn(2, hidden, 1, act, rng);
        std::printf("training with %s hidden units\n", name.c_str());
        for (int epoch = 0; epoch < epochs; ++epoch) {
            const part1::Matrix output = nn.forward(d.x_train);
            // A NaN or Inf loss is a failed run, not a number to print and go on with. (Checked
            // where it is printed and at the last epoch: a NaN, once there, stays.)
            if (epoch % 1000 == 0 || epoch + 1 == epochs) {
                const double loss = part1::mse(output, d.y_train);
                if (!std::isfinite(loss))
                    ann::fail("training with ", name, " diverged by epoch ", epoch, " (loss ", loss,
                              "); try a smaller --lr");
                if (epoch % 1000 == 0) std::printf("Epoch %d: Loss = %.6f\n", epoch, loss);
            }
            nn.backward(d.x_train, d.y_train, lr);
        }
        const double acc = part1::accuracy(nn.forward(d.x_val), d.y_val);
        std::printf("%s: %.1f %% of validation examples classified correctly.\n", name.c_str(), acc);
        accuracies[name] = acc;

        ann::Tensor<double> xv = d.x_val;
        std::vector<int> yv;
        for (std::size_t i = 0; i < d.y_val.shape()[0]; ++i) yv.push_back(static_cast<int>(d.y_val(i, 0)));
        const std::string png = out + "/decision_boundary_" + name + ".png";
        ann::viz::part1_boundary(png, [&nn](const ann::Tensor<double>& pts) {
            const part1::Matrix p = pts;
            const part1::Matrix y = nn.forward(p);
            return std::vector<double>(y.begin(), y.end());
        }, xv, yv, "Decision Boundary (" + name + ")");
        std::printf("wrote %s\n", png.c_str());
    }
    return accuracies;
}

}  // namespace part1
