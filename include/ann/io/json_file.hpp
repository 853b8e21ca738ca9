#pragma once
// The one JSON reader for results files and checkpoint loop states. nlohmann::json itself
// recurses over nesting when a value is copied or compared, so a hostile file nested a few
// hundred thousand deep would overflow the stack; here nesting and string lengths are capped
// while parsing, before such a value exists.
//   parse_json(text, source)   source names the file in errors
//   read_json(path)            io::read_file (at most kMaxJsonBytes) + parse_json
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "ann/core/error.hpp"
#include "ann/io/read_file.hpp"

namespace ann::io {

constexpr int kMaxJsonDepth = 64;                                 // ann writes at most 6
constexpr std::size_t kMaxJsonString = 64 * 1024;                // ann writes at most ~200 characters
constexpr std::uint64_t kMaxJsonBytes = std::uint64_t(64) << 20;  // part 3's largest file: ~2 MB

namespace detail {
struct JsonLimit {
    std::string what;
};
}  // namespace detail

inline nlohmann::json parse_json(const std::string& text, const std::string& source) {
    using nlohmann::json;
    auto guard = [](int depth, json::parse_event_t event, json& value) {
        if (depth > kMaxJsonDepth)
            throw detail::JsonLimit{"nested more than " + std::to_string(kMaxJsonDepth) + " deep"};
        if ((event == json::parse_event_t::value || event == json::parse_event_t::key) && value.is_string() &&
            value.get_ref<const std::string&>().size() > kMaxJsonString)
            throw detail::JsonLimit{"a string of " + std::to_string(value.get_ref<const std::string&>().size()) +
                                    " bytes, more than the " + std::to_string(kMaxJsonString) + " allowed"};
        return true;
    };
    try {
        return json::parse(text, guard);
    } catch (const detail::JsonLimit& e) {
        fail(source, ": refused: the JSON has ", e.what);
    } catch (const json::exception& e) {
        fail(source, ": not valid JSON (", e.what(), ")");
    }
}

inline nlohmann::json read_json(const std::string& path) { return parse_json(read_file(path, kMaxJsonBytes), path); }

}  // namespace ann::io
