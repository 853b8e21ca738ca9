#pragma once
// Umbrella header of the CUDA backend (float32; compile with nvcc, link ann::cuda): the whole
// library plus the CUDA implementation of the backend primitives. Include it in one
// nvcc-compiled file of a program and call ann::cuda::enable() before asking for Device::cuda.
// CPU-only programs include ann/ann.hpp and never need the CUDA toolkit.
#include "ann/ann.hpp"
#include "ann/backend/cuda/backend.cuh"
