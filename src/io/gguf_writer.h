// GGUF writer (version 3) used by tests and benchmarks to generate synthetic models
// deterministically, and by `pocket quantize`. Writes tensors already in their final type.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "quant/types.h"

namespace pocket {

class GgufWriter {
 public:
  explicit GgufWriter(uint64_t alignment = 32) : alignment_(alignment) {}

  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_u64(const std::string& key, uint64_t v);
  void set_f32(const std::string& key, float v);
  void set_bool(const std::string& key, bool v);
  void set_string(const std::string& key, const std::string& v);
  void set_array_i32(const std::string& key, const std::vector<int32_t>& v);
  void set_array_f32(const std::string& key, const std::vector<float>& v);
  void set_array_string(const std::string& key, const std::vector<std::string>& v);

  // dims in ggml order (ne[0] first); data holds the tensor in `type` (row_bytes * rows).
  void add_tensor(const std::string& name, DType type, const std::vector<int64_t>& dims,
                  std::vector<uint8_t> data);
  // Convenience: quantizes float data row by row to `type`.
  void add_tensor_f32(const std::string& name, DType type, const std::vector<int64_t>& dims,
                      const std::vector<float>& values);

  // Serializes the whole file; throws pocket::Error on I/O failure.
  void write(const std::string& path) const;
  std::vector<uint8_t> to_bytes() const;

 private:
  struct Tensor {
    std::string name;
    DType type;
    std::vector<int64_t> dims;
    std::vector<uint8_t> data;
  };
  // Appends the key and its type tag, rejecting empty and duplicate keys.
  void put_key(const std::string& key, uint32_t type);
  // Streams the serialized file to `out` in order (header, metadata, infos, padded data).
  void emit(const std::function<void(const uint8_t*, size_t)>& out) const;

  uint64_t alignment_;
  std::set<std::string> keys_;
  std::set<std::string> tensor_names_;
  std::vector<uint8_t> kv_bytes_;
  uint64_t n_kv_ = 0;
  std::vector<Tensor> tensors_;
};

}  // namespace pocket
