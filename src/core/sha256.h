// SHA-256 (FIPS 180-4), used to verify downloads against the Hugging Face Hub's LFS object ids
// without pulling in an OpenSSL dependency. Incremental: feed any number of chunks, then finish().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pocket {

class Sha256 {
 public:
  Sha256() { reset(); }
  void reset();
  void update(const void* data, size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  // Pads the message and returns the digest; the object must be reset() before reuse.
  std::array<uint8_t, 32> finish();
  // finish() as 64 lowercase hex digits.
  std::string finish_hex();

 private:
  void compress(const uint8_t* block);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t n_bytes_ = 0;
};

std::string sha256_hex(std::string_view data);
// Hashes a file in chunks; throws pocket::Error when it cannot be read.
std::string sha256_file_hex(const std::string& path);

}  // namespace pocket
