// The optimised convolution kernels against the plain-loop reference, on many shapes
// (stride, padding, 1x1, kernels as large as the input), and their thread-count independence.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "ann/ann.hpp"
#include "ann/backend/cpu/adam_update.hpp"
#include "ann/backend/cpu/conv2d.hpp"
#include "ann/backend/cpu/conv_reference.hpp"

using namespace ann;

namespace {
struct Case {
    int N, C, H, W, O, k, s, p;
};
const Case kCases[] = {
    {2, 3, 8, 8, 4, 3, 1, 0},   {3, 2, 7, 9, 5, 3, 2, 1},  {1, 1, 5, 6, 2, 5, 1, 2},  {2, 2, 8, 7, 2, 2, 3, 0},
    {2, 3, 4, 4, 2, 1, 1, 0},   {2, 2, 5, 4, 3, 4, 2, 3},  {4, 3, 32, 32, 16, 3, 1, 0},
    {3, 16, 30, 30, 8, 5, 1, 0}, {2, 8, 13, 13, 16, 7, 1, 0}, {5, 4, 6, 6, 3, 6, 1, 0}, {2, 3, 9, 9, 4, 3, 2, 2},
    {3, 5, 6, 7, 6, 1, 2, 1},   {1, 2, 3, 3, 2, 3, 1, 1},   {2, 16, 12, 12, 16, 5, 1, 0},
    {3, 16, 10, 10, 8, 3, 1, 0}, {2, 5, 9, 40, 11, 3, 1, 0}, {2, 3, 6, 6, 9, 6, 1, 0}, {1, 2, 1, 1, 3, 1, 1, 0},
};

template <class T>
std::vector<T> random_vec(std::size_t n, Rng& rng) {
    std::vector<T> v(n);
    for (auto& e : v) e = static_cast<T>(rng.uniform(-1, 1));
    return v;
}

template <class T>
double max_rel_diff(const std::vector<T>& a, const std::vector<T>& b) {
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        worst = std::max(worst, std::abs(double(a[i]) - double(b[i])) / std::max(1.0, std::abs(double(b[i]))));
    return worst;
}

template <class T>
void compare_with_reference(const Case& c, double tol) {
    const cpu::ConvGeometry g{c.C, c.H, c.W, c.k, c.k, c.s, c.p};
    const std::size_t xs = std::size_t(c.N) * c.C * c.H * c.W, ws = std::size_t(c.O) * g.rows(),
                      ys = std::size_t(c.N) * c.O * g.cols();
    Rng rng(c.N * 1000 + c.C * 100 + c.k * 10 + c.s);
    auto x = random_vec<T>(xs, rng), w = random_vec<T>(ws, rng), b = random_vec<T>(c.O, rng),
         dy = random_vec<T>(ys, rng);
    INFO("N=" << c.N << " C=" << c.C << " H=" << c.H << " W=" << c.W << " O=" << c.O << " k=" << c.k
              << " s=" << c.s << " p=" << c.p);
    cpu::ConvWorkspace<T> work;

    std::vector<T> y_ref(ys), y(ys, T(7));
    cpu::conv2d_forward_reference(x.data(), w.data(), b.data(), y_ref.data(), c.N, c.O, g);
    cpu::conv2d_forward_im2col(x.data(), w.data(), b.data(), y.data(), c.N, c.O, g, work);
    CHECK(max_rel_diff(y, y_ref) < tol);
    cpu::conv2d_forward_im2col<T>(x.data(), w.data(), nullptr, y.data(), c.N, c.O, g, work);
    cpu::conv2d_forward_reference<T>(x.data(), w.data(), nullptr, y_ref.data(), c.N, c.O, g);
    CHECK(max_rel_diff(y, y_ref) < tol);

    std::vector<T> dx_ref(xs), dx(xs, T(7));  // pre-filled: backward data must overwrite
    cpu::conv2d_backward_data_reference(dy.data(), w.data(), dx_ref.data(), c.N, c.O, g);
    cpu::conv2d_backward_data_im2col(dy.data(), w.data(), dx.data(), c.N, c.O, g, work);
    CHECK(max_rel_diff(dx, dx_ref) < tol);

    // Pre-filled with the same values: backward weights must accumulate.
    std::vector<T> dw_ref(ws, T(0.5)), dw(ws, T(0.5)), db_ref(c.O, T(-0.25)), db(c.O, T(-0.25));
    cpu::conv2d_backward_weights_reference(x.data(), dy.data(), dw_ref.data(), db_ref.data(), c.N, c.O, g);
    cpu::conv2d_backward_weights_im2col(x.data(), dy.data(), dw.data(), db.data(), c.N, c.O, g, work);
    CHECK(max_rel_diff(dw, dw_ref) < tol);
    CHECK(max_rel_diff(db, db_ref) < tol);

    // The dispatching entry points (the direct AVX-512 kernel where it applies).
    cpu::conv2d_forward_reference(x.data(), w.data(), b.data(), y_ref.data(), c.N, c.O, g);
    std::fill(y.begin(), y.end(), T(7));
    cpu::conv2d_forward(x.data(), w.data(), b.data(), y.data(), c.N, c.O, g, work);
    CHECK(max_rel_diff(y, y_ref) < tol);
    std::fill(dx.begin(), dx.end(), T(7));
    cpu::conv2d_backward_data(dy.data(), w.data(), dx.data(), c.N, c.O, g, work);
    CHECK(max_rel_diff(dx, dx_ref) < tol);
    cpu::conv2d_backward_weights(x.data(), dy.data(), dw.data(), db.data(), c.N, c.O, g, work);
    cpu::conv2d_backward_weights_reference(x.data(), dy.data(), dw_ref.data(), db_ref.data(), c.N, c.O, g);
    CHECK(max_rel_diff(dw, dw_ref) < tol);
}
}  // namespace

TEST_CASE("im2col conv kernels match the direct reference (double)", "[conv]") {
    for (const auto& c : kCases) compare_with_reference<double>(c, 1e-12);
}

TEST_CASE("im2col conv kernels match the direct reference (float)", "[conv]") {
    for (const auto& c : kCases) compare_with_reference<float>(c, 1e-4);
}

TEST_CASE("conv kernels give the same bits for every thread count", "[conv][determinism]") {
    const int saved = cpu::num_threads();
    const Case c{7, 8, 13, 13, 16, 5, 1, 0};
    const cpu::ConvGeometry g{c.C, c.H, c.W, c.k, c.k, c.s, c.p};
    Rng rng(3);
    auto x = random_vec<float>(std::size_t(c.N) * c.C * c.H * c.W, rng);
    auto w = random_vec<float>(std::size_t(c.O) * g.rows(), rng);
    auto dy = random_vec<float>(std::size_t(c.N) * c.O * g.cols(), rng);
    auto run = [&](int threads) {
        cpu::set_num_threads(threads);
        cpu::ConvWorkspace<float> work;
        std::vector<float> y(dy.size()), dx(x.size()), dw(w.size(), 0.f), db(c.O, 0.f);
        cpu::conv2d_forward(x.data(), w.data(), w.data(), y.data(), c.N, c.O, g, work);
        cpu::conv2d_backward_data(dy.data(), w.data(), dx.data(), c.N, c.O, g, work);
        cpu::conv2d_backward_weights(x.data(), dy.data(), dw.data(), db.data(), c.N, c.O, g, work);
        y.insert(y.end(), dx.begin(), dx.end());
        y.insert(y.end(), dw.begin(), dw.end());
        y.insert(y.end(), db.begin(), db.end());
        return y;
    };
    const auto one = run(1);
    CHECK(run(2) == one);
    CHECK(run(3) == one);
    CHECK(run(2) == run(2));
    cpu::set_num_threads(saved);
}

#if ANN_HAVE_AVX512_KERNELS
// The weight-gradient kernel with vectors over output channels (conv_wgrad_ovec_avx512.hpp), called
// directly (so also for the few-channel shapes conv2d.hpp leaves to other kernels): the homework
// shapes and odd ones (sizes not multiples of 16, O not a multiple of the vector width, 1x1 to 7x7,
// non-square kernels' rows), dw and db accumulated onto pre-filled values, against the reference.
TEST_CASE("output-channel-vector weight-gradient kernel matches the reference", "[conv][wgrad]") {
    if (!cpu::have_avx512()) return;
    struct S {
        int N, C, H, W, O, kh, kw;
    };
    std::vector<S> shapes = {
        {3, 3, 32, 32, 16, 3, 3},  {2, 16, 30, 30, 8, 5, 5}, {3, 8, 13, 13, 16, 7, 7}, {2, 16, 30, 30, 8, 3, 3},
        {2, 8, 28, 28, 16, 5, 5},  {3, 16, 12, 12, 16, 5, 5}, {2, 3, 32, 32, 8, 3, 3},  {2, 8, 30, 30, 16, 3, 3},
        {2, 16, 28, 28, 8, 3, 3},  {2, 8, 26, 26, 16, 3, 3}, {3, 16, 12, 12, 16, 3, 3}, {5, 16, 10, 10, 8, 3, 3},
        {2, 5, 9, 40, 11, 3, 3},   {1, 2, 7, 7, 33, 7, 7},   {2, 4, 11, 9, 8, 5, 1},    {2, 6, 5, 17, 9, 2, 7},
    };
    for (int C : {1, 3, 5, 16})
        for (int O : {1, 3, 8, 17})
            for (int k : {1, 3, 5, 7}) shapes.push_back({2, C, 9 + k, 13 + 2 * k, O, k, k});
    for (const auto& c : shapes) {
        const cpu::ConvGeometry g{c.C, c.H, c.W, c.kh, c.kw, 1, 0};
        Rng rng(c.C * 7 + c.O * 13 + c.kw);
        auto x = random_vec<float>(std::size_t(c.N) * c.C * c.H * c.W, rng);
        auto dy = random_vec<float>(std::size_t(c.N) * c.O * g.cols(), rng);
        INFO("N=" << c.N << " C=" << c.C << " H=" << c.H << " W=" << c.W << " O=" << c.O << " k=" << c.kh << "x"
                  << c.kw);
        std::vector<float> dw_ref(std::size_t(c.O) * g.rows(), 0.5f), dw = dw_ref, db_ref(c.O, -0.25f), db = db_ref;
        cpu::conv2d_backward_weights_reference(x.data(), dy.data(), dw_ref.data(), db_ref.data(), c.N, c.O, g);
        cpu::ConvWorkspace<float> work;
        cpu::conv2d_backward_weights_ovec(x.data(), dy.data(), dw.data(), db.data(), c.N, c.O, g, work);
        CHECK(max_rel_diff(dw, dw_ref) < 1e-4);
        CHECK(max_rel_diff(db, db_ref) < 1e-4);
        // Without db, through the same workspace (smaller partials).
        std::vector<float> dw2(dw_ref.size(), 0.5f);
        cpu::conv2d_backward_weights_ovec(x.data(), dy.data(), dw2.data(), nullptr, c.N, c.O, g, work);
        CHECK(dw2 == dw);
        // And through the dispatcher (whichever kernel conv2d.hpp picks for the shape).
        std::fill(dw2.begin(), dw2.end(), 0.5f);
        std::vector<float> db2(c.O, -0.25f);
        cpu::conv2d_backward_weights(x.data(), dy.data(), dw2.data(), db2.data(), c.N, c.O, g, work);
        CHECK(max_rel_diff(dw2, dw_ref) < 1e-4);
        CHECK(max_rel_diff(db2, db_ref) < 1e-4);
    }
}

TEST_CASE("output-channel-vector weight gradients give the same bits for every thread count",
          "[conv][wgrad][determinism]") {
    if (!cpu::have_avx512()) return;
    const int saved = cpu::num_threads();
    struct S {
        int N, C, H, O, k;
    };
    for (const S c : {S{7, 3, 32, 16, 3}, S{9, 16, 10, 8, 3}, S{5, 5, 11, 17, 5}, S{6, 8, 13, 16, 7}}) {
        const cpu::ConvGeometry g{c.C, c.H, c.H, c.k, c.k, 1, 0};
        Rng rng(c.N);
        auto x = random_vec<float>(std::size_t(c.N) * c.C * c.H * c.H, rng);
        auto dy = random_vec<float>(std::size_t(c.N) * c.O * g.cols(), rng);
        auto run = [&](int threads) {
            cpu::set_num_threads(threads);
            cpu::ConvWorkspace<float> work;
            std::vector<float> dw(std::size_t(c.O) * g.rows(), 0.f), db(c.O, 0.f);
            cpu::conv2d_backward_weights(x.data(), dy.data(), dw.data(), db.data(), c.N, c.O, g, work);
            dw.insert(dw.end(), db.begin(), db.end());
            return dw;
        };
        INFO("N=" << c.N << " C=" << c.C << " H=" << c.H << " O=" << c.O << " k=" << c.k);
        const auto one = run(1);
        CHECK(run(2) == one);
        CHECK(run(3) == one);
        CHECK(run(2) == run(2));
    }
    cpu::set_num_threads(saved);
}
#endif

TEST_CASE("thread pool runs every index once and passes exceptions on", "[conv][threads]") {
    const int saved = cpu::num_threads();
    cpu::set_num_threads(3);
    std::vector<int> hits(3, 0);
    cpu::ThreadPool::global().run([&](int t) { hits[t] += 1; });
    CHECK(hits == std::vector<int>{1, 1, 1});
    CHECK_THROWS_AS(cpu::ThreadPool::global().run([&](int t) {
        if (t == 2) fail("worker ", t);
    }), Error);
    std::vector<int> covered(1000, 0);
    cpu::parallel_for(covered.size(), [&](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i) covered[i] += 1;
    });
    CHECK(std::count(covered.begin(), covered.end(), 1) == 1000);
    cpu::set_num_threads(saved);
}

TEST_CASE("training cnn_3 twice with the same seed gives identical weights, for 1 and 2 threads",
          "[conv][determinism]") {
    const int saved = cpu::num_threads();
    auto train = [](int threads) {
        cpu::set_num_threads(threads);
        Rng rng(11);
        auto model = models::homework<float>("cnn_3", models::Activation::relu, rng);
        Adam<float> opt(model.parameters(), 1e-3);
        CrossEntropyLoss<float> loss;
        Tensor<float> x = Tensor<float>::from_shape(models::cifar_input_shape(6));
        std::vector<long> t(6);
        for (int step = 0; step < 3; ++step) {
            for (auto& v : x) v = static_cast<float>(rng.uniform(-1, 1));
            for (auto& v : t) v = static_cast<long>(rng.below(10));
            model.zero_grad();
            loss.forward(model.forward(x), t);
            model.backward(loss.backward());
            opt.step();
        }
        std::vector<float> all;
        for (auto* p : model.parameters()) all.insert(all.end(), p->value.begin(), p->value.end());
        return all;
    };
    const auto a = train(2);
    CHECK(train(2) == a);
    CHECK(train(1) == a);
    cpu::set_num_threads(saved);
}

TEST_CASE("Adam kernel matches the scalar rule and is independent of the thread count", "[adam][determinism]") {
    const int saved = cpu::num_threads();
    // Plain Adam, Adam's L2 term, AdamW's decoupled decay.
    for (const auto& [wd, decay] : {std::pair{0.f, 1.f}, std::pair{0.05f, 1.f}, std::pair{0.f, 0.999f}})
    for (std::size_t n : {1u, 15u, 16u, 17u, 1000u, 40000u}) {
        Rng rng(n);
        auto w0 = random_vec<float>(n, rng), g = random_vec<float>(n, rng), m0 = random_vec<float>(n, rng),
             v0 = random_vec<float>(n, rng);
        for (auto& e : v0) e = std::abs(e);
        AdamStep<float> h;
        h.beta1 = 0.9f, h.beta2 = 0.999f, h.step_size = 1e-3f, h.sqrt_bc2 = 0.3f, h.eps = 1e-8f;
        h.weight_decay = wd, h.decay = decay;
        auto run = [&](int threads) {
            cpu::set_num_threads(threads);
            auto w = w0, m = m0, v = v0;
            cpu::adam_update(w.data(), g.data(), m.data(), v.data(), n, h);
            w.insert(w.end(), m.begin(), m.end());
            w.insert(w.end(), v.begin(), v.end());
            return w;
        };
        auto w = w0, m = m0, v = v0;
        cpu::adam_update_scalar(w.data(), g.data(), m.data(), v.data(), 0, n, h);
        w.insert(w.end(), m.begin(), m.end());
        w.insert(w.end(), v.begin(), v.end());
        const auto one = run(1);
        INFO("n = " << n << ", weight_decay " << wd << ", decay " << decay);
        CHECK(max_rel_diff(one, w) < 1e-6);
        CHECK(run(2) == one);
        CHECK(run(3) == one);
    }
    cpu::set_num_threads(saved);
}
