// Homework part 2 (see part2.hpp): my_conv2d on the course's MNIST samples.
//   part2_conv [--data DIR] [--digit X | --input FILE] [--kernel FILE] [--out results/part2]
// DIR defaults to $ANN_SHARED_DATA/hw1, else ../shared/data/hw1 next to the repository.
#include <cstdio>

#include "ann/backend/cpu/backend.hpp"  // the CPU arithmetic, compiled into this program (backend/registry.hpp)
#include "ann/io/signals.hpp"
#include "cli.hpp"
#include "part2.hpp"

int main(int argc, char** argv) {
    CLI::App app{"EE449 HW1 part 2: a convolution layer's forward pass written with xtensor"};
    part2::Options o;
    app.add_option("--data", o.data_dir, "folder with samples_X.npy and kernel.npy (default: $ANN_SHARED_DATA/hw1 or ../shared/data/hw1)")
        ->capture_default_str();
    app.add_option("--digit", o.digit, "X in samples_X.npy: the last digit of the student number")
        ->check(cli::whole(0, 9))->capture_default_str();
    app.add_option("--input", o.input, "input .npy (uint8, (batch, in_ch, H, W)); overrides --digit");
    app.add_option("--kernel", o.kernel, "kernel .npy (float64, (out_ch, in_ch, kh, kw)); default DIR/kernel.npy");
    app.add_option("--out", o.out, "folder for out.npy and part2_grid.png")->capture_default_str();
    if (const int rc = cli::parse(app, argc, argv, "part2_conv"); rc >= 0) return rc;
    ann::io::on_signal_remove_temporaries();
    return cli::run("part2_conv", [&] { part2::run(o); });
}
