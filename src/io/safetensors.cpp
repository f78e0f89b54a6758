// Safetensors reader: 8-byte little-endian header length, a JSON header mapping tensor names
// to {dtype, shape, data_offsets} (plus an optional "__metadata__" string map), then the data.
// Validation follows huggingface/safetensors safetensors/src/tensor.rs (Metadata::validate):
// data_offsets are relative to the data section, sorted by start they must tile it exactly
// (first at 0, each starting where the previous ended, the last ending at the file's end), and
// each entry's byte length must equal its element count times the dtype size. On top of that,
// every tensor must start at a multiple of its element size, as the reference serializer
// guarantees (it orders tensors by dtype alignment and pads the header to 8 bytes).
#include "io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/fp16.h"

namespace pocket {

static_assert(std::endian::native == std::endian::little, "safetensors data is read as little-endian");

namespace {

using json = nlohmann::json;

struct DTypeInfo {
  const char* name;
  StDType t;
  size_t size;
};

// Names as the format spells them (safetensors Dtype serde names).
constexpr DTypeInfo kDTypes[] = {
    {"BOOL", StDType::BOOL, 1}, {"U8", StDType::U8, 1},   {"I8", StDType::I8, 1},
    {"F8_E4M3", StDType::F8_E4M3, 1}, {"F8_E5M2", StDType::F8_E5M2, 1}, {"I16", StDType::I16, 2},
    {"U16", StDType::U16, 2},   {"F16", StDType::F16, 2}, {"BF16", StDType::BF16, 2},
    {"I32", StDType::I32, 4},   {"U32", StDType::U32, 4}, {"F32", StDType::F32, 4},
    {"I64", StDType::I64, 8},   {"U64", StDType::U64, 8}, {"F64", StDType::F64, 8},
};

const DTypeInfo& info(StDType t) {
  for (const DTypeInfo& d : kDTypes)
    if (d.t == t) return d;
  fail("safetensors: internal error: unknown dtype");
}

// Parses the header text, rejecting duplicate keys in any object (nlohmann would keep the
// last one silently; two definitions of one tensor are a malformed file).
json parse_header_json(std::string_view text) {
  std::vector<std::set<std::string>> keys;
  std::string dup;
  json::parser_callback_t cb = [&](int, json::parse_event_t ev, json& parsed) {
    if (ev == json::parse_event_t::object_start) keys.emplace_back();
    else if (ev == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    else if (ev == json::parse_event_t::key && !keys.empty() && parsed.is_string()) {
      if (!keys.back().insert(parsed.get<std::string>()).second && dup.empty()) dup = parsed.get<std::string>();
    }
    return true;
  };
  json j;
  try {
    j = json::parse(text.begin(), text.end(), cb);
  } catch (const json::exception& e) {
    fail("safetensors: header is not valid JSON: {}", e.what());
  }
  if (!dup.empty()) fail("safetensors: header has the key '{}' twice", dup);
  return j;
}

uint64_t read_u64(const json& v, const std::string& what, const std::string& tensor) {
  POCKET_CHECK(v.is_number_unsigned(), "safetensors: tensor '{}': {} must be a non-negative integer, found {}", tensor,
               what, v.dump().substr(0, 40));
  return v.get<uint64_t>();
}

}  // namespace

const char* st_dtype_name(StDType t) { return info(t).name; }
size_t st_dtype_size(StDType t) { return info(t).size; }
bool st_dtype_is_float(StDType t) {
  return t == StDType::F32 || t == StDType::F16 || t == StDType::BF16 || t == StDType::F8_E4M3 ||
         t == StDType::F8_E5M2 || t == StDType::F64;
}

// e4m3fn: bias 7, 3 mantissa bits, subnormals 2^-6 * m/8, no infinities, 0x7f/0xff are NaN.
// ref: the OCP 8-bit floating point spec (E4M3), as torch.float8_e4m3fn implements it.
float f8_e4m3_to_f32(uint8_t v) {
  const bool neg = v & 0x80;
  const int exp = (v >> 3) & 0xf;
  const int mant = v & 0x7;
  float r;
  if (exp == 0xf && mant == 0x7) r = std::numeric_limits<float>::quiet_NaN();
  else if (exp == 0) r = std::ldexp(static_cast<float>(mant), -9);  // m/8 * 2^-6
  else r = std::ldexp(1.0f + static_cast<float>(mant) / 8.0f, exp - 7);
  return neg ? -r : r;
}

// e5m2 is the top byte of an IEEE half.
float f8_e5m2_to_f32(uint8_t v) { return fp16_to_f32(static_cast<uint16_t>(v) << 8); }

int64_t StTensor::n_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // validated at parse time not to overflow
  return n;
}

void StTensor::read_f32(int64_t first, int64_t n, float* out) const {
  const int64_t total = n_elements();
  POCKET_CHECK(first >= 0 && n >= 0 && first <= total && n <= total - first,
               "safetensors: tensor '{}': elements [{}, {}) out of range ({} elements)", name, first, first + n, total);
  const uint8_t* p = data + static_cast<size_t>(first) * st_dtype_size(dtype);
  switch (dtype) {
    case StDType::F32: std::memcpy(out, p, static_cast<size_t>(n) * 4); return;
    case StDType::F64:
      for (int64_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, p + 8 * i, 8);
        out[i] = static_cast<float>(d);
      }
      return;
    case StDType::F16:
    case StDType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = dtype == StDType::F16 ? fp16_to_f32(h) : bf16_to_f32(h);
      }
      return;
    case StDType::F8_E4M3:
      for (int64_t i = 0; i < n; ++i) out[i] = f8_e4m3_to_f32(p[i]);
      return;
    case StDType::F8_E5M2:
      for (int64_t i = 0; i < n; ++i) out[i] = f8_e5m2_to_f32(p[i]);
      return;
    default: fail("safetensors: tensor '{}' has dtype {}, which is not a float type", name, st_dtype_name(dtype));
  }
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->map_ = MappedFile(path);
  f->base_ = f->map_.data();
  f->size_ = f->map_.size();
  f->path_ = path;
  try {
    f->parse_impl();
  } catch (const Error& e) {
    throw Error(fmt::format("{} (file '{}')", e.what(), path));
  }
  return f;
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::parse(const uint8_t* data, size_t size, std::string name) {
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->base_ = size ? data : nullptr;
  f->size_ = data ? size : 0;
  f->path_ = std::move(name);
  f->parse_impl();
  return f;
}

void SafetensorsFile::parse_impl() {
  POCKET_CHECK(size_ >= 8, "safetensors: file of {} bytes is too short for the 8-byte header length", size_);
  uint64_t n = 0;
  std::memcpy(&n, base_, 8);
  POCKET_CHECK(n <= kMaxHeaderBytes, "safetensors: header length {} exceeds the {} byte limit", n, kMaxHeaderBytes);
  POCKET_CHECK(n <= size_ - 8, "safetensors: header length {} runs past the end of the file ({} bytes)", n, size_);
  POCKET_CHECK(n >= 2, "safetensors: header length {} is too short for a JSON object", n);
  const std::string_view text(reinterpret_cast<const char*>(base_ + 8), static_cast<size_t>(n));
  POCKET_CHECK(text.front() == '{', "safetensors: header does not start with '{{': not a safetensors file");
  const json header = parse_header_json(text);
  POCKET_CHECK(header.is_object(), "safetensors: header is not a JSON object");

  const size_t data_start = 8 + static_cast<size_t>(n);
  const uint64_t data_size = size_ - data_start;
  struct Span {
    uint64_t begin, end;
    size_t index;
  };
  std::vector<Span> spans;
  for (const auto& [key, val] : header.items()) {
    if (key == "__metadata__") {
      POCKET_CHECK(val.is_object(), "safetensors: __metadata__ is not an object");
      for (const auto& [mk, mv] : val.items()) {
        POCKET_CHECK(mv.is_string(), "safetensors: __metadata__ value of '{}' is not a string", mk);
        metadata_[mk] = mv.get<std::string>();
      }
      continue;
    }
    POCKET_CHECK(val.is_object(), "safetensors: entry '{}' is not an object", key);
    StTensor t;
    t.name = key;
    const auto dt = val.find("dtype");
    POCKET_CHECK(dt != val.end() && dt->is_string(), "safetensors: tensor '{}' has no dtype string", key);
    const std::string dname = dt->get<std::string>();
    const DTypeInfo* di = nullptr;
    for (const DTypeInfo& d : kDTypes)
      if (dname == d.name) di = &d;
    POCKET_CHECK(di, "safetensors: tensor '{}' has unknown dtype '{}'", key, dname.substr(0, 32));
    t.dtype = di->t;
    const auto sh = val.find("shape");
    POCKET_CHECK(sh != val.end() && sh->is_array(), "safetensors: tensor '{}' has no shape list", key);
    uint64_t count = 1;
    for (const json& d : *sh) {
      const uint64_t v = read_u64(d, "a shape dimension", key);
      POCKET_CHECK(v <= static_cast<uint64_t>(INT64_MAX) && !__builtin_mul_overflow(count, v, &count) &&
                       count <= static_cast<uint64_t>(INT64_MAX),
                   "safetensors: tensor '{}': element count overflows", key);
      t.shape.push_back(static_cast<int64_t>(v));
    }
    const auto off = val.find("data_offsets");
    POCKET_CHECK(off != val.end() && off->is_array() && off->size() == 2,
                 "safetensors: tensor '{}' needs data_offsets [begin, end]", key);
    const uint64_t b = read_u64((*off)[0], "data_offsets[0]", key);
    const uint64_t e = read_u64((*off)[1], "data_offsets[1]", key);
    POCKET_CHECK(b <= e, "safetensors: tensor '{}' has data_offsets [{}, {}) that end before they begin", key, b, e);
    POCKET_CHECK(e <= data_size, "safetensors: tensor '{}' data [{}, {}) runs past the end of the data ({} bytes)", key,
                 b, e, data_size);
    uint64_t nbytes = 0;
    POCKET_CHECK(!__builtin_mul_overflow(count, static_cast<uint64_t>(di->size), &nbytes) && nbytes == e - b,
                 "safetensors: tensor '{}' of dtype {} and {} elements needs {} bytes but data_offsets span {}", key,
                 di->name, count, count * di->size, e - b);
    POCKET_CHECK(b % di->size == 0, "safetensors: tensor '{}' starts at offset {}, not a multiple of its {}-byte {} elements",
                 key, b, di->size, di->name);
    t.data = base_ + data_start + b;
    t.nbytes = static_cast<size_t>(nbytes);
    spans.push_back({b, e, tensors_.size()});
    index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }
  // The entries must tile the data section: sorted by start, no gap and no overlap.
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t at = 0;
  for (const Span& s : spans) {
    const std::string& nm = tensors_[s.index].name;
    if (s.begin < at) fail("safetensors: tensor '{}' data [{}, {}) overlaps the previous tensor (ends at {})", nm, s.begin, s.end, at);
    if (s.begin > at) fail("safetensors: tensor '{}' starts at {} but the previous data ends at {} (gap in the data)", nm, s.begin, at);
    at = s.end;
  }
  POCKET_CHECK(at == data_size, "safetensors: tensor data ends at {} but the data section has {} bytes", at, data_size);
}

const StTensor* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

// ---------------------------------------------------------------------------------------------
// Checkpoint folders

namespace {

// A shard name from the index must be a plain file name inside the folder.
void check_shard_name(const std::string& s) {
  POCKET_CHECK(!s.empty() && s.find('/') == std::string::npos && s.find('\\') == std::string::npos && s != "." &&
                   s != ".." && s.find('\0') == std::string::npos,
               "model.safetensors.index.json: shard name '{}' is not a plain file name", s.substr(0, 80));
}

std::string read_small_file(const std::string& path, size_t limit) {
  MappedFile m(path);
  POCKET_CHECK(m.size() <= limit, "'{}' is larger than {} bytes", path, limit);
  return std::string(reinterpret_cast<const char*>(m.data()), m.size());
}

}  // namespace

std::unique_ptr<SafetensorsCheckpoint> SafetensorsCheckpoint::open_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  auto c = std::make_unique<SafetensorsCheckpoint>();
  c->dir_ = dir;
  const fs::path root(dir);
  const fs::path index = root / "model.safetensors.index.json";
  std::error_code ec;
  if (fs::exists(index, ec)) {
    json j;
    try {
      j = json::parse(read_small_file(index.string(), 64u << 20));
    } catch (const json::exception& e) {
      fail("'{}' is not valid JSON: {}", index.string(), e.what());
    }
    POCKET_CHECK(j.is_object() && j.contains("weight_map") && j["weight_map"].is_object(),
                 "'{}' has no weight_map object", index.string());
    std::map<std::string, SafetensorsFile*> shards;
    for (const auto& [tensor, file] : j["weight_map"].items()) {
      POCKET_CHECK(file.is_string(), "'{}': weight_map entry '{}' is not a file name", index.string(), tensor);
      const std::string fn = file.get<std::string>();
      check_shard_name(fn);
      auto it = shards.find(fn);
      if (it == shards.end()) {
        c->files_.push_back(SafetensorsFile::open((root / fn).string()));
        it = shards.emplace(fn, c->files_.back().get()).first;
      }
      const StTensor* t = it->second->find(tensor);
      POCKET_CHECK(t, "'{}' puts tensor '{}' in '{}', which does not contain it", index.string(), tensor, fn);
      c->by_name_.emplace(tensor, t);
    }
    // Tensors a shard holds but the index does not list would be silently dropped: reject.
    for (const auto& f : c->files_)
      for (const StTensor& t : f->tensors())
        POCKET_CHECK(c->by_name_.count(t.name), "'{}' holds tensor '{}', which the index does not list", f->path(), t.name);
    return c;
  }
  std::vector<std::string> parts;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    const std::string fn = e.path().filename().string();
    if (fn.rfind("model", 0) == 0 && fn.size() > 12 && fn.substr(fn.size() - 12) == ".safetensors") parts.push_back(fn);
  }
  POCKET_CHECK(!ec, "cannot list '{}': {}", dir, ec.message());
  POCKET_CHECK(!parts.empty(), "'{}' has no model.safetensors (nor model.safetensors.index.json)", dir);
  std::sort(parts.begin(), parts.end());
  for (const std::string& fn : parts) {
    c->files_.push_back(SafetensorsFile::open((root / fn).string()));
    for (const StTensor& t : c->files_.back()->tensors())
      POCKET_CHECK(c->by_name_.emplace(t.name, &t).second, "tensor '{}' appears in more than one file of '{}'", t.name, dir);
  }
  return c;
}

const StTensor* SafetensorsCheckpoint::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const StTensor& SafetensorsCheckpoint::get(std::string_view name) const {
  const StTensor* t = find(name);
  POCKET_CHECK(t, "checkpoint '{}' has no tensor '{}'", dir_, name);
  return *t;
}

std::vector<std::string> SafetensorsCheckpoint::names() const {
  std::vector<std::string> v;
  for (const auto& [k, _] : by_name_) v.push_back(k);
  return v;
}

}  // namespace pocket
