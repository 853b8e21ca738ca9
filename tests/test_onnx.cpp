// ONNX export and import (ann/onnx/): every homework architecture written and read back gives the
// same outputs bit for bit, in float and read as double; hostile or unsupported files are refused
// with the file, node and op named. Checks by tools we did not write (onnx.checker, OpenCV, PyTorch)
// are in tests/onnx/.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>

#include "ann/ann.hpp"
#include "ann/data/batches.hpp"
#include "ann/onnx/onnx.hpp"
#include "cifar_test_util.hpp"

namespace {

using namespace ann;
namespace pb = ann::onnx::pb;

Array<float> random_batch(std::size_t n, std::uint64_t seed) {
    Rng rng(seed);
    Tensor<float> t = Tensor<float>::from_shape({n, 3, 32, 32});
    for (auto& v : t) v = static_cast<float>(rng.uniform());
    Array<float> a({n, 3, 32, 32});
    a.copy_from(t);
    return a;
}

std::vector<float> values(const Array<float>& a) {
    Tensor<float> copy;
    const auto& h = a.host_values(copy);
    return {h.data(), h.data() + h.size()};
}

// A small model with what a test wants to change: one Conv node and its initializers.
pb::ModelProto tiny_model() {
    Sequential<float> net;
    Rng rng(1);
    net.emplace<Conv2d<float>>(3, 2, 3, 1, 0, true, rng);
    net.emplace<ReLU<float>>();
    pb::ModelProto m;
    REQUIRE(m.ParseFromString(ann::onnx::to_bytes(net, {3, 8, 8})));
    return m;
}

std::string bytes_of(const pb::ModelProto& m) {
    std::string s;
    REQUIRE(m.SerializeToString(&s));
    return s;
}

}  // namespace

TEST_CASE("ONNX: every homework architecture round-trips with bit-identical outputs", "[onnx]") {
    testutil::TempDir dir("onnx_roundtrip");
    for (const auto& arch : models::homework_names()) {
        for (auto act : {models::Activation::relu, models::Activation::sigmoid}) {
            Rng rng(7);
            auto net = models::homework<float>(arch, act, rng);
            net.eval();
            const std::string path = (dir.path / (arch + ".onnx")).string();
            ann::onnx::save(net, path, {3, 32, 32});
            auto back = ann::onnx::load<float>(path);
            back.eval();
            REQUIRE(back.size() == net.size());
            for (std::size_t i = 0; i < net.size(); ++i) CHECK(back[i].name() == net[i].name());
            const auto x = random_batch(6, 3);
            CHECK(values(back.forward(x)) == values(net.forward(x)));
            // Read as double: the same weights, the arithmetic in double.
            auto d = ann::onnx::load<double>(path);
            d.eval();
            Array<double> xd({6, 3, 32, 32});
            Tensor<double> xt = Tensor<double>::from_shape({6, 3, 32, 32});
            const auto xv = values(x);
            for (std::size_t i = 0; i < xv.size(); ++i) xt.data()[i] = xv[i];
            xd.copy_from(xt);
            Tensor<double> copy;
            const auto& zd = d.forward(xd).host_values(copy);
            const auto zf = values(net.forward(x));
            for (std::size_t i = 0; i < zf.size(); ++i) CHECK(zd.data()[i] == Approx(zf[i]).margin(1e-4));
        }
    }
}

TEST_CASE("ONNX: a layer without an ONNX form is refused by name, and nothing is written", "[onnx][hostile]") {
    struct Doubler : Layer<float> {
        const Array<float>& forward(const Array<float>& x) override { return x; }
        const Array<float>& backward(const Array<float>& dy) override { return dy; }
        std::string name() const override { return "Doubler()"; }
        Shape output_shape(const Shape& s) const override { return s; }
    };
    Sequential<float> net;
    net.emplace<Flatten<float>>();
    net.emplace<Doubler>();
    testutil::TempDir dir("onnx_refused");
    const std::string path = (dir.path / "x.onnx").string();
    CHECK_THROWS_WITH(ann::onnx::save(net, path, {3, 4, 4}), Catch::Contains("layer 1 (Doubler())") && Catch::Contains(path));
    CHECK_FALSE(std::filesystem::exists(path));
    Sequential<float> mlp;
    mlp.emplace<Linear<float>>(10, 2);
    CHECK_THROWS_WITH(ann::onnx::save(mlp, path, {3, 4, 4}), Catch::Contains("layer 0 (Linear"));
}

TEST_CASE("ONNX: hostile and unsupported files are refused, naming the file, node and op", "[onnx][hostile]") {
    CHECK_THROWS_WITH(ann::onnx::parse<float>("not a model at all \x01\x02", "junk.onnx"), Catch::Contains("junk.onnx"));
    CHECK_THROWS_WITH(ann::onnx::load<float>("/nonexistent/m.onnx"), Catch::Contains("/nonexistent/m.onnx"));

    auto m = tiny_model();
    CHECK_NOTHROW(ann::onnx::parse<float>(bytes_of(m), "ok.onnx"));

    auto op = m;
    op.mutable_graph()->mutable_node(1)->set_op_type("Add");
    CHECK_THROWS_WITH(ann::onnx::parse<float>(bytes_of(op), "m.onnx"),
                      Catch::Contains("m.onnx: node 1 (Add") && Catch::Contains("op Add is not one ann reads"));

    auto short_data = m;
    short_data.mutable_graph()->mutable_initializer(0)->mutable_raw_data()->resize(10);
    CHECK_THROWS_WITH(ann::onnx::parse<float>(bytes_of(short_data), "m.onnx"), Catch::Contains("has 10 bytes of data"));

    auto huge = m;  // a dimension that would allocate 2^40 floats: refused before allocating
    huge.mutable_graph()->mutable_initializer(0)->set_dims(0, 1ll << 40);
    CHECK_THROWS_WITH(ann::onnx::parse<float>(bytes_of(huge), "m.onnx"), Catch::Contains("m.onnx: node 0 (Conv"));

    auto dil = m;
    auto* a = dil.mutable_graph()->mutable_node(0)->add_attribute();
    a->set_name("dilations");
    a->set_type(pb::AttributeProto::INTS);
    a->add_ints(2);
    a->add_ints(2);
    CHECK_THROWS_WITH(ann::onnx::parse<float>(bytes_of(dil), "m.onnx"), Catch::Contains("dilations"));

    auto unknown = m;
    auto* u = unknown.mutable_graph()->mutable_node(1)->add_attribute();
    u->set_name("alpha");
    u->set_type(pb::AttributeProto::FLOAT);
    CHECK_THROWS_WITH(ann::onnx::parse<float>(bytes_of(unknown), "m.onnx"), Catch::Contains("attribute 'alpha' is not one ann reads"));

    auto opset = m;
    opset.mutable_opset_import(0)->set_version(99);
    CHECK_THROWS_WITH(ann::onnx::parse<float>(bytes_of(opset), "m.onnx"), Catch::Contains("opset 99"));

    auto external = m;
    external.mutable_graph()->mutable_initializer(0)->set_data_location(pb::TensorProto::EXTERNAL);
    CHECK_THROWS_WITH(ann::onnx::parse<float>(bytes_of(external), "m.onnx"), Catch::Contains("external file"));

    auto offchain = m;
    offchain.mutable_graph()->mutable_node(1)->set_input(0, "elsewhere");
    CHECK_THROWS_WITH(ann::onnx::parse<float>(bytes_of(offchain), "m.onnx"), Catch::Contains("ann reads a chain"));

    auto wrong_channels = m;  // the input says 4 channels, the Conv weight 3
    wrong_channels.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()
        ->mutable_dim(1)->set_dim_value(4);
    CHECK_THROWS_WITH(ann::onnx::parse<float>(bytes_of(wrong_channels), "m.onnx"), Catch::Contains("m.onnx: node 0 (Conv"));
}

TEST_CASE("ONNX: models written by onnx's own helpers load (the fuzz seeds), Gemm without transB included", "[onnx]") {
    const std::string dir = std::string(ANN_TEST_FIXTURES) + "/../../fuzz/corpus/onnx_model/";
    auto cnn = ann::onnx::load<float>(dir + "cnn");
    REQUIRE(cnn.size() == 5);
    CHECK(cnn[0].name() == "Conv2d(1, 2, kernel_size=3, padding=1)");
    // mlp: Flatten, Gemm with W (6, 2) stored (in, out) (transB = 0), Sigmoid; W = linspace(-1, 1, 12).
    auto mlp = ann::onnx::load<float>(dir + "mlp");
    REQUIRE(mlp.size() == 3);
    Array<float> x({1, 1, 2, 3});
    Tensor<float> xt = Tensor<float>::from_shape({1, 1, 2, 3});
    for (std::size_t i = 0; i < 6; ++i) xt.data()[i] = static_cast<float>(i) / 5.f;
    x.copy_from(xt);
    const auto z = values(mlp.forward(x));
    for (std::size_t o = 0; o < 2; ++o) {
        double s = 0;
        for (std::size_t i = 0; i < 6; ++i) s += (i / 5.0) * (-1.0 + 2.0 * static_cast<double>(i * 2 + o) / 11.0);
        CHECK(z[o] == Approx(1.0 / (1.0 + std::exp(-s))).epsilon(1e-6));
    }
}

TEST_CASE("ONNX: a layer is allocated only for values the file really holds", "[onnx][hostile]") {
    // A Conv weight declared (4096, 4096, 3, 3) (600 MB as float) with 4 bytes of data: refused on the
    // byte count, before any layer is made; one whose size overflows 64 bits, on the element count.
    pb::ModelProto m;
    {
        Sequential<float> net;
        net.emplace<Conv2d<float>>(3, 2, 3);
        REQUIRE(m.ParseFromString(ann::onnx::to_bytes(net, {3, 8, 8})));
    }
    auto* w = m.mutable_graph()->mutable_initializer(0);
    w->clear_dims();
    for (long d : {4096L, 4096L, 3L, 3L}) w->add_dims(d);
    w->set_raw_data(std::string(4, '\0'));
    CHECK_THROWS_WITH(ann::onnx::parse<float>(bytes_of(m), "m.onnx"), Catch::Contains("has 4 bytes of data"));
    w->clear_dims();
    for (long d : {1L << 27, 1L << 27, 3L, 3L}) w->add_dims(d);
    CHECK_THROWS_WITH(ann::onnx::parse<float>(bytes_of(m), "m.onnx"), Catch::Contains("more than 268435456 values"));
    w->clear_dims();
    for (long d : {64L, 3L, 3L, 3L}) w->add_dims(d);  // 1728 values declared, 1 held
    CHECK_THROWS_WITH(ann::onnx::parse<float>(bytes_of(m), "m.onnx"), Catch::Contains("has 4 bytes of data, its shape needs 6912"));
}

TEST_CASE("ONNX: a model trained by ann, exported and read back, gives bit-identical outputs", "[onnx]") {
    const auto set = testutil::synthetic_set(100, 4);
    Rng rng(3);
    auto net = models::homework<float>("cnn_3", models::Activation::relu, rng);
    Adam<float> opt(net.parameters(), 1e-3);
    CrossEntropyLoss<float> ce;
    Array<float> x;
    std::vector<long> y;
    data::Indices idx(50);
    for (std::uint32_t i = 0; i < 50; ++i) idx[i] = i;
    for (int step = 0; step < 5; ++step) {
        data::fill_batch(set, idx.data(), idx.size(), x, y);
        opt.zero_grad();
        ce.forward(net.forward(x), y);
        net.backward(ce.backward());
        opt.step();
    }
    net.eval();
    testutil::TempDir dir("onnx_trained");
    const std::string path = (dir.path / "trained.onnx").string();
    ann::onnx::save(net, path, {3, 32, 32});
    auto back = ann::onnx::load<float>(path);
    back.eval();
    data::fill_batch(set, idx.data(), idx.size(), x, y);
    CHECK(values(back.forward(x)) == values(net.forward(x)));
}
