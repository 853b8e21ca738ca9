// A source file that includes only the layers it uses (docs/extending.md, "Lean includes"):
// no CPU kernels are compiled here.
#include <string>

#include "ann/layers/activations.hpp"
#include "ann/layers/linear.hpp"

// 0: the forward ran and gave relu(x W^T + b) for x = 1; 3: the library said the CPU arithmetic
// is missing (the expected answer when no source file of the program includes it); 1: anything else.
int run_layers() {
    try {
        ann::Rng rng(1);
        ann::Linear<float> lin(2, 3, true, rng);
        ann::ReLU<float> relu;
        ann::Array<float> x(ann::Shape{1, 2});
        x.fill(1.f);
        const auto& y = relu.forward(lin.forward(x));
        for (std::size_t o = 0; o < 3; ++o) {
            float z = lin.bias().value.host()(o);
            for (std::size_t i = 0; i < 2; ++i) z += lin.weight().value.host()(o, i);
            if (y.host()(0, o) != (z > 0 ? z : 0.f)) return 1;
        }
        return 0;
    } catch (const ann::Error& e) {
        return std::string(e.what()).find("not compiled into this program") != std::string::npos ? 3 : 1;
    }
}
