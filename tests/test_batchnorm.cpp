// BatchNorm2d: finite-difference gradients (training and eval mode), PyTorch's values
// (tests/fixtures/torch_batchnorm.json from tools/make_batchnorm_fixtures.py), running
// statistics, model files (round trip with the buffers; hostile running statistics refused),
// Sequential's eval pass, thread-count determinism, devices and errors.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <new>

#include "ann/ann.hpp"
#include "fixture_json.hpp"
#include "gradcheck_util.hpp"
#include "stand_in_device.hpp"
#include "ann/io/model_file.hpp"
#include "ann/testing/gradcheck.hpp"
#include "ann/testing/synthetic_cifar.hpp"
#include "ann/train/evaluate.hpp"

using namespace ann;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

using testutil::random_tensor;

// Non-default parameters and running statistics, so nothing passes by being 1 or 0.
template <class T>
void randomize(BatchNorm2d<T>& bn, Rng& rng) {
    if (bn.options().affine) {
        bn.weight().value = random_tensor<T>({bn.num_features()}, rng, 0.5, 1.5);
        bn.bias().value = random_tensor<T>({bn.num_features()}, rng, -0.5, 0.5);
    }
    bn.running_mean().value = random_tensor<T>({bn.num_features()}, rng, -0.5, 0.5);
    bn.running_var().value = random_tensor<T>({bn.num_features()}, rng, 0.5, 2.0);
}

template <class T>
std::string bytes_of(const Array<T>& a) {
    return std::string(reinterpret_cast<const char*>(a.data()), a.size() * sizeof(T));
}

// Every tensor of a model file (parameters and buffers), as bytes.
template <class T>
std::vector<std::string> state_bits(Layer<T>& model) {
    std::vector<std::string> out;
    for (const auto& t : io::named_state(model)) out.push_back(t.name + ":" + bytes_of(*t.tensor));
    return out;
}

using testutil::check_gradients;

// Keeps the wrapped layer in eval mode whatever train() says, so gradcheck (which switches
// training on) checks the eval-mode gradient: the running statistics as constants.
struct KeptInEval : Layer<double> {
    explicit KeptInEval(Layer<double>& l) : inner(l) { inner.eval(); }
    Layer<double>& inner;
    const Array<double>& forward(const Array<double>& x) override { return inner.forward(x); }
    const Array<double>& backward(const Array<double>& dy) override { return inner.backward(dy); }
    std::string name() const override { return inner.name() + " in eval mode"; }
    Shape output_shape(const Shape& s) const override { return inner.output_shape(s); }
    std::vector<Parameter<double>*> parameters() override { return inner.parameters(); }
    void train(bool) override {}
};

// ---- PyTorch agreement --------------------------------------------------------------------

// Tolerance, derived: every value ann returns is computed in double from float32 inputs and
// rounded to float32 once, and the reference is torch's float64 result rounded once, so the
// two differ by at most one float32 ulp (2^-23 relative) per rounding; running statistics are
// rounded after each of the 3 steps (<= 3 more half-ulps). 2^-21 (4 ulps) bounds all of it;
// the metric is |ours - torch| / max(1, |torch|), as in test_torch_agreement.cpp.
constexpr double kTol = 0x1p-21;

json load_fixture() { return testutil::load_fixture("torch_batchnorm.json", "tools/make_batchnorm_fixtures.py"); }

Tensor<float> tensor(const json& j) { return testutil::fixture_tensor(j); }

struct Worst {
    double scaled = 0;
    std::string where;
    void check(const std::string& label, const Array<float>& ours, const json& ref_json) {
        const Tensor<float> ref = tensor(ref_json);
        INFO(label);
        REQUIRE(ours.shape() == shape_of(ref));
        double worst = 0;
        for (std::size_t i = 0; i < ref.size(); ++i) {
            const double d = std::abs(double(ours.data()[i]) - double(ref.data()[i]));
            worst = std::max(worst, std::isnan(d) ? INFINITY : d / std::max(1.0, std::abs(double(ref.data()[i]))));
        }
        if (worst > scaled) scaled = worst, where = label;
        CHECK(worst <= kTol);
    }
};

}  // namespace

TEST_CASE("BatchNorm2d agrees with torch.nn.BatchNorm2d: training steps, running statistics, both backwards",
          "[batchnorm][torch]") {
    const json doc = load_fixture();
    REQUIRE(doc.at("cases").size() == 7);
    Worst w;
    double torch_own = 0;
    for (const auto& c : doc["cases"]) {
        const std::string name = c.at("name");
        torch_own = std::max(torch_own, c.at("torch_float32_max_diff").get<double>());
        BatchNorm2d<float> bn(c.at("num_features").get<std::size_t>(),
                              {c.at("eps").get<double>(), c.at("momentum").get<double>(), c.at("affine").get<bool>()});
        const auto& init = c.at("init");
        bn.running_mean().value = tensor(init.at("running_mean"));
        bn.running_var().value = tensor(init.at("running_var"));
        REQUIRE(bn.parameters().size() == (bn.options().affine ? 2u : 0u));
        for (auto* p : bn.parameters()) {
            p->value = tensor(init.at(p->name));
            p->zero_grad();
        }
        const auto& steps = c.at("steps");
        for (std::size_t s = 0; s < steps.size(); ++s) {
            const auto& st = steps[s];
            const std::string at = name + " step " + std::to_string(s + 1);
            bn.train();
            const Array<float>& y = bn.forward(tensor(st.at("input")));
            w.check(at + " output", y, st.at("output"));
            w.check(at + " running_mean", bn.running_mean().value, st.at("running_mean"));
            w.check(at + " running_var", bn.running_var().value, st.at("running_var"));
            if (st.contains("grad_output")) {
                const Array<float>& dx = bn.backward(tensor(st.at("grad_output")));
                w.check(at + " grad_input", dx, st.at("grad_input"));
                for (auto* p : bn.parameters()) w.check(at + " grad_" + p->name, p->grad, st.at("grad_params").at(p->name));
            }
        }
        const auto& ev = c.at("eval");
        bn.eval();
        bn.zero_grad();
        const std::string rm_before = bytes_of(bn.running_mean().value), rv_before = bytes_of(bn.running_var().value);
        w.check(name + " eval output", bn.forward(tensor(ev.at("input"))), ev.at("output"));
        CHECK(bytes_of(bn.running_mean().value) == rm_before);
        CHECK(bytes_of(bn.running_var().value) == rv_before);
        w.check(name + " eval grad_input", bn.backward(tensor(ev.at("grad_output"))), ev.at("grad_input"));
        for (auto* p : bn.parameters()) w.check(name + " eval grad_" + p->name, p->grad, ev.at("grad_params").at(p->name));
    }
    std::printf("torch agreement [BatchNorm2d]: largest |diff|/max(1,|torch|) %.3g (%s); torch float32's own %.3g; "
                "tolerance %.3g\n",
                w.scaled, w.where.c_str(), torch_own, kTol);
}

// ---- gradients ----------------------------------------------------------------------------

TEST_CASE("gradcheck BatchNorm2d in training mode: shapes incl. N=1, C=1, H*W=1, affine off", "[batchnorm][gradcheck]") {
    struct Case { std::size_t N, C, H, W; bool affine; };
    const Case cases[] = {{3, 4, 3, 2, true}, {1, 3, 2, 3, true}, {4, 1, 2, 2, true},
                          {5, 2, 1, 1, true}, {2, 3, 3, 3, false}, {1, 1, 1, 2, true}};
    std::uint64_t seed = 300;
    for (const auto& c : cases) {
        Rng init(seed);
        BatchNorm2d<double> bn(c.C, {1e-5, 0.1, c.affine});
        randomize(bn, init);
        check_gradients(bn, {c.N, c.C, c.H, c.W}, ++seed);
    }
}

TEST_CASE("gradcheck BatchNorm2d in eval mode: running statistics as constants", "[batchnorm][gradcheck]") {
    for (bool affine : {true, false}) {
        Rng init(310);
        BatchNorm2d<double> bn(3, {1e-3, 0.1, affine});
        randomize(bn, init);
        KeptInEval frozen(bn);
        const std::string rm = bytes_of(bn.running_mean().value);
        check_gradients(frozen, {2, 3, 2, 3}, 311);
        CHECK(bytes_of(bn.running_mean().value) == rm);  // eval mode never moves them
    }
}

TEST_CASE("BatchNorm2d parameter gradients accumulate, its input gradient is overwritten", "[batchnorm][contract]") {
    Rng rng(320);
    BatchNorm2d<double> bn(2);
    randomize(bn, rng);
    const auto x = random_tensor<double>({3, 2, 2, 2}, rng), dy = random_tensor<double>({3, 2, 2, 2}, rng);
    bn.forward(x);
    const Tensor<double> dx1 = bn.backward(dy);
    const Tensor<double> gw = bn.weight().grad, gb = bn.bias().grad;
    bn.forward(x);
    const Tensor<double> dx2 = bn.backward(dy);
    CHECK(xt::allclose(bn.weight().grad.host(), 2.0 * gw));
    CHECK(xt::allclose(bn.bias().grad.host(), 2.0 * gb));
    CHECK((dx1 == dx2));
    // Without an input gradient: the same parameter gradients, no dx.
    bn.zero_grad();
    bn.requires_input_grad(false);
    bn.forward(x);
    CHECK(bn.backward(dy).size() == 0);
    CHECK((bn.weight().grad.host() == gw));
    CHECK((bn.bias().grad.host() == gb));
}

// ---- modes and running statistics -----------------------------------------------------------

TEST_CASE("BatchNorm2d train/eval switching: batch statistics and updates only in training", "[batchnorm]") {
    Rng rng(330);
    BatchNorm2d<double> bn(2, {1e-5, 0.25, true});
    randomize(bn, rng);
    const Tensor<double> x = random_tensor<double>({4, 2, 3, 3}, rng, -2, 5);
    const Tensor<double> rm0 = bn.running_mean().value, rv0 = bn.running_var().value;
    auto manual = [&](const Tensor<double>& mean, const Tensor<double>& var, std::size_t n, std::size_t c,
                      std::size_t h, std::size_t w) {
        return (x(n, c, h, w) - mean(c)) / std::sqrt(var(c) + 1e-5) * bn.weight().value(c) + bn.bias().value(c);
    };

    // Eval first: running statistics used, not changed.
    bn.eval();
    Tensor<double> y = bn.forward(x).host();
    CHECK(std::abs(y(1, 1, 2, 0) - manual(rm0, rv0, 1, 1, 2, 0)) < 1e-12);
    CHECK((bn.running_mean().value.host() == rm0));

    // Training: the batch's statistics (biased variance), then the update with the unbiased one.
    bn.train();
    y = bn.forward(x).host();
    const double M = 4 * 3 * 3;
    Tensor<double> mean = xt::zeros<double>({2}), var = xt::zeros<double>({2});
    for (std::size_t c = 0; c < 2; ++c) {
        for (std::size_t n = 0; n < 4; ++n)
            for (std::size_t i = 0; i < 9; ++i) mean(c) += x(n, c, i / 3, i % 3) / M;
        for (std::size_t n = 0; n < 4; ++n)
            for (std::size_t i = 0; i < 9; ++i) var(c) += std::pow(x(n, c, i / 3, i % 3) - mean(c), 2) / M;
        CHECK(bn.running_mean().value(c) == Approx(0.75 * rm0(c) + 0.25 * mean(c)).epsilon(1e-14));
        CHECK(bn.running_var().value(c) == Approx(0.75 * rv0(c) + 0.25 * var(c) * M / (M - 1)).epsilon(1e-14));
    }
    CHECK(std::abs(y(3, 0, 1, 2) - manual(mean, var, 3, 0, 1, 2)) < 1e-12);
    const Tensor<double> rm1 = bn.running_mean().value;

    // Back to eval: the updated running statistics, still unchanged by forwards.
    bn.eval();
    y = bn.forward(x).host();
    const Tensor<double> rv1 = bn.running_var().value;
    CHECK(std::abs(y(0, 1, 0, 0) - manual(rm1, rv1, 0, 1, 0, 0)) < 1e-12);
    bn.forward(x);
    CHECK((bn.running_mean().value.host() == rm1));

    // One value per channel: fine in eval, refused in training (as PyTorch).
    CHECK(bn.forward(random_tensor<double>({1, 2, 1, 1}, rng)).size() == 2);
    bn.train();
    CHECK_THROWS_WITH(bn.forward(random_tensor<double>({1, 2, 1, 1}, rng)),
                      Catch::Contains("BatchNorm2d(2, eps=1e-05, momentum=0.25, affine=True)") &&
                          Catch::Contains("more than one value per channel") && Catch::Contains("(1, 2, 1, 1)"));
    CHECK((bn.running_mean().value.host() == rm1));
}

TEST_CASE("BatchNorm2d statistics are exact for large offsets and identical for any thread count", "[batchnorm]") {
    // x = 1e4 + small values, float32: a one-pass E[x^2] - E[x]^2 in float would give garbage
    // (even negative variances); two passes in double give the variance of the small values.
    Rng rng(340);
    const std::size_t N = 8, C = 16, H = 16, W = 16;  // 32768 values: the CPU splits channels over threads
    Tensor<float> x = random_tensor<float>({N, C, H, W}, rng, -1, 1);
    for (auto& v : x) v += 1e4f;
    const Tensor<float> dy = random_tensor<float>({N, C, H, W}, rng);
    double mean = 0, var = 0;
    for (std::size_t i = 0; i < N; ++i)
        for (std::size_t k = 0; k < H * W; ++k) mean += double(x(i, 5, k / W, k % W));
    mean /= double(N * H * W);
    for (std::size_t i = 0; i < N; ++i)
        for (std::size_t k = 0; k < H * W; ++k) var += std::pow(double(x(i, 5, k / W, k % W)) - mean, 2);
    var /= double(N * H * W);
    REQUIRE(var > 0.1);

    const int saved = cpu::num_threads();
    std::vector<std::string> runs;
    for (int threads : {1, 2, 3}) {
        cpu::set_num_threads(threads);
        BatchNorm2d<float> bn(C);
        const Array<float>& y = bn.forward(x);
        // running_var after one step from 1: 0.9 + 0.1 * var * M/(M-1).
        CHECK(bn.running_var().value(5) ==
              Approx(0.9 + 0.1 * var * double(N * H * W) / double(N * H * W - 1)).epsilon(1e-6));
        CHECK(std::abs(y(0, 5, 0, 0) - (double(x(0, 5, 0, 0)) - mean) / std::sqrt(var + 1e-5)) < 1e-5);
        const Array<float>& dx = bn.backward(dy);
        runs.push_back(bytes_of(y) + bytes_of(dx) + bytes_of(bn.weight().grad) + bytes_of(bn.bias().grad) +
                       bytes_of(bn.running_mean().value) + bytes_of(bn.running_var().value));
    }
    cpu::set_num_threads(saved);
    CHECK(runs[0] == runs[1]);
    CHECK(runs[0] == runs[2]);
}

// ---- model files ----------------------------------------------------------------------------

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "ann_test_bn_XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

// Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d -> Flatten -> Linear, trained for a few forwards so
// the running statistics are not the initial ones.
Sequential<float> bn_cnn(Rng& init) {
    Sequential<float> m;
    m.emplace<Conv2d<float>>(3, 4, 3, 1, 1, true, init);
    m.emplace<BatchNorm2d<float>>(4);
    m.emplace<ReLU<float>>();
    m.emplace<MaxPool2d<float>>(2);
    m.emplace<Flatten<float>>();
    m.emplace<Linear<float>>(4 * 3 * 3, 5, true, init);
    return m;
}

}  // namespace

TEST_CASE("BatchNorm2d in a model file: PyTorch's names and order, bit-identical round trip with the buffers",
          "[batchnorm][io]") {
    Rng init(350), data(351);
    Sequential<float> a = bn_cnn(init);
    for (int i = 0; i < 3; ++i) a.forward(random_tensor<float>({4, 3, 6, 6}, data));
    auto& bn = static_cast<BatchNorm2d<float>&>(a[1]);
    bn.weight().value = random_tensor<float>({4}, data);
    bn.bias().value = random_tensor<float>({4}, data);
    std::vector<std::string> names;
    for (const auto& t : io::named_state(a)) names.push_back(t.name);
    CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                            "1.running_var", "5.weight", "5.bias"});

    TempDir dir;
    const std::string path = dir.file("bn.annm");
    io::save_model(path, a, "bn_cnn");
    Rng other(999);
    Sequential<float> b = bn_cnn(other);
    CHECK(state_bits(b) != state_bits(a));
    io::load_model(path, b, "bn_cnn");
    CHECK(state_bits(b) == state_bits(a));
    a.eval();
    b.eval();
    const Tensor<float> x = random_tensor<float>({2, 3, 6, 6}, data);
    const std::string ya = bytes_of(a.forward(x));
    CHECK(bytes_of(b.forward(x)) == ya);

    // Without affine: only the buffers are saved, and they still round-trip.
    Sequential<float> c, d;
    c.emplace<BatchNorm2d<float>>(3, BatchNorm2dOptions{1e-5, 0.1, false});
    d.emplace<BatchNorm2d<float>>(3, BatchNorm2dOptions{1e-5, 0.1, false});
    c.forward(random_tensor<float>({2, 3, 2, 2}, data));
    io::save_model(path, c, "bn");
    io::load_model(path, d, "bn");
    CHECK(io::named_state(d).size() == 2);
    CHECK(state_bits(d) == state_bits(c));
}

TEST_CASE("a model file with a negative or non-finite running statistic is refused, naming the file and tensor",
          "[batchnorm][io][hostile]") {
    Rng init(360), data(361);
    TempDir dir;
    Sequential<float> good = bn_cnn(init);
    good.forward(random_tensor<float>({4, 3, 6, 6}, data));
    Sequential<float> target = bn_cnn(init);
    target.forward(random_tensor<float>({4, 3, 6, 6}, data));
    const auto before = state_bits(target);

    struct Bad { const char* tensor; std::size_t index; float value; const char* shows; };
    const Bad bad[] = {
        {"1.running_var", 2, -1.0f, "-1"},
        {"1.running_var", 0, std::numeric_limits<float>::quiet_NaN(), "nan"},
        {"1.running_var", 3, std::numeric_limits<float>::infinity(), "inf"},
        {"1.running_mean", 1, -std::numeric_limits<float>::infinity(), "-inf"},
    };
    for (const auto& b : bad) {
        Sequential<float> hostile = bn_cnn(init);
        io::save_model(dir.file("good.annm"), good, "bn_cnn");
        io::load_model(dir.file("good.annm"), hostile, "bn_cnn");
        auto& bn = static_cast<BatchNorm2d<float>&>(hostile[1]);
        Buffer<float>& buf = std::string(b.tensor) == "1.running_var" ? bn.running_var() : bn.running_mean();
        buf.value.data()[b.index] = b.value;  // the "patch": a file written from these values
        const std::string path = dir.file("patched.annm");
        io::save_model(path, hostile, "bn_cnn");
        INFO(b.tensor << "[" << b.index << "] = " << b.value);
        CHECK_THROWS_WITH(io::load_model(path, target, "bn_cnn"),
                          Catch::Contains(path) && Catch::Contains(std::string("'") + b.tensor + "'") &&
                              Catch::Contains(b.shows) && Catch::Contains("index " + std::to_string(b.index)));
        CHECK(state_bits(target) == before);  // nothing applied, not even the tensors before it
    }
    // Zero is a legal variance (a constant channel; eps keeps it finite); -0.0 is too.
    Sequential<float> edge = bn_cnn(init);
    static_cast<BatchNorm2d<float>&>(edge[1]).running_var().value.data()[0] = 0.0f;
    static_cast<BatchNorm2d<float>&>(edge[1]).running_var().value.data()[1] = -0.0f;
    io::save_model(dir.file("zero.annm"), edge, "bn_cnn");
    io::load_model(dir.file("zero.annm"), target, "bn_cnn");
    CHECK(state_bits(target) == state_bits(edge));
}

// ---- Sequential -------------------------------------------------------------------------------

TEST_CASE("BatchNorm2d in Sequential's eval pass: between a conv and its ReLU, and after a fused group",
          "[batchnorm][sequential]") {
    Rng init(370), data(371);
    Sequential<float> m;
    m.emplace<Conv2d<float>>(3, 4, 3, 1, 0, true, init);  // conv -> BN breaks the fusion here
    m.emplace<BatchNorm2d<float>>(4);
    m.emplace<ReLU<float>>();
    m.emplace<MaxPool2d<float>>(2);
    m.emplace<Conv2d<float>>(4, 5, 3, 1, 1, true, init);  // conv -> ReLU -> pool: fused, then BN
    m.emplace<ReLU<float>>();
    m.emplace<MaxPool2d<float>>(2);
    m.emplace<BatchNorm2d<float>>(5);
    m.emplace<Flatten<float>>();
    m.emplace<Linear<float>>(5 * 2 * 2, 3, true, init);
    for (int i = 0; i < 3; ++i) m.forward(random_tensor<float>({6, 3, 10, 10}, data));  // running statistics move
    m.eval();
    const Tensor<float> x = random_tensor<float>({4, 3, 10, 10}, data);
    const Tensor<float> fused = m.forward(x);
    m.fuse_in_eval(false);
    const Tensor<float> unfused = m.forward(x);
    // The layers one by one, by hand.
    Array<float> cur = x;
    for (std::size_t i = 0; i < m.size(); ++i) cur = Array<float>(m[i].forward(cur));
    CHECK(bytes_of(Array<float>(fused)) == bytes_of(Array<float>(unfused)));
    CHECK(bytes_of(Array<float>(fused)) == bytes_of(cur));
    // And BN really normalised with its running statistics: the first BN's output by hand.
    auto& conv = static_cast<Conv2d<float>&>(m[0]);
    auto& bn = static_cast<BatchNorm2d<float>&>(m[1]);
    const Tensor<float> c0 = conv.forward(x);
    const Tensor<float> b0 = bn.forward(c0);
    const double expect = (double(c0(2, 3, 4, 5)) - bn.running_mean().value(3)) /
                              std::sqrt(double(bn.running_var().value(3)) + 1e-5) * bn.weight().value(3) +
                          bn.bias().value(3);
    CHECK(std::abs(b0(2, 3, 4, 5) - expect) < 1e-5 * std::max(1.0, std::abs(expect)));
}

TEST_CASE("the Evaluator's copy of a model gets the running statistics too", "[batchnorm][train]") {
    auto build = [](std::uint64_t seed) {
        Rng init(seed);
        Sequential<float> m;
        m.emplace<Conv2d<float>>(3, 4, 5, 2, 0, true, init);
        m.emplace<BatchNorm2d<float>>(4, BatchNorm2dOptions{1e-5, 0.5, true});
        m.emplace<ReLU<float>>();
        m.emplace<Flatten<float>>();
        m.emplace<Linear<float>>(4 * 14 * 14, 10, true, init);
        return m;
    };
    Sequential<float> trained = build(390);
    Rng data(391);
    // Inputs far from the initial statistics (mean 0, variance 1), so stale ones change the logits.
    for (int i = 0; i < 4; ++i) trained.forward(random_tensor<float>({8, 3, 32, 32}, data, 2, 9));
    Sequential<float> copy = build(392);
    train::copy_parameters(trained, copy);
    CHECK(state_bits(copy) == state_bits(trained));

    const data::CifarSet set = testing::synthetic_cifar(200, 393);
    data::Indices idx(set.size());
    for (std::uint32_t i = 0; i < set.size(); ++i) idx[i] = i;
    train::Evaluator<float> ev(build(394), 16);
    const double acc = ev.accuracy(trained, set, idx);
    // By hand: a model in eval mode, all images in one batch.
    Array<float> x;
    std::vector<long> y;
    data::fill_batch(set, idx.data(), idx.size(), x, y);
    auto accuracy = [&](Sequential<float>& m) {
        m.eval();
        const Array<float>& z = m.forward(x);
        std::size_t correct = 0;
        for (std::size_t n = 0; n < idx.size(); ++n) correct += train::argmax_row(z.data() + n * 10, 10) == y[n];
        return 100.0 * double(correct) / double(idx.size());
    };
    Sequential<float> stale = build(390);  // the same parameters, the initial running statistics
    const double right = accuracy(trained);
    REQUIRE(right != accuracy(stale));  // otherwise this test could not tell them apart
    CHECK(acc == right);
}

// ---- devices ----------------------------------------------------------------------------------

namespace {
using testutil::StandInDevice;  // tests/stand_in_device.hpp
}  // namespace

TEST_CASE("BatchNorm2d on another device: buffers move with to(), results are the CPU's", "[batchnorm][devices]") {
    StandInDevice dev;
    Rng a(380), b(380), data(381);
    BatchNorm2d<float> on_cpu(3), on_dev(3);
    randomize(on_cpu, a);
    randomize(on_dev, b);
    on_dev.to(Device::cuda);
    CHECK(on_dev.running_var().value.device() == Device::cuda);
    CHECK(on_dev.weight().value.device() == Device::cuda);
    const Tensor<float> x = random_tensor<float>({2, 3, 4, 4}, data), dy = random_tensor<float>({2, 3, 4, 4}, data);
    for (bool training : {true, false}) {
        on_cpu.train(training);
        on_dev.train(training);
        const std::string y = bytes_of(on_cpu.forward(x));
        const Array<float>& yd = on_dev.forward(Array<float>(x).to(Device::cuda));
        CHECK(yd.device() == Device::cuda);
        CHECK(bytes_of(yd) == y);
        const std::string dx = bytes_of(on_cpu.backward(dy));
        CHECK(bytes_of(on_dev.backward(Array<float>(dy).to(Device::cuda))) == dx);
        CHECK(bytes_of(on_dev.weight().grad) == bytes_of(on_cpu.weight().grad));
        CHECK(bytes_of(on_dev.running_var().value) == bytes_of(on_cpu.running_var().value));
    }
    CHECK_THROWS_WITH(on_dev.forward(x), Catch::Contains("is on cpu but the layer is on cuda"));
}

// ---- errors and names -----------------------------------------------------------------------

TEST_CASE("BatchNorm2d names itself like PyTorch's repr and names the expected shape in errors", "[batchnorm][errors]") {
    CHECK(BatchNorm2d<float>(16).name() == "BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True)");
    CHECK(BatchNorm2d<float>(8, {1e-3, 0.01, false}).name() == "BatchNorm2d(8, eps=0.001, momentum=0.01, affine=False)");
    CHECK(BatchNorm2d<float>(2, 0.0, 1.0).name() == "BatchNorm2d(2, eps=0.0, momentum=1.0, affine=True)");
    CHECK(BatchNorm2d<float>(2, 1.5e-7, 0.0001).name() == "BatchNorm2d(2, eps=1.5e-07, momentum=0.0001, affine=True)");
    CHECK(float_repr(100.0) == "100.0");
    CHECK(float_repr(1e16) == "1e+16");
    CHECK(float_repr(123456.5) == "123456.5");
    CHECK(float_repr(0.3) == "0.3");

    BatchNorm2d<float> bn(16);
    const std::string name = "BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True)";
    CHECK_THROWS_WITH(bn.forward(Tensor<float>::from_shape({2, 3, 4, 4})),
                      Catch::Contains(name) && Catch::Contains("(N, 16, H, W)") && Catch::Contains("(2, 3, 4, 4)"));
    CHECK_THROWS_WITH(bn.forward(Tensor<float>::from_shape({2, 16, 4})),
                      Catch::Contains(name) && Catch::Contains("(2, 16, 4)"));
    CHECK_THROWS_WITH(bn.backward(Tensor<float>::from_shape({2, 16, 4, 4})), Catch::Contains(name));
    bn.forward(Tensor<float>(xt::ones<float>({2, 16, 4, 4})));
    CHECK_THROWS_WITH(bn.backward(Tensor<float>::from_shape({2, 16, 4, 5})),
                      Catch::Contains(name) && Catch::Contains("(2, 16, 4, 5)"));
    // In a Sequential the error also names the layer's index and where the shape came from.
    Sequential<float> m;
    m.emplace<Conv2d<float>>(3, 8, 3);
    m.emplace<BatchNorm2d<float>>(16);
    CHECK_THROWS_WITH(m.forward(Tensor<float>::from_shape({1, 3, 6, 6})),
                      Catch::Contains("layer 1 (BatchNorm2d(16") && Catch::Contains("(1, 8, 4, 4)"));

    CHECK_THROWS_WITH(BatchNorm2d<float>(0), Catch::Contains("num_features"));
    CHECK_THROWS_WITH(BatchNorm2d<float>(4, 1e-5, 1.5), Catch::Contains("momentum") && Catch::Contains("1.5"));
    CHECK_THROWS_WITH(BatchNorm2d<float>(4, 1e-5, std::nan("")), Catch::Contains("momentum=None"));
    CHECK_THROWS_WITH(BatchNorm2d<float>(4, -1e-5), Catch::Contains("eps"));
    BatchNorm2d<float> plain(4, {1e-5, 0.1, false});
    CHECK(plain.parameters().empty());
    CHECK_THROWS_WITH(plain.weight(), Catch::Contains("affine=False"));
}
