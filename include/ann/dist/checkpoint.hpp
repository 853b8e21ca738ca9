#pragma once
// Checkpoints of a data-parallel run (train/checkpoint.hpp's format, unchanged). Every process
// holds the same run, so process 0 alone writes it, through the atomic writer; to resume, process
// 0 reads the file and sends its bytes to the others, so the ranks need no shared file system.
// A failure on process 0 (disk full, a damaged file) is thrown on every process with its message.
//
// The file records the number of processes that wrote it: the gradient sums are grouped by
// process, so resuming with another count would not continue the same numbers; that is refused.
#include <exception>
#include <string>

#include <nlohmann/json.hpp>

#include "ann/dist/communicator.hpp"
#include "ann/train/checkpoint.hpp"

namespace ann::dist {

namespace detail {
// Runs f on process 0; its exception, if any, is rethrown as ann::Error on every process.
template <class F>
void on_root(Communicator& c, F&& f) {
    std::string error;
    if (c.rank() == 0) {
        try {
            f();
        } catch (const std::exception& e) {
            error = e.what();
            if (error.empty()) error = "unknown error";
        }
    }
    error = c.broadcast(error, 0);
    if (!error.empty()) fail(error);
}
}  // namespace detail

template <class T>
void save_run(Communicator& c, const std::string& path, train::Run<T>& r, const std::string& architecture,
              nlohmann::json extra = nlohmann::json::object()) {
    extra["processes"] = c.size();
    detail::on_root(c, [&] { train::save_run(path, r, architecture, extra); });
}

template <class T>
nlohmann::json load_run(Communicator& c, const std::string& path, train::Run<T>& r, const std::string& architecture) {
    std::string bytes;
    detail::on_root(c, [&] { bytes = io::read_file(path); });
    bytes = c.broadcast(std::move(bytes), 0);
    nlohmann::json extra = train::load_run_bytes(bytes, path, r, architecture);
    const int written = extra.value("processes", 1);
    if (written != c.size())
        fail(path, ": written by a data-parallel run on ", written, " process(es), this run has ", c.size(),
             "; the gradient sums would be grouped differently (resume with mpirun -np ", written, ", or start over)");
    return extra;
}

}  // namespace ann::dist
