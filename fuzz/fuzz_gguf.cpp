// libFuzzer target for the GGUF reader: any byte string must either parse or fail with
// pocket::Error; everything a parse returns is read back so bad pointers or sizes surface
// under ASan/UBSan.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "io/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto f = pocket::GgufFile::parse(data, size, "<fuzz>");
    volatile size_t sink = f->version() + f->alignment() + f->data_offset();
    for (const auto& [key, v] : f->metadata()) {
      sink = sink + key.size() + v.to_display(16).size() + (f->find(key) == &v);
      if (v.type == pocket::GgufType::ARRAY) {
        const pocket::GgufArray& a = v.as_array();
        for (uint64_t i = 0; i < a.count && i < 64; ++i) {
          if (a.elem_type == pocket::GgufType::STRING) {
            sink = sink + a.strings[i].size();
          } else {
            sink = sink + static_cast<size_t>(a.number_at(i) != 0);
          }
        }
        if (a.count) {
          try {
            sink = sink + static_cast<size_t>(a.int_at(a.count - 1));
          } catch (const pocket::Error&) {
          }
        }
      } else if (v.is_number()) {
        sink = sink + static_cast<size_t>(v.as_double() != 0);
      }
    }
    for (const auto& t : f->tensors()) {
      sink = sink + t.name.size() + static_cast<size_t>(t.n_elements()) + (f->find_tensor(t.name) == &t);
      if (t.nbytes) sink = sink + t.data[0] + t.data[t.nbytes - 1];
    }
    (void)sink;
  } catch (const pocket::Error&) {
  }
  return 0;
}
