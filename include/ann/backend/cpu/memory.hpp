#pragma once
// Host memory for ann::Array on the CPU. Small and always there (backend/registry.hpp includes it):
// a program that only holds arrays (reads .npy files, draws figures) needs no kernels.
#include <cstring>
#include <new>

#include "ann/backend/backend.hpp"
#include "ann/backend/cpu/thread_pool.hpp"

namespace ann::cpu {

class CpuMemory final : public Memory {
public:
    static CpuMemory& instance() {
        static CpuMemory m;
        return m;
    }
    Device device() const override { return Device::cpu; }
    void* allocate(std::size_t bytes) override {
        // 64-byte aligned, like xtensor's storage: the AVX-512 kernels like whole cache lines.
        void* p = ::operator new(bytes ? bytes : 1, std::align_val_t(64), std::nothrow);
        if (!p) fail("out of host memory allocating ", bytes, " bytes");
        return p;
    }
    void deallocate(void* p) noexcept override { ::operator delete(p, std::align_val_t(64)); }
    void to_host(void* host, const void* src, std::size_t bytes) override { copy(host, src, bytes); }
    void from_host(void* dst, const void* host, std::size_t bytes) override { copy(dst, host, bytes); }
    void copy(void* dst, const void* src, std::size_t bytes) override {
        if (!bytes) return;
        auto* d = static_cast<char*>(dst);
        const auto* s = static_cast<const char*>(src);
        parallel_for(bytes, [&](std::size_t lo, std::size_t hi) { std::memcpy(d + lo, s + lo, hi - lo); }, 1 << 17);
    }
    void zero(void* dst, std::size_t bytes) override {
        if (bytes) std::memset(dst, 0, bytes);
    }
    void synchronize() override {}
};

}  // namespace ann::cpu
