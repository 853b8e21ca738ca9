// Homework parts 3, 4 and 5 (CIFAR-10) in one command:
//   homework                    the full homework protocol (hours on a laptop CPU)
//   homework --quick            the same pipeline on a small subset with few epochs (minutes)
//   homework --parts 3 --archs cnn_4,mlp_1 --epochs 2
// Results go to results/part3/, part4/, part5/ (JSON, layout in docs/cifar.md) and
// results/summary.md. Errors: one line on stderr, exit code 2.
#include <cstdio>
#include <cstdlib>

#include <CLI/CLI.hpp>

#include "cifar_homework.hpp"

int main(int argc, char** argv) {
    hw::Options o;
    if (const char* env = std::getenv("ANN_DATA")) o.data_dir = env;
    bool quick = false;
    CLI::App app{"EE449 HW1 parts 3-5 on CIFAR-10: architectures (Adam), ReLU vs sigmoid (SGD), learning rates "
                 "and a scheduled learning rate (SGD)."};
    app.add_flag("--quick", quick,
                 "Same pipeline on a subset (2000 training / 500 validation / 1000 test images), 3 epochs "
                 "(parts 3, 4), 4 (part 5), 6 (schedule); explicit epoch options still apply");
    app.add_option("--parts", o.parts, "Parts to run, in order (3, 4, 5)")->delimiter(',')->capture_default_str();
    app.add_option("--archs", o.archs, "Architectures for parts 3 and 4 (mlp_1,mlp_2,cnn_3,cnn_4,cnn_5)")
        ->delimiter(',')->capture_default_str();
    app.add_option("--data", o.data_dir,
                   "Data folder holding cifar-10-batches-bin/ (extracted there from --from or "
                   "$ANN_SHARED_DATA/cifar-10-binary.tar.gz if missing; env ANN_DATA)")->capture_default_str();
    app.add_option("--from", o.archive, "Extract this cifar-10-binary.tar.gz into the data folder first");
    app.add_option("--out", o.out, "Results folder")->capture_default_str();
    app.add_option("--seed", o.seed, "Seed of the validation split, the initial weights and the batch order")
        ->capture_default_str();
    app.add_option("--threads", o.threads, "BLAS threads (same seed + same threads => same results)")
        ->check(CLI::Range(1, 256))->capture_default_str();
    auto* ep = app.add_option("--epochs", o.epochs, "Epochs of parts 3 and 4")->check(CLI::PositiveNumber)->capture_default_str();
    auto* ep5 = app.add_option("--part5-epochs", o.part5_epochs, "Epochs of part 5's constant learning rates")
        ->check(CLI::PositiveNumber)->capture_default_str();
    auto* eps = app.add_option("--schedule-epochs", o.schedule_epochs, "Epochs of part 5's scheduled learning rate")
        ->check(CLI::Range(3, 100000))->capture_default_str();
    auto* tai = app.add_option("--train-acc-images", o.train_acc_images,
                   "Training accuracy is measured on a fixed class-balanced subset of this many training "
                   "images (0: the whole training set)")->capture_default_str();
    app.add_option("--record-every", o.record_every, "Record curves every this many steps (the homework: 10)")
        ->check(CLI::PositiveNumber)->capture_default_str();
    app.add_option("--eval-batch", o.eval_batch, "Batch size of evaluation passes")->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--part5-arch", o.part5_arch,
                   "Part 5's architecture (default: the best of part 3 by test accuracy, mlp_1 excluded, "
                   "else cnn_4)");
    app.add_option("--switch1", o.switch1, "Epoch to go from 0.1 to 0.01 (default: found by the plateau rule)");
    app.add_option("--switch2", o.switch2, "Epoch to go from 0.01 to 0.001 (default: found by the plateau rule)");
    app.add_option("--plateau-tol", o.plateau_tol,
                   "Plateau rule: first epoch whose mean validation accuracy is within this many points of "
                   "the best")->check(CLI::NonNegativeNumber)->capture_default_str();
    app.add_option("--progress-interval", o.progress_interval,
                   "Seconds between progress lines when stderr is not a terminal")->capture_default_str();
    app.add_flag("--quiet", o.quiet, "No progress lines");
    try {
        app.parse(argc, argv);
        if (quick) {
            // Explicit options win over --quick's defaults.
            hw::Options q = o;
            hw::make_quick(q);
            if (!ep->count()) o.epochs = q.epochs;
            if (!ep5->count()) o.part5_epochs = q.part5_epochs;
            if (!eps->count()) o.schedule_epochs = q.schedule_epochs;
            if (!tai->count()) o.train_acc_images = q.train_acc_images;
            o.train_per_class = q.train_per_class;
            o.val_per_class = q.val_per_class;
            o.test_per_class = q.test_per_class;
        }
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);
        std::fprintf(stderr, "homework: %s (see --help)\n", e.what());
        return 2;
    }
    try {
        hw::run_all(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "homework: %s\n", e.what());
        return 2;
    }
    return 0;
}
