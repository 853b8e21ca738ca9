#pragma once
// AdaptiveAvgPool2d, as torch.nn.AdaptiveAvgPool2d(output_size):
//   x is (N, C, H, W), y is (N, C, OH, OW) whatever H and W are (H, W >= 1; smaller than the
//   output is fine: windows then overlap). Output (i, j) averages rows
//   [floor(i H / OH), ceil((i+1) H / OH)) and columns [floor(j W / OW), ceil((j+1) W / OW)),
//   PyTorch's start/end rule; AdaptiveAvgPool2d(1) is global average pooling.
// The arithmetic is AvgPool2d's (layers/avgpool2d.hpp, backend/avgpool_windows.hpp).
#include <algorithm>

#include "ann/layers/avgpool2d.hpp"

namespace ann {

template <class T>
class AdaptiveAvgPool2d : public detail::AvgPoolLayer<T> {
public:
    // output_size x output_size
    explicit AdaptiveAvgPool2d(std::size_t output_size) : AdaptiveAvgPool2d(output_size, output_size) {
        square_ = true;
    }
    AdaptiveAvgPool2d(std::size_t output_height, std::size_t output_width) : oh_(output_height), ow_(output_width) {
        if (oh_ == 0 || ow_ == 0) fail(name(), ": output_size must be positive");
        this->check_side("AdaptiveAvgPool2d", "output_size", std::max(oh_, ow_));
    }

    // As PyTorch prints it: output_size=1 when given one number, output_size=(2, 3) for two.
    std::string name() const override {
        if (square_) return "AdaptiveAvgPool2d(output_size=" + std::to_string(oh_) + ")";
        return "AdaptiveAvgPool2d(output_size=(" + std::to_string(oh_) + ", " + std::to_string(ow_) + "))";
    }

    std::size_t output_height() const { return oh_; }
    std::size_t output_width() const { return ow_; }

protected:
    AvgPoolGeometry geometry(const Shape& s) const override {
        this->check_4d(s);
        if (s[2] == 0 || s[3] == 0) fail(name(), ": input ", shape_str(s), " has an empty plane (H or W is 0)");
        AvgPoolGeometry g;
        g.H = int(s[2]), g.W = int(s[3]), g.OH = int(oh_), g.OW = int(ow_);
        return g;  // k == 0: adaptive windows
    }

private:
    std::size_t oh_, ow_;
    bool square_ = false;
};

}  // namespace ann
