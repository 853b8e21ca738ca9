#pragma once
// ONNX export and import (optional: link ann::onnx; docs/file-format.md shows both directions).
//   ann::onnx::save(model, "m.onnx", {3, 32, 32});
//   auto net = ann::onnx::load<float>("m.onnx");
#include "ann/onnx/export.hpp"
#include "ann/onnx/import.hpp"
