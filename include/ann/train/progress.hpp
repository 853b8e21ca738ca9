#pragma once
// Progress of long runs. On a terminal: one line redrawn in place (at most 4 times a
// second). Otherwise (a log file, CI): a plain line every `interval` seconds and one when a
// run ends, so logs stay readable.
#include <chrono>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace ann::train {

struct ProgressInfo {
    std::string run;             // e.g. "part3 cnn_4"
    std::size_t epoch = 0;       // 1-based, the epoch in progress
    std::size_t epochs = 0;
    std::size_t step = 0;        // steps done in this run
    std::size_t steps = 0;       // steps the run will take
    double loss = 0;             // last recorded training loss
    double acc = -1;             // last validation accuracy (percent), < 0 if not measured
    double images_per_s = 0;     // training images per second, evaluation time included
    double seconds_left = 0;
    double elapsed = 0;          // seconds this run has taken so far
};

class Progress {
public:
    explicit Progress(std::FILE* out = stderr, double interval_s = 30.0)
        : out_(out), tty_(::isatty(::fileno(out)) == 1), interval_(interval_s) {}

    bool is_tty() const { return tty_; }
    void set_quiet(bool q) { quiet_ = q; }

    void update(const ProgressInfo& p) {
        if (quiet_) return;
        const double now = seconds();
        if (now - last_ < (tty_ ? 0.25 : interval_)) return;
        last_ = now;
        print(p, false);
    }
    // The last line of a run: always printed.
    void done(const ProgressInfo& p) {
        if (quiet_) return;
        print(p, true);
        last_ = seconds();
    }

    static std::string format_time(double s) {
        char buf[32];
        const long t = static_cast<long>(s + 0.5);
        if (t >= 3600)
            std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
        else
            std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
        return buf;
    }

private:
    double seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }
    void print(const ProgressInfo& p, bool final) {
        char acc[32] = "";
        if (p.acc >= 0) std::snprintf(acc, sizeof acc, "  val %5.2f%%", p.acc);
        char line[256];
        std::snprintf(line, sizeof line, "%s  epoch %zu/%zu  step %zu/%zu  loss %.4f%s  %.0f img/s  %s %s", p.run.c_str(),
                      p.epoch, p.epochs, p.step, p.steps, p.loss, acc, p.images_per_s, final ? "took" : "left",
                      format_time(final ? p.elapsed : p.seconds_left).c_str());
        if (tty_)
            std::fprintf(out_, "\r\033[K%s%s", line, final ? "\n" : "");
        else
            std::fprintf(out_, "%s\n", line);
        std::fflush(out_);
    }

    std::FILE* out_;
    bool tty_;
    double interval_;
    bool quiet_ = false;
    double last_ = -1e9;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace ann::train
