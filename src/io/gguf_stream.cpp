// GgufStreamWriter: serializes metadata and tensor infos up front, then fills tensor data in
// place through a shared writable mapping of the output (a file, or an anonymous memfd).
#include "io/gguf_stream.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace pocket {

namespace {

void put_bytes(std::vector<uint8_t>& out, const void* p, size_t n) {
  if (n == 0) return;
  const size_t at = out.size();
  out.resize(at + n);  // resize + memcpy: vector::insert trips a false GCC 12 -Wstringop-overflow
  std::memcpy(out.data() + at, p, n);
}
template <typename T>
void put(std::vector<uint8_t>& out, T v) {
  put_bytes(out, &v, sizeof v);
}
void put_string(std::vector<uint8_t>& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  put_bytes(out, s.data(), s.size());
}

// Re-encodes a decoded scalar in its original width.
void put_scalar(std::vector<uint8_t>& out, const GgufValue& v) {
  switch (v.type) {
    case GgufType::BOOL: put<uint8_t>(out, v.as_bool() ? 1 : 0); return;
    case GgufType::F32: put<float>(out, static_cast<float>(std::get<double>(v.v))); return;
    case GgufType::F64: put<double>(out, std::get<double>(v.v)); return;
    default: break;
  }
  const size_t n = gguf_type_size(v.type);
  POCKET_CHECK(n > 0, "gguf stream: cannot encode a value of type {}", gguf_type_name(v.type));
  uint64_t bits = std::holds_alternative<uint64_t>(v.v) ? std::get<uint64_t>(v.v)
                                                         : static_cast<uint64_t>(std::get<int64_t>(v.v));
  put_bytes(out, &bits, n);  // little-endian: the low n bytes are the value
}

}  // namespace

void GgufStreamWriter::add_metadata(std::string_view key, const GgufValue& v) {
  POCKET_CHECK(!key.empty() && !has_key(key), "gguf stream: empty or duplicate metadata key '{}'", key);
  keys_.emplace_back(key);
  put_string(kv_, key);
  put<uint32_t>(kv_, static_cast<uint32_t>(v.type));
  if (v.type == GgufType::STRING) {
    put_string(kv_, v.as_string());
  } else if (v.type == GgufType::ARRAY) {
    const GgufArray& a = v.as_array();
    put<uint32_t>(kv_, static_cast<uint32_t>(a.elem_type));
    put<uint64_t>(kv_, a.count);
    if (a.elem_type == GgufType::STRING) {
      for (std::string_view s : a.strings) put_string(kv_, s);
    } else {
      const size_t es = gguf_type_size(a.elem_type);
      POCKET_CHECK(es > 0, "gguf stream: key '{}': cannot encode arrays of {}", key, gguf_type_name(a.elem_type));
      put_bytes(kv_, a.data, static_cast<size_t>(a.count) * es);
    }
  } else {
    put_scalar(kv_, v);
  }
}

void GgufStreamWriter::copy_metadata(const GgufFile& src, const std::function<bool(std::string_view)>& skip) {
  for (const auto& [key, v] : src.metadata()) {
    if (key == "general.alignment" || (skip && skip(key))) continue;
    add_metadata(key, v);
  }
}

bool GgufStreamWriter::has_key(std::string_view key) const {
  for (const std::string& k : keys_)
    if (k == key) return true;
  return false;
}

void GgufStreamWriter::add_tensor(std::string name, DType type, std::vector<int64_t> dims, Fill fill) {
  POCKET_CHECK(!dims.empty() && dims.size() <= 4, "gguf stream: tensor '{}' has {} dimensions", name, dims.size());
  for (const Tensor& t : tensors_) POCKET_CHECK(t.name != name, "gguf stream: duplicate tensor '{}'", name);
  POCKET_CHECK(dims[0] % type_traits(type).block_size == 0,
               "gguf stream: tensor '{}' rows of {} elements do not fit {} blocks", name, dims[0], dtype_name(type));
  size_t nbytes = row_bytes(type, dims[0]);
  for (size_t i = 1; i < dims.size(); ++i) nbytes *= static_cast<size_t>(dims[i]);
  tensors_.push_back({std::move(name), type, std::move(dims), nbytes, std::move(fill)});
}

void GgufStreamWriter::write_fd(int fd, const std::string& what) const {
  std::vector<uint8_t> head;
  put_bytes(head, "GGUF", 4);
  put<uint32_t>(head, 3);
  put<uint64_t>(head, tensors_.size());
  put<uint64_t>(head, keys_.size());
  put_bytes(head, kv_.data(), kv_.size());
  std::vector<uint64_t> offsets;
  uint64_t off = 0;
  for (const Tensor& t : tensors_) {
    put_string(head, t.name);
    put<uint32_t>(head, static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) put<int64_t>(head, d);
    put<uint32_t>(head, static_cast<uint32_t>(t.type));
    put<uint64_t>(head, off);
    offsets.push_back(off);
    off += (t.nbytes + kAlignment - 1) / kAlignment * kAlignment;
  }
  const uint64_t data_start = tensors_.empty() ? head.size() : (head.size() + kAlignment - 1) / kAlignment * kAlignment;
  const uint64_t total = data_start + off;
  if (::ftruncate(fd, static_cast<off_t>(total)) != 0)
    fail("cannot size '{}' to {} bytes: {}", what, total, std::strerror(errno));
  // Reserve the blocks now: a full disk (or tmpfs) must be an error here, not a SIGBUS when a
  // page of the shared mapping is first written.
  if (total > 0) {
    const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(total));
    if (rc != 0 && rc != EOPNOTSUPP && rc != EINVAL)
      fail("cannot reserve {} bytes for '{}': {}", total, what, std::strerror(rc));
  }
  void* p = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) fail("cannot map '{}' for writing: {}", what, std::strerror(errno));
  auto* base = static_cast<uint8_t*>(p);
  try {
    std::memcpy(base, head.data(), head.size());
    for (size_t i = 0; i < tensors_.size(); ++i) tensors_[i].fill(base + data_start + offsets[i]);
  } catch (...) {
    ::munmap(p, total);
    throw;
  }
  ::munmap(p, total);
}

void GgufStreamWriter::write_file(const std::string& path) const {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot create '{}': {}", path, std::strerror(errno));
  try {
    write_fd(fd, path);
  } catch (...) {
    ::close(fd);
    std::remove(path.c_str());
    throw;
  }
  if (::close(fd) != 0) fail("cannot write '{}': {}", path, std::strerror(errno));
}

std::unique_ptr<GgufFile> GgufStreamWriter::to_memory(const std::string& display_name) const {
#ifdef __linux__
  // An anonymous file rather than heap memory: the decoder drops the mapped pages of weights
  // it has repacked (release_mapped_pages), which must read back intact if touched again.
  const int fd = ::memfd_create("pocket-model", MFD_CLOEXEC);
  if (fd < 0) fail("cannot create an in-memory file: {}", std::strerror(errno));
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
#else
  std::string path = (std::filesystem::temp_directory_path() / "pocket-model-XXXXXX").string();
  const int fd = ::mkstemp(path.data());
  if (fd < 0) fail("cannot create a temporary file: {}", std::strerror(errno));
#endif
  std::unique_ptr<GgufFile> f;
  try {
    write_fd(fd, display_name);
    f = GgufFile::open(path, display_name);
  } catch (...) {
    ::close(fd);
#ifndef __linux__
    std::remove(path.c_str());
#endif
    throw;
  }
  ::close(fd);  // the mapping keeps the contents alive
#ifndef __linux__
  std::remove(path.c_str());
#endif
  return f;
}

}  // namespace pocket
