// Read-only memory mapping of a whole file: model weights are never copied into the heap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pocket {

class MappedFile {
 public:
  MappedFile() = default;
  // Throws pocket::Error when the file cannot be opened or mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  void reset();
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// Drops the resident pages fully inside [p, p + n) of a read-only file mapping; they are
// read back from the file if touched again. For weights that were copied into another layout.
void release_mapped_pages(const void* p, size_t n);

}  // namespace pocket
