#pragma once
// MPI for ann (optional: CMake target ann::dist, ANN_WITH_MPI; nothing else includes this).
//
//   int main(int argc, char** argv) {
//       ann::dist::Mpi mpi(argc, argv);            // MPI_Init .. MPI_Finalize (RAII)
//       ann::dist::Communicator world;             // MPI_COMM_WORLD
//       data.collective = &world;                  // train_epochs: data-parallel over all ranks
//   }
// Launch with mpirun / srun (docs/distributed.md). Every MPI call is checked: a failure throws
// ann::Error naming the call and MPI's own message (MPI_COMM_WORLD returns errors instead of
// aborting, so the caller can say what it was doing).
#include <mpi.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "ann/core/error.hpp"
#include "ann/train/collective.hpp"

namespace ann::dist {

inline void check(int rc, const char* call) {
    if (rc == MPI_SUCCESS) return;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) len = 0;
    fail(call, " failed: ", len ? std::string(msg, static_cast<std::size_t>(len)) : "error " + std::to_string(rc));
}

// MPI for the lifetime of this object (one per program, in main). Threads: only the thread that
// made it calls MPI (MPI_THREAD_FUNNELED); the CPU backend's pool never does.
class Mpi {
public:
    Mpi(int& argc, char**& argv) {
        int done = 0;
        check(MPI_Initialized(&done), "MPI_Initialized");
        if (done) fail("MPI is already initialized: make one ann::dist::Mpi, in main");
        int provided = 0;
        check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
        check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    }
    ~Mpi() {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (!finalized) MPI_Finalize();
    }
    Mpi(const Mpi&) = delete;
    Mpi& operator=(const Mpi&) = delete;

    // Ends every process of the job at once (a rank that cannot go on, so that the others do not
    // wait for it forever); mpirun reports the code.
    [[noreturn]] static void abort(int code) {
        MPI_Abort(MPI_COMM_WORLD, code);
        std::_Exit(code);
    }
};

// True when this process was started by an MPI launcher (mpirun, mpiexec, srun with PMI/PMIx):
// a plain start is one process and needs no MPI at all.
inline bool launched_by_mpi() {
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
        if (const char* s = std::getenv(v); s && *s) return true;
    return false;
}

class Communicator : public train::Collective {
public:
    explicit Communicator(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {
        check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
        check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
    }
    int rank() const override { return rank_; }
    int size() const override { return size_; }
    MPI_Comm comm() const { return comm_; }

    void sum(float* data, std::size_t n) override { allreduce(data, n, MPI_FLOAT); }
    void sum(double* data, std::size_t n) override { allreduce(data, n, MPI_DOUBLE); }
    void broadcast(float* data, std::size_t n, int root) override { bcast(data, n, MPI_FLOAT, root); }
    void broadcast(double* data, std::size_t n, int root) override { bcast(data, n, MPI_DOUBLE, root); }

    void barrier() { check(MPI_Barrier(comm_), "MPI_Barrier"); }

    // Process root's string, on every process.
    std::string broadcast(std::string s, int root) {
        std::uint64_t n = s.size();
        bcast(&n, 1, MPI_UINT64_T, root);
        s.resize(n);
        bcast(s.data(), n, MPI_CHAR, root);
        return s;
    }

    // Every process's string, in rank order, on process root (empty elsewhere).
    std::vector<std::string> gather(const std::string& s, int root) {
        const std::uint64_t mine = s.size();
        std::vector<std::uint64_t> sizes(rank_ == root ? static_cast<std::size_t>(size_) : 0);
        check(MPI_Gather(&mine, 1, MPI_UINT64_T, sizes.data(), 1, MPI_UINT64_T, root, comm_), "MPI_Gather");
        std::vector<std::string> out;
        if (rank_ != root) {
            send(s, root);
            return out;
        }
        out.resize(static_cast<std::size_t>(size_));
        for (int r = 0; r < size_; ++r) {
            if (r == root) {
                out[static_cast<std::size_t>(r)] = s;
                continue;
            }
            auto& t = out[static_cast<std::size_t>(r)];
            t.resize(sizes[static_cast<std::size_t>(r)]);
            recv(t, r);
        }
        return out;
    }

    // True on every process if `ok` is true on every process.
    bool all(bool ok) {
        int v = ok ? 1 : 0;
        check(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_LAND, comm_), "MPI_Allreduce");
        return v != 0;
    }

private:
    // MPI counts are int: long buffers go in chunks (a model with over 2^31 parameters).
    static constexpr std::size_t kChunk = static_cast<std::size_t>(std::numeric_limits<int>::max());

    template <class V>
    void allreduce(V* data, std::size_t n, MPI_Datatype type) {
        for (std::size_t at = 0; at < n; at += kChunk)
            check(MPI_Allreduce(MPI_IN_PLACE, data + at, static_cast<int>(std::min(kChunk, n - at)), type, MPI_SUM, comm_),
                  "MPI_Allreduce");
    }
    template <class V>
    void bcast(V* data, std::size_t n, MPI_Datatype type, int root) {
        for (std::size_t at = 0; at < n; at += kChunk)
            check(MPI_Bcast(data + at, static_cast<int>(std::min(kChunk, n - at)), type, root, comm_), "MPI_Bcast");
    }
    void send(const std::string& s, int to) {
        for (std::size_t at = 0; at < s.size(); at += kChunk)
            check(MPI_Send(s.data() + at, static_cast<int>(std::min(kChunk, s.size() - at)), MPI_CHAR, to, kTag, comm_),
                  "MPI_Send");
    }
    void recv(std::string& s, int from) {
        for (std::size_t at = 0; at < s.size(); at += kChunk)
            check(MPI_Recv(s.data() + at, static_cast<int>(std::min(kChunk, s.size() - at)), MPI_CHAR, from, kTag, comm_,
                           MPI_STATUS_IGNORE),
                  "MPI_Recv");
    }
    static constexpr int kTag = 4490;

    MPI_Comm comm_;
    int rank_ = 0, size_ = 1;
};

}  // namespace ann::dist
