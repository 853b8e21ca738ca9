#pragma once
// Homework parts 3, 4 and 5 on CIFAR-10 (see /README and docs/cifar.md). Used by the
// `homework` driver. Every run's initial weights and shuffle order come from the seed and the
// run's name alone, so running one part or one architecture alone gives the same numbers as
// running everything.
//
// Checkpoints and --resume: every training run writes <out>/checkpoints/<run>.annc at the end of
// each epoch (atomically; io/atomic_file.hpp) with its model, optimizer, order Rng and curves.
// With --resume a run whose checkpoint exists continues from it (a finished run is not trained
// again; its result file is rewritten from the checkpoint), so an interrupted `homework` run
// resumed with the same options ends with the same result files, bit for bit, as one that was
// never stopped (tests/test_resume.cpp). Part 5's lr=0.1 run and its first scheduled run also
// keep one checkpoint per epoch, which the scheduled runs start from.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "ann/ann.hpp"
#include "ann/data/batches.hpp"
#include "ann/data/cifar10.hpp"
#include "ann/data/cifar10_fetch.hpp"
#include "ann/data/split.hpp"
#include "ann/io/atomic_file.hpp"
#include "ann/train/checkpoint.hpp"
#include "ann/train/evaluate.hpp"
#include "ann/train/plateau.hpp"
#include "ann/train/progress.hpp"
#include "ann/train/results_json.hpp"
#include "ann/train/run.hpp"
#include "team.hpp"
#if ANN_EXAMPLES_WITH_ONNX
#include "ann/onnx/export.hpp"
#endif

namespace hw {

using ann::train::Json;
namespace fs = std::filesystem;

#ifndef ANN_DEFAULT_DATA_DIR
#define ANN_DEFAULT_DATA_DIR "data"
#endif

struct Options {
    std::string data_dir = ANN_DEFAULT_DATA_DIR;
    std::string archive;               // --from: extract this archive first
    std::string out = "results";
    std::vector<int> parts{3, 4, 5};
    std::vector<std::string> archs{ann::models::homework_names().begin(), ann::models::homework_names().end()};
    std::uint64_t seed = 0;
    std::size_t epochs = 15;           // parts 3 and 4
    std::size_t part5_epochs = 20;     // part 5, constant learning rates
    std::size_t schedule_epochs = 30;  // part 5, scheduled learning rate
    std::size_t batch = 50;
    std::size_t record_every = 10;
    std::size_t eval_batch = 100;
    std::size_t train_acc_images = 5000;  // 0: the whole training set
    std::size_t val_per_class = 500;
    // Subsets (0 = everything): --quick uses them.
    std::size_t train_per_class = 0;
    std::size_t test_per_class = 0;
    std::string part5_arch;            // empty: best of part 3 (not mlp_1), else cnn_4
    std::size_t switch1 = 0, switch2 = 0;  // 0: found by the plateau rule
    double plateau_tol = 0.5;
    int threads = 1;
    double progress_interval = 30;
    bool quiet = false;
    double adam_lr = 1e-3;             // part 3 (the homework: PyTorch's default, 0.001)
    bool resume = false;               // continue from <out>/checkpoints
    const std::atomic<bool>* stop = nullptr;  // raised by Ctrl-C: stop between two steps
    // Where the runs train. Not in the fingerprint: a checkpoint resumes on either device.
    ann::Device device = ann::Device::cpu;
};

// The options a checkpoint must agree with to be resumed: everything that changes numbers.
inline Json fingerprint(const Options& o) {
    return Json{{"seed", o.seed},
                {"epochs", o.epochs},
                {"part5_epochs", o.part5_epochs},
                {"schedule_epochs", o.schedule_epochs},
                {"batch", o.batch},
                {"record_every", o.record_every},
                {"eval_batch", o.eval_batch},
                {"train_acc_images", o.train_acc_images},
                {"val_per_class", o.val_per_class},
                {"train_per_class", o.train_per_class},
                {"test_per_class", o.test_per_class},
                {"switch1", o.switch1},
                {"switch2", o.switch2},
                {"plateau_tol", o.plateau_tol},
                {"threads", o.threads},
                {"adam_lr", o.adam_lr}};
}

// --quick: the same pipeline on a class-balanced subset with few epochs.
inline void make_quick(Options& o) {
    o.train_per_class = 200;  // 2000 images, 40 steps per epoch
    o.val_per_class = 50;     // 500
    o.test_per_class = 100;   // 1000
    o.train_acc_images = 500;
    o.epochs = 3;
    o.part5_epochs = 4;
    o.schedule_epochs = 6;
}

// splitmix64 over the seed and a run's name: independent streams per run, no shared state.
inline std::uint64_t derive_seed(std::uint64_t seed, const std::string& name) {
    std::uint64_t h = seed ^ 0x9E3779B97F4A7C15ull;
    auto mix = [](std::uint64_t z) {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    };
    for (unsigned char c : name) h = mix(h + c);
    return mix(h);
}

struct Prepared {
    ann::data::Cifar10 cifar;
    ann::train::TrainData data;  // into cifar.train
    ann::data::Indices test;     // into cifar.test
    std::size_t steps_per_epoch = 0;
};

inline std::unique_ptr<Prepared> prepare(const Options& o) {
    auto p = std::make_unique<Prepared>();
    const std::string dir = ann::data::ensure_cifar10(o.data_dir, o.archive);
    p->cifar = ann::data::load_cifar10(dir);
    const auto& labels = p->cifar.train.labels;
    // The validation split depends on the seed only (tools/cifar_reference.py repeats it).
    auto split = ann::data::stratified_split(labels, o.val_per_class, o.seed);
    p->data.images = &p->cifar.train;
    p->data.val = split.held_out;
    p->data.train = o.train_per_class ? ann::data::balanced_subset(labels, split.kept, o.train_per_class,
                                                                   derive_seed(o.seed, "train-subset"))
                                      : split.kept;
    if (o.train_acc_images == 0 || o.train_acc_images >= p->data.train.size())
        p->data.train_eval = p->data.train;
    else {
        if (o.train_acc_images % 10 != 0) ann::fail("--train-acc-images must be a multiple of 10 (balanced classes)");
        p->data.train_eval = ann::data::balanced_subset(labels, p->data.train, o.train_acc_images / 10,
                                                         derive_seed(o.seed, "train-eval"));
    }
    if (o.test_per_class) {
        p->test = ann::data::balanced_subset(p->cifar.test.labels, {}, o.test_per_class, derive_seed(o.seed, "test-subset"));
    } else {
        p->test.resize(p->cifar.test.size());
        for (std::uint32_t i = 0; i < p->test.size(); ++i) p->test[i] = i;
    }
    p->steps_per_epoch = ann::data::num_batches(p->data.train.size(), o.batch);
    return p;
}

using Net = ann::Sequential<float>;
using RunF = ann::train::Run<float>;

inline Net make_net(const std::string& arch, ann::models::Activation act, std::uint64_t init_seed) {
    ann::Rng rng(init_seed);
    return ann::models::homework<float>(arch, act, rng);
}

inline RunF make_run(const Options& o, const std::string& label, const std::string& arch, ann::models::Activation act,
                     const std::string& seed_name) {
    RunF r;
    r.label = label;
    r.model = make_net(arch, act, derive_seed(o.seed, seed_name + "/init"));
    r.model.to(o.device);  // before the optimizer is built: its state lives with the parameters
    r.rng = ann::Rng(derive_seed(o.seed, seed_name + "/order"));
    return r;
}

inline ann::train::Evaluator<float> make_evaluator(const Options& o, const std::string& arch, ann::models::Activation act) {
    return ann::train::Evaluator<float>(make_net(arch, act, 0), o.eval_batch);
}

inline Json curve(const std::vector<double>& c) { return Json(c); }

// ---- checkpoints -------------------------------------------------------------------------
inline std::string checkpoint_path(const Options& o, const std::string& run, std::size_t epoch = 0) {
    return (fs::path(o.out) / "checkpoints" / (run + (epoch ? "-epoch" + std::to_string(epoch) : "") + ".annc")).string();
}

// Loads a checkpoint into r after checking it was written with the same options.
inline void load_checked(const Options& o, const std::string& path, RunF& r, const std::string& arch_key) {
    const Json extra = ann::train::load_run(path, r, arch_key);
    const Json want = fingerprint(o);
    const Json have = extra.value("options", Json::object());
    for (const auto& [key, value] : want.items())
        if (!have.contains(key) || have[key] != value)
            ann::fail(path, ": written with ", key, " = ", have.contains(key) ? have[key].dump() : "(missing)",
                      ", this run has ", value.dump(), " (resume with the same options, or drop --resume to start over)");
}

// Trains r up to `until` epochs, saving a checkpoint at the end of every epoch (and when it
// diverges). With --resume and an existing checkpoint, continues from it; otherwise `start`
// (if given) prepares the fresh run. keep_epochs also keeps one checkpoint per epoch.
inline void train_run(const Options& o, RunF& r, const std::string& name, const std::string& arch_key, std::size_t until,
                      const Prepared& p, const ann::train::RecordOptions& rec, ann::train::Evaluator<float>* ev,
                      ann::train::Progress& progress, const std::function<void(RunF&)>& start = {},
                      bool keep_epochs = false) {
    const std::string path = checkpoint_path(o, name);
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    if (ec) ann::fail(fs::path(path).parent_path().string(), ": cannot create the checkpoint folder (", ec.message(), ")");
    if (o.resume && fs::exists(path)) {
        load_checked(o, path, r, arch_key);
        std::printf("%s: resuming from %s (%zu of %zu epochs done%s)\n", r.label.c_str(), path.c_str(), r.epoch, until,
                    r.diverged ? ", diverged" : "");
        std::fflush(stdout);
    } else if (start) {
        start(r);
    }
    const Json extra{{"options", fingerprint(o)}};
    // The per-epoch copy first, the run's checkpoint last: the run's checkpoint is what --resume
    // continues from, so every epoch it claims already has its copy (part 5's scheduled runs
    // start from those), whatever instant a kill strikes.
    auto save = [&](RunF& rr) {
        if (keep_epochs) ann::train::save_run(checkpoint_path(o, name, rr.epoch), rr, arch_key, extra);
        ann::train::save_run(path, rr, arch_key, extra);
    };
    const bool was_diverged = r.diverged;
    ann::train::train_epochs(r, until, p.data, rec, ev, &progress, std::function<void(RunF&)>(save), o.stop);
    if (r.diverged && !was_diverged) {
        ann::train::save_run(path, r, arch_key, extra);
        std::printf("%s diverged at step %zu (loss not finite): stopped, recorded as diverged\n", r.label.c_str(),
                    r.diverged_step);
        std::fflush(stdout);
    }
}

// Marks diverged runs in a result file: "diverged" (any run did) and the runs with their steps.
inline void mark_divergence(Json& j, const std::vector<const RunF*>& runs) {
    Json list = Json::array();
    for (const RunF* r : runs)
        if (r->diverged) list.push_back(Json{{"run", r->label}, {"step", r->diverged_step}});
    j["diverged"] = !list.empty();
    if (!list.empty()) j["diverged_runs"] = list;
}

inline Json common_keys(const Options& o, const Prepared& p) {
    return Json{{"record_every", o.record_every}, {"steps_per_epoch", p.steps_per_epoch}, {"batch_size", o.batch},
                {"seed", o.seed}, {"device", ann::to_string(o.device)},
                {"train_images", p.data.train.size()}, {"val_images", p.data.val.size()}, {"test_images", p.test.size()}};
}

inline std::string part_dir(const Options& o, int part) { return (fs::path(o.out) / ("part" + std::to_string(part))).string(); }

// ---- runs as tasks ------------------------------------------------------------------------
// Each training run (or chain of runs that depend on each other) is a Task. With several ranks
// the tasks of a phase are spread over them; whatever rank runs a task, its numbers are the same
// (seeds come from the run's name), so the result files are the same for any number of ranks.
// A task returns what rank 0 writes: {"files": [[path, content], ...]} and, for part 5's
// learning-rate runs, their curves ("rate"), which rank 0 assembles into part5_<arch>.json.
struct Task {
    std::string name;
    double cost;                // relative run time: how tasks are spread over ranks, never a result
    std::function<Json()> run;
};

inline Json file_result(const std::string& path, Json content) {
    return Json{{"files", Json::array({Json::array({path, std::move(content)})})}};
}

inline void write_files(const Json& result) {
    if (!result.contains("files")) return;
    for (const auto& f : result["files"]) ann::train::write_json_atomic(f[0].get<std::string>(), f[1]);
}

// Seconds of each architecture's runs in the 2026-11-27 full run on 2 cores (part 3; part 4, both
// activations): only the spreading of tasks over ranks depends on them.
inline double run_cost(int part, const std::string& arch) {
    static const std::map<std::string, std::pair<double, double>> t{
        {"mlp_1", {67, 13}}, {"mlp_2", {68, 13}}, {"cnn_3", {589, 205}}, {"cnn_4", {748, 291}}, {"cnn_5", {691, 277}}};
    const auto it = t.find(arch);
    const auto c = it == t.end() ? std::pair<double, double>{600, 250} : it->second;
    return part == 3 ? c.first : c.second;
}

// Which rank runs each task: longest first, each to the least loaded rank (ties: the lowest),
// deterministic for a task list and rank count, so --resume with the same -np finds every run's
// checkpoint where its rank wrote it.
inline std::vector<int> spread(const std::vector<Task>& tasks, int ranks) {
    std::vector<std::size_t> order(tasks.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return tasks[a].cost > tasks[b].cost; });
    std::vector<double> load(static_cast<std::size_t>(ranks), 0.0);
    std::vector<int> owner(tasks.size(), 0);
    for (std::size_t i : order) {
        const auto r = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
        owner[i] = static_cast<int>(r);
        load[r] += tasks[i].cost;
    }
    return owner;
}

// Runs one phase: each rank its own tasks, in list order. Rank 0 writes the files of its tasks
// as each ends, then the others' (sent when the phase ends), and gets every task's result; other
// ranks get only their own. A rank whose task fails ends the job (Team::fail_job): the others
// would wait for it forever; every finished epoch is in a checkpoint.
inline std::vector<Json> run_phase(Team& team, const std::vector<Task>& tasks) {
    const auto owner = spread(tasks, team.size());
    std::vector<Json> results(tasks.size());
    if (team.size() == 1) {
        for (std::size_t i = 0; i < tasks.size(); ++i) write_files(results[i] = tasks[i].run());
        return results;
    }
    try {
        Json mine = Json::object();
        for (std::size_t i = 0; i < tasks.size(); ++i) {
            if (owner[i] != team.rank()) continue;
            results[i] = tasks[i].run();
            if (team.root())
                write_files(results[i]);
            else
                mine[std::to_string(i)] = results[i];
        }
        const auto sent = team.gather(mine.dump());
        for (std::size_t r = 1; r < sent.size(); ++r) {
            const Json theirs = Json::parse(sent[r]);
            for (const auto& [key, value] : theirs.items()) results[std::stoul(key)] = value;
        }
        if (team.root())
            for (std::size_t i = 0; i < tasks.size(); ++i)
                if (owner[i] != 0) write_files(results[i]);
    } catch (const ann::train::Interrupted& e) {
        team.fail_job(std::string(e.what()) + "; the checkpoints of finished epochs are kept: resume with --resume", 130);
    } catch (const std::exception& e) {
        team.fail_job(e.what(), 2);
    }
    return results;
}

// ---- part 3: architectures, Adam ---------------------------------------------------------
inline Json part3_run(const Options& o, Prepared& p, const std::string& arch, ann::train::Progress& progress) {
    ann::train::RecordOptions rec{o.batch, o.record_every, true, true, false};
    RunF r = make_run(o, "part3 " + arch, arch, ann::models::Activation::relu, "part3/" + arch);
    r.optimizer = std::make_unique<ann::Adam<float>>(r.model.parameters(), o.adam_lr);
    r.epochs_planned = o.epochs;
    auto ev = make_evaluator(o, arch, ann::models::Activation::relu);
    train_run(o, r, "part3-" + arch, arch + "/relu", o.epochs, p, rec, &ev, progress);
    const double test_acc = ev.accuracy(r.model, p.cifar.test, p.test);
#if ANN_EXAMPLES_WITH_ONNX
    // The trained model for other tools (OpenCV's dnn, ONNX Runtime), next to its JSON. Written by
    // the rank that trained it (like its checkpoints): bytes, not JSON, so it does not travel to rank 0.
    {
        const std::string onnx_path = part_dir(o, 3) + "/part3_" + arch + ".onnx";
        std::error_code ec;
        fs::create_directories(part_dir(o, 3), ec);
        if (ec) ann::fail(part_dir(o, 3), ": cannot create the folder (", ec.message(), ")");
        ann::onnx::save(r.model, onnx_path, {3, 32, 32});
    }
#endif
    Json j = common_keys(o, p);
    j["name"] = arch;
    j["loss_curve"] = r.curve("loss");
    j["train_acc_curve"] = r.curve("train_acc");
    j["val_acc_curve"] = r.curve("val_acc");
    j["test_acc"] = test_acc;
    j["weights"] = ann::train::tensor_to_json(ann::train::first_layer_weight(r.model).value);
    j["num_parameters"] = r.model.num_parameters();
    j["epochs"] = o.epochs;
    j["optimizer"] = "adam lr=" + Json(o.adam_lr).dump() + " betas=(0.9, 0.999) eps=1e-8";
    mark_divergence(j, {&r});
    j["train_acc_images"] = p.data.train_eval.size();
    j["seconds"] = r.seconds;
    const std::string path = part_dir(o, 3) + "/part3_" + arch + ".json";
    std::printf("part3 %-6s test accuracy %.2f%%  (%zu parameters, %s)  -> %s\n", arch.c_str(), test_acc,
                r.model.num_parameters(), ann::train::Progress::format_time(r.seconds).c_str(), path.c_str());
    std::fflush(stdout);
    return file_result(path, std::move(j));
}

// ---- part 4: ReLU vs sigmoid, SGD lr 0.01 ------------------------------------------------
inline Json part4_run(const Options& o, Prepared& p, const std::string& arch, ann::train::Progress& progress) {
    ann::train::RecordOptions rec{o.batch, o.record_every, false, false, true};
    Json j = common_keys(o, p);
    j["name"] = arch;
    j["epochs"] = o.epochs;
    j["optimizer"] = "sgd lr=0.01 momentum=0";
    j["grad_curve_definition"] = "Frobenius norm of the step's dLoss/dW of the first layer's weight";
    double seconds = 0;
    Json diverged = Json::array();
    for (auto act : {ann::models::Activation::relu, ann::models::Activation::sigmoid}) {
        const std::string an = act == ann::models::Activation::relu ? "relu" : "sigmoid";
        RunF r = make_run(o, "part4 " + arch + " " + an, arch, act, "part4/" + arch + "/" + an);
        r.optimizer = std::make_unique<ann::SGD<float>>(r.model.parameters(), 0.01, 0.0);
        r.epochs_planned = o.epochs;
        train_run(o, r, "part4-" + arch + "-" + an, arch + "/" + an, o.epochs, p, rec, nullptr, progress);
        if (r.diverged) diverged.push_back(Json{{"run", r.label}, {"step", r.diverged_step}});
        j[an + "_loss_curve"] = r.curve("loss");
        j[an + "_grad_curve"] = r.curve("grad_norm");
        seconds += r.seconds;
    }
    j["seconds"] = seconds;
    j["diverged"] = !diverged.empty();
    if (!diverged.empty()) j["diverged_runs"] = diverged;
    const std::string path = part_dir(o, 4) + "/part4_" + arch + ".json";
    std::printf("part4 %-6s done (%s)  -> %s\n", arch.c_str(), ann::train::Progress::format_time(seconds).c_str(),
                path.c_str());
    std::fflush(stdout);
    return file_result(path, std::move(j));
}

// ---- part 5: learning rates and a scheduled learning rate --------------------------------

// Part 3's test accuracy for `arch` in this results folder, if that file exists.
inline std::optional<double> part3_test_acc(const Options& o, const std::string& arch) {
    const std::string path = part_dir(o, 3) + "/part3_" + arch + ".json";
    if (!fs::exists(path)) return std::nullopt;
    const Json j = ann::train::read_json(path);
    if (!j.contains("test_acc") || !j["test_acc"].is_number()) return std::nullopt;
    return j["test_acc"].get<double>();
}

inline std::string part5_arch(const Options& o) {
    if (!o.part5_arch.empty()) {
        if (o.part5_arch == "mlp_1") ann::fail("--part5-arch: the homework excludes mlp_1 from part 5");
        return o.part5_arch;
    }
    std::string best;
    double best_acc = -1;
    for (const auto& a : ann::models::homework_names()) {
        if (a == "mlp_1") continue;
        if (auto acc = part3_test_acc(o, a); acc && *acc > best_acc) best_acc = *acc, best = a;
    }
    return best.empty() ? "cnn_4" : best;
}

inline std::string lr_key(double lr) {
    if (lr == 0.1) return "1";
    if (lr == 0.01) return "01";
    return "001";
}

// All part-5 networks start from the same weights and see the same batch order.
inline RunF part5_fresh(const Options& o, const std::string& arch, const std::string& label, double lr) {
    RunF r = make_run(o, label, arch, ann::models::Activation::relu, "part5/" + arch);
    r.optimizer = std::make_unique<ann::SGD<float>>(r.model.parameters(), lr, 0.0);
    return r;
}

// One constant learning rate: its curves and how it ended, for part5_<arch>.json.
inline Json part5_rate(const Options& o, Prepared& p, const std::string& arch, double lr,
                       ann::train::Evaluator<float>& ev, ann::train::Progress& progress) {
    ann::train::RecordOptions rec{o.batch, o.record_every, false, true, false};
    RunF r = part5_fresh(o, arch, "part5 " + arch + " lr=" + Json(lr).dump(), lr);
    r.epochs_planned = o.part5_epochs;
    // The lr=0.1 run keeps a checkpoint per epoch: the scheduled runs start from one.
    train_run(o, r, "part5-" + arch + "-lr" + lr_key(lr), arch + "/relu", o.part5_epochs, p, rec, &ev, progress, {},
              lr == 0.1);
    return Json{{"lr", lr},           {"loss_curve", r.curve("loss")}, {"val_acc_curve", r.curve("val_acc")},
                {"seconds", r.seconds}, {"epochs_done", r.epoch},       {"diverged", r.diverged},
                {"diverged_step", r.diverged_step}, {"label", r.label}};
}

// part5_<arch>.json from the three learning rates' results (0.1, 0.01, 0.001 in that order).
inline Json part5_rates_file(const Options& o, const Prepared& p, const std::string& arch, const std::vector<Json>& rates) {
    Json j = common_keys(o, p);
    j["name"] = arch;
    j["epochs"] = o.part5_epochs;
    j["optimizer"] = "sgd momentum=0";
    double seconds = 0;
    Json diverged = Json::array();
    for (const Json& r : rates) {
        const std::string k = lr_key(r["lr"].get<double>());
        if (r["diverged"].get<bool>()) diverged.push_back(Json{{"run", r["label"]}, {"step", r["diverged_step"]}});
        j["loss_curve_" + k] = r["loss_curve"];
        j["val_acc_curve_" + k] = r["val_acc_curve"];
        seconds += r["seconds"].get<double>();
    }
    j["seconds"] = seconds;
    j["diverged"] = !diverged.empty();
    if (!diverged.empty()) j["diverged_runs"] = diverged;
    const std::string path = part_dir(o, 5) + "/part5_" + arch + ".json";
    std::printf("part5 %-6s learning rates done (%s)  -> %s\n", arch.c_str(),
                ann::train::Progress::format_time(seconds).c_str(), path.c_str());
    std::fflush(stdout);
    return file_result(path, std::move(j));
}

// The scheduled learning rate, from the lr=0.1 run's result and per-epoch checkpoints: its
// file, or none if that run diverged before the first switch.
inline Json part5_schedule(const Options& o, Prepared& p, const std::string& arch, const Json& lr01,
                           std::optional<double> test_adam, ann::train::Evaluator<float>& ev,
                           ann::train::Progress& progress) {
    const std::string key = arch + "/relu", base = "part5-" + arch;
    ann::train::RecordOptions rec{o.batch, o.record_every, false, true, false};
    const std::size_t lr01_epochs = lr01["epochs_done"].get<std::size_t>();
    const std::size_t lr01_step = lr01["diverged_step"].get<std::size_t>();
    const std::size_t E = o.schedule_epochs, spe = p.steps_per_epoch;
    if (E < 3) ann::fail("--schedule-epochs must be at least 3");
    // Each learning rate gets at least one epoch: 1 <= e1 < e2 < E.
    auto clamp = [&](std::size_t e, std::size_t lo, std::size_t hi) { return std::min(std::max(e, lo), hi); };
    std::vector<double> lr01_curve;  // accuracies: always finite, never null
    for (const auto& v : lr01["val_acc_curve"]) lr01_curve.push_back(v.get<double>());
    std::size_t e1 = o.switch1 ? o.switch1 : ann::train::plateau_epoch(lr01_curve, spe, o.record_every, 0, o.plateau_tol);
    e1 = clamp(e1, 1, E - 2);
    if (lr01_epochs < o.part5_epochs && e1 > lr01_epochs) {
        std::printf("part5 %-6s scheduled lr skipped: the lr=0.1 run diverged at step %zu, before epoch %zu\n",
                    arch.c_str(), lr01_step, e1);
        std::fflush(stdout);
        return Json::object();
    }
    if (e1 > lr01_epochs) ann::fail("switch epoch ", e1, " is after the ", lr01_epochs, " epochs of the lr=0.1 run");

    // Run a: 0.1, then 0.01 from epoch e1 (keeps a checkpoint per epoch for run b).
    RunF a = part5_fresh(o, arch, "part5 " + arch + " 0.1->0.01@" + std::to_string(e1), 0.1);
    a.epochs_planned = E;
    train_run(o, a, base + "-sched-a", key, E, p, rec, &ev, progress, [&](RunF& r) {
        load_checked(o, checkpoint_path(o, base + "-lr1", e1), r, key);
        r.optimizer->set_lr(0.01);
        r.seconds = 0;  // count this run's own training time only
    }, true);
    const std::vector<double> a_curve = a.curve("val_acc");
    const double a_seconds = a.seconds;
    const std::size_t a_epochs = a.epoch;
    std::vector<Json> runs_diverged;
    if (a.diverged) runs_diverged.push_back(Json{{"run", a.label}, {"step", a.diverged_step}});
    a = RunF();  // free its buffers before run b

    Json s = common_keys(o, p);
    s["name"] = arch;
    s["epochs"] = E;
    s["switch_epoch_1"] = e1;
    s["plateau_rule"] = "first epoch whose mean validation accuracy is within " + Json(o.plateau_tol).dump() +
                        " points of the best epoch mean after the previous switch";
    Json runs = Json::array({
        Json{{"label", "0.1 -> 0.01 at epoch " + std::to_string(e1)}, {"lrs", {0.1, 0.01}}, {"switch_epochs", {e1}},
             {"val_acc_curve", a_curve}},
    });
    double b_seconds = 0;
    std::optional<double> test_sched;
    std::size_t e2 = 0;
    if (a_epochs == E) {
        e2 = o.switch2 ? o.switch2 : ann::train::plateau_epoch(a_curve, spe, o.record_every, e1, o.plateau_tol);
        e2 = clamp(e2, e1 + 1, E - 1);
        if (e2 <= e1 || e2 >= E) ann::fail("second switch epoch ", e2, " must lie between ", e1, " and ", E);
        RunF b = part5_fresh(o, arch, "part5 " + arch + " 0.1->0.01@" + std::to_string(e1) + "->0.001@" + std::to_string(e2), 0.1);
        b.epochs_planned = E;
        train_run(o, b, base + "-sched-b", key, E, p, rec, &ev, progress, [&](RunF& r) {
            load_checked(o, checkpoint_path(o, base + "-sched-a", e2), r, key);
            r.optimizer->set_lr(0.001);
            r.seconds = 0;
        });
        if (b.diverged) runs_diverged.push_back(Json{{"run", b.label}, {"step", b.diverged_step}});
        test_sched = ev.accuracy(b.model, p.cifar.test, p.test);
        runs.push_back(Json{{"label", "0.1 -> 0.01 at epoch " + std::to_string(e1) + " -> 0.001 at epoch " + std::to_string(e2)},
                            {"lrs", {0.1, 0.01, 0.001}}, {"switch_epochs", {e1, e2}}, {"val_acc_curve", b.curve("val_acc")}});
        b_seconds = b.seconds;
    } else {
        std::printf("part5 %-6s second switch skipped: the 0.1 -> 0.01 run diverged\n", arch.c_str());
    }
    s["switch_epoch_2"] = e2 ? Json(e2) : Json(nullptr);
    s["runs"] = runs;
    s["test_acc_scheduled"] = test_sched ? Json(*test_sched) : Json(nullptr);
    s["test_acc_adam"] = test_adam ? Json(*test_adam) : Json(nullptr);
    // Training time of the two scheduled runs, each from its starting checkpoint on; with
    // --resume, including the sessions before.
    s["seconds"] = a_seconds + b_seconds;
    s["diverged"] = !runs_diverged.empty();
    if (!runs_diverged.empty()) s["diverged_runs"] = runs_diverged;
    const std::string spath = part_dir(o, 5) + "/part5_" + arch + "_scheduled.json";
    std::printf("part5 %-6s scheduled lr (0.1 -> 0.01 at epoch %zu -> 0.001 at epoch %zu): test accuracy %s, "
                "Adam (part 3) %s  -> %s\n",
                arch.c_str(), e1, e2, test_sched ? (Json(*test_sched).dump() + "%").c_str() : "none (diverged)",
                test_adam ? (Json(*test_adam).dump() + "%").c_str() : "not run", spath.c_str());
    std::fflush(stdout);
    return file_result(spath, std::move(s));
}

// Part 5's tasks: the lr=0.1 run followed by the two scheduled runs that start from its
// checkpoints (one task: they need its files), and the two other learning rates.
inline std::vector<Task> part5_tasks(const Options& o, Prepared& p, const std::string& arch, std::optional<double> test_adam,
                                     ann::train::Progress& progress) {
    const auto relu = ann::models::Activation::relu;
    std::vector<Task> tasks;
    tasks.push_back({"part5 " + arch + " lr=0.1 and the schedule", 3.0, [&o, &p, arch, test_adam, &progress, relu] {
                         auto ev = make_evaluator(o, arch, relu);
                         Json rate = part5_rate(o, p, arch, 0.1, ev, progress);
                         Json out = part5_schedule(o, p, arch, rate, test_adam, ev, progress);
                         out["rate"] = std::move(rate);
                         return out;
                     }});
    for (double lr : {0.01, 0.001})
        tasks.push_back({"part5 " + arch + " lr=" + Json(lr).dump(), 1.0, [&o, &p, arch, lr, &progress, relu] {
                             auto ev = make_evaluator(o, arch, relu);
                             return Json{{"rate", part5_rate(o, p, arch, lr, ev, progress)}};
                         }});
    return tasks;
}

// ---- summary -----------------------------------------------------------------------------
// Values read back from result files: a missing or null (diverged) entry reads as NaN.
inline double num(const Json& j, const char* key) {
    return j.contains(key) && j[key].is_number() ? j[key].get<double>() : std::nan("");
}
inline std::vector<double> nums(const Json& j, const char* key) {
    std::vector<double> out;
    if (j.contains(key) && j[key].is_array())
        for (const auto& v : j[key]) out.push_back(v.is_number() ? v.get<double>() : std::nan(""));
    return out;
}

// A markdown table built from whatever result files the folder holds.
inline std::string summary(const Options& o) {
    std::ostringstream md;
    char buf[256];
    md << "# Homework results (" << o.out << ")\n\n";
    bool any3 = false;
    for (const auto& a : ann::models::homework_names()) {
        const std::string path = part_dir(o, 3) + "/part3_" + a + ".json";
        if (!fs::exists(path)) continue;
        if (!any3) md << "## Part 3 (Adam)\n\n| architecture | parameters | test accuracy (%) | final val accuracy (%) | time |\n|---|---:|---:|---:|---:|\n";
        any3 = true;
        const Json j = ann::train::read_json(path);
        const auto val = nums(j, "val_acc_curve");
        std::snprintf(buf, sizeof buf, "| %s | %.0f | %.2f | %.2f | %s |\n", a.c_str(), num(j, "num_parameters"),
                      num(j, "test_acc"), val.empty() ? 0.0 : val.back(),
                      ann::train::Progress::format_time(num(j, "seconds")).c_str());
        md << buf;
    }
    bool any4 = false;
    for (const auto& a : ann::models::homework_names()) {
        const std::string path = part_dir(o, 4) + "/part4_" + a + ".json";
        if (!fs::exists(path)) continue;
        if (!any4) md << "\n## Part 4 (SGD 0.01): final training loss (mean of the last 10 records)\n\n| architecture | ReLU | sigmoid | time |\n|---|---:|---:|---:|\n";
        any4 = true;
        const Json j = ann::train::read_json(path);
        auto tail = [](const std::vector<double>& c) {
            const std::size_t n = std::min<std::size_t>(10, c.size());
            double s = 0;
            for (std::size_t i = c.size() - n; i < c.size(); ++i) s += c[i];
            return n ? s / n : 0.0;
        };
        std::snprintf(buf, sizeof buf, "| %s | %.4f | %.4f | %s |\n", a.c_str(),
                      tail(nums(j, "relu_loss_curve")), tail(nums(j, "sigmoid_loss_curve")),
                      ann::train::Progress::format_time(num(j, "seconds")).c_str());
        md << buf;
    }
    for (const auto& a : ann::models::homework_names()) {
        const std::string path = part_dir(o, 5) + "/part5_" + a + "_scheduled.json";
        if (!fs::exists(path)) continue;
        const Json j = ann::train::read_json(path);
        md << "\n## Part 5 (" << a << ", SGD)\n\n| training | test accuracy (%) | time |\n|---|---:|---:|\n";
        std::snprintf(buf, sizeof buf, "| scheduled 0.1 -> 0.01 at epoch %.0f -> 0.001 at epoch %.0f | %.2f | %s |\n",
                      num(j, "switch_epoch_1"), num(j, "switch_epoch_2"), num(j, "test_acc_scheduled"),
                      ann::train::Progress::format_time(num(j, "seconds")).c_str());
        md << buf;
        if (j.contains("test_acc_adam") && j["test_acc_adam"].is_number()) {
            std::snprintf(buf, sizeof buf, "| Adam (part 3) | %.2f | |\n", j["test_acc_adam"].get<double>());
            md << buf;
        }
    }
    return md.str();
}

// Unknown names and parts fail before hours of training, not after.
inline void validate(const Options& o) {
    for (int part : o.parts)
        if (part < 3 || part > 5) ann::fail("--parts: part ", part, " is not one of 3, 4, 5");
    for (const auto& a : o.archs) make_net(a, ann::models::Activation::relu, 0);
    if (!o.part5_arch.empty()) {
        make_net(o.part5_arch, ann::models::Activation::relu, 0);
        part5_arch(o);  // rejects mlp_1
    }
}

inline bool has_part(const Options& o, int part) { return std::count(o.parts.begin(), o.parts.end(), part) > 0; }

// Phase 1 holds parts 3 and 4 (independent runs); phase 2 part 5 (its architecture comes from
// part 3's results). The most ranks that can have work at once:
inline std::size_t max_parallel_runs(const Options& o) {
    const std::size_t phase1 = (has_part(o, 3) + has_part(o, 4)) * o.archs.size();
    return std::max<std::size_t>(phase1, has_part(o, 5) ? 3 : 0);
}

inline void run_all(const Options& o, Team& team) {
    ann::cpu::set_num_threads(o.threads);
    std::unique_ptr<Prepared> p;
    team.agree([&] {
        validate(o);
        p = prepare(o);
    });
    const auto t0 = std::chrono::steady_clock::now();
    if (team.root()) {
        std::printf("CIFAR-10: %zu training, %zu validation, %zu test images; %zu steps per epoch; seed %llu; %d thread(s)",
                    p->data.train.size(), p->data.val.size(), p->test.size(), p->steps_per_epoch,
                    static_cast<unsigned long long>(o.seed), o.threads);
        if (team.size() > 1) std::printf(" per rank; %d ranks", team.size());
        std::printf("\n");
        std::fflush(stdout);
    }
    ann::train::Progress progress(stderr, o.progress_interval);
    progress.set_quiet(o.quiet);

    std::vector<Task> phase1;
    for (int part : {3, 4})
        if (has_part(o, part))
            for (const auto& arch : o.archs)
                phase1.push_back({"part" + std::to_string(part) + " " + arch, run_cost(part, arch), [&o, &p, part, arch, &progress] {
                                      return part == 3 ? part3_run(o, *p, arch, progress) : part4_run(o, *p, arch, progress);
                                  }});
    run_phase(team, phase1);

    if (has_part(o, 5)) {
        // Part 5's architecture and part 3's accuracy for it, from rank 0's results folder.
        Json choice;
        if (team.root()) {
            const std::string arch = part5_arch(o);
            const auto acc = part3_test_acc(o, arch);
            choice = Json{{"arch", arch}, {"test_adam", acc ? Json(*acc) : Json(nullptr)}};
        }
        choice = Json::parse(team.from_root(choice.dump()));
        const std::string arch = choice["arch"];
        const auto test_adam =
            choice["test_adam"].is_number() ? std::optional<double>(choice["test_adam"].get<double>()) : std::nullopt;
        const auto results = run_phase(team, part5_tasks(o, *p, arch, test_adam, progress));
        if (team.root()) {
            std::vector<Json> rates;
            for (const Json& r : results) rates.push_back(r["rate"]);
            write_files(part5_rates_file(o, *p, arch, rates));
        }
    }
    if (!team.root()) return;
    const std::string md = summary(o);
    ann::io::write_file_atomic((fs::path(o.out) / "summary.md").string(), md);
    std::printf("\n%s\ntotal time %s\n", md.c_str(),
                ann::train::Progress::format_time(
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()).c_str());
}

}  // namespace hw
