// Matrix products for decoding on AVX512-BF16 CPUs: 4-bit weights times bf16 activations for
// any number of input rows (sc2_int4_matmul), an int8 LM head (sc2_int8_matmul), one query
// row's attention (sc2_attend_one), and a bf16 or fp32 matrix times one vector (sc2_matvec).
//
// A prefill may instead take its activations to int8 (a8): `vpdpbusd` does 64 products per
// instruction where `vdpbf16ps` does 32, and a prefill is bound by products, not bytes.
//
// Why our own kernel: decoding one token reads every weight once, so a step costs the
// weights' bytes over the memory bandwidth, and ATen's CPU int4 kernel spends most of its
// time unpacking nibbles (it reads ~20 GB/s here, llama.cpp's ~29). This one unpacks a
// nibble into a bf16 with one ternary-logic op: (q | 0x4300) is the bf16 of 128 + q, so a
// `vdpbf16ps` multiplies (128 + q) by the activations exactly and the 128 is taken back with
// each group's activation sum. Each output row is computed alike however many input rows
// come with it (the sums run in the same order), so a prefill and a decode step agree.
//
// Weight layout (sc2_lsp/engine/native.py packs it), blocks of ROWS = 16 output rows:
//   packed [N / 16][K / 4 steps][32 bytes]: step s covers inputs k0 = 4 s .. k0 + 3;
//     byte i holds row i / 2's input k0 + i % 2 (low nibble)
//     and k0 + 2 + i % 2 (high nibble), so widened to 16-bit words, the low nibbles are
//     16 lanes of (row, input pair) — a vdpbf16ps operand — and so are the high ones.
//   scales [N / 16][K / G][2][16] fp16, for groups of G = 32, 64 or 128 inputs: each
//     row's scale d, then its minimum m: w = d * q + m.
// Build: g++ -O3 -mavx512f -mavx512bw -mavx512bf16 -mavx512vnni -mf16c -mfma -fopenmp
// (native.py).
#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

namespace {

constexpr int64_t ROWS = 16, STEP_BYTES = 32;  // a step: 16 rows x 4 inputs
constexpr int64_t TOKENS = 6;                       // input rows per register tile
constexpr int64_t CHUNK_BYTES = 192 * 1024;         // weights a thread keeps in L2 per pass

// The kernel's form of the input: bf16 activations and each group's sum, or (a8) int8
// activations with each group's scale and the scale times the group's sum of codes.
struct Input {
  const uint16_t* x;  // [M][K] bf16
  const float* sums;  // [M][K / G]
  int64_t K, G;
  const int8_t* q = nullptr;    // a8: [M][K], x ≈ scale * q per group
  const float* scale = nullptr;  // a8: [M][K / G]
  const float* bias = nullptr;   // [N], added to every output row (fp32, before rounding)
  bool gelu = false;             // then GELU's tanh form (transformers' gelu_pytorch_tanh)
};

// e^x, Cephes' expf: 2^n e^r (inputs below -87.3 give e^-87.3, above 88.7 infinity).
inline __m512 exp_ps(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.3f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  static constexpr float poly[] = {1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f,
                                   1.6666665459e-1f, 5.0000001201e-1f};
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  for (float c : poly) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

// x / 2 * (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), tanh(u) = 1 - 2 / (e^2u + 1)
inline __m512 gelu_tanh(__m512 x) {
  const __m512 u = _mm512_mul_ps(_mm512_set1_ps(0.7978845608f),
                                 _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(0.044715f), x),
                                                 _mm512_mul_ps(x, x), x));
  const __m512 e = exp_ps(_mm512_add_ps(u, u));
  const __m512 tanh = _mm512_sub_ps(_mm512_set1_ps(1.0f),
                                    _mm512_div_ps(_mm512_set1_ps(2.0f),
                                                  _mm512_add_ps(e, _mm512_set1_ps(1.0f))));
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x),
                       _mm512_add_ps(_mm512_set1_ps(1.0f), tanh));
}

inline float group_sum(const uint16_t* x, int64_t G) {  // G bf16 -> fp32 sum, in a fixed order
  __m512 acc = _mm512_setzero_ps();
  for (int64_t i = 0; i < G; i += 32) {
    __m512i words = _mm512_loadu_si512(x + i);
    __m512 lo = _mm512_castsi512_ps(_mm512_slli_epi32(words, 16));
    __m512 hi = _mm512_castsi512_ps(_mm512_and_si512(words, _mm512_set1_epi32(0xFFFF0000)));
    acc = _mm512_add_ps(acc, _mm512_add_ps(lo, hi));
  }
  return _mm512_reduce_add_ps(acc);
}

inline uint16_t bf16_of(float y) {  // round to nearest even, as torch's .to(torch.bfloat16)
  uint32_t bits;
  memcpy(&bits, &y, 4);
  if ((bits & 0x7FFFFFFF) > 0x7F800000) return 0x7FC0;  // NaN
  return static_cast<uint16_t>((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
}

// Row t of x (fp32 or bf16) as bf16 (round to nearest even) with its group sums.
void prepare_row(const void* x, bool x_bf16, int64_t t, int64_t K, int64_t G, uint16_t* xb,
                 float* sums) {
  uint16_t* row = xb + t * K;
  if (!x_bf16) {
    const float* src = static_cast<const float*>(x) + t * K;
    for (int64_t k = 0; k < K; k += 16) {
      __m256bh b = _mm512_cvtneps_pbh(_mm512_loadu_ps(src + k));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(row + k), (__m256i)b);
    }
  }
  for (int64_t g = 0; g < K / G; ++g) sums[t * (K / G) + g] = group_sum(row + g * G, G);
}

// Row t of x (fp32 or bf16) as int8 codes per group of G: scale = max |x| / 127,
// q = round(x / scale); sums[g] = scale * sum(q), for the weights' minimum term.
void quantize_row(const void* x, bool x_bf16, int64_t t, int64_t K, int64_t G, int8_t* q,
                  float* scale, float* sums) {
  for (int64_t g = 0; g < K / G; ++g) {
    __m512 v[8];  // G <= 128
    __m512 amax = _mm512_setzero_ps();
    for (int64_t i = 0; i < G / 16; ++i) {
      const int64_t k = t * K + g * G + i * 16;
      v[i] = x_bf16 ? _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(
                          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(
                              static_cast<const uint16_t*>(x) + k))), 16))
                    : _mm512_loadu_ps(static_cast<const float*>(x) + k);
      amax = _mm512_max_ps(amax, _mm512_abs_ps(v[i]));
    }
    const float top = _mm512_reduce_max_ps(amax);
    const __m512 inv = _mm512_set1_ps(top > 0 ? 127.0f / top : 0.0f);
    __m512i total = _mm512_setzero_si512();
    for (int64_t i = 0; i < G / 16; ++i) {
      const __m512i codes = _mm512_cvtps_epi32(_mm512_mul_ps(v[i], inv));  // nearest even
      total = _mm512_add_epi32(total, codes);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + t * K + g * G + i * 16),
                       _mm512_cvtsepi32_epi8(codes));
    }
    scale[t * (K / G) + g] = top / 127.0f;
    sums[t * (K / G) + g] = top / 127.0f * static_cast<float>(_mm512_reduce_add_epi32(total));
  }
}

template <int T>
inline void store_tile(const __m512* acc, int64_t t0, float* out, int64_t ldo, int64_t n0,
                       bool out_bf16, const Input& in) {
  for (int t = 0; t < T; ++t) {
    __m512 y = in.bias ? _mm512_add_ps(acc[t], _mm512_loadu_ps(in.bias + n0)) : acc[t];
    if (in.gelu) y = gelu_tanh(y);
    if (out_bf16) {
      uint16_t* o = reinterpret_cast<uint16_t*>(out) + (t0 + t) * ldo + n0;
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), (__m256i)_mm512_cvtneps_pbh(y));
    } else {
      _mm512_storeu_ps(out + (t0 + t) * ldo + n0, y);
    }
  }
}

// out[t][n0 .. n0 + 16) for tokens [t0, t0 + T) and one block of 16 rows; STEPS = G / 4.
template <int T, int STEPS>
void block_tile(const Input& in, int64_t t0, const uint8_t* w, const uint16_t* s,
                float* out, int64_t ldo, int64_t n0, bool out_bf16) {
  const int64_t groups = in.K / (4 * STEPS);
  const __m512i nibble = _mm512_set1_epi16(0x000F), bf16_128 = _mm512_set1_epi16(0x4300);
  const __m512 minus128 = _mm512_set1_ps(-128.0f);
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t g = 0; g < groups; ++g, w += STEPS * STEP_BYTES, s += 2 * ROWS) {
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s)));
    const __m512 m = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + ROWS)));
    const __m512 m128 = _mm512_fmadd_ps(minus128, d, m);  // w = d (128 + q) + (m - 128 d)
    __m512 lo[T], hi[T];
    for (int t = 0; t < T; ++t) lo[t] = hi[t] = _mm512_setzero_ps();
    for (int64_t step = 0; step < STEPS; ++step) {
      const __m512i bytes = _mm512_cvtepu8_epi16(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + step * STEP_BYTES)));
      // (a & b) | c: the nibble as the bf16 of 128 + q
      const __m512bh w01 = (__m512bh)_mm512_ternarylogic_epi32(bytes, nibble, bf16_128, 0xEA);
      const __m512bh w23 = (__m512bh)_mm512_ternarylogic_epi32(
          _mm512_srli_epi16(bytes, 4), nibble, bf16_128, 0xEA);
      for (int t = 0; t < T; ++t) {
        const int32_t* a = reinterpret_cast<const int32_t*>(
            in.x + (t0 + t) * in.K + g * 4 * STEPS + step * 4);  // inputs k0 .. k0 + 3
        lo[t] = _mm512_dpbf16_ps(lo[t], w01, (__m512bh)_mm512_set1_epi32(a[0]));
        hi[t] = _mm512_dpbf16_ps(hi[t], w23, (__m512bh)_mm512_set1_epi32(a[1]));
      }
    }
    for (int t = 0; t < T; ++t) {
      acc[t] = _mm512_fmadd_ps(_mm512_add_ps(lo[t], hi[t]), d, acc[t]);
      acc[t] = _mm512_fmadd_ps(m128, _mm512_set1_ps(in.sums[(t0 + t) * groups + g]), acc[t]);
    }
  }
  store_tile<T>(acc, t0, out, ldo, n0, out_bf16, in);
}

// The same on int8 activations: each step's 16 rows x 4 nibbles become 16 lanes of 4 bytes
// (a vpdpbusd operand), and a group's products sum exactly in int32.
template <int T, int STEPS>
void block_tile_a8(const Input& in, int64_t t0, const uint8_t* w, const uint16_t* s,
                   float* out, int64_t ldo, int64_t n0, bool out_bf16) {
  const int64_t groups = in.K / (4 * STEPS);
  const __m512i nibbles = _mm512_set1_epi32(0x0F0F0F0F);
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t g = 0; g < groups; ++g, w += STEPS * STEP_BYTES, s += 2 * ROWS) {
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s)));
    const __m512 m = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + ROWS)));
    __m512i dot[T];
    for (int t = 0; t < T; ++t) dot[t] = _mm512_setzero_si512();
    for (int64_t step = 0; step < STEPS; ++step) {
      // word j = row j's two bytes (q0 | q2 << 4, q1 | q3 << 4) -> lane j = q0 q1 q2 q3
      const __m512i words = _mm512_cvtepu16_epi32(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + step * STEP_BYTES)));
      const __m512i codes = _mm512_ternarylogic_epi32(  // (a | b) & c
          words, _mm512_slli_epi32(words, 12), nibbles, 0xA8);
      for (int t = 0; t < T; ++t) {
        const int32_t* a = reinterpret_cast<const int32_t*>(
            in.q + (t0 + t) * in.K + g * 4 * STEPS + step * 4);
        dot[t] = _mm512_dpbusd_epi32(dot[t], codes, _mm512_set1_epi32(*a));
      }
    }
    for (int t = 0; t < T; ++t) {
      const int64_t at = (t0 + t) * groups + g;
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[t]),
                               _mm512_mul_ps(d, _mm512_set1_ps(in.scale[at])), acc[t]);
      acc[t] = _mm512_fmadd_ps(m, _mm512_set1_ps(in.sums[at]), acc[t]);
    }
  }
  store_tile<T>(acc, t0, out, ldo, n0, out_bf16, in);
}

using Tile = void (*)(const Input&, int64_t, const uint8_t*, const uint16_t*, float*, int64_t,
                      int64_t, bool);
template <int STEPS>
constexpr Tile TILES[TOKENS + 1] = {nullptr,
                                    block_tile<1, STEPS>, block_tile<2, STEPS>,
                                    block_tile<3, STEPS>, block_tile<4, STEPS>,
                                    block_tile<5, STEPS>, block_tile<6, STEPS>};
template <int STEPS>
constexpr Tile TILES_A8[TOKENS + 1] = {nullptr,
                                       block_tile_a8<1, STEPS>, block_tile_a8<2, STEPS>,
                                       block_tile_a8<3, STEPS>, block_tile_a8<4, STEPS>,
                                       block_tile_a8<5, STEPS>, block_tile_a8<6, STEPS>};

}  // namespace

extern "C" {

// out[M][N] (fp32, or bf16 when out_bf16) = x[M][K] (fp32, or bf16 when x_bf16) times the
// packed weight's transpose, in groups of G (32, 64 or 128) inputs. K % G == 0, N % 16 == 0.
// a8: with the activations quantized to int8 per group (see quantize_row). bias (fp32, or
// null) is added, then GELU applied when gelu.
// Returns 0, -1 when out of memory, -2 for another group size.
int sc2_int4_matmul(const void* x, int x_bf16, int64_t M, int64_t K, int64_t G,
                    const uint8_t* packed, const uint16_t* scales, int64_t N, void* out,
                    int out_bf16, int a8, const float* bias, int gelu, int threads) {
  const Tile* tiles = a8 ? (G == 32 ? TILES_A8<8> : G == 64 ? TILES_A8<16>
                            : G == 128 ? TILES_A8<32> : nullptr)
                         : (G == 32 ? TILES<8> : G == 64 ? TILES<16>
                            : G == 128 ? TILES<32> : nullptr);
  if (!tiles) return -2;
  const int64_t groups = K / G, blocks = N / ROWS;
  const bool convert = !x_bf16 && !a8;
  uint16_t* xb = convert ? static_cast<uint16_t*>(malloc(M * K * 2)) : nullptr;
  int8_t* q = a8 ? static_cast<int8_t*>(malloc(M * K)) : nullptr;
  float* sums = static_cast<float*>(malloc(2 * M * groups * sizeof(float)));
  if ((convert && !xb) || (a8 && !q) || !sums) {
    free(xb);
    free(q);
    free(sums);
    return -1;
  }
  Input in{x_bf16 ? static_cast<const uint16_t*>(x) : xb, sums, K, G, q, sums + M * groups,
           bias, gelu != 0};
  uint16_t* bf = x_bf16 ? const_cast<uint16_t*>(in.x) : xb;
#pragma omp parallel for num_threads(threads) schedule(static) if (M > 16)
  for (int64_t t = 0; t < M; ++t) {
    if (a8)
      quantize_row(x, x_bf16, t, K, G, q, sums + M * groups, sums);
    else
      prepare_row(x, x_bf16, t, K, G, bf, sums);
  }

  // Row blocks in chunks that stay in L2 while every token tile passes over them.
  const int64_t block_bytes = K / 4 * STEP_BYTES + groups * 2 * ROWS * 2;
  const int64_t per_chunk = M <= TOKENS ? 1 : (CHUNK_BYTES / block_bytes > 0 ? CHUNK_BYTES / block_bytes : 1);
  const int64_t chunks = (blocks + per_chunk - 1) / per_chunk;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t b1 = (c + 1) * per_chunk < blocks ? (c + 1) * per_chunk : blocks;
    for (int64_t t0 = 0; t0 < M; t0 += TOKENS) {
      const int64_t T = M - t0 < TOKENS ? M - t0 : TOKENS;
      for (int64_t b = c * per_chunk; b < b1; ++b)
        tiles[T](in, t0, packed + b * K / 4 * STEP_BYTES, scales + b * groups * 2 * ROWS,
                 static_cast<float*>(out), N, b * ROWS, out_bf16 != 0);
    }
  }
  free(xb);
  free(q);
  free(sums);
  return 0;
}

// out[M][N] (fp32, or bf16 when out_bf16) = x[M][K] (fp32, or bf16 when x_bf16) times an
// 8-bit weight's transpose: packed [N / 16][K][16] int8 codes, w[n][k] = scale[n] * code.
//
// Why: int4 models keep their LM head at 8 bits (the logits come from it), and ATen's
// int8 kernel reads it at ~16 GB/s. Codes become fp32 exactly, so this is an fp32 product
// of exact weights; four accumulators per block hide the FMA's latency.
int sc2_int8_matmul(const void* x, int x_bf16, int64_t M, int64_t K, const int8_t* packed,
                    const float* scale, int64_t N, void* out, int out_bf16, const float* bias,
                    int threads) {
  Input epilogue{nullptr, nullptr, K, 0};
  epilogue.bias = bias;
  float* xf = static_cast<float*>(malloc(M * K * sizeof(float)));
  if (!xf) return -1;
  for (int64_t i = 0; i < M * K; ++i) {
    if (x_bf16) {
      const uint32_t bits = static_cast<uint32_t>(static_cast<const uint16_t*>(x)[i]) << 16;
      memcpy(xf + i, &bits, 4);
    } else {
      xf[i] = static_cast<const float*>(x)[i];
    }
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t b = 0; b < N / ROWS; ++b) {
    const int8_t* w = packed + b * K * ROWS;
    const __m512 sc = _mm512_loadu_ps(scale + b * ROWS);
    for (int64_t t = 0; t < M; ++t) {
      const float* xt = xf + t * K;
      __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                       _mm512_setzero_ps()};
      for (int64_t k = 0; k < K; k += 4)
        for (int j = 0; j < 4; ++j) {
          const __m512 codes = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
              _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + (k + j) * ROWS))));
          acc[j] = _mm512_fmadd_ps(codes, _mm512_set1_ps(xt[k + j]), acc[j]);
        }
      const __m512 y = _mm512_mul_ps(
          _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])), sc);
      store_tile<1>(&y, t, static_cast<float*>(out), N, b * ROWS, out_bf16 != 0, epilogue);
    }
  }
  free(xf);
  return 0;
}

namespace {

inline __m512 bf16x16(const uint16_t* p) {  // 16 bf16 -> fp32, exactly
  return _mm512_castsi512_ps(_mm512_slli_epi32(
      _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
}

}  // namespace

// One query row's attention for every head: q [H][d], keys and values [Hkv][L][d] (each kv
// head head_stride elements after the last; rows d apart), all bf16; out [H][d] bf16.
// Scores, softmax and the weighted sum in fp32. d % 32 == 0, d <= 256.
//
// Why: a decode step attends one query over the whole window, and torch's bf16 products
// for that shape cost ~0.4 ms a layer here (12 ms a step for a 3B model at 1,024 tokens),
// ten times what reading the keys and values takes. Returns 0, or -1 when out of memory.
int sc2_attend_one(const uint16_t* q, int64_t H, int64_t Hkv, int64_t d, const uint16_t* keys,
                   const uint16_t* values, int64_t head_stride, int64_t L, float scale,
                   uint16_t* out, int threads) {
  float* scores = static_cast<float*>(malloc(H * (L + 16) * sizeof(float)));
  if (!scores) return -1;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t h = 0; h < H; ++h) {
    const uint16_t* k = keys + h / (H / Hkv) * head_stride;
    const uint16_t* v = values + h / (H / Hkv) * head_stride;
    float* s = scores + h * (L + 16);
    __m512bh qv[8];
    for (int64_t c = 0; c < d / 32; ++c)
      qv[c] = (__m512bh)_mm512_loadu_si512(q + h * d + 32 * c);
    float top = -INFINITY;
    for (int64_t j = 0; j < L; ++j) {
      __m512 acc = _mm512_setzero_ps();
      for (int64_t c = 0; c < d / 32; ++c)
        acc = _mm512_dpbf16_ps(acc, (__m512bh)_mm512_loadu_si512(k + j * d + 32 * c), qv[c]);
      s[j] = _mm512_reduce_add_ps(acc) * scale;
      top = s[j] > top ? s[j] : top;
    }
    __m512 total = _mm512_setzero_ps();
    for (int64_t j = 0; j < L; j += 16) {
      const __mmask16 live = L - j >= 16 ? 0xFFFF : (1u << (L - j)) - 1;
      const __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(live, s + j),
                                            _mm512_set1_ps(top)));
      _mm512_mask_storeu_ps(s + j, live, e);
      total = _mm512_add_ps(total, _mm512_maskz_mov_ps(live, e));
    }
    const float inv = 1.0f / _mm512_reduce_add_ps(total);
    __m512 o[16];
    for (int64_t c = 0; c < d / 16; ++c) o[c] = _mm512_setzero_ps();
    for (int64_t j = 0; j < L; ++j) {
      const __m512 p = _mm512_set1_ps(s[j]);
      for (int64_t c = 0; c < d / 16; ++c) o[c] = _mm512_fmadd_ps(p, bf16x16(v + j * d + 16 * c), o[c]);
    }
    for (int64_t c = 0; c < d / 16; ++c)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + h * d + 16 * c),
                          (__m256i)_mm512_cvtneps_pbh(_mm512_mul_ps(o[c], _mm512_set1_ps(inv))));
  }
  free(scores);
  return 0;
}

// out[N] (fp32, or bf16 when out_bf16) = w[N][K] (rows ldw apart) times x[K], both bf16, or
// both fp32 when fp32.
//
// Why: torch's matrix-vector products read bf16 weights at 7-15 GB/s here, a third of the
// memory's bandwidth, and a small fp32 model's (which sit in L3) at about the same; this
// streams four rows at a time through vdpbf16ps (32 products per instruction) or FMAs and
// reads at the memory's speed. K % 32 == 0.
void sc2_matvec(const void* x, int64_t K, const void* w, int64_t N, int64_t ldw, void* out,
                int out_bf16, int fp32, int threads) {
  constexpr int64_t R = 4;
  const int64_t quads = (N + R - 1) / R;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t qd = 0; qd < quads; ++qd) {
    const int64_t n0 = qd * R, rows = N - n0 < R ? N - n0 : R;
    __m512 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
    if (fp32) {
      const float* xf = static_cast<const float*>(x);
      const float* wf = static_cast<const float*>(w);
      for (int64_t k = 0; k < K; k += 16) {
        const __m512 xk = _mm512_loadu_ps(xf + k);
        for (int r = 0; r < R; ++r)
          if (r < rows) acc[r] = _mm512_fmadd_ps(_mm512_loadu_ps(wf + (n0 + r) * ldw + k), xk, acc[r]);
      }
    } else {
      const uint16_t* xb = static_cast<const uint16_t*>(x);
      const uint16_t* wb = static_cast<const uint16_t*>(w);
      for (int64_t k = 0; k < K; k += 32) {
        const __m512bh xk = (__m512bh)_mm512_loadu_si512(xb + k);
        for (int r = 0; r < R; ++r)
          if (r < rows)
            acc[r] = _mm512_dpbf16_ps(acc[r], (__m512bh)_mm512_loadu_si512(wb + (n0 + r) * ldw + k), xk);
      }
    }
    for (int r = 0; r < rows; ++r) {
      const float y = _mm512_reduce_add_ps(acc[r]);
      if (out_bf16) {
        reinterpret_cast<uint16_t*>(out)[n0 + r] = bf16_of(y);
      } else {
        static_cast<float*>(out)[n0 + r] = y;
      }
    }
  }
}

}  // extern "C"
