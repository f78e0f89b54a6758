// Malformed mmproj files (missing tensors, wrong shapes, bad metadata) and unaccepted image
// sizes must fail with pocket::Error naming the problem, never crash. The malformed files are
// the shared tiny mmprojs rewritten in memory with one thing changed.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "vision/vision_encoder.h"

namespace pocket {
namespace {

namespace fs = std::filesystem;
const fs::path kModels = fs::path(POCKET_SHARED_DIR) / "models";
const std::string kIdefics = (kModels / "tiny-idefics3-mmproj.gguf").string();
const std::string kPixtral = (kModels / "tiny-pixtral-mmproj.gguf").string();

// One change to apply while copying a GGUF file.
struct Edit {
  std::set<std::string> drop_keys, drop_tensors;
  std::map<std::string, std::string> strings;
  std::map<std::string, uint32_t> u32s;
  std::map<std::string, std::vector<float>> f32_arrays;
  std::map<std::string, std::vector<int64_t>> reshape;  // replaced by F32 zeros of this shape
};

void copy_value(GgufWriter& w, const std::string& k, const GgufValue& v) {
  switch (v.type) {
    case GgufType::U8: case GgufType::U16: case GgufType::U32:
      w.set_u32(k, static_cast<uint32_t>(v.as_uint()));
      break;
    case GgufType::I8: case GgufType::I16: case GgufType::I32: case GgufType::I64:
      w.set_i32(k, static_cast<int32_t>(v.as_int()));
      break;
    case GgufType::U64: w.set_u64(k, v.as_uint()); break;
    case GgufType::F32: case GgufType::F64: w.set_f32(k, static_cast<float>(v.as_double())); break;
    case GgufType::BOOL: w.set_bool(k, v.as_bool()); break;
    case GgufType::STRING: w.set_string(k, std::string(v.as_string())); break;
    case GgufType::ARRAY: {
      const GgufArray& a = v.as_array();
      if (a.elem_type == GgufType::STRING) {
        w.set_array_string(k, std::vector<std::string>(a.strings.begin(), a.strings.end()));
      } else if (a.elem_type == GgufType::F32 || a.elem_type == GgufType::F64) {
        std::vector<float> f;
        for (uint64_t i = 0; i < a.count; ++i) f.push_back(static_cast<float>(a.number_at(i)));
        w.set_array_f32(k, f);
      } else {
        std::vector<int32_t> n;
        for (uint64_t i = 0; i < a.count; ++i) n.push_back(static_cast<int32_t>(a.int_at(i)));
        w.set_array_i32(k, n);
      }
      break;
    }
  }
}

std::vector<uint8_t> rewrite(const std::string& path, const Edit& e) {
  auto src = GgufFile::open(path);
  GgufWriter w;
  for (const auto& [k, v] : src->metadata()) {
    if (e.drop_keys.count(k) || e.strings.count(k) || e.u32s.count(k) || e.f32_arrays.count(k)) continue;
    copy_value(w, k, v);
  }
  for (const auto& [k, v] : e.strings) w.set_string(k, v);
  for (const auto& [k, v] : e.u32s) w.set_u32(k, v);
  for (const auto& [k, v] : e.f32_arrays) w.set_array_f32(k, v);
  for (const GgufTensorInfo& t : src->tensors()) {
    if (e.drop_tensors.count(t.name)) continue;
    auto it = e.reshape.find(t.name);
    if (it != e.reshape.end()) {
      int64_t n = 1;
      for (int64_t d : it->second) n *= d;
      w.add_tensor(t.name, DType::F32, it->second, std::vector<uint8_t>(static_cast<size_t>(n) * 4, 0));
    } else {
      std::vector<int64_t> dims(t.ne, t.ne + t.n_dims);
      w.add_tensor(t.name, t.type, dims, std::vector<uint8_t>(t.data, t.data + t.nbytes));
    }
  }
  return w.to_bytes();
}

// Loads the edited copy; returns the error message, or "" if it loaded.
std::string load_error(const std::string& path, const Edit& e) {
  const std::vector<uint8_t> bytes = rewrite(path, e);
  try {
    auto enc = VisionEncoder::load(GgufFile::parse(bytes.data(), bytes.size(), "edited.gguf"));
    return "";
  } catch (const Error& err) {
    return err.what();
  }
}

TEST(VisionErrors, UnmodifiedCopiesLoad) {
  EXPECT_EQ(load_error(kIdefics, {}), "");
  EXPECT_EQ(load_error(kPixtral, {}), "");
}

TEST(VisionErrors, MissingTensors) {
  const std::pair<const std::string*, std::vector<std::string>> sets[] = {
      {&kIdefics,
       {"v.patch_embd.weight", "v.patch_embd.bias", "v.position_embd.weight", "v.blk.1.attn_k.weight",
        "v.blk.0.attn_q.bias", "v.blk.0.ln2.bias", "v.blk.1.ffn_down.weight", "v.post_ln.bias", "mm.model.fc.weight"}},
      {&kPixtral,
       {"v.patch_embd.weight", "v.pre_ln.weight", "v.blk.0.ffn_gate.weight", "v.blk.1.attn_out.weight",
        "v.blk.1.ln1.weight", "mm.input_norm.weight", "mm.patch_merger.weight", "mm.1.weight", "mm.2.weight"}},
  };
  for (const auto& [path, names] : sets) {
    for (const std::string& name : names) {
      Edit e;
      e.drop_tensors.insert(name);
      const std::string msg = load_error(*path, e);
      EXPECT_NE(msg.find(name), std::string::npos) << name << ": " << msg;
    }
  }
}

TEST(VisionErrors, WrongShapes) {
  const std::pair<const std::string*, std::map<std::string, std::vector<int64_t>>> sets[] = {
      {&kIdefics,
       {{"v.patch_embd.weight", {16, 16, 3, 32}},
        {"v.patch_embd.bias", {32}},
        {"v.position_embd.weight", {64, 15}},
        {"v.blk.0.attn_v.weight", {64, 32}},
        {"v.blk.1.ffn_up.weight", {64, 100}},
        {"v.post_ln.weight", {65}},
        {"mm.model.fc.weight", {128, 64}}}},
      {&kPixtral,
       {{"v.patch_embd.weight", {14, 14, 4, 64}},
        {"v.blk.1.attn_q.weight", {64, 32}},
        {"v.blk.0.ffn_gate.weight", {64, 64}},
        {"mm.patch_merger.weight", {128, 64}},
        {"mm.1.weight", {32, 256}},
        {"mm.2.weight", {128, 256}},
        {"v.token_embd.img_break", {255}}}},
  };
  for (const auto& [path, shapes] : sets) {
    for (const auto& [name, dims] : shapes) {
      Edit e;
      e.reshape[name] = dims;
      const std::string msg = load_error(*path, e);
      EXPECT_NE(msg.find(name), std::string::npos) << name << ": " << msg;
    }
  }
}

TEST(VisionErrors, BadMetadata) {
  auto expect_fail = [](const std::string& path, const Edit& e, const std::string& needle) {
    const std::string msg = load_error(path, e);
    EXPECT_NE(msg.find(needle), std::string::npos) << "'" << needle << "' not in: '" << msg << "'";
  };
  Edit e;
  e.strings["clip.projector_type"] = "mlp";
  expect_fail(kIdefics, e, "unsupported vision projector type 'mlp'");
  e = {};
  e.drop_keys.insert("clip.projector_type");
  expect_fail(kPixtral, e, "clip.projector_type");
  e = {};
  e.drop_keys.insert("clip.vision.patch_size");
  expect_fail(kIdefics, e, "clip.vision.patch_size");
  e = {};
  e.u32s["clip.vision.attention.head_count"] = 3;
  expect_fail(kIdefics, e, "head_count");
  e = {};
  e.u32s["clip.vision.block_count"] = 3;  // one more layer than the file has
  expect_fail(kPixtral, e, "v.blk.2.");
  e = {};
  e.u32s["clip.vision.image_size"] = 80;  // 5x5 patches: position table has 16 rows
  expect_fail(kIdefics, e, "v.position_embd.weight");
  e = {};
  e.u32s["clip.vision.projection_dim"] = 100;
  expect_fail(kPixtral, e, "projection_dim");
  e = {};
  e.f32_arrays["clip.vision.image_std"] = {0.5f, 0.0f, 0.5f};
  expect_fail(kIdefics, e, "image_std");
  e = {};
  e.u32s["clip.vision.spatial_merge_size"] = 1;  // merger tensor present without a merge size
  expect_fail(kPixtral, e, "spatial_merge_size");
}

TEST(VisionErrors, NotAnMmproj) {
  EXPECT_THROW(VisionEncoder::load((kModels / "tiny-smol-f16.gguf").string()), Error);
  EXPECT_THROW(VisionEncoder::load((kModels / "does-not-exist.gguf").string()), Error);
}

TEST(VisionErrors, UnacceptedImageSizes) {
  ThreadPool pool(1);
  std::vector<float> px(64 * 64 * 3, 0.0f), out;
  auto idefics = VisionEncoder::load(kIdefics);
  EXPECT_THROW(idefics->n_tokens(32, 32), Error);
  EXPECT_THROW(idefics->encode(px.data(), 64, 48, out, pool), Error);
  auto pixtral = VisionEncoder::load(kPixtral);
  EXPECT_THROW(pixtral->n_tokens(30, 28), Error);  // not a multiple of patch * merge = 28
  EXPECT_THROW(pixtral->n_tokens(14, 28), Error);
  EXPECT_THROW(pixtral->n_tokens(0, 28), Error);
  EXPECT_THROW(pixtral->n_tokens(1568, 1568), Error);  // more patches than a 1540 px square
  EXPECT_EQ(pixtral->n_tokens(28 * 111, 28), 111);     // long and thin is fine
  EXPECT_THROW(pixtral->encode(px.data(), 42, 28, out, pool), Error);
  EXPECT_EQ(pixtral->n_tokens(56, 28), 2);
}

}  // namespace
}  // namespace pocket
