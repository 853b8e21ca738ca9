// Homework part 1 (see part1.hpp): activation plots and the hand-written XOR MLP.
//   part1_xor [--out results/part1] [--seed 0] [--epochs 10000] [--lr 0.001] [--hidden 4]
#include <cstdio>

#include "ann/io/signals.hpp"
#include "cli.hpp"
#include "part1.hpp"

int main(int argc, char** argv) {
    CLI::App app{"EE449 HW1 part 1: activation functions, and an MLP written with xtensor trained on XOR"};
    part1::Options o;
    app.add_option("--out", o.out, "folder for activations.png and decision_boundary_<activation>.png")->capture_default_str();
    app.add_option("--seed", o.seed, "seed of the data set and the initial weights")
        ->check(cli::whole(0, UINT64_MAX))->capture_default_str();
    app.add_option("--epochs", o.epochs, "full-batch training epochs")->check(cli::whole(1, 10000000))->capture_default_str();
    app.add_option("--lr", o.lr, "learning rate")->check(cli::number(1e-12, 1e6))->capture_default_str();
    app.add_option("--hidden", o.hidden, "hidden units")->check(cli::whole(1, 4096))->capture_default_str();
    app.add_option("--activation", o.activations, "hidden activations to train (sigmoid, tanh, relu)")
        ->check(CLI::IsMember({"sigmoid", "tanh", "relu"}))->capture_default_str();
    if (const int rc = cli::parse(app, argc, argv, "part1_xor"); rc >= 0) return rc;
    ann::io::on_signal_remove_temporaries();
    return cli::run("part1_xor", [&] { part1::run(o); });
}
