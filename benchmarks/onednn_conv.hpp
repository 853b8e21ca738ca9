#pragma once
// oneDNN (libdnnl, 2.x API; Debian bookworm ships 2.6) convolutions for one ann ConvGeometry, as
// bench_conv's `onednn` column: the library behind PyTorch's CPU convolutions, run directly.
// Only bench_conv includes this, and only when CMake found oneDNN (ANN_BENCH_HAVE_ONEDNN); the
// library ann::ann never depends on it.
//
// One object = one shape (g, batch N, O output channels), f32, holding the three primitives:
// forward with bias (prop_kind::forward_training), backward-data, and backward-weights with the
// bias gradient. The user layouts are ann's (x, dx: NCHW; w, dw: OIHW; b, db: O). oneDNN picks its
// own internal layouts (format_tag::any: usually blocked, nChw16c / OIhw16i16o, but plain NCHW
// for the C=3 input of a first layer).
//
// What is timed and what is not:
//   timed (forward() / backward_data() / backward_weights()): the primitive execution alone, on
//     operands already in the layouts oneDNN chose. That is what a oneDNN network pays per layer
//     and pass: it keeps activations and gradients blocked from one layer to the next and reorders
//     only at the network's edges.
//   not timed: reorders from/to the user layouts: load() puts x, w, b, dy into each primitive's
//     layouts; read_*() bring y, dx, dw, db back to NCHW / OIHW. reorder_seconds(pass) measures
//     what those would add to one call of that pass (inputs in + outputs out), which is what a
//     framework pays when it hands oneDNN plain NCHW tensors every call (PyTorch's default
//     contiguous format). The weight reorder is part of it: weights change every training step.
//
// Threads: this build of oneDNN uses OpenMP (DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP, GNU libgomp).
// set_threads() calls omp_set_num_threads through libgomp, looked up at run time (dlsym) so that
// bench_conv needs no -fopenmp: libgomp is already loaded as libdnnl's own dependency. Setting
// OMP_NUM_THREADS in main() would be too late: libgomp reads it when it is loaded, before main.
// The ICV is the calling thread's, so call it on the thread that runs the benchmarks.
#include <dlfcn.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ann/backend/backend.hpp"

namespace bench::onednn {

#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
inline constexpr const char* kRuntime = "omp";
#elif DNNL_CPU_RUNTIME == DNNL_RUNTIME_TBB
inline constexpr const char* kRuntime = "tbb";
#elif DNNL_CPU_RUNTIME == DNNL_RUNTIME_SEQ
inline constexpr const char* kRuntime = "sequential";
#else
inline constexpr const char* kRuntime = "other";
#endif

// Sets oneDNN's thread count; returns the count OpenMP then reports (0 if it could not be set).
inline int set_threads(int n) {
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
    using set_fn = void (*)(int);
    using get_fn = int (*)();
    auto set = reinterpret_cast<set_fn>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
    auto get = reinterpret_cast<get_fn>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
    if (!set || !get) return 0;
    set(n);
    return get();
#else
    (void)n;
    return 0;
#endif
}

inline std::string version() {
    const dnnl_version_t* v = dnnl_version();
    return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) + " (" +
           v->hash + ", cpu runtime " + kRuntime + ")";
}

enum class Pass { fwd, bwd_data, bwd_weights };

class Conv {
public:
    using tag = dnnl::memory::format_tag;
    using dt = dnnl::memory::data_type;

    Conv(const ann::ConvGeometry& g, int N, int O) : eng_(dnnl::engine::kind::cpu, 0), strm_(eng_) {
        const dnnl::memory::dims src{N, g.C, g.H, g.W}, wei{O, g.C, g.kh, g.kw}, bia{O}, dst{N, O, g.OH(), g.OW()},
            strides{g.stride, g.stride}, pad{g.pad, g.pad};
        auto any = [](const dnnl::memory::dims& d) { return dnnl::memory::desc(d, dt::f32, tag::any); };
        user_src_ = dnnl::memory::desc(src, dt::f32, tag::nchw);
        user_wei_ = dnnl::memory::desc(wei, dt::f32, tag::oihw);
        user_bia_ = dnnl::memory::desc(bia, dt::f32, tag::x);
        user_dst_ = dnnl::memory::desc(dst, dt::f32, tag::nchw);

        fwd_pd_ = dnnl::convolution_forward::primitive_desc(
            dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                            any(src), any(wei), any(bia), any(dst), strides, pad, pad),
            eng_);
        bwd_data_pd_ = dnnl::convolution_backward_data::primitive_desc(
            dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, any(src), any(wei), any(dst),
                                                  strides, pad, pad),
            eng_, fwd_pd_);
        bwd_weights_pd_ = dnnl::convolution_backward_weights::primitive_desc(
            dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, any(src), any(wei),
                                                     any(bia), any(dst), strides, pad, pad),
            eng_, fwd_pd_);
        fwd_ = dnnl::convolution_forward(fwd_pd_);
        bwd_data_ = dnnl::convolution_backward_data(bwd_data_pd_);
        bwd_weights_ = dnnl::convolution_backward_weights(bwd_weights_pd_);

        // Operands in oneDNN's layouts, one set per primitive (they may differ between passes).
        f_src_ = mem(fwd_pd_.src_desc()), f_wei_ = mem(fwd_pd_.weights_desc()), f_bia_ = mem(fwd_pd_.bias_desc());
        f_dst_ = mem(fwd_pd_.dst_desc());
        d_ddst_ = mem(bwd_data_pd_.diff_dst_desc()), d_wei_ = mem(bwd_data_pd_.weights_desc());
        d_dsrc_ = mem(bwd_data_pd_.diff_src_desc());
        w_src_ = mem(bwd_weights_pd_.src_desc()), w_ddst_ = mem(bwd_weights_pd_.diff_dst_desc());
        w_dwei_ = mem(bwd_weights_pd_.diff_weights_desc()), w_dbia_ = mem(bwd_weights_pd_.diff_bias_desc());
    }

    // Which implementation oneDNN chose, e.g. "brg:avx512_core", "jit:avx512_core", "gemm:jit".
    std::string impl(Pass p) const {
        return p == Pass::fwd ? fwd_pd_.impl_info_str()
               : p == Pass::bwd_data ? bwd_data_pd_.impl_info_str() : bwd_weights_pd_.impl_info_str();
    }

    // Untimed: the user-layout inputs into every primitive's layouts.
    void load(const float* x, const float* w, const float* b, const float* dy) {
        to(x, user_src_, f_src_), to(w, user_wei_, f_wei_), to(b, user_bia_, f_bia_);
        to(dy, user_dst_, d_ddst_), to(w, user_wei_, d_wei_);
        to(x, user_src_, w_src_), to(dy, user_dst_, w_ddst_);
        strm_.wait();
    }

    // Timed: the primitive alone.
    void forward() {
        fwd_.execute(strm_, {{DNNL_ARG_SRC, f_src_}, {DNNL_ARG_WEIGHTS, f_wei_}, {DNNL_ARG_BIAS, f_bia_},
                             {DNNL_ARG_DST, f_dst_}});
        strm_.wait();
    }
    void backward_data() {
        bwd_data_.execute(strm_, {{DNNL_ARG_DIFF_DST, d_ddst_}, {DNNL_ARG_WEIGHTS, d_wei_},
                                  {DNNL_ARG_DIFF_SRC, d_dsrc_}});
        strm_.wait();
    }
    void backward_weights() {  // dw, db overwritten (ann's kernels accumulate)
        bwd_weights_.execute(strm_, {{DNNL_ARG_SRC, w_src_}, {DNNL_ARG_DIFF_DST, w_ddst_},
                                     {DNNL_ARG_DIFF_WEIGHTS, w_dwei_}, {DNNL_ARG_DIFF_BIAS, w_dbia_}});
        strm_.wait();
    }
    void run(Pass p) { p == Pass::fwd ? forward() : p == Pass::bwd_data ? backward_data() : backward_weights(); }

    // Untimed: results back in the user layouts.
    void read_y(float* y) { from(f_dst_, user_dst_, y), strm_.wait(); }
    void read_dx(float* dx) { from(d_dsrc_, user_src_, dx), strm_.wait(); }
    void read_dw(float* dw, float* db) { from(w_dwei_, user_wei_, dw), from(w_dbia_, user_bia_, db), strm_.wait(); }

    // What the user-layout reorders of pass p (its inputs in, its outputs out) add to one call,
    // in seconds: the best of `reps` rounds. Uses scratch user buffers, not the operands.
    double reorder_seconds(Pass p, int reps = 5) {
        auto user = [this](const dnnl::memory::desc& d) { return dnnl::memory(d, eng_); };
        dnnl::memory us = user(user_src_), uw = user(user_wei_), ub = user(user_bia_), ud = user(user_dst_);
        std::vector<std::pair<dnnl::memory, dnnl::memory>> rs;  // (from, to)
        if (p == Pass::fwd) rs = {{us, f_src_}, {uw, f_wei_}, {ub, f_bia_}, {f_dst_, ud}};
        if (p == Pass::bwd_data) rs = {{ud, d_ddst_}, {uw, d_wei_}, {d_dsrc_, us}};
        if (p == Pass::bwd_weights) rs = {{us, w_src_}, {ud, w_ddst_}, {w_dwei_, uw}, {w_dbia_, ub}};
        std::vector<dnnl::reorder> prims;
        for (auto& [a, b] : rs) prims.emplace_back(a, b);
        double best = 1e30;
        for (int r = 0; r < reps; ++r) {
            const auto t0 = std::chrono::steady_clock::now();
            for (std::size_t i = 0; i < rs.size(); ++i) prims[i].execute(strm_, rs[i].first, rs[i].second);
            strm_.wait();
            best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        return best;
    }

private:
    dnnl::memory mem(const dnnl::memory::desc& d) { return dnnl::memory(d, eng_); }
    void to(const float* user, const dnnl::memory::desc& ud, dnnl::memory& m) {
        dnnl::memory src(ud, eng_, const_cast<float*>(user));
        dnnl::reorder(src, m).execute(strm_, src, m);
    }
    void from(dnnl::memory& m, const dnnl::memory::desc& ud, float* user) {
        dnnl::memory dst(ud, eng_, user);
        dnnl::reorder(m, dst).execute(strm_, m, dst);
    }

    dnnl::engine eng_;
    dnnl::stream strm_;
    dnnl::memory::desc user_src_, user_wei_, user_bia_, user_dst_;
    dnnl::convolution_forward::primitive_desc fwd_pd_;
    dnnl::convolution_backward_data::primitive_desc bwd_data_pd_;
    dnnl::convolution_backward_weights::primitive_desc bwd_weights_pd_;
    dnnl::convolution_forward fwd_;
    dnnl::convolution_backward_data bwd_data_;
    dnnl::convolution_backward_weights bwd_weights_;
    dnnl::memory f_src_, f_wei_, f_bia_, f_dst_, d_ddst_, d_wei_, d_dsrc_, w_src_, w_ddst_, w_dwei_, w_dbia_;
};

}  // namespace bench::onednn
