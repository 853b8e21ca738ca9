#pragma once
// Quoting for a POSIX shell, for the command lines ann prints (the resume command after Ctrl-C)
// and runs (curl/wget): plain words stay as they are, anything else goes in single quotes with
// each ' written as '\''. Pasting the result into sh gives back exactly the original words.
#include <string>

namespace ann::io {

inline std::string shell_quote(const std::string& word) {
    const bool plain = !word.empty() && word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                                "0123456789_-./=:,+@%") == std::string::npos;
    if (plain) return word;
    std::string q = "'";
    for (char c : word) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

}  // namespace ann::io
