// The installed optional targets, where the installing build had them: ann::onnx round-trips a
// net through ONNX bytes; ann::dist links (a plain start is one process: no MPI launch needed);
// ann::viz encodes a PNG with the stb its package found.
#include <cstdio>

#include "ann/ann.hpp"
#if CONSUMER_ONNX
#include "ann/onnx/onnx.hpp"
#endif
#if CONSUMER_DIST
#include "ann/dist/communicator.hpp"
#endif
#if CONSUMER_VIZ
#include "ann/viz/png.hpp"
#endif

int main() {
#if CONSUMER_ONNX
    ann::Rng rng(1);
    ann::Sequential<float> net;
    net.emplace<ann::Linear<float>>(4, 3, true, rng);
    auto back = ann::onnx::parse<float>(ann::onnx::to_bytes(net, {4}), "consumer");
    if (back.size() != 1 || back[0].name() != net[0].name()) return 1;
    std::printf("consumer: ann::onnx round trip ok\n");
#endif
#if CONSUMER_DIST
    std::printf("consumer: ann::dist linked (launched by MPI: %s)\n", ann::dist::launched_by_mpi() ? "yes" : "no");
#endif
#if CONSUMER_VIZ
    const std::string png = ann::viz::encode_png(2, 1, 1, {0, 255}, "consumer");
    if (png.compare(1, 3, "PNG") != 0) return 1;
    std::printf("consumer: ann::viz encoded a %zu-byte PNG\n", png.size());
#endif
    return 0;
}
