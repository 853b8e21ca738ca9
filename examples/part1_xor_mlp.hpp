#pragma once
// Homework part 1.2: a one-hidden-layer MLP written with xtensor the way the homework writes it
// with NumPy (same member names, same forward/backward), and the course's XOR data set.
//
//   hidden_output = act(inputs . weights_input_hidden + bias_hidden)        // (N, H)
//   output        = sigmoid(hidden_output . weights_hidden_output + bias_output)  // (N, 1)
// backward(inputs, targets, lr) is one step of gradient descent on 0.5 * sum (targets - output)^2
// (the homework's "output_error = targets - output" followed by "+=" updates, i.e. the MSE
// gradient without the 2/N factor). Derivatives are taken from the activations' outputs, as
// the homework's sigmoid_derivative(self.output) does.
#include <cmath>
#include <string>

#include <xtensor-blas/xlinalg.hpp>
#include <array>
#include <vector>

#include "ann/core/error.hpp"
#include "ann/core/rng.hpp"
#include "ann/core/tensor.hpp"

namespace part1 {

using Matrix = xt::xtensor<double, 2>;

enum class Act { sigmoid, tanh, relu };

inline const char* act_name(Act a) { return a == Act::sigmoid ? "sigmoid" : a == Act::tanh ? "tanh" : "relu"; }

inline Act parse_act(const std::string& s) {
    if (s == "sigmoid") return Act::sigmoid;
    if (s == "tanh") return Act::tanh;
    if (s == "relu") return Act::relu;
    ann::fail("unknown activation '", s, "' (expected sigmoid, tanh or relu)");
}

inline Matrix sigmoid(const Matrix& x) { return 1.0 / (1.0 + xt::exp(-x)); }
inline Matrix sigmoid_derivative(const Matrix& y) { return y * (1.0 - y); }  // from the output y
inline Matrix tanh_(const Matrix& x) { return xt::tanh(x); }
inline Matrix tanh_derivative(const Matrix& y) { return 1.0 - y * y; }
inline Matrix relu(const Matrix& x) { return xt::maximum(x, 0.0); }
inline Matrix relu_derivative(const Matrix& y) { return xt::cast<double>(y > 0.0); }

class MLP {
public:
    MLP(std::size_t input_size, std::size_t hidden_size, std::size_t output_size, Act act, ann::Rng& rng)
        : input_size(input_size), hidden_size(hidden_size), output_size(output_size), act_(act) {
        // np.random.randn for weights, zeros for biases
        weights_input_hidden = randn({input_size, hidden_size}, rng);
        bias_hidden = xt::zeros<double>({std::size_t(1), hidden_size});
        weights_hidden_output = randn({hidden_size, output_size}, rng);
        bias_output = xt::zeros<double>({std::size_t(1), output_size});
    }

    Matrix activation(const Matrix& x) const {
        return act_ == Act::sigmoid ? sigmoid(x) : act_ == Act::tanh ? tanh_(x) : relu(x);
    }
    Matrix activation_derivative(const Matrix& y) const {
        return act_ == Act::sigmoid ? sigmoid_derivative(y) : act_ == Act::tanh ? tanh_derivative(y) : relu_derivative(y);
    }

    // inputs is (N, input_size); returns (N, output_size)
    const Matrix& forward(const Matrix& inputs) {
        hidden_output = activation(xt::linalg::dot(inputs, weights_input_hidden) + bias_hidden);
        output = sigmoid(xt::linalg::dot(hidden_output, weights_hidden_output) + bias_output);
        return output;
    }

    // Uses the activations of the last forward(inputs).
    void backward(const Matrix& inputs, const Matrix& targets, double learning_rate) {
        // Compute error
        const Matrix output_error = targets - output;
        const Matrix output_delta = output_error * sigmoid_derivative(output);
        const Matrix hidden_error = xt::linalg::dot(output_delta, xt::transpose(weights_hidden_output));
        const Matrix hidden_delta = hidden_error * activation_derivative(hidden_output);
        // Descent directions (minus the gradients of 0.5 * SSE), kept for tests
        step_weights_hidden_output = xt::linalg::dot(xt::transpose(hidden_output), output_delta);
        step_bias_output = xt::sum(output_delta, {0}, xt::keep_dims);
        step_weights_input_hidden = xt::linalg::dot(xt::transpose(inputs), hidden_delta);
        step_bias_hidden = xt::sum(hidden_delta, {0}, xt::keep_dims);
        // Update weights and biases
        weights_hidden_output += learning_rate * step_weights_hidden_output;
        bias_output += learning_rate * step_bias_output;
        weights_input_hidden += learning_rate * step_weights_input_hidden;
        bias_hidden += learning_rate * step_bias_hidden;
    }

    std::size_t input_size, hidden_size, output_size;
    Matrix weights_input_hidden, bias_hidden, weights_hidden_output, bias_output;
    Matrix hidden_output, output;
    Matrix step_weights_input_hidden, step_bias_hidden, step_weights_hidden_output, step_bias_output;

private:
    static Matrix randn(std::array<std::size_t, 2> shape, ann::Rng& rng) {
        Matrix m = Matrix::from_shape(shape);
        for (auto& v : m) v = rng.normal();
        return m;
    }
    Act act_;
};

struct XorData {
    Matrix x_train, y_train, x_val, y_val;  // x (N, 2), y (N, 1) of 0/1
};

// The course's part1CreateDataset: sklearn's make_blobs around (1,1), (1,-1), (-1,-1), (-1,1)
// (equal counts, the first centres taking any remainder) with standard deviation `std`, labels
// 0, 1, 0, 1 (blobs 2 and 3 relabelled), shuffled.
inline void make_blobs(std::size_t n, double std_dev, ann::Rng& rng, Matrix& x, Matrix& y) {
    const double cx[4] = {1, 1, -1, -1}, cy[4] = {1, -1, -1, 1};
    const double label[4] = {0, 1, 0, 1};
    std::vector<std::size_t> centre;
    for (std::size_t c = 0; c < 4; ++c)
        for (std::size_t k = 0; k < n / 4 + (c < n % 4 ? 1 : 0); ++k) centre.push_back(c);
    rng.shuffle(centre.begin(), centre.end());
    x = Matrix::from_shape({n, 2});
    y = Matrix::from_shape({n, 1});
    for (std::size_t i = 0; i < n; ++i) {
        x(i, 0) = cx[centre[i]] + std_dev * rng.normal();
        x(i, 1) = cy[centre[i]] + std_dev * rng.normal();
        y(i, 0) = label[centre[i]];
    }
}

inline XorData part1_create_dataset(ann::Rng& rng, std::size_t train_samples = 1000, std::size_t val_samples = 100,
                                    double std_dev = 0.4) {
    XorData d;
    make_blobs(train_samples, std_dev, rng, d.x_train, d.y_train);
    make_blobs(val_samples, std_dev, rng, d.x_val, d.y_val);
    return d;
}

inline double mse(const Matrix& y, const Matrix& t) { return xt::mean(xt::square(t - y))(); }

// Percentage of rows where round(output) equals the 0/1 target.
inline double accuracy(const Matrix& out, const Matrix& t) {
    std::size_t ok = 0;
    for (std::size_t i = 0; i < out.shape()[0]; ++i) ok += std::round(out(i, 0)) == t(i, 0);
    return 100.0 * static_cast<double>(ok) / static_cast<double>(out.shape()[0]);
}

}  // namespace part1
