#pragma once
// The homework's 2x2, stride-2 max pool of one float plane with AVX-512: 16 outputs at a time.
// The scalar loop (maxpool.hpp) took ~9% of cnn_4's evaluation (perf, 1 thread): a compare and
// an isnan branch per input. Here the two input rows are loaded 32 columns at a time and split
// into even and odd columns, and the window is scanned in the scalar loop's order, (0,0), (0,1),
// (1,0), (1,1), with the scalar rule: a later element wins if it is greater or NaN. So the value
// (NaN payloads included) and the argmax are the scalar loop's, bit for bit.
//   plane is (H, W) with row stride W, y is (OH, OW) with OH = H/2, OW = W/2 (floor);
//   argmax (may be null) gets the flat index into the plane of each output's winner.
#include <cstddef>
#include <cstdint>

#include "ann/backend/cpu/simd.hpp"

namespace ann::cpu {

#if ANN_HAVE_AVX512_KERNELS
ANN_AVX512_TARGET inline void maxpool_plane_2x2_avx512(const float* plane, std::size_t W,
                                                       std::size_t OH, std::size_t OW, float* y,
                                                       std::uint32_t* argmax) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512i off1 = _mm512_set1_epi32(1), offW = _mm512_set1_epi32(int(W)),
                  offW1 = _mm512_set1_epi32(int(W) + 1);
    for (std::size_t oh = 0; oh < OH; ++oh) {
        const float* r0 = plane + 2 * oh * W;
        const float* r1 = r0 + W;
        for (std::size_t ow0 = 0; ow0 < OW; ow0 += 16) {
            const int n = int(2 * (OW - ow0));  // input columns of this block's windows
            const __mmask16 lo = detail::first_lanes(n), hi = detail::first_lanes(n - 16);
            const __mmask16 keep = detail::first_lanes(int(OW - ow0));
            const __m512 a_lo = _mm512_maskz_loadu_ps(lo, r0 + 2 * ow0), a_hi = _mm512_maskz_loadu_ps(hi, r0 + 2 * ow0 + 16);
            const __m512 b_lo = _mm512_maskz_loadu_ps(lo, r1 + 2 * ow0), b_hi = _mm512_maskz_loadu_ps(hi, r1 + 2 * ow0 + 16);
            const __m512 v[3] = {_mm512_permutex2var_ps(a_lo, odd, a_hi), _mm512_permutex2var_ps(b_lo, even, b_hi),
                                 _mm512_permutex2var_ps(b_lo, odd, b_hi)};
            const __m512i offs[3] = {off1, offW, offW1};
            __m512 best = _mm512_permutex2var_ps(a_lo, even, a_hi);
            __m512i at = _mm512_setzero_si512();
            for (int k = 0; k < 3; ++k) {
                const __mmask16 wins =
                    _mm512_cmp_ps_mask(v[k], best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v[k], v[k], _CMP_UNORD_Q);
                best = _mm512_mask_mov_ps(best, wins, v[k]);
                at = _mm512_mask_mov_epi32(at, wins, offs[k]);
            }
            _mm512_mask_storeu_ps(y + oh * OW + ow0, keep, best);
            if (argmax) {
                const __m512i base = _mm512_add_epi32(_mm512_set1_epi32(int(2 * oh * W + 2 * ow0)), even);  // + 2 * lane
                _mm512_mask_storeu_epi32(argmax + oh * OW + ow0, keep, _mm512_add_epi32(base, at));
            }
        }
    }
}
#endif

}  // namespace ann::cpu
