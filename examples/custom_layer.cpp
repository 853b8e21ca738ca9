// Your own layer, end to end (docs/extending.md walks through it):
//   1. write it: ChannelPReLU, y = x where x > 0, a_c * x elsewhere, one learnable slope a_c per
//      channel (torch.nn.PReLU(num_parameters=C));
//   2. check its backward against finite differences in double (ann::testing::gradcheck);
//   3. train a small CNN that uses it, through the library's own training loop.
// Exit code 0 only if the gradient check passes and the trained CNN classifies at least 50% of
// 100 held-out images (chance: 10%); 1 otherwise; 2 for a usage or run-time error. CI runs it.
//   custom_layer [--epochs N]
#include <cstdio>
#include <memory>
#include <string>

#include "cli.hpp"

#include "ann/ann.hpp"
#include "ann/testing/gradcheck.hpp"
#include "ann/testing/synthetic_cifar.hpp"
#include "ann/train/run.hpp"

// The layer. A template on T, so the same code is checked in double and trained in float.
// It computes on the host with plain loops: it runs on the CPU only (to() refuses other devices).
// A layer for both devices calls backend primitives instead (see docs/extending.md).
//   x is (N, C, ...) with C = channels; y has x's shape; slope is (C,).
template <class T>
class ChannelPReLU : public ann::Layer<T> {
public:
    explicit ChannelPReLU(std::size_t channels, double init = 0.25) : C_(channels), slope_("weight", {channels}) {
        if (channels == 0) ann::fail("ChannelPReLU: channels must be positive");
        slope_.value.fill(static_cast<T>(init));
    }

    std::string name() const override { return "ChannelPReLU(" + std::to_string(C_) + ")"; }

    ann::Shape output_shape(const ann::Shape& s) const override {
        if (s.size() < 2 || s[1] != C_)
            ann::fail(name(), ": expected input of shape (N, ", C_, ", ...), got ", ann::shape_str(s));
        return s;
    }

    std::vector<ann::Parameter<T>*> parameters() override { return {&slope_}; }

    void to(ann::Device d) override {
        if (d != ann::Device::cpu) ann::fail(name(), ": runs on the CPU only");
        ann::Layer<T>::to(d);
    }

    const ann::Array<T>& forward(const ann::Array<T>& x) override {
        this->place(y_, output_shape(x.shape()));
        this->check_device(x);
        // Backward needs x (its sign, and x itself for the slope's gradient): a copy, since the
        // caller may reuse its buffer before backward.
        x_ = x;
        const T* in = x.data();
        const T* a = slope_.value.data();
        T* out = y_.data();
        const std::size_t plane = plane_size(x.shape());
        for (std::size_t i = 0; i < x.size(); ++i) {
            const std::size_t c = (i / plane) % C_;
            out[i] = in[i] > 0 ? in[i] : a[c] * in[i];
        }
        return y_;
    }

    // The contract (layers/layer.hpp): the input gradient is OVERWRITTEN, parameter gradients are
    // ADDED to (several backward calls accumulate until zero_grad). gradcheck tests both.
    const ann::Array<T>& backward(const ann::Array<T>& dy) override {
        this->check_grad_shape(dy, y_);
        const T* in = x_.data();
        const T* g = dy.data();
        const T* a = slope_.value.data();
        T* da = slope_.grad.data();
        const std::size_t plane = plane_size(x_.shape());
        for (std::size_t i = 0; i < x_.size(); ++i)
            if (!(in[i] > 0)) da[(i / plane) % C_] += g[i] * in[i];
        if (!this->requires_input_grad()) return this->no_input_grad_;
        this->place(dx_, x_.shape());
        T* dx = dx_.data();
        for (std::size_t i = 0; i < x_.size(); ++i) dx[i] = in[i] > 0 ? g[i] : a[(i / plane) % C_] * g[i];
        return dx_;
    }

private:
    // Elements per channel per image: element i is in channel (i / plane) % C.
    static std::size_t plane_size(const ann::Shape& s) {
        std::size_t n = 1;
        for (std::size_t d = 2; d < s.size(); ++d) n *= s[d];
        return n;
    }

    std::size_t C_;
    ann::Parameter<T> slope_;
    ann::Array<T> x_, y_, dx_;
};

// A small CNN with the new layer where the homework has a ReLU.
template <class T>
ann::Sequential<T> net(ann::Rng& rng) {
    ann::Sequential<T> m;
    m.template emplace<ann::Conv2d<T>>(3, 8, 3, 1, 0, true, rng);
    m.template emplace<ChannelPReLU<T>>(8);
    m.template emplace<ann::MaxPool2d<T>>(2);
    m.template emplace<ann::Flatten<T>>();
    m.template emplace<ann::Linear<T>>(8 * 15 * 15, 10, true, rng);
    return m;
}

int main(int argc, char** argv) {
    std::size_t epochs = 12;
    CLI::App app{"Writes a layer of its own (ChannelPReLU), checks its gradients, trains a CNN with it"};
    app.add_option("--epochs", epochs, "epochs over 500 synthetic images (default 12)")->check(cli::whole(1, 1000));
    if (const int rc = cli::parse(app, argc, argv, "custom_layer"); rc >= 0) return rc;
    int result = 0;
    const int rc = cli::run("custom_layer", [&] {
        // 2. The gradient check, in double. Pass: every relative error below 1e-6 (docs/extending.md
        // says why that number); the slope's gradient is checked with the input's.
        ann::Rng rng(7);
        ChannelPReLU<double> layer(4);
        ann::Tensor<double> x = ann::Tensor<double>::from_shape({3, 4, 5, 5});
        for (auto& v : x) v = rng.uniform(-1, 1);
        const auto check = ann::testing::gradcheck(layer, x, rng);
        std::printf("gradcheck %s: input %.2e, parameters %.2e (pass: < 1e-6)\n", layer.name().c_str(),
                    check.max_input_error, check.max_param_error);
        if (check.max_error() >= 1e-6) {
            std::fprintf(stderr, "custom_layer: gradient check failed at %s\n", check.worst.c_str());
            result = 1;
            return;
        }

        // 3. Training, with the library's loop, on a synthetic CIFAR-shaped set (no data files).
        ann::train::Run<float> run;
        run.label = "custom layer";
        ann::Rng init(1);
        run.model = net<float>(init);
        std::printf("%s", run.model.summary({50, 3, 32, 32}).c_str());
        run.optimizer = std::make_unique<ann::Adam<float>>(run.model.parameters(), 3e-3);
        run.rng = ann::Rng(2);
        const auto images = ann::testing::synthetic_cifar(600, 3);  // class = mean brightness + noise
        ann::train::TrainData data;
        data.images = &images;
        for (std::uint32_t i = 0; i < images.size(); ++i) (i < 500 ? data.train : data.val).push_back(i);
        ann::train::RecordOptions rec;
        rec.every = 10;
        rec.val_acc = true;
        ann::Rng eval_init(0);
        ann::train::Evaluator<float> ev(net<float>(eval_init), 100);
        ann::train::train_epochs(run, epochs, data, rec, &ev, nullptr);
        const auto& loss = run.curve("loss");
        const double acc = run.curve("val_acc").back();
        std::printf("%zu steps: loss %.4f -> %.4f, held-out accuracy %.1f%% (chance: 10%%)\n", run.step,
                    loss.front(), loss.back(), acc);
        if (!(acc >= 50.0)) {
            std::fprintf(stderr, "custom_layer: held-out accuracy %.1f%% is below 50%%\n", acc);
            result = 1;
        }
    });
    return rc != 0 ? rc : result;
}
