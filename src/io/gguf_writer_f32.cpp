// GgufWriter::add_tensor_f32, kept in its own file so that code using only the plain writer
// (tests, the reader's fuzz target) does not link every quantization format.
#include <cstring>

#include "core/error.h"
#include "io/gguf_writer.h"

namespace pocket {

void GgufWriter::add_tensor_f32(const std::string& name, DType type, const std::vector<int64_t>& dims,
                                const std::vector<float>& values) {
  if (dims.empty()) fail("gguf writer: tensor '{}' has no dimensions", name);
  uint64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || __builtin_mul_overflow(n, static_cast<uint64_t>(d), &n))
      fail("gguf writer: tensor '{}' has an invalid shape", name);
  }
  if (values.size() != n) fail("gguf writer: tensor '{}' has {} elements, got {} values", name, n, values.size());
  const int64_t ne0 = dims[0];
  if (ne0 % type_traits(type).block_size != 0)
    fail("gguf writer: tensor '{}' row of {} elements is not a multiple of the {} block size", name, ne0,
         dtype_name(type));
  const uint64_t rows = ne0 == 0 ? 0 : n / static_cast<uint64_t>(ne0);
  const size_t rb = row_bytes(type, ne0);
  std::vector<uint8_t> data(rb * rows);
  for (uint64_t r = 0; r < rows; ++r) {
    if (type == DType::F32) std::memcpy(data.data() + r * rb, values.data() + r * ne0, rb);
    else quantize_row(type, values.data() + r * ne0, data.data() + r * rb, ne0);
  }
  add_tensor(name, type, dims, std::move(data));
}

}  // namespace pocket
