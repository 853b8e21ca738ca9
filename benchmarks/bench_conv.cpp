// Conv kernel microbenchmarks: every conv layer shape of cnn_3, cnn_4 and cnn_5, at the training
// batch (50) and `homework`'s evaluation batch (100), forward / backward-data / backward-weights, for
// each implementation: `reference` (conv_reference.hpp, plain loops; batch 50 only, it is
// slow), `im2col` (conv_im2col.hpp) and `dispatch` (the entry points of conv2d.hpp that the
// layers call: the direct kernels conv_direct_avx512.hpp / conv_wgrad_avx512.hpp, except
// backward-data of shapes where conv2d.hpp falls back to im2col), `winograd` (F(2x2,3x3) /
// F(2x2,5x5)), `winograd4` (F(4x4,3x3)), `small` (the small-map kernel) and `rows` (the row kernel,
// conv_rows_avx512.hpp) called directly whatever the dispatch would pick, and `onednn` (oneDNN, the
// library behind PyTorch's CPU convolutions, through benchmarks/onednn_conv.hpp; only when CMake
// found libdnnl-dev: the primitive alone is timed on its preferred layouts, the label names the
// implementation it chose, reorder_ms is what the NCHW/OIHW reorders would add per call).
// Counters: GFLOPs = useful FLOPs (2*N*O*C*kh*kw*OH*OW per pass, direct-convolution FLOPs, so a
// kernel that needs fewer multiplies counts the ones it saved) per second; pct_fma and pct_peak =
// that as a percentage of the cores' FMA peak and of the sgemm peak, both measured first in the
// same binary (benchmarks/machine_peak.hpp), with the same thread count.
//   bench_conv [--ann_threads=N] [Google Benchmark flags, e.g. --benchmark_filter=fwd]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "ann/backend/cpu/conv2d.hpp"
#include "ann/backend/cpu/conv_reference.hpp"
#include "ann/core/rng.hpp"
#include "machine_peak.hpp"
#ifdef ANN_BENCH_HAVE_ONEDNN
#include "onednn_conv.hpp"
#endif

namespace {
using ann::cpu::ConvGeometry;

struct ConvCase {
    const char* where;  // the layers that have this shape
    int C, H, O, k;     // square inputs, stride 1, no padding (the homework's convs)
};
const ConvCase kCases[] = {
    {"cnn3.1+cnn4.1", 3, 32, 16, 3}, {"cnn3.2", 16, 30, 8, 5},  {"cnn3.3", 8, 13, 16, 7},
    {"cnn4.2", 16, 30, 8, 3},        {"cnn4.3", 8, 28, 16, 5},  {"cnn4.4", 16, 12, 16, 5},
    {"cnn5.1", 3, 32, 8, 3},         {"cnn5.2", 8, 30, 16, 3},  {"cnn5.3", 16, 28, 8, 3},
    {"cnn5.4", 8, 26, 16, 3},        {"cnn5.5", 16, 12, 16, 3}, {"cnn5.6", 16, 10, 8, 3},
};

double g_peak_gflops = 0;  // sgemm peak
double g_fma_gflops = 0;   // FMA peak (machine_peak.hpp)

enum class Pass { fwd, bwd_data, bwd_weights };
int g_out_w(const ConvCase& cc) { return cc.H - cc.k + 1; }
enum class Impl { direct, im2col, dispatch, winograd, winograd4, small, rows, onednn };

// GFLOP/s of one pass of `gflop` (direct-convolution FLOPs) per iteration, and its % of both peaks.
void set_rate_counters(benchmark::State& state, double gflop) {
    const auto rate = benchmark::Counter::kIsIterationInvariantRate;
    state.counters["GFLOPs"] = benchmark::Counter(gflop, rate);
    state.counters["pct_peak"] = benchmark::Counter(100.0 * gflop / g_peak_gflops, rate);
    state.counters["pct_fma"] = benchmark::Counter(100.0 * gflop / g_fma_gflops, rate);
}

void run_conv(benchmark::State& state, ConvCase cc, int N, Pass pass, Impl impl) {
    const ConvGeometry g{cc.C, cc.H, cc.H, cc.k, cc.k, 1, 0};
    const std::size_t xs = std::size_t(N) * cc.C * cc.H * cc.H, ws = std::size_t(cc.O) * g.rows(),
                      ys = std::size_t(N) * cc.O * g.cols();
    ann::Rng rng(7);
    std::vector<float> x(xs), w(ws), b(cc.O), y(ys), dy(ys), dx(xs), dw(ws, 0.f), db(cc.O, 0.f);
    for (auto* v : {&x, &w, &b, &dy})
        for (auto& e : *v) e = float(rng.uniform(-1, 1));
    ann::cpu::ConvWorkspace<float> work;
    for (auto _ : state) {
        switch (pass) {
            case Pass::fwd:
                if (impl == Impl::direct)
                    ann::cpu::conv2d_forward_reference(x.data(), w.data(), b.data(), y.data(), N, cc.O, g);
                else if (impl == Impl::dispatch)
                    ann::cpu::conv2d_forward(x.data(), w.data(), b.data(), y.data(), N, cc.O, g, work);
                else if (impl == Impl::winograd || impl == Impl::winograd4)
                    ann::cpu::conv2d_winograd_forward(x.data(), w.data(), b.data(), y.data(), N, cc.O, g, work, true,
                                                      impl == Impl::winograd4 ? 4 : 2);
                else if (impl == Impl::small)
                    ann::cpu::conv2d_small_forward_images(
                        x.data(), w.data(), b.data(), N, cc.O, g, work,
                        [&](int, std::size_t n) { return y.data() + n * std::size_t(cc.O) * g.cols(); },
                        [](int, std::size_t, float*) {});
                else if (impl == Impl::rows)
                    ann::cpu::conv2d_rows_forward_images(
                        x.data(), w.data(), b.data(), N, cc.O, g, work,
                        [&](int, std::size_t n) { return y.data() + n * std::size_t(cc.O) * g.cols(); },
                        [](int, std::size_t, float*) {});
                else
                    ann::cpu::conv2d_forward_im2col(x.data(), w.data(), b.data(), y.data(), N, cc.O, g, work);
                benchmark::DoNotOptimize(y.data());
                break;
            case Pass::bwd_data:
                if (impl == Impl::direct)
                    ann::cpu::conv2d_backward_data_reference(dy.data(), w.data(), dx.data(), N, cc.O, g);
                else if (impl == Impl::dispatch)
                    ann::cpu::conv2d_backward_data(dy.data(), w.data(), dx.data(), N, cc.O, g, work);
                else if (impl == Impl::winograd || impl == Impl::winograd4)
                    ann::cpu::conv2d_winograd_backward_data(dy.data(), w.data(), dx.data(), N, cc.O, g, work, true,
                                                            impl == Impl::winograd4 ? 4 : 2);
                else if (impl == Impl::small)
                    ann::cpu::conv2d_small_backward_data(dy.data(), w.data(), dx.data(), N, cc.O, g, work);
                else if (impl == Impl::rows)
                    ann::cpu::conv2d_rows_backward_data(dy.data(), w.data(), dx.data(), N, cc.O, g, work);
                else
                    ann::cpu::conv2d_backward_data_im2col(dy.data(), w.data(), dx.data(), N, cc.O, g, work);
                benchmark::DoNotOptimize(dx.data());
                break;
            case Pass::bwd_weights:
                if (impl == Impl::direct)
                    ann::cpu::conv2d_backward_weights_reference(x.data(), dy.data(), dw.data(), db.data(), N, cc.O, g);
                else if (impl == Impl::dispatch)
                    ann::cpu::conv2d_backward_weights(x.data(), dy.data(), dw.data(), db.data(), N, cc.O, g, work);
                else
                    ann::cpu::conv2d_backward_weights_im2col(x.data(), dy.data(), dw.data(), db.data(), N, cc.O, g,
                                                             work);
                benchmark::DoNotOptimize(dw.data());
                break;
        }
        benchmark::ClobberMemory();
    }
    set_rate_counters(state, 2.0 * N * cc.O * g.rows() * g.cols() * 1e-9);
    state.SetLabel(cc.where);
}

#ifdef ANN_BENCH_HAVE_ONEDNN
constexpr bool kHaveOnednn = true;
// The `onednn` implementation: same inputs and counters as run_conv. Outside the timing, first:
// the result of this pass checked against conv_reference.hpp (so the column cannot time a wrong
// convolution), then the user-layout reorders measured (reorder_ms, not in GFLOPs).
void run_onednn(benchmark::State& state, ConvCase cc, int N, Pass pass) {
    namespace dn = bench::onednn;
    const ConvGeometry g{cc.C, cc.H, cc.H, cc.k, cc.k, 1, 0};
    const std::size_t xs = std::size_t(N) * cc.C * cc.H * cc.H, ws = std::size_t(cc.O) * g.rows(),
                      ys = std::size_t(N) * cc.O * g.cols();
    ann::Rng rng(7);
    std::vector<float> x(xs), w(ws), b(cc.O), dy(ys);
    for (auto* v : {&x, &w, &b, &dy})
        for (auto& e : *v) e = float(rng.uniform(-1, 1));
    const dn::Pass dp = pass == Pass::fwd ? dn::Pass::fwd : pass == Pass::bwd_data ? dn::Pass::bwd_data
                                                                                     : dn::Pass::bwd_weights;
    std::optional<dn::Conv> conv;
    try {
        conv.emplace(g, N, cc.O);
    } catch (const std::exception& e) {
        state.SkipWithError((std::string("oneDNN: ") + e.what()).c_str());
        return;
    }
    conv->load(x.data(), w.data(), b.data(), dy.data());
    conv->run(dp);
    std::vector<float> got, want, got_b(cc.O, 0.f), want_b(cc.O, 0.f);
    if (pass == Pass::fwd) {
        got.resize(ys), want.resize(ys);
        conv->read_y(got.data());
        ann::cpu::conv2d_forward_reference(x.data(), w.data(), b.data(), want.data(), N, cc.O, g);
    } else if (pass == Pass::bwd_data) {
        got.resize(xs), want.resize(xs);
        conv->read_dx(got.data());
        ann::cpu::conv2d_backward_data_reference(dy.data(), w.data(), want.data(), N, cc.O, g);
    } else {
        got.resize(ws), want.assign(ws, 0.f);
        conv->read_dw(got.data(), got_b.data());
        ann::cpu::conv2d_backward_weights_reference(x.data(), dy.data(), want.data(), want_b.data(), N, cc.O, g);
        got.insert(got.end(), got_b.begin(), got_b.end()), want.insert(want.end(), want_b.begin(), want_b.end());
    }
    double err = 0, scale = 1;
    for (std::size_t i = 0; i < got.size(); ++i)
        err = std::max(err, double(std::abs(got[i] - want[i]))), scale = std::max(scale, double(std::abs(want[i])));
    if (!(err <= 1e-4 * scale)) {  // float sums in another order: ~1e-6 relative; a wrong conv: ~1
        state.SkipWithError(("oneDNN result differs from conv_reference.hpp: max |diff| " + std::to_string(err) +
                             ", max |ref| " + std::to_string(scale)).c_str());
        return;
    }
    for (auto _ : state) {
        conv->run(dp);
        benchmark::ClobberMemory();
    }
    set_rate_counters(state, 2.0 * N * cc.O * g.rows() * g.cols() * 1e-9);
    state.counters["reorder_ms"] = 1e3 * conv->reorder_seconds(dp);
    state.SetLabel(std::string(cc.where) + " | " + conv->impl(dp));  // scripts/conv_table.py splits at " | "
}
#else
constexpr bool kHaveOnednn = false;
void run_onednn(benchmark::State&, ConvCase, int, Pass) {}
#endif

void sgemm_peak(benchmark::State& state) {
    // The reference point itself, as a row in the output (measured once in main).
    for (auto _ : state) benchmark::DoNotOptimize(g_peak_gflops);
    state.counters["GFLOPs"] = g_peak_gflops;
    state.counters["pct_peak"] = 100.0;
    state.counters["pct_fma"] = 100.0 * g_peak_gflops / g_fma_gflops;
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 2;
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
        if (std::strncmp(argv[i], "--ann_threads=", 14) == 0)
            threads = std::max(1, std::atoi(argv[i] + 14));
        else
            args.push_back(argv[i]);
    }
    int nargs = static_cast<int>(args.size());
    benchmark::Initialize(&nargs, args.data());
    ann::cpu::set_num_threads(threads);
    const bench::FmaPeak fma = bench::measure_fma_peak(threads);
    g_fma_gflops = fma.gflops;
    g_peak_gflops = bench::measure_sgemm_peak(threads);
    benchmark::AddCustomContext("ann_threads", std::to_string(threads));
    benchmark::AddCustomContext("sgemm_peak_gflops", std::to_string(g_peak_gflops));
    benchmark::AddCustomContext("fma_peak_gflops", std::to_string(fma.gflops));
    benchmark::AddCustomContext("fma_peak_isa", fma.isa);
    benchmark::AddCustomContext("fma_peak_avx512_gflops", std::to_string(fma.avx512_gflops));
    benchmark::AddCustomContext("fma_peak_avx2_gflops", std::to_string(fma.avx2_gflops));
    benchmark::AddCustomContext("openblas_core", bench::openblas_core());
#ifdef ANN_BENCH_HAVE_ONEDNN
    // Before the first oneDNN call; the benchmarks run on this thread (see onednn_conv.hpp).
    benchmark::AddCustomContext("onednn_threads", std::to_string(bench::onednn::set_threads(threads)));
    benchmark::AddCustomContext("onednn_version", bench::onednn::version());
#endif

    benchmark::RegisterBenchmark("sgemm_peak/2048", sgemm_peak)->Iterations(1);
    const struct { Pass p; const char* name; } passes[] = {
        {Pass::fwd, "fwd"}, {Pass::bwd_data, "bwd_data"}, {Pass::bwd_weights, "bwd_weights"}};
    // oneDNN's rows last, all together: its OpenMP threads spin for a while after each call and
    // would take cycles from ann's rows if they came in between.
    for (Impl impl : {Impl::direct, Impl::im2col, Impl::dispatch, Impl::winograd, Impl::winograd4, Impl::small, Impl::rows,
                      Impl::onednn})
        for (const auto& cc : kCases)
            for (int N : {50, 100})
                for (const auto& ps : passes) {
                    if (impl == Impl::direct && N != 50) continue;
                    if (impl == Impl::onednn && !kHaveOnednn) continue;
                    if (impl == Impl::dispatch && !ann::cpu::have_avx512()) continue;
                    // Winograd (conv_winograd.hpp), forward and backward-data: `winograd` F(2x2,3x3) and
                    // F(2x2,5x5), `winograd4` F(4x4,3x3)
                    if (impl == Impl::winograd && ((cc.k != 3 && cc.k != 5) || ps.p == Pass::bwd_weights || !ann::cpu::have_avx512()))
                        continue;
                    if (impl == Impl::winograd4 && (cc.k != 3 || ps.p == Pass::bwd_weights || !ann::cpu::have_avx512()))
                        continue;
                    // Small maps (conv_small_avx512.hpp): at most 12 output columns (backward-data:
                    // 12 input columns), forward and backward-data
                    if (impl == Impl::small && (ps.p == Pass::bwd_weights || !ann::cpu::have_avx512() ||
                                                (ps.p == Pass::fwd ? g_out_w(cc) : cc.H) > ann::cpu::kSmallMaxCols))
                        continue;
                    // The row kernel (conv_rows_avx512.hpp): 3x3, 5x5, 7x7, 8k or 16k channels in the
                    // vectors, at most 16 output columns (backward-data: 16 input columns)
                    if (impl == Impl::rows &&
                        (ps.p == Pass::bwd_weights ||
                         !ann::cpu::conv_rows_applies<float>(ConvGeometry{cc.C, cc.H, cc.H, cc.k, cc.k, 1, 0},
                                                             ps.p == Pass::fwd ? cc.O : cc.C,
                                                             ps.p == Pass::fwd ? g_out_w(cc) : cc.H)))
                        continue;
                    const char* impl_name = impl == Impl::direct ? "reference" : impl == Impl::im2col ? "im2col"
                                            : impl == Impl::dispatch ? "dispatch" : impl == Impl::winograd ? "winograd"
                                            : impl == Impl::winograd4 ? "winograd4"
                                            : impl == Impl::small ? "small" : impl == Impl::rows ? "rows" : "onednn";
                    const std::string name = std::string("conv/") + impl_name +
                                             "/" + ps.name + "/C" + std::to_string(cc.C) + "_H" +
                                             std::to_string(cc.H) + "_O" + std::to_string(cc.O) + "_k" +
                                             std::to_string(cc.k) + "/N" + std::to_string(N);
                    auto* b = impl == Impl::onednn
                                  ? benchmark::RegisterBenchmark(name.c_str(), run_onednn, cc, N, ps.p)
                                  : benchmark::RegisterBenchmark(name.c_str(), run_conv, cc, N, ps.p, impl);
                    b->Unit(benchmark::kMillisecond)->UseRealTime();
                    if (impl == Impl::direct) b->Iterations(2);
                }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
