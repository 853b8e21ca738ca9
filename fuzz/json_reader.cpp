// libFuzzer target for the JSON reader of results files and checkpoint loop states
// (scripts/fuzz.sh json_reader SECONDS): io::parse_json on the input, and the homework result
// readers (viz::read_part3/4/5/read_scheduled, as plot_results uses them) on it as a file.
// Properties checked, besides "no crash, hang, leak, stack overflow or sanitizer report":
//   - the only exception thrown is ann::Error;
//   - an accepted value is nested at most io::kMaxJsonDepth deep and holds no string longer
//     than io::kMaxJsonString;
//   - an accepted result's name is an architecture name, never a path.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "ann/io/json_file.hpp"
#include "ann/viz/results.hpp"

using namespace ann;

namespace {

void require(bool ok) {
    if (!ok) std::abort();
}

// Depth of a value (a scalar is 0), iteratively: the value may be as deep as the cap allows.
int depth_and_strings_ok(const nlohmann::json& root) {
    int deepest = 0;
    std::vector<std::pair<const nlohmann::json*, int>> todo{{&root, 0}};
    while (!todo.empty()) {
        auto [v, d] = todo.back();
        todo.pop_back();
        if (v->is_string()) require(v->get_ref<const std::string&>().size() <= io::kMaxJsonString);
        if (!v->is_structured()) continue;
        deepest = std::max(deepest, d + 1);
        for (auto it = v->begin(); it != v->end(); ++it) {
            if (v->is_object()) require(it.key().size() <= io::kMaxJsonString);
            todo.push_back({&*it, d + 1});
        }
    }
    return deepest;
}

void safe_name(const std::string& n) {
    require(!n.empty() && n.size() <= 64 && n.find('/') == std::string::npos && n.find('.') == std::string::npos);
}

template <class F>
void only_ann_errors(F&& f) {
    try {
        f();
    } catch (const Error&) {
    }
}

int memfd() {
    static const int fd = memfd_create("fuzz.json", 0);
    require(fd >= 0);
    return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    only_ann_errors([&] { require(depth_and_strings_ok(io::parse_json(text, "input.json")) <= io::kMaxJsonDepth); });
    const int fd = memfd();
    require(ftruncate(fd, 0) == 0);
    require(pwrite(fd, data, size, 0) == static_cast<ssize_t>(size));
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    only_ann_errors([&] { safe_name(viz::read_part3(path).name); });
    only_ann_errors([&] { safe_name(viz::read_part4(path).name); });
    only_ann_errors([&] { safe_name(viz::read_part5(path).name); });
    only_ann_errors([&] {
        const auto r = viz::read_scheduled(path);
        safe_name(r.name);
        for (const auto& run : r.runs) require(run.label.size() <= 256);
    });
    return 0;
}
