#pragma once
// The PyTorch fixtures in tests/fixtures (written by tools/make_*_fixtures.py): one reader for
// every test that compares against them.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "ann/core/tensor.hpp"

namespace testutil {

// tests/fixtures/<file>, parsed; a missing file fails the test naming the script that writes it.
inline nlohmann::json load_fixture(const std::string& file, const std::string& script) {
    const std::string path = std::string(ANN_TEST_FIXTURES) + "/" + file;
    std::ifstream in(path);
    if (!in) FAIL("cannot open " << path << " (run " << script << ")");
    return nlohmann::json::parse(in);
}

// {"shape": [...], "data": [...]} as a float tensor.
inline ann::Tensor<float> fixture_tensor(const nlohmann::json& j) {
    const ann::Shape shape = j.at("shape").get<ann::Shape>();
    const auto data = j.at("data").get<std::vector<float>>();
    REQUIRE(data.size() == ann::numel(shape));
    ann::Tensor<float> t = ann::Tensor<float>::from_shape(shape);
    std::copy(data.begin(), data.end(), t.data());
    return t;
}

}  // namespace testutil
