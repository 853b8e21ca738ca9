#pragma once
// Array<T>: a tensor that knows its device. What layers, losses and optimizers pass around.
//   on the CPU   it holds an ann::Tensor<T> (an xtensor array): host() gives it, no copy;
//   on a GPU     it owns device memory from that device's backend (freed in the destructor).
// Crossing devices is always explicit: a.to(Device::cuda) returns a copy there,
// a.copy_from(b) copies b's values into a whatever their devices. Nothing else moves data
// between host and device. A host Tensor converts implicitly to a CPU Array (a host copy, or a
// move), so layer.forward(tensor) works in host code as it always did.
#include <cstddef>
#include <initializer_list>
#include <utility>

#include "ann/backend/registry.hpp"
#include "ann/core/tensor.hpp"

namespace ann {

template <class T>
class Array {
public:
    Array() = default;
    explicit Array(const Shape& shape, Device d = Device::cpu) : device_(d) { resize(shape); }
    // Array<float>({50, 10}) is a shape, never a 1-D tensor holding 50 and 10.
    explicit Array(std::initializer_list<std::size_t> shape, Device d = Device::cpu) : Array(Shape(shape), d) {}
    Array(const Tensor<T>& host) : host_(host), shape_(shape_of(host)) {}  // NOLINT: implicit on purpose
    Array(Tensor<T>&& host) : host_(std::move(host)), shape_(shape_of(host_)) {}  // NOLINT
    ~Array() { release(); }
    Array(const Array& o) : device_(o.device_) {
        resize(o.shape_);
        copy_from(o);
    }
    Array& operator=(const Array& o) {
        if (this != &o) {
            if (device_ != o.device_) {
                release();
                device_ = o.device_;
            }
            resize(o.shape_);
            copy_from(o);
        }
        return *this;
    }
    Array(Array&& o) noexcept
        : device_(o.device_), host_(std::move(o.host_)), shape_(std::move(o.shape_)),
          dev_(std::exchange(o.dev_, nullptr)), capacity_(std::exchange(o.capacity_, 0)) {
        o.shape_.clear();
    }
    Array& operator=(Array&& o) noexcept {
        if (this != &o) {
            release();
            device_ = o.device_;
            host_ = std::move(o.host_);
            shape_ = std::move(o.shape_);
            o.shape_.clear();
            dev_ = std::exchange(o.dev_, nullptr);
            capacity_ = std::exchange(o.capacity_, 0);
        }
        return *this;
    }

    Device device() const { return device_; }
    const Shape& shape() const { return shape_; }
    std::size_t dimension() const { return shape_.size(); }
    std::size_t dim(std::size_t i) const { return shape_.at(i); }
    // Elements; an Array that was never given a shape has none (unlike a default xarray).
    std::size_t size() const { return shape_.empty() ? 0 : numel(shape_); }
    bool empty() const { return size() == 0; }

    // Pointer into the memory of device().
    T* data() { return device_ == Device::cpu ? host_.data() : dev_; }
    const T* data() const { return device_ == Device::cpu ? host_.data() : dev_; }

    // The host tensor; an ann::Error on a GPU array (use to(Device::cpu) first). Its values may
    // be changed through it, never its shape (resize() does that).
    Tensor<T>& host() {
        check_host();
        return host_;
    }
    const Tensor<T>& host() const {
        check_host();
        return host_;
    }

    // Host-only conveniences, as on a Tensor: element access, iteration, and reading a CPU array
    // where a host tensor is expected (all an ann::Error on a GPU array: no hidden copies).
    template <class... Idx>
    T& operator()(Idx... i) {
        return host()(i...);
    }
    template <class... Idx>
    const T& operator()(Idx... i) const {
        return host()(i...);
    }
    T* begin() { return host().data(); }
    T* end() { return host().data() + size(); }
    const T* begin() const { return host().data(); }
    const T* end() const { return host().data() + size(); }
    operator const Tensor<T>&() const { return host(); }  // NOLINT: implicit on purpose

    // Every element := v, on any device.
    void fill(T v) {
        if (device_ == Device::cpu) return host_.fill(v);
        Tensor<T> h = Tensor<T>::from_shape(shape_);
        h.fill(v);
        copy_from(h);
    }

    // Same device, new shape; contents undefined when the size changes. Memory only grows, so a
    // training loop with a fixed batch size allocates nothing after its first step.
    void resize(const Shape& shape) {
        if (device_ == Device::cpu) {
            ensure_shape(host_, shape);
        } else {
            const std::size_t n = numel(shape);
            if (n > capacity_) {
                release();
                dev_ = static_cast<T*>(memory(device_).allocate(n * sizeof(T)));
                capacity_ = n;
            }
        }
        shape_ = shape;
    }
    // Resize only when the shape differs.
    void ensure(const Shape& shape) {
        if (shape != shape_) resize(shape);
    }
    // A buffer with this shape on device d (contents undefined when anything changed).
    void ensure(const Shape& shape, Device d) {
        if (d != device_) *this = Array(shape, d);
        else ensure(shape);
    }

    // A copy on device d (a copy even when d is this array's device).
    Array to(Device d) const {
        Array out(shape_, d);
        out.copy_from(*this);
        return out;
    }
    Tensor<T> to_host() const {
        if (device_ == Device::cpu) return host_;
        Tensor<T> t = Tensor<T>::from_shape(shape_);
        if (size()) memory(device_).to_host(t.data(), dev_, size() * sizeof(T));
        return t;
    }
    // The values as a host tensor: this array's own on the CPU (no copy); a GPU array's are
    // copied into `copy` first. For code that reads values on the host whatever the device.
    const Tensor<T>& host_values(Tensor<T>& copy) const {
        if (device_ == Device::cpu) return host_;
        copy = to_host();
        return copy;
    }
    // Moves this array to device d (a no-op when it is there already).
    void move_to(Device d) {
        if (d != device_) *this = to(d);
    }
    // This array's values := src's (same number of elements; any two devices).
    void copy_from(const Array& src) {
        if (src.size() != size())
            fail("Array::copy_from: ", shape_str(src.shape()), " into ", shape_str(shape_));
        if (!size()) return;
        const std::size_t bytes = size() * sizeof(T);
        if (src.device_ == device_)
            memory(device_).copy(data(), src.data(), bytes);
        else if (device_ == Device::cpu)
            memory(src.device_).to_host(data(), src.data(), bytes);
        else if (src.device_ == Device::cpu)
            memory(device_).from_host(data(), src.data(), bytes);
        else
            fail("Array::copy_from: between two GPU devices");
    }
    // This array's values := a host tensor's (same number of elements).
    void copy_from(const Tensor<T>& src) {
        if (src.size() != size() || (size() == 0 && src.dimension() != 0))
            fail("Array::copy_from: host ", shape_str(src.shape()), " into ", shape_str(shape_));
        if (size()) memory(device_).from_host(data(), src.data(), size() * sizeof(T));
    }
    void zero() {
        if (size()) memory(device_).zero(data(), size() * sizeof(T));
    }

private:
    void check_host() const {
        if (device_ != Device::cpu)
            fail("Array of shape ", shape_str(shape_), " is on ", to_string(device_),
                 ": copy it to the host with to(Device::cpu) first");
    }
    void release() noexcept {
        if (dev_) memory(device_).deallocate(dev_);
        dev_ = nullptr;
        capacity_ = 0;
    }

    Device device_ = Device::cpu;
    Tensor<T> host_;  // the values when device_ is cpu
    Shape shape_;
    T* dev_ = nullptr;  // the values when device_ is a GPU
    std::size_t capacity_ = 0;
};

// `host` itself on the CPU; otherwise its copy in `staging` on device d (the one explicit copy
// of a batch to a GPU, into a buffer reused from step to step).
// (Not inlined: GCC 12 inlines it into callers whose Arrays it then mistakes for zero-length
// arrays and warns, -Warray-bounds; the call costs nothing next to a batch copy.)
template <class T>
[[gnu::noinline]] const Array<T>& staged_on(Device d, const Array<T>& host, Array<T>& staging) {
    if (host.device() == d) return host;
    staging.ensure(host.shape(), d);
    staging.copy_from(host);
    return staging;
}

// Sum of squares, in double, for norms of gradients on any device (copied to the host first).
template <class T>
double sum_of_squares(const Array<T>& a) {
    Tensor<T> copy;
    const T* p = a.host_values(copy).data();
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += static_cast<double>(p[i]) * p[i];
    return s;
}

}  // namespace ann
