#pragma once
// What the Winograd variants F(2x2,3x3) (conv_winograd_f23.hpp), F(4x4,3x3) (conv_winograd_f43.hpp)
// and F(2x2,5x5) (conv_winograd_f25.hpp) share: the weight transform, one scalar kernel and one
// AVX-512 kernel per image, each written once for any variant. A variant Vt supplies
//   kR (kernel size), kM (output tile m x m), kA = kM + kR - 1 (transformed tile alpha x alpha),
//   G (alpha x r, the weight transform),
//   bt(d, v): v = B^T d for alpha values, at(m, y): y = A^T m (alpha -> m values), in any T,
//   bt_zmm / at_zmm: the same operations in the same order on 16 lanes.
// Per m x m output tile and channel pair (o, c): Y = A^T [ (G g G^T) .* (B^T d B) ] A, with d the
// alpha x alpha input patch at (m*th, m*tw) and g = w[o][c]. Summed over c this is alpha^2 small
// GEMMs, M[xi] (O x T) = U[xi] (O x C) V[xi] (C x T), xi = alpha*a + b the position in the
// transformed tile, T the tiles, U the transformed weights.
// Partial tiles (OH or OW not a multiple of m) read zeros past the input and drop the outputs past
// OH/OW. The kept outputs are exact in the transform's arithmetic (the zeros stand for nothing),
// and their float error is covered by the bound (S counts the whole patch, zeros included).
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
namespace detail {
template <class T, int A, int K>
__attribute__((always_inline)) inline void winograd_weights_loop(const double (&G)[A][K], const T* w, int O, int C, bool backward, T* U) {
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
// The same loop where FMA is an instruction: in a build without it (-march=x86-64-v2) every
// std::fma is a call into libm, and on small maps this transform then took as long as the
// convolution (F(2x2,5x5) on cnn_4's 12x12 layer: 76 against 115 GFLOP/s, one thread). fma is
// correctly rounded either way, so the bits are the same.
template <class T, int A, int K>
ANN_AVX512_TARGET void winograd_weights_fma(const double (&G)[A][K], const T* w, int O, int C, bool backward, T* U) {
    winograd_weights_loop<T, A, K>(G, w, O, C, backward, U);
}
#endif
}  // namespace detail

template <class T, int A, int K>
void winograd_weights_from_g(const double (&G)[A][K], const T* w, int O, int C, bool backward, T* U) {
#if ANN_HAVE_AVX512_KERNELS
    if (have_avx512()) return detail::winograd_weights_fma<T, A, K>(G, w, O, C, backward, U);
#endif
    detail::winograd_weights_loop<T, A, K>(G, w, O, C, backward, U);
}

// Scalar, one image, any variant: x (C, H, W), U from winograd_weights_from_g(Vt::G) (C inputs,
// O outputs), y (O, H-r+1, W-r+1) = conv + bias (bias may be null); tmp holds alpha^2*C values.
// The same operations in the same order as the AVX-512 kernel (the channel sum an FMA chain).
template <class Vt, class T>
void winograd_image_scalar(const T* x, int C, int H, int W, const T* U, int O, const T* bias, T* y, T* tmp) {
    constexpr int A = Vt::kA, A2 = A * A, M = Vt::kM;
    const int OH = H - Vt::kR + 1, OW = W - Vt::kR + 1, TH = (OH + M - 1) / M, TW = (OW + M - 1) / M;
    for (int th = 0; th < TH; ++th)
        for (int tw = 0; tw < TW; ++tw) {
            for (int c = 0; c < C; ++c) {
                T e[A][A];  // (d B) per input row a
                for (int a = 0; a < A; ++a) {
                    T d[A];
                    for (int b = 0; b < A; ++b) {
                        const int h = M * th + a, v = M * tw + b;
                        d[b] = h < H && v < W ? x[(std::size_t(c) * H + h) * W + v] : T(0);
                    }
                    Vt::bt(d, e[a]);
                }
                T* v = tmp + std::size_t(c) * A2;
                for (int b = 0; b < A; ++b) {  // B^T down each column
                    T col[A], out[A];
                    for (int a = 0; a < A; ++a) col[a] = e[a][b];
                    Vt::bt(col, out);
                    for (int a = 0; a < A; ++a) v[A * a + b] = out[a];
                }
            }
            for (int o = 0; o < O; ++o) {
                T m[A][A];
                for (int xi = 0; xi < A2; ++xi) {
                    T acc = T(0);
                    for (int c = 0; c < C; ++c)
                        acc = std::fma(U[(std::size_t(xi) * C + c) * O + o], tmp[std::size_t(c) * A2 + xi], acc);
                    m[xi / A][xi % A] = acc;
                }
                T r[M][A];  // A^T M down the columns, then A along each row
                for (int b = 0; b < A; ++b) {
                    T col[A], out[M];
                    for (int a = 0; a < A; ++a) col[a] = m[a][b];
                    Vt::at(col, out);
                    for (int i = 0; i < M; ++i) r[i][b] = out[i];
                }
                const T bo = bias ? bias[o] : T(0);
                for (int i = 0; i < M; ++i) {
                    const int oh = M * th + i;
                    if (oh >= OH) break;
                    T yv[M];
                    Vt::at(r[i], yv);
                    for (int j = 0; j < M; ++j) {
                        const int ow = M * tw + j;
                        if (ow < OW) y[(std::size_t(o) * OH + oh) * OW + ow] = bias ? yv[j] + bo : yv[j];
                    }
                }
            }
        }
}

// How the AVX-512 kernel lays tiles into the 16 lanes of its transform vectors and into the
// columns of V and M. Wide images (more than 8 tiles per tile row): a vector holds up to 16 tiles
// of one tile row (the row cut into chunks of 16), and tile (th, tw) of a block starting at tile
// row th0 is column (th - th0) * TW + tw. Narrow images: a vector holds R = 16 / TW whole tile
// rows (lane s * TW + tw for tile row th0 + v * R + s), column v * 16 + lane, the lanes past R * TW
// zero. Without this an 8x8 output in 2x2 tiles would fill 4 of 16 lanes, and the transforms
// would cost 4x what they need.
struct WinogradLanes {
    int TW, R;
    explicit WinogradLanes(int tw) : TW(tw), R(tw > 8 ? 1 : 16 / tw) {}
    // V/M columns of `rows` tile rows (a whole number of 16-column vectors).
    int columns(int rows) const { return R == 1 ? (rows * TW + 15) / 16 * 16 : (rows + R - 1) / R * 16; }
    // Tile rows per block: about `block_tiles` tiles (at least one vector), the TH rows split
    // evenly, a multiple of R.
    int block_rows(int TH, int block_tiles) const {
        const int step = R, per = std::max(step, block_tiles / (R == 1 ? TW : 16) * step);
        const int rows = std::min(TH, per), blocks = (TH + rows - 1) / rows, even = (TH + blocks - 1) / blocks;
        return std::min(TH, (even + step - 1) / step * step);
    }
};

#if ANN_HAVE_AVX512_KERNELS
namespace detail {

// Stride of the planes of V or M (floats): an odd number of 64-byte lines, so the 16 or 36 planes
// the transforms touch together fall into different L1 sets (a multiple of 4 KB, e.g. 16
// channels x 64 tiles, put them all in one set: 3-6x slower transforms, measured).
inline std::size_t winograd_plane(int channels, int Tp) { return (std::size_t(channels) * Tp / 16 | 1) * 16; }

// Lanes [lo, hi) of the 16 (clipped).
inline __mmask16 lanes_between(int lo, int hi) { return __mmask16(first_lanes(hi) & ~first_lanes(lo)); }

// M (O x Tp) = for one xi: block of OB output channels x NV*16 tiles, summed over C.
template <int OB, int NV>
ANN_AVX512_TARGET inline void wino_gemm_block(const float* V, int Tp, int C, const float* U, int O,
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

// Which image elements one transform vector covers: the sub-rows s < `rows` of a vector
// (R tile rows, or one row chunk of `nt` tiles from tile column tw0), each spanning m*nt
// consecutive positions e of a window of 16m floats (m zmm): position e of sub-row s is column
// m*tw0 + e - s*m*nt + q of its image row, for a window shifted q columns right.
template <int m>
struct WinoWindow {
    __mmask16 mask[m][16];  // [zmm j][sub-row s]: the lanes of zmm j that sub-row s owns and that exist
    int shift[16];          // element offset of sub-row s's position 0 from its row's column 0

    void set(int nt, int tw0, int rows, int width, int q) {
        for (int s = 0; s < rows; ++s) {
            shift[s] = m * tw0 + q - s * m * nt;
            // positions [s*m*nt, (s+1)*m*nt) of the window whose columns are < width
            const int lo = s * m * nt, hi = std::min((s + 1) * m * nt, s * m * nt + width - m * tw0 - q);
            for (int j = 0; j < m; ++j) mask[j][s] = lanes_between(lo - 16 * j, hi - 16 * j);
        }
    }
};

// The m-way split of a 16m-float window into m vectors: out[k][lane] = window[m*lane + k], for
// k < n (n <= m: the columns still needed).
template <int m>
ANN_AVX512_TARGET inline void wino_deinterleave(const __m512 w[m], int n, __m512* out) {
    if constexpr (m == 2) {
        const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        out[0] = _mm512_permutex2var_ps(w[0], even, w[1]);
        if (n > 1) out[1] = _mm512_permutex2var_ps(w[0], odd, w[1]);
    } else {
        static_assert(m == 4, "Winograd output tiles are 2x2 or 4x4");
        // First columns k, k+1 of tiles 0-7 (from w0, w1) and 8-15 (w2, w3) in the two halves,
        // then the halves put together.
        const __m512i k01 = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 1, 5, 9, 13, 17, 21, 25, 29);
        const __m512i k23 = _mm512_setr_epi32(2, 6, 10, 14, 18, 22, 26, 30, 3, 7, 11, 15, 19, 23, 27, 31);
        const __m512i lo = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
        const __m512i hi = _mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
        const __m512 p01 = _mm512_permutex2var_ps(w[0], k01, w[1]), q01 = _mm512_permutex2var_ps(w[2], k01, w[3]);
        out[0] = _mm512_permutex2var_ps(p01, lo, q01);
        if (n > 1) out[1] = _mm512_permutex2var_ps(p01, hi, q01);
        if (n > 2) {
            const __m512 p23 = _mm512_permutex2var_ps(w[0], k23, w[1]), q23 = _mm512_permutex2var_ps(w[2], k23, w[3]);
            out[2] = _mm512_permutex2var_ps(p23, lo, q23);
            if (n > 3) out[3] = _mm512_permutex2var_ps(p23, hi, q23);
        }
    }
}

// The inverse: window[m*lane + j] = y[j][lane], 16m floats in m zmm.
template <int m>
ANN_AVX512_TARGET inline void wino_interleave(const __m512 y[m], __m512 w[m]) {
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    if constexpr (m == 2) {
        w[0] = _mm512_permutex2var_ps(y[0], lo, y[1]);
        w[1] = _mm512_permutex2var_ps(y[0], hi, y[1]);
    } else {
        static_assert(m == 4, "Winograd output tiles are 2x2 or 4x4");
        // (y0, y1) and (y2, y3) pairs per tile, then the pairs interleaved as 64-bit elements.
        const __m512i plo = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), phi = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
        const __m512d a = _mm512_castps_pd(_mm512_permutex2var_ps(y[0], lo, y[1]));
        const __m512d b = _mm512_castps_pd(_mm512_permutex2var_ps(y[0], hi, y[1]));
        const __m512d c = _mm512_castps_pd(_mm512_permutex2var_ps(y[2], lo, y[3]));
        const __m512d d = _mm512_castps_pd(_mm512_permutex2var_ps(y[2], hi, y[3]));
        w[0] = _mm512_castpd_ps(_mm512_permutex2var_pd(a, plo, c));
        w[1] = _mm512_castpd_ps(_mm512_permutex2var_pd(a, phi, c));
        w[2] = _mm512_castpd_ps(_mm512_permutex2var_pd(b, plo, d));
        w[3] = _mm512_castpd_ps(_mm512_permutex2var_pd(b, phi, d));
    }
}

// d B of one input row for the tiles of a vector: d's columns k of tile lane t are the windows'
// positions m*t + k - q (windows shifted q = 0, m, 2m, ... columns), split into columns.
// Wide rows: one image row h from column col0 (zero past the image).
template <class Vt>
ANN_AVX512_TARGET __attribute__((always_inline)) inline void wino_row_wide(const float* xc, int H, int W, int h,
                                                                           int col0, __m512* out) {
    constexpr int m = Vt::kM, A = Vt::kA, NW = (A + m - 1) / m;
    if (h >= H) {
ANN_GCC_UNROLL(6)
        for (int k = 0; k < A; ++k) out[k] = _mm512_setzero_ps();
        return;
    }
    const float* p = xc + std::size_t(h) * W + col0;
    const int n = W - col0;  // columns that exist from p on
    __m512 d[NW * m];
ANN_GCC_UNROLL(3)
    for (int q = 0; q < NW; ++q) {
        __m512 w[m];
ANN_GCC_UNROLL(4)
        for (int j = 0; j < m; ++j) w[j] = _mm512_maskz_loadu_ps(first_lanes(n - q * m - 16 * j), p + q * m + 16 * j);
        wino_deinterleave<m>(w, std::min(m, A - q * m), d + q * m);
    }
    Vt::bt_zmm(d, out);
}
// Packed rows: image rows m*(th+s)+a of the vector's tile rows s < rows, merged by win's masks.
template <class Vt>
ANN_AVX512_TARGET __attribute__((always_inline)) inline void wino_row_packed(const float* xc, int H, int W, int th,
                                                                             int rows, int a,
                                                                             const WinoWindow<Vt::kM>* win,
                                                                             __m512* out) {
    constexpr int m = Vt::kM, A = Vt::kA, NW = (A + m - 1) / m;
    __m512 d[NW * m];
ANN_GCC_UNROLL(3)
    for (int q = 0; q < NW; ++q) {
        __m512 w[m];
ANN_GCC_UNROLL(4)
        for (int j = 0; j < m; ++j) w[j] = _mm512_setzero_ps();
        for (int s = 0; s < rows; ++s) {
            const int h = m * (th + s) + a;
            if (h >= H) break;
            const float* p = xc + (std::ptrdiff_t(h) * W + win[q].shift[s]);
ANN_GCC_UNROLL(4)
            for (int j = 0; j < m; ++j)  // (a masked load costs the same with no lanes: skip those)
                if (win[q].mask[j][s]) w[j] = _mm512_mask_loadu_ps(w[j], win[q].mask[j][s], p + 16 * j);
        }
        wino_deinterleave<m>(w, std::min(m, A - q * m), d + q * m);
    }
    Vt::bt_zmm(d, out);
}

// B^T down each column of the vector's A input rows (row a in e[(base + a) % A]) into V.
template <class Vt>
ANN_AVX512_TARGET __attribute__((always_inline)) inline void wino_columns_to_v(const __m512 (*e)[Vt::kA], int base,
                                                                               __mmask16 keep, float* dst,
                                                                               std::size_t plane) {
    constexpr int A = Vt::kA;
ANN_GCC_UNROLL(6)
    for (int b = 0; b < A; ++b) {
        __m512 col[A], out[A];
ANN_GCC_UNROLL(6)
        for (int a = 0; a < A; ++a) col[a] = e[(base + a) % A][b];
        Vt::bt_zmm(col, out);
ANN_GCC_UNROLL(6)
        for (int a = 0; a < A; ++a) _mm512_mask_storeu_ps(dst + (A * a + b) * plane, keep, out[a]);
    }
}

// One vector of a wide image (tile row th, tiles tw0..tw0+nt-1): its input row a is kept in ring
// slot (base + a) % A, so the next tile row (base + m) finds its first A - m rows computed.
template <class Vt>
ANN_AVX512_TARGET __attribute__((always_inline)) inline void wino_wide_vector(const float* xc, int H, int W, int th,
                                                                              int tw0, int nt, bool fresh, int base,
                                                                              __m512 (*ring)[Vt::kA], float* dst,
                                                                              std::size_t plane) {
    constexpr int m = Vt::kM, A = Vt::kA;
ANN_GCC_UNROLL(6)
    for (int a = 0; a < A; ++a)
        if (fresh || a >= A - m) wino_row_wide<Vt>(xc, H, W, m * th + a, m * tw0, ring[(base + a) % A]);
    wino_columns_to_v<Vt>(ring, base, first_lanes(nt), dst, plane);
}

// V[alpha*a+b][c][t] for the tile rows [th0, th1) of channel image xc (H, W), laid out as
// WinogradLanes says.
template <class Vt>
ANN_AVX512_TARGET void winograd_input_transform(const float* xc, int H, int W, int TW, int th0,
                                                int th1, float* V, std::size_t plane) {
    constexpr int m = Vt::kM, A = Vt::kA, NW = (A + m - 1) / m;
    const WinogradLanes L(TW);
    __m512 e[A][A];
    for (auto& row : e)  // every vector writes its rows before reading them; this tells the compiler
        for (auto& v : row) v = _mm512_setzero_ps();
    if (L.R == 1) {
        // Tile rows one after another, the ring's base advancing by m. F(2x2,3x3)'s 4x4 ring fits
        // in registers if every index is known at compile time: two tile rows per round, bases 0
        // and 2 (a runtime index puts the ring in memory). The 36 vectors of a 6x6 ring do not
        // fit in the 32 registers anyway: one copy of the code, a runtime base.
        for (int tw0 = 0; tw0 < TW; tw0 += 16) {
            const int nt = std::min(16, TW - tw0);
            auto dst = [&](int th) { return V + (th - th0) * TW + tw0; };
            if constexpr (A == 2 * m) {
                for (int th = th0; th < th1; th += 2) {
                    wino_wide_vector<Vt>(xc, H, W, th, tw0, nt, th == th0, 0, e, dst(th), plane);
                    if (th + 1 < th1) wino_wide_vector<Vt>(xc, H, W, th + 1, tw0, nt, false, m, e, dst(th + 1), plane);
                }
            } else {
                for (int th = th0, base = 0; th < th1; ++th, base = (base + m) % A)
                    wino_wide_vector<Vt>(xc, H, W, th, tw0, nt, th == th0, base, e, dst(th), plane);
            }
        }
        return;
    }
    // Packed: R tile rows per vector, all of them computed afresh (R*m >= A for F(4x4,3x3) and
    // F(2x2,3x3); F(2x2,5x5) with R = 2 could reuse two of six rows).
    WinoWindow<m> win[NW];
    for (int q = 0; q < NW; ++q) win[q].set(TW, 0, L.R, W, q * m);
    for (int th = th0; th < th1; th += L.R) {
        const int rows = std::min(L.R, th1 - th);  // the block's last vector may hold fewer
ANN_GCC_UNROLL(6)
        for (int a = 0; a < A; ++a) wino_row_packed<Vt>(xc, H, W, th, rows, a, win, e[a]);
        // Whole vectors: the lanes past its tiles hold zeros or values of tiles that no output
        // reads back (the GEMM keeps columns apart).
        wino_columns_to_v<Vt>(e, 0, __mmask16(0xFFFF), V + (th - th0) / L.R * 16, plane);
    }
}

// Output channel o for the tile rows [th0, th1), plus bias, into yo (OH, OW): A^T M down the
// columns, A along each output row of the tiles, the m columns interleaved into a 16m-float
// window and written row by row (packed rows: each tile row's part of the window to its own rows).
template <class Vt>
ANN_AVX512_TARGET void winograd_output_transform(const float* Mo, std::size_t plane, int OH, int OW,
                                                 int TW, int th0, int th1, float bias, bool has_bias,
                                                 float* yo) {
    constexpr int m = Vt::kM, A = Vt::kA;
    const WinogradLanes L(TW);
    const __m512 vb = _mm512_set1_ps(bias);
    WinoWindow<m> win{};
    if (L.R > 1) win.set(TW, 0, L.R, OW, 0);
    for (int tw0 = 0; tw0 < TW; tw0 += 16) {
        const int nt = std::min(16, TW - tw0);
        for (int th = th0; th < th1; th += L.R) {
            const int rows = std::min(L.R, th1 - th);
            const __mmask16 keep = L.R == 1 ? first_lanes(nt) : __mmask16(0xFFFF);
            const float* src = Mo + (L.R == 1 ? (th - th0) * TW + tw0 : (th - th0) / L.R * 16);
            __m512 r[m][A];  // A^T M: output row i, column b of the tiles
ANN_GCC_UNROLL(6)
            for (int b = 0; b < A; ++b) {
                __m512 col[A], out[m];
ANN_GCC_UNROLL(6)
                for (int a = 0; a < A; ++a) col[a] = _mm512_maskz_loadu_ps(keep, src + (A * a + b) * plane);
                Vt::at_zmm(col, out);
ANN_GCC_UNROLL(4)
                for (int i = 0; i < m; ++i) r[i][b] = out[i];
            }
ANN_GCC_UNROLL(4)
            for (int i = 0; i < m; ++i) {
                __m512 y[m], w[m];
                Vt::at_zmm(r[i], y);
                if (has_bias)
ANN_GCC_UNROLL(4)
                    for (int j = 0; j < m; ++j) y[j] = _mm512_add_ps(y[j], vb);
                wino_interleave<m>(y, w);
                if (L.R == 1) {
                    const int oh = m * th + i;
                    if (oh >= OH) break;
                    float* p = yo + std::size_t(oh) * OW + m * tw0;
ANN_GCC_UNROLL(4)
                    for (int j = 0; j < m; ++j) _mm512_mask_storeu_ps(p + 16 * j, first_lanes(OW - m * tw0 - 16 * j), w[j]);
                    continue;
                }
                for (int s = 0; s < rows; ++s) {
                    const int oh = m * (th + s) + i;
                    if (oh >= OH) break;
                    float* p = yo + (std::ptrdiff_t(oh) * OW + win.shift[s]);
ANN_GCC_UNROLL(4)
                    for (int j = 0; j < m; ++j) _mm512_mask_storeu_ps(p + 16 * j, win.mask[j][s], w[j]);
                }
            }
        }
    }
}

}  // namespace detail

// Floats of scratch winograd_image_avx512<Vt> needs for an (OH, OW) output.
template <class Vt>
std::size_t winograd_tmp_floats(int C, int O, int OH, int OW) {
    const int TW = (OW + Vt::kM - 1) / Vt::kM, TH = (OH + Vt::kM - 1) / Vt::kM;
    const WinogradLanes L(TW);
    const int Tp = L.columns(L.block_rows(TH, Vt::kBlockTiles));
    return Vt::kA * Vt::kA * (detail::winograd_plane(C, Tp) + detail::winograd_plane(O, Tp)) + 16;  // + 16: alignment
}

// One image: x (C, H, W), U (alpha^2, C, O) from the variant's weight transform, y (O, OH, OW) =
// conv + bias (bias may be null); tmp holds winograd_tmp_floats<Vt>(C, O, OH, OW). The image is
// processed in blocks of tile rows (about kBlockTiles tiles) so V and M stay near L1/L2.
template <class Vt>
void winograd_image_avx512(const float* x, int C, int H, int W, const float* U, int O, const float* bias, float* y,
                           float* tmp) {
    constexpr int A2 = Vt::kA * Vt::kA;
    const int OH = H - Vt::kR + 1, OW = W - Vt::kR + 1, TH = (OH + Vt::kM - 1) / Vt::kM, TW = (OW + Vt::kM - 1) / Vt::kM;
    const WinogradLanes L(TW);
    const int rows = L.block_rows(TH, Vt::kBlockTiles), Tp = L.columns(rows);
    const std::size_t vplane = detail::winograd_plane(C, Tp), mplane = detail::winograd_plane(O, Tp);
    float* V = tmp + (-(reinterpret_cast<std::uintptr_t>(tmp) / sizeof(float)) & 15);  // [alpha2][C][Tp], 64-byte aligned
    float* M = V + A2 * vplane;                                                       // [alpha2][O][Tp]
    for (int th0 = 0; th0 < TH; th0 += rows) {
        const int th1 = std::min(TH, th0 + rows), tiles = L.columns(th1 - th0);
        for (int c = 0; c < C; ++c)
            detail::winograd_input_transform<Vt>(x + std::size_t(c) * H * W, H, W, TW, th0, th1, V + std::size_t(c) * Tp,
                                                 vplane);
        // The GEMMs run over whole vectors of tiles: zero the columns past the block's last tile
        // (not stale scratch: no denormals, nothing uninitialised read). Packed rows (R > 1)
        // write whole vectors.
        const int used = L.R == 1 ? (th1 - th0) * TW : tiles;
        if (used < tiles)
            for (int xi = 0; xi < A2; ++xi)
                for (int c = 0; c < C; ++c) {
                    float* v = V + xi * vplane + std::size_t(c) * Tp;
                    std::fill(v + used, v + tiles, 0.f);
                }
        detail::wino_gemm_all(V, vplane, Tp, tiles, C, U, O, M, mplane, A2);
        for (int o = 0; o < O; ++o)
            detail::winograd_output_transform<Vt>(M + std::size_t(o) * Tp, mplane, OH, OW, TW, th0, th1,
                                                  bias ? bias[o] : 0.f, bias != nullptr, y + std::size_t(o) * OH * OW);
    }
}
#endif

}  // namespace ann::cpu
