#pragma once
// MSELoss, as torch.nn.MSELoss(): mean over all elements of (y - target)^2.
//   y and target have the same (any) shape. backward() = 2 (y - target) / numel.
#include "ann/core/error.hpp"
#include "ann/core/tensor.hpp"

namespace ann {

template <class T>
class MSELoss {
public:
    T forward(const Tensor<T>& y, const Tensor<T>& target) {
        if (y.shape() != target.shape())
            fail("MSELoss: prediction ", shape_str(y.shape()), " and target ", shape_str(target.shape()),
                 " differ in shape");
        if (y.size() == 0) fail("MSELoss: empty input");
        ensure_shape(diff_, shape_of(y));
        double total = 0;
        for (std::size_t i = 0; i < y.size(); ++i) {
            const T d = y.data()[i] - target.data()[i];
            diff_.data()[i] = d;
            total += static_cast<double>(d) * d;
        }
        return static_cast<T>(total / static_cast<double>(y.size()));
    }

    const Tensor<T>& backward() {
        if (diff_.size() == 0) fail("MSELoss: backward before forward");
        ensure_shape(grad_, shape_of(diff_));
        const T scale = T(2) / static_cast<T>(diff_.size());
        for (std::size_t i = 0; i < diff_.size(); ++i) grad_.data()[i] = scale * diff_.data()[i];
        return grad_;
    }

private:
    Tensor<T> diff_, grad_;
};

}  // namespace ann
