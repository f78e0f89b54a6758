// Weight binding helpers (model/weights.h).
#include "model/weights.h"

#include "core/error.h"
#include "io/gguf.h"
#include "quant/types.h"

namespace pocket {

bool has_tensor(const GgufFile& f, const std::string& name) { return f.find_tensor(name) != nullptr; }

kernels::WeightRef bind_matrix(const GgufFile& f, const std::string& name, int64_t n_in, int64_t n_out) {
  const GgufTensorInfo* t = f.find_tensor(name);
  POCKET_CHECK(t, "{}: missing tensor '{}'", f.path(), name);
  POCKET_CHECK(t->n_dims == 2 && t->ne[0] == n_in && t->ne[1] == n_out,
               "{}: tensor '{}' has shape [{}, {}], expected [{}, {}]", f.path(), name, t->ne[0], t->ne[1], n_in, n_out);
  POCKET_CHECK(type_traits(t->type).supported, "{}: tensor '{}' has unsupported type {}", f.path(), name,
               dtype_name(t->type));
  kernels::WeightRef w;
  w.type = t->type;
  w.data = t->data;
  w.n_in = n_in;
  w.n_out = n_out;
  w.row_stride = row_bytes(t->type, n_in);
  return w;
}

std::vector<float> load_vector(const GgufFile& f, const std::string& name, int64_t n) {
  const GgufTensorInfo* t = f.find_tensor(name);
  POCKET_CHECK(t, "{}: missing tensor '{}'", f.path(), name);
  POCKET_CHECK(t->n_elements() == n, "{}: tensor '{}' has {} elements, expected {}", f.path(), name, t->n_elements(), n);
  POCKET_CHECK(type_traits(t->type).supported && n % type_traits(t->type).block_size == 0,
               "{}: tensor '{}' has unsupported type {}", f.path(), name, dtype_name(t->type));
  std::vector<float> out(static_cast<size_t>(n));
  dequantize_row(t->type, t->data, out.data(), n);
  return out;
}

}  // namespace pocket
