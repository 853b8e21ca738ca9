// libFuzzer target for the .npy parser (scripts/fuzz.sh npy_reader SECONDS).
// Properties checked, besides "no crash, hang, leak or sanitizer report":
//   - the only exception parse_npy throws is ann::Error;
//   - an accepted array holds exactly size() * itemsize data bytes;
//   - it converts to a tensor of that many elements, and expect() with its own dtype passes;
//   - float64 and uint8 arrays re-encode (npy_bytes) to a file that parses back to the same
//     shape and bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "ann/data/npy.hpp"

using namespace ann;

namespace {

void require(bool ok) {
    if (!ok) std::abort();
}

template <class T>
void round_trip(const data::NpyArray& a) {
    const Tensor<T> t = a.to_tensor<T>();
    const std::string again = data::npy_bytes<T>(t);
    const data::NpyArray b =
        data::parse_npy(reinterpret_cast<const unsigned char*>(again.data()), again.size(), "re-encoded");
    require(b.type == a.type && b.shape == a.shape && b.bytes == a.bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    data::NpyArray a;
    try {
        a = data::parse_npy(data, size, "input.npy");
    } catch (const Error&) {
        return 0;
    }
    require(a.bytes.size() == a.size() * data::npy_itemsize(a.type));
    a.expect(a.type, a.shape.size());
    const Tensor<double> t = a.to_tensor<double>();
    require(t.size() == a.size());
    if (a.type == data::NpyType::f8) round_trip<double>(a);
    if (a.type == data::NpyType::u1) round_trip<std::uint8_t>(a);
    return 0;
}
