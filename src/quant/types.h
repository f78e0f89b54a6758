// Weight/activation element types. Ids and block layouts are GGML's, because GGUF files
// store them verbatim (ref: ggml/include/ggml.h enum ggml_type, ggml/src/ggml-common.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace pocket {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  BF16 = 30,
};

struct TypeTraits {
  const char* name;
  int64_t block_size;   // elements per block (1 for plain types)
  size_t type_size;     // bytes per block
  bool quantized;
  bool supported;       // Pocket can dequantize and multiply with it
};

// Traits for a raw GGUF type id; nullopt for ids GGML does not define.
std::optional<DType> dtype_from_id(uint32_t id);
const TypeTraits& type_traits(DType t);
inline const char* dtype_name(DType t) { return type_traits(t).name; }
std::optional<DType> dtype_from_name(std::string_view name);  // "q4_0", "Q4_K", "f16"...

// Bytes of a row of n elements; n must be a multiple of the block size.
inline size_t row_bytes(DType t, int64_t n) {
  const TypeTraits& tt = type_traits(t);
  return static_cast<size_t>(n / tt.block_size) * tt.type_size;
}

// Scalar (de)quantization of one row; n is a multiple of the block size.
// These are the reference semantics; kernels/ has the fast paths.
void dequantize_row(DType t, const void* src, float* dst, int64_t n);
void quantize_row(DType t, const float* src, void* dst, int64_t n);

}  // namespace pocket
