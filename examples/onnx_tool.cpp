// ONNX in and out of ann, on the homework's models and CIFAR-10 (docs/file-format.md):
//   onnx_tool export --arch cnn_4 --checkpoint results/checkpoints/part3-cnn_4.annc --out cnn_4.onnx
//   onnx_tool export --arch cnn_4 --seed 1 --out random_cnn_4.onnx        (initial weights of a seed)
//   onnx_tool eval cnn_4.onnx                    accuracy on the CIFAR-10 test set, run by ann
//   onnx_tool logits m.onnx --images 200 --out z.npy --inputs-out x.npy   (tests/onnx compare these)
// Errors: one line on stderr, exit code 2.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>

#include "ann/ann.hpp"
#include "ann/data/batches.hpp"
#include "ann/data/cifar10.hpp"
#include "ann/data/cifar10_fetch.hpp"
#include "ann/data/npy.hpp"
#include "ann/io/checkpoint.hpp"
#include "ann/io/read_file.hpp"
#include "ann/onnx/onnx.hpp"
#include "ann/train/evaluate.hpp"
#include "cli.hpp"

namespace {

// A homework architecture with a checkpoint's weights (any of the homework's checkpoints: the
// model section is read, the optimizer and loop state are not needed).
ann::Sequential<float> homework_model(const std::string& arch, const std::string& activation,
                                      const std::string& checkpoint, std::uint64_t seed) {
    const auto act = activation == "sigmoid" ? ann::models::Activation::sigmoid : ann::models::Activation::relu;
    ann::Rng rng(seed);
    auto net = ann::models::homework<float>(arch, act, rng);
    if (!checkpoint.empty()) {
        const auto rec = ann::io::parse_checkpoint_file(ann::io::read_file(checkpoint), checkpoint);
        ann::io::commit_model(net, ann::io::stage_model(rec.model, net, arch + "/" + activation, checkpoint));
    }
    return net;
}

// The first n CIFAR-10 test images (n = 0: all) as ann feeds them (fill_batch: uint8 / 255).
struct TestImages {
    ann::data::Cifar10 cifar;
    ann::data::Indices idx;
};
TestImages test_images(const std::string& data_dir, std::size_t n) {
    TestImages t;
    t.cifar = ann::data::load_cifar10(ann::data::ensure_cifar10(data_dir, ""));
    const std::size_t count = n ? std::min(n, t.cifar.test.size()) : t.cifar.test.size();
    for (std::uint32_t i = 0; i < count; ++i) t.idx.push_back(i);
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    if (const char* env = std::getenv("ANN_SHARED_DATA"); !env || !*env) {
        const std::string shared = std::string(ANN_REPO_ROOT) + "/../shared/data";
        std::error_code ec;
        if (std::filesystem::is_directory(shared, ec)) setenv("ANN_SHARED_DATA", shared.c_str(), 1);
    }
    CLI::App app{"ONNX export and import for ann: homework models out to .onnx, .onnx models run by ann on CIFAR-10"};
    app.require_subcommand(1);
    std::string data_dir = ANN_DEFAULT_DATA_DIR;
    if (const char* env = std::getenv("ANN_DATA")) data_dir = env;

    auto* ex = app.add_subcommand("export", "Write a homework architecture as ONNX (opset 13)");
    std::string arch, activation = "relu", checkpoint, out;
    std::uint64_t seed = 0;
    ex->add_option("--arch", arch, "mlp_1, mlp_2, cnn_3, cnn_4 or cnn_5")->required()
        ->check(CLI::IsMember(std::vector<std::string>(ann::models::homework_names().begin(), ann::models::homework_names().end())));
    ex->add_option("--activation", activation, "relu or sigmoid")->check(CLI::IsMember({"relu", "sigmoid"}))->capture_default_str();
    auto* ck = ex->add_option("--checkpoint", checkpoint, "A homework checkpoint (.annc) of this architecture");
    ex->add_option("--seed", seed, "Without --checkpoint: the initial weights of this seed")
        ->check(cli::whole(0, UINT64_MAX))->excludes(ck)->capture_default_str();
    ex->add_option("--out", out, "The .onnx file to write")->required();

    std::string model;
    std::size_t images = 0;
    std::string logits_out, inputs_out;
    auto* lg = app.add_subcommand("logits", "Run an .onnx model in ann on the first CIFAR-10 test images; write its logits");
    lg->add_option("model", model, "The .onnx file")->required();
    lg->add_option("--data", data_dir, "Data folder holding cifar-10-batches-bin/")->capture_default_str();
    lg->add_option("--images", images, "How many test images, from the first")->check(cli::whole(1, 10000))->required();
    lg->add_option("--out", logits_out, "Logits, float32 (N, K) .npy")->required();
    lg->add_option("--inputs-out", inputs_out, "Also the float32 (N, 3, 32, 32) inputs it used, .npy");

    auto* ev = app.add_subcommand("eval", "Accuracy of an .onnx model, run by ann, on the CIFAR-10 test set");
    ev->add_option("model", model, "The .onnx file")->required();
    ev->add_option("--data", data_dir, "Data folder holding cifar-10-batches-bin/")->capture_default_str();

    if (const int rc = cli::parse(app, argc, argv, "onnx_tool"); rc >= 0) return rc;
    return cli::run("onnx_tool", [&] {
        if (ex->parsed()) {
            auto net = homework_model(arch, activation, checkpoint, seed);
            ann::onnx::save(net, out, {3, 32, 32});
            std::printf("wrote %s (%s, %zu parameters, opset %lld)\n", out.c_str(), arch.c_str(), net.num_parameters(),
                        static_cast<long long>(ann::onnx::kOpset));
            return;
        }
        auto net = ann::onnx::load<float>(model);
        if (ev->parsed()) {
            const auto t = test_images(data_dir, 0);
            ann::train::Evaluator<float> evaluator(std::move(net), 100);
            // The evaluator copies parameters from a "trained" model: here the loaded one is both.
            auto same = ann::onnx::load<float>(model);
            const double acc = evaluator.accuracy(same, t.cifar.test, t.idx);
            std::printf("%s: test accuracy %.2f%% (%zu images)\n", model.c_str(), acc, t.idx.size());
            return;
        }
        const auto t = test_images(data_dir, images);
        ann::Array<float> x;
        std::vector<long> y;
        ann::data::fill_batch(t.cifar.test, t.idx.data(), t.idx.size(), x, y);
        net.eval();
        const ann::Array<float>& z = net.forward(x);
        ann::Tensor<float> zc, xc;
        ann::data::save_npy<float>(logits_out, z.host_values(zc));
        if (!inputs_out.empty()) ann::data::save_npy<float>(inputs_out, x.host_values(xc));
        std::printf("wrote %s (%zu x %zu logits)\n", logits_out.c_str(), z.dim(0), z.dim(1));
    });
}
