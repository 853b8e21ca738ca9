#pragma once
// Convolution as im2col + one GEMM per image, images handed out to the pool's threads.
//   x is (N, C, H, W), w is (O, C, kh, kw) = an (O, R) matrix with R = C*kh*kw,
//   b is (O,) or null, y is (N, O, OH, OW) = N matrices (O, P) with P = OH*OW.
//
// Why per image: one image's column matrix (R x P floats, at most ~1 MB for the homework
// shapes) stays in this core's L2 between im2col and the GEMM that reads it; a whole-batch
// column matrix (54 MB for cnn_3's second layer at batch 50) would go through memory twice.
// Backward recomputes the columns from the cached input for the same reason.
// A 1x1, stride-1, unpadded kernel needs no columns at all: x itself is the (C, P) matrix.
//
// Forward:          y_n  = w col_n + b            (M=O, N=P, K=R)
// Backward data:    dx_n = col2im(w^T dy_n)       (M=R, N=P, K=O)
// Backward weights: dw  += sum_n dy_n col_n^T     (M=O, N=R, K=P)
//                   db  += sum_n rowsum(dy_n)
// Every image's result is computed by one thread alone, and weight gradients are first computed
// per image and then summed in image order, so the result does not depend on which thread took
// which image: the same bits for any thread count and any scheduling.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "ann/backend/cpu/gemm.hpp"
#include "ann/backend/cpu/im2col.hpp"
#include "ann/backend/cpu/thread_pool.hpp"

namespace ann::cpu {

// Scratch memory owned by a layer and reused across calls: per-thread buffers (columns, and
// for the direct kernels a padded input and full-width outputs), repacked weights, and the
// per-image weight-gradient partials.
template <class T>
struct ConvWorkspace {
    std::vector<std::vector<T>> col, pad, tmp, fused;
    std::vector<T> partial, wt;

    static T* grow(std::vector<std::vector<T>>& per_thread, int t, std::size_t n) {
        auto& v = per_thread[static_cast<std::size_t>(t)];
        if (v.size() < n) v.resize(n);
        return v.data();
    }
    T* col_buffer(int t, std::size_t n) { return grow(col, t, n); }
    T* pad_buffer(int t, std::size_t n) { return grow(pad, t, n); }
    T* tmp_buffer(int t, std::size_t n) { return grow(tmp, t, n); }
    T* fused_buffer(int t, std::size_t n) { return grow(fused, t, n); }  // conv_fused.hpp's pre-pool image
    void prepare(int threads) {
        const auto n = static_cast<std::size_t>(threads);
        for (auto* v : {&col, &pad, &tmp, &fused})
            if (v->size() < n) v->resize(n);
    }
};

inline bool conv_is_pointwise(const ConvGeometry& g) {
    return g.kh == 1 && g.kw == 1 && g.stride == 1 && g.pad == 0;
}

// Image xn as its (R, P) column matrix, built in thread t's buffer; a pointwise conv's image
// already is one, so it is returned as it is.
template <class T>
const T* image_columns(const T* xn, const ConvGeometry& g, ConvWorkspace<T>& ws, int t) {
    if (conv_is_pointwise(g)) return xn;
    T* col = ws.col_buffer(t, g.rows() * g.cols());
    im2col(xn, g, col);
    return col;
}

// One image on thread t: yn (O, P) = w col(xn) + b, overwritten.
template <class T>
void conv2d_im2col_image(const T* xn, const T* w, const T* b, T* yn, int O, const ConvGeometry& g,
                         ConvWorkspace<T>& ws, int t) {
    const std::size_t R = g.rows(), P = g.cols();
    const T* cn = image_columns(xn, g, ws, t);
    if (b)
        for (int o = 0; o < O; ++o) std::fill(yn + o * P, yn + (o + 1) * P, b[o]);
    gemm<T>(false, false, O, P, R, T(1), w, R, cn, P, b ? T(1) : T(0), yn, P);
}

// y = conv(x, w) + b, overwritten.
template <class T>
void conv2d_forward_im2col(const T* x, const T* w, const T* b, T* y, int N, int O, const ConvGeometry& g,
                           ConvWorkspace<T>& ws) {
    const std::size_t xs = std::size_t(g.C) * g.H * g.W, ys = std::size_t(O) * g.cols();
    ws.prepare(ThreadPool::global().size());
    parallel_items(N, [&](int t, std::size_t n) { conv2d_im2col_image(x + n * xs, w, b, y + n * ys, O, g, ws, t); });
}

// dx = dL/dx, overwritten.
template <class T>
void conv2d_backward_data_im2col(const T* dy, const T* w, T* dx, int N, int O, const ConvGeometry& g,
                                 ConvWorkspace<T>& ws) {
    const std::size_t R = g.rows(), P = g.cols(), xs = std::size_t(g.C) * g.H * g.W, ys = O * P;
    ws.prepare(ThreadPool::global().size());
    parallel_items(N, [&](int t, std::size_t n) {
        T* dxn = dx + n * xs;
        if (conv_is_pointwise(g)) {
            gemm<T>(true, false, R, P, O, T(1), w, R, dy + n * ys, P, T(0), dxn, P);
            return;
        }
        T* dcol = ws.col_buffer(t, R * P);
        gemm<T>(true, false, R, P, O, T(1), w, R, dy + n * ys, P, T(0), dcol, P);
        std::fill(dxn, dxn + xs, T(0));
        col2im_add(dcol, g, dxn);
    });
}

// Sums the per-image weight-gradient partials (ws.partial, N rows of O*R [+ O]) in image
// order into dw (and db): each entry on one thread, so independent of the split.
template <class T>
void conv2d_reduce_weight_partials(T* dw, T* db, int N, std::size_t OR, std::size_t part, ConvWorkspace<T>& ws) {
    // Image 0's row becomes the running sum, rows added in order (vectorises along e).
    parallel_for(part, [&](std::size_t lo, std::size_t hi) {
        T* acc = ws.partial.data();
        for (int n = 1; n < N; ++n) {
            const T* pn = ws.partial.data() + n * part;
            for (std::size_t e = lo; e < hi; ++e) acc[e] += pn[e];
        }
        for (std::size_t e = lo; e < hi; ++e) {
            if (e < OR)
                dw[e] += acc[e];
            else
                db[e - OR] += acc[e];
        }
    }, 4096);
}

// db partial of one image: per-channel sums of dy_n (O, P).
template <class T>
void conv2d_bias_partial(const T* dyn, int O, std::size_t P, T* out) {
    for (int o = 0; o < O; ++o) {
        T sum = 0;
        for (std::size_t q = 0; q < P; ++q) sum += dyn[o * P + q];
        out[o] = sum;
    }
}

// dw += dL/dw, db += dL/db (db may be null).
template <class T>
void conv2d_backward_weights_im2col(const T* x, const T* dy, T* dw, T* db, int N, int O, const ConvGeometry& g,
                                    ConvWorkspace<T>& ws) {
    const std::size_t R = g.rows(), P = g.cols(), xs = std::size_t(g.C) * g.H * g.W, ys = O * P;
    const std::size_t part = O * R + (db ? O : 0);  // one image's dw, then its db
    ws.prepare(ThreadPool::global().size());
    ws.partial.resize(std::size_t(N) * part);
    parallel_items(N, [&](int t, std::size_t n) {
        const T* cn = image_columns(x + n * xs, g, ws, t);
        const T* dyn = dy + n * ys;
        T* pn = ws.partial.data() + n * part;
        gemm<T>(false, true, O, R, P, T(1), dyn, P, cn, P, T(0), pn, R);
        if (db) conv2d_bias_partial(dyn, O, P, pn + O * R);
    });
    conv2d_reduce_weight_partials(dw, db, N, O * R, part, ws);
}

}  // namespace ann::cpu
