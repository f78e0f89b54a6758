// Runs a parameterized kernel test at every level this build and CPU can run (kernels/dispatch.h)
// other than ref, the scalar oracle the levels are compared with. Under qemu-aarch64 -cpu max
// that is neon, dotprod and i8mm; on a Zen 4 or Sapphire Rapids machine avx2, avxvnni and
// avx512vnni (avxvnni only where the CPU has AVX-VNNI); in a build
// without ISA folders nothing (the suites are then left uninstantiated, which is allowed).
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "kernels/dispatch.h"

namespace pocket::kernels {
// Test names and failure messages show the level's name.
inline void PrintTo(Isa isa, std::ostream* os) { *os << isa_name(isa); }
}  // namespace pocket::kernels

namespace pocket::test {

inline std::vector<kernels::Isa> simd_levels() {
  std::vector<kernels::Isa> out;
  for (kernels::Isa isa : kernels::available_isas())
    if (isa != kernels::Isa::Ref) out.push_back(isa);
  return out;
}

inline std::string level_name(const ::testing::TestParamInfo<kernels::Isa>& info) {
  return kernels::isa_name(info.param);
}

// Base fixture: table() is the level under test; ref() the oracle's table.
class LevelTest : public ::testing::TestWithParam<kernels::Isa> {
 protected:
  const kernels::KernelTable& table() const { return kernels::kernels_for(GetParam()); }
  static const kernels::KernelTable& ref() { return kernels::kernels_for(kernels::Isa::Ref); }
  const kernels::TypeKernels& kernels_of(DType t) const { return kernels::type_kernels(table(), t); }
};

}  // namespace pocket::test

#define POCKET_INSTANTIATE_LEVELS(Suite)                  \
  GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Suite);   \
  INSTANTIATE_TEST_SUITE_P(Levels, Suite, ::testing::ValuesIn(::pocket::test::simd_levels()), \
                           ::pocket::test::level_name)
