// LD_PRELOAD fault injection: a file system that fills up (issue 13, "Nothing lost under faults").
//
//   ANN_FAULT_WRITE_BYTES=N   regular files accept N bytes in all, counted over the whole process;
//                             the write that crosses N is cut short at N (a partial write, as on a
//                             full disk), and it and every later write to a regular file fails
//                             with -1/ENOSPC. Unset (or not a number): nothing fails.
//   ANN_FAULT_FSYNC_FAIL=1    fsync and fdatasync fail with EIO.
//   ANN_FAULT_VERBOSE=1       on stderr: "[enospc_shim] budget of N bytes used up" when the budget
//                             first runs out, "[enospc_shim] fsync failed" at the first failed
//                             fsync, and "[enospc_shim] N bytes written to regular files" at exit
//   ANN_FAULT_REPORT=FILE     the same lines appended to FILE, whatever ANN_FAULT_VERBOSE says
//                             and wherever the program's stderr goes, one set per process
//                             (tests/fault/fault_injection.sh reads them there).
// The budget is per process: a child process (exec'd with the environment) gets its own.
//
// Only regular files (fstat S_ISREG) other than descriptors 0-2 are touched: stdout and stderr
// (even redirected to a file), pipes, ttys, sockets and /dev/null always work. Intercepted: write, writev, pwrite, pwrite64, pwritev, pwritev64 (what
// libstdc++'s ofstream and zlib call through the PLT), and, because glibc's stdio calls its
// internal __write, which no LD_PRELOAD can interpose, the stdio writers fwrite, fputs, fputc,
// putc, fprintf, vfprintf (and their _chk/_unlocked forms) on streams whose descriptor is a
// regular file. Not intercepted: copy_file_range, sendfile, fallocate, mmap'd stores.
//
// C++ only because the project enables no C compiler; everything exported is extern "C".
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>

namespace {

std::atomic<long long> g_used{0};       // bytes granted to regular files so far
std::atomic<bool> g_exhausted{false};  // sticky: once a write was refused, all later ones are
std::atomic<bool> g_reported{false};

// -1: no budget. Read once (getenv before main is fine: the environment is set up by then).
long long budget() {
    static const long long b = [] {
        const char* s = getenv("ANN_FAULT_WRITE_BYTES");
        if (!s || !*s) return -1LL;
        char* end = nullptr;
        errno = 0;
        const long long v = strtoll(s, &end, 10);
        if (errno != 0 || *end != '\0' || v < 0) return -1LL;
        return v;
    }();
    return b;
}

bool fsync_fails() {
    static const bool f = [] {
        const char* s = getenv("ANN_FAULT_FSYNC_FAIL");
        return s && strcmp(s, "1") == 0;
    }();
    return f;
}

// stdin, stdout and stderr are never failed, even when redirected to a file.
bool is_regular(int fd) {
    struct stat st;
    return fd > 2 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

template <typename F>
F next(const char* name) {
    return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

bool verbose() {
    const char* v = getenv("ANN_FAULT_VERBOSE");
    return v && strcmp(v, "1") == 0;
}

// One line to stderr (ANN_FAULT_VERBOSE=1) and to ANN_FAULT_REPORT, past the budget.
void say(const char* line, int n) {
    static auto real_write = next<ssize_t (*)(int, const void*, size_t)>("write");
    if (n <= 0 || !real_write) return;
    const size_t len = static_cast<size_t>(n) < 256 ? static_cast<size_t>(n) : 255;
    if (verbose()) (void)!real_write(2, line, len);
    const char* report = getenv("ANN_FAULT_REPORT");
    if (report && *report) {
        const int fd = open(report, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            (void)!real_write(fd, line, len);
            close(fd);
        }
    }
}

bool reporting() {
    const char* r = getenv("ANN_FAULT_REPORT");
    return verbose() || (r && *r);
}

void report_once() {
    bool expected = false;
    if (!g_reported.compare_exchange_strong(expected, true) || !reporting()) return;
    char line[256];
    say(line, snprintf(line, sizeof line, "[enospc_shim] budget of %lld bytes used up: ENOSPC from now on\n", budget()));
}

std::atomic<long long> g_total{0};  // bytes the real calls wrote to regular files (for the exit line)
std::atomic<bool> g_fsync_reported{false};

int fail_fsync() {
    bool expected = false;
    if (g_fsync_reported.compare_exchange_strong(expected, true) && reporting()) {
        const char line[] = "[enospc_shim] fsync failed (ANN_FAULT_FSYNC_FAIL=1): EIO\n";
        say(line, static_cast<int>(sizeof line - 1));
    }
    errno = EIO;
    return -1;
}

__attribute__((destructor)) void report_total() {
    if (!reporting()) return;
    char line[256];
    say(line, snprintf(line, sizeof line, "[enospc_shim] %lld bytes written to regular files\n", g_total.load()));
}

// How many of `want` bytes a write to `fd` may pass on: want (no budget, or not a regular file),
// fewer (the budget's rest), or -1 with errno = ENOSPC (budget used up, or `want` bytes that
// must go whole, such as a stdio call's, do not fit). *regular says whether fd is one we count.
long long grant(int fd, size_t want, bool* regular, bool whole = false) {
    *regular = is_regular(fd);
    const long long b = budget();
    if (b < 0 || want == 0 || !*regular) return static_cast<long long>(want);
    long long used = g_used.load();
    for (;;) {
        const long long left = b - used;
        if (g_exhausted.load() || left <= 0 || (whole && static_cast<long long>(want) > left)) {
            g_exhausted.store(true);  // a stdio call that does not fit uses the budget up too
            report_once();
            errno = ENOSPC;
            return -1;
        }
        const long long n = static_cast<long long>(want) < left ? static_cast<long long>(want) : left;
        if (g_used.compare_exchange_weak(used, used + n)) return n;
    }
}

// Counts what the real call wrote; bytes it did not write after all go back to the budget.
void settle(bool regular, long long granted, ssize_t written) {
    if (!regular) return;
    if (written > 0) g_total.fetch_add(written);
    if (budget() < 0) return;
    const long long unused = written < 0 ? granted : granted - written;
    if (unused > 0) g_used.fetch_sub(unused);
}

size_t iov_total(const struct iovec* iov, int cnt) {
    size_t t = 0;
    for (int i = 0; i < cnt; ++i) t += iov[i].iov_len;
    return t;
}

// A copy of iov cut to `limit` bytes (at most 64 entries used: enough for a partial write).
int iov_cut(const struct iovec* iov, int cnt, size_t limit, struct iovec* out) {
    int k = 0;
    for (int i = 0; i < cnt && limit > 0 && k < 64; ++i) {
        out[k] = iov[i];
        if (out[k].iov_len > limit) out[k].iov_len = limit;
        limit -= out[k].iov_len;
        ++k;
    }
    return k;
}

// Marks a stdio stream as failed (ferror) the way glibc does after a failed write.
void set_stream_error(FILE* f) {
#ifdef __GLIBC__
    f->_flags |= 0x0020;  // _IO_ERR_SEEN
#else
    (void)f;
#endif
}

int stream_fd(FILE* f) { return f ? fileno(f) : -1; }

// One budgeted write: grant what fits, do it, count what was written.
template <class Call>
ssize_t limited(int fd, size_t count, Call call) {
    bool reg;
    const long long g = grant(fd, count, &reg);
    if (g < 0) return -1;
    const ssize_t r = call(static_cast<size_t>(g));
    settle(reg, g, r);
    return r;
}

}  // namespace

extern "C" {

ssize_t write(int fd, const void* buf, size_t count) {
    static auto real = next<ssize_t (*)(int, const void*, size_t)>("write");
    return limited(fd, count, [&](size_t n) { return real(fd, buf, n); });
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t off) {
    static auto real = next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
    return limited(fd, count, [&](size_t n) { return real(fd, buf, n, off); });
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off64_t off) {
    static auto real = next<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
    return limited(fd, count, [&](size_t n) { return real(fd, buf, n, off); });
}

ssize_t writev(int fd, const struct iovec* iov, int cnt) {
    static auto real = next<ssize_t (*)(int, const struct iovec*, int)>("writev");
    const size_t want = cnt > 0 ? iov_total(iov, cnt) : 0;
    bool reg;
    const long long g = grant(fd, want, &reg);
    if (g < 0) return -1;
    if (static_cast<size_t>(g) == want) {
        const ssize_t r = real(fd, iov, cnt);
        settle(reg, g, r);
        return r;
    }
    struct iovec cut[64];
    const ssize_t r = real(fd, cut, iov_cut(iov, cnt, static_cast<size_t>(g), cut));
    settle(reg, g, r);
    return r;
}

static ssize_t pwritev_common(const char* name, int fd, const struct iovec* iov, int cnt, off64_t off) {
    using Fn = ssize_t (*)(int, const struct iovec*, int, off64_t);
    const Fn real = next<Fn>(name);
    const size_t want = cnt > 0 ? iov_total(iov, cnt) : 0;
    bool reg;
    const long long g = grant(fd, want, &reg);
    if (g < 0) return -1;
    struct iovec cut[64];
    const bool all = static_cast<size_t>(g) == want;
    const ssize_t r = all ? real(fd, iov, cnt, off) : real(fd, cut, iov_cut(iov, cnt, static_cast<size_t>(g), cut), off);
    settle(reg, g, r);
    return r;
}
ssize_t pwritev(int fd, const struct iovec* iov, int cnt, off_t off) { return pwritev_common("pwritev", fd, iov, cnt, off); }
ssize_t pwritev64(int fd, const struct iovec* iov, int cnt, off64_t off) {
    return pwritev_common("pwritev64", fd, iov, cnt, off);
}

int fsync(int fd) {
    static auto real = next<int (*)(int)>("fsync");
    if (fsync_fails()) return fail_fsync();
    return real(fd);
}

int fdatasync(int fd) {
    static auto real = next<int (*)(int)>("fdatasync");
    if (fsync_fails()) return fail_fsync();
    return real(fd);
}

// stdio: the bytes of one call go whole or not at all (the real call's own buffering then
// reaches the file through glibc's internal write, which is not counted a second time).
#define ANN_STDIO_GUARD(f, nbytes, fail_value)                 \
    do {                                                       \
        bool reg_;                                             \
        if (grant(stream_fd(f), (nbytes), &reg_, true) < 0) {  \
            set_stream_error(f);                               \
            return fail_value;                                 \
        }                                                      \
        if (reg_) g_total.fetch_add(static_cast<long long>(nbytes)); \
    } while (0)

size_t fwrite(const void* p, size_t size, size_t n, FILE* f) {
    static auto real = next<size_t (*)(const void*, size_t, size_t, FILE*)>("fwrite");
    ANN_STDIO_GUARD(f, size * n, 0);
    return real(p, size, n, f);
}
size_t fwrite_unlocked(const void* p, size_t size, size_t n, FILE* f) {
    static auto real = next<size_t (*)(const void*, size_t, size_t, FILE*)>("fwrite_unlocked");
    ANN_STDIO_GUARD(f, size * n, 0);
    return real(p, size, n, f);
}
int fputs(const char* s, FILE* f) {
    static auto real = next<int (*)(const char*, FILE*)>("fputs");
    ANN_STDIO_GUARD(f, strlen(s), EOF);
    return real(s, f);
}
int fputs_unlocked(const char* s, FILE* f) {
    static auto real = next<int (*)(const char*, FILE*)>("fputs_unlocked");
    ANN_STDIO_GUARD(f, strlen(s), EOF);
    return real(s, f);
}
int fputc(int c, FILE* f) {
    static auto real = next<int (*)(int, FILE*)>("fputc");
    ANN_STDIO_GUARD(f, 1, EOF);
    return real(c, f);
}
int putc(int c, FILE* f) {
    static auto real = next<int (*)(int, FILE*)>("putc");
    ANN_STDIO_GUARD(f, 1, EOF);
    return real(c, f);
}
int vfprintf(FILE* f, const char* fmt, va_list ap) {
    static auto real = next<int (*)(FILE*, const char*, va_list)>("vfprintf");
    if (budget() >= 0 && is_regular(stream_fd(f))) {
        va_list ap2;
        va_copy(ap2, ap);
        const int len = vsnprintf(nullptr, 0, fmt, ap2);
        va_end(ap2);
        ANN_STDIO_GUARD(f, len > 0 ? static_cast<size_t>(len) : 0, -1);
    }
    return real(f, fmt, ap);
}
int fprintf(FILE* f, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const int r = vfprintf(f, fmt, ap);
    va_end(ap);
    return r;
}
// _FORTIFY_SOURCE turns fprintf into these: the format checks are skipped, the output is the same.
int __vfprintf_chk(FILE* f, int, const char* fmt, va_list ap) { return vfprintf(f, fmt, ap); }
int __fprintf_chk(FILE* f, int, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const int r = vfprintf(f, fmt, ap);
    va_end(ap);
    return r;
}

}  // extern "C"
