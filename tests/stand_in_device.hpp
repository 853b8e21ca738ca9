#pragma once
// A second "device" without a GPU, for tests of the device plumbing: host memory posing as
// Device::cuda, computed by the CPU backend, so everything a layer allocates or moves must
// follow it there (and a missing to() shows up as a named error).
#include <cstring>
#include <new>

#include "ann/ann.hpp"

namespace testutil {

// Host memory posing as ann::Device::cuda; counts the copies that cross "devices".
struct StandInMemory final : ann::Memory {
    std::size_t uploads = 0, downloads = 0;
    ann::Device device() const override { return ann::Device::cuda; }
    void* allocate(std::size_t bytes) override { return ::operator new(bytes ? bytes : 1, std::align_val_t(64)); }
    void deallocate(void* p) noexcept override { ::operator delete(p, std::align_val_t(64)); }
    void to_host(void* h, const void* s, std::size_t n) override {
        ++downloads;
        std::memcpy(h, s, n);
    }
    void from_host(void* d, const void* h, std::size_t n) override {
        ++uploads;
        std::memcpy(d, h, n);
    }
    void copy(void* d, const void* s, std::size_t n) override { std::memcpy(d, s, n); }
    void zero(void* d, std::size_t n) override { std::memset(d, 0, n); }
    void synchronize() override {}
};

// Registers the stand-in for the scope of a test; the real registry state is restored after.
struct StandInDevice {
    StandInMemory mem;
    StandInDevice() {
        ann::register_backend(ann::Device::cuda, &mem, &ann::cpu::CpuBackend<float>::instance(), &ann::cpu::CpuBackend<double>::instance());
    }
    ~StandInDevice() {
        ann::register_backend(ann::Device::cuda, nullptr, nullptr, nullptr);
        ann::set_backend_unavailable(ann::Device::cuda, "");
    }
};

}  // namespace testutil
