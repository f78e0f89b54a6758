// K-quant dequantization on real llama.cpp-written GGUF tensors. tiny-kq-q4_k.gguf (Q4_K_M mix:
// Q4_K and Q6_K tensors) and tiny-kq-q6_k.gguf hold the same seeded weights as tiny-kq-q8_0.gguf,
// so each K-quant tensor, decoded by our dequantizers, must agree with the Q8_0 copy of the same
// tensor within the format's quantization error. A layout error (wrong nibble, scale or qh bit)
// decorrelates the values and gives an NMSE of order 1, far above the bounds.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "io/gguf.h"
#include "quant/blocks.h"
#include "quant/kquants.h"
#include "quant/legacy.h"
#include "quant/types.h"

namespace pocket {
namespace {

const std::string kModels = std::string(POCKET_SHARED_DIR) + "/models/";

std::vector<float> dequantize_tensor(const GgufTensorInfo& t) {
  const int64_t n = t.n_elements();
  std::vector<float> out(static_cast<size_t>(n));
  EXPECT_EQ(t.nbytes, row_bytes(t.type, n)) << t.name;
  switch (t.type) {
    case DType::Q4_K: quant::dequantize_row_q4_k(t.data, out.data(), n); break;
    case DType::Q6_K: quant::dequantize_row_q6_k(t.data, out.data(), n); break;
    case DType::Q8_0: quant::dequantize_row_q8_0(t.data, out.data(), n); break;
    default: ADD_FAILURE() << "unexpected type for " << t.name;
  }
  return out;
}

// Bounds: the Gaussian NMSE bounds derived in test_kquants.cpp (Q4_K 1.1e-2, Q6_K 6.5e-4) plus
// the Q8_0 copy's own error (D = amax/127 over 32 values ~ 2.0/127 -> NMSE ~ 2e-5).
double nmse_bound(DType t) { return t == DType::Q4_K ? 1.1e-2 : 6.7e-4; }

void check_file(const std::string& name, int expect_q4k, int expect_q6k) {
  const auto kq = GgufFile::open(kModels + name);
  const auto q8 = GgufFile::open(kModels + "tiny-kq-q8_0.gguf");
  int seen_q4k = 0, seen_q6k = 0;
  for (const GgufTensorInfo& t : kq->tensors()) {
    if (t.type != DType::Q4_K && t.type != DType::Q6_K) continue;
    (t.type == DType::Q4_K ? seen_q4k : seen_q6k)++;
    const GgufTensorInfo* ref = q8->find_tensor(t.name);
    ASSERT_NE(ref, nullptr) << t.name;
    ASSERT_EQ(ref->n_elements(), t.n_elements()) << t.name;
    ASSERT_EQ(ref->type, DType::Q8_0) << t.name;
    const auto a = dequantize_tensor(t);
    const auto b = dequantize_tensor(*ref);
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      ASSERT_TRUE(std::isfinite(a[i])) << t.name << " element " << i;
      num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
      den += double(b[i]) * b[i];
    }
    ASSERT_GT(den, 0) << t.name;
    const double nmse = num / den;
    EXPECT_LT(nmse, nmse_bound(t.type)) << name << " " << t.name << " (" << dtype_name(t.type) << ")";
    std::printf("%s %-26s %-5s nmse vs q8_0 %.3g\n", name.c_str(), t.name.c_str(), dtype_name(t.type), nmse);
  }
  EXPECT_EQ(seen_q4k, expect_q4k) << name;
  EXPECT_EQ(seen_q6k, expect_q6k) << name;
}

TEST(KQuantsGguf, Q4KMixMatchesQ8Copy) { check_file("tiny-kq-q4_k.gguf", 12, 3); }

TEST(KQuantsGguf, Q6KMatchesQ8Copy) { check_file("tiny-kq-q6_k.gguf", 0, 15); }

}  // namespace
}  // namespace pocket
