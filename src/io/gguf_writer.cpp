// GGUF v3 writer: metadata is serialized as it is set; tensors are laid out the way ggml's
// gguf_write_out does (infos, pad to alignment, then each tensor's data padded to alignment),
// so files load in llama.cpp as well as in Pocket's reader.
// ref: ggml/src/gguf.cpp (gguf_writer_base, gguf_write_out, gguf_add_tensor).
#include "io/gguf_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/error.h"
#include "io/gguf.h"

namespace pocket {

namespace {

constexpr uint64_t kDefaultAlignment = 32;
constexpr size_t kMaxTensorName = 63;  // ggml's GGML_MAX_NAME (64) includes the terminator

template <typename T>
void put(std::vector<uint8_t>& b, T v) {
  // resize + memcpy rather than insert: g++ 12 warns falsely (-Wstringop-overflow) on the latter.
  const size_t n = b.size();
  b.resize(n + sizeof(T));
  std::memcpy(b.data() + n, &v, sizeof(T));
}

void put_str(std::vector<uint8_t>& b, const std::string& s) {
  put<uint64_t>(b, s.size());
  b.insert(b.end(), s.begin(), s.end());
}

uint64_t pad_to(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

}  // namespace

void GgufWriter::put_key(const std::string& key, uint32_t type) {
  if (key.empty()) fail("gguf writer: empty metadata key");
  if (!keys_.insert(key).second) fail("gguf writer: duplicate metadata key '{}'", key);
  put_str(kv_bytes_, key);
  put<uint32_t>(kv_bytes_, type);
  ++n_kv_;
}

void GgufWriter::set_u32(const std::string& key, uint32_t v) {
  // The alignment is a constructor argument; a conflicting key would make the layout lie.
  if (key == "general.alignment" && v != alignment_)
    fail("gguf writer: general.alignment {} differs from the writer's alignment {}", v, alignment_);
  put_key(key, static_cast<uint32_t>(GgufType::U32));
  put<uint32_t>(kv_bytes_, v);
}

void GgufWriter::set_i32(const std::string& key, int32_t v) {
  if (key == "general.alignment") fail("gguf writer: general.alignment must be u32");
  put_key(key, static_cast<uint32_t>(GgufType::I32));
  put<int32_t>(kv_bytes_, v);
}

void GgufWriter::set_u64(const std::string& key, uint64_t v) {
  if (key == "general.alignment") fail("gguf writer: general.alignment must be u32");
  put_key(key, static_cast<uint32_t>(GgufType::U64));
  put<uint64_t>(kv_bytes_, v);
}

void GgufWriter::set_f32(const std::string& key, float v) {
  if (key == "general.alignment") fail("gguf writer: general.alignment must be u32");
  put_key(key, static_cast<uint32_t>(GgufType::F32));
  put<float>(kv_bytes_, v);
}

void GgufWriter::set_bool(const std::string& key, bool v) {
  if (key == "general.alignment") fail("gguf writer: general.alignment must be u32");
  put_key(key, static_cast<uint32_t>(GgufType::BOOL));
  put<uint8_t>(kv_bytes_, v ? 1 : 0);
}

void GgufWriter::set_string(const std::string& key, const std::string& v) {
  if (key == "general.alignment") fail("gguf writer: general.alignment must be u32");
  put_key(key, static_cast<uint32_t>(GgufType::STRING));
  put_str(kv_bytes_, v);
}

void GgufWriter::set_array_i32(const std::string& key, const std::vector<int32_t>& v) {
  if (key == "general.alignment") fail("gguf writer: general.alignment must be u32");
  put_key(key, static_cast<uint32_t>(GgufType::ARRAY));
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufType::I32));
  put<uint64_t>(kv_bytes_, v.size());
  for (int32_t x : v) put<int32_t>(kv_bytes_, x);
}

void GgufWriter::set_array_f32(const std::string& key, const std::vector<float>& v) {
  if (key == "general.alignment") fail("gguf writer: general.alignment must be u32");
  put_key(key, static_cast<uint32_t>(GgufType::ARRAY));
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufType::F32));
  put<uint64_t>(kv_bytes_, v.size());
  for (float x : v) put<float>(kv_bytes_, x);
}

void GgufWriter::set_array_string(const std::string& key, const std::vector<std::string>& v) {
  if (key == "general.alignment") fail("gguf writer: general.alignment must be u32");
  put_key(key, static_cast<uint32_t>(GgufType::ARRAY));
  put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufType::STRING));
  put<uint64_t>(kv_bytes_, v.size());
  for (const std::string& s : v) put_str(kv_bytes_, s);
}

void GgufWriter::add_tensor(const std::string& name, DType type, const std::vector<int64_t>& dims,
                            std::vector<uint8_t> data) {
  if (name.size() > kMaxTensorName)
    fail("gguf writer: tensor name '{}' is longer than {} bytes (llama.cpp's limit)", name, kMaxTensorName);
  if (tensor_names_.count(name)) fail("gguf writer: duplicate tensor name '{}'", name);
  if (dims.empty() || dims.size() > 4)
    fail("gguf writer: tensor '{}' has {} dimensions (must be 1 to 4)", name, dims.size());
  const TypeTraits& tt = type_traits(type);
  uint64_t rows = 1;
  for (int64_t d : dims) {
    if (d < 0) fail("gguf writer: tensor '{}' has a negative dimension {}", name, d);
    if (__builtin_mul_overflow(rows, static_cast<uint64_t>(d), &rows))
      fail("gguf writer: tensor '{}' is too large", name);
  }
  if (dims[0] % tt.block_size != 0) {
    fail("gguf writer: tensor '{}' row of {} elements is not a multiple of the {} block size {}", name, dims[0],
         tt.name, tt.block_size);
  }
  rows = dims[0] == 0 ? 0 : rows / static_cast<uint64_t>(dims[0]);
  const uint64_t expected = row_bytes(type, dims[0]) * rows;
  if (data.size() != expected) {
    fail("gguf writer: tensor '{}' ({}) needs {} bytes of data, got {}", name, tt.name, expected, data.size());
  }
  tensor_names_.insert(name);
  tensors_.push_back(Tensor{name, type, dims, std::move(data)});
}

void GgufWriter::emit(const std::function<void(const uint8_t*, size_t)>& out) const {
  if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0 || alignment_ > 0x80000000u)
    fail("gguf writer: alignment {} is not a power of two that fits in u32", alignment_);
  // The reader falls back to 32 when general.alignment is absent, so only a different one is recorded.
  const bool add_alignment = alignment_ != kDefaultAlignment && !keys_.count("general.alignment");

  std::vector<uint8_t> meta;
  put<uint32_t>(meta, 0x46554747u);  // "GGUF" read as a little-endian u32
  put<uint32_t>(meta, 3);
  put<uint64_t>(meta, tensors_.size());
  put<uint64_t>(meta, n_kv_ + (add_alignment ? 1 : 0));
  meta.insert(meta.end(), kv_bytes_.begin(), kv_bytes_.end());
  if (add_alignment) {
    put_str(meta, "general.alignment");
    put<uint32_t>(meta, static_cast<uint32_t>(GgufType::U32));
    put<uint32_t>(meta, static_cast<uint32_t>(alignment_));
  }
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    put_str(meta, t.name);
    put<uint32_t>(meta, static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) put<int64_t>(meta, d);
    put<uint32_t>(meta, static_cast<uint32_t>(t.type));
    put<uint64_t>(meta, offset);
    offset += pad_to(t.data.size(), alignment_);
  }
  // ggml pads after the infos even when there are no tensors.
  meta.resize(pad_to(meta.size(), alignment_), 0);
  out(meta.data(), meta.size());

  const std::vector<uint8_t> zeros(alignment_, 0);
  for (const Tensor& t : tensors_) {
    out(t.data.data(), t.data.size());
    const size_t pad = pad_to(t.data.size(), alignment_) - t.data.size();
    if (pad) out(zeros.data(), pad);
  }
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
  std::vector<uint8_t> bytes;
  emit([&](const uint8_t* p, size_t n) { bytes.insert(bytes.end(), p, p + n); });
  return bytes;
}

void GgufWriter::write(const std::string& path) const {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) fail("gguf writer: cannot create '{}': {}", path, std::strerror(errno));
  emit([&](const uint8_t* p, size_t n) {
    if (n && std::fwrite(p, 1, n, f.get()) != n) fail("gguf writer: write to '{}' failed: {}", path, std::strerror(errno));
  });
  FILE* raw = f.release();
  if (std::fclose(raw) != 0) fail("gguf writer: closing '{}' failed: {}", path, std::strerror(errno));
}

}  // namespace pocket
