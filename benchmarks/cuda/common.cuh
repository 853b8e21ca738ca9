#pragma once
// Shared by the CUDA benchmarks (bench_cuda_conv, bench_cuda_train): option parsing, starting
// the CUDA backend (exit 77 "SKIPPED: ..." without a usable GPU), CUDA-event timing on the
// backend's stream, the homework's convolution shapes, and JSON-lines output written whole
// (ann::io::write_file_atomic) after every record: a killed run leaves complete lines or nothing.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ann/cuda.cuh"
#include "ann/io/atomic_file.hpp"

namespace bench {

// A bad command line: main prints "PROGRAM: MESSAGE" and exits 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// --key value / --flag options. Unknown options and missing values are UsageErrors.
class Args {
public:
    // `values`: options that take a value; `flags`: options that take none.
    Args(int argc, char** argv, const std::set<std::string>& values, const std::set<std::string>& flags) {
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            if (a == "-h" || a == "--help") {
                help_ = true;
                continue;
            }
            std::string key = a, val;
            bool has_val = false;
            if (const auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
                key = a.substr(0, eq);
                val = a.substr(eq + 1);
                has_val = true;
            }
            if (values.count(key)) {
                if (!has_val) {
                    if (i + 1 >= argc) throw UsageError(key + " needs a value");
                    val = argv[++i];
                }
                kv_[key] = val;
            } else if (flags.count(key) && !has_val) {
                kv_[key] = "1";
            } else {
                throw UsageError("unknown option '" + a + "' (see --help)");
            }
        }
    }
    bool help() const { return help_; }
    bool has(const std::string& k) const { return kv_.count(k) != 0; }
    std::string str(const std::string& k, const std::string& def) const {
        auto it = kv_.find(k);
        return it == kv_.end() ? def : it->second;
    }
    long whole(const std::string& k, long def, long lo, long hi) const {
        auto it = kv_.find(k);
        if (it == kv_.end()) return def;
        std::size_t used = 0;
        long v = 0;
        try {
            v = std::stol(it->second, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != it->second.size() || v < lo || v > hi)
            throw UsageError(k + " must be a whole number in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                             "], got '" + it->second + "'");
        return v;
    }
    // A comma-separated list, each item one of `allowed`.
    std::vector<std::string> list(const std::string& k, const std::string& def,
                                  const std::vector<std::string>& allowed) const {
        std::vector<std::string> out;
        std::stringstream ss(str(k, def));
        for (std::string item; std::getline(ss, item, ',');) {
            if (item.empty()) continue;
            bool ok = false;
            for (const auto& a : allowed) ok = ok || a == item;
            if (!ok) {
                std::string all;
                for (const auto& a : allowed) all += (all.empty() ? "" : ", ") + a;
                throw UsageError(k + ": '" + item + "' is not one of " + all);
            }
            out.push_back(item);
        }
        if (out.empty()) throw UsageError(k + " is empty");
        return out;
    }

private:
    bool help_ = false;
    std::map<std::string, std::string> kv_;
};

// Starts the CUDA backend. `nondeterministic` sets ANN_CUDA_NONDETERMINISTIC=1 first (the
// backend reads it once, in enable()). False, with "SKIPPED: <reason>" printed, when there is
// no usable device: the caller exits 77.
inline bool start_cuda(bool nondeterministic) {
    if (nondeterministic) setenv("ANN_CUDA_NONDETERMINISTIC", "1", 1);
    if (ann::cuda::enable()) return true;
    std::string why = "the CUDA backend is not available";
    try {
        ann::memory(ann::Device::cuda);
    } catch (const std::exception& e) {
        why = e.what();
    }
    std::printf("SKIPPED: %s\n", why.c_str());
    std::fflush(stdout);
    return false;
}

inline bool cuda_deterministic() { return ann::cuda::Context::get().options().deterministic; }

// Milliseconds per call of f, measured with CUDA events on the backend's stream over `reps`
// calls after `warmup` calls. f must enqueue its work on Context::get().stream() (every backend
// primitive does). wall_ms gets the host's time per call, for the launch and host overhead.
template <class F>
double time_ms(int warmup, int reps, F&& f, double* wall_ms = nullptr) {
    cudaStream_t s = ann::cuda::Context::get().stream();
    for (int i = 0; i < warmup; ++i) f();
    ANN_CUDA_CHECK(cudaStreamSynchronize(s));
    cudaEvent_t a, b;
    ANN_CUDA_CHECK(cudaEventCreate(&a));
    ANN_CUDA_CHECK(cudaEventCreate(&b));
    const auto t0 = std::chrono::steady_clock::now();
    ANN_CUDA_CHECK(cudaEventRecord(a, s));
    for (int i = 0; i < reps; ++i) f();
    ANN_CUDA_CHECK(cudaEventRecord(b, s));
    ANN_CUDA_CHECK(cudaEventSynchronize(b));
    const double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    float ms = 0;
    ANN_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    ANN_CUDA_CHECK(cudaEventDestroy(a));
    ANN_CUDA_CHECK(cudaEventDestroy(b));
    if (wall_ms) *wall_ms = wall / reps;
    return double(ms) / reps;
}

struct ConvShape {
    std::string arch;
    int layer;     // index in the architecture's Sequential
    ann::Shape x;  // input (N, C, H, W)
    int o, k, s, p;
};

// Every Conv2d of the five homework architectures with its input shape at batch size n
// (stride 1, no padding: the homework's).
inline std::vector<ConvShape> homework_convs(std::size_t n) {
    std::vector<ConvShape> out;
    for (const auto& arch : ann::models::homework_names()) {
        auto m = ann::models::homework<float>(arch);
        ann::Shape cur = ann::models::cifar_input_shape(n);
        for (std::size_t i = 0; i < m.size(); ++i) {
            if (auto* c = dynamic_cast<ann::Conv2d<float>*>(&m[i]))
                out.push_back({arch, int(i), cur, int(c->out_channels()), int(c->kernel_size()), 1, 0});
            cur = m[i].output_shape(cur);
        }
    }
    return out;
}

// JSON lines, the whole file rewritten atomically after each add().
class JsonLines {
public:
    explicit JsonLines(std::string path) : path_(std::move(path)) {
        ann::io::write_file_atomic(path_, std::string_view());  // an unwritable path fails now
    }
    void add(const nlohmann::ordered_json& j) {
        text_ += j.dump() + "\n";
        ann::io::write_file_atomic(path_, text_);
    }

private:
    std::string path_, text_;
};

}  // namespace bench
