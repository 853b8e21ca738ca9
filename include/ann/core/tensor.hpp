#pragma once
// The host tensor: a row-major xtensor array (NCHW for images). Layers pass ann::Array
// (core/array.hpp), which holds one of these on the CPU or device memory on a GPU.
// All xtensor includes go through this header so the xtensor version lives in one place.
#include <cstddef>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xbuilder.hpp>
#include <xtensor/xio.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

namespace ann {

template <class T>
using Tensor = xt::xarray<T, xt::layout_type::row_major>;

using Shape = std::vector<std::size_t>;

template <class T>
Shape shape_of(const Tensor<T>& t) {
    return Shape(t.shape().begin(), t.shape().end());
}

// Resize only when the shape changes: layers keep their buffers across steps, so a
// training loop with a fixed batch size allocates nothing after the first step.
template <class T>
void ensure_shape(Tensor<T>& t, const Shape& shape) {
    if (t.dimension() != shape.size() || !std::equal(shape.begin(), shape.end(), t.shape().begin()))
        t.resize(shape);
}

inline std::size_t numel(const Shape& s) {
    std::size_t n = 1;
    for (auto d : s) n *= d;
    return n;
}

}  // namespace ann
