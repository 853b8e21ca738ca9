// libFuzzer target for the CIFAR-10 .bin record parser (scripts/fuzz.sh cifar_records SECONDS).
// The input is parsed twice: as a file of any record count, and as a file that must hold
// exactly one record, each time appended to a set that already holds one image.
// Properties checked, besides "no crash, hang, leak or sanitizer report":
//   - the only exception parse_cifar_batch throws is ann::Error;
//   - a rejected file leaves the set exactly as it was;
//   - an accepted file appends size / 3073 images whose labels are 0..9 and whose bytes are
//     the records' bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "ann/data/cifar10.hpp"

using namespace ann;
using namespace ann::data;

namespace {

void require(bool ok) {
    if (!ok) std::abort();
}

void parse(const std::uint8_t* data, std::size_t size, std::size_t expected_records) {
    CifarSet set;
    set.labels.assign(1, 3);
    set.pixels.assign(kCifarImageBytes, 42);
    const CifarSet before = set;
    try {
        parse_cifar_batch(data, size, "input.bin", set, expected_records);
    } catch (const Error&) {
        require(set.labels == before.labels && set.pixels == before.pixels);
        return;
    }
    const std::size_t n = size / kCifarRecordBytes;
    require(size % kCifarRecordBytes == 0 && n > 0 && set.size() == 1 + n);
    require(set.pixels.size() == set.size() * kCifarImageBytes);
    require(std::memcmp(set.pixels.data(), before.pixels.data(), kCifarImageBytes) == 0);
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t* rec = data + i * kCifarRecordBytes;
        require(set.labels[1 + i] == rec[0] && rec[0] < kCifarClasses);
        require(std::memcmp(set.image(1 + i), rec + 1, kCifarImageBytes) == 0);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    parse(data, size, 0);
    parse(data, size, 1);
    return 0;
}
