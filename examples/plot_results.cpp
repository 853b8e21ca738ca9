// Draws every homework figure of parts 3-5 from the JSON results the training programs wrote:
//   plot_results --results results
// (see ann/viz/homework.hpp for which files are read and written). A missing results folder, or
// one without any result file, is an error (exit code 2), as is bad usage.
#include <cstdio>
#include <filesystem>

#include "ann/io/signals.hpp"
#include "ann/viz/homework.hpp"
#include "cli.hpp"

int main(int argc, char** argv) {
    CLI::App app{"Draws the homework figures of parts 3-5 from results/part{3,4,5}/*.json"};
    std::string dir = "results";
    app.add_option("--results", dir, "results folder holding part3/, part4/, part5/")->capture_default_str();
    if (const int rc = cli::parse(app, argc, argv, "plot_results"); rc >= 0) return rc;
    ann::io::on_signal_remove_temporaries();
    return cli::run("plot_results", [&] {
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec))
            ann::fail("--results ", dir, ": no such folder (expected the results folder of a homework run)");
        for (const char* sub : {"part3", "part4", "part5"})
            cli::remove_stale(dir + "/" + sub);
        const auto written = ann::viz::write_homework_figures(dir);
        if (written.empty())
            ann::fail("--results ", dir, ": no part3/part4/part5 result files (part3/part3_<arch>.json, ...) to draw");
        for (const auto& p : written) std::printf("wrote %s\n", p.c_str());
    });
}
