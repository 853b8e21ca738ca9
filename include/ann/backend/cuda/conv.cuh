#pragma once
// Convolution on the GPU: cuDNN 9's graph ("backend") API for the three convolutions, our own
// kernels (kernels.cuh) for the bias. The legacy cudnnConvolution* / cudnnSet*Descriptor calls
// are deprecated in cuDNN 9 and not used.
//
// A graph of one operation is built per (operation, shape, pointer alignment) and turned into
// an execution plan once; the plans live in the layer's CudaConvState, so a training loop
// with a fixed batch size builds three plans per layer and then only executes them.
//
// The engine is the first of cuDNN's heuristic list (mode A, then FALLBACK) that builds into a
// plan and obeys the context's rules:
//   deterministic (default)  no engine noted NONDETERMINISTIC (e.g. split-K reductions by atomics)
//   !allow_tf32 (default)    no engine noted TENSOR_CORE, DOWN_CONVERT_INPUTS or
//                            REDUCED_PRECISION_REDUCTION: for float tensors these are the TF32
//                            (or lower) paths; what remains computes in full FP32
//   workspace                at most ContextOptions::max_conv_workspace_bytes
// None left: an ann::Error naming the shape and the rule that excluded each engine.
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "ann/backend/backend.hpp"
#include "ann/backend/cuda/context.hpp"
#include "ann/backend/cuda/kernels.cuh"

namespace ann::cuda {

// One cuDNN backend descriptor, destroyed with this object.
class BackendDescriptor {
public:
    BackendDescriptor() = default;
    explicit BackendDescriptor(cudnnBackendDescriptorType_t type) {
        ANN_CUDNN_CHECK(cudnnBackendCreateDescriptor(type, &d_));
    }
    ~BackendDescriptor() {
        if (d_) ANN_CUDA_NOTHROW(cudnnBackendDestroyDescriptor(d_));
    }
    BackendDescriptor(BackendDescriptor&& o) noexcept : d_(std::exchange(o.d_, nullptr)) {}
    BackendDescriptor& operator=(BackendDescriptor&& o) noexcept {
        if (this != &o) {
            if (d_) ANN_CUDA_NOTHROW(cudnnBackendDestroyDescriptor(d_));
            d_ = std::exchange(o.d_, nullptr);
        }
        return *this;
    }
    BackendDescriptor(const BackendDescriptor&) = delete;
    BackendDescriptor& operator=(const BackendDescriptor&) = delete;

    cudnnBackendDescriptor_t get() const { return d_; }

private:
    cudnnBackendDescriptor_t d_ = nullptr;
};

enum class ConvOp { forward, backward_data, backward_filter };

inline const char* to_string(ConvOp op) {
    switch (op) {
        case ConvOp::forward: return "forward";
        case ConvOp::backward_data: return "backward-data";
        case ConvOp::backward_filter: return "backward-filter";
    }
    return "?";
}

// Every graph has the same three tensors: x (N, C, H, W) [dx for backward-data],
// w (O, C, kh, kw) [dw for backward-filter], y (N, O, OH, OW) [dy for both backward ones].
// Execution passes their pointers in this order.
namespace conv_uid {
constexpr std::int64_t x = 1, w = 2, y = 3;
}

struct ConvPlan {
    // Everything the plan was built from, kept alive with it (the engine config refers to the
    // graph, which refers to the operation and its tensors).
    std::vector<BackendDescriptor> parts;
    BackendDescriptor plan;
    std::int64_t workspace_bytes = 0;
};

// The per-layer state: plans by (operation, shape, alignments), and the scratch of the bias
// gradient's per-image partial sums.
struct CudaConvState final : BackendState {
    using Key = std::array<std::int64_t, 13>;
    // Queued executions may still use the plans (and cuDNN frees what a plan owns with its
    // descriptor): wait for them before the plans go. Only plans built here need the wait, and
    // plans exist only once the context does.
    ~CudaConvState() override {
        if (!plans.empty()) ANN_CUDA_NOTHROW(cudaStreamSynchronize(Context::get().stream()));
    }
    std::map<Key, std::unique_ptr<ConvPlan>> plans;
    DeviceScratch bias_partials;
    DeviceScratch fused_conv, fused_argmax;  // conv2d_forward_fused's pre-pool output and unused argmax
};

namespace detail {

// cudaMalloc returns 256-byte aligned memory, so an Array's data is always 16-byte aligned; a
// pointer into the middle of one (a slice) may be only 4-byte aligned. cuDNN is told the truth
// (plans differ by alignment, so it is part of the cache key).
inline std::int64_t byte_alignment(const void* p) {
    return reinterpret_cast<std::uintptr_t>(p) % 16 == 0 ? 16 : 4;
}

inline std::string conv_shape_str(ConvOp op, int N, int O, const ConvGeometry& g) {
    std::ostringstream os;
    os << "conv2d " << to_string(op) << " of x (" << N << ", " << g.C << ", " << g.H << ", " << g.W << ") with w ("
       << O << ", " << g.C << ", " << g.kh << ", " << g.kw << "), stride " << g.stride << ", padding " << g.pad
       << " -> y (" << N << ", " << O << ", " << g.OH() << ", " << g.OW() << ")";
    return os.str();
}

// A finalized float32 NCHW tensor descriptor with packed strides.
inline BackendDescriptor make_tensor(std::int64_t uid, std::int64_t n, std::int64_t c, std::int64_t h,
                                     std::int64_t w, std::int64_t alignment) {
    BackendDescriptor t(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
    const cudnnDataType_t type = CUDNN_DATA_FLOAT;
    const std::int64_t dims[4] = {n, c, h, w};
    const std::int64_t strides[4] = {c * h * w, h * w, w, 1};
    ANN_CUDNN_CHECK(cudnnBackendSetAttribute(t.get(), CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &type));
    ANN_CUDNN_CHECK(cudnnBackendSetAttribute(t.get(), CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dims));
    ANN_CUDNN_CHECK(cudnnBackendSetAttribute(t.get(), CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, strides));
    ANN_CUDNN_CHECK(cudnnBackendSetAttribute(t.get(), CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid));
    ANN_CUDNN_CHECK(
        cudnnBackendSetAttribute(t.get(), CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &alignment));
    ANN_CUDNN_CHECK(cudnnBackendFinalize(t.get()));
    return t;
}

// Cross-correlation (torch.nn.Conv2d), FP32 accumulation, same padding before and after (the
// output size is then the floor formula of ConvGeometry::OH/OW), dilation 1.
inline BackendDescriptor make_conv_descriptor(const ConvGeometry& g) {
    BackendDescriptor c(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR);
    const cudnnDataType_t compute = CUDNN_DATA_FLOAT;
    const cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
    const std::int64_t spatial = 2;
    const std::int64_t pad[2] = {g.pad, g.pad}, stride[2] = {g.stride, g.stride}, dilation[2] = {1, 1};
    ANN_CUDNN_CHECK(
        cudnnBackendSetAttribute(c.get(), CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &compute));
    ANN_CUDNN_CHECK(
        cudnnBackendSetAttribute(c.get(), CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode));
    ANN_CUDNN_CHECK(
        cudnnBackendSetAttribute(c.get(), CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, &spatial));
    ANN_CUDNN_CHECK(cudnnBackendSetAttribute(c.get(), CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, 2, pad));
    ANN_CUDNN_CHECK(cudnnBackendSetAttribute(c.get(), CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, 2, pad));
    ANN_CUDNN_CHECK(
        cudnnBackendSetAttribute(c.get(), CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, 2, stride));
    ANN_CUDNN_CHECK(
        cudnnBackendSetAttribute(c.get(), CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, 2, dilation));
    ANN_CUDNN_CHECK(cudnnBackendFinalize(c.get()));
    return c;
}

// The operation. alpha = 1 always; beta = 0 overwrites the output (forward, backward-data),
// beta = 1 adds to it (backward-filter: the contract accumulates into dw). For FP32 compute,
// cuDNN takes alpha and beta as float.
inline BackendDescriptor make_operation(ConvOp op, cudnnBackendDescriptor_t x, cudnnBackendDescriptor_t w,
                                        cudnnBackendDescriptor_t y, cudnnBackendDescriptor_t conv) {
    const float alpha = 1.0f;
    switch (op) {
        case ConvOp::forward: {
            BackendDescriptor d(CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR);
            const float beta = 0.0f;
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(d.get(), CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X,
                                                     CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x));
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(d.get(), CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W,
                                                     CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &w));
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(d.get(), CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y,
                                                     CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y));
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(d.get(), CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC,
                                                     CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &conv));
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(d.get(), CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA,
                                                     CUDNN_TYPE_FLOAT, 1, &alpha));
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(d.get(), CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA,
                                                     CUDNN_TYPE_FLOAT, 1, &beta));
            ANN_CUDNN_CHECK(cudnnBackendFinalize(d.get()));
            return d;
        }
        case ConvOp::backward_data: {
            BackendDescriptor d(CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR);
            const float beta = 0.0f;
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(d.get(), CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DX,
                                                     CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x));
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(d.get(), CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_W,
                                                     CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &w));
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(d.get(), CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DY,
                                                     CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y));
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(d.get(), CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_CONV_DESC,
                                                     CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &conv));
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(d.get(), CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_ALPHA,
                                                     CUDNN_TYPE_FLOAT, 1, &alpha));
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(d.get(), CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_BETA,
                                                     CUDNN_TYPE_FLOAT, 1, &beta));
            ANN_CUDNN_CHECK(cudnnBackendFinalize(d.get()));
            return d;
        }
        case ConvOp::backward_filter: {
            BackendDescriptor d(CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_FILTER_DESCRIPTOR);
            const float beta = 1.0f;
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(d.get(), CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_X,
                                                     CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x));
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(d.get(), CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DW,
                                                     CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &w));
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(d.get(), CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DY,
                                                     CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y));
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(d.get(), CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_CONV_DESC,
                                                     CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &conv));
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(d.get(), CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_ALPHA,
                                                     CUDNN_TYPE_FLOAT, 1, &alpha));
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(d.get(), CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_BETA,
                                                     CUDNN_TYPE_FLOAT, 1, &beta));
            ANN_CUDNN_CHECK(cudnnBackendFinalize(d.get()));
            return d;
        }
    }
    fail("cuda conv2d: unknown operation");
}

// Why engine configs were passed over, for the error when none is left.
struct EngineRejections {
    int offered = 0, nondeterministic = 0, reduced_precision = 0, too_much_workspace = 0, not_buildable = 0;
    std::string heuristics_failed;  // modes whose heuristics query itself failed, with cuDNN's reason
};

// Engine config i of a finalized heuristics descriptor -> a finalized plan obeying the rules,
// or an empty descriptor (and the reason counted).
inline BackendDescriptor try_engine_config(Context& ctx, cudnnBackendDescriptor_t cfg, EngineRejections& why,
                                           std::int64_t& workspace_bytes) {
    // The engine's numerical notes say how it computes.
    BackendDescriptor engine(CUDNN_BACKEND_ENGINE_DESCRIPTOR);
    cudnnBackendDescriptor_t engine_d = engine.get();
    std::int64_t got = 0;
    ANN_CUDNN_CHECK(
        cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &got, &engine_d));
    cudnnBackendNumericalNote_t notes[CUDNN_NUMERICAL_NOTE_TYPE_COUNT];
    std::int64_t n_notes = 0;
    ANN_CUDNN_CHECK(cudnnBackendGetAttribute(engine_d, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE,
                                             CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &n_notes, notes));
    if (n_notes > CUDNN_NUMERICAL_NOTE_TYPE_COUNT) n_notes = CUDNN_NUMERICAL_NOTE_TYPE_COUNT;
    bool nondeterministic = false, reduced = false;
    for (std::int64_t i = 0; i < n_notes; ++i) {
        if (notes[i] == CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC) nondeterministic = true;
        if (notes[i] == CUDNN_NUMERICAL_NOTE_TENSOR_CORE || notes[i] == CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS ||
            notes[i] == CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION)
            reduced = true;
    }
    if (nondeterministic && ctx.options().deterministic) {
        ++why.nondeterministic;
        return {};
    }
    if (reduced && !ctx.options().allow_tf32) {
        ++why.reduced_precision;
        return {};
    }

    BackendDescriptor plan(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
    ANN_CUDNN_CHECK(cudnnBackendSetAttribute(plan.get(), CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG,
                                             CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cfg));
    // Not every config of the list builds for every shape (that is what the list is for):
    // a failed finalize moves on to the next one.
    if (cudnnBackendFinalize(plan.get()) != CUDNN_STATUS_SUCCESS) {
        ++why.not_buildable;
        return {};
    }
    std::int64_t ws = 0;
    ANN_CUDNN_CHECK(cudnnBackendGetAttribute(plan.get(), CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64,
                                             1, &got, &ws));
    if (ws < 0 || static_cast<std::uint64_t>(ws) > ctx.options().max_conv_workspace_bytes) {
        ++why.too_much_workspace;
        return {};
    }
    workspace_bytes = ws;
    return plan;
}

inline std::unique_ptr<ConvPlan> build_conv_plan(Context& ctx, ConvOp op, int N, int O, const ConvGeometry& g,
                                                 std::int64_t align_x, std::int64_t align_w, std::int64_t align_y) {
    auto result = std::make_unique<ConvPlan>();
    auto& parts = result->parts;
    parts.push_back(make_tensor(conv_uid::x, N, g.C, g.H, g.W, align_x));
    parts.push_back(make_tensor(conv_uid::w, O, g.C, g.kh, g.kw, align_w));
    parts.push_back(make_tensor(conv_uid::y, N, O, g.OH(), g.OW(), align_y));
    parts.push_back(make_conv_descriptor(g));
    parts.push_back(make_operation(op, parts[0].get(), parts[1].get(), parts[2].get(), parts[3].get()));

    BackendDescriptor graph(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR);
    cudnnBackendDescriptor_t operation = parts[4].get();
    ANN_CUDNN_CHECK(cudnnBackendSetAttribute(graph.get(), CUDNN_ATTR_OPERATIONGRAPH_OPS,
                                             CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &operation));
#if CUDNN_VERSION < 90800
    // Before cuDNN 9.8 the graph carries the handle (later: the heuristics' device properties).
    cudnnHandle_t handle = ctx.cudnn();
    ANN_CUDNN_CHECK(
        cudnnBackendSetAttribute(graph.get(), CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle));
#endif
    ANN_CUDNN_CHECK(cudnnBackendFinalize(graph.get()));
    cudnnBackendDescriptor_t graph_d = graph.get();
    parts.push_back(std::move(graph));

    EngineRejections why;
    const cudnnBackendHeurMode_t modes[2] = {CUDNN_HEUR_MODE_A, CUDNN_HEUR_MODE_FALLBACK};
    for (const cudnnBackendHeurMode_t mode : modes) {
        BackendDescriptor heur(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR);
        ANN_CUDNN_CHECK(cudnnBackendSetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH,
                                                 CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &graph_d));
        ANN_CUDNN_CHECK(
            cudnnBackendSetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode));
#if CUDNN_VERSION >= 90800
        cudnnBackendDescriptor_t device_prop = ctx.cudnn_device_properties();
        ANN_CUDNN_CHECK(cudnnBackendSetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_DEVICEPROP,
                                                 CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &device_prop));
#endif
        // A mode that has nothing for this graph may refuse to finalize: try the next mode.
        if (const cudnnStatus_t st = cudnnBackendFinalize(heur.get()); st != CUDNN_STATUS_SUCCESS) {
            why.heuristics_failed += std::string(why.heuristics_failed.empty() ? "" : "; ") +
                                     (mode == CUDNN_HEUR_MODE_A ? "mode A: " : "fallback mode: ") +
                                     cudnnGetErrorString(st) + " " + cudnn_last_error();
            continue;
        }
        std::int64_t count = 0;
        ANN_CUDNN_CHECK(cudnnBackendGetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                                 CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count, nullptr));
        if (count <= 0) continue;
        // cuDNN fills engine-config descriptors that we create.
        std::vector<BackendDescriptor> configs;
        std::vector<cudnnBackendDescriptor_t> config_ds;
        for (std::int64_t i = 0; i < count; ++i) {
            configs.emplace_back(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR);
            config_ds.push_back(configs.back().get());
        }
        std::int64_t got = 0;
        ANN_CUDNN_CHECK(cudnnBackendGetAttribute(heur.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                                 CUDNN_TYPE_BACKEND_DESCRIPTOR, count, &got, config_ds.data()));
        for (std::int64_t i = 0; i < got && i < count; ++i) {
            ++why.offered;
            std::int64_t ws = 0;
            BackendDescriptor plan = try_engine_config(ctx, config_ds[std::size_t(i)], why, ws);
            if (!plan.get()) continue;
            result->plan = std::move(plan);
            result->workspace_bytes = ws;
            parts.push_back(std::move(configs[std::size_t(i)]));
            parts.push_back(std::move(heur));
            return result;
        }
    }

    const auto& o = ctx.options();
    std::string rule = o.deterministic ? "deterministic" : "any determinism";
    rule += o.allow_tf32 ? ", TF32 allowed" : " and full FP32 (no TF32 tensor cores)";
    fail("cuda ", conv_shape_str(op, N, O, g), ": cuDNN offered no engine that is ", rule, " with at most ",
         o.max_conv_workspace_bytes >> 20, " MiB of workspace (", why.offered, " engine configs from heuristics mode A",
         " and fallback: ", why.nondeterministic, " nondeterministic, ", why.reduced_precision,
         " TF32/tensor-core or reduced precision, ", why.too_much_workspace, " over the workspace limit, ",
         why.not_buildable, " failed to build",
         why.heuristics_failed.empty() ? std::string() : "; heuristics failed: " + why.heuristics_failed,
         "). ANN_CUDA_NONDETERMINISTIC=1 or ANN_CUDA_TF32=1 relax the rule.");
}

inline CudaConvState& conv_state(BackendState& s) {
    auto* c = dynamic_cast<CudaConvState*>(&s);
    if (!c)
        fail("cuda backend: a convolution state of another backend (the layer moved devices without resetting it)");
    return *c;
}

// The plan of this call, built on first use.
inline const ConvPlan& conv_plan(Context& ctx, CudaConvState& state, ConvOp op, int N, int O, const ConvGeometry& g,
                                 const void* x, const void* w, const void* y) {
    const std::int64_t ax = byte_alignment(x), aw = byte_alignment(w), ay = byte_alignment(y);
    const CudaConvState::Key key = {static_cast<std::int64_t>(op), N, g.C, g.H, g.W, O, g.kh, g.kw, g.stride, g.pad,
                                    ax, aw, ay};
    auto it = state.plans.find(key);
    if (it == state.plans.end()) it = state.plans.emplace(key, build_conv_plan(ctx, op, N, O, g, ax, aw, ay)).first;
    return *it->second;
}

// Queues the plan on the context's stream with the tensors' pointers (x, w, y as in conv_uid).
inline void execute(Context& ctx, const ConvPlan& plan, const void* x, const void* w, const void* y) {
    void* workspace = ctx.workspace(static_cast<std::size_t>(plan.workspace_bytes));
    const std::int64_t uids[3] = {conv_uid::x, conv_uid::w, conv_uid::y};
    void* pointers[3] = {const_cast<void*>(x), const_cast<void*>(w), const_cast<void*>(y)};
    BackendDescriptor pack(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR);
    ANN_CUDNN_CHECK(
        cudnnBackendSetAttribute(pack.get(), CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, 3, uids));
    ANN_CUDNN_CHECK(
        cudnnBackendSetAttribute(pack.get(), CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, 3, pointers));
    ANN_CUDNN_CHECK(
        cudnnBackendSetAttribute(pack.get(), CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &workspace));
    ANN_CUDNN_CHECK(cudnnBackendFinalize(pack.get()));
    ANN_CUDNN_CHECK(cudnnBackendExecute(ctx.cudnn(), plan.plan.get(), pack.get()));
}

}  // namespace detail

// y = conv(x, w) + b (b may be null), overwritten.
inline void conv2d_forward(Context& ctx, const float* x, const float* w, const float* b, float* y, int N, int O,
                           const ConvGeometry& g, BackendState& s) {
    if (N == 0 || O == 0) return;
    CudaConvState& state = detail::conv_state(s);
    detail::execute(ctx, detail::conv_plan(ctx, state, ConvOp::forward, N, O, g, x, w, y), x, w, y);
    if (b) kernels::add_channel_bias(y, b, std::size_t(N), std::size_t(O), std::size_t(g.cols()), ctx.stream());
}

// dx = dL/dx, overwritten.
inline void conv2d_backward_data(Context& ctx, const float* dy, const float* w, float* dx, int N, int O,
                                 const ConvGeometry& g, BackendState& s) {
    if (N == 0) return;
    CudaConvState& state = detail::conv_state(s);
    if (O == 0) {  // no output channel: nothing flows back (cuDNN refuses empty tensors)
        ANN_CUDA_CHECK(cudaMemsetAsync(dx, 0, std::size_t(N) * g.C * g.H * g.W * sizeof(float), ctx.stream()));
        return;
    }
    detail::execute(ctx, detail::conv_plan(ctx, state, ConvOp::backward_data, N, O, g, dx, w, dy), dx, w, dy);
}

// dw += dL/dw, db += dL/db (db may be null).
inline void conv2d_backward_weights(Context& ctx, const float* x, const float* dy, float* dw, float* db, int N, int O,
                                    const ConvGeometry& g, BackendState& s) {
    if (N == 0 || O == 0) return;
    CudaConvState& state = detail::conv_state(s);
    detail::execute(ctx, detail::conv_plan(ctx, state, ConvOp::backward_filter, N, O, g, x, dw, dy), x, dw, dy);
    if (db) {
        auto* partial = static_cast<float*>(
            state.bias_partials.reserve(std::size_t(N) * std::size_t(O) * sizeof(float), ctx.stream()));
        kernels::add_conv_bias_grad(dy, db, partial, std::size_t(N), std::size_t(O), std::size_t(g.cols()),
                                    ctx.stream());
    }
}

}  // namespace ann::cuda
