// Builds each level's table once, checks the CPU for it, and holds the active one.
#include "kernels/dispatch.h"

#include <array>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>

#include "core/cpu.h"
#include "core/error.h"
#include "kernels/isa_levels.h"

namespace pocket::kernels {

namespace {

constexpr std::array<const char*, kIsaCount> kNames = {"ref", "avx2", "avxvnni", "avx512vnni", "neon", "dotprod", "i8mm"};

// Whether this build compiled the level's folder.
bool built(Isa isa) {
  switch (isa) {
    case Isa::Ref:
      return true;
    case Isa::Avx2:
    case Isa::AvxVnni:
    case Isa::Avx512Vnni:
#ifdef POCKET_KERNELS_X86
      return true;
#else
      return false;
#endif
    case Isa::Neon:
    case Isa::Dotprod:
    case Isa::I8mm:
#ifdef POCKET_KERNELS_ARM
      return true;
#else
      return false;
#endif
  }
  return false;
}

// Whether the CPU executes everything the level's folder is compiled for.
bool cpu_has(Isa isa) {
  const CpuFeatures& c = cpu_features();
  const bool avx2 = c.avx2 && c.fma && c.f16c && c.bmi2;
  switch (isa) {
    case Isa::Ref: return true;
    case Isa::Avx2: return avx2;
    case Isa::AvxVnni: return avx2 && c.avxvnni;
    case Isa::Avx512Vnni: return avx2 && c.avx512f && c.avx512bw && c.avx512vl && c.avx512vnni;
    case Isa::Neon: return c.neon;
    case Isa::Dotprod: return c.neon && c.dotprod;
    case Isa::I8mm: return c.neon && c.dotprod && c.i8mm;
  }
  return false;
}

KernelTable build(Isa isa) {
  KernelTable t;
  fill_ref(t);
#ifdef POCKET_KERNELS_X86
  if (isa == Isa::Avx2 || isa == Isa::AvxVnni || isa == Isa::Avx512Vnni) fill_avx2(t);
  if (isa == Isa::AvxVnni) fill_avxvnni(t);
  if (isa == Isa::Avx512Vnni) fill_avx512vnni(t);
#endif
#ifdef POCKET_KERNELS_ARM
  if (isa == Isa::Neon || isa == Isa::Dotprod || isa == Isa::I8mm) fill_neon(t);
  if (isa == Isa::Dotprod || isa == Isa::I8mm) fill_dotprod(t);
  if (isa == Isa::I8mm) fill_i8mm(t);
#endif
  t.isa = isa;
  return t;
}

std::array<std::once_flag, kIsaCount> g_once;
std::array<KernelTable, kIsaCount> g_tables;
std::atomic<const KernelTable*> g_active{nullptr};

Isa choose_at_startup() {
  if (const char* env = std::getenv("POCKET_ISA"); env && *env) {
    const std::optional<Isa> isa = parse_isa(env);
    if (!isa) fail("POCKET_ISA={}: not a kernel level (ref, avx2, avxvnni, avx512vnni, neon, dotprod, i8mm)", env);
    const std::string_view why = isa_unavailable_reason(*isa);
    if (!why.empty()) fail("POCKET_ISA={}: {}", env, why);
    return *isa;
  }
  Isa best = Isa::Ref;
  for (Isa isa : available_isas()) best = isa;  // lowest first: the last is the best
  return best;
}

}  // namespace

const char* isa_name(Isa isa) { return kNames[static_cast<size_t>(isa)]; }

std::optional<Isa> parse_isa(std::string_view name) {
  for (int i = 0; i < kIsaCount; ++i)
    if (name == kNames[static_cast<size_t>(i)]) return static_cast<Isa>(i);
  return std::nullopt;
}

std::string_view isa_unavailable_reason(Isa isa) {
  if (!built(isa)) return "this build has no kernels for that level (other architecture, or built without ISA folders)";
  if (!cpu_has(isa)) return "this CPU lacks the instructions of that level";
  return {};
}

std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (int i = 0; i < kIsaCount; ++i)
    if (isa_unavailable_reason(static_cast<Isa>(i)).empty()) out.push_back(static_cast<Isa>(i));
  return out;
}

const KernelTable& kernels_for(Isa isa) {
  const std::string_view why = isa_unavailable_reason(isa);
  if (!why.empty()) fail("kernel level {}: {}", isa_name(isa), why);
  const size_t i = static_cast<size_t>(isa);
  std::call_once(g_once[i], [&] { g_tables[i] = build(isa); });
  return g_tables[i];
}

Isa startup_isa() {
  static const Isa isa = choose_at_startup();
  return isa;
}

const KernelTable& active_kernels() {
  const KernelTable* t = g_active.load(std::memory_order_acquire);
  if (t) return *t;
  const KernelTable& chosen = kernels_for(startup_isa());
  const KernelTable* expected = nullptr;
  g_active.compare_exchange_strong(expected, &chosen, std::memory_order_acq_rel);
  return *g_active.load(std::memory_order_acquire);
}

void set_isa(Isa isa) { g_active.store(&kernels_for(isa), std::memory_order_release); }

namespace {
std::atomic<bool> g_vision_bf16{true};
}  // namespace

void set_vision_bf16(bool allowed) { g_vision_bf16.store(allowed); }
bool vision_bf16_allowed() { return g_vision_bf16.load(); }

}  // namespace pocket::kernels
