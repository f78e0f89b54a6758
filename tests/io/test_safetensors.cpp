// Safetensors reader: valid files (values of every float dtype read back), FP8 e4m3 decoding
// against values from the OCP FP8 spec, sharded checkpoint folders, and the malformed cases of
// tests/corpus/fuzz_safetensors (files named valid_* parse, every other one must fail with
// pocket::Error naming the problem, never crash).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "io/safetensors.h"
#include "models/hf_test_util.h"
#include "test_util.h"

namespace pocket {
namespace {

namespace fs = std::filesystem;

std::string parse_error(const std::vector<uint8_t>& b) {
  try {
    SafetensorsFile::parse(b.data(), b.size());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Safetensors, ReadsEveryFloatDtype) {
  const std::vector<float> v = {1.0f, -2.0f, 0.5f, 3.25f, -0.125f, 1024.0f};
  std::vector<test::StEntry> es = {test::float_entry("f32", "F32", {2, 3}, v), test::float_entry("f16", "F16", {6}, v),
                                   test::float_entry("bf16", "BF16", {3, 2}, v)};
  const auto bytes = test::safetensors_bytes(es, {{"format", "pt"}});
  auto f = SafetensorsFile::parse(bytes.data(), bytes.size());
  ASSERT_EQ(f->tensors().size(), 3u);
  EXPECT_EQ(f->metadata().at("format"), "pt");
  for (const char* name : {"f32", "f16", "bf16"}) {
    const StTensor* t = f->find(name);
    ASSERT_TRUE(t) << name;
    EXPECT_EQ(t->n_elements(), 6);
    std::vector<float> got(6);
    t->read_f32(0, 6, got.data());
    EXPECT_EQ(got, v) << name;  // all values are exact in every dtype
    float one;
    t->read_f32(5, 1, &one);
    EXPECT_EQ(one, 1024.0f);
    EXPECT_THROW(t->read_f32(5, 2, got.data()), Error);
  }
  EXPECT_EQ(f->find("f32")->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(f->find("missing"), nullptr);
}

TEST(Safetensors, Fp8E4M3Values) {
  // OCP 8-bit FP spec, E4M3: bias 7, max normal 448 (S.1111.110), min subnormal 2^-9, NaN S.1111.111.
  EXPECT_EQ(f8_e4m3_to_f32(0x38), 1.0f);
  EXPECT_EQ(f8_e4m3_to_f32(0xb8), -1.0f);
  EXPECT_EQ(f8_e4m3_to_f32(0x7e), 448.0f);
  EXPECT_EQ(f8_e4m3_to_f32(0x01), std::ldexp(1.0f, -9));
  EXPECT_EQ(f8_e4m3_to_f32(0x08), std::ldexp(1.0f, -6));
  EXPECT_EQ(f8_e4m3_to_f32(0x40), 2.0f);
  EXPECT_EQ(f8_e4m3_to_f32(0x3c), 1.5f);
  EXPECT_TRUE(std::isnan(f8_e4m3_to_f32(0x7f)));
  EXPECT_TRUE(std::isnan(f8_e4m3_to_f32(0xff)));
  // E5M2 is the top byte of an IEEE half: max 57344, inf at 0x7c.
  EXPECT_EQ(f8_e5m2_to_f32(0x7b), 57344.0f);
  EXPECT_TRUE(std::isinf(f8_e5m2_to_f32(0x7c)));
}

TEST(Safetensors, RejectsMalformedHeaders) {
  auto entry = [](const std::string& name, const std::string& dt, std::vector<int64_t> shape, size_t n) {
    return test::StEntry{name, dt, std::move(shape), std::vector<uint8_t>(n)};
  };
  // Wrong byte count for the dtype and shape.
  auto b = test::safetensors_bytes({entry("a", "F32", {3}, 8)});
  EXPECT_NE(parse_error(b).find("needs 12 bytes but data_offsets span 8"), std::string::npos) << parse_error(b);
  // Data section longer than the tensors.
  b = test::safetensors_bytes({entry("a", "F32", {1}, 4)});
  b.push_back(0);
  EXPECT_NE(parse_error(b).find("data section has 5 bytes"), std::string::npos) << parse_error(b);
  // Truncated after the header.
  b = test::safetensors_bytes({entry("a", "F32", {4}, 16)});
  b.resize(b.size() - 1);
  EXPECT_NE(parse_error(b).find("runs past the end"), std::string::npos) << parse_error(b);
  EXPECT_NE(parse_error({1, 2, 3}).find("too short"), std::string::npos);
}

TEST(Safetensors, MalformedCorpus) {
  const std::string dir = std::string(POCKET_SOURCE_DIR) + "/tests/corpus/fuzz_safetensors";
  size_t n_valid = 0, n_bad = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    SCOPED_TRACE(name);
    if (name.rfind("valid_", 0) == 0) {
      auto f = SafetensorsFile::open(e.path().string());
      for (const StTensor& t : f->tensors()) {
        std::vector<float> v(static_cast<size_t>(t.n_elements()));
        if (st_dtype_is_float(t.dtype)) t.read_f32(0, t.n_elements(), v.data());
      }
      ++n_valid;
    } else {
      try {
        SafetensorsFile::open(e.path().string());
        ADD_FAILURE() << "accepted a malformed file";
      } catch (const Error& err) {
        EXPECT_NE(std::string(err.what()).find(name), std::string::npos) << "message should name the file";
      }
      ++n_bad;
    }
  }
  EXPECT_GE(n_valid, 2u);
  EXPECT_GE(n_bad, 15u);
  // Spot-check a few messages.
  auto msg = [&](const std::string& f) {
    try {
      SafetensorsFile::open(dir + "/" + f);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(msg("overlapping").find("overlaps"), std::string::npos);
  EXPECT_NE(msg("gap").find("gap"), std::string::npos);
  EXPECT_NE(msg("misaligned").find("not a multiple"), std::string::npos);
  EXPECT_NE(msg("huge_header_length").find("exceeds"), std::string::npos);
  EXPECT_NE(msg("duplicate_key").find("twice"), std::string::npos);
  EXPECT_NE(msg("unknown_dtype").find("unknown dtype 'F7'"), std::string::npos);
  EXPECT_NE(msg("shape_overflow").find("overflows"), std::string::npos);
  EXPECT_NE(msg("bad_json").find("not valid JSON"), std::string::npos);
  // The F8 seed holds e4m3 codes and a scalar scale.
  auto f8 = SafetensorsFile::open(dir + "/valid_f8.safetensors");
  std::vector<float> w(8);
  f8->find("w")->read_f32(0, 8, w.data());
  EXPECT_EQ(w[0], 1.0f);
  EXPECT_EQ(w[2], 448.0f);
  EXPECT_TRUE(f8->find("w_scale_inv")->shape.empty());
}

TEST(Safetensors, ShardedCheckpointFolders) {
  const std::string dir = test::binary_path("safetensors_tmp");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::vector<float> v = {1, 2, 3, 4};
  test::write_bytes(dir + "/model-00001-of-00002.safetensors", test::safetensors_bytes({test::float_entry("a", "F32", {4}, v)}));
  test::write_bytes(dir + "/model-00002-of-00002.safetensors", test::safetensors_bytes({test::float_entry("b", "BF16", {2, 2}, v)}));
  auto write_index = [&](const nlohmann::json& map) {
    test::write_text(dir + "/model.safetensors.index.json", nlohmann::json({{"weight_map", map}}).dump());
  };
  write_index({{"a", "model-00001-of-00002.safetensors"}, {"b", "model-00002-of-00002.safetensors"}});
  auto c = SafetensorsCheckpoint::open_dir(dir);
  EXPECT_EQ(c->names(), (std::vector<std::string>{"a", "b"}));
  float x[4];
  c->get("b").read_f32(0, 4, x);
  EXPECT_EQ(x[3], 4.0f);
  EXPECT_THROW(c->get("c"), Error);

  auto err = [&]() {
    try {
      SafetensorsCheckpoint::open_dir(dir);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  write_index({{"a", "model-00002-of-00002.safetensors"}, {"b", "model-00002-of-00002.safetensors"}});
  EXPECT_NE(err().find("does not contain it"), std::string::npos) << err();
  // A shard holding a tensor the index does not list (it would be dropped silently).
  test::write_bytes(dir + "/model-00002-of-00002.safetensors",
                    test::safetensors_bytes({test::float_entry("b", "BF16", {2, 2}, v), test::float_entry("x", "F32", {1}, {5})}));
  write_index({{"a", "model-00001-of-00002.safetensors"}, {"b", "model-00002-of-00002.safetensors"}});
  EXPECT_NE(err().find("holds tensor 'x'"), std::string::npos) << err();
  test::write_bytes(dir + "/model-00002-of-00002.safetensors", test::safetensors_bytes({test::float_entry("b", "BF16", {2, 2}, v)}));
  write_index({{"a", "../model-00001-of-00002.safetensors"}});
  EXPECT_NE(err().find("not a plain file name"), std::string::npos) << err();
  write_index({{"a", "model-00003-of-00002.safetensors"}});
  EXPECT_NE(err().find("model-00003-of-00002.safetensors"), std::string::npos) << err();
  test::write_text(dir + "/model.safetensors.index.json", "{\"weight_map\": [");
  EXPECT_NE(err().find("not valid JSON"), std::string::npos) << err();
  // Without an index every model*.safetensors is read; a tensor in two files is an error.
  fs::remove(dir + "/model.safetensors.index.json");
  EXPECT_EQ(SafetensorsCheckpoint::open_dir(dir)->names().size(), 2u);
  test::write_bytes(dir + "/model-00003-of-00003.safetensors", test::safetensors_bytes({test::float_entry("a", "F32", {4}, v)}));
  EXPECT_NE(err().find("more than one file"), std::string::npos) << err();
  fs::remove_all(dir);
  fs::create_directories(dir);
  EXPECT_NE(err().find("no model.safetensors"), std::string::npos) << err();
}

}  // namespace
}  // namespace pocket
