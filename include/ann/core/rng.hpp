#pragma once
// Seedable random numbers with results that do not depend on the standard library's
// distribution implementations (those differ between libstdc++ and libc++): the same seed
// gives the same network on every platform.
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>

namespace ann {

class Rng {
public:
    explicit Rng(std::uint64_t seed = 0) : engine_(seed) {}

    void seed(std::uint64_t s) { engine_.seed(s); }
    std::uint64_t next_u64() { return engine_(); }

    // Uniform in [0, 1) from the top 53 bits.
    double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

    // Standard normal by Box-Muller (both halves used).
    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double u1 = 0.0;
        while (u1 <= 0.0) u1 = uniform();
        const double u2 = uniform();
        const double r = std::sqrt(-2.0 * std::log(u1));
        spare_ = r * std::sin(2.0 * M_PI * u2);
        has_spare_ = true;
        return r * std::cos(2.0 * M_PI * u2);
    }

    // Uniform integer in [0, n) without modulo bias.
    std::uint64_t below(std::uint64_t n) {
        const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
        std::uint64_t x;
        do x = engine_(); while (x >= limit);
        return x % n;
    }

    // Fisher-Yates with our own integer draw, so shuffles are portable too.
    template <class It>
    void shuffle(It first, It last) {
        const auto n = static_cast<std::uint64_t>(last - first);
        for (std::uint64_t i = n; i > 1; --i) std::swap(first[i - 1], first[below(i)]);
    }

    // Text form of the whole state (engine + Box-Muller spare), for checkpoints.
    std::string state() const {
        std::ostringstream os;
        os.precision(17);
        os << engine_ << ' ' << has_spare_ << ' ' << spare_;
        return os.str();
    }
    void set_state(const std::string& s) {
        std::istringstream is(s);
        is >> engine_ >> has_spare_ >> spare_;
    }

private:
    std::mt19937_64 engine_;
    bool has_spare_ = false;
    double spare_ = 0.0;
};

// The generator layers draw their initial weights from unless given another: like
// torch.manual_seed, seeding it makes network construction reproducible.
inline Rng& default_rng() {
    static Rng rng(0);
    return rng;
}
inline void manual_seed(std::uint64_t seed) { default_rng().seed(seed); }

}  // namespace ann
