// The whole homework in one command, parts 1 to 5 in order:
//   homework                    the full homework protocol (1 h 25 min with 2 cores of a recent x86 CPU)
//   homework --quick            the same pipeline on a small subset with few epochs (minutes)
//   homework --parts 3 --archs cnn_4,mlp_1 --epochs 2
//   homework --quick --resume   continue an interrupted run from its last checkpoints
//   mpirun -np 2 homework       the training runs spread over 2 processes (docs/distributed.md)
// Results go to results/part1/ .. part5/ (PNG figures, JSON; layout in docs/cifar.md) and
// results/summary.md; checkpoints to results/checkpoints/. Errors: one line on stderr, exit
// code 2 (bad inputs and their handling: docs/robustness.md). Ctrl-C stops between two training
// steps, says how to resume, and exits with code 130.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "ann/io/shell_quote.hpp"
#include "ann/io/signals.hpp"
#include "ann/viz/homework.hpp"
#include "cifar_homework.hpp"
#include "cli.hpp"
#include "device.hpp"
#include "output_folder.hpp"
#include "part1.hpp"
#include "part2.hpp"
#include "team.hpp"

namespace {

std::atomic<bool> g_stop{false};

// The command line again, with --resume added if it was not there: what to type to resume
// (each word quoted for sh, so paths with spaces or quotes paste back as they were).
std::string resume_command(int argc, char** argv) {
    std::string cmd;
    bool has = false;
    for (int i = 0; i < argc; ++i) {
        has = has || std::string(argv[i]) == "--resume";
        cmd += (i ? " " : "") + ann::io::shell_quote(argv[i]);
    }
    return has ? cmd : cmd + " --resume";
}

}  // namespace

int main(int argc, char** argv) {
    // The course data sits in ../shared/data next to the repository (tests, CI and this
    // workplace keep it there); ANN_SHARED_DATA overrides it.
    if (const char* env = std::getenv("ANN_SHARED_DATA"); !env || !*env) {
        const std::string shared = std::string(ANN_REPO_ROOT) + "/../shared/data";
        std::error_code ec;
        if (std::filesystem::is_directory(shared, ec)) setenv("ANN_SHARED_DATA", shared.c_str(), 1);
    }
    std::unique_ptr<hw::Team> team;
    try {
        team = std::make_unique<hw::Team>(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "homework: %s\n", e.what());
        return 2;
    }
    hw::Options o;
    // Every core by default, shared by the ranks on this machine: results do not depend on the
    // thread count (each image is computed by one thread; docs/robustness.md), so there is no
    // reason to leave a core idle.
    const unsigned cores = std::clamp(std::thread::hardware_concurrency(), 1u, 256u);
    o.threads = static_cast<int>(std::max(1u, cores / static_cast<unsigned>(team->local_size())));
    if (const char* env = std::getenv("ANN_DATA")) o.data_dir = env;
    bool quick = false;
    o.parts = {1, 2, 3, 4, 5};
    part2::Options p2;
    CLI::App app{"EE449 HW1, parts 1-5: activations and an XOR MLP (1), my_conv2d (2), and on CIFAR-10: "
                 "architectures with Adam (3), ReLU vs sigmoid with SGD (4), learning rates and a scheduled "
                 "learning rate (5). Figures for every part."};
    app.add_flag("--quick", quick,
                 "Same pipeline on a subset (2000 training / 500 validation / 1000 test images), 3 epochs "
                 "(parts 3, 4), 4 (part 5), 6 (schedule); explicit epoch options still apply");
    app.add_option("--parts", o.parts, "Parts to run, in order (1, 2, 3, 4, 5)")->delimiter(',')->capture_default_str();
    app.add_option("--archs", o.archs, "Architectures for parts 3 and 4 (mlp_1,mlp_2,cnn_3,cnn_4,cnn_5)")
        ->delimiter(',')->capture_default_str();
    app.add_option("--data", o.data_dir,
                   "Data folder holding cifar-10-batches-bin/ (extracted there from --from or "
                   "$ANN_SHARED_DATA/cifar-10-binary.tar.gz if missing; env ANN_DATA)")->capture_default_str();
    app.add_option("--from", o.archive, "Extract this cifar-10-binary.tar.gz into the data folder first");
    auto* out_opt = app.add_option("--out", o.out, "Results folder (--quick: results-quick); it records the options "
                                   "that change results (run-options.json) and refuses a run with others")
                        ->capture_default_str();
    app.add_option("--hw1-data", p2.data_dir, "Part 2: folder with samples_X.npy and kernel.npy")->capture_default_str();
    app.add_option("--digit", p2.digit, "Part 2: X in samples_X.npy")->check(cli::whole(0, 9))->capture_default_str();
    app.add_option("--seed", o.seed, "Seed of the validation split, the initial weights and the batch order")
        ->check(cli::whole(0, UINT64_MAX))
        ->capture_default_str();
    app.add_option("--threads", o.threads, "Worker threads (default: the number of cores, divided among the MPI ranks on "
                   "this machine); --resume needs the same value")
        ->check(cli::whole(1, 256))->capture_default_str();
    auto* ep = app.add_option("--epochs", o.epochs, "Epochs of parts 3 and 4")->check(cli::whole(1, 100000))->capture_default_str();
    auto* ep5 = app.add_option("--part5-epochs", o.part5_epochs, "Epochs of part 5's constant learning rates")
        ->check(cli::whole(1, 100000))->capture_default_str();
    auto* eps = app.add_option("--schedule-epochs", o.schedule_epochs, "Epochs of part 5's scheduled learning rate")
        ->check(cli::whole(3, 100000))->capture_default_str();
    auto* tai = app.add_option("--train-acc-images", o.train_acc_images,
                   "Training accuracy is measured on a fixed class-balanced subset of this many training "
                   "images (0: the whole training set)")->check(cli::whole(0, 50000))->capture_default_str();
    app.add_option("--record-every", o.record_every, "Record curves every this many steps (the homework: 10)")
        ->check(cli::whole(1, 1000000))->capture_default_str();
    app.add_option("--eval-batch", o.eval_batch, "Batch size of evaluation passes")->check(cli::whole(1, 10000))
        ->capture_default_str();
    app.add_option("--part5-arch", o.part5_arch,
                   "Part 5's architecture (default: the best of part 3 by test accuracy, mlp_1 excluded, "
                   "else cnn_4)");
    app.add_option("--switch1", o.switch1, "Epoch to go from 0.1 to 0.01 (default: found by the plateau rule)")
        ->check(cli::whole(0, 100000));
    app.add_option("--switch2", o.switch2, "Epoch to go from 0.01 to 0.001 (default: found by the plateau rule)")
        ->check(cli::whole(0, 100000));
    app.add_option("--plateau-tol", o.plateau_tol,
                   "Plateau rule: first epoch whose mean validation accuracy is within this many points of "
                   "the best")->check(cli::number(0, 100))->capture_default_str();
    app.add_option("--progress-interval", o.progress_interval,
                   "Seconds between progress lines when stderr is not a terminal")
        ->check(cli::number(0, 1e9))->capture_default_str();
    app.add_flag("--quiet", o.quiet, "No progress lines");
    auto* tpc = app.add_option("--train-per-class", o.train_per_class,
                               "Train on a class-balanced subset of this many images per class (0: all; --quick: 200)")
                    ->check(cli::whole(0, 5000));
    auto* vpc = app.add_option("--val-per-class", o.val_per_class, "Validation images per class (--quick: 50)")
                    ->check(cli::whole(1, 4999))->capture_default_str();
    auto* spc = app.add_option("--test-per-class", o.test_per_class,
                               "Test on a class-balanced subset of this many images per class (0: all; --quick: 100)")
                    ->check(cli::whole(0, 1000));
    app.add_option("--adam-lr", o.adam_lr, "Part 3's Adam learning rate (the homework: 0.001; an absurd one, "
                   "e.g. 1e30, makes the runs diverge, as tests/test_resume.cpp does on purpose)")
        ->check(cli::number(0, 1e30))->capture_default_str();
    app.add_flag("--resume", o.resume,
                 "Continue from the checkpoints in <out>/checkpoints (written at every epoch end) with the same "
                 "options; finished runs are not trained again");
    std::string device = "cpu";
    app.add_option("--device", device, hw::kDeviceHelp)->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
    bool fast_nondeterministic = false;
    app.add_flag("--fast-nondeterministic", fast_nondeterministic,
                 "--device cuda: let cuDNN pick its fastest algorithms even where they are not deterministic "
                 "(same seed, slightly different runs)");
    if (const int rc = cli::parse(app, argc, argv, "homework"); rc >= 0) return rc;
    {
        if (quick) {
            // Explicit options win over --quick's defaults.
            hw::Options q = o;
            hw::make_quick(q);
            if (!ep->count()) o.epochs = q.epochs;
            if (!ep5->count()) o.part5_epochs = q.part5_epochs;
            if (!eps->count()) o.schedule_epochs = q.schedule_epochs;
            if (!tai->count()) o.train_acc_images = q.train_acc_images;
            if (!tpc->count()) o.train_per_class = q.train_per_class;
            if (!vpc->count()) o.val_per_class = q.val_per_class;
            if (!spc->count()) o.test_per_class = q.test_per_class;
            // Its own folder by default: a later full run into results/ is not refused for
            // holding results of other options.
            if (!out_opt->count()) o.out = "results-quick";
        }
    }
    try {
        hw::Team& t = *team;
        hw::Options cifar = o;
        std::optional<hw::OutputFolder> folder;
        // Everything that can be wrong before training, checked on every rank; a failure on any
        // rank ends all of them with its message (Team::agree).
        t.agree([&] {
            o.device = hw::select_device(device, fast_nondeterministic);
            if (t.size() > 1 && o.device != ann::Device::cpu)
                ann::fail("--device ", device, " with ", t.size(), " ranks: the ranks spread the runs over CPUs only");
            for (int part : o.parts)
                if (part < 1 || part > 5) ann::fail("--parts: part ", part, " is not one of 1, 2, 3, 4, 5");
            cifar = o;
            cifar.parts.clear();
            for (int part : o.parts) {
                if (part >= 3) cifar.parts.push_back(part);
            }
            if (!cifar.parts.empty()) hw::validate(cifar);  // bad names fail before parts 1-2 run
            if (t.size() > 1 && static_cast<std::size_t>(t.size()) > hw::max_parallel_runs(cifar))
                ann::fail(t.size(), " ranks, but with these options at most ", hw::max_parallel_runs(cifar),
                          " training runs can run at once (parts 3 and 4: one per architecture and part; part 5: 3); "
                          "use at most that many ranks");
        });
        hw::Json recorded = hw::fingerprint(o);
        recorded["digit"] = p2.digit;
        // The thread count does not change results (docs/robustness.md); --resume still checks it.
        recorded.erase("threads");
        t.agree([&] {
            // Every rank must run the same homework (mpirun's MPMD form could give them others).
            const std::string root_options = t.from_root(recorded.dump());
            if (root_options != recorded.dump())
                ann::fail("its options differ from rank 0's (", root_options, " there, ", recorded.dump(), " here)");
            // Fails now, not after hours, if --out is unusable, another run writes it, or it holds
            // results of other options; removes what killed runs left there. Rank 0 owns the folder.
            if (t.root()) folder.emplace(o.out, recorded);
        });
        g_stop.store(false);
        // Ctrl-C stops between two training steps; a second one ends the program at once.
        ann::io::on_signal_request_stop(&g_stop);
        cifar.stop = &g_stop;
        for (int part : o.parts) {
            if (!t.root()) break;  // parts 1 and 2 take seconds: rank 0 runs them
            if (g_stop.load()) throw ann::train::Interrupted("part " + std::to_string(part), 0);
            if (part == 1) {
                std::printf("== part 1: activation functions and an MLP on XOR\n");
                part1::Options p1;
                p1.out = o.out + "/part1";
                p1.seed = o.seed;
                part1::run(p1);
            } else if (part == 2) {
                std::printf("== part 2: my_conv2d on samples_%d.npy\n", p2.digit);
                p2.out = o.out + "/part2";
                part2::run(p2);
            }
        }
        std::fflush(stdout);
        if (!cifar.parts.empty()) hw::run_all(cifar, t);
        if (t.root())
            for (const auto& f : ann::viz::write_homework_figures(o.out)) std::printf("wrote %s\n", f.c_str());
    } catch (const ann::train::Interrupted& e) {
        std::fflush(stdout);
        std::fprintf(stderr,
                     "homework: interrupted (%s); the checkpoints of finished epochs are in %s/checkpoints.\n"
                     "resume with: %s\n",
                     e.what(), o.out.c_str(), resume_command(argc, argv).c_str());
        return 130;
    } catch (const hw::TeamError& e) {
        if (team->root()) std::fprintf(stderr, "homework: %s\n", e.what());  // every rank knows it: said once
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "homework: %s\n", e.what());
        return 2;
    }
    return 0;
}
