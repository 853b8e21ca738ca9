// The one file of the example programs that nvcc compiles, built as a module (libann_cuda_plugin.so)
// that homework loads for --device cuda only: it instantiates the CUDA backend
// (backend/cuda/backend.cuh) and registers it in the program's registry (examples/device.hpp).
#include <cstdlib>

// Only the backend, not ann/cuda.cuh: this file must not instantiate the CPU kernels (homework.cpp,
// compiled by g++ with the project's flags, provides them; two copies would be an ODR hazard).
#include "ann/backend/cuda/backend.cuh"

// Registers the CUDA backend, or records why it cannot; the program looks this name up.
extern "C" __attribute__((visibility("default"))) bool ann_examples_enable_cuda(bool deterministic) {
    // The backend reads its options from the environment when it starts (docs/cuda.md).
    if (!deterministic) setenv("ANN_CUDA_NONDETERMINISTIC", "1", 1);
    return ann::cuda::enable();
}
