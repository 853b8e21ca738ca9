#pragma once
// DeviceBuffer<T>: an owning, move-only array in GPU memory (cudaMalloc, never managed memory).
// reserve() only grows, so a training loop with a fixed batch size allocates once.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "ann/backend/cuda/check.hpp"

namespace ann::cuda {

namespace detail {
// Counts every device allocation and free made through DeviceBuffer. A captured CUDA graph holds
// raw pointers: TrainStep compares this count with the one at capture time and re-captures
// when memory may have moved (e.g. evaluate() grew the layers' buffers to a larger batch).
inline std::atomic<std::uint64_t>& allocation_epoch() {
    static std::atomic<std::uint64_t> epoch{0};
    return epoch;
}
}  // namespace detail

template <class T>
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(std::size_t n) { reserve(n); }
    ~DeviceBuffer() { release(); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    DeviceBuffer(DeviceBuffer&& o) noexcept
        : p_(std::exchange(o.p_, nullptr)), capacity_(std::exchange(o.capacity_, 0)) {}
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
        if (this != &o) {
            release();
            p_ = std::exchange(o.p_, nullptr);
            capacity_ = std::exchange(o.capacity_, 0);
        }
        return *this;
    }

    // Contents are NOT kept when the buffer grows.
    void reserve(std::size_t n) {
        if (n <= capacity_) return;
        release();
        void* p = nullptr;
        ANN_CUDA_CHECK(cudaMalloc(&p, n * sizeof(T)));
        ++detail::allocation_epoch();
        p_ = static_cast<T*>(p);
        capacity_ = n;
    }
    T* data() { return p_; }
    const T* data() const { return p_; }
    std::size_t capacity() const { return capacity_; }

private:
    void release() noexcept {
        if (p_) {
            ANN_CUDA_NOTHROW(cudaFree(p_));
            ++detail::allocation_epoch();
        }
        p_ = nullptr;
        capacity_ = 0;
    }
    T* p_ = nullptr;
    std::size_t capacity_ = 0;
};

}  // namespace ann::cuda
