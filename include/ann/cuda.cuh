#pragma once
// Umbrella header of the CUDA backend (float32; compile with nvcc, link ann::cuda).
// CPU-only programs include ann/ann.hpp and never need the CUDA toolkit.
#include "ann/ann.hpp"
#include "ann/backend/cuda/check.hpp"
#include "ann/backend/cuda/context.hpp"
#include "ann/backend/cuda/conv_algos.hpp"
#include "ann/backend/cuda/dataset.cuh"
#include "ann/backend/cuda/device_tensor.hpp"
#include "ann/backend/cuda/kernels.cuh"
#include "ann/backend/cuda/layers.cuh"
#include "ann/backend/cuda/loss.cuh"
#include "ann/backend/cuda/model.cuh"
#include "ann/backend/cuda/optim.cuh"
#include "ann/backend/cuda/train.cuh"
