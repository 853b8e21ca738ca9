// Weight decay, Nesterov momentum, AdamW and the learning-rate schedulers against torch.optim 1.13
// (tests/fixtures/torch_optim_extra.json, written by tools/make_optim_fixtures.py); their state in
// checkpoints (old files still load, bad ones are refused naming the value); and a training run with
// a schedule that is checkpointed and resumed continues bit for bit.
//
// Tolerances (metric: max |ours - torch| / max(1, |torch|), the reference being torch in float64 from
// the same float32 inputs):
//   float64: each step is ~10 roundings of O(1) values (2^-53 = 1.1e-16 each) and nothing in these
//            trajectories amplifies an error by more than ~10 (Adam divides by sqrt(v) + eps with v
//            far from 0); 6 steps: a few 1e-15 at most. Bound 1e-14 (measured: 2.2e-16).
//   float32: the same with 2^-24 = 6e-8 per rounding: ~1e-6 worst case; torch's own float32 run
//            lands at 1e-7 to 3e-7 (in the fixture). Bound 2e-6 (measured: 3.5e-7).
//   Schedules: the same double operations in the same order as torch (and the same libm cos),
//            so the rates should be equal; allowed: 4 ulps relative (9e-16) (measured: equal).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <unistd.h>

#include "ann/ann.hpp"
#include "fixture_json.hpp"
#include "ann/io/checkpoint.hpp"
#include "ann/testing/synthetic_cifar.hpp"
#include "ann/train/checkpoint.hpp"
#include "ann/train/evaluate.hpp"
#include "ann/train/run.hpp"
#include "../fuzz/fuzz_model.hpp"

using namespace ann;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

json fixture() { return testutil::load_fixture("torch_optim_extra.json", "tools/make_optim_fixtures.py"); }

template <class T>
std::vector<std::unique_ptr<Parameter<T>>> make_params(const json& tensors) {
    std::vector<std::unique_ptr<Parameter<T>>> out;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const auto shape = tensors[i].at("shape").get<Shape>();
        auto p = std::make_unique<Parameter<T>>("p" + std::to_string(i), shape);
        const auto data = tensors[i].at("data").get<std::vector<double>>();
        for (std::size_t k = 0; k < data.size(); ++k) p->value.data()[k] = static_cast<T>(data[k]);
        out.push_back(std::move(p));
    }
    return out;
}

template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const json& c, std::vector<Parameter<T>*> ps) {
    const std::string kind = c.at("optimizer");
    if (kind == "sgd")
        return std::make_unique<SGD<T>>(ps, SGDOptions{c.at("lr"), c.at("momentum"), c.at("weight_decay"), c.at("nesterov")});
    if (kind == "adam")
        return std::make_unique<Adam<T>>(ps, AdamOptions{c.at("lr"), c.at("betas")[0], c.at("betas")[1], c.at("eps"),
                                                         c.at("weight_decay")});
    REQUIRE(kind == "adamw");
    return std::make_unique<AdamW<T>>(ps, AdamWOptions{c.at("lr"), c.at("betas")[0], c.at("betas")[1], c.at("eps"),
                                                       c.at("weight_decay")});
}

// Runs one optimizer case in T; returns the largest difference from torch's float64 trajectory.
template <class T>
double optimizer_error(const json& doc, const json& c) {
    auto owned = make_params<T>(doc.at("init"));
    std::vector<Parameter<T>*> ps;
    for (auto& p : owned) ps.push_back(p.get());
    auto opt = make_optimizer<T>(c, ps);
    double worst = 0;
    const auto& after = c.at("params_after_step");
    REQUIRE(after.size() == doc.at("grads").size());
    for (std::size_t s = 0; s < after.size(); ++s) {
        opt->zero_grad();
        for (std::size_t i = 0; i < ps.size(); ++i) {
            const auto g = doc.at("grads")[s][i].at("data").get<std::vector<double>>();
            for (std::size_t k = 0; k < g.size(); ++k) ps[i]->grad.data()[k] = static_cast<T>(g[k]);
        }
        opt->step();
        for (std::size_t i = 0; i < ps.size(); ++i) {
            const auto ref = after[s][i].at("data").get<std::vector<double>>();
            REQUIRE(ref.size() == ps[i]->size());
            for (std::size_t k = 0; k < ref.size(); ++k)
                worst = std::max(worst, std::abs(double(ps[i]->value.data()[k]) - ref[k]) / std::max(1.0, std::abs(ref[k])));
        }
    }
    return worst;
}

template <class T>
std::unique_ptr<LrScheduler<T>> make_scheduler(const json& c, Optimizer<T>& opt) {
    const std::string kind = c.at("scheduler");
    if (kind == "step_lr") return std::make_unique<StepLR<T>>(opt, c.at("step_size").get<long>(), c.at("gamma").get<double>());
    if (kind == "cosine_annealing_lr")
        return std::make_unique<CosineAnnealingLR<T>>(opt, c.at("T_max").get<long>(), c.at("eta_min").get<double>());
    REQUIRE(kind == "reduce_lr_on_plateau");
    ReduceLROnPlateauOptions o;
    o.mode = c.at("mode") == "max" ? PlateauMode::max : PlateauMode::min;
    o.factor = c.at("factor");
    o.patience = c.at("patience");
    o.threshold = c.at("threshold");
    o.threshold_mode = c.at("threshold_mode") == "abs" ? ThresholdMode::abs : ThresholdMode::rel;
    o.cooldown = c.at("cooldown");
    o.min_lr = c.at("min_lr");
    o.eps = c.at("eps");
    return std::make_unique<ReduceLROnPlateau<T>>(opt, o);
}

// A small run on the synthetic CIFAR set: mlp_1, 100 training images in batches of 20.
struct Data {
    data::CifarSet set = testing::synthetic_cifar(130, 5);
    train::TrainData d;
    train::RecordOptions rec{20, 2, true, true, true};
    Data() {
        d.images = &set;
        for (std::uint32_t i = 0; i < 100; ++i) d.train.push_back(i);
        for (std::uint32_t i = 100; i < 130; ++i) d.val.push_back(i);
        d.train_eval = data::Indices(d.train.begin(), d.train.begin() + 30);
    }
};

template <class T>
std::vector<std::string> bits(Layer<T>& model) {
    std::vector<std::string> out;
    for (auto* p : model.parameters()) out.emplace_back(reinterpret_cast<const char*>(p->value.data()), p->size() * sizeof(T));
    return out;
}

struct TempFile {
    std::string path = (fs::temp_directory_path() / ("ann_test_optim_extra_" + std::to_string(::getpid()) + ".annc")).string();
    ~TempFile() { std::error_code ec; fs::remove(path, ec); }
};

}  // namespace

TEST_CASE("SGD weight decay and Nesterov, Adam weight decay and AdamW agree with torch.optim", "[optim][torch]") {
    const json doc = fixture();
    REQUIRE(doc.at("optimizers").size() == 7);
    double worst64 = 0, worst32 = 0;
    for (const auto& c : doc["optimizers"]) {
        const std::string name = c.at("name");
        INFO(name);
        const double e64 = optimizer_error<double>(doc, c), e32 = optimizer_error<float>(doc, c);
        CHECK(e64 < 1e-14);
        CHECK(e32 < 2e-6);
        std::cout << "  " << name << ": max error float64 " << e64 << ", float32 " << e32 << " (torch float32 "
                  << c.at("torch_float32_max_diff").get<double>() << ")\n";
        worst64 = std::max(worst64, e64);
        worst32 = std::max(worst32, e32);
    }
    std::cout << "optimizers vs torch: float64 " << worst64 << ", float32 " << worst32 << "\n";
}

TEST_CASE("StepLR, CosineAnnealingLR and ReduceLROnPlateau give torch's learning rates", "[optim][scheduler][torch]") {
    const json doc = fixture();
    REQUIRE(doc.at("schedulers").size() == 10);
    double worst = 0;
    for (const auto& c : doc["schedulers"]) {
        const std::string name = c.at("name");
        INFO(name);
        Parameter<double> p("p", {1});
        SGD<double> opt({&p}, c.at("lr").get<double>());
        auto sched = make_scheduler<double>(c, opt);
        const auto lrs = c.at("lrs").get<std::vector<double>>();
        CHECK(opt.lr() == lrs[0]);
        CHECK(sched->last_epoch() == 0);
        for (std::size_t e = 1; e < lrs.size(); ++e) {
            INFO("epoch " << e);
            if (sched->needs_metric()) {
                sched->step(c.at("metric")[e - 1].get<double>());
                auto& plateau = dynamic_cast<ReduceLROnPlateau<double>&>(*sched);
                CHECK(plateau.best() == c.at("best")[e - 1].get<double>());
                CHECK(plateau.num_bad_epochs() == c.at("num_bad_epochs")[e - 1].get<long>());
                CHECK(plateau.cooldown_counter() == c.at("cooldown_counter")[e - 1].get<long>());
            } else {
                sched->step();
            }
            CHECK(sched->last_epoch() == long(e));
            const double diff = std::abs(opt.lr() - lrs[e]);
            CHECK(diff <= 4 * std::numeric_limits<double>::epsilon() * std::abs(lrs[e]));
            worst = std::max(worst, lrs[e] != 0 ? diff / std::abs(lrs[e]) : diff);
        }
    }
    std::cout << "schedulers vs torch: largest relative difference " << worst << "\n";
}

TEST_CASE("AdamW with weight_decay 0 is Adam, and the old constructors still work", "[optim]") {
    Parameter<float> a("a", {7}), b("b", {7});
    Rng rng(3);
    for (std::size_t k = 0; k < 7; ++k) a.value.data()[k] = b.value.data()[k] = float(rng.normal());
    Adam<float> adam({&a}, AdamOptions{0.01});
    AdamW<float> adamw({&b}, AdamWOptions{0.01, 0.9, 0.999, 1e-8, 0.0});
    for (int s = 0; s < 3; ++s) {
        for (std::size_t k = 0; k < 7; ++k) a.grad.data()[k] = b.grad.data()[k] = float(rng.normal());
        adam.step();
        adamw.step();
    }
    CHECK(std::memcmp(a.value.data(), b.value.data(), 7 * sizeof(float)) == 0);
    CHECK(AdamW<float>({&a}).options().weight_decay == 0.01);  // torch's default
    CHECK(AdamW<float>({&a}, 0.5).lr() == 0.5);
    CHECK(Adam<float>({&a}).options().weight_decay == 0.0);
    CHECK(SGD<float>({&a}, 0.1, 0.9).momentum() == 0.9);
    CHECK(SGD<float>({&a}, 0.1).weight_decay() == 0.0);
    CHECK_FALSE(SGD<float>({&a}, 0.1).nesterov());
}

TEST_CASE("bad optimizer and scheduler options are errors naming the class and the value", "[optim][scheduler][errors]") {
    Parameter<float> p("p", {2});
    CHECK_THROWS_WITH(SGD<float>({&p}, SGDOptions{0.1, 0.9, -0.5}),
                      Catch::Contains("SGD") && Catch::Contains("weight_decay") && Catch::Contains("-0.5"));
    CHECK_THROWS_WITH(SGD<float>({&p}, SGDOptions{0.1, 0.0, 0.0, true}),
                      Catch::Contains("SGD") && Catch::Contains("nesterov") && Catch::Contains("momentum 0"));
    CHECK_THROWS_WITH(SGD<float>({&p}, SGDOptions{}), Catch::Contains("SGD") && Catch::Contains("learning rate"));
    CHECK_THROWS_WITH(SGD<float>({&p}, SGDOptions{-1.0}), Catch::Contains("SGD") && Catch::Contains("-1"));
    CHECK_THROWS_WITH(Adam<float>({&p}, AdamOptions{1e-3, 0.9, 0.999, 1e-8, -0.25}),
                      Catch::Contains("Adam:") && Catch::Contains("weight_decay") && Catch::Contains("-0.25"));
    CHECK_THROWS_WITH(AdamW<float>({&p}, AdamWOptions{1e-3, 0.9, 0.999, 1e-8, -2.0}),
                      Catch::Contains("AdamW") && Catch::Contains("weight_decay") && Catch::Contains("-2"));
    CHECK_THROWS_WITH(AdamW<float>({&p}, AdamWOptions{1e-3, 1.0}), Catch::Contains("AdamW") && Catch::Contains("betas"));

    SGD<float> opt({&p}, 0.1);
    CHECK_THROWS_WITH(StepLR<float>(opt, 0), Catch::Contains("StepLR") && Catch::Contains("step_size") && Catch::Contains("0"));
    CHECK_THROWS_WITH(StepLR<float>(opt, 3, -0.5), Catch::Contains("StepLR") && Catch::Contains("gamma") && Catch::Contains("-0.5"));
    CHECK_THROWS_WITH(CosineAnnealingLR<float>(opt, 0), Catch::Contains("CosineAnnealingLR") && Catch::Contains("T_max"));
    CHECK_THROWS_WITH(CosineAnnealingLR<float>(opt, -3), Catch::Contains("CosineAnnealingLR") && Catch::Contains("-3"));
    CHECK_THROWS_WITH(CosineAnnealingLR<float>(opt, 5, -0.1), Catch::Contains("eta_min") && Catch::Contains("-0.1"));
    auto plateau = [&](auto set) {
        ReduceLROnPlateauOptions o;
        set(o);
        ReduceLROnPlateau<float> s(opt, o);
    };
    CHECK_THROWS_WITH(plateau([](auto& o) { o.factor = 1.0; }),
                      Catch::Contains("ReduceLROnPlateau") && Catch::Contains("factor") && Catch::Contains("1"));
    CHECK_THROWS_WITH(plateau([](auto& o) { o.factor = 1.5; }), Catch::Contains("factor") && Catch::Contains("1.5"));
    CHECK_THROWS_WITH(plateau([](auto& o) { o.factor = -0.1; }), Catch::Contains("factor") && Catch::Contains("-0.1"));
    CHECK_THROWS_WITH(plateau([](auto& o) { o.patience = -1; }), Catch::Contains("patience") && Catch::Contains("-1"));
    CHECK_THROWS_WITH(plateau([](auto& o) { o.threshold = -1e-3; }), Catch::Contains("threshold") && Catch::Contains("-0.001"));
    CHECK_THROWS_WITH(plateau([](auto& o) { o.cooldown = -2; }), Catch::Contains("cooldown") && Catch::Contains("-2"));
    CHECK_THROWS_WITH(plateau([](auto& o) { o.min_lr = -1; }), Catch::Contains("min_lr"));
    CHECK_THROWS_WITH(plateau([](auto& o) { o.eps = -1; }), Catch::Contains("eps"));
    ReduceLROnPlateau<float> p2(opt);
    CHECK_THROWS_WITH(p2.step(), Catch::Contains("ReduceLROnPlateau") && Catch::Contains("step(metric)"));
    StepLR<float> s2(opt, 2);
    CHECK_THROWS_WITH(s2.step(0.5), Catch::Contains("StepLR") && Catch::Contains("step()"));
}

TEST_CASE("checkpoints hold weight decay, Nesterov and AdamW; a mismatch is refused naming the values", "[optim][io]") {
    Sequential<float> m;
    m.emplace<Linear<float>>(3, 2);
    Rng rng(1);
    for (auto* p : m.parameters())
        for (auto& g : p->grad) g = float(rng.normal());
    SGD<float> nest(m.parameters(), SGDOptions{0.1, 0.9, 0.01, true});
    nest.step();
    const std::string s = io::encode_checkpoint(m, "net", nest, rng, {});
    CHECK(s[8] == 1);  // no scheduler: format version 1
    SGD<float> same(m.parameters(), SGDOptions{0.5, 0.9, 0.01, true});
    io::decode_checkpoint(s, "c.annc", m, "net", same, rng);
    CHECK(same.lr() == 0.1);
    CHECK(std::memcmp(same.state()[0].data(), nest.state()[0].data(), 6 * sizeof(float)) == 0);
    SGD<float> plain(m.parameters(), 0.1, 0.9), no_nesterov(m.parameters(), SGDOptions{0.1, 0.9, 0.01});
    CHECK_THROWS_WITH(io::decode_checkpoint(s, "c.annc", m, "net", plain, rng),
                      Catch::Contains("c.annc") && Catch::Contains("SGD weight_decay = 0.01") &&
                          Catch::Contains("weight_decay = 0"));
    CHECK_THROWS_WITH(io::decode_checkpoint(s, "c.annc", m, "net", no_nesterov, rng),
                      Catch::Contains("SGD nesterov = 1") && Catch::Contains("nesterov = 0"));
    // ... and the other way round: a file without them does not load into an optimizer with them.
    const std::string p = io::encode_checkpoint(m, "net", plain, rng, {});
    CHECK_THROWS_WITH(io::decode_checkpoint(p, "p.annc", m, "net", nest, rng),
                      Catch::Contains("SGD weight_decay = 0,") && Catch::Contains("weight_decay = 0.01"));

    AdamW<float> adamw(m.parameters(), AdamWOptions{0.01});
    adamw.step();
    Adam<float> adam(m.parameters(), AdamOptions{0.01});
    AdamW<float> other_decay(m.parameters(), AdamWOptions{0.01, 0.9, 0.999, 1e-8, 0.1});
    const std::string w = io::encode_checkpoint(m, "net", adamw, rng, {});
    CHECK_THROWS_WITH(io::decode_checkpoint(w, "w.annc", m, "net", adam, rng),
                      Catch::Contains("AdamW optimizer state") && Catch::Contains("into Adam"));
    CHECK_THROWS_WITH(io::decode_checkpoint(io::encode_checkpoint(m, "net", adam, rng, {}), "a.annc", m, "net", adamw, rng),
                      Catch::Contains("Adam optimizer state") && Catch::Contains("into AdamW"));
    CHECK_THROWS_WITH(io::decode_checkpoint(w, "w.annc", m, "net", other_decay, rng),
                      Catch::Contains("AdamW weight_decay = 0.01") && Catch::Contains("weight_decay = 0.1"));
    AdamW<float> back(m.parameters(), AdamWOptions{0.01});
    io::decode_checkpoint(w, "w.annc", m, "net", back, rng);
    CHECK(back.step_count() == 1);
    CHECK(io::encode_checkpoint(m, "net", back, rng, {}) == w);
    // Adam's L2 weight decay is a hyperparameter of "adam".
    Adam<float> adam_wd(m.parameters(), AdamOptions{0.01, 0.9, 0.999, 1e-8, 0.2});
    CHECK_THROWS_WITH(io::decode_checkpoint(io::encode_checkpoint(m, "net", adam_wd, rng, {}), "a.annc", m, "net", adam, rng),
                      Catch::Contains("Adam weight_decay = 0.2"));
}

TEST_CASE("checkpoints written before weight decay existed still load; hand-made lists are checked", "[optim][io]") {
    // The fuzz seed corpus was written before this change (SGD: momentum only; Adam: beta1, beta2, eps).
    const fs::path corpus = fs::path(ANN_TEST_FIXTURES).parent_path().parent_path() / "fuzz" / "corpus" / "checkpoint_reader";
    const std::string sgd_file = (corpus / "sgd_stepped.annc").string(), adam_file = (corpus / "adam_stepped.annc").string();
    auto m = fuzz::make_model(5);
    Rng rng;
    SGD<float> sgd_plain(m.parameters(), 0.1, 0.9), sgd_wd(m.parameters(), SGDOptions{0.1, 0.9, 1e-4});
    Adam<float> adam(m.parameters(), AdamOptions{0.01}), adam_wd(m.parameters(), AdamOptions{0.01, 0.9, 0.999, 1e-8, 1e-4});
    AdamW<float> adamw(m.parameters(), AdamWOptions{0.01});
    CHECK_NOTHROW(io::load_checkpoint(sgd_file, m, fuzz::kArchitecture, sgd_plain, rng));
    CHECK_NOTHROW(io::load_checkpoint(adam_file, m, fuzz::kArchitecture, adam, rng));
    CHECK(adam.step_count() == 2);
    CHECK_THROWS_WITH(io::load_checkpoint(sgd_file, m, fuzz::kArchitecture, sgd_wd, rng),
                      Catch::Contains("SGD weight_decay = 0,") && Catch::Contains("weight_decay = 0.0001"));
    CHECK_THROWS_WITH(io::load_checkpoint(adam_file, m, fuzz::kArchitecture, adam_wd, rng),
                      Catch::Contains("Adam weight_decay = 0,"));
    CHECK_THROWS_WITH(io::load_checkpoint(adam_file, m, fuzz::kArchitecture, adamw, rng), Catch::Contains("into AdamW"));
    // Such a file is written again byte for byte: no hyperparameter is added to a file that does not use it.
    const auto sgd_rec = io::parse_checkpoint_file(io::read_file(sgd_file), sgd_file);
    CHECK(sgd_rec.optimizer.hyperparameters.size() == 1);
    CHECK_FALSE(sgd_rec.scheduler);
    const json loop = io::load_checkpoint(sgd_file, m, fuzz::kArchitecture, sgd_plain, rng);
    CHECK(io::encode_checkpoint(m, fuzz::kArchitecture, sgd_plain, rng, loop) == io::read_file(sgd_file));

    auto staged_into = [&](const io::OptimizerRecord& rec, auto& opt) {
        auto layout = io::OptimizerCodec<std::decay_t<decltype(opt)>>::layout(opt);
        layout.params.clear();  // the hyperparameters are checked before the slots
        layout.slots.clear();
        io::OptimizerRecord r = rec;
        r.slots.clear();
        io::stage_optimizer(r, layout, "old.annc");
    };
    CHECK_NOTHROW(staged_into(sgd_rec.optimizer, sgd_plain));
    // Lists no build writes: an explicit 0, a repeat, an unknown name, a missing required one.
    io::OptimizerRecord r = sgd_rec.optimizer;
    r.hyperparameters.emplace_back("weight_decay", 0.0);
    CHECK_THROWS_WITH(staged_into(r, sgd_plain), Catch::Contains("not in the form ann writes"));
    r = sgd_rec.optimizer;
    r.hyperparameters.emplace_back("momentum", 0.9);
    CHECK_THROWS_WITH(staged_into(r, sgd_plain), Catch::Contains("not in the form ann writes"));
    r = sgd_rec.optimizer;
    r.hyperparameters.emplace_back("dampening", 0.5);
    CHECK_THROWS_WITH(staged_into(r, sgd_plain), Catch::Contains("unknown SGD hyperparameter 'dampening'"));
    r = sgd_rec.optimizer;
    r.hyperparameters.clear();
    CHECK_THROWS_WITH(staged_into(r, sgd_plain), Catch::Contains("lacks the SGD hyperparameter 'momentum'"));
}

TEST_CASE("scheduler state in a checkpoint: version 2, restored exactly, refused when it does not fit", "[scheduler][io]") {
    Sequential<float> m;
    m.emplace<Linear<float>>(3, 2);
    Rng rng(4);
    SGD<float> opt(m.parameters(), 0.1, 0.9);
    ReduceLROnPlateauOptions po;
    po.patience = 1;
    po.cooldown = 3;
    ReduceLROnPlateau<float> plateau(opt, po);
    for (double metric : {1.0, 0.9, 0.95, 0.96}) plateau.step(metric);  // reduced once, now in cooldown
    REQUIRE(opt.lr() == Approx(0.01));
    REQUIRE(plateau.cooldown_counter() == 3);
    const std::string f = io::encode_checkpoint(m, "net", opt, rng, {}, &plateau);
    CHECK(f[8] == 2);

    SGD<float> opt2(m.parameters(), 0.1, 0.9);
    ReduceLROnPlateau<float> plateau2(opt2, po);
    io::decode_checkpoint(f, "s.annc", m, "net", opt2, rng, &plateau2);
    CHECK(opt2.lr() == opt.lr());
    CHECK(plateau2.last_epoch() == 4);
    CHECK(plateau2.best() == 0.9);
    CHECK(plateau2.cooldown_counter() == 3);
    CHECK(plateau2.num_bad_epochs() == 0);
    CHECK(io::encode_checkpoint(m, "net", opt2, rng, {}, &plateau2) == f);

    // Only into a run with the same scheduler, and a scheduler needs its state.
    CHECK_THROWS_WITH(io::decode_checkpoint(f, "s.annc", m, "net", opt2, rng),
                      Catch::Contains("s.annc") && Catch::Contains("this run has no scheduler"));
    const std::string without = io::encode_checkpoint(m, "net", opt, rng, {});
    CHECK_THROWS_WITH(io::decode_checkpoint(without, "n.annc", m, "net", opt2, rng, &plateau2),
                      Catch::Contains("n.annc") && Catch::Contains("no learning-rate scheduler state") &&
                          Catch::Contains("ReduceLROnPlateau"));
    StepLR<float> step(opt2, 3);
    CHECK_THROWS_WITH(io::decode_checkpoint(f, "s.annc", m, "net", opt2, rng, &step),
                      Catch::Contains("'reduce_lr_on_plateau'") && Catch::Contains("into StepLR"));
    po.cooldown = 2;
    ReduceLROnPlateau<float> other(opt2, po);
    CHECK_THROWS_WITH(io::decode_checkpoint(f, "s.annc", m, "net", opt2, rng, &other),
                      Catch::Contains("ReduceLROnPlateau cooldown = 3") && Catch::Contains("cooldown = 2"));
    // A failed load changes nothing.
    CHECK(plateau2.last_epoch() == 4);
    CHECK(step.last_epoch() == 0);

    // A state no run reaches, and a version no build writes.
    {
        StepLR<float> s(opt, 2);
        s.step();
        io::CheckpointRecord rec = io::parse_checkpoint_file(io::encode_checkpoint(m, "net", opt, rng, {}, &s), "x");
        REQUIRE(rec.scheduler);
        REQUIRE(rec.scheduler->state.at(0).first == "base_lr");
        rec.scheduler->state[0].second = -1.0;
        CHECK_THROWS_WITH(io::stage_scheduler(*rec.scheduler, s, "x.annc"),
                          Catch::Contains("x.annc") && Catch::Contains("StepLR base_lr is -1"));
        rec.scheduler->state[0].second = 0.1;
        rec.scheduler->last_epoch = -3;
        CHECK_THROWS_WITH(io::stage_scheduler(*rec.scheduler, s, "x.annc"), Catch::Contains("last_epoch -3"));
        rec.scheduler->last_epoch = std::numeric_limits<std::int64_t>::max();
        CHECK_THROWS_WITH(io::stage_scheduler(*rec.scheduler, s, "x.annc"), Catch::Contains("last_epoch 9223372036854775807"));
    }
    std::string v3 = f;
    v3[8] = 3;
    CHECK_THROWS_WITH(io::decode_checkpoint(v3, "v3.annc", m, "net", opt2, rng, &plateau2),
                      Catch::Contains("version 3 is newer") && Catch::Contains("(version 2)"));
    // Model files stay at version 1.
    std::string model = io::encode_model(m, "net");
    CHECK(model[8] == 1);
    model[8] = 2;
    CHECK_THROWS_WITH(io::decode_model(model, m, "net", "m.annm"), Catch::Contains("version 2 is newer"));
}

// The brief's resume test: 4 epochs straight == 2 epochs, checkpoint, a freshly built run loads
// it and trains epochs 3 and 4; weights, curves, learning rate and scheduler state bit for bit.
TEST_CASE("runs with a schedule resume bit for bit: AdamW + cosine, SGD Nesterov + decay + StepLR, SGD + plateau",
          "[scheduler][train][resume]") {
    Data data;
    train::Evaluator<float> ev(models::homework<float>("mlp_1"), 30);
    enum Kind { adamw_cosine, sgd_step, sgd_plateau };
    for (Kind kind : {adamw_cosine, sgd_step, sgd_plateau}) {
        INFO("case " << int(kind));
        auto make = [&](std::uint64_t seed) {
            auto r = std::make_unique<train::Run<float>>();
            r->label = "resume";
            Rng init(seed);
            r->model = models::homework<float>("mlp_1", models::Activation::relu, init);
            r->rng = Rng(seed + 1);
            if (kind == adamw_cosine) {
                r->optimizer = std::make_unique<AdamW<float>>(r->model.parameters(), AdamWOptions{2e-3, 0.9, 0.999, 1e-8, 0.05});
                r->scheduler = std::make_unique<CosineAnnealingLR<float>>(*r->optimizer, 3, 1e-4);
            } else if (kind == sgd_step) {
                r->optimizer = std::make_unique<SGD<float>>(r->model.parameters(), SGDOptions{0.01, 0.9, 5e-3, true});
                r->scheduler = std::make_unique<StepLR<float>>(*r->optimizer, 3, 0.5);
            } else {
                r->optimizer = std::make_unique<SGD<float>>(r->model.parameters(), 0.01, 0.5);
                ReduceLROnPlateauOptions o;
                o.patience = 0;
                o.threshold = 0.5;  // an improvement must halve the loss: the rate falls at once
                r->scheduler = std::make_unique<ReduceLROnPlateau<float>>(*r->optimizer, o);
            }
            return r;
        };
        auto full = make(11);
        train::train_epochs(*full, 4, data.d, data.rec, &ev, nullptr);
        REQUIRE_FALSE(full->diverged);
        CHECK(full->scheduler->last_epoch() == 4);
        CHECK(full->optimizer->lr() < (kind == adamw_cosine ? 2e-3 : 0.01));  // the schedule acted

        TempFile file;
        auto first = make(11);
        train::train_epochs(*first, 2, data.d, data.rec, &ev, nullptr,
                            std::function<void(train::Run<float>&)>([&](train::Run<float>& r) {
                                train::save_run(file.path, r, "mlp_1");
                            }));
        auto resumed = make(77);  // other weights and order: all replaced by the checkpoint
        train::load_run(file.path, *resumed, "mlp_1");
        CHECK(resumed->epoch == 2);
        CHECK(resumed->scheduler->last_epoch() == 2);
        CHECK(resumed->optimizer->lr() == first->optimizer->lr());
        train::train_epochs(*resumed, 4, data.d, data.rec, &ev, nullptr);
        CHECK(bits(resumed->model) == bits(full->model));
        CHECK(resumed->curves == full->curves);
        CHECK(resumed->optimizer->lr() == full->optimizer->lr());
        CHECK(resumed->scheduler->state() == full->scheduler->state());
        CHECK(resumed->scheduler->last_epoch() == 4);

        // Without the scheduler's state (a fresh one on the loaded optimizer) the run differs.
        auto naive = make(11);
        train::load_run(file.path, *naive, "mlp_1");
        if (kind == adamw_cosine)
            naive->scheduler = std::make_unique<CosineAnnealingLR<float>>(*naive->optimizer, 3, 1e-4);
        else if (kind == sgd_step)
            naive->scheduler = std::make_unique<StepLR<float>>(*naive->optimizer, 3, 0.5);
        else
            naive->scheduler = std::make_unique<ReduceLROnPlateau<float>>(*naive->optimizer);
        train::train_epochs(*naive, 4, data.d, data.rec, &ev, nullptr);
        CHECK(naive->optimizer->lr() != full->optimizer->lr());
        CHECK(bits(naive->model) != bits(full->model));
    }
}

TEST_CASE("ReduceLROnPlateau in a run steps on the epoch's mean training loss", "[scheduler][train]") {
    Data data;
    auto r = std::make_unique<train::Run<float>>();
    r->label = "plateau";
    Rng init(5);
    r->model = models::homework<float>("mlp_1", models::Activation::relu, init);
    r->rng = Rng(6);
    r->optimizer = std::make_unique<SGD<float>>(r->model.parameters(), 0.01);
    r->scheduler = std::make_unique<ReduceLROnPlateau<float>>(*r->optimizer);
    train::RecordOptions every_step{20, 1, false, false, false};  // 5 steps per epoch, all recorded
    train::Evaluator<float> ev(models::homework<float>("mlp_1"), 30);  // unused (no accuracy recorded)
    train::train_epochs(*r, 1, data.d, every_step, &ev, nullptr);
    const auto& loss = r->curve("loss");
    REQUIRE(loss.size() == 5);
    double mean = 0;
    for (double l : loss) mean += l;
    mean /= 5;
    CHECK(dynamic_cast<ReduceLROnPlateau<float>&>(*r->scheduler).best() == mean);
    // A scheduler built on another optimizer is refused.
    SGD<float> other(r->model.parameters(), 0.1);
    r->scheduler = std::make_unique<StepLR<float>>(other, 1);
    CHECK_THROWS_WITH(train::train_epochs(*r, 2, data.d, every_step, &ev, nullptr),
                      Catch::Contains("StepLR") && Catch::Contains("another optimizer"));
}
