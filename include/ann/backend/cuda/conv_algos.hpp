#pragma once
// Convolution algorithms, chosen once per (device, shape, math mode) and cached for the life of
// the program: cudnnFind* (times each algorithm on the GPU) or cuDNN's heuristics (no timing),
// as Context::options().conv_algo says. The workspace each choice needs is recorded so the
// layer can size the context's shared workspace before a graph capture.
#include <algorithm>
#include <cstddef>
#include <map>
#include <mutex>
#include <tuple>

#include "ann/backend/cuda/context.hpp"
#include "ann/core/tensor.hpp"

namespace ann::cuda {

struct ConvKey {
    int n, c, h, w, o, k, s, p;
    static ConvKey of(const Shape& x, int o, int k, int s, int p) {
        return {int(x[0]), int(x[1]), int(x[2]), int(x[3]), o, k, s, p};
    }
    auto tie() const { return std::tie(n, c, h, w, o, k, s, p); }
    bool operator<(const ConvKey& r) const { return tie() < r.tie(); }
};

struct ConvAlgos {
    cudnnConvolutionFwdAlgo_t fwd;
    cudnnConvolutionBwdDataAlgo_t bwd_data;
    cudnnConvolutionBwdFilterAlgo_t bwd_filter;
    std::size_t workspace_bytes;  // the largest of the three
};

namespace detail {

// Picks the first (fastest, or best by heuristics) result that succeeded within the workspace
// limit. cuDNN sorts both kinds of result best first.
template <class Perf>
const Perf& pick(const Perf* results, int count, std::size_t limit, const char* what) {
    for (int i = 0; i < count; ++i)
        if (results[i].status == CUDNN_STATUS_SUCCESS && results[i].memory <= limit) return results[i];
    fail("cuDNN offered no usable ", what, " algorithm within a ", limit, "-byte workspace");
}

}  // namespace detail

inline const ConvAlgos& conv_algos(Context& ctx, const ConvKey& key, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                                   cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y) {
    using Full = std::tuple<int, bool, int, ConvKey>;
    struct FullLess {
        bool operator()(const Full& a, const Full& b) const {
            if (std::get<0>(a) != std::get<0>(b)) return std::get<0>(a) < std::get<0>(b);
            if (std::get<1>(a) != std::get<1>(b)) return std::get<1>(a) < std::get<1>(b);
            if (std::get<2>(a) != std::get<2>(b)) return std::get<2>(a) < std::get<2>(b);
            return std::get<3>(a) < std::get<3>(b);
        }
    };
    static std::map<Full, ConvAlgos, FullLess> cache;
    static std::mutex mu;
    std::lock_guard<std::mutex> lock(mu);
    const auto& o = ctx.options();
    const Full full{ctx.device(), o.allow_tf32, static_cast<int>(o.conv_algo), key};
    if (auto it = cache.find(full); it != cache.end()) return it->second;

    constexpr int kMax = 16;
    cudnnConvolutionFwdAlgoPerf_t fwd[kMax];
    cudnnConvolutionBwdDataAlgoPerf_t bwd_data[kMax];
    cudnnConvolutionBwdFilterAlgoPerf_t bwd_filter[kMax];
    int nf = 0, nd = 0, nw = 0;
    cudnnHandle_t h = ctx.cudnn();
    if (o.conv_algo == ConvAlgoChoice::find) {
        ctx.synchronize();  // Find times on the handle's stream; nothing else should be running
        ANN_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithm(h, x, w, conv, y, kMax, &nf, fwd));
        ANN_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithm(h, w, y, conv, x, kMax, &nd, bwd_data));
        ANN_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithm(h, x, y, conv, w, kMax, &nw, bwd_filter));
    } else {
        ANN_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, x, w, conv, y, kMax, &nf, fwd));
        ANN_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, w, y, conv, x, kMax, &nd, bwd_data));
        ANN_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, x, y, conv, w, kMax, &nw, bwd_filter));
    }
    const std::size_t limit = o.max_workspace_bytes;
    const auto& f = detail::pick(fwd, nf, limit, "forward convolution");
    const auto& d = detail::pick(bwd_data, nd, limit, "backward-data convolution");
    const auto& g = detail::pick(bwd_filter, nw, limit, "backward-filter convolution");
    // The heuristics' memory field is an estimate: ask for the exact workspace of each choice.
    std::size_t wf = 0, wd = 0, wg = 0;
    ANN_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h, x, w, conv, y, f.algo, &wf));
    ANN_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(h, w, y, conv, x, d.algo, &wd));
    ANN_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, x, y, conv, w, g.algo, &wg));
    const std::size_t ws = std::max(wf, std::max(wd, wg));
    return cache.emplace(full, ConvAlgos{f.algo, d.algo, g.algo, ws}).first->second;
}

}  // namespace ann::cuda
