// Safetensors reader, memory-mapped and bounds-checked, plus Hugging Face checkpoint folders
// split over several files (model.safetensors.index.json). Every size and offset in a header is
// checked against the file before use, so a malformed file is a pocket::Error, never a crash.
// Format ref: huggingface/safetensors README ("Format") and safetensors/src/tensor.rs
// (Metadata::validate: offsets contiguous from 0, no holes, sizes = shape x dtype size).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/mmap.h"

namespace pocket {

enum class StDType : uint8_t { BOOL, U8, I8, F8_E4M3, F8_E5M2, I16, U16, F16, BF16, I32, U32, F32, I64, U64, F64 };

const char* st_dtype_name(StDType t);
size_t st_dtype_size(StDType t);
// True for the float types read_f32 converts (F32, F16, BF16, F8_E4M3, F8_E5M2, F64).
bool st_dtype_is_float(StDType t);

// FP8 e4m3 ("fn": no infinities, S.1111.111 is NaN, max 448) and e5m2 to float, exact.
float f8_e4m3_to_f32(uint8_t v);
float f8_e5m2_to_f32(uint8_t v);

struct StTensor {
  std::string name;
  StDType dtype = StDType::F32;
  std::vector<int64_t> shape;     // row-major, outermost first (PyTorch order)
  const uint8_t* data = nullptr;  // into the mapping
  size_t nbytes = 0;
  int64_t n_elements() const;
  // Converts elements [first, first + n) to float; throws for non-float dtypes or a bad range.
  void read_f32(int64_t first, int64_t n, float* out) const;
};

class SafetensorsFile {
 public:
  static constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // safetensors' own limit (MAX_HEADER_SIZE)

  static std::unique_ptr<SafetensorsFile> open(const std::string& path);
  // Parses an in-memory image that must outlive the object (tests, fuzzing).
  static std::unique_ptr<SafetensorsFile> parse(const uint8_t* data, size_t size, std::string name = "<memory>");

  const std::string& path() const { return path_; }
  const std::vector<StTensor>& tensors() const { return tensors_; }  // in header order
  const StTensor* find(std::string_view name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }  // __metadata__

 private:
  SafetensorsFile() = default;
  void parse_impl();

  MappedFile map_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  std::string path_;
  std::vector<StTensor> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
  std::map<std::string, std::string> metadata_;
};

// All weights of a checkpoint folder: model.safetensors.index.json's weight_map when present
// (every listed tensor must be in the named shard, no tensor in two shards), otherwise the
// model*.safetensors files of the folder.
class SafetensorsCheckpoint {
 public:
  static std::unique_ptr<SafetensorsCheckpoint> open_dir(const std::string& dir);

  const StTensor* find(std::string_view name) const;
  // Throws naming the tensor and the folder when it is absent.
  const StTensor& get(std::string_view name) const;
  std::vector<std::string> names() const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const StTensor*, std::less<>> by_name_;
};

}  // namespace pocket
