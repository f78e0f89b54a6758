// Products per weight type under the active dispatch (kernels/dispatch.h).
#include "kernels/dot.h"

#include "core/error.h"
#include "kernels/dispatch.h"

namespace pocket::kernels {

const TypeKernels& type_kernels(DType w) { return type_kernels(active_kernels(), w); }

const TypeKernels& type_kernels(const KernelTable& table, DType w) {
  const int i = static_cast<int>(w);
  if (i < 0 || i >= kMaxDType || !table.types[i].vec_dot) fail("no matrix kernel for weight type {}", dtype_name(w));
  return table.types[i];
}

const char* dispatch_name() { return isa_name(active_kernels().isa); }

}  // namespace pocket::kernels
