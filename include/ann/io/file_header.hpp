#pragma once
// The 24-byte header every ann binary file starts with, and the checks on it:
//   offset 0   8 bytes  magic: "ANNMODEL" (model file) or "ANNCHKPT" (checkpoint)
//   offset 8   u32      format version: 1; checkpoints with a scheduler section 2 (kCheckpointFormatVersion)
//   offset 12  u32      CRC-32 of the payload
//   offset 16  u64      payload length in bytes; the file is exactly 24 + this long
//   offset 24           payload
// All integers little-endian. The version is checked before anything else after the magic,
// so a newer layout is refused by name instead of being misread. docs/file-format.md.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "ann/io/byte_reader.hpp"
#include "ann/io/byte_writer.hpp"
#include "ann/io/crc32.hpp"

namespace ann::io {

inline constexpr std::uint32_t kFormatVersion = 1;
// Version 2 adds the scheduler section at the end of a checkpoint. A checkpoint is written as
// version 2 only when it has one, so the others stay readable by builds that know only version 1.
inline constexpr std::uint32_t kCheckpointFormatVersion = 2;
inline constexpr std::size_t kHeaderSize = 24;
inline constexpr std::string_view kModelMagic = "ANNMODEL";
inline constexpr std::string_view kCheckpointMagic = "ANNCHKPT";

inline const char* file_kind_name(std::string_view magic) {
    return magic == kModelMagic ? "model file" : "checkpoint";
}

// Header + payload: the complete file content.
inline std::string frame_file(std::string_view magic, std::string_view payload,
                              std::uint32_t version = kFormatVersion) {
    ByteWriter w;
    w.bytes(magic);
    w.u32(version);
    w.u32(crc32(payload));
    w.u64(payload.size());
    w.bytes(payload);
    return w.take();
}

// Checks the header of a whole file's content and returns its payload. Versions 1 to `newest` are
// accepted; *version (if given) gets the file's.
inline std::string_view unframe_file(std::string_view file, std::string_view magic, const std::string& source,
                                     std::uint32_t newest = kFormatVersion, std::uint32_t* version_out = nullptr) {
    const char* kind = file_kind_name(magic);
    if (file.size() < magic.size() || file.substr(0, magic.size()) != magic) {
        const std::string_view other = magic == kModelMagic ? kCheckpointMagic : kModelMagic;
        if (file.substr(0, other.size()) == other)
            fail(source, ": is an ann ", file_kind_name(other), ", not a ", kind);
        fail(source, ": not an ann ", kind, " (it does not start with \"", magic, "\")");
    }
    ByteReader r(file, source);
    r.take(magic.size(), "magic");
    const std::uint32_t version = r.u32("format version");
    if (version == 0 || version > newest) {
        if (version > newest)
            fail(source, ": ", kind, " format version ", version, " is newer than this build of ann reads (version ",
                 newest, "); update ann to load it");
        fail(source, ": ", kind, " format version ", version, " is invalid (this build reads version ", newest, ")");
    }
    if (version_out) *version_out = version;
    const std::uint32_t stored_crc = r.u32("checksum");
    const std::uint64_t length = r.u64("payload length");
    if (length > r.remaining())
        fail(source, ": ", kind, " is truncated: its header announces ", length, " payload bytes, the file has ",
             r.remaining());
    if (length < r.remaining())
        fail(source, ": ", kind, " has ", r.remaining() - length, " unexpected bytes after its ", length,
             "-byte payload");
    const std::string_view payload = file.substr(kHeaderSize);
    const std::uint32_t actual_crc = crc32(payload);
    if (actual_crc != stored_crc) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "stored 0x%08x, computed 0x%08x", stored_crc, actual_crc);
        fail(source, ": ", kind, " is corrupt: checksum mismatch (", buf, ")");
    }
    return payload;
}

}  // namespace ann::io
