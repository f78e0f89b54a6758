// SHA-256 through OpenSSL's libcrypto (EVP_sha256).
#include "core/sha256.h"

#include <openssl/evp.h>

#include <cstdio>
#include <memory>

#include "core/error.h"

namespace pocket {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  POCKET_CHECK(ctx_ != nullptr, "out of memory (sha256 context)");
  reset();
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::reset() { POCKET_CHECK(EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) == 1, "sha256: init failed"); }

void Sha256::update(const void* data, size_t n) {
  POCKET_CHECK(EVP_DigestUpdate(ctx_, data, n) == 1, "sha256: update failed");
}

std::array<uint8_t, 32> Sha256::finish() {
  std::array<uint8_t, 32> out;
  unsigned int len = 0;
  POCKET_CHECK(EVP_DigestFinal_ex(ctx_, out.data(), &len) == 1 && len == out.size(), "sha256: final failed");
  return out;
}

std::string Sha256::finish_hex() {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto d = finish();
  std::string s(64, '0');
  for (int i = 0; i < 32; ++i) {
    s[2 * i] = kHex[d[i] >> 4];
    s[2 * i + 1] = kHex[d[i] & 15];
  }
  return s;
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.finish_hex();
}

std::string sha256_file_hex(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  POCKET_CHECK(f, "cannot read '{}'", path);
  Sha256 h;
  std::unique_ptr<uint8_t[]> buf(new uint8_t[1 << 20]);
  size_t n;
  while ((n = std::fread(buf.get(), 1, 1 << 20, f.get())) > 0) h.update(buf.get(), n);
  POCKET_CHECK(!std::ferror(f.get()), "error reading '{}'", path);
  return h.finish_hex();
}

}  // namespace pocket
