// libFuzzer target for the archive reader (scripts/fuzz.sh tar_gz SECONDS): the tar parser
// (read_tar) on the raw input, and the whole gzip + tar path (read_tar_gz, as used to extract
// CIFAR-10) on the input as a file. The file lives in a memfd, so no disk is touched.
// Properties checked, besides "no crash, hang, leak or sanitizer report":
//   - the only exception either throws is ann::Error;
//   - every regular member delivers exactly the bytes its header announced, in order, and
//     members are reported only for regular-file types;
//   - a reader that hands out its data in small, uneven pieces gives the same outcome and the
//     same members as one that hands it out whole (truncation handling does not depend on
//     how reads are split);
//   - with a byte budget (max_bytes, as the CIFAR-10 extraction passes), no member is reported
//     whose declared size would take the stream past it: hostile sizes are refused up front.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "ann/data/tar_gz.hpp"

using namespace ann;
using namespace ann::data;

namespace {

void require(bool ok) {
    if (!ok) std::abort();
}

struct Outcome {
    bool ok = true;
    std::vector<std::string> paths;
    std::vector<std::uint64_t> sizes;
    bool operator==(const Outcome& o) const { return ok == o.ok && paths == o.paths && sizes == o.sizes; }
};

// Collects members; checks each delivers its announced size.
template <class Run>
Outcome collect(Run run) {
    Outcome out;
    std::uint64_t got = 0, want = 0;
    bool open = false;
    auto close = [&] {
        if (open) require(got == want);
        open = false;
    };
    try {
        run([&](const TarEntry& e) -> SinkFn {
            close();
            require(e.type == '0' || e.type == '\0' || e.type == '7');
            out.paths.push_back(e.path);
            out.sizes.push_back(e.size);
            // Skip every third member, as a caller that wants only some files does.
            if (out.paths.size() % 3 == 0) return {};
            open = true;
            got = 0;
            want = e.size;
            return [&](const char* d, std::size_t n) {
                require(d != nullptr || n == 0);
                got += n;
                require(got <= want);
            };
        });
        close();
    } catch (const Error&) {
        out.ok = false;
    }
    return out;
}

Outcome tar_over(const std::uint8_t* data, std::size_t size, std::size_t piece,
                 std::uint64_t max_bytes = std::numeric_limits<std::uint64_t>::max()) {
    std::size_t pos = 0, turn = 0;
    return collect([&](const auto& on_file) {
        read_tar(
            [&](void* buf, std::size_t n) {
                std::size_t k = std::min(n, size - pos);
                if (piece) k = std::min(k, piece + (turn++ % 3));  // uneven short reads
                std::memcpy(buf, data + pos, k);
                pos += k;
                return k;
            },
            "input.tar", on_file, max_bytes);
    });
}

int memfd() {
    static const int fd = memfd_create("fuzz.tar.gz", 0);
    require(fd >= 0);
    return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const Outcome whole = tar_over(data, size, 0);
    const Outcome pieces = tar_over(data, size, 7);
    // A partial member may have delivered some bytes before truncation was noticed, so only
    // the member lists of accepted archives must agree exactly.
    require(whole.ok == pieces.ok);
    if (whole.ok) require(whole == pieces);
    // A budget from the first bytes: every member reported fits in it, headers included.
    if (size >= 2) {
        const std::uint64_t budget = 512 * (1 + ((data[0] | (data[1] << 8)) % 64));
        const Outcome capped = tar_over(data, size, 0, budget);
        std::uint64_t used = 0;
        for (std::uint64_t s : capped.sizes) used += 512 + (s + 511) / 512 * 512;
        require(used <= budget);
        if (whole.ok && capped.ok) require(capped == whole);
    }

    const int fd = memfd();
    require(ftruncate(fd, 0) == 0);
    require(pwrite(fd, data, size, 0) == static_cast<ssize_t>(size));
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    collect([&](const auto& on_file) { read_tar_gz(path, on_file); });
    return 0;
}
