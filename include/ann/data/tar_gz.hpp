#pragma once
// Reading .tar.gz archives: zlib for the gzip layer, our own parser for the tar layer.
// The parser trusts nothing in the archive (it will be fuzzed): every header's checksum is
// verified, numeric fields must be well-formed octal (or GNU base-256), long names are
// capped, and truncation anywhere is an error that names the archive. It never creates a
// path from archive contents: callers decide which members they want and where they go.
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <zlib.h>

#include "ann/core/error.hpp"
#include "ann/io/read_file.hpp"

namespace ann::data {

// Reads up to n bytes into buf; returns the count, 0 only at the end of the data.
using ReadFn = std::function<std::size_t(void* buf, std::size_t n)>;
// Receives a member's bytes in order, in chunks.
using SinkFn = std::function<void(const char* data, std::size_t n)>;

struct TarEntry {
    std::string path;   // as stored: ustar prefix + name, or a GNU/pax long name
    char type = '0';    // '0' regular file, '5' directory, ... (POSIX typeflag)
    std::uint64_t size = 0;
};

namespace detail {

constexpr std::size_t kTarBlock = 512;
constexpr std::size_t kMaxLongName = 4096;
constexpr std::size_t kMaxPaxHeader = 1 << 20;

inline std::string field_str(const char* f, std::size_t n) {
    std::size_t len = 0;
    while (len < n && f[len] != '\0') ++len;
    return std::string(f, len);
}

// Octal with optional leading spaces and trailing NULs/spaces (as tar writes it), or GNU's
// base-256 form (top bit of the first byte set) for values that do not fit.
inline bool parse_tar_number(const unsigned char* f, std::size_t n, std::uint64_t& out) {
    out = 0;
    if (n == 0) return false;
    if (f[0] & 0x80) {
        if (f[0] & 0x40) return false;  // negative
        std::uint64_t v = f[0] & 0x3f;
        for (std::size_t i = 1; i < n; ++i) {
            if (v > (UINT64_MAX >> 8)) return false;
            v = (v << 8) | f[i];
        }
        out = v;
        return true;
    }
    std::size_t i = 0;
    while (i < n && f[i] == ' ') ++i;
    bool any = false;
    for (; i < n && f[i] >= '0' && f[i] <= '7'; ++i) {
        if (out > (UINT64_MAX >> 3)) return false;
        out = out * 8 + (f[i] - '0');
        any = true;
    }
    for (; i < n; ++i)
        if (f[i] != ' ' && f[i] != '\0') return false;
    return any;
}

// Reads exactly n bytes or returns how many it got before the end.
inline std::size_t read_full(const ReadFn& read, void* buf, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
        const std::size_t r = read(static_cast<char*>(buf) + got, n - got);
        if (r == 0) break;
        if (r > n - got) fail("tar: reader returned more bytes than asked for");
        got += r;
    }
    return got;
}

// Pax extended header records: "<len> <key>=<value>\n". Only "path" matters to us.
inline bool pax_path(const std::string& data, std::string& path) {
    std::size_t pos = 0;
    bool found = false;
    while (pos < data.size()) {
        std::size_t sp = data.find(' ', pos);
        if (sp == std::string::npos) return found;
        std::uint64_t len = 0;
        for (std::size_t i = pos; i < sp; ++i) {
            if (data[i] < '0' || data[i] > '9' || len > data.size()) return found;
            len = len * 10 + (data[i] - '0');
        }
        if (len <= sp - pos + 1 || pos + len > data.size() || data[pos + len - 1] != '\n') return found;
        const std::string rec = data.substr(sp + 1, pos + len - 1 - (sp + 1));
        if (rec.compare(0, 5, "path=") == 0) {
            path = rec.substr(5);
            found = true;
        }
        pos += len;
    }
    return found;
}

}  // namespace detail

// Walks a tar stream. For each regular file, on_file(entry) returns a sink for its bytes, or
// an empty function to skip them. `what` names the archive in error messages. A member whose
// declared size would take the stream past max_bytes is refused before any of it is read, so
// a small archive cannot make its reader work through gigabytes.
inline void read_tar(const ReadFn& read, const std::string& what,
                     const std::function<SinkFn(const TarEntry&)>& on_file,
                     std::uint64_t max_bytes = std::numeric_limits<std::uint64_t>::max()) {
    using namespace detail;
    unsigned char h[kTarBlock];
    std::uint64_t offset = 0;
    std::string long_name;  // from a preceding GNU 'L' or pax 'x' header
    std::vector<char> chunk(1 << 16);

    // Streams `size` bytes of member data (plus padding) to sink (or nowhere).
    auto consume = [&](std::uint64_t size, const SinkFn& sink, std::string* keep) {
        std::uint64_t left = size + (kTarBlock - size % kTarBlock) % kTarBlock;
        std::uint64_t data_left = size;
        while (left > 0) {
            const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size()));
            const std::size_t got = read_full(read, chunk.data(), want);
            if (got != want)
                fail(what, ": truncated archive (member data ends early at byte ", offset + got, ")");
            const std::size_t useful = static_cast<std::size_t>(std::min<std::uint64_t>(data_left, got));
            if (useful > 0) {
                if (sink) sink(chunk.data(), useful);
                if (keep) keep->append(chunk.data(), useful);
            }
            data_left -= useful;
            left -= got;
            offset += got;
        }
    };

    for (;;) {
        const std::size_t got = read_full(read, h, kTarBlock);
        if (got == 0) return;  // no end-of-archive blocks: accepted, as GNU tar does
        if (got != kTarBlock) fail(what, ": truncated archive (partial header at byte ", offset, ")");
        bool zero = true;
        for (unsigned char c : h) zero = zero && c == 0;
        if (zero) return;  // end-of-archive marker

        std::uint64_t stored_sum = 0;
        if (!parse_tar_number(h + 148, 8, stored_sum))
            fail(what, ": not a tar archive or corrupt header at byte ", offset, " (bad checksum field)");
        std::uint64_t sum = 0;
        for (std::size_t i = 0; i < kTarBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : h[i];
        if (sum != stored_sum)
            fail(what, ": not a tar archive or corrupt header at byte ", offset, " (checksum ", stored_sum,
                 ", computed ", sum, ")");
        TarEntry e;
        if (!parse_tar_number(h + 124, 12, e.size))
            fail(what, ": corrupt header at byte ", offset, " (bad size field)");
        e.type = static_cast<char>(h[156]);
        const bool ustar = std::memcmp(h + 257, "ustar", 5) == 0;
        e.path = field_str(reinterpret_cast<const char*>(h), 100);
        if (ustar) {
            const std::string prefix = field_str(reinterpret_cast<const char*>(h + 345), 155);
            if (!prefix.empty()) e.path = prefix + "/" + e.path;
        }
        if (!long_name.empty()) {
            e.path = long_name;
            long_name.clear();
        }
        offset += kTarBlock;
        const std::uint64_t padded = e.size + (kTarBlock - e.size % kTarBlock) % kTarBlock;
        if (e.size > max_bytes || padded > max_bytes - std::min(max_bytes, offset))
            fail(what, ": member '", e.path, "' at byte ", offset - kTarBlock, " declares ", e.size,
                 " bytes: the archive would exceed the ", max_bytes, " bytes expected of it");

        if (e.type == 'L' || e.type == 'x') {  // long name for the next member
            if (e.size > (e.type == 'L' ? kMaxLongName : kMaxPaxHeader))
                fail(what, ": corrupt header at byte ", offset - kTarBlock, " (long-name record of ", e.size,
                     " bytes)");
            std::string data;
            consume(e.size, {}, &data);
            if (e.type == 'L') {
                long_name = field_str(data.data(), data.size());
            } else {
                std::string p;
                if (pax_path(data, p)) long_name = p;
            }
            continue;
        }
        SinkFn sink;
        if (e.type == '0' || e.type == '\0' || e.type == '7') sink = on_file(e);
        consume(e.size, sink, nullptr);
    }
}

// A ReadFn over a gzip file (or, as zlib does, a plain uncompressed one).
class GzFile {
public:
    explicit GzFile(const std::string& path) : path_(path) {
        io::InputFile in = io::open_input(path);  // a FIFO or device is refused, not waited on
        f_ = gzdopen(in.fd(), "rb");
        if (!f_) fail(path, ": cannot open for reading");
        in.release();  // gzclose closes it
        gzbuffer(f_, 1 << 18);
    }
    ~GzFile() {
        if (f_) gzclose(f_);
    }
    GzFile(const GzFile&) = delete;
    GzFile& operator=(const GzFile&) = delete;

    std::size_t read(void* buf, std::size_t n) {
        const unsigned ask = static_cast<unsigned>(std::min<std::size_t>(n, 1u << 30));
        const int r = gzread(f_, buf, ask);
        int err = Z_OK;
        const char* msg = gzerror(f_, &err);
        if (r < 0 || (err != Z_OK && err != Z_STREAM_END))
            fail(path_, ": corrupt or truncated gzip data (", msg ? msg : "zlib error", ")");
        return static_cast<std::size_t>(r);
    }

private:
    std::string path_;
    gzFile f_ = nullptr;
};

inline void read_tar_gz(const std::string& archive, const std::function<SinkFn(const TarEntry&)>& on_file,
                        std::uint64_t max_bytes = std::numeric_limits<std::uint64_t>::max()) {
    GzFile gz(archive);
    read_tar([&](void* b, std::size_t n) { return gz.read(b, n); }, archive, on_file, max_bytes);
}

}  // namespace ann::data
