// The training loop (determinism, checkpoints and resume, divergence, recording), the plateau rule, results files, and
// the homework driver's JSON on real data; plus the real-data smoke test.
#include <catch2/catch.hpp>

#include <fstream>

#include "../examples/cifar_homework.hpp"
#include "ann/io/atomic_file.hpp"
#include "ann/optim/adam.hpp"
#include "ann/train/plateau.hpp"
#include "ann/train/results_json.hpp"
#include "ann/train/run.hpp"
#include "ann/train/checkpoint.hpp"
#include "cifar_test_util.hpp"

using namespace ann;
using testutil::TempDir;

TEST_CASE("plateau rule: first epoch within tol of the best epoch mean, after a given epoch", "[train][plateau]") {
    // 2 records per epoch (steps_per_epoch 20, every 10). Epoch means: 10, 20, 30, 30.2, 29, 40
    const std::vector<double> c{9, 11, 19, 21, 29, 31, 30, 30.4, 28, 30, 39, 41};
    CHECK(train::epoch_means(c, 20, 10) == std::vector<double>{10, 20, 30, 30.2, 29, 40});
    CHECK(train::plateau_epoch({9, 11, 19, 21, 29, 31, 30, 30.4, 28, 30}, 20, 10, 0, 0.5) == 3);
    CHECK(train::plateau_epoch({9, 11, 19, 21, 29, 31, 30, 30.4, 28, 30}, 20, 10, 0, 0.0) == 4);
    CHECK(train::plateau_epoch(c, 20, 10, 0, 0.5) == 6);  // still increasing at the end
    CHECK(train::plateau_epoch(c, 20, 10, 3, 0.5) == 6);
    CHECK_THROWS(train::plateau_epoch(c, 20, 10, 6, 0.5));
}

TEST_CASE("atomic writes: whole file or the old one untouched, no temporary left", "[train][io]") {
    TempDir t("atomic");
    train::write_json_atomic(t / "sub/r.json", train::Json{{"a", 1}});
    CHECK(train::read_json(t / "sub/r.json")["a"] == 1);
    io::write_file_atomic(t / "sub/r.json", "{\"a\": 2}");
    CHECK(train::read_json(t / "sub/r.json")["a"] == 2);
    std::size_t files = 0;
    for (auto& e : std::filesystem::directory_iterator(t.path / "sub")) (void)e, ++files;
    CHECK(files == 1);
    // A destination that is a folder cannot be replaced: error, folder intact, no temporary left.
    std::filesystem::create_directories(t.path / "dir.json" / "x");
    CHECK_THROWS_WITH(io::write_file_atomic(t / "dir.json", "{}"), Catch::Contains("dir.json"));
    CHECK(std::filesystem::is_directory(t.path / "dir.json" / "x"));
    files = 0;
    for (auto& e : std::filesystem::directory_iterator(t.path)) (void)e, ++files;
    CHECK(files == 2);
    CHECK_THROWS_WITH(train::read_json(t / "none.json"), Catch::Contains("none.json"));
}

TEST_CASE("tensor_to_json nests arrays along the shape", "[train][io]") {
    Tensor<float> w = xt::arange<float>(24).reshape({2, 3, 2, 2});
    const auto j = train::tensor_to_json(w);
    REQUIRE(j.size() == 2);
    REQUIRE(j[0].size() == 3);
    REQUIRE(j[0][0].size() == 2);
    REQUIRE(j[0][0][0].size() == 2);
    CHECK(j[1][2][1][0].get<double>() == 22.0);
}

namespace {
using testutil::synthetic_set;

train::Run<float> make_run(const std::string& arch, std::uint64_t seed, double lr) {
    train::Run<float> r;
    r.label = arch;
    Rng init(seed);
    r.model = models::homework<float>(arch, models::Activation::relu, init);
    r.rng = Rng(seed + 1);
    r.optimizer = std::make_unique<SGD<float>>(r.model.parameters(), lr);
    return r;
}

struct Fixture {
    data::CifarSet set = synthetic_set(300, 3);
    train::TrainData d;
    Fixture() {
        d.images = &set;
        for (std::uint32_t i = 0; i < 200; ++i) d.train.push_back(i);
        for (std::uint32_t i = 200; i < 300; ++i) d.val.push_back(i);
        d.train_eval = data::Indices(d.train.begin(), d.train.begin() + 50);
    }
};
}  // namespace

TEST_CASE("training is deterministic: same seed same curves, another seed other curves", "[train]") {
    cpu::set_num_threads(1);
    Fixture f;
    train::RecordOptions rec{20, 2, true, true, true};  // 10 steps per epoch, record every 2
    auto run = [&](const std::string& arch, std::uint64_t seed) {
        auto r = make_run(arch, seed, 0.05);
        train::Evaluator<float> ev(models::homework<float>(arch), 25);
        train::train_epochs(r, 2, f.d, rec, &ev, nullptr);
        return r;
    };
    for (const char* arch : {"mlp_2", "cnn_5"}) {
        auto a = run(arch, 7), b = run(arch, 7), c = run(arch, 8);
        INFO(arch);
        CHECK(a.step == 20);
        CHECK(a.epoch == 2);
        for (const char* key : {"loss", "grad_norm", "train_acc", "val_acc"}) {
            INFO(key);
            REQUIRE(a.curve(key).size() == 10);
            CHECK(a.curve(key) == b.curve(key));
        }
        CHECK(a.curve("loss") != c.curve("loss"));
        for (double v : a.curve("val_acc")) CHECK((v >= 0 && v <= 100));
        for (double g : a.curve("grad_norm")) CHECK(g > 0);
    }
}

TEST_CASE("grad_norm is the Frobenius norm of the recorded step's first-layer weight gradient", "[train]") {
    Fixture f;
    auto r = make_run("mlp_1", 1, 0.0);  // lr 0: parameters never change, so the gradient can be recomputed
    train::RecordOptions rec{20, 1, false, false, true};
    train::train_epochs<float>(r, 1, f.d, rec, nullptr, nullptr);
    // Recompute step 0's gradient by hand: same batch (the epoch order from the same Rng state).
    Rng order_rng(2);
    const auto order = data::epoch_order(f.d.train, order_rng);
    Array<float> x;
    std::vector<long> y;
    data::fill_batch(f.set, order.data(), 20, x, y);
    r.model.zero_grad();
    CrossEntropyLoss<float> ce;
    const float loss = ce.forward(r.model.forward(x), y);
    r.model.backward(ce.backward());
    const auto& g = train::first_layer_weight(r.model).grad;
    double s = 0;
    for (float v : g) s += double(v) * v;
    CHECK(r.curve("loss")[0] == Approx(loss).epsilon(1e-6));
    CHECK(r.curve("grad_norm")[0] == Approx(std::sqrt(s)).epsilon(1e-5));
}

// Both optimizers with state (Adam's moments, SGD's momentum buffer): a run saved after epoch 1,
// loaded into a run built with other weights and Rng, and trained on equals the uninterrupted run.
TEST_CASE("a run resumed from a checkpoint continues exactly like the uninterrupted run", "[train][resume]") {
    Fixture f;
    TempDir t("ckpt");
    train::RecordOptions rec{20, 3, true, true, true};
    train::Evaluator<float> ev(models::homework<float>("mlp_2"), 50);
    for (const char* opt : {"adam", "sgd-momentum"}) {
        INFO(opt);
        auto make = [&](std::uint64_t seed) {
            auto r = make_run("mlp_2", seed, 0.05);
            if (std::string(opt) == "adam")
                r.optimizer = std::make_unique<Adam<float>>(r.model.parameters());
            else
                r.optimizer = std::make_unique<SGD<float>>(r.model.parameters(), 0.05, 0.9);
            return r;
        };
        auto full = make(4);
        train::train_epochs(full, 3, f.d, rec, &ev, nullptr);

        const std::string path = t / (std::string(opt) + ".annc");
        auto first = make(4);
        train::train_epochs(first, 1, f.d, rec, &ev, nullptr, std::function<void(train::Run<float>&)>([&](train::Run<float>& r) {
                                train::save_run(path, r, "mlp_2", {{"note", "x"}});
                            }));
        auto resumed = make(99);  // other initial weights and Rng: all overwritten
        CHECK(train::load_run(path, resumed, "mlp_2")["note"] == "x");
        CHECK(resumed.epoch == 1);
        train::train_epochs(resumed, 3, f.d, rec, &ev, nullptr);
        CHECK(resumed.step == full.step);
        for (const char* key : {"loss", "grad_norm", "train_acc", "val_acc"}) {
            INFO(key);
            CHECK(resumed.curve(key) == full.curve(key));
        }
        auto pa = full.model.parameters(), pb = resumed.model.parameters();
        for (std::size_t i = 0; i < pa.size(); ++i) CHECK(std::equal(pa[i]->value.begin(), pa[i]->value.end(), pb[i]->value.begin()));
        // Without its optimizer state the run would differ: the test can tell.
        auto naive = make(4);
        train::load_run(path, naive, "mlp_2");
        naive.optimizer = std::string(opt) == "adam"
                              ? std::unique_ptr<Optimizer<float>>(std::make_unique<Adam<float>>(naive.model.parameters()))
                              : std::make_unique<SGD<float>>(naive.model.parameters(), 0.05, 0.9);
        train::train_epochs(naive, 3, f.d, rec, &ev, nullptr);
        CHECK(naive.curve("loss") != full.curve("loss"));
    }
}

TEST_CASE("a checkpoint that does not fit the run is refused, naming the file", "[train][resume][hostile]") {
    Fixture f;
    TempDir t("ckpt_bad");
    auto r = make_run("cnn_3", 1, 0.05);
    train::save_run(t / "sgd.annc", r, "cnn_3/relu");
    auto other = make_run("cnn_3", 1, 0.05);
    CHECK_THROWS_WITH(train::load_run(t / "sgd.annc", other, "cnn_3/sigmoid"), Catch::Contains("sgd.annc"));
    auto adam = make_run("cnn_3", 1, 0.05);
    adam.optimizer = std::make_unique<Adam<float>>(adam.model.parameters());
    CHECK_THROWS_WITH(train::load_run(t / "sgd.annc", adam, "cnn_3/relu"), Catch::Contains("sgd.annc"));
    auto mlp = make_run("mlp_1", 1, 0.05);
    CHECK_THROWS_WITH(train::load_run(t / "sgd.annc", mlp, "cnn_3/relu"), Catch::Contains("sgd.annc"));
    // A checkpoint whose loop state is not a training run's (written by io directly).
    io::save_checkpoint(t / "foreign.annc", r.model, "cnn_3/relu", dynamic_cast<SGD<float>&>(*r.optimizer), r.rng,
                        nlohmann::json{{"epoch", "three"}});
    CHECK_THROWS_WITH(train::load_run(t / "foreign.annc", other, "cnn_3/relu"),
                      Catch::Contains("foreign.annc") && Catch::Contains("loop state"));
    CHECK(other.epoch == 0);
}

TEST_CASE("a diverging run stops at the first non-finite loss and says so; a saved one stays stopped", "[train][diverge]") {
    Fixture f;
    TempDir t("diverge");
    train::RecordOptions rec{20, 1, false, true, false};
    train::Evaluator<float> ev(models::homework<float>("mlp_1"), 50);
    auto r = make_run("mlp_1", 3, 1e30);  // absurd learning rate
    train::train_epochs(r, 5, f.d, rec, &ev, nullptr);
    REQUIRE(r.diverged);
    CHECK(r.step == r.diverged_step);  // the diverged step was not applied
    CHECK(r.epoch < 5);
    REQUIRE(r.curve("loss").size() == r.diverged_step + 1);
    CHECK_FALSE(std::isfinite(r.curve("loss").back()));
    for (std::size_t i = 0; i + 1 < r.curve("loss").size(); ++i) CHECK(std::isfinite(r.curve("loss")[i]));
    // Saved and loaded (JSON writes NaN as null), the run is still diverged and is not trained.
    train::save_run(t / "d.annc", r, "mlp_1");
    auto back = make_run("mlp_1", 3, 1e30);
    train::load_run(t / "d.annc", back, "mlp_1");
    CHECK(back.diverged);
    CHECK(back.diverged_step == r.diverged_step);
    CHECK(std::isnan(back.curve("loss").back()));
    const std::size_t steps = back.step;
    train::train_epochs(back, 5, f.d, rec, &ev, nullptr);
    CHECK(back.step == steps);
    // A sane learning rate does not diverge.
    auto ok = make_run("mlp_1", 3, 0.01);
    train::train_epochs(ok, 1, f.d, rec, &ev, nullptr);
    CHECK_FALSE(ok.diverged);
}

TEST_CASE("a raised stop flag interrupts between steps, after the last epoch's callback", "[train][resume]") {
    Fixture f;
    train::RecordOptions rec{20, 5, false, false, false};
    auto r = make_run("mlp_1", 3, 0.01);
    std::atomic<bool> stop{false};
    std::size_t saved = 0;
    auto on_epoch = std::function<void(train::Run<float>&)>([&](train::Run<float>& rr) {
        saved = rr.epoch;
        if (rr.epoch == 2) stop = true;
    });
    CHECK_THROWS_AS(train::train_epochs<float>(r, 5, f.d, rec, nullptr, nullptr, on_epoch, &stop), train::Interrupted);
    CHECK(saved == 2);
    CHECK(r.epoch == 2);
    CHECK(r.step == 20);
}

TEST_CASE("summary: result files with null (diverged) values and missing keys still summarise", "[train][hostile]") {
    TempDir t("summary_null");
    hw::Options o;
    o.out = t / "results";
    const nlohmann::json nan = nullptr;  // how JSON stores NaN and Inf
    train::write_json_atomic(o.out + "/part3/part3_cnn_3.json",
                             {{"name", "cnn_3"}, {"val_acc_curve", {10.0, nan}}, {"test_acc", nan}, {"diverged", true}});
    train::write_json_atomic(o.out + "/part4/part4_cnn_3.json", {{"name", "cnn_3"}, {"relu_loss_curve", {2.3, nan}}});
    train::write_json_atomic(o.out + "/part5/part5_cnn_3_scheduled.json",
                             {{"name", "cnn_3"}, {"switch_epoch_1", 2}, {"switch_epoch_2", nan}, {"test_acc_scheduled", nan}});
    std::string md;
    REQUIRE_NOTHROW(md = hw::summary(o));
    CHECK_THAT(md, Catch::Contains("| cnn_3 |") && Catch::Contains("nan"));
    CHECK_THAT(md, Catch::Contains("Part 5 (cnn_3"));
}

TEST_CASE("homework driver on real data writes every JSON file with the layout's keys", "[train][real][homework]") {
    if (testutil::real_cifar_dir().empty()) {
        WARN("shared CIFAR-10 archive not found; skipped");
        return;
    }
    TempDir t("hw");
    hw::Options o;
    o.data_dir = std::filesystem::path(testutil::real_cifar_dir()).parent_path().string();
    o.out = t / "results";
    o.archs = {"mlp_1", "cnn_3"};
    o.train_per_class = 10;  // 100 images: 2 steps per epoch
    o.val_per_class = 5;
    o.test_per_class = 5;
    o.train_acc_images = 50;
    o.epochs = 2;
    o.part5_epochs = 3;
    o.schedule_epochs = 4;
    o.record_every = 1;
    o.part5_arch = "mlp_2";
    o.quiet = true;
    hw::Team one_process;
    hw::run_all(o, one_process);

    for (const auto& a : o.archs) {
        const auto j3 = train::read_json(o.out + "/part3/part3_" + a + ".json");
        for (const char* k : {"name", "loss_curve", "train_acc_curve", "val_acc_curve", "test_acc", "weights"})
            CHECK(j3.contains(k));
        CHECK(j3["name"] == a);
        CHECK(j3["loss_curve"].size() == 4);
        CHECK(j3["val_acc_curve"].size() == 4);
        CHECK(j3["train_acc_curve"].size() == 4);
        const double acc = j3["test_acc"];
        CHECK((acc >= 0 && acc <= 100));
        if (a == "mlp_1") CHECK((j3["weights"].size() == 32 && j3["weights"][0].size() == 3072));
        if (a == "cnn_3")
            CHECK((j3["weights"].size() == 16 && j3["weights"][0].size() == 3 && j3["weights"][0][0].size() == 3 &&
                   j3["weights"][0][0][0].size() == 3));
        const auto j4 = train::read_json(o.out + "/part4/part4_" + a + ".json");
        for (const char* k : {"name", "relu_loss_curve", "sigmoid_loss_curve", "relu_grad_curve", "sigmoid_grad_curve"}) {
            INFO(k);
            REQUIRE(j4.contains(k));
            if (std::string(k) != "name") CHECK(j4[k].size() == 4);
        }
    }
    const auto j5 = train::read_json(o.out + "/part5/part5_mlp_2.json");
    CHECK(j5["name"] == "mlp_2");
    for (const char* k : {"loss_curve_1", "loss_curve_01", "loss_curve_001", "val_acc_curve_1", "val_acc_curve_01",
                          "val_acc_curve_001"}) {
        INFO(k);
        REQUIRE(j5.contains(k));
        CHECK(j5[k].size() == 6);
    }
    const auto js = train::read_json(o.out + "/part5/part5_mlp_2_scheduled.json");
    for (const char* k : {"name", "steps_per_epoch", "runs", "test_acc_scheduled", "test_acc_adam"}) CHECK(js.contains(k));
    CHECK(js["test_acc_adam"].is_null());  // part 3 did not train mlp_2
    REQUIRE(js["runs"].size() == 2);
    for (const auto& r : js["runs"]) CHECK(r["val_acc_curve"].size() == 8);
    const std::size_t e1 = js["switch_epoch_1"], e2 = js["switch_epoch_2"];
    CHECK((1 <= e1 && e1 < e2 && e2 < 4));
    CHECK(std::filesystem::exists(o.out + "/summary.md"));
}

#ifndef ANN_SANITIZE
TEST_CASE("smoke: cnn_4 learns real CIFAR-10 in 300 steps (loss down, validation > 25%)", "[train][real][smoke]") {
    const std::string dir = testutil::real_cifar_dir();
    if (dir.empty()) {
        WARN("shared CIFAR-10 archive not found; skipped");
        return;
    }
    cpu::set_num_threads(1);
    const auto cifar = data::load_cifar10(dir, false);
    const auto split = data::stratified_split(cifar.train.labels, 500, 0);
    train::TrainData d;
    d.images = &cifar.train;
    d.train = split.kept;
    d.val = data::balanced_subset(cifar.train.labels, split.held_out, 100, 1);  // 1000 validation images
    train::Run<float> r;
    r.label = "smoke cnn_4";
    Rng init(0);
    r.model = models::homework<float>("cnn_4", models::Activation::relu, init);
    r.rng = Rng(1);
    r.optimizer = std::make_unique<Adam<float>>(r.model.parameters());
    train::Evaluator<float> ev(models::homework<float>("cnn_4"), 100);
    // 300 steps = a third of an epoch of 45000: train on the first 15000 images of the order.
    d.train.resize(15000);
    train::RecordOptions rec{50, 10, false, false, false};
    train::train_epochs<float>(r, 1, d, rec, nullptr, nullptr);
    REQUIRE(r.step == 300);
    const auto& loss = r.curve("loss");
    double first = 0, last = 0;
    for (int i = 0; i < 3; ++i) first += loss[i] / 3, last += loss[loss.size() - 1 - i] / 3;
    const double val = ev.accuracy(r.model, cifar.train, d.val);
    WARN("smoke cnn_4: loss " << first << " -> " << last << ", validation accuracy " << val << "%");
    CHECK(first > 2.2);
    CHECK(last < first - 0.3);
    CHECK(val > 25.0);
}
#endif
