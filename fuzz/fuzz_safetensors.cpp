// libFuzzer target for the safetensors reader: any byte string must either parse or fail with
// pocket::Error; every tensor a parse returns is read back (float dtypes converted) so a bad
// offset or size surfaces under ASan/UBSan. Seeds and malformed cases: tests/corpus/fuzz_safetensors/.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto f = pocket::SafetensorsFile::parse(data, size, "<fuzz>");
    volatile size_t sink = f->metadata().size();
    std::vector<float> buf;
    for (const pocket::StTensor& t : f->tensors()) {
      sink = sink + t.name.size() + (f->find(t.name) == &t);
      if (t.nbytes) sink = sink + t.data[0] + t.data[t.nbytes - 1];
      if (pocket::st_dtype_is_float(t.dtype) && t.n_elements() <= (1 << 16)) {
        buf.resize(static_cast<size_t>(t.n_elements()));
        t.read_f32(0, t.n_elements(), buf.data());
        for (float v : buf) sink = sink + (v == v);
      }
    }
    (void)sink;
  } catch (const pocket::Error&) {
  }
  return 0;
}
