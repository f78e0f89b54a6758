// CPU feature detection: CPUID on x86-64 (OS support for AVX state checked through XGETBV);
// on AArch64 the kernel's hardware capabilities (getauxval, Linux and Android) or sysctl
// (macOS). Thread counts from the affinity mask and sysfs topology where Linux has them.
#include "core/cpu.h"

#include <unistd.h>
#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif
#if defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>
#endif

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace pocket {

namespace {

CpuFeatures detect() {
  CpuFeatures f;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  f.n_cpus = n > 0 ? static_cast<int>(n) : 1;
#if defined(__aarch64__)
  f.neon = true;  // Advanced SIMD is mandatory in ARMv8-A
#if defined(__linux__)
  const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  f.dotprod = (hw & HWCAP_ASIMDDP) != 0;
  f.fp16 = (hw & HWCAP_ASIMDHP) != 0;
#ifdef HWCAP2_I8MM
  f.i8mm = (hw2 & HWCAP2_I8MM) != 0;
#else
  f.i8mm = (hw2 & (1UL << 13)) != 0;  // HWCAP2_I8MM in <asm/hwcap.h> since Linux 5.10
#endif
#elif defined(__APPLE__)
  auto has = [](const char* name) {
    int v = 0;
    size_t len = sizeof v;
    return sysctlbyname(name, &v, &len, nullptr, 0) == 0 && v != 0;
  };
  f.dotprod = has("hw.optional.arm.FEAT_DotProd");
  f.i8mm = has("hw.optional.arm.FEAT_I8MM");
  f.fp16 = has("hw.optional.arm.FEAT_FP16");
#endif
#endif
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = (c >> 27) & 1;
  const bool avx = (c >> 28) & 1;
  f.fma = (c >> 12) & 1;
  f.f16c = (c >> 29) & 1;
  unsigned long long xcr0 = 0;
  if (osxsave) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (static_cast<unsigned long long>(hi) << 32) | lo;
  }
  const bool ymm_ok = (xcr0 & 0x6) == 0x6;
  const bool zmm_ok = (xcr0 & 0xe6) == 0xe6;
  if (!(avx && ymm_ok)) {
    f.fma = f.f16c = false;
    return f;
  }
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx2 = (b >> 5) & 1;
    f.bmi2 = (b >> 8) & 1;
    if (zmm_ok) {
      f.avx512f = (b >> 16) & 1;
      f.avx512bw = (b >> 30) & 1;
      f.avx512vl = (b >> 31) & 1;
      f.avx512vnni = (c >> 11) & 1;
    }
  }
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) {
    f.avxvnni = (a >> 4) & 1;
    f.avx512bf16 = zmm_ok && f.avx512f && ((a >> 5) & 1);
  }
#endif
  return f;
}

}  // namespace

std::string CpuFeatures::summary() const {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (on) {
      if (!s.empty()) s += ' ';
      s += name;
    }
  };
  add(avx2, "AVX2");
  add(fma, "FMA");
  add(f16c, "F16C");
  add(avx512f, "AVX512F");
  add(avx512bw, "AVX512BW");
  add(avx512vnni, "AVX512_VNNI");
  add(avx512bf16, "AVX512_BF16");
  add(avxvnni, "AVX_VNNI");
  add(bmi2, "BMI2");
  add(neon, "NEON");
  add(dotprod, "DOTPROD");
  add(i8mm, "I8MM");
  add(fp16, "FP16");
  if (s.empty()) s = "scalar";
  return s;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

#if defined(__linux__)
namespace {

// An integer from a sysfs file, or -1.
int read_int(const std::string& path) {
  std::ifstream f(path);
  int v = -1;
  if (!(f >> v)) return -1;
  return v;
}

}  // namespace
#endif

int default_thread_count() {
  static const int n = [] {
#if !defined(__linux__)
    return std::max(1, cpu_features().n_cpus);  // no affinity mask or sysfs topology here
#else
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return std::max(1, cpu_features().n_cpus);
    std::set<std::pair<int, int>> cores;  // (package, core) of each allowed CPU
    int allowed = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (!CPU_ISSET(cpu, &set)) continue;
      ++allowed;
      const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
      const int core = read_int(dir + "core_id");
      const int pkg = read_int(dir + "physical_package_id");
      // Without topology (some containers), every CPU counts as its own core.
      cores.emplace(core < 0 ? cpu : pkg, core < 0 ? -1 : core);
    }
    const int physical = static_cast<int>(cores.size());
    return std::max(1, physical > 0 ? physical : allowed);
#endif
  }();
  return n;
}

}  // namespace pocket
