#pragma once
// ONNX's own protobuf classes (Debian's libonnx-dev, protobuf 3.21), and what ann writes and reads.
// Optional: only programs that link ann::onnx include this (cmake/AnnOnnx.cmake).
#include <onnx/onnx_pb.h>

#include <cstddef>
#include <cstdint>

namespace ann::onnx {

namespace pb = ::ONNX_NAMESPACE;

// ann writes opset 13 and IR version 7 (the IR that introduced opset 13's era of files; every
// reader of opset 13 takes it). It reads opsets 7 to 18 of the default domain: in that range
// Gemm, Conv, MaxPool, Relu, Sigmoid, Tanh and Flatten mean the same for the attributes ann accepts.
inline constexpr std::int64_t kOpset = 13;
inline constexpr std::int64_t kIrVersion = 7;
inline constexpr std::int64_t kMinOpset = 7, kMaxOpset = 18;

// Hostile-input limits, checked before anything is allocated from a count in the file.
inline constexpr std::uint64_t kMaxFileBytes = 1ull << 30;      // 1 GiB
inline constexpr std::uint64_t kMaxTensorElements = 1ull << 28;  // 1 GiB of float32
inline constexpr std::size_t kMaxNodes = 10000;

}  // namespace ann::onnx
