// Data-parallel training steps of the five homework models over MPI (ann::dist), the program
// behind scripts/bench_dist.sh:
//   mpirun -np P bench_dist [--arch cnn_4] [--steps 30] [--threads 1] [--json out.json]
// Every rank runs the library's own loop, ann::train::train_epochs with TrainData::collective set
// (global batch --batch, Adam, random CIFAR-shaped images made in memory: speed does not depend on
// the pixels). Two thin wrappers time it without changing it:
//   TimedCollective  forwards to the MPI Communicator and times each sum() (per step: one flat
//                    allreduce of every gradient and the loss);
//   TimedOptimizer   forwards to Adam and times its step(); the end of step() ends a training step.
// So each step on each rank splits into
//   allreduce  time inside sum() (the transfer, plus waiting for the slowest rank);
//   adam       the optimizer step, the same full-size work on every rank (it does not shrink with P);
//   shard      the rest: zero_grad, the shard's batch filled, forward, backward, packing and
//              unpacking the flat gradient buffer.
// Per step the slowest rank (largest shard + adam) is the critical path: compute = its shard +
// adam, allreduce = its time in sum() (it arrives last, so this is close to the transfer alone);
// imbalance = slowest minus fastest rank's compute (what the others wait). Medians over the timed
// steps, each taken separately (they need not add up exactly). After the training steps the same
// bytes are allreduced alone, after a barrier, as a yardstick for the transfer.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sched.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "ann/ann.hpp"
#include "ann/dist/communicator.hpp"
#include "ann/testing/synthetic_cifar.hpp"
#include "ann/io/atomic_file.hpp"
#include "ann/train/run.hpp"
#include "cli.hpp"  // examples/cli.hpp: the option checks every program here uses
#include "machine_peak.hpp"
#include "model_flops.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// One training step on this rank, in seconds.
struct StepTimes {
    double period = 0;     // end of the previous optimizer step to the end of this one
    double allreduce = 0;  // inside Collective::sum
    double adam = 0;       // inside Optimizer::step
};

// Collects StepTimes: sum() calls add to the step in progress, the optimizer step closes it.
class StepClock {
public:
    void add_allreduce(double s) { allreduce_ += s; }
    void end_step(double adam, Clock::time_point end) {
        // Step 0 has no previous end: it is a warm-up step, never timed.
        if (started_) steps_.push_back({seconds(end - last_end_), allreduce_, adam});
        started_ = true;
        last_end_ = end;
        allreduce_ = 0;
    }
    const std::vector<StepTimes>& steps() const { return steps_; }

private:
    std::vector<StepTimes> steps_;
    double allreduce_ = 0;
    bool started_ = false;
    Clock::time_point last_end_;
};

class TimedCollective : public ann::train::Collective {
public:
    TimedCollective(ann::train::Collective& inner, StepClock& clock) : inner_(inner), clock_(clock) {}
    int rank() const override { return inner_.rank(); }
    int size() const override { return inner_.size(); }
    void sum(float* data, std::size_t n) override { timed([&] { inner_.sum(data, n); }); }
    void sum(double* data, std::size_t n) override { timed([&] { inner_.sum(data, n); }); }
    // Once per run (the initial weights), not part of a step.
    void broadcast(float* data, std::size_t n, int root) override { inner_.broadcast(data, n, root); }
    void broadcast(double* data, std::size_t n, int root) override { inner_.broadcast(data, n, root); }

private:
    template <class F>
    void timed(F f) {
        const auto t0 = Clock::now();
        f();
        clock_.add_allreduce(seconds(Clock::now() - t0));
    }
    ann::train::Collective& inner_;
    StepClock& clock_;
};

// zero_grad is the base class's (the same parameters); step() is the wrapped optimizer's.
template <class T>
class TimedOptimizer : public ann::Optimizer<T> {
public:
    TimedOptimizer(std::unique_ptr<ann::Optimizer<T>> inner, StepClock& clock)
        : ann::Optimizer<T>(inner->params(), inner->lr()), inner_(std::move(inner)), clock_(clock) {}
    void step() override {
        const auto t0 = Clock::now();
        inner_->step();
        const auto t1 = Clock::now();
        clock_.end_step(seconds(t1 - t0), t1);
    }

private:
    std::unique_ptr<ann::Optimizer<T>> inner_;
    StepClock& clock_;
};

struct Options {
    std::vector<std::string> archs;
    std::size_t steps = 30, warmup = 5, batch = 50;
    int threads = 1;
    std::string json;
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
double quantile(std::vector<double> v, double q) {  // nearest rank
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

// The smallest and the largest shard of a global batch (train/collective.hpp's shard_range).
std::pair<std::size_t, std::size_t> shard_sizes(std::size_t batch, int ranks) {
    std::size_t lo = batch, hi = 0;
    for (int r = 0; r < ranks; ++r) {
        const auto [b, e] = ann::train::shard_range(batch, r, ranks);
        lo = std::min(lo, e - b), hi = std::max(hi, e - b);
    }
    return {lo, hi};
}

// Every rank's doubles, rank after rank, on rank 0 (all ranks pass the same count).
std::vector<double> gather(ann::dist::Communicator& world, const std::vector<double>& mine) {
    std::vector<double> all(world.rank() == 0 ? mine.size() * static_cast<std::size_t>(world.size()) : 0);
    ann::dist::check(MPI_Gather(mine.data(), static_cast<int>(mine.size()), MPI_DOUBLE, all.data(),
                                static_cast<int>(mine.size()), MPI_DOUBLE, 0, world.comm()),
                     "MPI_Gather");
    return all;
}

// Times one architecture on every rank; the JSON object (rank 0 only, null elsewhere).
nlohmann::json measure(const std::string& arch, ann::dist::Communicator& world, const Options& o) {
    ann::Rng init(1);  // the same initial model on every rank (train_epochs broadcasts rank 0's anyway)
    ann::train::Run<float> run;
    run.label = "bench_dist " + arch;
    run.model = ann::models::homework<float>(arch, ann::models::Activation::relu, init);
    std::size_t params = 0;
    for (auto* p : run.model.parameters()) params += p->size();
    const bench::ModelFlops flops = bench::count_flops(run.model, ann::models::cifar_input_shape(1));
    StepClock clock;
    run.optimizer = std::make_unique<TimedOptimizer<float>>(
        std::make_unique<ann::Adam<float>>(run.model.parameters(), 1e-3), clock);
    run.rng = ann::Rng(2);

    const std::size_t total = o.warmup + o.steps;
    const auto images = ann::testing::synthetic_cifar(total * o.batch, 3);
    ann::train::TrainData d;
    d.images = &images;
    d.train.resize(images.size());
    for (std::uint32_t i = 0; i < d.train.size(); ++i) d.train[i] = i;
    TimedCollective team(world, clock);
    d.collective = &team;
    ann::train::RecordOptions rec;
    rec.batch = o.batch;
    rec.every = std::numeric_limits<std::size_t>::max();  // only step 0 (a warm-up step) records its loss
    world.barrier();
    ann::train::train_epochs<float>(run, 1, d, rec, nullptr, nullptr);  // one epoch: warm-up + timed steps
    if (clock.steps().size() != total - 1) ann::fail(arch, ": timed ", clock.steps().size(), " steps, expected ", total - 1);

    // The same bytes, allreduced alone after a barrier (the one call a step makes).
    std::vector<float> g(params + 1, 1.0f);
    std::vector<double> alone;
    for (std::size_t i = 0; i < total; ++i) {
        world.barrier();
        const auto t0 = Clock::now();
        world.sum(g.data(), g.size());
        if (i >= o.warmup) alone.push_back(seconds(Clock::now() - t0));
    }

    // Per rank: the last `steps` steps (period, allreduce, adam) and the lone allreduces.
    std::vector<double> mine;
    for (std::size_t s = o.warmup - 1; s < clock.steps().size(); ++s) {
        const StepTimes& t = clock.steps()[s];
        mine.insert(mine.end(), {t.period, t.allreduce, t.adam});
    }
    mine.insert(mine.end(), alone.begin(), alone.end());
    const std::vector<double> all = gather(world, mine);
    if (world.rank() != 0) return nullptr;

    const std::size_t P = static_cast<std::size_t>(world.size()), S = o.steps, stride = mine.size();
    auto at = [&](std::size_t r, std::size_t s, std::size_t k) { return all[r * stride + 3 * s + k]; };
    std::vector<double> step, compute, shard, adam, allreduce, imbalance, lone;
    for (std::size_t s = 0; s < S; ++s) {
        std::size_t slow = 0;
        double period = 0, cmin = 1e300, cmax = -1;
        for (std::size_t r = 0; r < P; ++r) {
            period = std::max(period, at(r, s, 0));
            const double c = at(r, s, 0) - at(r, s, 1);
            cmin = std::min(cmin, c);
            if (c > cmax) cmax = c, slow = r;
        }
        step.push_back(period);
        compute.push_back(cmax);
        adam.push_back(at(slow, s, 2));
        shard.push_back(cmax - at(slow, s, 2));
        allreduce.push_back(at(slow, s, 1));
        imbalance.push_back(cmax - cmin);
        double l = 0;
        for (std::size_t r = 0; r < P; ++r) l = std::max(l, all[r * stride + 3 * S + s]);
        lone.push_back(l);
    }
    const auto [smallest, largest] = shard_sizes(o.batch, world.size());
    nlohmann::json j;
    j["params"] = params;
    j["bytes_per_step"] = (params + 1) * sizeof(float);  // the gradients and the loss
    j["train_flops_per_step"] = flops.train_step * static_cast<double>(o.batch);
    j["shard_images"] = {smallest, largest};
    j["step_ms"] = 1e3 * median(step);
    j["step_ms_q1"] = 1e3 * quantile(step, 0.25);
    j["step_ms_q3"] = 1e3 * quantile(step, 0.75);
    j["compute_ms"] = 1e3 * median(compute);
    j["shard_ms"] = 1e3 * median(shard);
    j["adam_ms"] = 1e3 * median(adam);
    j["allreduce_ms"] = 1e3 * median(allreduce);
    j["imbalance_ms"] = 1e3 * median(imbalance);
    j["allreduce_alone_ms"] = 1e3 * median(lone);
    return j;
}

std::string mpi_library() {
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    ann::dist::check(MPI_Get_library_version(v, &len), "MPI_Get_library_version");
    std::string s(v, static_cast<std::size_t>(len));
    return s.substr(0, s.find_first_of(",\n"));
}

// Rank r's host, on every rank; how many hosts, and how many ranks share this rank's host.
struct Placement {
    std::size_t hosts = 1, ranks_here = 1;
};
Placement placement(ann::dist::Communicator& world) {
    char name[MPI_MAX_PROCESSOR_NAME];
    int len = 0;
    ann::dist::check(MPI_Get_processor_name(name, &len), "MPI_Get_processor_name");
    const std::string me(name, static_cast<std::size_t>(len));
    const auto names = world.gather(me, 0);
    std::string joined;
    for (const auto& n : names) joined += n + '\n';
    joined = world.broadcast(joined, 0);
    Placement p;
    std::set<std::string> distinct;
    p.ranks_here = 0;
    for (std::size_t at = 0, nl; (nl = joined.find('\n', at)) != std::string::npos; at = nl + 1) {
        const std::string n = joined.substr(at, nl - at);
        distinct.insert(n);
        if (n == me) ++p.ranks_here;
    }
    p.hosts = distinct.size();
    return p;
}

// The CPUs this process may run on (mpirun binds each rank to one core by default for small -np).
int cpus_allowed() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return static_cast<int>(std::thread::hardware_concurrency());
    return CPU_COUNT(&set);
}

// cli::parse, with only rank 0 speaking (every rank parses the same command line).
int parse(CLI::App& app, int argc, char** argv, bool speak) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return speak ? app.exit(e) : 0;
        if (speak) {
            std::string msg = e.what();
            for (char& c : msg)
                if (c == '\n') c = ' ';
            std::fprintf(stderr, "bench_dist: %s (see --help)\n", msg.c_str());
        }
        return 2;
    }
    return -1;
}

CLI::Validator architecture() {
    return CLI::Validator(
        [](std::string& s) {
            const auto& names = ann::models::homework_names();
            if (std::find(names.begin(), names.end(), s) != names.end()) return std::string();
            return "expected one of mlp_1, mlp_2, cnn_3, cnn_4, cnn_5, got '" + s + "'";
        },
        "mlp_1|mlp_2|cnn_3|cnn_4|cnn_5");
}

int run(int argc, char** argv) {
    ann::dist::Mpi mpi(argc, argv);
    ann::dist::Communicator world;
    const bool speak = world.rank() == 0;

    Options o;
    CLI::App app{"ann data-parallel training step over MPI: step time split into compute and allreduce, per homework "
                 "architecture (Adam, random CIFAR-shaped images). Run it under mpirun -np P; scripts/bench_dist.sh "
                 "compares P=1 with P=2."};
    app.add_option("--arch", o.archs, "architecture(s) to time, repeated or comma-separated (default: all five)")
        ->delimiter(',')
        ->check(architecture());
    app.add_option("--steps", o.steps, "timed steps per architecture (medians reported)")
        ->check(cli::whole(1, 100000))
        ->capture_default_str();
    app.add_option("--warmup", o.warmup, "untimed steps before them")->check(cli::whole(1, 10000))->capture_default_str();
    app.add_option("--batch", o.batch, "global batch, split across the ranks")
        ->check(cli::whole(1, 100000))
        ->capture_default_str();
    app.add_option("--threads", o.threads, "CPU threads per rank (ann::cpu::set_num_threads)")
        ->check(cli::whole(1, 256))
        ->capture_default_str();
    app.add_option("--json", o.json, "also write the results to this JSON file (rank 0)");
    if (int rc = parse(app, argc, argv, speak); rc >= 0) return rc;
    if (o.archs.empty()) o.archs.assign(ann::models::homework_names().begin(), ann::models::homework_names().end());

    try {
        // A --json that cannot be written is found now, not after the timings.
        std::string bad_json;
        if (speak && !o.json.empty()) {
            const std::filesystem::path dir = std::filesystem::absolute(o.json).parent_path();
            if (std::filesystem::is_directory(o.json))
                bad_json = "--json: '" + o.json + "' is a folder";
            else if (!std::filesystem::is_directory(dir))
                bad_json = "--json: folder '" + dir.string() + "' does not exist";
        }
        if (!world.all(bad_json.empty())) {
            if (speak) std::fprintf(stderr, "bench_dist: %s\n", bad_json.c_str());
            return 2;
        }

        ann::cpu::set_num_threads(o.threads);
        const Placement where = placement(world);
        const unsigned cores = std::thread::hardware_concurrency();
        int cpus = cpus_allowed();  // the fewest any rank may use
        ann::dist::check(MPI_Allreduce(MPI_IN_PLACE, &cpus, 1, MPI_INT, MPI_MIN, world.comm()), "MPI_Allreduce");
        const auto [smallest, largest] = shard_sizes(o.batch, world.size());
        if (speak) {
            std::printf("bench_dist: %d rank(s) on %zu host(s) x %d thread(s), global batch %zu (shards of %zu-%zu "
                        "images), Adam, median of %zu steps after %zu warm-up\n",
                        world.size(), where.hosts, o.threads, o.batch, smallest, largest, o.steps, o.warmup);
            std::printf("OpenBLAS core %s; %s; a rank may use %d of the host's %u CPUs\n",
                        bench::openblas_core().c_str(), mpi_library().c_str(), cpus, cores);
            if (cpus < o.threads)
                std::printf("note: a rank may run on %d CPU(s) only (its affinity: mpirun's binding) but has %d "
                            "threads: use mpirun --bind-to none or --map-by slot:PE=%d\n",
                            cpus, o.threads, o.threads);
            if (cores && where.ranks_here * static_cast<std::size_t>(o.threads) > cores)
                std::printf("note: %zu ranks x %d threads on a host with %u cores: oversubscribed, times include "
                            "waiting for a core\n",
                            where.ranks_here, o.threads, cores);
            std::printf("times in ms per step: compute = shard + adam of the slowest rank; allreduce: its time in the "
                        "sum; imbalance: slowest - fastest rank's compute; alone: the same bytes allreduced alone\n");
            std::printf("%-6s %8s %10s %9s %9s %9s %8s %9s %9s %9s\n", "arch", "params", "bytes", "step", "compute",
                        "shard", "adam", "allreduce", "imbalance", "alone");
            std::fflush(stdout);
        }
        nlohmann::json archs = nlohmann::json::object();
        for (const auto& arch : o.archs) {
            const nlohmann::json j = measure(arch, world, o);
            if (!speak) continue;
            std::printf("%-6s %8zu %10zu %9.3f %9.3f %9.3f %8.3f %9.3f %9.3f %9.3f\n", arch.c_str(),
                        j["params"].get<std::size_t>(), j["bytes_per_step"].get<std::size_t>(),
                        j["step_ms"].get<double>(), j["compute_ms"].get<double>(), j["shard_ms"].get<double>(),
                        j["adam_ms"].get<double>(), j["allreduce_ms"].get<double>(), j["imbalance_ms"].get<double>(),
                        j["allreduce_alone_ms"].get<double>());
            std::fflush(stdout);
            archs[arch] = j;
        }
        if (speak && !o.json.empty()) {
            nlohmann::json out;
            out["ranks"] = world.size();
            out["hosts"] = where.hosts;
            out["threads"] = o.threads;
            out["cpus_per_rank"] = cpus;
            out["batch"] = o.batch;
            out["steps"] = o.steps;
            out["warmup"] = o.warmup;
            out["openblas_core"] = bench::openblas_core();
            out["mpi"] = mpi_library();
            out["archs"] = archs;
            ann::io::write_file_atomic(o.json, out.dump(2) + "\n");
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_dist: rank %d of %d: %s\n", world.rank(), world.size(), e.what());
        // The other ranks may be waiting in a collective call for this one: end them all.
        if (world.size() > 1) ann::dist::Mpi::abort(2);
        return 2;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {  // MPI could not start
        std::fprintf(stderr, "bench_dist: %s\n", e.what());
        return 2;
    }
}
