#pragma once
// Which backend serves which device: ann::memory(device) and ann::backend<T>(device).
// Host memory is always there (backend/cpu/memory.hpp). The CPU backend's arithmetic registers
// itself in every program that compiles it, i.e. that includes ann/backend/cpu/backend.hpp
// (ann/ann.hpp does) in at least one source file; the CUDA backend
// registers itself in ann::cuda::enable() (backend/cuda/backend.cuh), or records why it cannot
// (no device), which is then what a user asking for `cuda` reads.
//
// Why the layers do not include the CPU backend themselves: its kernels are most of the library's
// code, and instantiating them costs every translation unit seconds (docs/extending.md, "Lean
// includes"). Layers need only this contract; one source file of a program pays for the kernels.
#include <string>
#include <type_traits>

#include "ann/backend/backend.hpp"
#include "ann/backend/cpu/memory.hpp"

namespace ann {

namespace detail {

struct BackendSlots {
    Memory* memory[2] = {nullptr, nullptr};
    Backend<float>* f32[2] = {nullptr, nullptr};
    Backend<double>* f64[2] = {nullptr, nullptr};
    std::string missing_reason[2];
};

inline BackendSlots& backend_slots() {
    static BackendSlots slots;
    return slots;
}

inline int slot(Device d) { return d == Device::cpu ? 0 : 1; }

[[noreturn]] inline void fail_unavailable(Device d, const char* what) {
    const auto& why = backend_slots().missing_reason[slot(d)];
    fail("the ", to_string(d), " backend ", what,
         why.empty() ? std::string(d == Device::cuda ? ": this program was built without CUDA (ANN_WITH_CUDA)" : "")
                     : ": " + why);
}

}  // namespace detail

// Called by a backend's enable(): the objects live for the rest of the program. f64 may be null
// (the CUDA backend is float32 only).
inline void register_backend(Device d, Memory* memory, Backend<float>* f32, Backend<double>* f64) {
    auto& s = detail::backend_slots();
    const int i = detail::slot(d);
    s.memory[i] = memory;
    s.f32[i] = f32;
    s.f64[i] = f64;
    s.missing_reason[i].clear();
}
// Why a device is unavailable (e.g. "no CUDA device: ..."), for the error a user then sees.
inline void set_backend_unavailable(Device d, std::string reason) {
    detail::backend_slots().missing_reason[detail::slot(d)] = std::move(reason);
}

inline bool backend_available(Device d) { return detail::backend_slots().memory[detail::slot(d)] != nullptr; }

namespace detail {
// Set before main by ann/backend/cpu/backend.hpp in the programs that compile it.
struct CpuBackendHook {
    Backend<float>* f32 = nullptr;
    Backend<double>* f64 = nullptr;
};
inline CpuBackendHook& cpu_backend_hook() {
    static CpuBackendHook hook;
    return hook;
}
inline void enable_cpu_backend() {
    static const bool done = (register_backend(Device::cpu, &cpu::CpuMemory::instance(), nullptr, nullptr), true);
    (void)done;
}
// The CPU's arithmetic, from the hook, on first use.
template <class T>
Backend<T>* cpu_arithmetic() {
    const auto& h = cpu_backend_hook();
    if (!h.f32)
        fail("the cpu backend's arithmetic is not compiled into this program: include \"ann/ann.hpp\" (or "
             "\"ann/backend/cpu/backend.hpp\") in one of its source files");
    if constexpr (std::is_same_v<T, float>) return h.f32;
    else return h.f64;
}
}  // namespace detail

inline Memory& memory(Device d) {
    if (d == Device::cpu) detail::enable_cpu_backend();
    Memory* m = detail::backend_slots().memory[detail::slot(d)];
    if (!m) detail::fail_unavailable(d, "is not available");
    return *m;
}

template <class T>
Backend<T>& backend(Device d) {
    memory(d);  // registers the CPU backend on first use; names the reason a device is missing
    auto& s = detail::backend_slots();
    if (d == Device::cpu) return *detail::cpu_arithmetic<T>();
    Backend<T>* b = nullptr;
    if constexpr (std::is_same_v<T, float>) b = s.f32[detail::slot(d)];
    else b = s.f64[detail::slot(d)];
    if (!b) fail("the ", to_string(d), " backend has no ", sizeof(T) * 8, "-bit float arithmetic (it is float32 only)");
    return *b;
}

}  // namespace ann
