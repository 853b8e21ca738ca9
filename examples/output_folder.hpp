#pragma once
// homework's results folder, taken for one run:
//   - created and probed for writing before any part runs (not after hours of training);
//   - locked (flock on the folder itself, released by the kernel however the process ends, so
//     no stale lock survives a kill): a second run into the same folder is refused;
//   - run-options.json records the options that change results: a run with other options is
//     refused instead of mixing its files with the earlier run's;
//   - temporaries a killed run left (io::remove_stale_temporaries) are removed, and said so.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string>

#include "ann/io/atomic_file.hpp"
#include "ann/io/json_file.hpp"
#include "ann/train/results_json.hpp"
#include "cli.hpp"

namespace hw {

class OutputFolder {
public:
    OutputFolder(const std::string& out, const ann::train::Json& options) {
        namespace fs = std::filesystem;
        std::error_code ec;
        fs::create_directories(out, ec);
        if (ec) ann::fail("--out ", out, ": cannot create the results folder (", ec.message(), ")");
        if (!fs::is_directory(out, ec)) ann::fail("--out ", out, ": not a folder");
        fd_ = ::open(out.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd_ < 0) ann::fail("--out ", out, ": cannot open the results folder (", ann::io::detail::errno_text(errno), ")");
        if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK)
                ann::fail("--out ", out, ": another homework run is writing this folder; wait for it to end, or use another --out");
            ann::fail("--out ", out, ": cannot lock the results folder (", ann::io::detail::errno_text(errno), ")");
        }
        for (const char* sub : {"", "part1", "part2", "part3", "part4", "part5", "checkpoints"})
            cli::remove_stale((fs::path(out) / sub).string());
        const std::string record = (fs::path(out) / "run-options.json").string();
        if (fs::exists(record, ec)) {
            const ann::train::Json had = ann::io::read_json(record);
            for (const auto& [key, value] : options.items())
                if (!had.contains(key) || had[key] != value)
                    ann::fail(record, ": the results in ", out, " were written with ", key, " = ",
                              had.contains(key) ? had[key].dump() : "(missing)", ", this run has ", value.dump(),
                              " (use the same options, another --out, or delete ", out, " to start over)");
        } else {
            try {
                ann::train::write_json_atomic(record, options);  // also proves the folder writable
            } catch (const ann::Error& e) {
                ann::fail("--out ", out, ": results folder is not writable (", e.what(), ")");
            }
        }
    }
    ~OutputFolder() {
        if (fd_ >= 0) ::close(fd_);
    }
    OutputFolder(const OutputFolder&) = delete;
    OutputFolder& operator=(const OutputFolder&) = delete;

private:
    int fd_ = -1;
};

}  // namespace hw
