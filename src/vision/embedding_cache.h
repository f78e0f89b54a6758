// Embeddings of already-encoded tiles, so that an image sent again (the next turn of a chat
// re-sends every earlier image; compare runs the same photo per prompt and per run) is not
// encoded again. Keyed by the SHA-256 of the tile's exact tower input (its size and every
// normalized float), so the key covers the image content and every preprocessing parameter
// that shaped it (tile cap, splitting, resize filter); a hit returns the bytes the tower made
// for that input. Least-recently-used entries are dropped to stay within a byte budget.
// Thread-safe; one cache per encoder (the key does not name the model).
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace pocket {

struct EmbeddingCacheStats {
  uint64_t hits = 0, misses = 0;
  uint64_t entries = 0, bytes = 0, capacity_bytes = 0;
};

class EmbeddingCache {
 public:
  using Key = std::array<uint8_t, 32>;
  // capacity_bytes: the embeddings' bytes the cache may hold (0: keeps nothing).
  explicit EmbeddingCache(uint64_t capacity_bytes) : capacity_(capacity_bytes) {}

  // The key of one tower input: pixels_chw [3, height, width].
  static Key key_of(const float* pixels_chw, int64_t width, int64_t height);

  // Copies the entry into `out` and returns true on a hit (counted either way).
  bool find(const Key& key, std::vector<float>& out);
  // Stores a copy of `rows` (a no-op when it alone exceeds the capacity).
  void put(const Key& key, const std::vector<float>& rows);
  EmbeddingCacheStats stats() const;

 private:
  struct KeyHash {
    size_t operator()(const Key& k) const noexcept;
  };
  struct Entry {
    Key key;
    std::vector<float> rows;
  };
  void evict_to(uint64_t limit);  // under mu_

  mutable std::mutex mu_;
  const uint64_t capacity_;
  uint64_t bytes_ = 0, hits_ = 0, misses_ = 0;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> index_;
};

}  // namespace pocket
