#pragma once
// Dropout, as torch.nn.Dropout(p): any shape, y has x's shape.
//   training:  y = x * mask / (1 - p), mask ~ Bernoulli(1 - p) per element (p = 1: y = x * 0)
//   eval:      y = x (and dx = dy)
//   backward:  dx = dy * mask / (1 - p) with the last forward's mask
// (exactly: y = x * (mask ? s : 0) with s = 1/(1-p) rounded to T once, as PyTorch's x * noise.)
//
// Masks are reproducible and the same on every device: the mask of the k-th training forward
// (k = 0, 1, ...) is a pure function of (seed, k, element index), a counter-based hash that both
// backends compute (backend/dropout_hash.hpp). The seed is drawn from `rng` at construction.
// PyTorch's masks come from its own generator: no PyTorch run can reproduce these.
//
// State in model files and checkpoints: two Buffer<T>s, so a saved model resumes with the very
// masks an uninterrupted run would have drawn, whatever the loading program's Rng did:
//   "seed"           (4,)  the 64-bit seed in 16-bit pieces, lowest first
//   "forward_count"  (2,)  k, the number of training forwards so far, in 20-bit pieces, lowest
//                          first (wraps at 2^40)
// Every piece is an integer that float32 holds exactly; loading a model file checks that each is
// a whole number in its range (ValueRule, core/parameter.hpp). The primitive reads and advances
// them where they live (a GPU forward never waits for the host).
//
// Checking a random layer's gradient: hold_mask(true) makes training forwards reuse the last
// mask (and leaves k alone), so the layer is a fixed linear map that finite differences can
// probe: run one training forward, hold the mask, then gradcheck (tests/test_layers_extra.cpp).
#include <algorithm>
#include <cstdint>

#include "ann/backend/dropout_hash.hpp"
#include "ann/core/format.hpp"
#include "ann/core/rng.hpp"
#include "ann/layers/layer.hpp"

namespace ann {

template <class T>
class Dropout : public Layer<T> {
public:
    explicit Dropout(double p = 0.5, Rng& rng = default_rng())
        : p_(p), seed_("seed", {std::size_t(shared::kSeedPieces)}, ValueRule::whole_below_2_16),
          count_("forward_count", {std::size_t(shared::kCounterPieces)}, ValueRule::whole_below_2_20) {
        static_assert(shared::kSeedPieceBits == 16 && shared::kCounterPieceBits == 20, "the buffers' value rules");
        if (!(p >= 0.0 && p <= 1.0)) fail("Dropout: probability has to be between 0 and 1, but got ", float_repr(p));
        scale_ = p < 1.0 ? T(1) / T(1.0 - p) : T(0);
        keep_below_ = shared::dropout_keep_below(p);
        shared::encode_pieces(rng.next_u64(), seed_.value.data(), shared::kSeedPieces, shared::kSeedPieceBits);
    }

    std::string name() const override { return "Dropout(p=" + float_repr(p_) + ")"; }
    Shape output_shape(const Shape& s) const override { return s; }

    const Array<T>& forward(const Array<T>& x) override {
        this->check_device(x);
        this->place(y_, x.shape());
        identity_ = !this->training_;
        if (identity_) {
            y_.copy_from(x);
            return y_;
        }
        if (held_) {
            if (mask_.shape() != x.shape() || mask_.device() != this->device_)
                fail(name(), ": hold_mask(true) reuses the last training forward's mask, of shape ",
                     shape_str(mask_.shape()), ", but the input has shape ", shape_str(x.shape()),
                     " (run a training forward of that shape before holding the mask)");
        } else {
            mask_.ensure(x.shape(), this->device_);
            // Element indices count from the whole batch's start (set_first_image, data-parallel).
            const std::size_t per_image = x.dimension() ? x.size() / std::max<std::size_t>(x.dim(0), 1) : 0;
            this->ops().dropout_mask(mask_.data(), x.size(), this->first_image_ * per_image, seed_.value.data(),
                                     count_.value.data(), keep_below_);
        }
        this->ops().dropout_apply(x.data(), mask_.data(), scale_, y_.data(), x.size());
        return y_;
    }

    const Array<T>& backward(const Array<T>& dy) override {
        this->check_grad_shape(dy, y_);
        if (!this->input_grad_) return this->no_input_grad_;
        this->place(dx_, y_.shape());
        if (identity_) dx_.copy_from(dy);
        else this->ops().dropout_apply(dy.data(), mask_.data(), scale_, dx_.data(), dy.size());
        return dx_;
    }

    std::vector<Buffer<T>*> buffers() override { return {&seed_, &count_}; }

    void to(Device d) override {
        Layer<T>::to(d);
        mask_.move_to(d);  // a held mask stays usable
    }

    // Training forwards reuse the last mask while on (for gradient checks); k does not advance.
    void hold_mask(bool on) { held_ = on; }
    bool mask_held() const { return held_; }

    double p() const { return p_; }
    // The last training forward's mask (1 kept, 0 dropped), on the layer's device.
    const Array<std::uint8_t>& mask() const { return mask_; }
    // Seed and k as the buffers hold them (a copy from the device when the layer is on a GPU).
    std::uint64_t seed() const { return decode(seed_, shared::kSeedPieces, shared::kSeedPieceBits); }
    std::uint64_t forward_count() const {
        return decode(count_, shared::kCounterPieces, shared::kCounterPieceBits);
    }

private:
    double p_;
    T scale_;
    std::uint64_t keep_below_;
    Buffer<T> seed_, count_;
    Array<std::uint8_t> mask_;
    Array<T> y_, dx_;
    bool held_ = false, identity_ = false;

    static std::uint64_t decode(const Buffer<T>& b, int pieces, int bits) {
        Tensor<T> copy;
        return shared::decode_pieces(b.value.host_values(copy).data(), pieces, bits);
    }
};

}  // namespace ann
