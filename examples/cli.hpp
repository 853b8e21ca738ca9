#pragma once
// The example programs' command lines, checked one way everywhere:
//   app.add_option("--lr", lr)->check(cli::number(0, 1e6));      finite, in range (NaN, Inf refused)
//   app.add_option("--seed", seed)->check(cli::whole(0, UINT64_MAX));  digits only, no wrap-around
//   if (int rc = cli::parse(app, argc, argv, "prog"); rc >= 0) return rc;
//   return cli::run("prog", [&] { ... });
// Bad usage: one line "prog: --opt: expected ..., got '...' (see --help)" on stderr, exit code 2.
// Errors while running (a missing or bad input, a failed write): "prog: <what, naming the file>",
// exit code 2. --help: exit code 0.
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include <CLI/CLI.hpp>

#include "ann/io/atomic_file.hpp"

namespace cli {

inline std::string fmt(double v) {
    char b[64];
    std::snprintf(b, sizeof b, "%g", v);
    return b;
}

// A finite real number in [lo, hi]. (CLI::Range lets NaN through, and "inf" past an upper bound.)
inline CLI::Validator number(double lo, double hi) {
    const std::string range = "a finite number from " + fmt(lo) + " to " + fmt(hi);
    return CLI::Validator(
        [lo, hi, range](std::string& s) {
            errno = 0;
            char* end = nullptr;
            const double v = std::strtod(s.c_str(), &end);
            if (!s.empty() && end == s.c_str() + s.size() && errno != ERANGE && std::isfinite(v) && v >= lo && v <= hi)
                return std::string();
            return "expected " + range + ", got '" + s + "'";
        },
        "finite in [" + fmt(lo) + " - " + fmt(hi) + "]");
}

// A whole number in [lo, hi], written with digits only: CLI11 alone would wrap "-1" around to
// 2^64-1 and saturate 2^64 and above.
inline CLI::Validator whole(std::uint64_t lo, std::uint64_t hi) {
    const std::string range = "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
    return CLI::Validator(
        [lo, hi, range](std::string& s) {
            if (!s.empty() && s.size() <= 20 && s.find_first_not_of("0123456789") == std::string::npos) {
                errno = 0;
                const unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
                if (errno != ERANGE && v >= lo && v <= hi) return std::string();
            }
            return "expected " + range + ", got '" + s + "'";
        },
        "whole in [" + std::to_string(lo) + " - " + std::to_string(hi) + "]");
}

// Parses the command line. Returns -1 to go on, or the exit code: 0 after --help, 2 after a
// usage error (reported on one line).
inline int parse(CLI::App& app, int argc, char** argv, const char* prog) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);
        std::string msg = e.what();
        for (char& c : msg)
            if (c == '\n') c = ' ';
        std::fprintf(stderr, "%s: %s (see --help)\n", prog, msg.c_str());
        return 2;
    }
    return -1;
}

// Removes what killed runs left in `folder` (io::remove_stale_temporaries) and says so.
inline void remove_stale(const std::string& folder) {
    for (const auto& f : ann::io::remove_stale_temporaries(folder))
        std::printf("removed %s (a temporary file of a run that was killed)\n", f.c_str());
}

// Runs the program's work: an error is one line naming what failed, exit code 2.
template <class F>
int run(const char* prog, F&& body) {
    try {
        body();
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "%s: out of memory\n", prog);
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", prog, e.what());
        return 2;
    }
    return 0;
}

}  // namespace cli
