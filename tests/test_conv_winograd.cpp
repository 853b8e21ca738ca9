// Winograd F(2x2,3x3), F(4x4,3x3) and F(2x2,5x5) (backend/cpu/conv_winograd*.hpp) against the
// plain-loop reference: the scalar kernel in double to ~1e-12 (the transform math), the scalar
// and AVX-512 kernels in float within the error bound derived in the headers,
// |err| <= g_{C+e} S + u |b| per output (e = 9 for F(2x2,3x3), 13 for the 6x6 variants; S computed
// here in double from |A^T|, |G|, |B^T| and the data), forward and backward-data, the homework's
// 3x3 and 5x5 shapes and odd sizes (narrow ones pack several tile rows per vector); identical
// bits for 1, 2 and 3 threads; and the dispatching entry points of conv2d.hpp on shapes the
// predicates pick.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "ann/ann.hpp"
#include "ann/backend/cpu/conv2d.hpp"
#include "ann/backend/cpu/conv_reference.hpp"
#include "ann/backend/cpu/conv_winograd.hpp"

using namespace ann;

namespace {

struct WShape {
    int C, H, W, O, k = 3, m = 2;  // m: the output tile of the variant
};

std::vector<WShape> homework_shapes(int k, int m) {
    std::vector<WShape> s;
    if (k == 5)
        for (auto [c, h, o] : {std::array<int, 3>{16, 30, 8}, {8, 28, 16}, {16, 12, 16}}) s.push_back({c, h, h, o, k, m});
    else
        for (auto [c, h, o] : {std::array<int, 3>{3, 32, 16}, {16, 30, 8}, {3, 32, 8}, {8, 30, 16}, {16, 28, 8},
                               {8, 26, 16}, {16, 12, 16}, {16, 10, 8}})
            s.push_back({c, h, h, o, k, m});
    return s;
}

std::vector<WShape> odd_shapes(int k, int m) {
    std::vector<WShape> s;
    for (int h : {5, 7, 9, 13})
        for (int c : {1, 3, 5, 16})
            for (int o : {1, 3, 8, 17}) s.push_back({c, h, h, o, k, m});
    // non-square, more than 16 tiles per tile row (two column chunks), the smallest input, tile
    // rows of 9 (not packed) and 8 tiles (two per vector), a ragged last vector of packed rows,
    s.push_back({5, k + 3, 40, 11, k, m});
    s.push_back({2, 9, k + 2, 4, k, m});
    s.push_back({3, k, k, 2, k, m});
    s.push_back({4, k + 1, 37, 9, k, m});
    s.push_back({3, 11, 9 * m + k - 1, 5, k, m});
    s.push_back({3, 3 * m + k - 1, 8 * m + k - 1, 6, k, m});
    s.push_back({2, 7 * m + k - 1, 3 * m + k - 2, 3, k, m});
    // more than one block of tile rows: packed (9 rows of 8 tiles, blocks of 8), and wide with
    // two column chunks
    s.push_back({2, 9 * m + k - 1, 8 * m + k - 1, 3, k, m});
    s.push_back({5, 7 * m + k - 1, 40, 11, k, m});
    return s;
}

// |G|, |B^T|, |A^T| of F(mxm,kxk), and the header's count of rounding levels besides the C-term
// chain (9 for F(2x2,3x3), 13 for F(4x4,3x3) and F(2x2,5x5)). The 6x6 variants share the points
// 0, 1, -1, 2, -2, infinity: |G| rows s_p |p|^i, |A^T| rows |p|^j (infinity only in the last).
struct AbsMats {
    int k, m, alpha, levels;
    std::vector<std::vector<double>> G, BT, AT;
};
AbsMats abs_mats(int k, int m) {
    if (k == 3 && m == 2)
        return {3, 2, 4, 9,
                {{1, 0, 0}, {.5, .5, .5}, {.5, .5, .5}, {0, 0, 1}},
                {{1, 0, 1, 0}, {0, 1, 1, 0}, {0, 1, 1, 0}, {0, 1, 0, 1}},
                {{1, 1, 1, 0}, {0, 1, 1, 1}}};
    std::vector<std::vector<double>> G, AT;
    const double pts[5] = {0, 1, -1, 2, -2}, sc[5] = {1.0 / 4, 1.0 / 6, 1.0 / 6, 1.0 / 24, 1.0 / 24};
    for (int a = 0; a < 5; ++a) {
        std::vector<double> row;
        for (int i = 0; i < k; ++i) row.push_back(sc[a] * std::abs(std::pow(pts[a], i)));
        G.push_back(row);
    }
    G.push_back(std::vector<double>(k, 0.0));
    G.back()[k - 1] = 1;
    for (int j = 0; j < m; ++j) {
        std::vector<double> row;
        for (int a = 0; a < 5; ++a) row.push_back(std::abs(std::pow(pts[a], j)));
        row.push_back(j == m - 1 ? 1 : 0);
        AT.push_back(row);
    }
    return {k, m, 6, 13, G,
            {{4, 0, 5, 0, 1, 0}, {0, 4, 4, 1, 1, 0}, {0, 4, 4, 1, 1, 0},
             {0, 2, 1, 2, 1, 0}, {0, 2, 1, 2, 1, 0}, {0, 4, 0, 5, 0, 1}},
            AT};
}

template <class T>
std::vector<T> random_vec(std::size_t n, Rng& rng) {
    std::vector<T> v(n);
    for (auto& e : v) e = static_cast<T>(rng.uniform(-1, 1));
    return v;
}

template <class T>
std::vector<double> to_double(const std::vector<T>& v) {
    return std::vector<double>(v.begin(), v.end());
}

// Per-output scales of the forward conv of x (N, Ci, H, W) with k (Oo, Ci, K, K).
struct Scales {
    std::vector<double> S;     // the header's S: the Winograd product in absolute values
    std::vector<double> taps;  // sum_taps |k||x|
    std::vector<double> tile;  // sum_c ||k_oc||_1 * max |x_c| over the output's input tile
    std::vector<char> full;    // all K*K taps read real data (always for the forward; interior dx)
};

Scales abs_bounds(const std::vector<double>& x, const std::vector<double>& k, int N, int Ci, int H, int W, int Oo,
                  int K, int mt) {
    Scales sc;
    auto& S = sc.S;
    auto& taps = sc.taps;
    const AbsMats m = abs_mats(K, mt);
    const int A = m.alpha, A2 = A * A, KK = K * K, OH = H - K + 1, OW = W - K + 1;
    const auto &G = m.G, &BT = m.BT, &AT = m.AT;
    std::vector<double> Ua(std::size_t(Oo) * Ci * A2);
    for (int o = 0; o < Oo; ++o)
        for (int c = 0; c < Ci; ++c)
            for (int a = 0; a < A; ++a)
                for (int b = 0; b < A; ++b) {
                    double s = 0;
                    for (int i = 0; i < K; ++i)
                        for (int j = 0; j < K; ++j)
                            s += G[a][i] * std::abs(k[((std::size_t(o) * Ci + c) * K + i) * K + j]) * G[b][j];
                    Ua[(std::size_t(o) * Ci + c) * A2 + A * a + b] = s;
                }
    std::vector<double> k1(std::size_t(Oo) * Ci, 0.0);  // ||k_oc||_1
    for (std::size_t e = 0; e < k.size(); ++e) k1[e / KK] += std::abs(k[e]);
    S.assign(std::size_t(N) * Oo * OH * OW, 0.0);
    taps.assign(S.size(), 0.0);
    sc.tile.assign(S.size(), 0.0);
    sc.full.assign(S.size(), 1);
    std::vector<double> Va(std::size_t(Ci) * A2), dmax(Ci), d(A2);
    for (int n = 0; n < N; ++n)
        for (int th = 0; th < (OH + mt - 1) / mt; ++th)
            for (int tw = 0; tw < (OW + mt - 1) / mt; ++tw) {
                for (int c = 0; c < Ci; ++c) {
                    for (int p = 0; p < A; ++p)
                        for (int q = 0; q < A; ++q) {
                            const int h = mt * th + p, v = mt * tw + q;
                            d[A * p + q] = h < H && v < W ? std::abs(x[((std::size_t(n) * Ci + c) * H + h) * W + v]) : 0.0;
                        }
                    dmax[c] = *std::max_element(d.begin(), d.end());
                    for (int a = 0; a < A; ++a)
                        for (int b = 0; b < A; ++b) {
                            double s = 0;
                            for (int p = 0; p < A; ++p)
                                for (int q = 0; q < A; ++q) s += BT[a][p] * d[A * p + q] * BT[b][q];
                            Va[std::size_t(c) * A2 + A * a + b] = s;
                        }
                }
                for (int o = 0; o < Oo; ++o)
                    for (int r = 0; r < mt; ++r)
                        for (int s = 0; s < mt; ++s) {
                            const int oh = mt * th + r, ow = mt * tw + s;
                            if (oh >= OH || ow >= OW) continue;
                            double acc = 0, tap = 0, tile = 0;
                            for (int c = 0; c < Ci; ++c) {
                                tile += k1[std::size_t(o) * Ci + c] * dmax[c];
                                for (int a = 0; a < A; ++a)
                                    for (int b = 0; b < A; ++b)
                                        acc += AT[r][a] * AT[s][b] * Ua[(std::size_t(o) * Ci + c) * A2 + A * a + b] *
                                               Va[std::size_t(c) * A2 + A * a + b];
                                for (int i = 0; i < K; ++i)
                                    for (int j = 0; j < K; ++j)
                                        tap += std::abs(k[((std::size_t(o) * Ci + c) * K + i) * K + j] *
                                                        x[((std::size_t(n) * Ci + c) * H + oh + i) * W + ow + j]);
                            }
                            const std::size_t e = ((std::size_t(n) * Oo + o) * OH + oh) * OW + ow;
                            S[e] = acc;
                            taps[e] = tap;
                            sc.tile[e] = tile;
                        }
            }
    return sc;
}

// The backward-data problem as the forward the kernel computes: dy padded by K-1, weights
// flipped with channels swapped; returns the bounds per element of dx.
Scales abs_bounds_backward(const std::vector<double>& dy, const std::vector<double>& w, int N, int C, int H, int W,
                           int O, int K, int tile) {
    const int P = K - 1, OH = H - P, OW = W - P, Hp = H + P, Wp = W + P;
    std::vector<double> pad(std::size_t(N) * O * Hp * Wp, 0.0), k(std::size_t(C) * O * K * K);
    for (int n = 0; n < N; ++n)
        for (int o = 0; o < O; ++o)
            for (int h = 0; h < OH; ++h)
                for (int v = 0; v < OW; ++v)
                    pad[((std::size_t(n) * O + o) * Hp + h + P) * Wp + v + P] =
                        dy[((std::size_t(n) * O + o) * OH + h) * OW + v];
    for (int c = 0; c < C; ++c)
        for (int o = 0; o < O; ++o)
            for (int i = 0; i < K; ++i)
                for (int j = 0; j < K; ++j)
                    k[((std::size_t(c) * O + o) * K + i) * K + j] = w[((std::size_t(o) * C + c) * K + P - i) * K + P - j];
    Scales sc = abs_bounds(pad, k, N, O, Hp, Wp, C, K, tile);
    for (std::size_t e = 0; e < sc.full.size(); ++e) {
        const int h = int(e / W % H), v = int(e % W);
        sc.full[e] = h >= P && h < H - P && v >= P && v < W - P;
    }
    return sc;
}

double gamma(int n) {
    const double u = std::ldexp(1.0, -24);
    return n * u / (1 - n * u);
}

struct Stats {
    double worst_ratio = 0;      // max |err| / bound
    double worst_err_rel = 0;    // max |err| / (sum_taps |w||x| + |b|), outputs with all 9 taps
    double worst_bound_rel = 0;  // max bound / (sum_taps |w||x| + |b|), the same outputs
    double worst_bound_tile = 0; // max bound / (tile scale + |b|), all outputs
};
std::map<std::string, Stats> g_stats;

// Checks float results against the double reference with the derived bound.
// Where an output's taps are not all real data (the border of dx: zero padding), Winograd's
// error still scales with the whole input tile (its neighbours' values), not with that output's
// own sum |w||x|: there the bound is checked against the tile scale only.
// S <= F^2 * tile scale, F = max over (r, i) of sum_a |A^T|_ra |G|_ai (row sum of |B^T|)_a: the
// bound relative to the tile scale can be no larger than F^2 g (16 g for F(2x2,3x3)).
double tile_factor(int K, int tile) {
    const AbsMats m = abs_mats(K, tile);
    double F = 0;
    for (const auto& at : m.AT)
        for (int i = 0; i < K; ++i) {
            double f = 0;
            for (int a = 0; a < m.alpha; ++a) {
                double rs = 0;
                for (double v : m.BT[a]) rs += v;
                f += at[a] * m.G[a][i] * rs;
            }
            F = std::max(F, f);
        }
    return F * F;
}

void check_bound(const std::vector<float>& got, const std::vector<double>& ref, const Scales& sc,
                 const std::vector<double>* bias, int Ci, std::size_t plane, int Oo, int K, int tile,
                 const std::string& cls) {
    const AbsMats mats = abs_mats(K, tile);
    const double u = std::ldexp(1.0, -24), g = gamma(Ci + mats.levels);
    Stats& st = g_stats[cls];
    std::size_t bad = 0;
    double worst_ratio = 0, worst_bound_rel = 0, worst_bound_tile = 0;
    for (std::size_t e = 0; e < got.size(); ++e) {
        const double b = bias ? std::abs((*bias)[(e / plane) % Oo]) : 0.0;
        const double bound = g * sc.S[e] + u * b, err = std::abs(double(got[e]) - ref[e]);
        if (!(err <= bound)) ++bad;
        if (bound > 0) worst_ratio = std::max(worst_ratio, err / bound);
        if (sc.tile[e] + b > 0) worst_bound_tile = std::max(worst_bound_tile, bound / (sc.tile[e] + b));
        const double scale = sc.taps[e] + b;
        if (sc.full[e] && scale > 0) {
            worst_bound_rel = std::max(worst_bound_rel, bound / scale);
            st.worst_err_rel = std::max(st.worst_err_rel, err / scale);
        }
    }
    st.worst_ratio = std::max(st.worst_ratio, worst_ratio);
    st.worst_bound_rel = std::max(st.worst_bound_rel, worst_bound_rel);
    st.worst_bound_tile = std::max(st.worst_bound_tile, worst_bound_tile);
    CHECK(bad == 0);
    CHECK(worst_ratio <= 1.0);
    // The bound says something: small relative to sum |w||x| where all taps are real data, and
    // to the tile scale everywhere (<= F^2 g, tile_factor).
    CHECK(worst_bound_rel < (mats.alpha == 4 ? 1e-4 : 1e-3));
    CHECK(worst_bound_tile <= tile_factor(K, tile) * g);
}

void run_shape(const WShape& s, int N, bool with_bias, const std::string& cls) {
    const int K = s.k, m = s.m;
    const cpu::ConvGeometry g{s.C, s.H, s.W, K, K, 1, 0};
    const int O = s.O, OH = g.OH(), OW = g.OW();
    const std::size_t xs = std::size_t(N) * s.C * s.H * s.W, wn = std::size_t(O) * s.C * K * K,
                      ys = std::size_t(N) * O * OH * OW;
    Rng rng(std::uint64_t(s.C) * 7919 + s.H * 131 + s.W * 17 + O * 3 + N + (with_bias ? 1000 : 0));
    const auto xf = random_vec<float>(xs, rng), wf = random_vec<float>(wn, rng), bf = random_vec<float>(O, rng),
               dyf = random_vec<float>(ys, rng);
    const auto x = to_double(xf), w = to_double(wf), b = to_double(bf), dy = to_double(dyf);
    INFO("N=" << N << " C=" << s.C << " H=" << s.H << " W=" << s.W << " O=" << O << " bias=" << with_bias);

    // Reference in double on the float inputs.
    std::vector<double> y_ref(ys), dx_ref(xs);
    cpu::conv2d_forward_reference(x.data(), w.data(), with_bias ? b.data() : nullptr, y_ref.data(), N, O, g);
    cpu::conv2d_backward_data_reference(dy.data(), w.data(), dx_ref.data(), N, O, g);

    // Scalar Winograd in double: the transform math.
    {
        cpu::ConvWorkspace<double> work;
        std::vector<double> y(ys, 7.0), dx(xs, 7.0);
        cpu::conv2d_winograd_forward(x.data(), w.data(), with_bias ? b.data() : nullptr, y.data(), N, O, g, work, true, m);
        cpu::conv2d_winograd_backward_data(dy.data(), w.data(), dx.data(), N, O, g, work, true, m);
        double worst = 0;
        for (std::size_t e = 0; e < ys; ++e) worst = std::max(worst, std::abs(y[e] - y_ref[e]) / (1.0 + std::abs(y_ref[e])));
        for (std::size_t e = 0; e < xs; ++e) worst = std::max(worst, std::abs(dx[e] - dx_ref[e]) / (1.0 + std::abs(dx_ref[e])));
        CHECK(worst < 1e-12);
    }

    const Scales fwd = abs_bounds(x, w, N, s.C, s.H, s.W, O, K, m),
                 bwd = abs_bounds_backward(dy, w, N, s.C, s.H, s.W, O, K, m);
    const bool avx = cpu::have_avx512();
    for (bool vec : {false, true}) {
        if (vec && !avx) {
            WARN("no AVX-512 on this CPU: AVX-512 Winograd cases skipped");
            continue;
        }
        const std::string tag = cls + (vec ? " avx512" : " scalar");
        cpu::ConvWorkspace<float> work;
        std::vector<float> y(ys, 7.f), dx(xs, 7.f);  // pre-filled: must be overwritten
        cpu::conv2d_winograd_forward(xf.data(), wf.data(), with_bias ? bf.data() : nullptr, y.data(), N, O, g, work, vec,
                                     m);
        check_bound(y, y_ref, fwd, with_bias ? &b : nullptr, s.C, std::size_t(OH) * OW, O, K, m, tag + " fwd");
        cpu::conv2d_winograd_backward_data(dyf.data(), wf.data(), dx.data(), N, O, g, work, vec, m);
        check_bound(dx, dx_ref, bwd, nullptr, O, std::size_t(s.H) * s.W, s.C, K, m, tag + " bwd_data");
    }
}

void print_stats() {
    for (const auto& [cls, st] : g_stats)
        std::printf("  %-26s err/bound %.3f  err/sum|w||x| %.1e  bound/sum|w||x| %.1e  bound/tile %.1e\n",
                    cls.c_str(), st.worst_ratio, st.worst_err_rel, st.worst_bound_rel, st.worst_bound_tile);
    g_stats.clear();
}

std::string kernel_tag(int k, int m) {
    return "F(" + std::to_string(m) + "x" + std::to_string(m) + "," + std::to_string(k) + "x" + std::to_string(k) + ")";
}

void run_homework_shapes(int k, int m) {
    for (const auto& s : homework_shapes(k, m))
        for (int N : {1, 3})
            for (bool bias : {false, true}) run_shape(s, N, bias, kernel_tag(k, m) + " homework C" + std::to_string(s.C));
    print_stats();
}

// Batches of 1 and 3 (6x6 variants: 1 and 2, the S of their 36-point tiles being slower to compute).
void run_odd_shapes(int k, int m) {
    int i = 0;
    for (const auto& s : odd_shapes(k, m)) {
        ++i;
        for (int N : {1, k + m == 5 ? 3 : 2})
            run_shape(s, N, (i + N) % 2 == 0, kernel_tag(k, m) + " odd C" + std::to_string(s.C));
    }
    print_stats();
}

}  // namespace

TEST_CASE("Winograd F(2x2,3x3) matches the reference on the homework's 3x3 shapes", "[conv][winograd]") {
    run_homework_shapes(3, 2);
}

TEST_CASE("Winograd F(2x2,3x3) matches the reference on odd sizes and channel counts", "[conv][winograd]") {
    run_odd_shapes(3, 2);
}

TEST_CASE("Winograd F(4x4,3x3) matches the reference on the homework's 3x3 shapes", "[conv][winograd][f43]") {
    run_homework_shapes(3, 4);
}

TEST_CASE("Winograd F(4x4,3x3) matches the reference on odd sizes and channel counts", "[conv][winograd][f43]") {
    run_odd_shapes(3, 4);
}

TEST_CASE("Winograd F(2x2,5x5) matches the reference on the homework's 5x5 shapes", "[conv][winograd][f25]") {
    run_homework_shapes(5, 2);
}

TEST_CASE("Winograd F(2x2,5x5) matches the reference on odd sizes and channel counts", "[conv][winograd][f25]") {
    run_odd_shapes(5, 2);
}

TEST_CASE("Winograd gives the same bits for 1, 2 and 3 threads", "[conv][winograd][determinism]") {
    if (!cpu::have_avx512()) WARN("no AVX-512 on this CPU: checking the scalar Winograd kernel only");
    const int saved = cpu::num_threads();
    for (const WShape s : {WShape{8, 30, 30, 16}, WShape{5, 9, 13, 17}, WShape{8, 28, 28, 16, 5}, WShape{5, 9, 13, 17, 5},
                           WShape{8, 30, 30, 16, 3, 4}, WShape{5, 9, 13, 17, 3, 4}, WShape{16, 12, 12, 16, 5}}) {
        const int N = 7;
        const cpu::ConvGeometry g{s.C, s.H, s.W, s.k, s.k, 1, 0};
        Rng rng(5);
        auto x = random_vec<float>(std::size_t(N) * s.C * s.H * s.W, rng);
        auto w = random_vec<float>(std::size_t(s.O) * s.C * s.k * s.k, rng);
        auto b = random_vec<float>(s.O, rng);
        auto dy = random_vec<float>(std::size_t(N) * s.O * g.cols(), rng);
        auto run = [&](int threads) {
            cpu::set_num_threads(threads);
            cpu::ConvWorkspace<float> work;
            std::vector<float> y(dy.size()), dx(x.size());
            cpu::conv2d_winograd_forward(x.data(), w.data(), b.data(), y.data(), N, s.O, g, work, true, s.m);
            cpu::conv2d_winograd_backward_data(dy.data(), w.data(), dx.data(), N, s.O, g, work, true, s.m);
            y.insert(y.end(), dx.begin(), dx.end());
            return y;
        };
        const auto one = run(1);
        CHECK(run(2) == one);
        CHECK(run(3) == one);
        CHECK(run(2) == run(2));
    }
    cpu::set_num_threads(saved);
}

TEST_CASE("conv2d_forward / conv2d_backward_data use Winograd where the predicates say so", "[conv][winograd]") {
    int picked_fwd = 0, picked_bwd = 0;
    auto shapes = homework_shapes(3, 2);
    for (const auto& s : homework_shapes(5, 2)) shapes.push_back(s);
    for (const auto& s : shapes) {
        const int K = s.k;
        const cpu::ConvGeometry g{s.C, s.H, s.W, K, K, 1, 0};
        const bool fwd = cpu::conv_forward_uses_winograd<float>(g, s.O),
                   bwd = cpu::conv_backward_data_uses_winograd<float>(g, s.O);
        CHECK_FALSE(cpu::conv_forward_uses_winograd<double>(g, s.O));
        CHECK_FALSE(cpu::conv_backward_data_uses_winograd<double>(g, s.O));
        if (!fwd && !bwd) continue;
        picked_fwd += fwd;
        picked_bwd += bwd;
        const int N = 3, O = s.O;
        Rng rng(17);
        auto x = random_vec<float>(std::size_t(N) * s.C * s.H * s.W, rng);
        auto w = random_vec<float>(std::size_t(O) * s.C * K * K, rng);
        auto b = random_vec<float>(O, rng);
        auto dy = random_vec<float>(std::size_t(N) * O * g.cols(), rng);
        INFO("C=" << s.C << " H=" << s.H << " O=" << O << " k=" << K);
        cpu::ConvWorkspace<float> work;
        std::vector<float> y(dy.size(), 7.f), y_wino(dy.size()), dx(x.size(), 7.f), dx_wino(x.size());
        cpu::conv2d_forward(x.data(), w.data(), b.data(), y.data(), N, O, g, work);
        cpu::conv2d_backward_data(dy.data(), w.data(), dx.data(), N, O, g, work);
        cpu::conv2d_winograd_forward(x.data(), w.data(), b.data(), y_wino.data(), N, O, g, work);
        cpu::conv2d_winograd_backward_data(dy.data(), w.data(), dx_wino.data(), N, O, g, work);
        if (fwd) CHECK(y == y_wino);  // the same kernel, so the same bits
        if (bwd) CHECK(dx == dx_wino);
        // and within the bound against the reference
        const auto xd = to_double(x), wd = to_double(w), bd = to_double(b), dyd = to_double(dy);
        std::vector<double> y_ref(y.size()), dx_ref(x.size());
        cpu::conv2d_forward_reference(xd.data(), wd.data(), bd.data(), y_ref.data(), N, O, g);
        cpu::conv2d_backward_data_reference(dyd.data(), wd.data(), dx_ref.data(), N, O, g);
        const int mf = cpu::winograd_tile(K, g.OW()), mb = cpu::winograd_tile(K, g.W);
        if (fwd)
            check_bound(y, y_ref, abs_bounds(xd, wd, N, s.C, s.H, s.W, O, K, mf), &bd, s.C, g.cols(), O, K, mf,
                        "dispatch fwd");
        if (bwd)
            check_bound(dx, dx_ref, abs_bounds_backward(dyd, wd, N, s.C, s.H, s.W, O, K, mb), nullptr, O,
                        std::size_t(s.H) * s.W, s.C, K, mb, "dispatch bwd_data");
    }
    g_stats.clear();
    if (cpu::have_avx512()) {
        CHECK(picked_fwd + picked_bwd > 0);
    } else {
        CHECK(picked_fwd + picked_bwd == 0);
    }
}
