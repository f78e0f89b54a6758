// GGUF reader: parses the header, metadata and tensor infos of a memory-mapped (or in-memory)
// GGUF v2/v3 image. Every count and length is checked against the bytes that remain before it
// is used, so a hostile file fails fast with bounded memory.
// Format ref: ggml/docs/gguf.md; validation rules follow ggml/src/gguf.cpp (gguf_init_from_reader).
#include "io/gguf.h"

#include <bit>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace pocket {

static_assert(std::endian::native == std::endian::little, "GGUF is read as little-endian");

namespace {

constexpr uint32_t kMaxGgufType = static_cast<uint32_t>(GgufType::F64);
constexpr uint64_t kDefaultAlignment = 32;  // ref: ggml/include/gguf.h GGUF_DEFAULT_ALIGNMENT


bool is_int_type(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::U16: case GgufType::I16:
    case GgufType::U32: case GgufType::I32: case GgufType::U64: case GgufType::I64: return true;
    default: return false;
  }
}

bool is_float_type(GgufType t) { return t == GgufType::F32 || t == GgufType::F64; }

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Decodes one fixed-size scalar at p into the variant representation GgufValue uses.
void decode_scalar(GgufType t, const uint8_t* p, GgufValue& out) {
  out.type = t;
  switch (t) {
    case GgufType::U8: out.v = uint64_t{load<uint8_t>(p)}; break;
    case GgufType::I8: out.v = int64_t{load<int8_t>(p)}; break;
    case GgufType::U16: out.v = uint64_t{load<uint16_t>(p)}; break;
    case GgufType::I16: out.v = int64_t{load<int16_t>(p)}; break;
    case GgufType::U32: out.v = uint64_t{load<uint32_t>(p)}; break;
    case GgufType::I32: out.v = int64_t{load<int32_t>(p)}; break;
    case GgufType::U64: out.v = load<uint64_t>(p); break;
    case GgufType::I64: out.v = load<int64_t>(p); break;
    case GgufType::F32: out.v = double{load<float>(p)}; break;
    case GgufType::F64: out.v = load<double>(p); break;
    // ggml reads a bool as int8 and treats any nonzero byte as true.
    case GgufType::BOOL: out.v = load<int8_t>(p) != 0; break;
    default: fail("gguf: internal error: not a scalar type");
  }
}

// Bounds-checked forward reader over the file image.
class Cursor {
 public:
  Cursor(const uint8_t* base, size_t size) : base_(base), size_(size) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }

  // Returns a pointer to the next n bytes and advances, or throws naming what was being read.
  const uint8_t* take(uint64_t n, const char* what, std::string_view ctx = {}) {
    if (n > remaining()) {
      fail("gguf: truncated file: {}{} at offset {} needs {} bytes but only {} remain (file is {} bytes)",
           what, context(ctx), pos_, n, remaining(), size_);
    }
    const uint8_t* p = base_ + pos_;
    pos_ += static_cast<size_t>(n);
    return p;
  }

  template <typename T>
  T read(const char* what, std::string_view ctx = {}) {
    return load<T>(take(sizeof(T), what, ctx));
  }

  // GGUF string: u64 byte length, then the bytes (no terminator).
  std::string_view read_string(const char* what, std::string_view ctx = {}) {
    const size_t at = pos_;
    const uint64_t len = read<uint64_t>(what, ctx);
    if (len > remaining()) {
      fail("gguf: {}{} at offset {} has length {} but only {} bytes remain (file is {} bytes)", what,
           context(ctx), at, len, remaining(), size_);
    }
    const uint8_t* p = take(len, what, ctx);
    return {reinterpret_cast<const char*>(p), static_cast<size_t>(len)};
  }

  static std::string context(std::string_view ctx) {
    return ctx.empty() ? std::string() : fmt::format(" of '{}'", ctx);
  }

 private:
  const uint8_t* base_;
  size_t size_;
  size_t pos_ = 0;
};

// Reads the value of `type` for metadata key `key` (the type tag has been consumed already).
GgufValue read_value(Cursor& c, GgufType type, std::string_view key) {
  GgufValue out;
  if (type == GgufType::STRING) {
    out.type = type;
    out.v = c.read_string("string value", key);
    return out;
  }
  if (type != GgufType::ARRAY) {
    decode_scalar(type, c.take(gguf_type_size(type), "value", key), out);
    return out;
  }
  const size_t at = c.pos();
  const uint32_t et = c.read<uint32_t>("array element type", key);
  if (et > kMaxGgufType) fail("gguf: key '{}' at offset {}: invalid array element type {}", key, at, et);
  GgufArray arr;
  arr.elem_type = static_cast<GgufType>(et);
  if (arr.elem_type == GgufType::ARRAY) {
    // The format allows arrays of arrays in principle, but ggml cannot read them and no model uses them.
    fail("gguf: key '{}' at offset {}: nested arrays (array of arrays) are not supported", key, at);
  }
  const size_t count_at = c.pos();
  arr.count = c.read<uint64_t>("array length", key);
  if (arr.elem_type == GgufType::STRING) {
    // Each string takes at least its 8-byte length, which bounds the count before reserving.
    if (arr.count > c.remaining() / 8) {
      fail("gguf: key '{}' at offset {}: array of {} strings cannot fit in the {} remaining bytes", key,
           count_at, arr.count, c.remaining());
    }
    arr.strings.reserve(static_cast<size_t>(arr.count));
    for (uint64_t i = 0; i < arr.count; ++i) arr.strings.push_back(c.read_string("array string", key));
  } else {
    const size_t es = gguf_type_size(arr.elem_type);
    uint64_t nbytes = 0;
    if (__builtin_mul_overflow(arr.count, static_cast<uint64_t>(es), &nbytes) || nbytes > c.remaining()) {
      fail("gguf: key '{}' at offset {}: array of {} {} elements cannot fit in the {} remaining bytes", key,
           count_at, arr.count, gguf_type_name(arr.elem_type), c.remaining());
    }
    arr.data = c.take(nbytes, "array data", key);
  }
  out.type = GgufType::ARRAY;
  out.v = std::move(arr);
  return out;
}

// Quotes and escapes a string for display, cutting it after max_bytes (at a UTF-8 boundary).
std::string quote(std::string_view s, size_t max_bytes) {
  bool cut = false;
  if (s.size() > max_bytes) {
    size_t n = max_bytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // don't split a code point
    s = s.substr(0, n);
    cut = true;
  }
  std::string out = "\"";
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20 || u == 0x7f) out += fmt::format("\\x{:02x}", u);
        else out += ch;
    }
  }
  out += cut ? "\"..." : "\"";
  return out;
}

std::string display_number(GgufType t, const GgufValue& v) {
  if (t == GgufType::F32) return fmt::format("{}", static_cast<float>(std::get<double>(v.v)));
  if (t == GgufType::F64) return fmt::format("{}", std::get<double>(v.v));
  if (std::holds_alternative<uint64_t>(v.v)) return fmt::format("{}", std::get<uint64_t>(v.v));
  return fmt::format("{}", std::get<int64_t>(v.v));
}

}  // namespace

const char* gguf_type_name(GgufType t) {
  // Short names as ggml's gguf_type_name uses.
  switch (t) {
    case GgufType::U8: return "u8";
    case GgufType::I8: return "i8";
    case GgufType::U16: return "u16";
    case GgufType::I16: return "i16";
    case GgufType::U32: return "u32";
    case GgufType::I32: return "i32";
    case GgufType::F32: return "f32";
    case GgufType::BOOL: return "bool";
    case GgufType::STRING: return "str";
    case GgufType::ARRAY: return "arr";
    case GgufType::U64: return "u64";
    case GgufType::I64: return "i64";
    case GgufType::F64: return "f64";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// GgufArray

double GgufArray::number_at(uint64_t i) const {
  if (i >= count) fail("gguf: array index {} out of range ({} items)", i, count);
  if (elem_type == GgufType::STRING) fail("gguf: array of strings has no numeric elements");
  if (elem_type == GgufType::BOOL) return data[i] != 0 ? 1.0 : 0.0;
  GgufValue v;
  decode_scalar(elem_type, data + i * gguf_type_size(elem_type), v);
  return v.as_double();
}

int64_t GgufArray::int_at(uint64_t i) const {
  if (i >= count) fail("gguf: array index {} out of range ({} items)", i, count);
  if (elem_type == GgufType::BOOL) return data[i] != 0 ? 1 : 0;
  if (!is_int_type(elem_type)) fail("gguf: array of {} has no integer elements", gguf_type_name(elem_type));
  GgufValue v;
  decode_scalar(elem_type, data + i * gguf_type_size(elem_type), v);
  return v.as_int();
}

// ---------------------------------------------------------------------------------------------
// GgufValue

bool GgufValue::is_int() const { return is_int_type(type); }
bool GgufValue::is_number() const { return is_int_type(type) || is_float_type(type); }

int64_t GgufValue::as_int() const {
  if (!is_int()) fail("expected an integer, found {}", gguf_type_name(type));
  if (const auto* u = std::get_if<uint64_t>(&v)) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail("integer {} does not fit in int64", *u);
    return static_cast<int64_t>(*u);
  }
  return std::get<int64_t>(v);
}

uint64_t GgufValue::as_uint() const {
  if (!is_int()) fail("expected an unsigned integer, found {}", gguf_type_name(type));
  if (const auto* s = std::get_if<int64_t>(&v)) {
    if (*s < 0) fail("expected a non-negative integer, found {}", *s);
    return static_cast<uint64_t>(*s);
  }
  return std::get<uint64_t>(v);
}

double GgufValue::as_double() const {
  if (is_float_type(type)) return std::get<double>(v);
  if (!is_int()) fail("expected a number, found {}", gguf_type_name(type));
  if (const auto* u = std::get_if<uint64_t>(&v)) return static_cast<double>(*u);
  return static_cast<double>(std::get<int64_t>(v));
}

bool GgufValue::as_bool() const {
  if (type != GgufType::BOOL) fail("expected a bool, found {}", gguf_type_name(type));
  return std::get<bool>(v);
}

std::string_view GgufValue::as_string() const {
  if (type != GgufType::STRING) fail("expected a string, found {}", gguf_type_name(type));
  return std::get<std::string_view>(v);
}

const GgufArray& GgufValue::as_array() const {
  if (type != GgufType::ARRAY) fail("expected an array, found {}", gguf_type_name(type));
  return std::get<GgufArray>(v);
}

std::string GgufValue::to_display(size_t max_items) const {
  constexpr size_t kMaxString = 60;      // a scalar string (e.g. a chat template) stays on one line
  constexpr size_t kMaxItemString = 24;  // array items are shorter so several fit
  switch (type) {
    case GgufType::STRING: return quote(as_string(), kMaxString);
    case GgufType::BOOL: return as_bool() ? "true" : "false";
    case GgufType::ARRAY: {
      const GgufArray& a = as_array();
      const uint64_t shown = a.count < max_items ? a.count : max_items;
      std::string out = "[";
      for (uint64_t i = 0; i < shown; ++i) {
        if (i) out += ", ";
        if (a.elem_type == GgufType::STRING) {
          out += quote(a.strings[static_cast<size_t>(i)], kMaxItemString);
        } else {
          GgufValue e;
          decode_scalar(a.elem_type, a.data + i * gguf_type_size(a.elem_type), e);
          out += e.to_display();
        }
      }
      if (shown < a.count) out += fmt::format("{}... ({} items)", shown ? ", " : "", a.count);
      out += "]";
      return out;
    }
    default: return display_number(type, *this);
  }
}

// ---------------------------------------------------------------------------------------------
// GgufFile

std::unique_ptr<GgufFile> GgufFile::open(const std::string& path) {
  std::unique_ptr<GgufFile> f(new GgufFile());
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

std::unique_ptr<GgufFile> GgufFile::open(const std::string& path, std::string display_name) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->map_ = MappedFile(path);
  f->base_ = f->map_.data();
  f->size_ = f->map_.size();
  f->path_ = std::move(display_name);
  try {
    f->parse_impl();
  } catch (const Error& e) {
    throw Error(fmt::format("{} (model '{}')", e.what(), f->path_));
  }
  return f;
}

std::unique_ptr<GgufFile> GgufFile::parse(const uint8_t* data, size_t size, std::string name) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->base_ = size ? data : nullptr;
  f->size_ = data ? size : 0;
  f->path_ = std::move(name);
  f->parse_impl();
  return f;
}

void GgufFile::parse_impl() {
  Cursor c(base_, size_);

  // Header.
  const uint8_t* magic = c.take(4, "magic");
  if (std::memcmp(magic, "GGUF", 4) != 0) {
    std::string shown;
    for (int i = 0; i < 4; ++i) shown += (magic[i] >= 0x20 && magic[i] < 0x7f) ? char(magic[i]) : '?';
    fail("gguf: bad magic '{}' at offset 0 (expected 'GGUF'): not a GGUF file", shown);
  }
  version_ = c.read<uint32_t>("version");
  if (version_ == 1) {
    fail("gguf: version 1 is not supported (it uses 32-bit counts); convert the file to version 3");
  }
  if (version_ != 2 && version_ != 3) {
    // A big-endian file shows its version in the high bytes (ref: ggml gguf.cpp endianness check).
    if (version_ != 0 && (version_ & 0xFFFFu) == 0)
      fail("gguf: version {:#x} looks byte-swapped: big-endian GGUF files are not supported", version_);
    fail("gguf: unsupported version {} (supported: 2 and 3)", version_);
  }
  const uint64_t n_tensors = c.read<uint64_t>("tensor count");
  const uint64_t n_kv = c.read<uint64_t>("metadata count");
  // Smallest encodings: a kv is key length (8) + 1 key byte + type (4) + 1 value byte; a tensor
  // info is name length (8) + n_dims (4) + one dim (8) + type (4) + offset (8). Checking the counts
  // against them bounds every reservation below by the file size.
  if (n_kv > c.remaining() / 14) {
    fail("gguf: metadata count {} at offset 16 cannot fit in the {} remaining bytes", n_kv, c.remaining());
  }
  if (n_tensors > c.remaining() / 32) {
    fail("gguf: tensor count {} at offset 8 cannot fit in the {} remaining bytes", n_tensors, c.remaining());
  }

  // Metadata.
  size_t alignment_at = 0;
  kv_.reserve(static_cast<size_t>(n_kv));
  for (uint64_t i = 0; i < n_kv; ++i) {
    const size_t at = c.pos();
    const std::string_view key = c.read_string("metadata key");
    if (key.empty()) fail("gguf: metadata key {} at offset {} is empty", i, at);
    if (kv_index_.find(key) != kv_index_.end()) fail("gguf: duplicate metadata key '{}' at offset {}", key, at);
    const size_t type_at = c.pos();
    const uint32_t type = c.read<uint32_t>("value type", key);
    if (type > kMaxGgufType) fail("gguf: key '{}' at offset {} has invalid value type {}", key, type_at, type);
    GgufValue value = read_value(c, static_cast<GgufType>(type), key);
    if (key == "general.alignment") alignment_at = at;
    kv_index_.emplace(std::string(key), kv_.size());
    kv_.emplace_back(std::string(key), std::move(value));
  }

  // ref: ggml gguf.cpp: general.alignment must be a u32 power of two.
  if (const GgufValue* a = find("general.alignment")) {
    if (a->type != GgufType::U32)
      fail("gguf: key 'general.alignment' at offset {} must be of type u32 but is {}", alignment_at,
           gguf_type_name(a->type));
    alignment_ = std::get<uint64_t>(a->v);
    if (alignment_ == 0 || (alignment_ & (alignment_ - 1)) != 0)
      fail("gguf: general.alignment {} (key at offset {}) is not a nonzero power of two", alignment_, alignment_at);
  } else {
    alignment_ = kDefaultAlignment;
  }

  // Tensor infos.
  tensors_.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    const size_t at = c.pos();
    t.name = std::string(c.read_string("tensor name"));
    if (tensor_index_.find(t.name) != tensor_index_.end())
      fail("gguf: duplicate tensor name '{}' at offset {}", t.name, at);
    const size_t dims_at = c.pos();
    const uint32_t n_dims = c.read<uint32_t>("tensor n_dims", t.name);
    if (n_dims < 1 || n_dims > 4)
      fail("gguf: tensor '{}' at offset {} has {} dimensions (must be 1 to 4)", t.name, dims_at, n_dims);
    t.n_dims = static_cast<int>(n_dims);
    int64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const size_t ne_at = c.pos();
      t.ne[d] = c.read<int64_t>("tensor dimension", t.name);
      // ggml accepts empty (0) dimensions; negative ones and element counts past int64 are rejected.
      if (t.ne[d] < 0)
        fail("gguf: tensor '{}' dimension {} at offset {} is negative ({})", t.name, d, ne_at, t.ne[d]);
      if (__builtin_mul_overflow(n_elements, t.ne[d], &n_elements))
        fail("gguf: tensor '{}' at offset {}: element count overflows int64", t.name, dims_at);
    }
    const size_t type_at = c.pos();
    const uint32_t type_id = c.read<uint32_t>("tensor type", t.name);
    const std::optional<DType> dt = dtype_from_id(type_id);
    if (!dt) fail("gguf: tensor '{}' at offset {} has unknown type id {}", t.name, type_at, type_id);
    t.type = *dt;
    const TypeTraits& tt = type_traits(t.type);
    if (t.ne[0] % tt.block_size != 0) {
      fail("gguf: tensor '{}' at offset {} of type {} has rows of {} elements, not a multiple of the block size {}",
           t.name, at, tt.name, t.ne[0], tt.block_size);
    }
    // nbytes = row_bytes(ne0) * ne1 * ne2 * ne3, overflow-checked.
    uint64_t nbytes = static_cast<uint64_t>(t.ne[0] / tt.block_size);
    bool overflow = __builtin_mul_overflow(nbytes, static_cast<uint64_t>(tt.type_size), &nbytes);
    for (int d = 1; d < 4; ++d)
      overflow = overflow || __builtin_mul_overflow(nbytes, static_cast<uint64_t>(t.ne[d]), &nbytes);
    if (overflow || nbytes > std::numeric_limits<size_t>::max())
      fail("gguf: tensor '{}' at offset {}: byte size overflows", t.name, at);
    t.nbytes = static_cast<size_t>(nbytes);
    t.offset = c.read<uint64_t>("tensor data offset", t.name);
    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment after the infos (ggml only pads
  // when there are tensors).
  data_offset_ = c.pos();
  if (n_tensors > 0) {
    const uint64_t padded = (static_cast<uint64_t>(data_offset_) + alignment_ - 1) / alignment_ * alignment_;
    if (padded > size_)
      fail("gguf: data section would start at offset {}, past end of file ({} bytes)", padded, size_);
    data_offset_ = static_cast<size_t>(padded);
  }

  // ref: ggml gguf.cpp: each tensor's offset must equal the running sum of the previous tensors'
  // sizes, each padded to the alignment; this also rules out overlaps and misaligned data.
  uint64_t expected = 0;
  for (GgufTensorInfo& t : tensors_) {
    if (t.offset % alignment_ != 0)
      fail("gguf: tensor '{}' data offset {} is not a multiple of the alignment {}", t.name, t.offset, alignment_);
    if (t.offset != expected)
      fail("gguf: tensor '{}' has data offset {}, expected {} (tensors must be stored in order, without gaps)",
           t.name, t.offset, expected);
    const uint64_t start = static_cast<uint64_t>(data_offset_) + t.offset;  // <= size_ + expected: no overflow
    if (start > size_ || t.nbytes > size_ - start) {
      fail("gguf: tensor '{}' data [offset {}, {} bytes) extends past end of file ({} bytes)", t.name, start,
           t.nbytes, size_);
    }
    t.data = base_ + start;
    // Padding the size cannot overflow: nbytes <= size_ and alignment <= 2^32.
    expected += (static_cast<uint64_t>(t.nbytes) + alignment_ - 1) / alignment_ * alignment_;
  }
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

namespace {
template <typename F>
auto typed_get(const GgufFile& f, std::string_view key, F&& get) -> std::optional<decltype(get(GgufValue{}))> {
  const GgufValue* v = f.find(key);
  if (!v) return std::nullopt;
  try {
    return get(*v);
  } catch (const Error& e) {
    fail("gguf: key '{}': {}", key, e.what());
  }
}
}  // namespace

std::optional<std::string> GgufFile::get_string(std::string_view key) const {
  return typed_get(*this, key, [](const GgufValue& v) { return std::string(v.as_string()); });
}
std::optional<int64_t> GgufFile::get_int(std::string_view key) const {
  return typed_get(*this, key, [](const GgufValue& v) { return v.as_int(); });
}
std::optional<double> GgufFile::get_float(std::string_view key) const {
  return typed_get(*this, key, [](const GgufValue& v) { return v.as_double(); });
}
std::optional<bool> GgufFile::get_bool(std::string_view key) const {
  return typed_get(*this, key, [](const GgufValue& v) { return v.as_bool(); });
}
const GgufArray* GgufFile::get_array(std::string_view key) const {
  auto r = typed_get(*this, key, [](const GgufValue& v) { return &v.as_array(); });
  return r ? *r : nullptr;
}
int64_t GgufFile::get_int_or(std::string_view key, int64_t def) const { return get_int(key).value_or(def); }
double GgufFile::get_float_or(std::string_view key, double def) const { return get_float(key).value_or(def); }
std::string GgufFile::get_string_or(std::string_view key, std::string def) const {
  auto s = get_string(key);
  return s ? std::move(*s) : std::move(def);
}
bool GgufFile::get_bool_or(std::string_view key, bool def) const { return get_bool(key).value_or(def); }

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

size_t gguf_type_size(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::BOOL: return 1;
    case GgufType::U16: case GgufType::I16: return 2;
    case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
    case GgufType::U64: case GgufType::I64: case GgufType::F64: return 8;
    default: return 0;
  }
}

}  // namespace pocket
