// Homework part 1 (see part1.hpp): activation plots and the hand-written XOR MLP.
//   part1_xor [--out results/part1] [--seed 0] [--epochs 10000] [--lr 0.001] [--hidden 4]
#include <cstdio>

#include <CLI/CLI.hpp>

#include "part1.hpp"

int main(int argc, char** argv) {
    CLI::App app{"EE449 HW1 part 1: activation functions, and an MLP written with xtensor trained on XOR"};
    part1::Options o;
    app.add_option("--out", o.out, "folder for activations.png and decision_boundary_<activation>.png")->capture_default_str();
    app.add_option("--seed", o.seed, "seed of the data set and the initial weights")->capture_default_str();
    app.add_option("--epochs", o.epochs, "full-batch training epochs")->capture_default_str()->check(CLI::Range(1, 10000000));
    app.add_option("--lr", o.lr, "learning rate")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--hidden", o.hidden, "hidden units")->capture_default_str()->check(CLI::Range(1, 4096));
    app.add_option("--activation", o.activations, "hidden activations to train (sigmoid, tanh, relu)")->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);
        std::fprintf(stderr, "part1_xor: %s (see --help)\n", e.what());
        return 2;
    }
    try {
        part1::run(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "part1_xor: %s\n", e.what());
        return 2;
    }
    return 0;
}
