// A deeper CIFAR-10 network than the homework's, built from the layers, optimizer and schedule a
// user reaches for next: VGG-style blocks of Conv2d(3x3, padding 1) -> BatchNorm2d -> ReLU, global
// average pooling, Dropout, AdamW with weight decay, a cosine learning-rate schedule
// (docs/cifar.md, "Beyond the homework", has its accuracy and time next to the homework's best).
//
//   cifar_vgg_lite --from ../shared/data/cifar-10-binary.tar.gz         # 12 epochs, every core (docs/cifar.md: 85.78%, 25 min)
//   cifar_vgg_lite --epochs 2 --train-per-class 20 --test-per-class 10  # a smoke test (CI)
//
// Writes <out>/vgg_lite.annm (the trained model) and <out>/vgg_lite.json (options, per-epoch
// validation accuracy and learning rate, the loss curve, test accuracy, wall time).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "ann/ann.hpp"
#include "ann/data/cifar10_fetch.hpp"
#include "ann/data/split.hpp"
#include "ann/io/model_file.hpp"
#include "ann/optim/cosine_annealing_lr.hpp"
#include "ann/train/results_json.hpp"
#include "ann/train/run.hpp"
#include "cli.hpp"

namespace {

struct Options {
    std::string data_dir = ANN_DEFAULT_DATA_DIR, archive, out = "results-vgg-lite";
    std::size_t epochs = 12, batch = 128, threads = 0, train_per_class = 0, val_per_class = 100, test_per_class = 0;
    std::uint64_t seed = 0;
    double lr = 2e-3, weight_decay = 5e-2, dropout = 0.3;
    bool quiet = false;
};

// 32x32 -> [32, 32] -> pool 16 -> [64, 64] -> pool 8 -> [128, 128] -> pool 4 -> global average -> 10.
template <class T>
ann::Sequential<T> vgg_lite(double dropout, ann::Rng& rng) {
    ann::Sequential<T> m;
    std::size_t in = 3;
    for (const std::size_t width : {32, 64, 128}) {
        for (int rep = 0; rep < 2; ++rep) {
            // No conv bias: the batch norm right after it subtracts any constant again.
            m.template emplace<ann::Conv2d<T>>(in, width, 3, 1, 1, false, rng);
            m.template emplace<ann::BatchNorm2d<T>>(width);
            m.template emplace<ann::ReLU<T>>();
            in = width;
        }
        m.template emplace<ann::MaxPool2d<T>>(2);
    }
    m.template emplace<ann::AdaptiveAvgPool2d<T>>(1);
    m.template emplace<ann::Flatten<T>>();
    m.template emplace<ann::Dropout<T>>(dropout, rng);
    m.template emplace<ann::Linear<T>>(in, 10, true, rng);
    return m;
}

int train(const Options& o) {
    if (o.threads) ann::cpu::set_num_threads(o.threads);
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(o.out, ec);
    if (ec || !fs::is_directory(o.out)) ann::fail("--out ", o.out, ": cannot create the folder (", ec.message(), ")");

    const auto cifar = ann::data::load_cifar10(ann::data::ensure_cifar10(o.data_dir, o.archive));
    const auto& labels = cifar.train.labels;
    const auto split = ann::data::stratified_split(labels, o.val_per_class, o.seed);
    ann::train::TrainData data;
    data.images = &cifar.train;
    data.val = split.held_out;
    data.train = o.train_per_class ? ann::data::balanced_subset(labels, split.kept, o.train_per_class, o.seed + 1)
                                   : split.kept;
    const ann::data::Indices test =
        o.test_per_class ? ann::data::balanced_subset(cifar.test.labels, {}, o.test_per_class, o.seed + 2)
                         : ann::data::Indices{};
    ann::data::Indices all_test(cifar.test.size());
    for (std::uint32_t i = 0; i < all_test.size(); ++i) all_test[i] = i;

    ann::train::Run<float> run;
    run.label = "vgg_lite";
    ann::Rng init(o.seed);
    run.model = vgg_lite<float>(o.dropout, init);
    std::printf("%s", run.model.summary({o.batch, 3, 32, 32}).c_str());
    ann::AdamWOptions adamw;
    adamw.lr = o.lr;
    adamw.weight_decay = o.weight_decay;
    run.optimizer = std::make_unique<ann::AdamW<float>>(run.model.parameters(), adamw);
    run.scheduler = std::make_unique<ann::CosineAnnealingLR<float>>(*run.optimizer, static_cast<long>(o.epochs));
    run.rng = ann::Rng(o.seed + 3);
    run.epochs_planned = o.epochs;

    ann::train::RecordOptions rec;
    rec.batch = o.batch;
    rec.every = 20;  // the loss curve
    ann::Rng eval_init(0);
    ann::train::Evaluator<float> ev(vgg_lite<float>(o.dropout, eval_init), 500);
    ann::train::Progress progress;
    progress.set_quiet(o.quiet);
    std::vector<double> val_acc, lrs;  // after each epoch
    ann::train::train_epochs<float>(run, o.epochs, data, rec, &ev, &progress, [&](ann::train::Run<float>& r) {
        lrs.push_back(r.optimizer->lr());
        if (!data.val.empty()) val_acc.push_back(ev.accuracy(r.model, cifar.train, data.val));
        if (!o.quiet && !val_acc.empty())
            std::printf("epoch %zu: validation accuracy %.2f%%, next learning rate %.3g\n", r.epoch, val_acc.back(),
                        lrs.back());
    });
    if (run.diverged) ann::fail("training diverged at step ", run.diverged_step, " (try a smaller --lr)");

    const auto t0 = std::chrono::steady_clock::now();
    const double test_acc = ev.accuracy(run.model, cifar.test, o.test_per_class ? test : all_test);
    const double test_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("vgg_lite: test accuracy %.2f%% on %zu images; training %.0f s (%zu steps), test pass %.1f s\n",
                test_acc, (o.test_per_class ? test : all_test).size(), run.seconds, run.step, test_seconds);

    ann::io::save_model(o.out + "/vgg_lite.annm", run.model, "vgg_lite");
    ann::train::Json j;
    j["options"] = {{"epochs", o.epochs}, {"batch", o.batch}, {"lr", o.lr}, {"weight_decay", o.weight_decay},
                    {"dropout", o.dropout}, {"seed", o.seed}, {"train_images", data.train.size()},
                    {"val_images", data.val.size()}, {"threads", ann::cpu::num_threads()}};
    j["optimizer"] = "AdamW, CosineAnnealingLR(T_max=epochs)";
    j["parameters"] = run.model.num_parameters();
    j["val_acc_per_epoch"] = val_acc;
    j["lr_after_epoch"] = lrs;
    j["loss"] = run.curve("loss");
    j["test_acc"] = test_acc;
    j["test_images"] = (o.test_per_class ? test : all_test).size();
    j["train_seconds"] = run.seconds;
    j["test_seconds"] = test_seconds;
    ann::train::write_json_atomic(o.out + "/vgg_lite.json", j);
    std::printf("wrote %s/vgg_lite.annm and %s/vgg_lite.json\n", o.out.c_str(), o.out.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"Trains a VGG-style CIFAR-10 network with BatchNorm2d, Dropout, AdamW and a cosine schedule"};
    app.add_option("--data", o.data_dir, "CIFAR-10 folder (extracted from --from or ANN_SHARED_DATA if missing)")
        ->capture_default_str();
    app.add_option("--from", o.archive, "Extract this cifar-10-binary.tar.gz into the data folder first");
    app.add_option("--out", o.out, "Results folder")->capture_default_str();
    app.add_option("--epochs", o.epochs, "Epochs (the cosine schedule spans them)")
        ->check(cli::whole(1, 10000))->capture_default_str();
    app.add_option("--batch", o.batch, "Training batch")->check(cli::whole(1, 4096))->capture_default_str();
    app.add_option("--lr", o.lr, "AdamW's initial learning rate")->check(cli::number(1e-8, 10))->capture_default_str();
    app.add_option("--weight-decay", o.weight_decay, "AdamW's decoupled weight decay")
        ->check(cli::number(0, 10))->capture_default_str();
    app.add_option("--dropout", o.dropout, "Dropout before the classifier")->check(cli::number(0, 0.99))
        ->capture_default_str();
    app.add_option("--seed", o.seed, "Seed of the split, the weights, dropout and the batch order")
        ->check(cli::whole(0, UINT64_MAX))->capture_default_str();
    app.add_option("--threads", o.threads, "Worker threads (0: every core)")->check(cli::whole(0, 1024));
    app.add_option("--train-per-class", o.train_per_class, "Training images per class (0: all 49,000 after validation)")
        ->check(cli::whole(0, 5000))->capture_default_str();
    app.add_option("--val-per-class", o.val_per_class, "Validation images per class, held out of training")
        ->check(cli::whole(0, 1000))->capture_default_str();
    app.add_option("--test-per-class", o.test_per_class, "Test images per class (0: all 10,000)")
        ->check(cli::whole(0, 1000))->capture_default_str();
    app.add_flag("--quiet", o.quiet, "No progress lines");
    if (const int rc = cli::parse(app, argc, argv, "cifar_vgg_lite"); rc >= 0) return rc;
    return cli::run("cifar_vgg_lite", [&] { train(o); });
}
