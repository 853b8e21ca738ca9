// The device plumbing, tested without a GPU: a stand-in "cuda" device whose memory is host
// memory (so the CPU primitives can compute on it) but which the library must treat as another
// device: arrays on it are not host tensors, data reaches it only through explicit copies, and
// the one training loop, evaluator and checkpoint path must work on it unchanged. With the same
// primitives underneath, results must be the CPU's bit for bit; tests/cuda checks the real GPU.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <new>
#include <unistd.h>

#include "ann/ann.hpp"
#include "stand_in_device.hpp"
#include "ann/train/checkpoint.hpp"
#include "ann/train/run.hpp"
#include "cifar_test_util.hpp"

using namespace ann;

namespace {

using testutil::StandInDevice;


using testutil::synthetic_set;

struct Setup {
    data::CifarSet set = synthetic_set(120, 5);
    train::TrainData data;
    Setup() {
        data.images = &set;
        for (std::uint32_t i = 0; i < set.size(); ++i) data.train.push_back(i);
        data.val = data.train;
        data.train_eval = data.train;
    }
};

std::unique_ptr<train::Run<float>> make_run(Device d, const std::string& arch) {
    auto r = std::make_unique<train::Run<float>>();
    r->label = arch;
    Rng init(3);
    r->model = models::homework<float>(arch, models::Activation::relu, init);
    r->model.to(d);
    r->optimizer = std::make_unique<Adam<float>>(r->model.parameters(), 1e-3);
    r->rng = Rng(4);
    return r;
}

const train::RecordOptions kRecord{50, 1, true, true, true};  // 120 images: batches 50, 50, 20

void require_same(train::Run<float>& a, train::Run<float>& b) {
    REQUIRE(a.step == b.step);
    for (const auto& [key, values] : a.curves) CHECK(values == b.curve(key));
    auto pa = a.model.parameters(), pb = b.model.parameters();
    REQUIRE(pa.size() == pb.size());
    for (std::size_t i = 0; i < pa.size(); ++i) CHECK((pa[i]->value.to_host() == pb[i]->value.to_host()));
}

}  // namespace

TEST_CASE("without a registered GPU backend, asking for one is a named error and nothing moves", "[devices]") {
    CHECK_THROWS_WITH((Array<float>({2, 3}, Device::cuda)), Catch::Contains("the cuda backend is not available"));
    Linear<float> lin(3, 2);
    CHECK_THROWS_WITH(lin.to(Device::cuda), Catch::Contains("the cuda backend is not available"));
    CHECK(lin.device() == Device::cpu);
    CHECK(lin.weight().value.device() == Device::cpu);
    CHECK_THROWS_WITH(parse_device("tpu"), Catch::Contains("unknown device 'tpu'"));
}

TEST_CASE("one loop on two devices: the same primitives give the same curves and weights bit for bit",
          "[devices]") {
    StandInDevice dev;
    Setup s;
    for (const std::string arch : {"mlp_2", "cnn_3"}) {
        auto c = make_run(Device::cpu, arch), g = make_run(Device::cuda, arch);
        train::Evaluator<float> evc(models::homework<float>(arch), 64), evg(models::homework<float>(arch), 64);
        const std::size_t up0 = dev.mem.uploads;
        train::train_epochs<float>(*c, 2, s.data, kRecord, &evc, nullptr);
        train::train_epochs<float>(*g, 2, s.data, kRecord, &evg, nullptr);
        INFO(arch);
        CHECK(g->step == 6);  // the partial batch of 20 is trained on both devices
        require_same(*c, *g);
        CHECK(g->model.parameters()[0]->value.device() == Device::cuda);
        // Uploads: one per training batch, one per evaluation batch, and the evaluator's
        // model once (its parameters are then copied device to device).
        CHECK(dev.mem.uploads - up0 >= 6);
    }
}

TEST_CASE("a checkpoint written on one device resumes on the other and continues the same run",
          "[devices]") {
    StandInDevice dev;
    Setup s;
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("ann_devices_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string path = (dir / "run.annc").string();
    const train::RecordOptions rec{50, 1, false, false, true};
    auto straight = make_run(Device::cpu, "cnn_3");
    train::train_epochs<float>(*straight, 2, s.data, rec, nullptr, nullptr);
    for (auto [first, second] : {std::pair{Device::cuda, Device::cpu}, std::pair{Device::cpu, Device::cuda}}) {
        auto a = make_run(first, "cnn_3");
        train::train_epochs<float>(*a, 1, s.data, rec, nullptr, nullptr);
        train::save_run(path, *a, "cnn_3");
        auto b = make_run(second, "cnn_3");
        train::load_run(path, *b, "cnn_3");
        auto* adam = dynamic_cast<Adam<float>*>(b->optimizer.get());
        REQUIRE(adam);
        CHECK(adam->first_moments()[0].device() == second);
        train::train_epochs<float>(*b, 2, s.data, rec, nullptr, nullptr);
        CHECK(b->curve("loss") == straight->curve("loss"));
        CHECK(b->curve("grad_norm") == straight->curve("grad_norm"));
        auto pb = b->model.parameters(), ps = straight->model.parameters();
        for (std::size_t i = 0; i < pb.size(); ++i) CHECK((pb[i]->value.to_host() == ps[i]->value.to_host()));
    }
    fs::remove_all(dir);
}

TEST_CASE("mixed devices are named errors, never silent copies", "[devices][errors]") {
    StandInDevice dev;
    Array<float> g({2, 3}, Device::cuda);
    CHECK_THROWS_WITH(g.host(), Catch::Contains("is on cuda"));
    CHECK_THROWS_WITH(g(0, 0), Catch::Contains("is on cuda"));

    Linear<float> lin(3, 2);
    lin.to(Device::cuda);
    Array<float> x({4, 3});
    x.fill(1.f);
    CHECK_THROWS_WITH(lin.forward(x), Catch::Contains("Linear(in_features=3, out_features=2, bias=True): its input is on cpu but the layer is on cuda"));
    const Array<float>& y = lin.forward(x.to(Device::cuda));
    CHECK(y.device() == Device::cuda);
    CHECK_THROWS_WITH(lin.backward(Array<float>({4, 2})), Catch::Contains("its gradient is on cpu"));

    // An optimizer built before the model moved holds state on the old device.
    auto m = models::homework<float>("mlp_1");
    Adam<float> early(m.parameters(), 1e-3);
    m.to(Device::cuda);
    CHECK_THROWS_WITH(early.step(), Catch::Contains("build the optimizer after moving the model"));

    // Copies: explicit, and exact.
    Array<float> h({2, 2});
    h.host() = Tensor<float>{{1.f, 2.f}, {3.f, -0.f}};
    Array<float> d = h.to(Device::cuda);
    CHECK(d.device() == Device::cuda);
    CHECK((d.to_host() == h.host()));
    CHECK_THROWS_WITH(d.copy_from(Array<float>({3})), Catch::Contains("Array::copy_from"));
}
