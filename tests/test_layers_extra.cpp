// LeakyReLU, AvgPool2d, AdaptiveAvgPool2d and Dropout: gradient checks (double), PyTorch fixtures
// (tests/fixtures/torch_layers_extra.json from tools/make_layer_fixtures.py: forward and input
// gradient), Dropout's mask (against a Python re-implementation of its hash, statistics,
// determinism, eval identity), shape errors and the model-file round trip of Dropout's buffers.
//
// Tolerances against torch (the reference is torch float64 on the same float32 inputs, rounded to
// float32; u = 2^-24; metric |ours - ref| / max(1, |ref|), as tests/test_torch_agreement.cpp):
//   element-wise (LeakyReLU: fl(x fl(slope)); Dropout: fl(x fl(1/fl(1-p)))): at most three
//     roundings of ours and one of the reference, each relative u: 4u.
//   pools, forward: a sum of t terms (t = forward_terms, the largest window) in float32 errs by at
//     most (t-1) u sum|x| (first order), the division and the reference's rounding add u |y| each;
//     with sum|x| / divisor <= max|x| and |y| <= max|x|: (t+1) u max(1, max|x|).
//   pools, backward: an input's gradient adds b terms dy/divisor (b = backward_terms), each within
//     u of exact and at most max|dy|: (b-1) u b max|dy| + b u max|dy| + u b max|dy|, so
//     (b+1) b u max(1, max|dy|).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "ann/ann.hpp"
#include "fixture_json.hpp"
#include "gradcheck_util.hpp"
#include "ann/io/model_file.hpp"
#include "ann/testing/gradcheck.hpp"

using namespace ann;
using json = nlohmann::json;

namespace {

constexpr double kU = 0x1p-24;

json load_fixture() { return testutil::load_fixture("torch_layers_extra.json", "tools/make_layer_fixtures.py"); }

Tensor<float> tensor(const json& j) { return testutil::fixture_tensor(j); }

double max_abs(const Tensor<float>& t) {
    double m = 0;
    for (float v : t) m = std::max(m, double(std::abs(v)));
    return m;
}

// max |ours - ref| / max(1, |ref|); a NaN difference is infinite.
double scaled_diff(const Tensor<float>& ours, const Tensor<float>& ref) {
    REQUIRE(shape_of(ours) == shape_of(ref));
    double worst = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
        const double d = std::abs(double(ours.data()[i]) - double(ref.data()[i]));
        worst = std::max(worst, std::isnan(d) ? INFINITY : d / std::max(1.0, std::abs(double(ref.data()[i]))));
    }
    return worst;
}

void check_close(const std::string& what, const Tensor<float>& ours, const Tensor<float>& ref, double tol,
                 double torch_own) {
    const double d = scaled_diff(ours, ref);
    std::printf("torch agreement [%s]: %.3g (bound %.3g; torch float32's own %.3g)\n", what.c_str(), d, tol, torch_own);
    INFO(what << ": " << d << " > bound " << tol);
    CHECK(d <= tol);
}

// A layer case of the fixture: forward, then backward with its grad_output.
void check_case(Layer<float>& layer, const json& c, double tol_forward, double tol_backward) {
    const std::string name = c.at("name");
    const double own = c.at("torch_float32_max_diff");
    check_close(name + " output", layer.forward(tensor(c.at("input"))), tensor(c.at("output")), tol_forward, own);
    check_close(name + " grad_input", layer.backward(tensor(c.at("grad_output"))), tensor(c.at("grad_input")),
                tol_backward, own);
}

const json& cases_named(const json& doc, const std::string& prefix, std::vector<json>& out) {
    for (const auto& c : doc.at("cases"))
        if (c.at("name").get<std::string>().rfind(prefix, 0) == 0) out.push_back(c);
    return doc;
}

using testutil::random_tensor;
using testutil::check_gradients;

template <class T>
void set_seed(Dropout<T>& d, std::uint64_t seed) {
    shared::encode_pieces(seed, d.buffers()[0]->value.data(), shared::kSeedPieces, shared::kSeedPieceBits);
}
template <class T>
void set_forward_count(Dropout<T>& d, std::uint64_t k) {
    shared::encode_pieces(k, d.buffers()[1]->value.data(), shared::kCounterPieces, shared::kCounterPieceBits);
}

std::vector<std::uint8_t> mask_of(const Dropout<float>& d) {
    return std::vector<std::uint8_t>(d.mask().begin(), d.mask().end());
}

// Bit for bit (NaNs included).
bool same_bits(const Tensor<float>& a, const Tensor<float>& b) {
    return shape_of(a) == shape_of(b) && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

Tensor<float> random_float(const Shape& s, Rng& rng, double lo = -1, double hi = 1) {
    Tensor<float> t = Tensor<float>::from_shape(s);
    for (auto& v : t) v = float(rng.uniform(lo, hi));
    return t;
}

}  // namespace

// ---- names and shape errors ------------------------------------------------------------------

TEST_CASE("names as PyTorch prints them", "[layers_extra]") {
    CHECK(LeakyReLU<float>().name() == "LeakyReLU(negative_slope=0.01)");
    CHECK(LeakyReLU<float>(0.2).name() == "LeakyReLU(negative_slope=0.2)");
    CHECK(LeakyReLU<float>(1.0).name() == "LeakyReLU(negative_slope=1.0)");
    CHECK(AvgPool2d<float>(3).name() == "AvgPool2d(kernel_size=3, stride=3, padding=0)");
    CHECK(AvgPool2d<float>(3, 2, 1).name() == "AvgPool2d(kernel_size=3, stride=2, padding=1)");
    CHECK(AdaptiveAvgPool2d<float>(1).name() == "AdaptiveAvgPool2d(output_size=1)");
    CHECK(AdaptiveAvgPool2d<float>(2, 3).name() == "AdaptiveAvgPool2d(output_size=(2, 3))");
    CHECK(Dropout<float>().name() == "Dropout(p=0.5)");
    CHECK(Dropout<float>(0.25).name() == "Dropout(p=0.25)");
}

TEST_CASE("bad arguments and shapes are errors naming the layer and the shapes", "[layers_extra][errors]") {
    CHECK_THROWS_WITH(Dropout<float>(1.5), Catch::Contains("Dropout") && Catch::Contains("between 0 and 1") &&
                                               Catch::Contains("1.5"));
    CHECK_THROWS_WITH(Dropout<float>(-0.1), Catch::Contains("-0.1"));
    CHECK_THROWS_WITH(Dropout<float>(std::nan("")), Catch::Contains("nan"));
    CHECK_NOTHROW(Dropout<float>(0.0));
    CHECK_NOTHROW(Dropout<float>(1.0));
    CHECK_THROWS_WITH(LeakyReLU<float>(INFINITY), Catch::Contains("LeakyReLU") && Catch::Contains("finite"));
    CHECK_THROWS_WITH(AvgPool2d<float>(0), Catch::Contains("AvgPool2d: kernel_size must be positive"));
    CHECK_THROWS_WITH(AvgPool2d<float>(3, 1, 2), Catch::Contains("AvgPool2d(kernel_size=3, stride=1, padding=2)") &&
                                                     Catch::Contains("at most half of kernel size"));
    CHECK_THROWS_WITH(AdaptiveAvgPool2d<float>(0), Catch::Contains("AdaptiveAvgPool2d") && Catch::Contains("positive"));

    AvgPool2d<float> avg(3, 2, 1);
    CHECK_THROWS_WITH(avg.output_shape({2, 3, 4}), Catch::Contains("AvgPool2d(kernel_size=3, stride=2, padding=1)") &&
                                                       Catch::Contains("(N, C, H, W)") && Catch::Contains("(2, 3, 4)"));
    CHECK_THROWS_WITH(avg.output_shape({2, 3, 5, 0}), Catch::Contains("(2, 3, 5, 0)") && Catch::Contains("smaller"));
    CHECK(avg.output_shape({2, 3, 7, 9}) == Shape{2, 3, 4, 5});
    AvgPool2d<float> avg4(4);
    CHECK_THROWS_WITH(avg4.forward(Tensor<float>::from_shape({1, 1, 3, 8})),
                      Catch::Contains("AvgPool2d(kernel_size=4") && Catch::Contains("(1, 1, 3, 8)"));

    AdaptiveAvgPool2d<float> ada(2, 3);
    CHECK_THROWS_WITH(ada.output_shape({5, 7}), Catch::Contains("AdaptiveAvgPool2d(output_size=(2, 3))") &&
                                                    Catch::Contains("(5, 7)"));
    CHECK_THROWS_WITH(ada.output_shape({1, 2, 0, 4}), Catch::Contains("(1, 2, 0, 4)") && Catch::Contains("empty"));
    CHECK(ada.output_shape({4, 2, 1, 1}) == Shape{4, 2, 2, 3});

    // backward with a gradient of the wrong shape, and a held mask without a forward to hold
    LeakyReLU<float> leaky;
    leaky.forward(Tensor<float>::from_shape({2, 3}));
    CHECK_THROWS_WITH(leaky.backward(Tensor<float>::from_shape({3, 2})),
                      Catch::Contains("LeakyReLU(negative_slope=0.01)") && Catch::Contains("(3, 2)") &&
                          Catch::Contains("(2, 3)"));
    Dropout<float> drop(0.5);
    drop.hold_mask(true);
    CHECK_THROWS_WITH(drop.forward(Tensor<float>::from_shape({2, 3})),
                      Catch::Contains("Dropout(p=0.5)") && Catch::Contains("hold_mask") && Catch::Contains("(2, 3)"));
    drop.hold_mask(false);
    drop.forward(Tensor<float>::from_shape({2, 3}));
    drop.hold_mask(true);
    CHECK_THROWS_WITH(drop.forward(Tensor<float>::from_shape({3, 2})), Catch::Contains("(3, 2)"));
}

// ---- gradient checks (double) ----------------------------------------------------------------

TEST_CASE("gradcheck LeakyReLU (slopes 0.01, 0.2, -0.5, 0)", "[layers_extra][gradcheck]") {
    LeakyReLU<double> a;
    check_gradients(a, {3, 4, 2, 2}, 41);
    LeakyReLU<double> b(0.2);
    check_gradients(b, {5, 7}, 42);
    LeakyReLU<double> c(-0.5);  // keeps its input: y alone does not tell the sign of x
    check_gradients(c, {2, 3, 4}, 43);
    LeakyReLU<double> d(0.0);
    check_gradients(d, {4, 6}, 44);
}

TEST_CASE("gradcheck AvgPool2d with stride and padding variants", "[layers_extra][gradcheck]") {
    struct Case { std::size_t k, s, p, N, C, H, W; };
    const Case cases[] = {{2, 0, 0, 2, 3, 6, 5}, {3, 2, 1, 2, 2, 7, 7}, {3, 1, 1, 1, 2, 5, 6},
                          {2, 1, 0, 2, 1, 4, 5}, {4, 2, 2, 1, 2, 6, 5}, {3, 3, 0, 1, 1, 8, 7}};
    std::uint64_t seed = 50;
    for (const auto& c : cases) {
        AvgPool2d<double> pool(c.k, c.s, c.p);
        check_gradients(pool, {c.N, c.C, c.H, c.W}, ++seed);
    }
}

TEST_CASE("gradcheck AdaptiveAvgPool2d (global, uneven, overlapping, larger than the input)",
          "[layers_extra][gradcheck]") {
    AdaptiveAvgPool2d<double> a(1);
    check_gradients(a, {2, 3, 5, 7}, 61);
    AdaptiveAvgPool2d<double> b(2, 3);
    check_gradients(b, {2, 2, 5, 7}, 62);
    AdaptiveAvgPool2d<double> c(3);
    check_gradients(c, {1, 2, 7, 7}, 63);
    AdaptiveAvgPool2d<double> d(4, 5);
    check_gradients(d, {2, 1, 3, 2}, 64);
}

TEST_CASE("gradcheck Dropout with its mask held (the way to check a random layer)", "[layers_extra][gradcheck]") {
    for (double p : {0.5, 0.2, 0.0, 1.0}) {
        Rng init(70);
        Dropout<double> drop(p, init);
        Rng rng(71);
        drop.forward(random_tensor({3, 4, 5}, rng));  // draws the mask to hold
        drop.hold_mask(true);
        const std::uint64_t k = drop.forward_count();
        check_gradients(drop, {3, 4, 5}, 72);
        CHECK(drop.forward_count() == k);  // held forwards draw nothing
    }
}

// ---- PyTorch fixtures ------------------------------------------------------------------------

TEST_CASE("LeakyReLU agrees with torch.nn.LeakyReLU, the slope at x == 0 included", "[layers_extra][torch]") {
    const json doc = load_fixture();
    std::vector<json> cases;
    cases_named(doc, "leaky_relu", cases);
    REQUIRE(cases.size() == 4);
    for (const auto& c : cases) {
        LeakyReLU<float> layer(c.at("negative_slope").get<double>());
        check_case(layer, c, 4 * kU, 4 * kU);
    }
}

TEST_CASE("AvgPool2d agrees with torch.nn.AvgPool2d (count_include_pad, floor mode)", "[layers_extra][torch]") {
    const json doc = load_fixture();
    std::vector<json> cases;
    cases_named(doc, "avgpool", cases);
    REQUIRE(cases.size() == 6);
    for (const auto& c : cases) {
        AvgPool2d<float> layer(c.at("kernel_size").get<std::size_t>(), c.at("stride").get<std::size_t>(),
                               c.at("padding").get<std::size_t>());
        const double t = c.at("forward_terms"), b = c.at("backward_terms");
        check_case(layer, c, (t + 1) * kU * std::max(1.0, max_abs(tensor(c.at("input")))),
                   (b + 1) * b * kU * std::max(1.0, max_abs(tensor(c.at("grad_output")))));
    }
}

TEST_CASE("AdaptiveAvgPool2d agrees with torch.nn.AdaptiveAvgPool2d", "[layers_extra][torch]") {
    const json doc = load_fixture();
    std::vector<json> cases;
    cases_named(doc, "adaptive", cases);
    REQUIRE(cases.size() == 5);
    for (const auto& c : cases) {
        const json& size = c.at("output_size");
        AdaptiveAvgPool2d<float> layer = size.is_array()
            ? AdaptiveAvgPool2d<float>(size[0].get<std::size_t>(), size[1].get<std::size_t>())
            : AdaptiveAvgPool2d<float>(size.get<std::size_t>());
        const double t = c.at("forward_terms"), b = c.at("backward_terms");
        check_case(layer, c, (t + 1) * kU * std::max(1.0, max_abs(tensor(c.at("input")))),
                   (b + 1) * b * kU * std::max(1.0, max_abs(tensor(c.at("grad_output")))));
    }
}

TEST_CASE("Dropout: the masks of a Python re-implementation of the hash, y = x*mask/(1-p) as torch computes it",
          "[layers_extra][torch][dropout]") {
    const json doc = load_fixture();
    REQUIRE(doc.at("dropout").size() == 5);
    for (const auto& c : doc.at("dropout")) {
        const std::string name = c.at("name");
        Dropout<float> drop(c.at("p").get<double>());
        set_seed(drop, std::stoull(c.at("seed").get<std::string>()));
        CHECK(drop.seed() == std::stoull(c.at("seed").get<std::string>()));
        for (const auto& f : c.at("forwards")) {
            const std::uint64_t k = f.at("k");
            INFO(name << " forward k=" << k);
            CHECK(drop.forward_count() == k);
            const double own = f.at("torch_float32_max_diff");
            const std::string what = name + " k=" + std::to_string(k);
            check_close(what + " output", drop.forward(tensor(f.at("input"))), tensor(f.at("output")), 4 * kU, own);
            CHECK(mask_of(drop) == f.at("mask").get<std::vector<std::uint8_t>>());
            check_close(what + " grad_input", drop.backward(tensor(f.at("grad_output"))), tensor(f.at("grad_input")),
                        4 * kU, own);
        }
        CHECK(drop.forward_count() == 2);
    }
}

// ---- Dropout: statistics, determinism, eval, buffers ---------------------------------------------

TEST_CASE("Dropout's masks: kept fraction, mean, independence across k and neighbours", "[layers_extra][dropout]") {
    // n Bernoulli(q) draws, q = 1 - p: the kept fraction has standard deviation sqrt(q (1-q) / n);
    // every bound below is 6 such deviations (a false alarm has probability ~2e-9 per check, and
    // with fixed seeds the outcome never changes from run to run).
    const std::size_t n = 1 << 20;
    Rng data(80);
    const Tensor<float> x = random_float({n / 1024, 1024}, data, 0.5, 1.5);
    for (double p : {0.1, 0.5, 0.8}) {
        INFO("p = " << p);
        const double q = 1 - p;
        Rng init(81);
        Dropout<float> drop(p, init);
        const Tensor<float> y = drop.forward(x);
        const auto m0 = mask_of(drop);
        const double kept = double(std::count(m0.begin(), m0.end(), 1)) / n;
        CHECK(std::abs(kept - q) <= 6 * std::sqrt(q * p / n));
        // E[y_i] = x_i, Var[y_i] = x_i^2 p / q: mean(y) - mean(x) has sd sqrt(sum x_i^2 p/q) / n.
        double sx = 0, sy = 0, sxx = 0;
        for (std::size_t i = 0; i < n; ++i) sx += x.data()[i], sy += y.data()[i], sxx += double(x.data()[i]) * x.data()[i];
        CHECK(std::abs(sy - sx) / n <= 6 * std::sqrt(sxx * p / q) / n);
        // Neighbours: both kept with probability q^2. Overlapping pairs share an element, so the
        // variance of their count is (n-1) (q^2 (1-q^2) + 2 (q^3 - q^4)) to first order.
        std::size_t pairs = 0;
        for (std::size_t i = 0; i + 1 < n; ++i) pairs += m0[i] & m0[i + 1];
        CHECK(std::abs(double(pairs) / (n - 1) - q * q) <=
              6 * std::sqrt((q * q * (1 - q * q) + 2 * (q * q * q - q * q * q * q)) / (n - 1)));
        // The next forward's mask: independent of this one, both kept with probability q^2.
        drop.forward(x);
        const auto m1 = mask_of(drop);
        CHECK(m1 != m0);
        std::size_t both = 0;
        for (std::size_t i = 0; i < n; ++i) both += m0[i] & m1[i];
        CHECK(std::abs(double(both) / n - q * q) <= 6 * std::sqrt(q * q * (1 - q * q) / n));
        // Every element is the hash of (seed, k, i), whatever the thread split (serial here).
        const std::uint64_t key = shared::dropout_key(drop.seed(), 1);
        std::size_t same = 0;
        for (std::size_t i = 0; i < n; ++i) same += m1[i] == (shared::dropout_keep(key, i, shared::dropout_keep_below(p)) ? 1 : 0);
        CHECK(same == n);
    }
}

TEST_CASE("Dropout is deterministic for a seed; different seeds and forwards differ", "[layers_extra][dropout]") {
    Rng data(90);
    const Tensor<float> x = random_float({64, 50}, data);
    Rng a(7), b(7), c(8);
    Dropout<float> da(0.5, a), db(0.5, b), dc(0.5, c);
    CHECK(da.seed() == db.seed());
    CHECK(da.seed() != dc.seed());
    std::vector<std::vector<std::uint8_t>> ma, mb;
    for (int k = 0; k < 3; ++k) {
        const Tensor<float> ya = da.forward(x), yb = db.forward(x);
        CHECK(same_bits(ya, yb));
        ma.push_back(mask_of(da));
        mb.push_back(mask_of(db));
        dc.forward(x);
        CHECK(mask_of(dc) != ma.back());
    }
    CHECK(ma == mb);
    CHECK(ma[0] != ma[1]);
    CHECK(ma[1] != ma[2]);
    CHECK(da.forward_count() == 3);
    // The seed comes from the Rng it is given: the default one unless told otherwise.
    manual_seed(5);
    Dropout<float> d1;
    manual_seed(5);
    Dropout<float> d2;
    CHECK(d1.seed() == d2.seed());
}

TEST_CASE("Dropout: eval is the identity, p = 0 keeps everything, p = 1 drops everything", "[layers_extra][dropout]") {
    Rng data(91);
    Tensor<float> x = random_float({8, 7}, data);
    x(0, 0) = INFINITY;
    const Tensor<float> dy = random_float({8, 7}, data);
    Dropout<float> drop(0.5);
    drop.eval();
    CHECK(same_bits(drop.forward(x), x));
    CHECK(same_bits(drop.backward(dy), dy));
    CHECK(drop.forward_count() == 0);  // eval draws no mask

    Dropout<float> keep(0.0);
    CHECK(same_bits(keep.forward(x), x));
    CHECK(same_bits(keep.backward(dy), dy));
    CHECK(keep.forward_count() == 1);

    Dropout<float> none(1.0);
    const Tensor<float> y = none.forward(x);
    CHECK(std::isnan(y(0, 0)));  // inf * 0, as PyTorch's x * zeros
    for (std::size_t i = 1; i < y.size(); ++i) CHECK(y.data()[i] == 0.0f);
    for (float v : Tensor<float>(none.backward(dy))) CHECK(v == 0.0f);
    // Backward uses the last forward's mask: after a held forward, still that mask.
    Dropout<float> half(0.5);
    half.forward(x);
    const auto m = mask_of(half);
    const Tensor<float> dx = half.backward(dy);
    for (std::size_t i = 0; i < dx.size(); ++i) CHECK(dx.data()[i] == (m[i] ? dy.data()[i] * 2.0f : 0.0f));
}

TEST_CASE("Dropout's forward count is stored exactly in its buffer, carries over 2^20 and wraps at 2^40",
          "[layers_extra][dropout]") {
    Dropout<float> drop(0.5);
    const Tensor<float> x = Tensor<float>::from_shape({3, 3});
    set_forward_count(drop, (std::uint64_t(1) << 20) - 1);
    drop.forward(x);
    CHECK(drop.forward_count() == (std::uint64_t(1) << 20));
    const Tensor<float>& pieces = drop.buffers()[1]->value.host();
    CHECK(pieces(0) == 0.0f);
    CHECK(pieces(1) == 1.0f);
    set_forward_count(drop, (std::uint64_t(1) << 40) - 1);
    drop.forward(x);
    CHECK(drop.forward_count() == 0);
    // Out-of-range pieces (only a damaged file has them) read as 0 instead of misbehaving.
    drop.buffers()[1]->value.host()(0) = std::nanf("");
    drop.buffers()[1]->value.host()(1) = -3.0f;
    CHECK(drop.forward_count() == 0);
}

TEST_CASE("a model file carries Dropout's seed and forward count: a loaded model draws the next masks",
          "[layers_extra][dropout][io]") {
    auto build = [](std::uint64_t seed) {
        Rng rng(seed);
        Sequential<float> m;
        m.emplace<Linear<float>>(6, 5, true, rng);
        m.emplace<LeakyReLU<float>>(0.1);
        m.emplace<Dropout<float>>(0.3, rng);
        m.emplace<Linear<float>>(5, 3, true, rng);
        m.emplace<Dropout<float>>(0.5, rng);
        return m;
    };
    Rng data(95);
    const Tensor<float> x = random_float({4, 6}, data);
    Sequential<float> a = build(1), b = build(2);
    for (int i = 0; i < 3; ++i) a.forward(x);
    const std::string file = io::encode_model(a, "drop_net");
    io::decode_model(file, b, "drop_net", "mem");
    auto* da = dynamic_cast<Dropout<float>*>(&a[2]);
    auto* db = dynamic_cast<Dropout<float>*>(&b[2]);
    REQUIRE(da);
    REQUIRE(db);
    CHECK(db->seed() == da->seed());
    CHECK(db->forward_count() == 3);
    const Tensor<float> ya = a.forward(x), yb = b.forward(x);
    CHECK(same_bits(ya, yb));
    CHECK(mask_of(*db) == mask_of(*da));
    CHECK(io::encode_model(b, "drop_net") == io::encode_model(a, "drop_net"));
}

// ---- window rules ----------------------------------------------------------------------------

TEST_CASE("avgpool windows: outputs_of is exactly the inverse of window", "[layers_extra][avgpool]") {
    auto check_axis = [](const AvgPoolGeometry& g, int In, int Out) {
        for (int i = 0; i < In; ++i) {
            int first, last;
            g.outputs_of(i, In, Out, first, last);
            for (int o = 0; o < Out; ++o) {
                int lo, hi, count;
                g.window(o, In, Out, lo, hi, count);
                INFO("In " << In << " Out " << Out << " k " << g.k << " s " << g.s << " pad " << g.pad << " i " << i
                           << " o " << o);
                REQUIRE((lo <= i && i < hi) == (first <= o && o < last));
            }
        }
    };
    for (int In = 1; In <= 12; ++In) {
        for (int k = 1; k <= 5; ++k)
            for (int s = 1; s <= 4; ++s)
                for (int pad = 0; 2 * pad <= k; ++pad) {
                    if (In + 2 * pad < k) continue;
                    AvgPoolGeometry g;
                    g.k = k, g.s = s, g.pad = pad;
                    check_axis(g, In, (In + 2 * pad - k) / s + 1);
                }
        for (int Out = 1; Out <= 12; ++Out) check_axis(AvgPoolGeometry{}, In, Out);
    }
}

TEST_CASE("the new layers train inside a Sequential and keep PyTorch's shapes", "[layers_extra]") {
    Rng init(99);
    Sequential<float> m;
    m.emplace<Conv2d<float>>(3, 4, 3, 1, 1, true, init);
    m.emplace<LeakyReLU<float>>();
    m.emplace<AvgPool2d<float>>(2);
    m.emplace<Dropout<float>>(0.25, init);
    m.emplace<AdaptiveAvgPool2d<float>>(1);
    m.emplace<Flatten<float>>();
    m.emplace<Linear<float>>(4, 2, true, init);
    CHECK(m.output_shape({5, 3, 9, 9}) == Shape{5, 2});
    Rng data(100);
    const Tensor<float> x = random_float({5, 3, 9, 9}, data);
    const Tensor<float> y = m.forward(x);
    REQUIRE(shape_of(y) == Shape{5, 2});
    m.zero_grad();
    m.backward(Tensor<float>(random_float({5, 2}, data)));
    double g = 0;
    for (auto* p : m.parameters())
        for (float v : p->grad.host()) g += std::abs(v);
    CHECK(g > 0);
    m.eval();
    const Tensor<float> e1 = m.forward(x), e2 = m.forward(x);
    CHECK(same_bits(e1, e2));  // no dropout in eval

    // LeakyReLU is not one of the fused activations: Conv2d -> LeakyReLU -> MaxPool2d in eval
    // runs the layers one by one (a fused conv + pool would skip the LeakyReLU).
    Sequential<float> f;
    f.emplace<Conv2d<float>>(3, 4, 3, 1, 0, true, init);
    f.emplace<LeakyReLU<float>>(0.3);
    f.emplace<MaxPool2d<float>>(2);
    f.eval();
    const Tensor<float> fused = f.forward(x);
    f.fuse_in_eval(false);
    CHECK(same_bits(fused, f.forward(x)));
}

TEST_CASE("a model file whose Dropout state is not whole numbers in range is refused, naming the tensor",
          "[dropout][io][hostile]") {
    Rng init(77);
    auto make = [&] {
        Sequential<float> m;
        m.emplace<Linear<float>>(4, 4, true, init);
        m.emplace<Dropout<float>>(0.5, init);
        return m;
    };
    Sequential<float> target = make();
    const std::string before = io::encode_model(target, "d");
    struct Bad { std::size_t buffer, index; float value; };
    const Bad bad[] = {{0, 0, -1.f}, {0, 3, 65536.f}, {0, 1, 0.5f}, {0, 2, std::numeric_limits<float>::quiet_NaN()},
                       {1, 0, 1048576.f}, {1, 1, -0.25f}, {1, 0, std::numeric_limits<float>::infinity()}};
    for (const auto& b : bad) {
        Sequential<float> hostile = make();
        hostile[1].buffers()[b.buffer]->value.data()[b.index] = b.value;
        const std::string name = "1." + hostile[1].buffers()[b.buffer]->name;
        INFO(name << "[" << b.index << "] = " << b.value);
        CHECK_THROWS_WITH(io::decode_model(io::encode_model(hostile, "d"), target, "d", "bad.annm"),
                          Catch::Contains("bad.annm") && Catch::Contains("'" + name + "'") &&
                              Catch::Contains("index " + std::to_string(b.index)) && Catch::Contains("whole numbers"));
        CHECK(io::encode_model(target, "d") == before);  // nothing applied
    }
}

TEST_CASE("average pools refuse sizes their int window arithmetic cannot hold", "[avgpool][errors]") {
    CHECK_THROWS_WITH(AvgPool2d<float>(std::size_t(1) << 16), Catch::Contains("kernel_size must be at most 32768"));
    CHECK_THROWS_WITH(AvgPool2d<float>(2, std::size_t(1) << 32), Catch::Contains("stride must be at most 32768"));
    CHECK_THROWS_WITH(AdaptiveAvgPool2d<float>(70000), Catch::Contains("output_size must be at most 32768"));
    AdaptiveAvgPool2d<float> gap(1);
    CHECK_THROWS_WITH(gap.output_shape({1, 1, 1, 40000}), Catch::Contains("larger than 32768"));
}
