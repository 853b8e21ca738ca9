// Model files and checkpoints: bit-exact round trips, and a clear ann::Error (never a crash
// or a silently changed network) for every kind of bad file or failed write.
#include <catch2/catch.hpp>

#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "ann/ann.hpp"
#include "ann/io/atomic_file.hpp"
#include "ann/io/checkpoint.hpp"
#include "ann/io/model_file.hpp"
#include "ann/train/evaluate.hpp"
#include "../fuzz/fuzz_model.hpp"

using namespace ann;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A fresh folder under /tmp, removed (with everything in it) at the end of the test.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "ann_test_io_XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
    // Names in the folder other than the given ones: leftover temporary files.
    std::vector<std::string> others(const std::vector<std::string>& expected) const {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(path)) {
            const auto name = e.path().filename().string();
            if (std::find(expected.begin(), expected.end(), name) == expected.end()) out.push_back(name);
        }
        return out;
    }
};

std::string slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

// The exact bits of every parameter, to compare models bit for bit.
template <class T>
std::vector<std::string> bits(Layer<T>& model) {
    std::vector<std::string> out;
    for (auto* p : model.parameters()) out.emplace_back(reinterpret_cast<const char*>(p->value.data()), p->size() * sizeof(T));
    return out;
}
template <class T>
std::vector<std::string> bits(const std::vector<Array<T>>& ts) {
    std::vector<std::string> out;
    for (const auto& t : ts) {
        std::string s(reinterpret_cast<const char*>(t.data()), t.size() * sizeof(T));
        out.push_back(std::to_string(t.dimension()) + ":" + s);
    }
    return out;
}

template <class T>
void random_grads(Layer<T>& model, Rng& rng) {
    for (auto* p : model.parameters())
        for (auto& g : p->grad) g = static_cast<T>(rng.normal());
}

// Values no arithmetic round trip would keep: NaN with a payload, -0, a denormal, infinity.
void plant_special_values(Layer<float>& model) {
    auto* p = model.parameters().front();
    std::uint32_t nan_bits = 0x7fc12345u;
    std::memcpy(&p->value.data()[0], &nan_bits, 4);
    p->value.data()[1] = -0.0f;
    p->value.data()[2] = std::numeric_limits<float>::denorm_min();
    p->value.data()[3] = -std::numeric_limits<float>::infinity();
}

const std::vector<std::string> kArchitectures{"mlp_1", "mlp_2", "cnn_3", "cnn_4", "cnn_5"};

}  // namespace

TEST_CASE("crc32 is zlib's", "[io]") {
    CHECK(io::crc32("123456789") == 0xCBF43926u);
    CHECK(io::crc32("") == 0u);
    CHECK(io::crc32("56789", io::crc32("1234")) == 0xCBF43926u);
}

TEST_CASE("model files are little-endian with the documented layout", "[io]") {
    Sequential<float> m;
    m.emplace<Linear<float>>(2, 1);
    auto params = m.parameters();
    params[0]->value(0, 0) = 1.0f;   // 0x3f800000
    params[0]->value(0, 1) = -2.0f;  // 0xc0000000
    params[1]->value(0) = 0.5f;      // 0x3f000000
    const std::string f = io::encode_model(m, "tiny");
    io::ByteWriter payload;
    payload.u64(4), payload.bytes("tiny"), payload.u32(2);
    payload.u64(8), payload.bytes("0.weight"), payload.u8(1), payload.u32(2), payload.u64(1), payload.u64(2);
    payload.bytes(std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8));
    payload.u64(6), payload.bytes("0.bias"), payload.u8(1), payload.u32(1), payload.u64(1);
    payload.bytes(std::string("\x00\x00\x00\x3f", 4));
    const std::string& p = payload.data();
    REQUIRE(f.size() == 24 + p.size());
    CHECK(f.substr(0, 8) == "ANNMODEL");
    CHECK(f.substr(8, 4) == std::string("\x01\x00\x00\x00", 4));
    const std::uint32_t crc = io::crc32(p);
    CHECK(f.substr(12, 4) == std::string({char(crc), char(crc >> 8), char(crc >> 16), char(crc >> 24)}));
    CHECK(f.substr(16, 8) == std::string({char(p.size()), 0, 0, 0, 0, 0, 0, 0}));
    CHECK(f.substr(24) == p);
}

TEST_CASE("model files round-trip bit-exactly for all five homework models", "[io]") {
    TempDir dir;
    for (const auto& name : kArchitectures) {
        INFO(name);
        Rng r1(1), r2(2);
        auto saved = models::homework<float>(name, models::Activation::relu, r1);
        auto loaded = models::homework<float>(name, models::Activation::relu, r2);
        plant_special_values(saved);
        REQUIRE(bits(saved) != bits(loaded));
        io::save_model(dir.file(name + ".annm"), saved, name);
        io::load_model(dir.file(name + ".annm"), loaded, name);
        CHECK(bits(saved) == bits(loaded));
        // Saving what was loaded gives the same file.
        CHECK(io::encode_model(loaded, name) == slurp(dir.file(name + ".annm")));
    }
    CHECK(dir.others({"mlp_1.annm", "mlp_2.annm", "cnn_3.annm", "cnn_4.annm", "cnn_5.annm"}).empty());
}

TEST_CASE("double models round-trip, and a float file does not load into a double model", "[io]") {
    Rng r1(1), r2(2);
    auto a = models::homework<double>("cnn_3", models::Activation::relu, r1);
    auto b = models::homework<double>("cnn_3", models::Activation::relu, r2);
    io::decode_model(io::encode_model(a, "cnn_3"), b, "cnn_3", "mem");
    CHECK(bits(a) == bits(b));
    auto f = models::homework<float>("cnn_3");
    CHECK_THROWS_WITH(io::decode_model(io::encode_model(f, "cnn_3"), b, "cnn_3", "f.annm"),
                      Catch::Contains("f.annm") && Catch::Contains("float32") && Catch::Contains("float64"));
    CHECK(bits(a) == bits(b));
}

TEST_CASE("checkpoints round-trip model, SGD and Adam state, rng and loop state, and resuming matches", "[io]") {
    TempDir dir;
    for (const auto& name : kArchitectures) {
        for (const bool adam : {false, true}) {
            INFO(name << (adam ? " Adam" : " SGD"));
            Rng init1(1), init2(2), data(3);
            auto m1 = models::homework<float>(name, models::Activation::relu, init1);
            auto m2 = models::homework<float>(name, models::Activation::relu, init2);
            Rng rng1(10), rng2(20);
            rng1.normal();  // leaves a Box-Muller spare in the state
            const json loop = {{"epoch", 3}, {"step", 1200}, {"train_loss", {2.3, 1.9, 1.7}}};
            const std::string path = dir.file("ckpt");
            auto run = [&](auto& o1, auto& o2) {
                for (int s = 0; s < 3; ++s) {
                    random_grads(m1, data);
                    o1.step();
                }
                io::save_checkpoint(path, m1, name, o1, rng1, loop);
                const json got = io::load_checkpoint(path, m2, name, o2, rng2);
                CHECK(got == loop);
                CHECK(bits(m1) == bits(m2));
                CHECK(o2.lr() == o1.lr());
                CHECK(rng2.state() == rng1.state());
                CHECK(rng2.normal() == rng1.normal());
                // One more identical step from both: the resumed run continues the saved one.
                random_grads(m1, data);
                for (std::size_t i = 0; i < m1.parameters().size(); ++i) m2.parameters()[i]->grad = m1.parameters()[i]->grad;
                o1.step();
                o2.step();
                CHECK(bits(m1) == bits(m2));
            };
            if (adam) {
                Adam<float> o1(m1.parameters(), AdamOptions{2e-3});
                Adam<float> o2(m2.parameters(), AdamOptions{2e-3});
                o2.set_lr(0.5);  // restored from the file
                run(o1, o2);
                CHECK(o2.step_count() == 4);
                CHECK(bits(o1.first_moments()) == bits(o2.first_moments()));
                CHECK(bits(o1.second_moments()) == bits(o2.second_moments()));
            } else {
                SGD<float> o1(m1.parameters(), 0.01, 0.9);
                SGD<float> o2(m2.parameters(), 0.3, 0.9);
                run(o1, o2);
                CHECK(bits(o1.state()) == bits(o2.state()));
            }
        }
    }
}

TEST_CASE("an SGD checkpoint from before the first step restores empty momentum buffers", "[io]") {
    Rng r1(1), r2(2);
    auto m1 = models::homework<float>("mlp_2", models::Activation::relu, r1);
    auto m2 = models::homework<float>("mlp_2", models::Activation::relu, r2);
    SGD<float> o1(m1.parameters(), 0.1, 0.9), o2(m2.parameters(), 0.1, 0.9);
    random_grads(m2, r2);
    o2.step();  // o2 has buffers; loading must drop them
    Rng rng;
    io::decode_checkpoint(io::encode_checkpoint(m1, "mlp_2", o1, rng, json::object()), "mem", m2, "mlp_2", o2, rng);
    CHECK(bits(o2.state()) == bits(o1.state()));
    random_grads(m1, r1);
    for (std::size_t i = 0; i < m1.parameters().size(); ++i) m2.parameters()[i]->grad = m1.parameters()[i]->grad;
    o1.step(), o2.step();
    CHECK(bits(m1) == bits(m2));
}

TEST_CASE("SGD momentum starts from the gradient for one-element parameters too, also after a resume", "[io]") {
    // A default (empty) xarray has size 1, so "buffer not started" cannot be told by size alone.
    Sequential<double> m;
    m.emplace<Linear<double>>(3, 1);  // bias has shape (1,)
    SGD<double> opt(m.parameters(), 0.1, 0.9);
    Rng rng;
    io::decode_checkpoint(io::encode_checkpoint(m, "net", opt, rng, {}), "c", m, "net", opt, rng);
    opt.state()[1].fill(5.0);  // whatever an unstarted buffer happens to hold
    auto* bias = m.parameters()[1];
    const double b0 = bias->value(0);
    bias->grad.fill(2.0);
    opt.step();
    CHECK(bias->value(0) == b0 - 0.1 * 2.0);
}

TEST_CASE("a file for another architecture is a clear error and changes nothing", "[io]") {
    auto cnn3 = models::homework<float>("cnn_3");
    auto cnn4 = models::homework<float>("cnn_4");
    const auto before = bits(cnn4);
    const std::string f3 = io::encode_model(cnn3, "cnn_3");
    CHECK_THROWS_WITH(io::decode_model(f3, cnn4, "cnn_4", "m.annm"),
                      Catch::Contains("m.annm") && Catch::Contains("'cnn_3'") && Catch::Contains("'cnn_4'"));
    // Even when mislabelled, the tensors give it away.
    const std::string mislabelled = io::encode_model(cnn3, "cnn_4");
    CHECK_THROWS_WITH(io::decode_model(mislabelled, cnn4, "cnn_4", "m.annm"),
                      Catch::Contains("8 parameter tensors") && Catch::Contains("has 10"));
    Sequential<float> wide, narrow;
    wide.emplace<Linear<float>>(4, 3);
    narrow.emplace<Linear<float>>(4, 2);
    CHECK_THROWS_WITH(io::decode_model(io::encode_model(wide, "net"), narrow, "net", "m.annm"),
                      Catch::Contains("'0.weight'") && Catch::Contains("(3, 4)") && Catch::Contains("(2, 4)"));
    CHECK(bits(cnn4) == before);

    // Checkpoints too: model, optimizer and rng stay as they were.
    SGD<float> o3(cnn3.parameters(), 0.1), o4(cnn4.parameters(), 0.1);
    Rng rng(5);
    const std::string state = rng.state();
    CHECK_THROWS_WITH(io::decode_checkpoint(io::encode_checkpoint(cnn3, "cnn_3", o3, Rng(7), {}), "c", cnn4, "cnn_4", o4, rng),
                      Catch::Contains("'cnn_3'") && Catch::Contains("'cnn_4'"));
    CHECK(bits(cnn4) == before);
    CHECK(rng.state() == state);
}

TEST_CASE("an Adam checkpoint does not load into SGD, nor one with other hyperparameters", "[io]") {
    Sequential<float> m;
    m.emplace<Linear<float>>(3, 2);
    Adam<float> adam(m.parameters());
    SGD<float> sgd(m.parameters(), 0.1, 0.9), sgd0(m.parameters(), 0.1, 0.0);
    Rng rng;
    const std::string a = io::encode_checkpoint(m, "net", adam, rng, {});
    CHECK_THROWS_WITH(io::decode_checkpoint(a, "c.annc", m, "net", sgd, rng),
                      Catch::Contains("c.annc") && Catch::Contains("Adam optimizer state") && Catch::Contains("into SGD"));
    const std::string s = io::encode_checkpoint(m, "net", sgd, rng, {});
    CHECK_THROWS_WITH(io::decode_checkpoint(s, "c.annc", m, "net", adam, rng), Catch::Contains("SGD optimizer state"));
    CHECK_THROWS_WITH(io::decode_checkpoint(s, "c.annc", m, "net", sgd0, rng),
                      Catch::Contains("momentum = 0.9") && Catch::Contains("momentum = 0"));
    Adam<float> other_beta(m.parameters(), AdamOptions{1e-3, 0.8});
    CHECK_THROWS_WITH(io::decode_checkpoint(a, "c.annc", m, "net", other_beta, rng), Catch::Contains("beta1"));
    // A model file is not a checkpoint and vice versa.
    CHECK_THROWS_WITH(io::decode_checkpoint(io::encode_model(m, "net"), "m.annm", m, "net", sgd, rng),
                      Catch::Contains("model file, not a checkpoint"));
    CHECK_THROWS_WITH(io::decode_model(s, m, "net", "c.annc"), Catch::Contains("checkpoint, not a model file"));
    CHECK_THROWS_WITH(io::decode_model(std::string("hello"), m, "net", "x"), Catch::Contains("not an ann model file"));
}

TEST_CASE("truncated files are errors at every offset and leave everything unchanged", "[io]") {
    Rng r1(1), r2(2);
    auto saved = models::homework<float>("cnn_3", models::Activation::relu, r1);
    auto target = models::homework<float>("cnn_3", models::Activation::relu, r2);
    Adam<float> o1(saved.parameters()), o2(target.parameters());
    random_grads(saved, r1);
    o1.step();
    Rng rng(9);
    const auto model_before = bits(target);
    const auto m_before = bits(o2.first_moments());
    const std::string rng_before = rng.state();
    const std::string model_file = io::encode_model(saved, "cnn_3");
    const std::string ckpt = io::encode_checkpoint(saved, "cnn_3", o1, Rng(3), json{{"epoch", 1}});
    std::vector<std::size_t> cuts;
    for (std::size_t i = 0; i < 200; ++i) cuts.push_back(i);
    for (std::size_t i = 200; i < ckpt.size(); i += 331) cuts.push_back(i);
    cuts.push_back(model_file.size() - 1);
    cuts.push_back(ckpt.size() - 1);
    int errors = 0;
    for (std::size_t cut : cuts) {
        INFO("cut at " << cut);
        if (cut < model_file.size()) {
            CHECK_THROWS_AS(io::decode_model(model_file.substr(0, cut), target, "cnn_3", "m"), Error);
            ++errors;
        }
        CHECK_THROWS_AS(io::decode_checkpoint(ckpt.substr(0, cut), "c", target, "cnn_3", o2, rng), Error);
        ++errors;
        // A payload cut short but framed with a matching length and checksum (a writer bug,
        // not a short file) must still be caught by the bounds checks of the parser.
        if (cut > io::kHeaderSize) {
            const std::string reframed = io::frame_file(io::kCheckpointMagic, ckpt.substr(io::kHeaderSize, cut - io::kHeaderSize));
            CHECK_THROWS_AS(io::decode_checkpoint(reframed, "c", target, "cnn_3", o2, rng), Error);
        }
    }
    CHECK(errors > 300);
    CHECK(bits(target) == model_before);
    CHECK(bits(o2.first_moments()) == m_before);
    CHECK(o2.step_count() == 0);
    CHECK(rng.state() == rng_before);
    CHECK_THROWS_WITH(io::decode_model(model_file.substr(0, 1000), target, "cnn_3", "m.annm"),
                      Catch::Contains("m.annm") && Catch::Contains("truncated"));
    CHECK_THROWS_WITH(io::decode_model(model_file + "x", target, "cnn_3", "m.annm"), Catch::Contains("1 unexpected bytes"));
}

TEST_CASE("flipped bytes are caught by the checksum or the header checks", "[io]") {
    auto saved = models::homework<float>("mlp_2");
    auto target = models::homework<float>("mlp_2");
    const auto before = bits(target);
    const std::string f = io::encode_model(saved, "mlp_2");
    for (std::size_t i = io::kHeaderSize; i < f.size(); i += 997) {
        std::string bad = f;
        bad[i] = static_cast<char>(bad[i] ^ 0x10);
        CHECK_THROWS_WITH(io::decode_model(bad, target, "mlp_2", "m.annm"),
                          Catch::Contains("m.annm") && Catch::Contains("checksum mismatch"));
    }
    for (std::size_t i = 0; i < io::kHeaderSize; ++i) {
        std::string bad = f;
        bad[i] = static_cast<char>(bad[i] ^ 0x01);
        CHECK_THROWS_AS(io::decode_model(bad, target, "mlp_2", "m.annm"), Error);
    }
    CHECK(bits(target) == before);
}

TEST_CASE("a file from a future format version names both versions", "[io]") {
    Sequential<float> m;
    m.emplace<Linear<float>>(3, 2);
    std::string f = io::encode_model(m, "net");
    f[8] = 2;
    CHECK_THROWS_WITH(io::decode_model(f, m, "net", "new.annm"),
                      Catch::Contains("new.annm") && Catch::Contains("version 2") && Catch::Contains("version 1"));
    f[8] = 0;
    CHECK_THROWS_WITH(io::decode_model(f, m, "net", "old.annm"), Catch::Contains("version 0 is invalid"));
}

TEST_CASE("hostile lengths and shapes are refused before any allocation", "[io]") {
    Sequential<float> m;
    m.emplace<Linear<float>>(3, 2);
    auto frame = [](const io::ByteWriter& w) { return io::frame_file(io::kModelMagic, w.data()); };
    {
        io::ByteWriter w;
        w.u64(UINT64_MAX);  // architecture name length
        CHECK_THROWS_WITH(io::decode_model(frame(w), m, "net", "h"), Catch::Contains("exceeds the limit"));
    }
    {
        io::ByteWriter w;
        w.string("net"), w.u32(0xFFFFFFFFu);  // four billion tensors, none present
        CHECK_THROWS_WITH(io::decode_model(frame(w), m, "net", "h"), Catch::Contains("truncated"));
    }
    {
        io::ByteWriter w;
        w.string("net"), w.u32(1), w.string("0.weight"), w.u8(1), w.u32(3);
        w.u64(1ull << 40), w.u64(1ull << 40), w.u64(1ull << 40);  // 2^120 values
        CHECK_THROWS_WITH(io::decode_model(frame(w), m, "net", "h"), Catch::Contains("more than 2^64"));
    }
    {
        io::ByteWriter w;
        w.string("net"), w.u32(1), w.string("0.weight"), w.u8(1), w.u32(1000);
        CHECK_THROWS_WITH(io::decode_model(frame(w), m, "net", "h"), Catch::Contains("rank 1000"));
    }
    {
        io::ByteWriter w;
        w.string("net"), w.u32(1), w.string("0.weight"), w.u8(7);
        CHECK_THROWS_WITH(io::decode_model(frame(w), m, "net", "h"), Catch::Contains("dtype tag 7"));
    }
}

TEST_CASE("a malformed rng state or loop state in a checkpoint is an error", "[io]") {
    Sequential<float> m;
    m.emplace<Linear<float>>(3, 2);
    SGD<float> sgd(m.parameters(), 0.1);
    auto make = [&](const std::string& rng_text, const std::string& loop_text) {
        io::ByteWriter w;
        io::write_model_section(w, m, "net");
        io::write_optimizer_section(w, io::OptimizerCodec<SGD<float>>::layout(sgd));
        w.string(rng_text);
        w.string(loop_text);
        return io::frame_file(io::kCheckpointMagic, w.data());
    };
    Rng rng(4);
    const std::string before = rng.state();
    CHECK_NOTHROW(io::decode_checkpoint(make(Rng(8).state(), "{\"a\": 1}"), "c", m, "net", sgd, rng));
    CHECK(rng.state() == Rng(8).state());
    rng.set_state(before);
    CHECK_THROWS_WITH(io::decode_checkpoint(make("12 not numbers", "{}"), "c", m, "net", sgd, rng),
                      Catch::Contains("rng state") && Catch::Contains("malformed"));
    std::string zero;
    for (int i = 0; i < 312; ++i) zero += "0 ";
    zero += "312 0 0";
    CHECK_THROWS_WITH(io::decode_checkpoint(make(zero, "{}"), "c", m, "net", sgd, rng), Catch::Contains("degenerate"));
    CHECK_THROWS_WITH(io::decode_checkpoint(make(Rng(8).state(), "{\"a\": "), "c", m, "net", sgd, rng),
                      Catch::Contains("not valid JSON"));
    CHECK(rng.state() == before);
}

TEST_CASE("writing into a missing or unwritable folder names the path and the reason", "[io]") {
    TempDir dir;
    Sequential<float> m;
    m.emplace<Linear<float>>(3, 2);
    const std::string missing = dir.file("no/such/folder/net.annm");
    CHECK_THROWS_WITH(io::save_model(missing, m, "net"),
                      Catch::Contains(missing) && Catch::Contains("No such file or directory"));
    io::write_file_atomic(dir.file("plain"), "x");
    CHECK_THROWS_WITH(io::save_model(dir.file("plain/net.annm"), m, "net"), Catch::Contains("Not a directory"));
    CHECK_THROWS_WITH(io::load_model(dir.file("absent.annm"), m, "net"),
                      Catch::Contains("absent.annm") && Catch::Contains("No such file or directory"));
    CHECK_THROWS_WITH(io::load_model(dir.path.string(), m, "net"), Catch::Contains("folder"));

    // A read-only folder. Root ignores permission bits, so as root the write is tried from a
    // child process that has dropped to the unprivileged user "nobody".
    const std::string ro = dir.file("ro");
    fs::create_directory(ro);
    io::save_model(ro + "/net.annm", m, "net");
    const std::string before = slurp(ro + "/net.annm");
    fs::permissions(dir.path, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::others_read | fs::perms::others_exec);
    m.parameters()[0]->value.fill(7.0f);
    std::string message;
    if (::geteuid() != 0) {
        try {
            io::save_model(ro + "/net.annm", m, "net");
        } catch (const Error& e) {
            message = e.what();
        }
    } else {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::close(fds[0]);
            std::string msg = "could not drop privileges";
            if (::setgid(65534) == 0 && ::setuid(65534) == 0) {
                msg = "no error";
                try {
                    io::save_model(ro + "/net.annm", m, "net");
                } catch (const Error& e) {
                    msg = e.what();
                }
            }
            const ssize_t n = ::write(fds[1], msg.data(), msg.size());
            ::_exit(n == static_cast<ssize_t>(msg.size()) ? 0 : 1);
        }
        ::close(fds[1]);
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fds[0], buf, sizeof buf)) > 0) message.append(buf, static_cast<std::size_t>(n));
        ::close(fds[0]);
        int status = 0;
        ::waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status));
    }
    CHECK_THAT(message, Catch::Contains(ro + "/net.annm") && Catch::Contains("Permission denied"));
    CHECK(slurp(ro + "/net.annm") == before);
    fs::permissions(ro, fs::perms::owner_all);
}

TEST_CASE("a write that fails half-way keeps the previous file and leaves no temporary file", "[io]") {
    TempDir dir;
    const std::string path = dir.file("ckpt");
    Rng init(1);
    auto m = models::homework<float>("mlp_1", models::Activation::relu, init);  // ~400 kB
    SGD<float> sgd(m.parameters(), 0.1, 0.9);
    Rng rng(2);
    io::save_checkpoint(path, m, "mlp_1", sgd, rng, json{{"epoch", 1}});
    const std::string good = slurp(path);
    m.parameters()[0]->value.fill(3.0f);

    SECTION("the fill callback throws") {
        CHECK_THROWS_WITH(io::write_file_atomic(path, [](io::AtomicFileWriter& w) {
                              w.write("partial");
                              fail("producer failed");
                          }),
                          "producer failed");
    }
    SECTION("the disk fills up (simulated with RLIMIT_FSIZE)") {
        struct rlimit old {};
        REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
        struct rlimit small = old;
        small.rlim_cur = 64 * 1024;
        auto old_handler = ::signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of being killed
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
        std::string message;
        try {
            io::save_checkpoint(path, m, "mlp_1", sgd, rng, json{{"epoch", 2}});
        } catch (const Error& e) {
            message = e.what();
        }
        ::setrlimit(RLIMIT_FSIZE, &old);
        ::signal(SIGXFSZ, old_handler);
        CHECK_THAT(message, Catch::Contains(path) && Catch::Contains("File too large"));
    }
    SECTION("the final name is taken by a folder, so the rename fails") {
        const std::string taken = dir.file("taken");
        fs::create_directory(taken);
        fs::create_directory(taken + "/inside");
        CHECK_THROWS_WITH(io::write_file_atomic(taken, "data"), Catch::Contains(taken) && Catch::Contains("rename"));
        CHECK(fs::is_directory(taken + "/inside"));
        fs::remove_all(taken);
    }
    CHECK(slurp(path) == good);
    CHECK(dir.others({"ckpt"}).empty());
    Rng i2(9);
    auto back = models::homework<float>("mlp_1", models::Activation::relu, i2);
    SGD<float> sgd2(back.parameters(), 0.1, 0.9);
    CHECK(io::load_checkpoint(path, back, "mlp_1", sgd2, rng) == json{{"epoch", 1}});
}

TEST_CASE("atomic writes replace the previous content", "[io]") {
    TempDir dir;
    const std::string p = dir.file("out.json");
    io::write_file_atomic(p, "{\"a\": 1}");
    io::write_file_atomic(p, "{\"a\": 2}");
    CHECK(slurp(p) == "{\"a\": 2}");
    io::write_file_atomic(p, std::string_view{});
    CHECK(slurp(p).empty());
    CHECK(dir.others({"out.json"}).empty());
    CHECK_THROWS_WITH(io::write_file_atomic("", "x"), Catch::Contains("empty path"));
}

TEST_CASE("the fuzz seed corpus still loads (regenerate it with fuzz/make_corpus.cpp after a format change)", "[io]") {
    const fs::path corpus = fs::path(ANN_TEST_FIXTURES).parent_path().parent_path() / "fuzz" / "corpus" / "checkpoint_reader";
    int models = 0, sgd = 0, adam = 0, adamw = 0, plateau = 0;
    for (const auto& e : fs::directory_iterator(corpus)) {
        const std::string path = e.path().string();
        INFO(path);
        auto m = fuzz::make_model(5);
        Rng rng;
        if (e.path().extension() == ".annm") {
            io::load_model(path, m, fuzz::kArchitecture);
            ++models;
        } else if (e.path().filename().string().rfind("adamw", 0) == 0) {
            AdamW<float> opt(m.parameters(), AdamWOptions{0.01});
            io::load_checkpoint(path, m, fuzz::kArchitecture, opt, rng);
            CHECK(opt.step_count() == 2);
            ++adamw;
        } else if (e.path().filename().string().rfind("plateau", 0) == 0) {
            SGD<float> opt(m.parameters(), 0.1, 0.9);
            ReduceLROnPlateauOptions o;
            o.patience = 2;
            o.cooldown = 1;
            ReduceLROnPlateau<float> sched(opt, o);
            io::load_checkpoint(path, m, fuzz::kArchitecture, opt, rng, &sched);
            CHECK(sched.last_epoch() == 5);
            CHECK(opt.lr() == Approx(0.01));
            ++plateau;
        } else if (e.path().filename().string().rfind("adam", 0) == 0) {
            Adam<float> opt(m.parameters(), AdamOptions{0.01});
            io::load_checkpoint(path, m, fuzz::kArchitecture, opt, rng);
            CHECK(opt.step_count() == 2);
            ++adam;
        } else {
            SGD<float> opt(m.parameters(), 0.1, 0.9);
            io::load_checkpoint(path, m, fuzz::kArchitecture, opt, rng);
            ++sgd;
        }
    }
    CHECK(models >= 1);
    CHECK(sgd >= 1);
    CHECK(adam >= 1);
    CHECK(adamw >= 1);
    CHECK(plateau >= 1);
}

namespace {
// A layer with a buffer (non-trainable state), like BatchNorm2d's running statistics.
template <class T>
struct Counting : Layer<T> {
    Parameter<T> w{"weight", {3}};
    Buffer<T> seen{"seen", {2}};
    std::string name() const override { return "Counting()"; }
    Shape output_shape(const Shape& s) const override { return s; }
    const Array<T>& forward(const Array<T>& x) override { return x; }
    const Array<T>& backward(const Array<T>& dy) override { return dy; }
    std::vector<Parameter<T>*> parameters() override { return {&w}; }
    std::vector<Buffer<T>*> buffers() override { return {&seen}; }
};
}  // namespace

TEST_CASE("buffers are saved after their layer's parameters and copied with them for evaluation", "[io]") {
    auto make = [] {
        Sequential<float> m;
        m.emplace<Linear<float>>(3, 3);
        m.emplace<Counting<float>>();
        return m;
    };
    auto a = make();
    const auto state = io::named_state(a);
    REQUIRE(state.size() == 4);
    CHECK(state[0].name == "0.weight");
    CHECK(state[1].name == "0.bias");
    CHECK(state[2].name == "1.weight");
    CHECK(state[3].name == "1.seen");
    auto& seen = static_cast<Counting<float>&>(a[1]).seen.value;
    seen.host() = Tensor<float>{7.5f, -2.25f};

    auto b = make();
    io::decode_model(io::encode_model(a, "c"), b, "c", "memory");
    CHECK(bool(static_cast<Counting<float>&>(b[1]).seen.value.host() == seen.host()));

    auto c = make();
    train::copy_parameters(a, c);
    CHECK(bool(static_cast<Counting<float>&>(c[1]).seen.value.host() == seen.host()));
    CHECK(bool(c[0].parameters()[0]->value.host() == a[0].parameters()[0]->value.host()));
}
