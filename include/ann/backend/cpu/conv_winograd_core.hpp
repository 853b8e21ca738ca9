#pragma once
// What the Winograd kernels F(2x2,3x3) (conv_winograd.hpp) and F(2x2,5x5)
// (conv_winograd_f25.hpp) share on AVX-512: the image is cut into blocks of tile rows; per
// block, each input channel is transformed into V[xi][c][t] (xi the position in the alpha x alpha
// transformed tile, t the tile), then alpha^2 small GEMMs M[xi] (O x T) = U[xi] (O x C) V[xi]
// (C x T) with U the transformed weights, then each output channel is transformed back from
// M[xi][o][t]. A Variant supplies the tile size and the two transforms:
//   kAlpha2 (alpha^2), kBlockTiles (tiles per block),
//   input_transform(xc, H, W, TW, th0, th1, V, plane)   channel image xc -> V[.][c] (c's slice)
//   output_transform(Mo, plane, OH, OW, TW, th0, th1, bias, has_bias, yo).
// Both variants have 2x2 output tiles: TH = ceil(OH/2), TW = ceil(OW/2).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "ann/backend/cpu/simd.hpp"

namespace ann::cpu {

// U[xi][ci][co] = (G k G^T)[xi] for the A x A positions xi of a K x K kernel k, computed in double
// (each sum in index order, every step an explicit fma so that no compiler flag, -ffp-contract or
// -march, changes the bits) and rounded once to T. Forward: k = w[o][c], ci = c, co = o (input
// channels C, outputs O). Backward-data, the conv of dy (input channels O, outputs C): k = w[o][c]
// flipped, ci = o, co = c.
template <class T, int A, int K>
void winograd_weights_from_g(const double (&G)[A][K], const T* w, int O, int C, bool backward, T* U) {
    const int n_in = backward ? O : C, n_out = backward ? C : O;
    for (int o = 0; o < O; ++o)
        for (int c = 0; c < C; ++c) {
            const T* k = w + (std::size_t(o) * C + c) * K * K;
            double g[K][K], t[A][K];
            for (int i = 0; i < K; ++i)
                for (int j = 0; j < K; ++j)
                    g[i][j] = double(backward ? k[(K - 1 - i) * K + (K - 1 - j)] : k[i * K + j]);
            for (int a = 0; a < A; ++a)
                for (int j = 0; j < K; ++j) {
                    t[a][j] = 0;
                    for (int i = 0; i < K; ++i) t[a][j] = std::fma(G[a][i], g[i][j], t[a][j]);
                }
            const int ci = backward ? o : c, co = backward ? c : o;
            for (int a = 0; a < A; ++a)
                for (int b = 0; b < A; ++b) {
                    double u = 0;
                    for (int j = 0; j < K; ++j) u = std::fma(t[a][j], G[b][j], u);
                    U[(std::size_t(A * a + b) * n_in + ci) * n_out + co] = T(u);
                }
        }
}

#if ANN_HAVE_AVX512_KERNELS
namespace detail {

// Tile rows per block: about `block_tiles` tiles (at least one row), the TH tile rows split evenly.
inline int winograd_block_rows(int TH, int TW, int block_tiles) {
    const int rows = std::max(1, std::min(TH, block_tiles / TW)), blocks = (TH + rows - 1) / rows;
    return (TH + blocks - 1) / blocks;
}
inline int winograd_round16(int n) { return (n + 15) / 16 * 16; }
// Stride of the planes of V or M (floats): an odd number of 64-byte lines, so the 16 or 36 planes
// the transforms touch together fall into different L1 sets (a multiple of 4 KB, e.g. 16
// channels x 64 tiles, put them all in one set: 3-6x slower transforms, measured).
inline std::size_t winograd_plane(int channels, int Tp) { return (std::size_t(channels) * Tp / 16 | 1) * 16; }

// M (O x Tp) = for one xi: block of OB output channels x NV*16 tiles, summed over C.
template <int OB, int NV>
__attribute__((target("avx512f,fma"))) inline void wino_gemm_block(const float* V, int Tp, int C, const float* U, int O,
                                                                   float* M) {
    __m512 acc[OB][NV];
ANN_GCC_UNROLL(8)
    for (int o = 0; o < OB; ++o)
ANN_GCC_UNROLL(2)
        for (int k = 0; k < NV; ++k) acc[o][k] = _mm512_setzero_ps();
    for (int c = 0; c < C; ++c) {
        __m512 v[NV];
ANN_GCC_UNROLL(2)
        for (int k = 0; k < NV; ++k) v[k] = _mm512_loadu_ps(V + std::size_t(c) * Tp + 16 * k);
        const float* u = U + std::size_t(c) * O;
ANN_GCC_UNROLL(8)
        for (int o = 0; o < OB; ++o) {
            const __m512 wo = _mm512_set1_ps(u[o]);
ANN_GCC_UNROLL(2)
            for (int k = 0; k < NV; ++k) acc[o][k] = _mm512_fmadd_ps(wo, v[k], acc[o][k]);
        }
    }
ANN_GCC_UNROLL(8)
    for (int o = 0; o < OB; ++o)
ANN_GCC_UNROLL(2)
        for (int k = 0; k < NV; ++k) _mm512_storeu_ps(M + std::size_t(o) * Tp + 16 * k, acc[o][k]);
}

// The first `tiles` (a multiple of 16) columns of M, rows o0..o0+OB-1; V and M rows Tp apart.
template <int OB>
inline void wino_gemm_rows(const float* V, int Tp, int tiles, int C, const float* U, int O, int o0, float* M) {
    int t0 = 0;
    for (; t0 + 32 <= tiles; t0 += 32) wino_gemm_block<OB, 2>(V + t0, Tp, C, U + o0, O, M + std::size_t(o0) * Tp + t0);
    if (t0 < tiles) wino_gemm_block<OB, 1>(V + t0, Tp, C, U + o0, O, M + std::size_t(o0) * Tp + t0);
}


// One output row of 16 2x2 tiles: y0 and y1 hold each tile's left and right output of that row;
// interleaved into 32 columns from dst (plus bias), the first n of them written.
__attribute__((target("avx512f"))) inline void wino_store_tile_row(__m512 y0, __m512 y1, bool has_bias, float bias,
                                                                   float* dst, int n) {
    const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i ihi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    if (has_bias) {
        const __m512 vb = _mm512_set1_ps(bias);
        y0 = _mm512_add_ps(y0, vb);
        y1 = _mm512_add_ps(y1, vb);
    }
    _mm512_mask_storeu_ps(dst, first_lanes(n), _mm512_permutex2var_ps(y0, ilo, y1));
    _mm512_mask_storeu_ps(dst + 16, first_lanes(n - 16), _mm512_permutex2var_ps(y0, ihi, y1));
}

// All alpha^2 GEMMs of a block: M[xi] (rows o, first `tiles` columns) from V[xi] and U[xi].
inline void wino_gemm_all(const float* V, std::size_t vplane, int Tp, int tiles, int C, const float* U, int O, float* M,
                          std::size_t mplane, int alpha2) {
    for (int xi = 0; xi < alpha2; ++xi) {
        const float* Vx = V + xi * vplane;
        const float* Ux = U + std::size_t(xi) * C * O;
        float* Mx = M + xi * mplane;
        int o0 = 0;
        for (; o0 + 8 <= O; o0 += 8) wino_gemm_rows<8>(Vx, Tp, tiles, C, Ux, O, o0, Mx);
        switch (O - o0) {
            case 0: break;
            case 1: wino_gemm_rows<1>(Vx, Tp, tiles, C, Ux, O, o0, Mx); break;
            case 2: wino_gemm_rows<2>(Vx, Tp, tiles, C, Ux, O, o0, Mx); break;
            case 3: wino_gemm_rows<3>(Vx, Tp, tiles, C, Ux, O, o0, Mx); break;
            case 4: wino_gemm_rows<4>(Vx, Tp, tiles, C, Ux, O, o0, Mx); break;
            case 5: wino_gemm_rows<5>(Vx, Tp, tiles, C, Ux, O, o0, Mx); break;
            case 6: wino_gemm_rows<6>(Vx, Tp, tiles, C, Ux, O, o0, Mx); break;
            default: wino_gemm_rows<7>(Vx, Tp, tiles, C, Ux, O, o0, Mx); break;
        }
    }
}

}  // namespace detail

// Floats of scratch winograd_image_avx512<Variant> needs for an (OH, OW) output.
template <class Variant>
std::size_t winograd_tmp_floats(int C, int O, int OH, int OW) {
    const int TW = (OW + 1) / 2, TH = (OH + 1) / 2;
    const int Tp = detail::winograd_round16(detail::winograd_block_rows(TH, TW, Variant::kBlockTiles) * TW);
    return Variant::kAlpha2 * (detail::winograd_plane(C, Tp) + detail::winograd_plane(O, Tp)) + 16;  // + 16: alignment
}

// One image: x (C, H, W), U (alpha^2, C, O) from the variant's weight transform, y (O, OH, OW) =
// conv + bias (bias may be null); tmp holds winograd_tmp_floats<Variant>(C, O, OH, OW).
template <class Variant>
void winograd_image_avx512(const float* x, int C, int H, int W, const float* U, int O, const float* bias, float* y,
                           float* tmp) {
    const int OH = H - Variant::kR + 1, OW = W - Variant::kR + 1, TH = (OH + 1) / 2, TW = (OW + 1) / 2;
    const int rows = detail::winograd_block_rows(TH, TW, Variant::kBlockTiles);
    const int Tp = detail::winograd_round16(rows * TW);
    const std::size_t vplane = detail::winograd_plane(C, Tp), mplane = detail::winograd_plane(O, Tp);
    float* V = tmp + (-(reinterpret_cast<std::uintptr_t>(tmp) / sizeof(float)) & 15);  // [alpha2][C][Tp], 64-byte aligned
    float* M = V + Variant::kAlpha2 * vplane;                                         // [alpha2][O][Tp]
    for (int th0 = 0; th0 < TH; th0 += rows) {
        const int th1 = std::min(TH, th0 + rows), tiles = detail::winograd_round16((th1 - th0) * TW);
        for (int c = 0; c < C; ++c)
            Variant::input_transform(x + std::size_t(c) * H * W, H, W, TW, th0, th1, V + std::size_t(c) * Tp, vplane);
        // The GEMMs run over whole vectors of tiles: zero the columns past the block's last tile
        // (not stale scratch: no denormals, nothing uninitialised read).
        const int used = (th1 - th0) * TW;
        if (used < tiles)
            for (int xi = 0; xi < Variant::kAlpha2; ++xi)
                for (int c = 0; c < C; ++c) {
                    float* v = V + xi * vplane + std::size_t(c) * Tp;
                    std::fill(v + used, v + tiles, 0.f);
                }
        detail::wino_gemm_all(V, vplane, Tp, tiles, C, U, O, M, mplane, Variant::kAlpha2);
        for (int o = 0; o < O; ++o)
            Variant::output_transform(M + std::size_t(o) * Tp, mplane, OH, OW, TW, th0, th1, bias ? bias[o] : 0.f,
                                      bias != nullptr, y + std::size_t(o) * OH * OW);
    }
}
#endif

}  // namespace ann::cpu
