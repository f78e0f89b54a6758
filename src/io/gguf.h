// GGUF reader (versions 2 and 3), memory-mapped and bounds-checked: every count, offset and
// size read from the file is validated against the file length before use, so a malformed
// file becomes a pocket::Error, never a crash or an unbounded allocation.
// Format ref: ggml/docs/gguf.md, ggml/src/gguf.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/mmap.h"
#include "quant/types.h"

namespace pocket {

enum class GgufType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};

// Byte size of a fixed-size value type; 0 for STRING/ARRAY (and unknown values).
size_t gguf_type_size(GgufType t);

const char* gguf_type_name(GgufType t);

// One metadata value. Arrays keep their element type; string arrays are materialized as
// string_views into the mapping (no copies of large vocabularies); numeric arrays point
// into the mapping (little-endian, possibly unaligned: read with memcpy or the accessors).
struct GgufArray {
  GgufType elem_type = GgufType::U8;
  uint64_t count = 0;
  const uint8_t* data = nullptr;           // numeric element data (count * elem size bytes)
  std::vector<std::string_view> strings;   // when elem_type == STRING
  // Nested arrays (legal but unusual) are rejected by the reader.
  double number_at(uint64_t i) const;      // numeric element as double
  int64_t int_at(uint64_t i) const;        // integer element (bools as 0/1)
};

struct GgufValue {
  GgufType type = GgufType::U8;
  std::variant<uint64_t, int64_t, double, bool, std::string_view, GgufArray> v;

  bool is_int() const;                      // any integer type
  bool is_number() const;                   // integer or float
  int64_t as_int() const;                   // throws unless an integer in range
  uint64_t as_uint() const;                 // throws unless a non-negative integer
  double as_double() const;                 // throws unless numeric
  bool as_bool() const;                     // throws unless bool
  std::string_view as_string() const;       // throws unless string
  const GgufArray& as_array() const;        // throws unless array
  std::string to_display(size_t max_items = 8) const;  // for `pocket info`
};

struct GgufTensorInfo {
  std::string name;
  DType type = DType::F32;
  int n_dims = 0;
  int64_t ne[4] = {1, 1, 1, 1};  // ggml order: ne[0] is the contiguous (row) dimension
  uint64_t offset = 0;           // relative to the data section
  const uint8_t* data = nullptr; // absolute pointer into the mapping
  size_t nbytes = 0;
  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

class GgufFile {
 public:
  // Maps and parses; throws pocket::Error with a message naming the problem.
  static std::unique_ptr<GgufFile> open(const std::string& path);
  // Same, naming the file `display_name` in path() and in messages (for images converted in
  // memory and mapped from an anonymous file, whose own path means nothing to a user).
  static std::unique_ptr<GgufFile> open(const std::string& path, std::string display_name);
  // Parses an in-memory image (used by tests and the fuzz target); the buffer must outlive the object.
  static std::unique_ptr<GgufFile> parse(const uint8_t* data, size_t size, std::string name = "<memory>");

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  size_t data_offset() const { return data_offset_; }
  size_t file_size() const { return size_; }
  const std::string& path() const { return path_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(std::string_view key) const;
  // Typed getters; throw if present with the wrong type; the `_or` forms return a default when absent.
  std::optional<std::string> get_string(std::string_view key) const;
  std::optional<int64_t> get_int(std::string_view key) const;
  std::optional<double> get_float(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;
  const GgufArray* get_array(std::string_view key) const;
  int64_t get_int_or(std::string_view key, int64_t def) const;
  double get_float_or(std::string_view key, double def) const;
  std::string get_string_or(std::string_view key, std::string def) const;
  bool get_bool_or(std::string_view key, bool def) const;

  // Tensors in file order, and lookup by name.
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;

 private:
  GgufFile() = default;
  void parse_impl();

  MappedFile map_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  std::string path_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  size_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::map<std::string, size_t, std::less<>> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

}  // namespace pocket
