// CUDA backend parity with the CPU backend (run only where a GPU exists; see main.cpp).
// Tolerances: per-tensor relative, max|gpu - cpu| <= tol * max|cpu|, tol = 1e-4 for layers;
// 1e-3 absolute on loss curves.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "ann/cuda.cuh"

namespace {

using ann::Tensor;
namespace cu = ann::cuda;

Tensor<float> randn(const ann::Shape& s, ann::Rng& rng) {
    Tensor<float> t = Tensor<float>::from_shape(s);
    for (auto& v : t) v = static_cast<float>(rng.normal());
    return t;
}

double rel_diff(const Tensor<float>& gpu, const Tensor<float>& cpu) {
    REQUIRE(ann::shape_of(gpu) == ann::shape_of(cpu));
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < cpu.size(); ++i) {
        diff = std::max(diff, std::abs(double(gpu.data()[i]) - double(cpu.data()[i])));
        scale = std::max(scale, std::abs(double(cpu.data()[i])));
    }
    return scale == 0 ? diff : diff / scale;
}

// Forward and backward of one CPU layer and its device mirror on the same random input and
// output gradient; the backward runs twice to check accumulate (params) vs overwrite (input).
void check_layer(ann::Layer<float>& cpu, const ann::Shape& in_shape, std::uint64_t seed) {
    ann::Rng rng(seed);
    cu::DeviceModel dev;
    cu::detail::mirror_into(dev, cpu, cu::Context::get());
    {
        auto dp = dev.parameters();
        auto hp = cpu.parameters();
        REQUIRE(dp.size() == hp.size());
        for (std::size_t i = 0; i < dp.size(); ++i) dp[i]->value.upload(hp[i]->value);
    }
    cpu.zero_grad();
    dev.zero_grad();
    const Tensor<float> x = randn(in_shape, rng);
    const Tensor<float>& y = cpu.forward(x);
    const Tensor<float> dy = randn(ann::shape_of(y), rng);
    const Tensor<float> dx = cpu.backward(dy);
    cpu.backward(dy);

    auto xd = cu::DeviceTensor::from_host(x);
    const auto& yd = dev.forward(xd);
    INFO(cpu.name());
    CHECK(rel_diff(yd.download(), y) < 1e-4);
    auto dyd = cu::DeviceTensor::from_host(dy);
    dev.backward(dyd);
    const auto& dxd = dev.backward(dyd);
    CHECK(rel_diff(dxd.download(), dx) < 1e-4);
    auto dp = dev.parameters();
    auto hp = cpu.parameters();
    for (std::size_t i = 0; i < dp.size(); ++i) {
        INFO("gradient of " << hp[i]->name);
        CHECK(rel_diff(dp[i]->grad.download(), hp[i]->grad) < 1e-4);
    }
}

}  // namespace

TEST_CASE("cuda Linear matches the CPU, with and without bias", "[cuda][layers]") {
    ann::Rng rng(1);
    ann::Linear<float> a(37, 19, true, rng), b(64, 10, false, rng);
    check_layer(a, {13, 37}, 2);
    check_layer(b, {50, 64}, 3);
}

TEST_CASE("cuda Conv2d matches the CPU (homework shapes, stride, padding, no bias)", "[cuda][layers]") {
    ann::Rng rng(4);
    ann::Conv2d<float> c1(3, 16, 3, 1, 0, true, rng), c2(16, 8, 5, 1, 0, true, rng), c3(8, 16, 7, 1, 0, true, rng),
        c4(5, 6, 3, 2, 1, false, rng);
    check_layer(c1, {4, 3, 32, 32}, 5);
    check_layer(c2, {3, 16, 30, 30}, 6);
    check_layer(c3, {2, 8, 13, 13}, 7);
    check_layer(c4, {3, 5, 11, 9}, 8);
}

TEST_CASE("cuda MaxPool2d, activations and Flatten match the CPU", "[cuda][layers]") {
    ann::MaxPool2d<float> pool(2, 2), pool3(3, 2);
    ann::ReLU<float> relu;
    ann::Sigmoid<float> sig;
    ann::Tanh<float> tanh_;
    ann::Flatten<float> flat;
    check_layer(pool, {4, 3, 12, 13}, 9);
    check_layer(pool3, {2, 2, 9, 9}, 10);
    check_layer(relu, {4, 5, 6, 7}, 11);
    check_layer(sig, {4, 30}, 12);
    check_layer(tanh_, {3, 2, 5, 5}, 13);
    check_layer(flat, {3, 2, 5, 5}, 14);
}

TEST_CASE("cuda CrossEntropyLoss matches the CPU loss and gradient", "[cuda][loss]") {
    ann::Rng rng(15);
    Tensor<float> logits = randn({50, 10}, rng) * 3.0f;
    logits(0, 3) = 80.0f;  // large logits must stay finite
    std::vector<int> t(50);
    for (auto& v : t) v = int(rng.below(10));
    ann::CrossEntropyLoss<float> cpu;
    const float lc = cpu.forward(logits, t);
    const Tensor<float> gc = cpu.backward();

    cu::CrossEntropyLoss gpu;
    cu::DeviceLabels td;
    td.upload(t);
    const float lg = gpu.forward(cu::DeviceTensor::from_host(logits), td);
    CHECK(std::abs(lg - lc) <= 1e-5 * std::abs(lc));
    CHECK(rel_diff(gpu.backward().download(), gc) < 1e-4);

    std::vector<int> bad(50, 0);
    bad[7] = 10;
    td.upload(bad);
    CHECK_THROWS_WITH(gpu.forward(cu::DeviceTensor::from_host(logits), td), Catch::Contains("outside [0, K)"));
}

TEST_CASE("cuda SGD (momentum) and Adam follow the CPU optimizers", "[cuda][optim]") {
    for (int which = 0; which < 3; ++which) {
        ann::Rng rng(16 + which);
        ann::Parameter<float> p("w", {7, 11});
        p.value = randn({7, 11}, rng);
        cu::DeviceParameter d;
        d.value.upload(p.value);
        d.grad.resize({7, 11});
        std::unique_ptr<ann::Optimizer<float>> cpu;
        std::unique_ptr<cu::Optimizer> gpu;
        if (which == 0) cpu = std::make_unique<ann::SGD<float>>(std::vector<ann::Parameter<float>*>{&p}, 0.1, 0.0),
                        gpu = std::make_unique<cu::SGD>(std::vector<cu::DeviceParameter*>{&d}, 0.1, 0.0);
        if (which == 1) cpu = std::make_unique<ann::SGD<float>>(std::vector<ann::Parameter<float>*>{&p}, 0.05, 0.9),
                        gpu = std::make_unique<cu::SGD>(std::vector<cu::DeviceParameter*>{&d}, 0.05, 0.9);
        if (which == 2) cpu = std::make_unique<ann::Adam<float>>(std::vector<ann::Parameter<float>*>{&p}, ann::AdamOptions{0.01}),
                        gpu = std::make_unique<cu::Adam>(std::vector<cu::DeviceParameter*>{&d}, ann::AdamOptions{0.01});
        for (int s = 0; s < 20; ++s) {
            p.grad = randn({7, 11}, rng);
            d.grad.upload(p.grad);
            cpu->step();
            gpu->step();
        }
        INFO("optimizer " << which);
        CHECK(rel_diff(d.value.download(), p.value) < 1e-5);
    }
}

TEST_CASE("DeviceDataset gathers and converts uint8 batches exactly", "[cuda][data]") {
    const std::size_t n = 20;
    std::vector<std::uint8_t> img(n * 3 * 4 * 4), lab(n);
    for (std::size_t i = 0; i < img.size(); ++i) img[i] = std::uint8_t((i * 37) % 256);
    for (std::size_t i = 0; i < n; ++i) lab[i] = std::uint8_t(i % 10);
    cu::DeviceDataset d(img.data(), lab.data(), n, {3, 4, 4}, 10);
    d.set_normalization({2.f, 1.f, 0.5f}, {-1.f, 0.f, 3.f});
    const std::vector<int> order{5, 19, 0, 7};
    cu::DeviceBuffer<int> od(order.size());
    ANN_CUDA_CHECK(cudaMemcpy(od.data(), order.data(), order.size() * sizeof(int), cudaMemcpyHostToDevice));
    cu::DeviceTensor x;
    cu::DeviceLabels y;
    d.gather(od.data(), nullptr, order.size(), x, y);
    const Tensor<float> h = x.download();
    std::vector<int> yh(order.size());
    ANN_CUDA_CHECK(cudaMemcpy(yh.data(), y.data(), yh.size() * sizeof(int), cudaMemcpyDeviceToHost));
    const float scale[3] = {2.f, 1.f, 0.5f}, shift[3] = {-1.f, 0.f, 3.f};
    for (std::size_t b = 0; b < order.size(); ++b) {
        CHECK(yh[b] == lab[order[b]]);
        for (std::size_t j = 0; j < 48; ++j)
            REQUIRE(h.data()[b * 48 + j] == float(img[order[b] * 48 + j]) * scale[j / 16] + shift[j / 16]);
    }
    std::vector<std::uint8_t> badlab(n, 10);
    CHECK_THROWS_WITH(cu::DeviceDataset(img.data(), badlab.data(), n, {3, 4, 4}, 10), Catch::Contains("label 10"));
}

namespace {

// 50 steps of cnn_4 on the same random batches, CPU vs GPU (eager or through TrainStep).
std::vector<float> cpu_curve(ann::Sequential<float>& m, ann::Optimizer<float>& opt, const std::vector<std::uint8_t>& img,
                             const std::vector<std::uint8_t>& lab, const std::vector<int>& order, std::size_t B, int steps,
                             int first = 0) {
    ann::CrossEntropyLoss<float> ce;
    std::vector<float> curve;
    Tensor<float> x = Tensor<float>::from_shape({B, 3, 32, 32});
    std::vector<int> t(B);
    for (int s = first; s < first + steps; ++s) {
        for (std::size_t b = 0; b < B; ++b) {
            const std::size_t i = order[s * B + b];
            for (std::size_t j = 0; j < 3072; ++j) x.data()[b * 3072 + j] = float(img[i * 3072 + j]) * (1.0f / 255.0f);
            t[b] = lab[i];
        }
        opt.zero_grad();
        curve.push_back(ce.forward(m.forward(x), t));
        m.backward(ce.backward());
        opt.step();
    }
    return curve;
}

void check_training(bool adam, bool graph) {
    const std::size_t B = 50, steps = 50, n = B * steps;
    ann::Rng rng(21);
    std::vector<std::uint8_t> img(n * 3072), lab(n);
    for (auto& v : img) v = std::uint8_t(rng.below(256));
    for (auto& v : lab) v = std::uint8_t(rng.below(10));
    std::vector<int> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = int(i);
    rng.shuffle(order.begin(), order.end());

    ann::Rng init(22);
    auto cpu = ann::models::homework<float>("cnn_4", ann::models::Activation::relu, init);
    auto gpu = cu::to_device(cpu);
    std::unique_ptr<ann::Optimizer<float>> copt;
    std::unique_ptr<cu::Optimizer> gopt;
    if (adam) {
        copt = std::make_unique<ann::Adam<float>>(cpu.parameters());
        gopt = std::make_unique<cu::Adam>(gpu.parameters());
    } else {
        copt = std::make_unique<ann::SGD<float>>(cpu.parameters(), 0.01);
        gopt = std::make_unique<cu::SGD>(gpu.parameters(), 0.01);
    }
    cu::DeviceDataset data(img.data(), lab.data(), n, {3, 32, 32}, 10);
    cu::CrossEntropyLoss ce;
    cu::TrainStep step(gpu, ce, *gopt, data, {B, graph});
    step.start_epoch(order);
    for (std::size_t s = 0; s < steps; ++s) step.step();
    const auto h = step.history();
    INFO("TrainStep: " << step.graph_status());
    if (graph) CHECK(step.graph_active());
    const auto ref = cpu_curve(cpu, *copt, img, lab, order, B, int(steps));
    REQUIRE(h.loss.size() == ref.size());
    double worst = 0;
    for (std::size_t s = 0; s < steps; ++s) worst = std::max(worst, std::abs(double(h.loss[s]) - ref[s]));
    INFO("largest loss difference " << worst << (adam ? " (Adam)" : " (SGD)"));
    CHECK(worst < 1e-3);
    // The weights agree too, and come back to the CPU model.
    auto back = ann::models::homework<float>("cnn_4");
    gpu.copy_parameters_to(back);
    for (std::size_t i = 0; i < cpu.parameters().size(); ++i)
        CHECK(rel_diff(back.parameters()[i]->value, cpu.parameters()[i]->value) < 1e-2);
}

}  // namespace

TEST_CASE("cnn_4: 50 Adam steps give the CPU's loss curve (eager and CUDA graph)", "[cuda][train]") {
    check_training(true, false);
    check_training(true, true);
}

TEST_CASE("cnn_4: 50 SGD steps give the CPU's loss curve (CUDA graph)", "[cuda][train]") {
    check_training(false, true);
}

TEST_CASE("TrainStep re-captures its graph after evaluate() moved the layers' buffers", "[cuda][train]") {
    const std::size_t B = 50, steps = 10, n = B * steps;
    ann::Rng rng(40);
    std::vector<std::uint8_t> img(n * 3072), lab(n);
    for (auto& v : img) v = std::uint8_t(rng.below(256));
    for (auto& v : lab) v = std::uint8_t(rng.below(10));
    std::vector<int> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = int(i);
    rng.shuffle(order.begin(), order.end());
    for (const char* arch : {"cnn_3", "mlp_2"}) {
        ann::Rng init(41);
        auto cpu = ann::models::homework<float>(arch, ann::models::Activation::relu, init);
        auto gpu = cu::to_device(cpu);
        ann::Adam<float> copt(cpu.parameters());
        cu::Adam gopt(gpu.parameters());
        cu::DeviceDataset data(img.data(), lab.data(), n, {3, 32, 32}, 10);
        cu::CrossEntropyLoss ce;
        cu::TrainStep step(gpu, ce, gopt, data, {B, true});
        step.start_epoch(order);
        for (int s = 0; s < 5; ++s) step.step();
        cu::evaluate(gpu, data, 400);  // larger batch: every layer buffer is reallocated
        for (int s = 0; s < 5; ++s) step.step();
        INFO(arch << ", TrainStep: " << step.graph_status());
        CHECK(step.recaptures() == 1);
        CHECK(step.graph_active());
        const auto h = step.history();
        auto ref = cpu_curve(cpu, copt, img, lab, order, B, 5);
        const auto rest = cpu_curve(cpu, copt, img, lab, order, B, 5, 5);
        ref.insert(ref.end(), rest.begin(), rest.end());
        REQUIRE(h.loss.size() == ref.size());
        for (std::size_t s = 0; s < ref.size(); ++s) CHECK(std::abs(h.loss[s] - ref[s]) < 1e-3);
    }
}

TEST_CASE("evaluate matches a CPU pass over the same data", "[cuda][eval]") {
    const std::size_t n = 730;
    ann::Rng rng(30);
    std::vector<std::uint8_t> img(n * 3072), lab(n);
    for (auto& v : img) v = std::uint8_t(rng.below(256));
    for (auto& v : lab) v = std::uint8_t(rng.below(10));
    auto cpu = ann::models::homework<float>("cnn_3");
    auto gpu = cu::to_device(cpu);
    cu::DeviceDataset data(img.data(), lab.data(), n, {3, 32, 32}, 10);
    const auto r = cu::evaluate(gpu, data, 200);  // 3 full batches and one of 130

    Tensor<float> x = Tensor<float>::from_shape({n, 3, 32, 32});
    for (std::size_t j = 0; j < img.size(); ++j) x.data()[j] = float(img[j]) / 255.0f;
    std::vector<int> t(lab.begin(), lab.end());
    ann::CrossEntropyLoss<float> ce;
    const Tensor<float>& logits = cpu.forward(x);
    const double loss = ce.forward(logits, t);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t am = 0;
        for (std::size_t k = 1; k < 10; ++k)
            if (logits(i, k) > logits(i, am)) am = k;
        correct += am == std::size_t(t[i]);
    }
    CHECK(std::abs(r.loss - loss) < 1e-5);
    CHECK(std::abs(r.accuracy - double(correct) / n) <= 1.0 / n);  // one near-tie may flip
}

TEST_CASE("CUDA errors become ann::Error naming the call; unknown layers are named", "[cuda][errors]") {
    void* p = nullptr;
    CHECK_THROWS_WITH([&] { ANN_CUDA_CHECK(cudaMalloc(&p, std::size_t(1) << 62)); }(), Catch::Contains("cudaMalloc") && Catch::Contains("test_cuda.cu"));
    struct Odd : ann::Layer<float> {
        const Tensor<float>& forward(const Tensor<float>& x) override { return x; }
        const Tensor<float>& backward(const Tensor<float>& d) override { return d; }
        std::string name() const override { return "OddLayer()"; }
        ann::Shape output_shape(const ann::Shape& s) const override { return s; }
    };
    ann::Sequential<float> m;
    m.emplace<ann::Linear<float>>(4, 4);
    m.emplace<Odd>();
    CHECK_THROWS_WITH(cu::to_device(m), Catch::Contains("OddLayer()"));
    cu::DeviceTensor wrong({3, 5});
    auto mlp = ann::models::homework<float>("mlp_1");
    auto gm = cu::to_device(mlp);
    CHECK_THROWS_WITH(gm.forward(wrong), Catch::Contains("Linear") && Catch::Contains("(3, 5)"));
}
