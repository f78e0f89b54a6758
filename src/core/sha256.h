// SHA-256, used to verify downloads against the Hugging Face Hub's LFS object ids. A thin
// incremental wrapper over OpenSSL's libcrypto (EVP): feed any number of chunks, then finish().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace pocket {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void reset();
  void update(const void* data, size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  // Returns the digest; the object must be reset() before reuse.
  std::array<uint8_t, 32> finish();
  // finish() as 64 lowercase hex digits.
  std::string finish_hex();

 private:
  evp_md_ctx_st* ctx_ = nullptr;
};

std::string sha256_hex(std::string_view data);
// Hashes a file in chunks; throws pocket::Error when it cannot be read.
std::string sha256_file_hex(const std::string& path);

}  // namespace pocket
