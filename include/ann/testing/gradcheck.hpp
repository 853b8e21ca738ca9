#pragma once
// Finite-difference gradient check for any Layer<double>, public so users can check their own.
//
// The scalar checked is L = sum(y * r) for a fixed random r, so dL/dy = r. Following dlib's
// checker, parameter gradients are pre-filled with a sentinel and the sentinel subtracted
// afterwards: that catches entries backward never writes AND a backward that overwrites
// instead of accumulating. Central differences with step h; relative error
//   |analytic - numeric| / max(1, |analytic|, |numeric|).
// Pass criterion: every error below 1e-6 (docs/extending.md derives it: a correct backward shows
// about 1e-8 at most, a wrong one 1e-3 and up). Random layers: hold their randomness fixed first
// (Dropout::hold_mask).
#include <algorithm>
#include <cmath>
#include <string>

#include "ann/layers/layer.hpp"
#include "ann/core/rng.hpp"

namespace ann::testing {

struct GradcheckResult {
    double max_input_error = 0;
    double max_param_error = 0;
    std::string worst;  // which tensor/entry had the largest error
    double max_error() const { return std::max(max_input_error, max_param_error); }
};

inline double rel_err(double a, double b) {
    return std::abs(a - b) / std::max({1.0, std::abs(a), std::abs(b)});
}

inline GradcheckResult gradcheck(Layer<double>& layer, Tensor<double> x, Rng& rng, double h = 1e-6) {
    layer.train(true);
    layer.requires_input_grad(true);  // a Sequential skips its input gradient by default
    const Shape ys = layer.output_shape(shape_of(x));
    Tensor<double> r = Tensor<double>::from_shape(ys);
    for (auto& v : r) v = rng.uniform(-1, 1);
    auto loss = [&](const Tensor<double>& in) {
        const auto& y = layer.forward(in);
        double s = 0;
        for (std::size_t i = 0; i < y.size(); ++i) s += y.data()[i] * r.data()[i];
        return s;
    };

    const double sentinel = 0.5;
    for (auto* p : layer.parameters()) p->grad.fill(sentinel);
    loss(x);
    const Tensor<double> dx = layer.backward(r);
    GradcheckResult res;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double saved = x.data()[i];
        x.data()[i] = saved + h;
        const double lp = loss(x);
        x.data()[i] = saved - h;
        const double lm = loss(x);
        x.data()[i] = saved;
        const double e = rel_err(dx.data()[i], (lp - lm) / (2 * h));
        if (e > res.max_input_error) {
            res.max_input_error = e;
            if (e >= res.max_param_error) res.worst = layer.name() + " input[" + std::to_string(i) + "]";
        }
    }
    for (auto* p : layer.parameters()) {
        for (std::size_t i = 0; i < p->value.size(); ++i) {
            const double saved = p->value.data()[i];
            p->value.data()[i] = saved + h;
            const double lp = loss(x);
            p->value.data()[i] = saved - h;
            const double lm = loss(x);
            p->value.data()[i] = saved;
            const double e = rel_err(p->grad.data()[i] - sentinel, (lp - lm) / (2 * h));
            if (e > res.max_param_error) {
                res.max_param_error = e;
                if (e >= res.max_input_error) res.worst = layer.name() + " " + p->name + "[" + std::to_string(i) + "]";
            }
        }
    }
    return res;
}

}  // namespace ann::testing
