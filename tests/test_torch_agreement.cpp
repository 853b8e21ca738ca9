// Every layer, the loss and both optimizers against PyTorch: tests/fixtures/torch_*.json, written
// by tools/make_torch_fixtures.py, holds inputs, parameters, outputs and all gradients.
//
// Tolerance: |ours - torch| <= 1e-5 * max(1, |torch|) for every element. That is absolute for
// values up to 1 (most gradients; a relative bound means nothing near 0, where a reordered float32
// sum legitimately leaves ~1e-8 behind) and relative beyond (conv outputs and large-logit losses in
// the tens to thousands, where one float32 ulp already exceeds 1e-5). The references are torch's
// float64 results on the same float32 inputs, so the difference is our float32 error alone; each
// test prints its largest difference next to torch's own float32 one for the same cases.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <string>

#include "ann/ann.hpp"
#include "fixture_json.hpp"

using namespace ann;
using json = nlohmann::json;

namespace {

constexpr double kTol = 1e-5;

json load(const std::string& name) {
    return testutil::load_fixture("torch_" + name + ".json", "tools/make_torch_fixtures.py");
}

Tensor<float> tensor(const json& j) { return testutil::fixture_tensor(j); }

// Largest differences of one test case, printed at its end.
struct Agreement {
    explicit Agreement(std::string w) : what(std::move(w)) {}
    std::string what;
    double max_abs = 0, max_scaled = 0, torch_own = 0;
    std::string worst;  // which tensor gave max_scaled

    void check(const std::string& label, const Tensor<float>& ours, const json& ref) {
        check(label, ours, tensor(ref));
    }
    void check(const std::string& label, const Tensor<float>& ours, const Tensor<float>& ref) {
        INFO(what << ": " << label);
        REQUIRE(shape_of(ours) == shape_of(ref));
        double tensor_scaled = 0;
        std::size_t worst_i = 0;
        for (std::size_t i = 0; i < ref.size(); ++i) {
            const double o = ours.data()[i], r = ref.data()[i];
            const double d = std::abs(o - r);
            // A NaN anywhere counts as an infinite difference.
            const double scaled = std::isnan(d) ? INFINITY : d / std::max(1.0, std::abs(r));
            if (scaled > tensor_scaled) tensor_scaled = scaled, worst_i = i;
            max_abs = std::max(max_abs, std::isnan(d) ? INFINITY : d);
        }
        if (tensor_scaled > max_scaled) max_scaled = tensor_scaled, worst = label;
        INFO("worst element " << worst_i << ": ours " << ours.data()[worst_i] << ", torch "
                              << ref.data()[worst_i]);
        CHECK(tensor_scaled <= kTol);
    }
    void note_torch(const json& c) { torch_own = std::max(torch_own, c.value("torch_float32_max_diff", 0.0)); }

    ~Agreement() {
        std::cout << "torch agreement [" << what << "]: largest |diff| " << max_abs
                  << ", largest |diff|/max(1,|torch|) " << max_scaled << " (" << worst
                  << "); torch float32's own: " << torch_own << "; tolerance " << kTol << '\n';
    }
};

// The layer fixtures share one layout: input, params, output, grad_output, grad_input, grad_params.
void check_layer(Agreement& a, Layer<float>& layer, const json& c) {
    const std::string name = c.at("name");
    a.note_torch(c);
    for (auto* p : layer.parameters()) {
        INFO(name << ": parameter " << p->name);
        REQUIRE(c.at("params").contains(p->name));
        p->value = tensor(c["params"][p->name]);
        p->zero_grad();
    }
    REQUIRE(layer.parameters().size() == c.value("params", json::object()).size());
    const Tensor<float>& y = layer.forward(tensor(c.at("input")));
    a.check(name + " output", y, c.at("output"));
    const Tensor<float>& dx = layer.backward(tensor(c.at("grad_output")));
    a.check(name + " grad_input", dx, c.at("grad_input"));
    for (auto* p : layer.parameters()) a.check(name + " grad_" + p->name, p->grad, c.at("grad_params").at(p->name));
}

}  // namespace

TEST_CASE("Linear agrees with torch.nn.Linear", "[torch][linear]") {
    Agreement a{"Linear"};
    const json doc = load("linear");
    REQUIRE(doc.at("cases").size() == 2);
    for (const auto& c : doc["cases"]) {
        Linear<float> lin(c.at("in_features").get<std::size_t>(), c.at("out_features").get<std::size_t>(),
                          c.at("bias").get<bool>());
        check_layer(a, lin, c);
    }
}

TEST_CASE("Conv2d agrees with torch.nn.Conv2d", "[torch][conv2d]") {
    Agreement a{"Conv2d"};
    const json doc = load("conv2d");
    REQUIRE(doc.at("cases").size() == 6);
    for (const auto& c : doc["cases"]) {
        const auto size = [&](const char* key) { return c.at(key).get<std::size_t>(); };
        Conv2d<float> conv(size("in_channels"), size("out_channels"), size("kernel_size"), size("stride"),
                           size("padding"), c.at("bias").get<bool>());
        check_layer(a, conv, c);
    }
}

TEST_CASE("MaxPool2d agrees with torch.nn.MaxPool2d", "[torch][maxpool2d]") {
    Agreement a{"MaxPool2d"};
    const json doc = load("maxpool2d");
    REQUIRE(doc.at("cases").size() == 3);
    for (const auto& c : doc["cases"]) {
        MaxPool2d<float> pool(c.at("kernel_size").get<std::size_t>(), c.at("stride").get<std::size_t>());
        check_layer(a, pool, c);
    }
}

TEST_CASE("ReLU, Sigmoid and Tanh agree with torch", "[torch][activations]") {
    const json doc = load("activations");
    REQUIRE(doc.at("cases").size() == 3);
    for (const auto& c : doc["cases"]) {
        const std::string act = c.at("activation");
        SECTION(act) {
            Agreement a{act};
            std::unique_ptr<Layer<float>> layer;
            if (act == "relu") layer = std::make_unique<ReLU<float>>();
            if (act == "sigmoid") layer = std::make_unique<Sigmoid<float>>();
            if (act == "tanh") layer = std::make_unique<Tanh<float>>();
            REQUIRE(layer);
            check_layer(a, *layer, c);
        }
    }
}

TEST_CASE("CrossEntropyLoss agrees with torch, large logits included", "[torch][loss]") {
    Agreement a{"CrossEntropyLoss"};
    const json doc = load("cross_entropy");
    REQUIRE(doc.at("cases").size() == 2);
    for (const auto& c : doc["cases"]) {
        const std::string name = c.at("name");
        a.note_torch(c);
        // Our backward() is dL/dlogits for an upstream gradient of 1, which the fixture records.
        REQUIRE(c.at("grad_output").get<double>() == 1.0);
        CrossEntropyLoss<float> ce;
        const auto targets = c.at("targets").get<std::vector<long>>();
        Tensor<float> loss = Tensor<float>::from_shape({1});
        loss(0) = ce.forward(tensor(c.at("logits")), targets);
        a.check(name + " loss", loss, c.at("loss"));
        a.check(name + " grad_logits", ce.backward(), c.at("grad_logits"));
    }
}

TEST_CASE("SGD and Adam trajectories agree with torch.optim", "[torch][optim]") {
    const json doc = load("optim");
    const auto targets = doc.at("targets").get<std::vector<long>>();
    const Tensor<float> x = tensor(doc.at("input"));
    const char* names[] = {"weight1", "bias1", "weight2", "bias2"};
    REQUIRE(doc.at("cases").size() == 3);
    for (const auto& c : doc["cases"]) {
        const std::string name = c.at("name");
        SECTION(name) {
            Agreement a{name};
            a.note_torch(c);
            Sequential<float> net;
            net.emplace<Linear<float>>(4, 8);
            net.emplace<ReLU<float>>();
            net.emplace<Linear<float>>(8, 3);
            auto params = net.parameters();
            REQUIRE(params.size() == 4);
            for (std::size_t i = 0; i < 4; ++i) params[i]->value = tensor(doc.at("init").at(names[i]));

            std::unique_ptr<Optimizer<float>> opt;
            if (c.at("optimizer") == "sgd") {
                opt = std::make_unique<SGD<float>>(params, c.at("lr").get<double>(), c.at("momentum").get<double>());
            } else {
                AdamOptions o;
                o.lr = c.at("lr");
                o.beta1 = c.at("betas")[0];
                o.beta2 = c.at("betas")[1];
                o.eps = c.at("eps");
                opt = std::make_unique<Adam<float>>(params, o);
            }
            CrossEntropyLoss<float> ce;
            const Tensor<float> losses = tensor(c.at("losses"));
            const auto& after = c.at("params_after_step");
            REQUIRE(after.size() == losses.size());
            Tensor<float> loss = Tensor<float>::from_shape({1});
            for (std::size_t step = 0; step < after.size(); ++step) {
                const std::string at = "step " + std::to_string(step + 1);
                opt->zero_grad();
                loss(0) = ce.forward(net.forward(x), targets);
                net.backward(ce.backward());
                opt->step();
                Tensor<float> ref_loss = Tensor<float>::from_shape({1});
                ref_loss(0) = losses(step);
                a.check(at + " loss", loss, ref_loss);
                for (std::size_t i = 0; i < 4; ++i) a.check(at + " " + names[i], params[i]->value, after[step].at(names[i]));
            }
        }
    }
}

// Our initial weights come from our own generator, so they cannot equal torch's; what must match
// is the distribution's bound. With n draws from U(-b, b) the largest |w| falls short of b by
// about b/n, so max|w| in [b (1 - 30/n), b] pins our b to torch's within 30/n relative.
TEST_CASE("default init bounds equal torch's kaiming_uniform(a=sqrt(5)) bounds", "[torch][init]") {
    const json doc = load("init");
    REQUIRE(doc.at("cases").size() == 3);
    Rng rng(449);
    for (const auto& c : doc["cases"]) {
        const std::string name = c.at("name");
        const auto shape = c.at("weight_shape").get<Shape>();
        std::unique_ptr<Layer<float>> layer;
        if (shape.size() == 2) {
            layer = std::make_unique<Linear<float>>(shape[1], shape[0], true, rng);
        } else {
            REQUIRE(shape[2] == shape[3]);
            layer = std::make_unique<Conv2d<float>>(shape[1], shape[0], shape[2], 1, 0, true, rng);
        }
        auto params = layer->parameters();
        REQUIRE(params.size() == 2);
        const double bounds[] = {c.at("weight_bound"), c.at("bias_bound")};
        // The torch layers of the fixture stayed inside these bounds too (checked when written).
        CHECK(c.at("torch_weight_max").get<double>() <= bounds[0]);
        for (std::size_t i = 0; i < 2; ++i) {
            const Tensor<float>& v = params[i]->value;
            REQUIRE(shape_of(v) == (i == 0 ? shape : Shape{shape[0]}));
            double max_abs = 0;
            for (float w : v) max_abs = std::max(max_abs, std::abs(double(w)));
            const double n = double(v.size()), b = bounds[i];
            INFO(name << ' ' << params[i]->name << ": max|w| " << max_abs << ", torch's bound " << b << ", n " << n);
            // Rounding a double draw to float may land half an ulp above b.
            CHECK(max_abs <= b * (1 + 1e-7));
            if (n >= 10000) CHECK(max_abs >= b * (1 - 30 / n));
        }
    }
}
