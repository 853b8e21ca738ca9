// The CUDA backend against the CPU backend (run only where a GPU exists; see main.cpp).
// Two levels, both through the library's own code paths:
//   primitives  every Backend<float> call on the same random inputs on both devices;
//   models      the same layers (one model, moved with to()) trained by the same loop
//               (train_epochs) on both devices: loss curves, weights, the partial last batch,
//               divergence, determinism, and checkpoints that cross devices.
// Tolerances: max|gpu - cpu| <= tol * max(1, max|cpu|) per tensor; exact where the CUDA kernel
// adds in the CPU's order (bias sums, max-pool routing, ties, SGD).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <vector>
#include <unistd.h>

#include "ann/cuda.cuh"
#include "ann/io/model_file.hpp"
#include "ann/train/checkpoint.hpp"
#include "ann/train/run.hpp"
#include "../cifar_test_util.hpp"

namespace {

using ann::Array;
using ann::Device;
using ann::Tensor;
constexpr Device kCpu = Device::cpu, kGpu = Device::cuda;

ann::Backend<float>& cpu() { return ann::backend<float>(kCpu); }
ann::Backend<float>& gpu() { return ann::backend<float>(kGpu); }

Array<float> randn(const ann::Shape& s, ann::Rng& rng, float scale = 1.f) {
    Tensor<float> t = Tensor<float>::from_shape(s);
    for (auto& v : t) v = scale * static_cast<float>(rng.normal());
    return Array<float>(std::move(t));
}

// max|a - b| / max(1, max|b|): b is the CPU reference.
double rel_diff(const Array<float>& a, const Array<float>& b) {
    REQUIRE(a.shape() == b.shape());
    const Tensor<float> ha = a.to_host(), hb = b.to_host();
    double diff = 0, scale = 1;
    for (std::size_t i = 0; i < hb.size(); ++i) {
        const double x = ha.data()[i], y = hb.data()[i];
        if (std::isnan(x) != std::isnan(y)) return std::numeric_limits<double>::infinity();
        if (!std::isnan(x)) diff = std::max(diff, std::abs(x - y));
        scale = std::max(scale, std::abs(y));
    }
    return diff / scale;
}

bool bit_equal(const Array<float>& a, const Array<float>& b) {
    const Tensor<float> ha = a.to_host(), hb = b.to_host();
    return ha.size() == hb.size() && std::memcmp(ha.data(), hb.data(), ha.size() * sizeof(float)) == 0;
}

// ---- primitives ----------------------------------------------------------------------------

TEST_CASE("gemm: all transpositions, overwrite and accumulate", "[primitives]") {
    ann::Rng rng(1);
    const int M = 37, N = 19, K = 70;
    for (bool ta : {false, true})
        for (bool tb : {false, true})
            for (float beta : {0.f, 1.f}) {
                Array<float> A = randn(ta ? ann::Shape{std::size_t(K), std::size_t(M)} : ann::Shape{std::size_t(M), std::size_t(K)}, rng);
                Array<float> B = randn(tb ? ann::Shape{std::size_t(N), std::size_t(K)} : ann::Shape{std::size_t(K), std::size_t(N)}, rng);
                Array<float> C = randn({std::size_t(M), std::size_t(N)}, rng);
                Array<float> Ag = A.to(kGpu), Bg = B.to(kGpu), Cg = C.to(kGpu);
                const int lda = ta ? M : K, ldb = tb ? K : N;
                cpu().gemm(ta, tb, M, N, K, 0.5f, A.data(), lda, B.data(), ldb, beta, C.data(), N);
                gpu().gemm(ta, tb, M, N, K, 0.5f, Ag.data(), lda, Bg.data(), ldb, beta, Cg.data(), N);
                INFO("ta=" << ta << " tb=" << tb << " beta=" << beta);
                CHECK(rel_diff(Cg, C) < 1e-5);
            }
}

TEST_CASE("bias broadcast and column sums agree bit for bit", "[primitives]") {
    ann::Rng rng(2);
    Array<float> b = randn({13}, rng), y({50, 13}), yg({50, 13}, kGpu), bg = b.to(kGpu);
    cpu().broadcast_rows(y.data(), b.data(), 50, 13);
    gpu().broadcast_rows(yg.data(), bg.data(), 50, 13);
    CHECK(bit_equal(yg, y));
    Array<float> dy = randn({50, 13}, rng), db = randn({13}, rng);
    Array<float> dyg = dy.to(kGpu), dbg = db.to(kGpu);
    cpu().add_column_sums(dy.data(), db.data(), 50, 13);
    gpu().add_column_sums(dyg.data(), dbg.data(), 50, 13);
    CHECK(bit_equal(dbg, db));
}

struct ConvCase {
    int N, C, H, O, k, s, p;
    bool bias;
};

TEST_CASE("convolution forward, backward-data and backward-weights (accumulating)", "[primitives]") {
    // The homework's shapes, plus stride 2 with padding and a 1x1 kernel.
    const std::vector<ConvCase> cases{{50, 3, 32, 16, 3, 1, 0, true},  {50, 16, 30, 8, 5, 1, 0, true},
                                      {50, 8, 13, 16, 7, 1, 0, true},  {50, 8, 12, 16, 5, 1, 0, true},
                                      {7, 5, 11, 6, 3, 2, 1, false},   {3, 4, 9, 5, 1, 1, 0, true}};
    ann::Rng rng(3);
    for (const auto& c : cases) {
        const ann::ConvGeometry g{c.C, c.H, c.H, c.k, c.k, c.s, c.p};
        const std::size_t N = c.N, O = c.O, OH = g.OH(), OW = g.OW();
        Array<float> x = randn({N, std::size_t(c.C), std::size_t(c.H), std::size_t(c.H)}, rng);
        Array<float> w = randn({O, std::size_t(c.C), std::size_t(c.k), std::size_t(c.k)}, rng, 0.2f);
        Array<float> b = randn({O}, rng), dy = randn({N, O, OH, OW}, rng);
        Array<float> dw = randn(w.shape(), rng), db = randn({O}, rng);
        Array<float> y({N, O, OH, OW}), dx(x.shape());
        Array<float> xg = x.to(kGpu), wg = w.to(kGpu), bgpu = b.to(kGpu), dyg = dy.to(kGpu), dwg = dw.to(kGpu),
                     dbg = db.to(kGpu), yg(y.shape(), kGpu), dxg(x.shape(), kGpu);
        auto sc = cpu().make_conv_state(), sg = gpu().make_conv_state();
        const float* bias_c = c.bias ? b.data() : nullptr;
        const float* bias_g = c.bias ? bgpu.data() : nullptr;
        cpu().conv2d_forward(x.data(), w.data(), bias_c, y.data(), c.N, c.O, g, *sc);
        gpu().conv2d_forward(xg.data(), wg.data(), bias_g, yg.data(), c.N, c.O, g, *sg);
        cpu().conv2d_backward_data(dy.data(), w.data(), dx.data(), c.N, c.O, g, *sc);
        gpu().conv2d_backward_data(dyg.data(), wg.data(), dxg.data(), c.N, c.O, g, *sg);
        cpu().conv2d_backward_weights(x.data(), dy.data(), dw.data(), c.bias ? db.data() : nullptr, c.N, c.O, g, *sc);
        gpu().conv2d_backward_weights(xg.data(), dyg.data(), dwg.data(), c.bias ? dbg.data() : nullptr, c.N, c.O, g, *sg);
        INFO("N=" << c.N << " C=" << c.C << " H=" << c.H << " O=" << c.O << " k=" << c.k << " s=" << c.s << " p=" << c.p);
        CHECK(rel_diff(yg, y) < 1e-4);
        CHECK(rel_diff(dxg, dx) < 1e-4);
        CHECK(rel_diff(dwg, dw) < 1e-4);
        if (c.bias) CHECK(rel_diff(dbg, db) < 1e-4);
    }
}

TEST_CASE("fused evaluation pass: conv + activation + max-pool as the CPU's", "[primitives]") {
    // Each group shape Sequential fuses: activation and pool, pool only, activation only.
    struct Case {
        int N, C, H, O, k;
        bool act;
        ann::ActivationKind f;
        int pool;
    };
    const std::vector<Case> cases{{20, 3, 32, 16, 3, true, ann::ActivationKind::relu, 2},
                                  {20, 16, 12, 16, 5, true, ann::ActivationKind::sigmoid, 2},
                                  {9, 8, 13, 16, 7, false, ann::ActivationKind::relu, 3},
                                  {9, 4, 10, 8, 3, true, ann::ActivationKind::tanh, 0}};
    ann::Rng rng(12);
    for (const auto& c : cases) {
        const ann::ConvGeometry g{c.C, c.H, c.H, c.k, c.k, 1, 0};
        ann::ConvEpilogue e;
        e.activate = c.act;
        e.activation = c.f;
        e.pool_k = e.pool_s = c.pool;
        const std::size_t N = c.N, O = c.O;
        Array<float> x = randn({N, std::size_t(c.C), std::size_t(c.H), std::size_t(c.H)}, rng);
        Array<float> w = randn({O, std::size_t(c.C), std::size_t(c.k), std::size_t(c.k)}, rng, 0.2f), b = randn({O}, rng);
        Array<float> y({N, O, std::size_t(e.PH(g)), std::size_t(e.PW(g))}), yg(y.shape(), kGpu);
        Array<float> xg = x.to(kGpu), wg = w.to(kGpu), bg = b.to(kGpu);
        auto sc = cpu().make_conv_state(), sg = gpu().make_conv_state();
        cpu().conv2d_forward_fused(x.data(), w.data(), b.data(), e, y.data(), c.N, c.O, g, *sc);
        gpu().conv2d_forward_fused(xg.data(), wg.data(), bg.data(), e, yg.data(), c.N, c.O, g, *sg);
        INFO("C=" << c.C << " H=" << c.H << " O=" << c.O << " k=" << c.k << " pool " << c.pool);
        CHECK(rel_diff(yg, y) < 1e-4);
    }
}

TEST_CASE("max-pool: the same window maximum, tie rule and NaN rule as the CPU", "[primitives]") {
    // Values from {0, 1, 2}: many ties in every window; one NaN.
    for (auto [k, s] : {std::pair{2, 2}, std::pair{3, 2}, std::pair{3, 1}}) {
        ann::Rng rng(4);
        const int H = 11, W = 9, OH = (H - k) / s + 1, OW = (W - k) / s + 1;
        const std::size_t planes = 6;
        Tensor<float> xt = Tensor<float>::from_shape({planes, std::size_t(H), std::size_t(W)});
        for (auto& v : xt) v = static_cast<float>(rng.below(3));
        xt(2, 3, 4) = std::numeric_limits<float>::quiet_NaN();
        Array<float> x(std::move(xt)), y({planes, std::size_t(OH), std::size_t(OW)});
        Array<std::uint32_t> am(y.shape()), amg(y.shape(), kGpu);
        Array<float> xg = x.to(kGpu), yg(y.shape(), kGpu);
        cpu().maxpool_forward(x.data(), y.data(), am.data(), planes, H, W, OH, OW, k, s);
        gpu().maxpool_forward(xg.data(), yg.data(), amg.data(), planes, H, W, OH, OW, k, s);
        INFO("k=" << k << " s=" << s);
        const Tensor<std::uint32_t> am_gpu = amg.to_host();
        CHECK(std::equal(am.begin(), am.end(), am_gpu.begin()));
        CHECK(bit_equal(yg, y));
        Array<float> dy = randn(y.shape(), rng), dx(x.shape()), dxg(x.shape(), kGpu), dyg = dy.to(kGpu);
        cpu().maxpool_backward(dy.data(), am.data(), dx.data(), planes, H, W, OH, OW);
        gpu().maxpool_backward(dyg.data(), amg.data(), dxg.data(), planes, H, W, OH, OW);
        CHECK(bit_equal(dxg, dx));
    }
}

TEST_CASE("activations forward and backward", "[primitives]") {
    ann::Rng rng(5);
    Array<float> x = randn({3, 1000}, rng, 8.f), dy = randn({3, 1000}, rng);
    for (auto f : {ann::ActivationKind::relu, ann::ActivationKind::sigmoid, ann::ActivationKind::tanh}) {
        Array<float> y(x.shape()), dx(x.shape()), xg = x.to(kGpu), yg(x.shape(), kGpu), dxg(x.shape(), kGpu),
            dyg = dy.to(kGpu);
        cpu().activation_forward(f, x.data(), y.data(), x.size());
        gpu().activation_forward(f, xg.data(), yg.data(), x.size());
        // Backward from the same y, so only the derivative is compared.
        Array<float> y_on_gpu = y.to(kGpu);
        cpu().activation_backward(f, y.data(), dy.data(), dx.data(), x.size());
        gpu().activation_backward(f, y_on_gpu.data(), dyg.data(), dxg.data(), x.size());
        INFO("activation " << int(f));
        CHECK(rel_diff(yg, y) < 1e-6);
        CHECK(rel_diff(dxg, dx) < 1e-6);
    }
}

TEST_CASE("softmax cross-entropy: loss total, probabilities, gradient (logits up to 80)", "[primitives]") {
    ann::Rng rng(6);
    const std::size_t N = 50, K = 10;
    Array<float> z = randn({N, K}, rng, 3.f);
    z.host()(7, 3) = 80.f;
    std::vector<long> t(N);
    for (auto& v : t) v = static_cast<long>(rng.below(K));
    Array<float> p({N, K}), g({N, K}), zg = z.to(kGpu), pg({N, K}, kGpu), gg({N, K}, kGpu);
    const double lc = cpu().softmax_xent_forward(z.data(), t.data(), N, K, p.data());
    const double lg = gpu().softmax_xent_forward(zg.data(), t.data(), N, K, pg.data());
    CHECK(lg == Approx(lc).epsilon(1e-6));
    CHECK(rel_diff(pg, p) < 1e-6);
    cpu().softmax_xent_backward(p.data(), t.data(), N, K, N, g.data());
    gpu().softmax_xent_backward(pg.data(), t.data(), N, K, N, gg.data());
    CHECK(rel_diff(gg, g) < 1e-6);
    // A shard of a global batch of 3N rows: divided by 3N, not N.
    cpu().softmax_xent_backward(p.data(), t.data(), N, K, 3 * N, g.data());
    gpu().softmax_xent_backward(pg.data(), t.data(), N, K, 3 * N, gg.data());
    CHECK(rel_diff(gg, g) < 1e-6);
}

TEST_CASE("SGD (plain, weight decay, first momentum step, later steps, Nesterov) and Adam/AdamW updates", "[primitives]") {
    ann::Rng rng(7);
    const std::size_t n = 5000;
    Array<float> w = randn({n}, rng), g = randn({n}, rng), buf = randn({n}, rng), m = randn({n}, rng),
                 v = randn({n}, rng);
    for (auto& x : v.host()) x = std::abs(x);
    Array<float> wg = w.to(kGpu), gg = g.to(kGpu), bufg = buf.to(kGpu), mg = m.to(kGpu), vg = v.to(kGpu);
    ann::SgdStep<float> plain{0.1f, 0.f, 0.f, false}, decayed{0.1f, 0.f, 5e-2f, false};
    cpu().sgd_update(w.data(), g.data(), nullptr, n, plain, false);
    gpu().sgd_update(wg.data(), gg.data(), nullptr, n, plain, false);
    cpu().sgd_update(w.data(), g.data(), nullptr, n, decayed, false);
    gpu().sgd_update(wg.data(), gg.data(), nullptr, n, decayed, false);
    for (bool nesterov : {false, true})
        for (bool first : {true, false}) {
            const ann::SgdStep<float> h{0.1f, 0.9f, nesterov ? 1e-2f : 0.f, nesterov};
            cpu().sgd_update(w.data(), g.data(), buf.data(), n, h, first);
            gpu().sgd_update(wg.data(), gg.data(), bufg.data(), n, h, first);
        }
    CHECK(rel_diff(wg, w) < 1e-6);
    CHECK(rel_diff(bufg, buf) < 1e-6);
    // Plain Adam, Adam with its L2 term, AdamW's decoupled decay (1 - lr * wd).
    for (const auto& [wd, decay] : {std::pair{0.f, 1.f}, std::pair{1e-2f, 1.f}, std::pair{0.f, 1.f - 1e-3f * 1e-2f}}) {
        for (int t = 1; t <= 3; ++t) {
            ann::AdamStep<float> h;
            h.beta1 = 0.9f, h.beta2 = 0.999f, h.eps = 1e-8f, h.weight_decay = wd, h.decay = decay;
            h.step_size = float(1e-3 / (1 - std::pow(0.9, t)));
            h.sqrt_bc2 = float(std::sqrt(1 - std::pow(0.999, t)));
            cpu().adam_update(w.data(), g.data(), m.data(), v.data(), n, h);
            gpu().adam_update(wg.data(), gg.data(), mg.data(), vg.data(), n, h);
        }
        INFO("weight_decay " << wd << ", decay " << decay);
        CHECK(rel_diff(wg, w) < 1e-5);
        CHECK(rel_diff(mg, m) < 1e-6);
        CHECK(rel_diff(vg, v) < 1e-6);
    }
}

TEST_CASE("batch norm: training and eval forward, both backwards, as the CPU's bit for bit", "[primitives]") {
    // The kernels follow the CPU's summation order in double and its per-element expressions
    // without contractions (backend/cuda/batchnorm.cuh), so everything is expected to be equal.
    struct Case {
        std::size_t N, C, HW;
        bool affine;
        float offset;
    };
    // HW = 900 (30x30), not a multiple of 8 (27), 1 (a vector per channel), one plane (N = 1, C = 1),
    // and values around 1000 (where a float one-pass variance would be useless).
    const std::vector<Case> cases{{50, 16, 900, true, 0.f}, {7, 5, 27, true, 0.f}, {9, 4, 1, false, 0.f},
                                  {1, 1, 37, true, 0.f},    {6, 3, 64, true, 1000.f}};
    auto bits_d = [](const Array<double>& a, const Array<double>& b) {
        const Tensor<double> ha = a.to_host(), hb = b.to_host();
        return ha.size() == hb.size() && std::memcmp(ha.data(), hb.data(), ha.size() * sizeof(double)) == 0;
    };
    ann::Rng rng(13);
    for (const auto& c : cases) {
        const ann::Shape xs{c.N, c.C, c.HW}, cs{c.C};
        Array<float> x = randn(xs, rng, 2.f), dy = randn(xs, rng);
        for (auto& v : x.host()) v += c.offset;
        Array<float> gamma = randn(cs, rng), beta = randn(cs, rng), rm = randn(cs, rng), rv = randn(cs, rng);
        for (auto& v : rv.host()) v = std::abs(v) + 0.5f;
        Array<float> dgamma = randn(cs, rng), dbeta = randn(cs, rng);  // backward accumulates onto these
        Array<float> xg = x.to(kGpu), dyg = dy.to(kGpu), gg = gamma.to(kGpu), bg = beta.to(kGpu), rmg = rm.to(kGpu),
                     rvg = rv.to(kGpu), dgg = dgamma.to(kGpu), dbg = dbeta.to(kGpu);
        Array<float> y(xs), yg(xs, kGpu), dx(xs), dxg(xs, kGpu);
        Array<double> mean(cs), invstd(cs), meang(cs, kGpu), invstdg(cs, kGpu);
        const float* g_c = c.affine ? gamma.data() : nullptr;
        const float* b_c = c.affine ? beta.data() : nullptr;
        const float* g_g = c.affine ? gg.data() : nullptr;
        const float* b_g = c.affine ? bg.data() : nullptr;
        INFO("N=" << c.N << " C=" << c.C << " HW=" << c.HW << " affine=" << c.affine << " offset=" << c.offset);

        cpu().batchnorm_forward_train(x.data(), g_c, b_c, y.data(), mean.data(), invstd.data(), rm.data(), rv.data(),
                                      c.N, c.C, c.HW, 1e-5, 0.1);
        gpu().batchnorm_forward_train(xg.data(), g_g, b_g, yg.data(), meang.data(), invstdg.data(), rmg.data(),
                                      rvg.data(), c.N, c.C, c.HW, 1e-5, 0.1);
        CHECK(bits_d(meang, mean));
        CHECK(bits_d(invstdg, invstd));
        CHECK(bit_equal(rmg, rm));
        CHECK(bit_equal(rvg, rv));
        CHECK(rel_diff(yg, y) < 1e-6);
        CHECK(bit_equal(yg, y));
        cpu().batchnorm_backward(x.data(), dy.data(), g_c, mean.data(), invstd.data(), dx.data(),
                                 c.affine ? dgamma.data() : nullptr, c.affine ? dbeta.data() : nullptr, c.N, c.C, c.HW,
                                 true);
        gpu().batchnorm_backward(xg.data(), dyg.data(), g_g, meang.data(), invstdg.data(), dxg.data(),
                                 c.affine ? dgg.data() : nullptr, c.affine ? dbg.data() : nullptr, c.N, c.C, c.HW,
                                 true);
        CHECK(rel_diff(dxg, dx) < 1e-6);
        CHECK(bit_equal(dxg, dx));
        CHECK(bit_equal(dgg, dgamma));
        CHECK(bit_equal(dbg, dbeta));

        // Eval mode: the running statistics, then the backward that treats them as constants
        // (and one without an input gradient: dx untouched).
        cpu().batchnorm_forward_eval(x.data(), g_c, b_c, rm.data(), rv.data(), y.data(), mean.data(), invstd.data(), c.N,
                                     c.C, c.HW, 1e-3);
        gpu().batchnorm_forward_eval(xg.data(), g_g, b_g, rmg.data(), rvg.data(), yg.data(), meang.data(),
                                     invstdg.data(), c.N, c.C, c.HW, 1e-3);
        CHECK(bits_d(invstdg, invstd));
        CHECK(bit_equal(yg, y));
        cpu().batchnorm_backward(x.data(), dy.data(), g_c, mean.data(), invstd.data(), dx.data(),
                                 c.affine ? dgamma.data() : nullptr, c.affine ? dbeta.data() : nullptr, c.N, c.C, c.HW,
                                 false);
        gpu().batchnorm_backward(xg.data(), dyg.data(), g_g, meang.data(), invstdg.data(), dxg.data(),
                                 c.affine ? dgg.data() : nullptr, c.affine ? dbg.data() : nullptr, c.N, c.C, c.HW,
                                 false);
        CHECK(bit_equal(dxg, dx));
        CHECK(bit_equal(dgg, dgamma));
        cpu().batchnorm_backward(x.data(), dy.data(), g_c, mean.data(), invstd.data(), nullptr, dgamma.data(),
                                 dbeta.data(), c.N, c.C, c.HW, true);
        gpu().batchnorm_backward(xg.data(), dyg.data(), g_g, meang.data(), invstdg.data(), nullptr, dgg.data(),
                                 dbg.data(), c.N, c.C, c.HW, true);
        CHECK(bit_equal(dgg, dgamma));
        CHECK(bit_equal(dbg, dbeta));
    }
}

TEST_CASE("BatchNorm2d layer on the GPU: buffers move, running statistics and model files cross devices",
          "[primitives][batchnorm]") {
    ann::Rng rng(14);
    ann::Sequential<float> cpu_net, gpu_net;
    for (auto* m : {&cpu_net, &gpu_net}) {
        ann::Rng init(15);
        m->emplace<ann::Conv2d<float>>(3, 4, 3, 1, 1, true, init);
        m->emplace<ann::BatchNorm2d<float>>(4);
        m->emplace<ann::ReLU<float>>();
    }
    gpu_net.to(kGpu);
    for (int step = 0; step < 3; ++step) {
        Array<float> x = randn({5, 3, 8, 8}, rng), dy = randn({5, 4, 8, 8}, rng);
        const Array<float>& y = cpu_net.forward(x);
        const Array<float>& yg = gpu_net.forward(x.to(kGpu));
        CHECK(rel_diff(yg, y) < 1e-5);
        cpu_net.backward(dy);
        gpu_net.backward(dy.to(kGpu));
    }
    auto& bc = static_cast<ann::BatchNorm2d<float>&>(cpu_net[1]);
    auto& bg = static_cast<ann::BatchNorm2d<float>&>(gpu_net[1]);
    CHECK(bg.running_var().value.device() == kGpu);
    CHECK(rel_diff(bg.running_mean().value, bc.running_mean().value) < 1e-5);
    CHECK(rel_diff(bg.running_var().value, bc.running_var().value) < 1e-5);
    CHECK(rel_diff(bg.weight().grad, bc.weight().grad) < 1e-5);
    // Saved from the GPU, loaded on the CPU: the buffers' bits.
    const std::string file = ann::io::encode_model(gpu_net, "bn");
    ann::io::decode_model(file, cpu_net, "bn", "gpu.annm");
    CHECK(bit_equal(bc.running_var().value, bg.running_var().value));
    cpu_net.eval();
    gpu_net.eval();
    Array<float> x = randn({2, 3, 8, 8}, rng);
    CHECK(rel_diff(gpu_net.forward(x.to(kGpu)), cpu_net.forward(x)) < 1e-5);
}

TEST_CASE("LeakyReLU forward and backward (from x and from y), bit for bit", "[primitives]") {
    ann::Rng rng(13);
    Array<float> x = randn({3, 1000}, rng, 4.f), dy = randn({3, 1000}, rng);
    x.host()(0, 0) = 0.f;
    x.host()(0, 1) = -0.f;
    for (float slope : {0.01f, 0.2f, -0.5f, 0.f}) {
        Array<float> y(x.shape()), dx(x.shape()), xg = x.to(kGpu), yg(x.shape(), kGpu), dxg(x.shape(), kGpu),
            dyg = dy.to(kGpu);
        cpu().leaky_relu_forward(x.data(), y.data(), x.size(), slope);
        gpu().leaky_relu_forward(xg.data(), yg.data(), x.size(), slope);
        INFO("slope " << slope);
        CHECK(bit_equal(yg, y));
        cpu().leaky_relu_backward(x.data(), dy.data(), dx.data(), x.size(), slope);
        gpu().leaky_relu_backward(xg.data(), dyg.data(), dxg.data(), x.size(), slope);
        CHECK(bit_equal(dxg, dx));
        if (slope >= 0) {  // the layer passes y when the slope allows it
            cpu().leaky_relu_backward(y.data(), dy.data(), dx.data(), x.size(), slope);
            gpu().leaky_relu_backward(yg.data(), dyg.data(), dxg.data(), x.size(), slope);
            CHECK(bit_equal(dxg, dx));
        }
    }
}

TEST_CASE("average pooling (AvgPool2d with padding, AdaptiveAvgPool2d) forward and backward, bit for bit",
          "[primitives]") {
    // The shared per-element code of backend/avgpool_windows.hpp on both devices: the same sums in
    // the same order, so the same bits.
    struct Case {
        int H, W, OH, OW, k, s, pad;
    };
    const std::vector<Case> cases{{32, 32, 16, 16, 2, 2, 0}, {7, 9, 4, 5, 3, 2, 1}, {5, 6, 5, 6, 3, 1, 1},
                                  {6, 5, 4, 3, 4, 2, 2},     {13, 11, 1, 1, 0, 0, 0}, {5, 7, 2, 3, 0, 0, 0},
                                  {3, 2, 4, 5, 0, 0, 0}};
    ann::Rng rng(14);
    const std::size_t planes = 24;
    for (const auto& c : cases) {
        ann::AvgPoolGeometry g;
        g.H = c.H, g.W = c.W, g.OH = c.OH, g.OW = c.OW, g.k = c.k, g.s = c.s, g.pad = c.pad;
        Array<float> x = randn({planes, std::size_t(c.H), std::size_t(c.W)}, rng);
        Array<float> dy = randn({planes, std::size_t(c.OH), std::size_t(c.OW)}, rng);
        Array<float> y(dy.shape()), dx(x.shape()), xg = x.to(kGpu), dyg = dy.to(kGpu), yg(dy.shape(), kGpu),
            dxg(x.shape(), kGpu);
        cpu().avgpool_forward(x.data(), y.data(), planes, g);
        gpu().avgpool_forward(xg.data(), yg.data(), planes, g);
        cpu().avgpool_backward(dy.data(), dx.data(), planes, g);
        gpu().avgpool_backward(dyg.data(), dxg.data(), planes, g);
        INFO("H=" << c.H << " W=" << c.W << " OH=" << c.OH << " OW=" << c.OW << " k=" << c.k << " s=" << c.s
                  << " pad=" << c.pad);
        CHECK(bit_equal(yg, y));
        CHECK(bit_equal(dxg, dx));
    }
}

TEST_CASE("dropout: bit-identical masks, outputs, gradients and counters on both devices", "[primitives]") {
    ann::Rng rng(15);
    const std::size_t n = 3 * 1000 + 7;
    Array<float> x = randn({n}, rng), dy = randn({n}, rng);
    x.host()(0) = std::numeric_limits<float>::infinity();
    for (double p : {0.5, 0.1, 0.0, 1.0}) {
        // A seed and a counter about to carry into its second piece.
        Array<float> seed({4}), counter({2});
        ann::shared::encode_pieces(0xDEADBEEF01234567ull, seed.data(), 4, 16);
        ann::shared::encode_pieces((std::uint64_t(1) << 20) - 2, counter.data(), 2, 20);
        Array<float> seedg = seed.to(kGpu), counterg = counter.to(kGpu);
        const std::uint64_t keep_below = ann::shared::dropout_keep_below(p);
        const float scale = p < 1 ? 1.f / float(1.0 - p) : 0.f;
        for (int k = 0; k < 3; ++k) {
            Array<std::uint8_t> m({n}), mg({n}, kGpu);
            cpu().dropout_mask(m.data(), n, 7, seed.data(), counter.data(), keep_below);
            gpu().dropout_mask(mg.data(), n, 7, seedg.data(), counterg.data(), keep_below);
            INFO("p=" << p << " forward " << k);
            const Tensor<std::uint8_t> m_gpu = mg.to_host();
            CHECK(std::equal(m.begin(), m.end(), m_gpu.begin()));
            CHECK(bit_equal(counterg, counter));
            Array<float> y({n}), dx({n}), yg({n}, kGpu), dxg({n}, kGpu), xg = x.to(kGpu), dyg = dy.to(kGpu);
            cpu().dropout_apply(x.data(), m.data(), scale, y.data(), n);
            gpu().dropout_apply(xg.data(), mg.data(), scale, yg.data(), n);
            cpu().dropout_apply(dy.data(), m.data(), scale, dx.data(), n);
            gpu().dropout_apply(dyg.data(), mg.data(), scale, dxg.data(), n);
            CHECK(bit_equal(yg, y));
            CHECK(bit_equal(dxg, dx));
        }
    }
}

TEST_CASE("Dropout layers on both devices draw the same masks; the model file carries on across devices",
          "[layers]") {
    ann::Rng data(16);
    Array<float> x = randn({8, 3, 6, 6}, data);
    ann::Rng ra(17), rb(17);
    ann::Sequential<float> a, b;
    for (auto* m : {&a, &b}) {
        ann::Rng& r = m == &a ? ra : rb;
        m->emplace<ann::Conv2d<float>>(3, 4, 3, 1, 1, true, r);
        m->emplace<ann::LeakyReLU<float>>(0.1);
        m->emplace<ann::AvgPool2d<float>>(3, 2, 1);
        m->emplace<ann::Dropout<float>>(0.3, r);
        m->emplace<ann::AdaptiveAvgPool2d<float>>(2, 1);
    }
    b.to(kGpu);
    const Array<float> xg = x.to(kGpu);
    for (int k = 0; k < 3; ++k) {
        const Array<float>& ya = a.forward(x);
        const Array<float>& yb = b.forward(xg);
        INFO("forward " << k);
        auto& da = dynamic_cast<ann::Dropout<float>&>(a[3]);
        auto& db = dynamic_cast<ann::Dropout<float>&>(b[3]);
        const Tensor<std::uint8_t> mb = db.mask().to_host();
        CHECK(std::equal(da.mask().begin(), da.mask().end(), mb.begin()));
        CHECK(rel_diff(yb, ya) < 1e-5);  // the convolution differs by rounding, the rest is exact
    }
    CHECK(dynamic_cast<ann::Dropout<float>&>(b[3]).forward_count() == 3);
    // GPU model file -> CPU model built from another seed: the next masks are the GPU's.
    ann::Rng rc(99);
    ann::Sequential<float> c;
    c.emplace<ann::Conv2d<float>>(3, 4, 3, 1, 1, true, rc);
    c.emplace<ann::LeakyReLU<float>>(0.1);
    c.emplace<ann::AvgPool2d<float>>(3, 2, 1);
    c.emplace<ann::Dropout<float>>(0.3, rc);
    c.emplace<ann::AdaptiveAvgPool2d<float>>(2, 1);
    ann::io::decode_model(ann::io::encode_model(b, "net"), c, "net", "mem");
    b.forward(xg);
    c.forward(x);
    const Tensor<std::uint8_t> mb = dynamic_cast<ann::Dropout<float>&>(b[3]).mask().to_host();
    const auto& mc = dynamic_cast<ann::Dropout<float>&>(c[3]).mask();
    CHECK(std::equal(mc.begin(), mc.end(), mb.begin()));
}

// ---- models: one model, one loop, two devices ---------------------------------------------

using testutil::synthetic_set;

// 120 images in batches of 50: two full batches and a partial one of 20 per epoch.
std::unique_ptr<ann::train::Run<float>> train_on(Device d, const std::string& arch, bool adam, std::size_t epochs,
                                                 const ann::data::CifarSet& set, double lr = -1) {
    auto r = std::make_unique<ann::train::Run<float>>();
    r->label = arch + " on " + ann::to_string(d);
    ann::Rng init(11);
    r->model = ann::models::homework<float>(arch, ann::models::Activation::relu, init);
    r->model.to(d);
    if (adam)
        r->optimizer = std::make_unique<ann::Adam<float>>(r->model.parameters(), lr > 0 ? lr : 1e-3);
    else
        r->optimizer = std::make_unique<ann::SGD<float>>(r->model.parameters(), lr > 0 ? lr : 0.01, 0.9);
    r->rng = ann::Rng(12);
    ann::train::TrainData data;
    data.images = &set;
    for (std::uint32_t i = 0; i < set.size(); ++i) data.train.push_back(i);
    data.val = data.train;
    ann::train::Evaluator<float> ev(ann::models::homework<float>(arch, ann::models::Activation::relu), 64);
    ann::train::train_epochs(*r, epochs, data, {50, 1, false, true, true}, &ev, nullptr);
    return r;
}

double max_param_diff(ann::Sequential<float>& a, ann::Sequential<float>& b) {
    auto pa = a.parameters(), pb = b.parameters();
    REQUIRE(pa.size() == pb.size());
    double d = 0;
    for (std::size_t i = 0; i < pa.size(); ++i) d = std::max(d, rel_diff(pa[i]->value, pb[i]->value));
    return d;
}

TEST_CASE("every homework architecture: the same training steps on both devices", "[models]") {
    const auto set = synthetic_set(120, 21);
    for (const auto& arch : ann::models::homework_names())
        for (bool adam : {true, false}) {
            auto c = train_on(kCpu, arch, adam, 2, set);
            auto g = train_on(kGpu, arch, adam, 2, set);
            INFO(arch << (adam ? " Adam" : " SGD momentum 0.9"));
            REQUIRE(g->step == c->step);  // 3 steps per epoch: the partial batch is trained
            CHECK(g->step == 6);
            const auto &lc = c->curve("loss"), &lg = g->curve("loss");
            REQUIRE(lg.size() == lc.size());
            for (std::size_t i = 0; i < lc.size(); ++i) CHECK(std::abs(lg[i] - lc[i]) < 1e-3);
            const auto &nc = c->curve("grad_norm"), &ng = g->curve("grad_norm");
            for (std::size_t i = 0; i < nc.size(); ++i) CHECK(std::abs(ng[i] - nc[i]) <= 1e-3 * std::max(1.0, nc[i]));
            CHECK(g->curve("val_acc").size() == c->curve("val_acc").size());
            CHECK(max_param_diff(g->model, c->model) < 1e-3);
        }
}

TEST_CASE("determinism: the same run twice on the GPU is bit-identical", "[models]") {
    const auto set = synthetic_set(120, 22);
    auto a = train_on(kGpu, "cnn_4", true, 1, set), b = train_on(kGpu, "cnn_4", true, 1, set);
    CHECK(a->curve("loss") == b->curve("loss"));
    auto pa = a->model.parameters(), pb = b->model.parameters();
    for (std::size_t i = 0; i < pa.size(); ++i) CHECK(bit_equal(pa[i]->value, pb[i]->value));
}

TEST_CASE("divergence is detected before the update, at the same step on both devices", "[models]") {
    const auto set = synthetic_set(120, 23);
    auto c = train_on(kCpu, "mlp_1", true, 2, set, 1e30), g = train_on(kGpu, "mlp_1", true, 2, set, 1e30);
    REQUIRE(c->diverged);
    CHECK(g->diverged);
    CHECK(g->diverged_step == c->diverged_step);
}

TEST_CASE("a checkpoint written on one device resumes on the other", "[models]") {
    namespace fs = std::filesystem;
    const auto set = synthetic_set(120, 24);
    const fs::path dir = fs::temp_directory_path() / ("ann_cuda_ckpt_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    for (auto [from, to] : {std::pair{kGpu, kCpu}, std::pair{kCpu, kGpu}}) {
        auto r = train_on(from, "cnn_3", true, 1, set);
        const std::string path = (dir / "run.annc").string();
        ann::train::save_run(path, *r, "cnn_3");
        ann::train::Run<float> back;
        back.model = ann::models::homework<float>("cnn_3");
        back.model.to(to);
        back.optimizer = std::make_unique<ann::Adam<float>>(back.model.parameters());
        ann::train::load_run(path, back, "cnn_3");
        CHECK(back.step == r->step);
        CHECK(back.curve("loss") == r->curve("loss"));
        auto pa = r->model.parameters(), pb = back.model.parameters();
        for (std::size_t i = 0; i < pa.size(); ++i) CHECK(bit_equal(pa[i]->value, pb[i]->value));
        auto* adam = dynamic_cast<ann::Adam<float>*>(back.optimizer.get());
        REQUIRE(adam);
        CHECK(adam->first_moments()[0].device() == to);
    }
    fs::remove_all(dir);
}

TEST_CASE("a GPU array is never read as a host tensor; mixed devices are named errors", "[errors]") {
    Array<float> g({2, 3}, kGpu);
    CHECK_THROWS_WITH(g.host(), Catch::Contains("is on cuda"));
    ann::Linear<float> lin(3, 2);
    lin.to(kGpu);
    Array<float> x({4, 3});
    CHECK_THROWS_WITH(lin.forward(x), Catch::Contains("is on cpu but the layer is on cuda"));
}

}  // namespace
