// Test-side GGUF byte builder, independent of GgufWriter: it can encode any field with any
// value (invalid ones included), so malformed images are built field by field rather than by
// patching offsets. Also lists the named malformed cases shared by the unit tests and the
// checked-in fuzz corpus (tests/corpus/fuzz_gguf/).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quant/types.h"

namespace pocket::gguf_test {

// Little-endian byte sink.
struct Bytes {
  std::vector<uint8_t> b;
  template <typename T>
  Bytes& put(T v) {
    const size_t n = b.size();
    b.resize(n + sizeof(T));
    std::memcpy(b.data() + n, &v, sizeof(T));
    return *this;
  }
  Bytes& u8(uint8_t v) { return put(v); }
  Bytes& u32(uint32_t v) { return put(v); }
  Bytes& i32(int32_t v) { return put(v); }
  Bytes& u64(uint64_t v) { return put(v); }
  Bytes& i64(int64_t v) { return put(v); }
  Bytes& f32(float v) { return put(v); }
  Bytes& str(std::string_view s) {
    u64(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
};

// GGUF value type tags (ggml's gguf_type).
enum : uint32_t { kU8 = 0, kI8, kU16, kI16, kU32, kI32, kF32, kBool, kStr, kArr, kU64, kI64, kF64 };

inline std::vector<uint8_t> kv_u32(std::string_view k, uint32_t v) { return Bytes().str(k).u32(kU32).u32(v).b; }
inline std::vector<uint8_t> kv_i32(std::string_view k, int32_t v) { return Bytes().str(k).u32(kI32).i32(v).b; }
inline std::vector<uint8_t> kv_f32(std::string_view k, float v) { return Bytes().str(k).u32(kF32).f32(v).b; }
inline std::vector<uint8_t> kv_bool(std::string_view k, bool v) { return Bytes().str(k).u32(kBool).u8(v).b; }
inline std::vector<uint8_t> kv_str(std::string_view k, std::string_view v) {
  return Bytes().str(k).u32(kStr).str(v).b;
}
inline std::vector<uint8_t> kv_arr_i32(std::string_view k, const std::vector<int32_t>& v) {
  Bytes b;
  b.str(k).u32(kArr).u32(kI32).u64(v.size());
  for (int32_t x : v) b.i32(x);
  return b.b;
}
inline std::vector<uint8_t> kv_arr_str(std::string_view k, const std::vector<std::string>& v) {
  Bytes b;
  b.str(k).u32(kArr).u32(kStr).u64(v.size());
  for (const auto& s : v) b.str(s);
  return b.b;
}

struct RawTensor {
  std::string name;
  uint32_t n_dims;
  std::vector<int64_t> ne;          // n_dims entries normally (any count may be given)
  uint32_t type;                    // raw ggml type id
  std::optional<uint64_t> offset;   // default: running padded sum, as ggml writes it
};

// Byte size of a tensor as the format defines it, or 0 when the info is invalid.
inline uint64_t raw_nbytes(const RawTensor& t) {
  const auto dt = dtype_from_id(t.type);
  if (!dt) return 0;
  const TypeTraits& tt = type_traits(*dt);
  uint64_t n = 1;
  for (int64_t d : t.ne) {
    if (d < 0 || __builtin_mul_overflow(n, static_cast<uint64_t>(d), &n)) return 0;
  }
  if (t.ne.empty() || t.ne[0] % tt.block_size != 0) return 0;
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(n / tt.block_size, tt.type_size, &bytes)) return 0;
  return bytes;
}

struct RawImage {
  std::string magic = "GGUF";
  uint32_t version = 3;
  std::optional<uint64_t> n_tensors, n_kv;  // override the real counts
  std::vector<std::vector<uint8_t>> kvs;
  std::vector<RawTensor> tensors;
  uint64_t alignment = 32;  // padding used for layout (independent of any general.alignment kv)
  bool no_data = false;     // stop right after the tensor infos (no padding, no data)
  int64_t data_delta = 0;   // bytes appended (>0) or cut (<0) at the end of the image

  std::vector<uint8_t> build() const {
    Bytes b;
    b.b.insert(b.b.end(), magic.begin(), magic.end());
    b.u32(version).u64(n_tensors.value_or(tensors.size())).u64(n_kv.value_or(kvs.size()));
    for (const auto& kv : kvs) b.b.insert(b.b.end(), kv.begin(), kv.end());
    const uint64_t a = alignment ? alignment : 1;
    auto pad = [a](uint64_t n) { return (n + a - 1) / a * a; };
    uint64_t running = 0;
    for (const RawTensor& t : tensors) {
      b.str(t.name).u32(t.n_dims);
      for (int64_t d : t.ne) b.i64(d);
      b.u32(t.type).u64(t.offset.value_or(running));
      running += pad(raw_nbytes(t));
    }
    if (no_data) running = 0;
    else b.b.resize(pad(b.b.size()), 0);
    // Deterministic non-zero filler so that data bytes are distinguishable from padding.
    const size_t data_start = b.b.size();
    b.b.resize(data_start + running);
    for (size_t i = data_start; i < b.b.size(); ++i) b.b[i] = static_cast<uint8_t>(i * 131 + 7);
    if (data_delta < 0) {
      const uint64_t cut = static_cast<uint64_t>(-data_delta);
      b.b.resize(cut > b.b.size() ? 0 : b.b.size() - cut);
    } else {
      b.b.resize(b.b.size() + static_cast<uint64_t>(data_delta), 0);
    }
    return b.b;
  }
};

// A small valid image with metadata of several types and three tensors of different types; the
// last one (68 bytes of Q8_0) is followed by 28 bytes of padding, as ggml writes it.
inline RawImage base_image() {
  RawImage im;
  im.kvs = {kv_str("general.architecture", "llama"), kv_u32("llama.block_count", 2),
            kv_f32("llama.rope.freq_base", 10000.0f), kv_bool("tokenizer.ggml.add_bos_token", true),
            kv_arr_i32("tokenizer.ggml.token_type", {1, 2, 3}), kv_arr_str("tokenizer.ggml.tokens", {"a", "bc"})};
  im.tensors = {{"a", 2, {4, 2}, 0 /*F32*/, {}}, {"b", 1, {8}, 1 /*F16*/, {}}, {"c", 2, {32, 2}, 8 /*Q8_0*/, {}}};
  return im;
}

struct MalformedCase {
  std::string name;    // also the corpus file name (bad_<name>.gguf)
  std::vector<uint8_t> bytes;
  std::string expect;  // substring the error message must contain
};

inline std::vector<MalformedCase> malformed_cases() {
  std::vector<MalformedCase> cs;
  auto add = [&](std::string name, const RawImage& im, std::string expect) {
    cs.push_back({std::move(name), im.build(), std::move(expect)});
  };
  const uint64_t huge = uint64_t{1} << 62;
  RawImage im;

  cs.push_back({"empty_file", {}, "truncated file: magic"});
  cs.push_back({"short_header", {'G', 'G', 'U', 'F', 3, 0, 0}, "truncated file: version"});
  im = base_image(); im.magic = "GGUX"; add("bad_magic", im, "bad magic 'GGUX'");
  im = base_image(); im.version = 0; add("version_0", im, "unsupported version 0");
  im = base_image(); im.version = 1; add("version_1", im, "version 1 is not supported");
  im = base_image(); im.version = 4; add("version_4", im, "unsupported version 4");
  im = base_image(); im.version = 0x03000000; add("version_big_endian", im, "big-endian");
  im = base_image(); im.n_kv = huge; add("huge_kv_count", im, "metadata count");
  im = base_image(); im.n_tensors = huge; add("huge_tensor_count", im, "tensor count");
  im = base_image(); im.n_kv = 7; add("kv_count_too_big", im, "");
  im = base_image();
  im.kvs.insert(im.kvs.begin(), Bytes().u64(uint64_t{1} << 60).b);
  add("huge_key_length", im, "metadata key at offset 24 has length 1152921504606846976");
  im = base_image(); im.kvs[0] = Bytes().str("general.architecture").u32(kStr).u64(~uint64_t{0}).b;
  add("huge_string_value", im, "string value of 'general.architecture'");
  im = base_image(); im.kvs[4] = Bytes().str("tokenizer.ggml.token_type").u32(kArr).u32(kI32).u64(uint64_t{1} << 61).b;
  add("huge_array_count", im, "array of 2305843009213693952 i32 elements cannot fit");
  im = base_image(); im.kvs[5] = Bytes().str("tokenizer.ggml.tokens").u32(kArr).u32(kStr).u64(uint64_t{1} << 60).b;
  add("huge_string_array_count", im, "array of 1152921504606846976 strings cannot fit");
  im = base_image(); im.kvs[4] = Bytes().str("nested").u32(kArr).u32(kArr).u64(1).u32(kI32).u64(1).i32(5).b;
  add("nested_array", im, "nested arrays");
  im = base_image(); im.kvs[1] = Bytes().str("llama.block_count").u32(13).u32(2).b;
  add("invalid_value_type", im, "invalid value type 13");
  im = base_image(); im.kvs[4] = Bytes().str("arr").u32(kArr).u32(99).u64(1).u32(0).b;
  add("invalid_array_elem_type", im, "invalid array element type 99");
  im = base_image(); im.kvs.push_back(kv_u32("", 1)); add("empty_key", im, "is empty");
  im = base_image(); im.kvs.push_back(kv_u32("llama.block_count", 3)); add("duplicate_key", im, "duplicate metadata key 'llama.block_count'");
  im = base_image(); im.kvs.push_back(kv_u32("general.alignment", 0)); add("alignment_0", im, "not a nonzero power of two");
  im = base_image(); im.kvs.push_back(kv_u32("general.alignment", 3)); add("alignment_3", im, "general.alignment 3");
  im = base_image(); im.kvs.push_back(kv_i32("general.alignment", 32)); add("alignment_wrong_type", im, "must be of type u32 but is i32");
  im = base_image(); im.tensors[1].n_dims = 0; im.tensors[1].ne = {}; add("n_dims_0", im, "has 0 dimensions");
  im = base_image(); im.tensors[1] = {"b", 5, {8, 1, 1, 1, 1}, 1, {}}; add("n_dims_5", im, "has 5 dimensions");
  im = base_image(); im.tensors[0].ne = {4, -2}; add("ne_negative", im, "dimension 1 at offset");
  im = base_image(); im.tensors[0].ne = {int64_t{1} << 40, int64_t{1} << 40}; add("ne_overflow", im, "element count overflows");
  im = base_image(); im.tensors[0].ne = {int64_t{1} << 31, int64_t{1} << 31}; add("nbytes_overflow", im, "byte size overflows");
  im = base_image(); im.tensors[1].type = 4; add("unknown_type_id", im, "unknown type id 4");
  im = base_image(); im.tensors[1].type = 0xFFFFFFFFu; add("unknown_type_id_huge", im, "unknown type id 4294967295");
  im = base_image(); im.tensors[2].ne = {33, 2}; add("row_not_block_multiple", im, "not a multiple of the block size 32");
  im = base_image(); im.data_delta = -40; add("data_past_end", im, "tensor 'c' data [offset");
  im = base_image(); im.tensors[2].offset = uint64_t{1} << 63; add("offset_huge", im, "tensor 'c' has data offset 9223372036854775808");
  im = base_image(); im.tensors[1].offset = 48; add("offset_misaligned", im, "not a multiple of the alignment 32");
  im = base_image(); im.tensors[1].offset = 64; add("offset_gap", im, "expected 32");
  im = base_image(); im.tensors[2].offset = 0; add("offset_overlap", im, "expected 64");
  im = base_image(); im.tensors[2].name = "a"; add("duplicate_tensor_name", im, "duplicate tensor name 'a'");
  // Infos that end off the alignment, with nothing after them: the padded data start is past the end.
  im = base_image(); im.no_data = true;
  while (im.build().size() % 32 == 0) im.tensors[0].name += "x";
  add("data_section_past_end", im, "data section would start at offset");
  im = base_image(); im.no_data = true; im.data_delta = -3; add("tensor_infos_truncated", im, "truncated file: tensor data offset of 'c'");
  return cs;
}

}  // namespace pocket::gguf_test
