// Writes the seed corpus of the checkpoint_reader fuzz target: small valid files of each kind.
//   g++ -std=c++17 -I include -I fuzz fuzz/make_corpus.cpp -lopenblas -o /tmp/make_corpus
//   /tmp/make_corpus fuzz/corpus/checkpoint_reader
#include <cstdio>
#include <string>

#include "ann/backend/cpu/backend.hpp"  // the CPU arithmetic, compiled into this program (backend/registry.hpp)
#include "ann/io/checkpoint.hpp"
#include "ann/io/model_file.hpp"
#include "ann/optim/reduce_lr_on_plateau.hpp"
#include "fuzz_model.hpp"

using namespace ann;

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_corpus OUTPUT_FOLDER\n");
        return 2;
    }
    const std::string dir = argv[1];
    try {
        auto m = fuzz::make_model(1);
        auto grads = [&] {
            float g = 0.125f;
            for (auto* p : m.parameters()) p->grad.fill(g += 0.25f);
        };
        io::save_model(dir + "/model.annm", m, fuzz::kArchitecture);
        Rng rng(3);
        const nlohmann::json loop = {{"epoch", 2}, {"step", 40}, {"loss", {2.25, 1.5}}, {"note", "seed"}};
        {
            SGD<float> sgd(m.parameters(), 0.1, 0.9);
            io::save_checkpoint(dir + "/sgd_fresh.annc", m, fuzz::kArchitecture, sgd, rng, nlohmann::json::object());
            grads(), sgd.step(), grads(), sgd.step();
            rng.normal();
            io::save_checkpoint(dir + "/sgd_stepped.annc", m, fuzz::kArchitecture, sgd, rng, loop);
        }
        {
            Adam<float> adam(m.parameters(), AdamOptions{0.01});
            grads(), adam.step(), grads(), adam.step();
            io::save_checkpoint(dir + "/adam_stepped.annc", m, fuzz::kArchitecture, adam, rng, loop);
        }
        {
            AdamW<float> adamw(m.parameters(), AdamWOptions{0.01});
            grads(), adamw.step(), grads(), adamw.step();
            io::save_checkpoint(dir + "/adamw_stepped.annc", m, fuzz::kArchitecture, adamw, rng, loop);
        }
        {
            // A version 2 checkpoint: with a scheduler section (the fuzz target's ReduceLROnPlateau).
            SGD<float> sgd(m.parameters(), 0.1, 0.9);
            ReduceLROnPlateauOptions o;
            o.patience = 2;
            o.cooldown = 1;
            ReduceLROnPlateau<float> plateau(sgd, o);
            for (double metric : {1.0, 0.5, 0.75, 0.75, 0.75}) grads(), sgd.step(), plateau.step(metric);
            io::save_checkpoint(dir + "/plateau_sgd.annc", m, fuzz::kArchitecture, sgd, rng, loop, &plateau);
        }
    } catch (const Error& e) {
        std::fprintf(stderr, "make_corpus: %s\n", e.what());
        return 2;
    }
    return 0;
}
