// The CUDA tests' main: exits 77 (ctest's SKIP_RETURN_CODE) when the CUDA backend cannot start
// (no device, no driver), saying why, so a machine without a GPU reports the tests as skipped
// rather than passed.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "ann/cuda.cuh"

int main(int argc, char* argv[]) {
    if (!ann::cuda::enable()) {
        try {
            ann::memory(ann::Device::cuda);
        } catch (const std::exception& e) {
            std::printf("SKIPPED: %s\n", e.what());
        }
        return 77;
    }
    std::printf("%s\n", ann::cuda::describe().c_str());
    return Catch::Session().run(argc, argv);
}
