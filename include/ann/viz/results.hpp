#pragma once
// The result records of homework parts 3-5 and their JSON form (docs: results layout; keys as
// the homework names them). Unknown keys are ignored; a missing or mistyped key is an
// ann::Error naming the file and the key.
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ann/core/error.hpp"
#include "ann/core/tensor.hpp"
#include "ann/io/json_file.hpp"

namespace ann::viz {

using Curve = std::vector<double>;

struct Part3Result {
    std::string name;
    Curve loss_curve, train_acc_curve, val_acc_curve;  // accuracies in percent
    double test_acc = 0;
    Tensor<double> weights;  // first layer: (32, 3072) for mlp_*, (O, C, kh, kw) for cnn_*; may be empty
};

struct Part4Result {
    std::string name;
    Curve relu_loss_curve, sigmoid_loss_curve, relu_grad_curve, sigmoid_grad_curve;
};

struct Part5Result {
    std::string name;
    Curve loss_curve_1, loss_curve_01, loss_curve_001;
    Curve val_acc_curve_1, val_acc_curve_01, val_acc_curve_001;
};

struct ScheduledRun {
    std::string label;
    Curve val_acc_curve;
};

struct ScheduledResult {
    std::string name;
    double steps_per_epoch = 0;
    int record_every = 10;
    std::vector<ScheduledRun> runs;
    std::optional<double> test_acc_scheduled, test_acc_adam;
};

namespace detail {

inline nlohmann::json read_json(const std::string& path) { return io::read_json(path); }

inline const nlohmann::json& key(const nlohmann::json& j, const char* k, const std::string& path) {
    if (!j.is_object()) fail(path, ": expected a JSON object at the top level");
    auto it = j.find(k);
    if (it == j.end()) fail(path, ": missing key '", k, "'");
    return *it;
}

// Labels are drawn in legends and titles: a few hundred characters at most.
inline std::string str(const nlohmann::json& j, const char* k, const std::string& path, std::size_t max_len = 256) {
    const auto& v = key(j, k, path);
    if (!v.is_string()) fail(path, ": key '", k, "' should be a string");
    const auto& s = v.get_ref<const std::string&>();
    if (s.size() > max_len) fail(path, ": key '", k, "' has ", s.size(), " characters, more than the ", max_len, " allowed");
    return s;
}

// An architecture name: letters, digits, '_' and '-' only (never a path), 1 to 64 of them.
inline std::string name(const nlohmann::json& j, const std::string& path) {
    std::string s = str(j, "name", path, 64);
    if (s.empty() || s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
                         std::string::npos)
        fail(path, ": key 'name' should be an architecture name (letters, digits, '_', '-'), got '", s, "'");
    return s;
}

// null (how NaN is written) reads as NaN.
inline double number(const nlohmann::json& v, const char* k, const std::string& path) {
    if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
    if (!v.is_number()) fail(path, ": key '", k, "' should hold numbers");
    return v.get<double>();
}

inline Curve curve(const nlohmann::json& j, const char* k, const std::string& path) {
    const auto& v = key(j, k, path);
    if (!v.is_array()) fail(path, ": key '", k, "' should be a list of numbers");
    Curve c;
    c.reserve(v.size());
    for (const auto& x : v) c.push_back(number(x, k, path));
    return c;
}

// A nested list (rectangular) as a tensor.
inline Tensor<double> nested(const nlohmann::json& v, const char* k, const std::string& path) {
    Shape shape;
    const nlohmann::json* cur = &v;
    while (cur->is_array()) {
        shape.push_back(cur->size());
        if (cur->empty()) break;
        cur = &(*cur)[0];
        if (shape.size() > 8) fail(path, ": key '", k, "' is nested more than 8 deep");
    }
    // Rectangular first, before anything is allocated: then every element the shape claims is
    // in the file, so the element count is bounded by the file (and cannot overflow).
    auto check = [&](auto&& self, const nlohmann::json& node, std::size_t depth) -> void {
        if (depth == shape.size()) {
            if (node.is_array()) fail(path, ": key '", k, "' is not a rectangular array of shape ", shape_str(shape));
            return;
        }
        if (!node.is_array() || node.size() != shape[depth])
            fail(path, ": key '", k, "' is not a rectangular array of shape ", shape_str(shape));
        for (const auto& c : node) self(self, c, depth + 1);
    };
    check(check, v, 0);
    Tensor<double> t = Tensor<double>::from_shape(shape);
    std::size_t at = 0;
    auto fill = [&](auto&& self, const nlohmann::json& node, std::size_t depth) -> void {
        if (depth == shape.size()) {
            t.data()[at++] = number(node, k, path);
            return;
        }
        for (const auto& c : node) self(self, c, depth + 1);
    };
    fill(fill, v, 0);
    return t;
}

}  // namespace detail

inline Part3Result read_part3(const std::string& path) {
    const auto j = detail::read_json(path);
    Part3Result r;
    r.name = detail::name(j, path);
    r.loss_curve = detail::curve(j, "loss_curve", path);
    r.train_acc_curve = detail::curve(j, "train_acc_curve", path);
    r.val_acc_curve = detail::curve(j, "val_acc_curve", path);
    r.test_acc = detail::number(detail::key(j, "test_acc", path), "test_acc", path);
    if (j.contains("weights") && !j["weights"].is_null()) r.weights = detail::nested(j["weights"], "weights", path);
    return r;
}

inline Part4Result read_part4(const std::string& path) {
    const auto j = detail::read_json(path);
    Part4Result r;
    r.name = detail::name(j, path);
    r.relu_loss_curve = detail::curve(j, "relu_loss_curve", path);
    r.sigmoid_loss_curve = detail::curve(j, "sigmoid_loss_curve", path);
    r.relu_grad_curve = detail::curve(j, "relu_grad_curve", path);
    r.sigmoid_grad_curve = detail::curve(j, "sigmoid_grad_curve", path);
    return r;
}

inline Part5Result read_part5(const std::string& path) {
    const auto j = detail::read_json(path);
    Part5Result r;
    r.name = detail::name(j, path);
    r.loss_curve_1 = detail::curve(j, "loss_curve_1", path);
    r.loss_curve_01 = detail::curve(j, "loss_curve_01", path);
    r.loss_curve_001 = detail::curve(j, "loss_curve_001", path);
    r.val_acc_curve_1 = detail::curve(j, "val_acc_curve_1", path);
    r.val_acc_curve_01 = detail::curve(j, "val_acc_curve_01", path);
    r.val_acc_curve_001 = detail::curve(j, "val_acc_curve_001", path);
    return r;
}

inline ScheduledResult read_scheduled(const std::string& path) {
    const auto j = detail::read_json(path);
    ScheduledResult r;
    r.name = detail::name(j, path);
    r.steps_per_epoch = detail::number(detail::key(j, "steps_per_epoch", path), "steps_per_epoch", path);
    if (!(r.steps_per_epoch > 0)) fail(path, ": key 'steps_per_epoch' should be positive");
    if (j.contains("record_every")) {
        const double e = detail::number(j["record_every"], "record_every", path);
        if (!(e >= 1)) fail(path, ": key 'record_every' should be at least 1");
        r.record_every = static_cast<int>(e);
    }
    const auto& runs = detail::key(j, "runs", path);
    if (!runs.is_array()) fail(path, ": key 'runs' should be a list of {label, val_acc_curve}");
    for (const auto& run : runs) r.runs.push_back({detail::str(run, "label", path), detail::curve(run, "val_acc_curve", path)});
    for (const char* k : {"test_acc_scheduled", "test_acc_adam"}) {
        if (!j.contains(k) || j[k].is_null()) continue;
        (std::string(k) == "test_acc_adam" ? r.test_acc_adam : r.test_acc_scheduled) = detail::number(j[k], k, path);
    }
    return r;
}

}  // namespace ann::viz
