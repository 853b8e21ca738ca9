// Data-parallel training over MPI ranks (ann/dist), run by ctest under mpirun with 1, 2 and 3
// ranks. Every rank also trains the same run alone (no Collective) and compares:
//   - the summed gradient of a step against the single-process one, within the bound derived in
//     docs/distributed.md: |g_P - g_1| <= 2 gamma_N sum_n |g_n| per element (g_n: image n's term);
//   - whole runs (several epochs, Adam, accuracy curves) against the single-process run;
//   - checkpoint and resume under MPI (bit-identical), and a resume with another rank count refused.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "ann/ann.hpp"
#include "ann/dist/checkpoint.hpp"
#include "ann/dist/communicator.hpp"
#include "ann/testing/synthetic_cifar.hpp"
#include "ann/train/checkpoint.hpp"
#include "ann/train/run.hpp"

namespace {

using ann::dist::Communicator;

ann::dist::Communicator* g_world = nullptr;

template <class T>
ann::Sequential<T> small_cnn(std::uint64_t seed) {
    ann::Rng rng(seed);
    ann::Sequential<T> net;
    net.template emplace<ann::Conv2d<T>>(3, 4, 3, 1, 0, true, rng);
    net.template emplace<ann::ReLU<T>>();
    net.template emplace<ann::MaxPool2d<T>>(2);
    net.template emplace<ann::Conv2d<T>>(4, 8, 5, 1, 0, true, rng);
    net.template emplace<ann::ReLU<T>>();
    net.template emplace<ann::MaxPool2d<T>>(2);
    net.template emplace<ann::Flatten<T>>();
    net.template emplace<ann::Linear<T>>(8 * 5 * 5, 16, true, rng);
    net.template emplace<ann::Sigmoid<T>>();
    net.template emplace<ann::Linear<T>>(16, 10, true, rng);
    return net;
}

ann::data::Indices iota(std::size_t n) {
    ann::data::Indices v(n);
    for (std::uint32_t i = 0; i < n; ++i) v[i] = i;
    return v;
}

template <class T>
ann::train::Run<T> make_run(std::uint64_t seed, bool adam) {
    ann::train::Run<T> r;
    r.label = "dist test";
    r.model = small_cnn<T>(seed);
    if (adam)
        r.optimizer = std::make_unique<ann::Adam<T>>(r.model.parameters(), 1e-3);
    else
        r.optimizer = std::make_unique<ann::SGD<T>>(r.model.parameters(), 0.05, 0.0);
    r.rng = ann::Rng(seed + 1);
    return r;
}

template <class T>
void train(ann::train::Run<T>& r, std::size_t until, const ann::train::TrainData& d, const ann::train::RecordOptions& rec,
           ann::train::Evaluator<T>* ev = nullptr) {
    ann::train::train_epochs(r, until, d, rec, ev, nullptr);
}

template <class T>
std::vector<T> values(ann::Sequential<T>& m, bool grads) {
    std::vector<T> out;
    for (auto* p : m.parameters()) {
        const T* d = (grads ? p->grad : p->value).data();
        out.insert(out.end(), d, d + p->size());
    }
    return out;
}

constexpr double gamma(std::size_t n, double u) { return static_cast<double>(n) * u / (1 - static_cast<double>(n) * u); }

// One step of batch N: the data-parallel gradient against the single-process one, per element,
// within 2 gamma_N sum_n |g_n|, where g_n is image n's own term (its gradient with the loss
// divided by N), computed one image at a time by the same kernels.
template <class T>
void check_one_step(std::size_t N) {
    Communicator& world = *g_world;
    const auto images = ann::testing::synthetic_cifar(N, 11);
    ann::train::TrainData d;
    d.images = &images;
    d.train = iota(N);
    ann::train::RecordOptions rec{N, 1, false, false, true};

    auto alone = make_run<T>(5, false);
    train(alone, 1, d, rec);
    auto team = make_run<T>(5, false);
    d.collective = &world;
    train(team, 1, d, rec);
    d.collective = nullptr;

    // Premise of the bound: an image's forward values do not depend on which images share its batch.
    auto probe = make_run<T>(5, false);
    ann::Array<T> x;
    std::vector<long> y;
    const auto order = ann::data::epoch_order(d.train, probe.rng);  // the step's batch order
    ann::data::fill_batch(images, order.data(), N, x, y);
    const ann::Array<T> batch_logits = probe.model.forward(x);
    const std::vector<T> whole(batch_logits.data(), batch_logits.data() + batch_logits.size());

    std::vector<double> abs_terms(values(probe.model, true).size(), 0.0);
    ann::CrossEntropyLoss<T> ce;
    for (std::size_t n = 0; n < N; ++n) {
        ann::data::fill_batch(images, order.data() + n, 1, x, y);
        probe.optimizer->zero_grad();
        const ann::Array<T>& z = probe.model.forward(x);
        for (std::size_t k = 0; k < 10; ++k) REQUIRE(z.data()[k] == whole[n * 10 + k]);
        ce.forward_shard(z, y, N);
        probe.model.backward(ce.backward());
        const auto g = values(probe.model, true);
        for (std::size_t i = 0; i < g.size(); ++i) abs_terms[i] += std::abs(static_cast<double>(g[i]));
    }
    const double u = std::numeric_limits<T>::epsilon() / 2;
    const auto g1 = values(alone.model, true), gp = values(team.model, true);
    REQUIRE(g1.size() == gp.size());
    double worst = 0;  // largest |difference| / bound
    for (std::size_t i = 0; i < g1.size(); ++i) {
        const double diff = std::abs(static_cast<double>(gp[i]) - static_cast<double>(g1[i]));
        const double bound = 2 * gamma(N, u) * abs_terms[i];
        if (diff > bound) FAIL("gradient element " << i << ": |difference| " << diff << " > bound " << bound);
        if (bound > 0) worst = std::max(worst, diff / bound);
    }
    // The recorded loss and the first layer's gradient norm are the same numbers, rounded.
    CHECK(team.curve("loss")[0] == Approx(alone.curve("loss")[0]).epsilon(1e-6));
    CHECK(team.curve("grad_norm")[0] == Approx(alone.curve("grad_norm")[0]).epsilon(1e-5));
    if (world.rank() == 0)
        std::printf("one step, N=%zu, %d ranks, %s: largest |difference| = %.3g of the bound\n", N, world.size(),
                    sizeof(T) == 4 ? "float" : "double", worst);
}

}  // namespace

TEST_CASE("shard_range gives every item to exactly one rank, in order", "[dist]") {
    for (std::size_t n : {0u, 1u, 2u, 7u, 50u, 10000u})
        for (int p = 1; p <= 5; ++p) {
            std::size_t next = 0;
            for (int r = 0; r < p; ++r) {
                const auto [lo, hi] = ann::train::shard_range(n, r, p);
                CHECK(lo == next);
                CHECK(hi - lo <= n / static_cast<std::size_t>(p) + 1);
                next = hi;
            }
            CHECK(next == n);
        }
    CHECK_THROWS_WITH(ann::train::shard_range(10, 3, 3), Catch::Contains("rank 3 of 3"));
}

TEST_CASE("Communicator: sums, broadcasts and gathers across the ranks", "[dist]") {
    Communicator& c = *g_world;
    std::vector<double> v{1.0, static_cast<double>(c.rank())};
    c.sum(v.data(), v.size());
    CHECK(v[0] == c.size());
    CHECK(v[1] == c.size() * (c.size() - 1) / 2.0);
    std::vector<float> b{static_cast<float>(c.rank() + 7)};
    c.broadcast(b.data(), 1, c.size() - 1);
    CHECK(b[0] == static_cast<float>(c.size() + 6));
    CHECK(c.broadcast(c.rank() == 0 ? std::string("from rank 0") : std::string(), 0) == "from rank 0");
    const auto all = c.gather(std::string(static_cast<std::size_t>(c.rank()), 'x'), 0);
    if (c.rank() == 0) {
        REQUIRE(all.size() == static_cast<std::size_t>(c.size()));
        for (int r = 0; r < c.size(); ++r) CHECK(all[static_cast<std::size_t>(r)] == std::string(static_cast<std::size_t>(r), 'x'));
    } else {
        CHECK(all.empty());
    }
    CHECK(c.all(true));
    CHECK_FALSE(c.all(c.rank() != c.size() - 1));
}

TEST_CASE("one data-parallel step: gradients within the regrouping bound of single-process training", "[dist]") {
    check_one_step<float>(12);
    check_one_step<float>(7);  // shards of unequal size (and an empty one beyond 7 ranks)
    check_one_step<double>(12);
}

TEST_CASE("one rank (MPI_COMM_SELF) trains bit for bit like no Collective at all", "[dist]") {
    Communicator self(MPI_COMM_SELF);
    const auto images = ann::testing::synthetic_cifar(48, 3);
    ann::train::TrainData d;
    d.images = &images;
    d.train = iota(40);
    d.val = {40, 41, 42, 43, 44, 45, 46, 47};
    ann::train::RecordOptions rec{12, 2, false, true, true};
    ann::train::Evaluator<float> ev(small_cnn<float>(0), 5);
    auto alone = make_run<float>(9, true), team = make_run<float>(9, true);
    train(alone, 2, d, rec, &ev);
    d.collective = &self;
    train(team, 2, d, rec, &ev);
    CHECK(values(team.model, false) == values(alone.model, false));
    CHECK(team.curves == alone.curves);
}

TEST_CASE("whole data-parallel runs follow the single-process run (Adam, 4 epochs, accuracy curves)", "[dist]") {
    Communicator& world = *g_world;
    const auto images = ann::testing::synthetic_cifar(60, 4);
    ann::train::TrainData d;
    d.images = &images;
    d.train = iota(48);
    d.val = {48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59};
    ann::train::RecordOptions rec{12, 2, false, true, false};
    ann::train::Evaluator<float> ev(small_cnn<float>(0), 5);
    auto alone = make_run<float>(21, true), team = make_run<float>(21, true);
    train(alone, 4, d, rec, &ev);
    d.collective = &world;
    train(team, 4, d, rec, &ev);
    // Not a derived bound: 16 Adam steps amplify the per-step rounding differences; this says how
    // far they went (docs/distributed.md).
    const auto w1 = values(alone.model, false), wp = values(team.model, false);
    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < w1.size(); ++i) {
        worst = std::max(worst, std::abs(static_cast<double>(wp[i]) - w1[i]));
        scale = std::max(scale, std::abs(static_cast<double>(w1[i])));
    }
    CHECK(worst <= 1e-5 * scale);
    const auto& l1 = alone.curve("loss");
    const auto& lp = team.curve("loss");
    REQUIRE(l1.size() == lp.size());
    for (std::size_t i = 0; i < l1.size(); ++i) CHECK(lp[i] == Approx(l1[i]).epsilon(1e-5));
    CHECK(team.curve("val_acc") == alone.curve("val_acc"));
    // Every rank holds the same run.
    std::vector<double> mine{wp.begin(), wp.end()}, sum = mine;
    world.sum(sum.data(), sum.size());
    for (std::size_t i = 0; i < mine.size(); ++i) REQUIRE(sum[i] == Approx(mine[i] * world.size()).epsilon(1e-12));
    if (world.rank() == 0) std::printf("4 epochs of Adam, %d ranks: largest weight difference %.3g (largest weight %.3g)\n",
                                       world.size(), worst, scale);
}

TEST_CASE("a model with buffers (BatchNorm2d, Dropout) stays identical on every rank; running statistics are means",
          "[dist]") {
    Communicator& world = *g_world;
    // 50 images in batches of 12: the last batch (2 images) leaves a third rank without any.
    const auto images = ann::testing::synthetic_cifar(50, 6);
    ann::train::TrainData d;
    d.images = &images;
    d.train = iota(50);
    d.collective = &world;
    ann::train::Run<float> r;
    r.label = "bn dist";
    ann::Rng init(31);
    r.model.emplace<ann::Conv2d<float>>(3, 4, 3, 1, 1, false, init);
    r.model.emplace<ann::BatchNorm2d<float>>(4);
    r.model.emplace<ann::ReLU<float>>();
    r.model.emplace<ann::AdaptiveAvgPool2d<float>>(1);
    r.model.emplace<ann::Flatten<float>>();
    r.model.emplace<ann::Dropout<float>>(0.25, init);
    r.model.emplace<ann::Linear<float>>(4, 10, true, init);
    r.optimizer = std::make_unique<ann::Adam<float>>(r.model.parameters(), 1e-2);
    r.rng = ann::Rng(32);
    ann::train::RecordOptions rec{12, 1, false, false, false};
    train(r, 2, d, rec);
    // Every rank holds the same parameters and buffers (the sum over ranks is P times its own),
    // and Dropout's counter counted every step exactly, also where a rank had no images: 2 epochs
    // of 5 steps.
    std::vector<double> mine;
    for (auto* p : r.model.parameters()) mine.insert(mine.end(), p->value.begin(), p->value.end());
    for (auto* b : r.model.buffers()) mine.insert(mine.end(), b->value.begin(), b->value.end());
    std::vector<double> sum = mine;
    world.sum(sum.data(), sum.size());
    for (std::size_t i = 0; i < mine.size(); ++i) REQUIRE(sum[i] == mine[i] * world.size());
    CHECK(static_cast<ann::Dropout<float>&>(r.model[5]).forward_count() == 10);
    // The running variance moved from its start (1) and stayed a variance.
    const auto& var = static_cast<ann::BatchNorm2d<float>&>(r.model[1]).running_var().value;
    for (float v : var) CHECK((v >= 0.f && v != 1.f));
}

TEST_CASE("with Dropout, the ranks draw the single-process masks between them: the runs agree", "[dist]") {
    Communicator& world = *g_world;
    const auto images = ann::testing::synthetic_cifar(50, 8);
    ann::train::TrainData d;
    d.images = &images;
    d.train = iota(50);
    auto make = [] {
        ann::train::Run<float> r;
        r.label = "dropout dist";
        ann::Rng init(41);
        r.model.emplace<ann::Conv2d<float>>(3, 4, 5, 1, 0, true, init);
        r.model.emplace<ann::ReLU<float>>();
        r.model.emplace<ann::MaxPool2d<float>>(4);
        r.model.emplace<ann::Flatten<float>>();
        r.model.emplace<ann::Dropout<float>>(0.5, init);
        r.model.emplace<ann::Linear<float>>(4 * 7 * 7, 10, true, init);
        r.optimizer = std::make_unique<ann::Adam<float>>(r.model.parameters(), 1e-3);
        r.rng = ann::Rng(42);
        return r;
    };
    ann::train::RecordOptions rec{12, 1, false, false, false};
    auto alone = make(), team = make();
    train(alone, 2, d, rec);
    d.collective = &world;
    train(team, 2, d, rec);
    // Other masks would change the losses by far more than the regrouped sums' rounding.
    const auto& l1 = alone.curve("loss");
    const auto& lp = team.curve("loss");
    REQUIRE(l1.size() == lp.size());
    for (std::size_t i = 0; i < l1.size(); ++i) CHECK(lp[i] == Approx(l1[i]).epsilon(1e-5));
}

TEST_CASE("checkpoint and resume under MPI: rank 0 writes, every rank resumes, bit for bit", "[dist]") {
    Communicator& world = *g_world;
    const std::string path = "dist_checkpoint_np" + std::to_string(world.size()) + ".annc";
    const auto images = ann::testing::synthetic_cifar(36, 8);
    ann::train::TrainData d;
    d.images = &images;
    d.train = iota(36);
    d.collective = &world;
    ann::train::RecordOptions rec{12, 1, false, false, true};
    auto straight = make_run<float>(33, true);
    train(straight, 3, d, rec);

    auto first = make_run<float>(33, true);
    train(first, 1, d, rec);
    ann::dist::save_run(world, path, first, "small_cnn");
    auto resumed = make_run<float>(99, true);  // other initial weights: all of it comes from the file
    ann::dist::load_run(world, path, resumed, "small_cnn");
    train(resumed, 3, d, rec);
    CHECK(values(resumed.model, false) == values(straight.model, false));
    CHECK(resumed.curves == straight.curves);

    // A checkpoint written by another number of processes is refused on every rank, naming both.
    if (world.rank() == 0) ann::train::save_run(path, first, "small_cnn", {{"processes", world.size() + 1}});
    world.barrier();
    auto other = make_run<float>(33, true);
    CHECK_THROWS_WITH(ann::dist::load_run(world, path, other, "small_cnn"),
                      Catch::Contains(std::to_string(world.size() + 1) + " process(es), this run has " +
                                      std::to_string(world.size())) &&
                          Catch::Contains("resume with mpirun -np"));
    // A missing file: rank 0's error, on every rank.
    world.barrier();
    if (world.rank() == 0) std::filesystem::remove(path);
    world.barrier();
    CHECK_THROWS_WITH(ann::dist::load_run(world, path, other, "small_cnn"), Catch::Contains(path));
}

int main(int argc, char** argv) {
    ann::dist::Mpi mpi(argc, argv);
    Communicator world;
    g_world = &world;
    const int failed = Catch::Session().run(argc, argv);
    // Every rank's verdict counts: a test that failed on one rank fails the job.
    return world.all(failed == 0) ? 0 : 1;
}
