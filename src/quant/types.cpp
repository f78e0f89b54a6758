// Type table: names, block sizes and byte sizes of every element type.
#include "quant/types.h"

#include <array>
#include <cctype>
#include <cstring>
#include <string>

#include "core/error.h"
#include "quant/blocks.h"

namespace pocket {

namespace {

struct Entry {
  DType t;
  TypeTraits traits;
};

constexpr Entry kTable[] = {
    {DType::F32, {"f32", 1, 4, false, true}},
    {DType::F16, {"f16", 1, 2, false, true}},
    {DType::Q4_0, {"q4_0", QK4_0, sizeof(BlockQ4_0), true, true}},
    {DType::Q4_1, {"q4_1", QK4_1, sizeof(BlockQ4_1), true, true}},
    {DType::Q5_0, {"q5_0", QK5_0, sizeof(BlockQ5_0), true, true}},
    {DType::Q5_1, {"q5_1", QK5_1, sizeof(BlockQ5_1), true, true}},
    {DType::Q8_0, {"q8_0", QK8_0, sizeof(BlockQ8_0), true, true}},
    {DType::Q8_1, {"q8_1", QK8_1, sizeof(BlockQ8_1), true, false}},
    {DType::Q2_K, {"q2_K", QK_K, sizeof(BlockQ2_K), true, true}},
    {DType::Q3_K, {"q3_K", QK_K, sizeof(BlockQ3_K), true, true}},
    {DType::Q4_K, {"q4_K", QK_K, sizeof(BlockQ4_K), true, true}},
    {DType::Q5_K, {"q5_K", QK_K, sizeof(BlockQ5_K), true, true}},
    {DType::Q6_K, {"q6_K", QK_K, sizeof(BlockQ6_K), true, true}},
    {DType::Q8_K, {"q8_K", QK_K, sizeof(BlockQ8_K), true, false}},
    {DType::I8, {"i8", 1, 1, false, false}},
    {DType::I16, {"i16", 1, 2, false, false}},
    {DType::I32, {"i32", 1, 4, false, false}},
    {DType::I64, {"i64", 1, 8, false, false}},
    {DType::F64, {"f64", 1, 8, false, false}},
    {DType::BF16, {"bf16", 1, 2, false, true}},
};

const Entry* find(DType t) {
  for (const Entry& e : kTable)
    if (e.t == t) return &e;
  return nullptr;
}

}  // namespace

std::optional<DType> dtype_from_id(uint32_t id) {
  for (const Entry& e : kTable)
    if (static_cast<uint32_t>(e.t) == id) return e.t;
  return std::nullopt;
}

const TypeTraits& type_traits(DType t) {
  const Entry* e = find(t);
  if (!e) fail("unknown tensor type id {}", static_cast<uint32_t>(t));
  return e->traits;
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const Entry& e : kTable) {
    const char* n = e.traits.name;
    if (std::strlen(n) != name.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < name.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(n[i])) != std::tolower(static_cast<unsigned char>(name[i]))) eq = false;
    if (eq) return e.t;
  }
  return std::nullopt;
}

}  // namespace pocket
