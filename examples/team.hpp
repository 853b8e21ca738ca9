#pragma once
// The processes running one homework: one, or the ranks of `mpirun -np N homework ...`
// (docs/distributed.md). Started without an MPI launcher, the program is one process and never
// initializes MPI; started by one in a build without MPI, it refuses (N copies of the whole
// homework would race for one results folder).
//
// agree(f): every process runs f; if any fails, every process throws TeamError with the failures
// of all ranks ("rank 1: data/...: no such file"), printed once by rank 0. Used for everything
// before training starts (options, results folder, data), so a bad input on one rank ends the
// job cleanly instead of leaving the others waiting.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ann/core/error.hpp"

#if ANN_EXAMPLES_WITH_MPI
#include "ann/dist/communicator.hpp"
#endif

namespace hw {

// A failure every rank knows of; rank 0 reports it.
struct TeamError : ann::Error {
    using ann::Error::Error;
};

class Team {
public:
    Team() = default;  // one process, no MPI
    Team(int& argc, char**& argv) {
#if ANN_EXAMPLES_WITH_MPI
        if (ann::dist::launched_by_mpi()) {
            mpi_ = std::make_unique<ann::dist::Mpi>(argc, argv);
            world_ = std::make_unique<ann::dist::Communicator>();
        }
#else
        (void)argc, (void)argv;
        for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
            if (const char* s = std::getenv(v); s && std::atoi(s) > 1)
                ann::fail("started by an MPI launcher with ", s, " processes, but this homework was built without MPI "
                          "(scripts/bootstrap.sh installs Open MPI; then rebuild)");
#endif
    }

    int rank() const {
#if ANN_EXAMPLES_WITH_MPI
        if (world_) return world_->rank();
#endif
        return 0;
    }
    int size() const {
#if ANN_EXAMPLES_WITH_MPI
        if (world_) return world_->size();
#endif
        return 1;
    }
    bool root() const { return rank() == 0; }

    // Processes of this job on this machine (they share its cores).
    int local_size() const {
        if (const char* s = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE"); s && std::atoi(s) > 0) return std::atoi(s);
        return size();
    }

    // Every rank's string, in rank order, on rank 0 (empty elsewhere).
    std::vector<std::string> gather(const std::string& s) {
#if ANN_EXAMPLES_WITH_MPI
        if (world_) return world_->gather(s, 0);
#endif
        return {s};
    }
    // Rank 0's string, on every rank.
    std::string from_root(std::string s) {
#if ANN_EXAMPLES_WITH_MPI
        if (world_) return world_->broadcast(std::move(s), 0);
#endif
        return s;
    }

    void agree(const std::function<void()>& f) {
        std::string error;
        try {
            f();
        } catch (const TeamError&) {
            throw;
        } catch (const std::exception& e) {
            error = e.what();
            if (error.empty()) error = "unknown error";
        }
        if (size() == 1) {
            if (!error.empty()) throw TeamError(error);
            return;
        }
        std::string all;
        if (root()) {
            // The same failure everywhere (an option) is said once; others name their ranks.
            const auto errors = gather(error);
            const bool same = std::all_of(errors.begin(), errors.end(), [&](const std::string& e) { return e == errors[0]; });
            for (std::size_t r = 0; r < errors.size() && !(same && r > 0); ++r)
                if (!errors[r].empty())
                    all += (all.empty() ? "" : "\n") + (same ? errors[r] : "rank " + std::to_string(r) + ": " + errors[r]);
        } else {
            gather(error);
        }
        all = from_root(all);
        if (!all.empty()) throw TeamError(all);
    }

    // A rank that cannot go on in the middle of training: says why and ends the whole job (the
    // others would wait for its results forever). Its finished epochs are in the checkpoints.
    [[noreturn]] void fail_job(const std::string& why, int code) {
        std::fprintf(stderr, "homework: rank %d of %d: %s\n", rank(), size(), why.c_str());
        std::fflush(stderr);
#if ANN_EXAMPLES_WITH_MPI
        if (world_) ann::dist::Mpi::abort(code);
#endif
        std::exit(code);
    }

private:
#if ANN_EXAMPLES_WITH_MPI
    std::unique_ptr<ann::dist::Mpi> mpi_;
    std::unique_ptr<ann::dist::Communicator> world_;
#endif
};

}  // namespace hw
