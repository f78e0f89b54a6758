// Streaming GGUF (v3) writer for conversions: the layout (metadata, tensor infos, aligned data
// offsets) is fixed first, the output is sized once, and each tensor is produced in place
// through a writable shared mapping. A converted or requantized model therefore never exists
// twice in memory (GgufWriter, by contrast, holds every tensor until write()).
// Layout as ggml/src/gguf.cpp writes it: infos, pad to alignment, each tensor padded to it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/gguf.h"
#include "quant/types.h"

namespace pocket {

class GgufStreamWriter {
 public:
  // Writes exactly the tensor's byte size (row_bytes(type, dims[0]) * rows) at dst.
  using Fill = std::function<void(uint8_t* dst)>;

  // Copies one metadata value verbatim (any GGUF type, arrays included).
  void add_metadata(std::string_view key, const GgufValue& v);
  // Copies every key of `src` except general.alignment (this writer always aligns to 32)
  // and keys for which skip(key) is true.
  void copy_metadata(const GgufFile& src, const std::function<bool(std::string_view)>& skip = {});
  bool has_key(std::string_view key) const;

  // dims in ggml order (ne[0] = row length first).
  void add_tensor(std::string name, DType type, std::vector<int64_t> dims, Fill fill);

  // Sizes the file behind fd and writes the whole image into it.
  void write_fd(int fd, const std::string& what) const;
  // Creates (truncates) path and writes the image.
  void write_file(const std::string& path) const;
  // Writes the image into an anonymous in-memory file (memfd on Linux) and maps it: the
  // result behaves like a GGUF opened from disk, named `display_name`.
  std::unique_ptr<GgufFile> to_memory(const std::string& display_name) const;

  size_t n_tensors() const { return tensors_.size(); }

 private:
  struct Tensor {
    std::string name;
    DType type;
    std::vector<int64_t> dims;
    size_t nbytes;
    Fill fill;
  };
  static constexpr uint64_t kAlignment = 32;
  std::vector<uint8_t> kv_;
  std::vector<std::string> keys_;
  std::vector<Tensor> tensors_;
};

}  // namespace pocket
