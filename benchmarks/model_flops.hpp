#pragma once
// Useful FLOPs of a Sequential's convolutions and Linear layers (2 per multiply-add, counted as
// direct convolution), per image:
//   forward         - every layer's forward;
//   train_step      - forward + weight gradients + input gradients of every layer after the
//                     first one with parameters (the work a training step needs: nothing reads
//                     the images' gradient, and neither ann nor PyTorch computes it).
// Element-wise layers, pooling, the loss and the optimizer are not counted (they are memory-bound
// and a few percent of the FLOPs).
#include "ann/ann.hpp"

namespace bench {

struct ModelFlops {
    double forward = 0, train_step = 0;
};

template <class T>
ModelFlops count_flops(ann::Sequential<T>& m, const ann::Shape& input) {
    ModelFlops f;
    ann::Shape cur = input;
    const std::size_t first = m.first_parametric_index();
    for (std::size_t i = 0; i < m.size(); ++i) {
        ann::Layer<T>& l = m[i];
        const ann::Shape out = l.output_shape(cur);
        double macs = 0;
        if (auto* c = dynamic_cast<ann::Conv2d<T>*>(&l))
            macs = double(c->weight().value.size()) * double(out[2] * out[3]);
        else if (auto* lin = dynamic_cast<ann::Linear<T>*>(&l))
            macs = double(lin->weight().value.size());
        f.forward += 2 * macs;
        f.train_step += 2 * macs * (i > first ? 3 : 2);
        cur = out;
    }
    return f;
}

}  // namespace bench
