#pragma once
// The CPU implementation of the backend primitives (backend/backend.hpp): each call goes to the
// CPU kernel that the layers used to call directly, so results are those of those kernels.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "ann/backend/backend.hpp"
#include "ann/backend/registry.hpp"
#include "ann/backend/cpu/memory.hpp"
#include "ann/backend/cpu/activations.hpp"
#include "ann/backend/cpu/adam_update.hpp"
#include "ann/backend/cpu/batchnorm.hpp"
#include "ann/backend/cpu/avgpool.hpp"
#include "ann/backend/cpu/conv2d.hpp"
#include "ann/backend/cpu/conv_fused.hpp"
#include "ann/backend/cpu/dropout.hpp"
#include "ann/backend/cpu/gemm.hpp"
#include "ann/backend/cpu/leaky_relu.hpp"
#include "ann/backend/cpu/maxpool.hpp"
#include "ann/backend/cpu/parallel_gemm.hpp"
#include "ann/backend/cpu/sgd_update.hpp"
#include "ann/backend/cpu/softmax_xent.hpp"
#include "ann/backend/cpu/thread_pool.hpp"

namespace ann::cpu {

struct CpuConvState final : BackendState {
    ConvWorkspace<float> f32;
    ConvWorkspace<double> f64;
    template <class T> ConvWorkspace<T>& get() {
        if constexpr (std::is_same_v<T, float>) return f32;
        else return f64;
    }
};

template <class T>
class CpuBackend final : public Backend<T> {
public:
    static CpuBackend& instance() {
        static CpuBackend b;
        return b;
    }
    Device device() const override { return Device::cpu; }

    void gemm(bool ta, bool tb, int M, int N, int K, T alpha, const T* A, int lda, const T* B, int ldb, T beta, T* C,
              int ldc) override {
        cpu::parallel_gemm<T>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    }
    void broadcast_rows(T* y, const T* b, std::size_t N, std::size_t F) override {
        for (std::size_t n = 0; n < N; ++n) std::copy(b, b + F, y + n * F);
    }
    void add_column_sums(const T* dy, T* db, std::size_t N, std::size_t F) override {
        for (std::size_t n = 0; n < N; ++n)
            for (std::size_t o = 0; o < F; ++o) db[o] += dy[n * F + o];
    }

    std::unique_ptr<BackendState> make_conv_state() override { return std::make_unique<CpuConvState>(); }
    void conv2d_forward(const T* x, const T* w, const T* b, T* y, int N, int O, const ConvGeometry& g,
                        BackendState& s) override {
        cpu::conv2d_forward<T>(x, w, b, y, N, O, g, ws(s));
    }
    void conv2d_forward_fused(const T* x, const T* w, const T* b, const ConvEpilogue& e, T* y, int N, int O,
                              const ConvGeometry& g, BackendState& s) override {
        cpu::conv2d_forward_fused<T>(x, w, b, e, y, N, O, g, ws(s));
    }
    void conv2d_backward_data(const T* dy, const T* w, T* dx, int N, int O, const ConvGeometry& g,
                              BackendState& s) override {
        cpu::conv2d_backward_data<T>(dy, w, dx, N, O, g, ws(s));
    }
    void conv2d_backward_weights(const T* x, const T* dy, T* dw, T* db, int N, int O, const ConvGeometry& g,
                                 BackendState& s) override {
        cpu::conv2d_backward_weights<T>(x, dy, dw, db, N, O, g, ws(s));
    }

    void maxpool_forward(const T* x, T* y, std::uint32_t* argmax, std::size_t planes, int H, int W, int OH, int OW,
                         int k, int s) override {
        cpu::maxpool_forward(x, y, argmax, planes, H, W, OH, OW, k, s);
    }
    void maxpool_backward(const T* dy, const std::uint32_t* argmax, T* dx, std::size_t planes, int H, int W, int OH,
                          int OW) override {
        cpu::maxpool_backward(dy, argmax, dx, planes, H, W, OH, OW);
    }

    void activation_forward(ActivationKind f, const T* x, T* y, std::size_t n) override {
        cpu::activation_forward(f, x, y, n);
    }
    void activation_backward(ActivationKind f, const T* y, const T* dy, T* dx, std::size_t n) override {
        cpu::activation_backward(f, y, dy, dx, n);
    }

    void batchnorm_forward_train(const T* x, const T* gamma, const T* beta, T* y, double* mean, double* invstd,
                                 T* running_mean, T* running_var, std::size_t N, std::size_t C, std::size_t HW,
                                 double eps, double momentum) override {
        cpu::batchnorm_forward_train(x, gamma, beta, y, mean, invstd, running_mean, running_var, N, C, HW, eps,
                                     momentum);
    }
    void batchnorm_forward_eval(const T* x, const T* gamma, const T* beta, const T* running_mean,
                                const T* running_var, T* y, double* mean, double* invstd, std::size_t N,
                                std::size_t C, std::size_t HW, double eps) override {
        cpu::batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, y, mean, invstd, N, C, HW, eps);
    }
    void batchnorm_backward(const T* x, const T* dy, const T* gamma, const double* mean, const double* invstd, T* dx,
                            T* dgamma, T* dbeta, std::size_t N, std::size_t C, std::size_t HW,
                            bool batch_stats) override {
        cpu::batchnorm_backward(x, dy, gamma, mean, invstd, dx, dgamma, dbeta, N, C, HW, batch_stats);
    }

    void leaky_relu_forward(const T* x, T* y, std::size_t n, T slope) override {
        cpu::leaky_relu_forward(x, y, n, slope);
    }
    void leaky_relu_backward(const T* x, const T* dy, T* dx, std::size_t n, T slope) override {
        cpu::leaky_relu_backward(x, dy, dx, n, slope);
    }

    void avgpool_forward(const T* x, T* y, std::size_t planes, const AvgPoolGeometry& g) override {
        cpu::avgpool_forward(x, y, planes, g);
    }
    void avgpool_backward(const T* dy, T* dx, std::size_t planes, const AvgPoolGeometry& g) override {
        cpu::avgpool_backward(dy, dx, planes, g);
    }

    void dropout_mask(std::uint8_t* mask, std::size_t n, std::size_t first, const T* seed, T* counter,
                      std::uint64_t keep_below) override {
        cpu::dropout_mask(mask, n, first, seed, counter, keep_below);
    }
    void dropout_apply(const T* x, const std::uint8_t* mask, T scale, T* y, std::size_t n) override {
        cpu::dropout_apply(x, mask, scale, y, n);
    }

    double softmax_xent_forward(const T* logits, const long* targets, std::size_t N, std::size_t K, T* prob) override {
        return cpu::softmax_xent_forward(logits, targets, N, K, prob);
    }
    void softmax_xent_backward(const T* prob, const long* targets, std::size_t N, std::size_t K, std::size_t divisor,
                               T* grad) override {
        cpu::softmax_xent_backward(prob, targets, N, K, divisor, grad);
    }

    void sgd_update(T* w, const T* g, T* buf, std::size_t n, const SgdStep<T>& h, bool first) override {
        cpu::sgd_update(w, g, buf, n, h, first);
    }
    void adam_update(T* w, const T* g, T* m, T* v, std::size_t n, const AdamStep<T>& h) override {
        cpu::adam_update(w, g, m, v, n, h);
    }

private:
    static ConvWorkspace<T>& ws(BackendState& s) {
        auto* c = dynamic_cast<CpuConvState*>(&s);
        if (!c) fail("cpu backend: a convolution state of another backend (the layer moved devices without resetting it)");
        return c->get<T>();
    }
};

}  // namespace ann::cpu

namespace ann::detail {
// Hands this backend to the registry (backend/registry.hpp) before main, in every program with a
// source file that includes this header.
inline const bool cpu_backend_compiled_in = [] {
    cpu_backend_hook() = {&cpu::CpuBackend<float>::instance(), &cpu::CpuBackend<double>::instance()};
    return true;
}();
}  // namespace ann::detail
