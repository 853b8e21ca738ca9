#pragma once
// What Ctrl-C (SIGINT), SIGTERM and SIGHUP do in ann's programs, in one place:
//   on_signal_remove_temporaries()   the program dies by the signal as usual, but first unlinks
//                                    the temporary files of the atomic writes in flight;
//   on_signal_request_stop(&flag)    the first signal only raises `flag` (long loops check it
//                                    and unwind, cleaning up as on any error); a second one
//                                    behaves as above.
// A SIGKILL cannot be caught: its leftovers are removed by io::remove_stale_temporaries at the
// next start.
#include <signal.h>

#include <atomic>

#include "ann/io/atomic_file.hpp"

namespace ann::io {

namespace detail {
inline std::atomic<std::atomic<bool>*>& stop_flag() {
    static std::atomic<std::atomic<bool>*> flag{nullptr};
    return flag;
}

extern "C" inline void ann_die_cleanly(int sig) {
    remove_inflight_temporaries();
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

extern "C" inline void ann_request_stop(int sig) {
    std::atomic<bool>* flag = stop_flag().load();
    if (flag && !flag->load()) {
        flag->store(true);
        return;
    }
    ann_die_cleanly(sig);
}

// Also: past a file-size limit (ulimit -f) a write fails with EFBIG, reported like a full disk
// and naming the file, instead of SIGXFSZ killing the program.
inline void install(void (*handler)(int)) {
    ::signal(SIGXFSZ, SIG_IGN);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
        struct sigaction sa {};
        sa.sa_handler = handler;
        sigemptyset(&sa.sa_mask);
        ::sigaction(sig, &sa, nullptr);
    }
}
}  // namespace detail

inline void on_signal_remove_temporaries() { detail::install(detail::ann_die_cleanly); }

inline void on_signal_request_stop(std::atomic<bool>* flag) {
    detail::stop_flag().store(flag);
    detail::install(detail::ann_request_stop);
}

// True once a stop was requested through on_signal_request_stop.
inline bool stop_requested() {
    const std::atomic<bool>* flag = detail::stop_flag().load();
    return flag && flag->load();
}

}  // namespace ann::io
