// The tile embedding cache: SHA-256 keys (libcrypto), an LRU list with a hash index.
#include "vision/embedding_cache.h"

#include <cstring>

#include "core/sha256.h"

namespace pocket {

EmbeddingCache::Key EmbeddingCache::key_of(const float* pixels_chw, int64_t width, int64_t height) {
  Sha256 h;
  const int64_t dims[2] = {width, height};
  h.update(dims, sizeof dims);
  h.update(pixels_chw, static_cast<size_t>(3 * width * height) * sizeof(float));
  return h.finish();
}

size_t EmbeddingCache::KeyHash::operator()(const Key& k) const noexcept {
  size_t v;
  std::memcpy(&v, k.data(), sizeof v);  // already a uniform hash
  return v;
}

bool EmbeddingCache::find(const Key& key, std::vector<float>& out) {
  std::lock_guard<std::mutex> lk(mu_);
  const auto it = index_.find(key);
  if (it == index_.end()) {
    ++misses_;
    return false;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  out = it->second->rows;
  return true;
}

void EmbeddingCache::put(const Key& key, const std::vector<float>& rows) {
  const uint64_t size = rows.size() * sizeof(float);
  if (size > capacity_) return;
  std::lock_guard<std::mutex> lk(mu_);
  if (index_.count(key)) return;  // a concurrent miss stored it first
  evict_to(capacity_ - size);
  lru_.push_front({key, rows});
  index_.emplace(key, lru_.begin());
  bytes_ += size;
}

void EmbeddingCache::evict_to(uint64_t limit) {
  while (bytes_ > limit && !lru_.empty()) {
    bytes_ -= lru_.back().rows.size() * sizeof(float);
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

EmbeddingCacheStats EmbeddingCache::stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  return {hits_, misses_, index_.size(), bytes_, capacity_};
}

}  // namespace pocket
