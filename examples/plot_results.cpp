// Draws every homework figure of parts 3-5 from the JSON results the training programs wrote:
//   plot_results --results results
// (see ann/viz/homework.hpp for which files are read and written).
#include <cstdio>

#include <CLI/CLI.hpp>

#include "ann/viz/homework.hpp"

int main(int argc, char** argv) {
    CLI::App app{"Draws the homework figures of parts 3-5 from results/part{3,4,5}/*.json"};
    std::string dir = "results";
    app.add_option("--results", dir, "results folder holding part3/, part4/, part5/")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    try {
        const auto written = ann::viz::write_homework_figures(dir);
        for (const auto& p : written) std::printf("wrote %s\n", p.c_str());
        if (written.empty()) std::printf("no part3/part4/part5 result files under %s\n", dir.c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "plot_results: %s\n", e.what());
        return 2;
    }
    return 0;
}
