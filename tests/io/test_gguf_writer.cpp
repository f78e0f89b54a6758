// GgufWriter: byte layout against an independent encoding of the format, round trips through
// the reader (memory and file), argument validation; and the value accessors / display.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/error.h"
#include "core/fp16.h"
#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "io/gguf_test_image.h"

using namespace pocket;

namespace {

bool contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 37);
  return v;
}

// A writer exercising every setter and several tensor types; the last tensor is 32 bytes, so the
// file ends exactly at its data (no trailing padding).
GgufWriter sample_writer(uint64_t alignment = 32) {
  GgufWriter w(alignment);
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", 3);
  w.set_i32("test.i32", -7);
  w.set_u64("test.u64", uint64_t{1} << 40);
  w.set_f32("test.f32", 0.1f);
  w.set_bool("test.bool", true);
  w.set_string("test.empty", "");
  w.set_array_i32("test.arr_i32", {1, -2, 3});
  w.set_array_f32("test.arr_f32", {0.5f, -1.25f});
  w.set_array_string("test.arr_str", {"a", "", "\xc4\xa0the"});
  w.set_array_i32("test.arr_empty", {});
  w.add_tensor("t.f32", DType::F32, {4, 3}, pattern(48, 1));
  std::vector<uint8_t> f16(8 * 2 * 2 * 2);
  for (size_t i = 0; i < f16.size() / 2; ++i) {
    const uint16_t h = f32_to_fp16(static_cast<float>(i) * 0.25f - 1.0f);
    std::memcpy(f16.data() + 2 * i, &h, 2);
  }
  w.add_tensor("t.f16", DType::F16, {8, 2, 2}, f16);
  w.add_tensor("t.q8_0", DType::Q8_0, {64, 2}, pattern(2 * 2 * 34, 9));
  w.add_tensor("t.q4_k", DType::Q4_K, {256, 1, 1, 2}, pattern(2 * 144, 5));
  w.add_tensor("t.last", DType::F32, {8}, pattern(32, 3));
  return w;
}

void check_sample(const GgufFile& f, uint64_t alignment) {
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), alignment);
  EXPECT_EQ(f.data_offset() % alignment, 0u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_int("llama.block_count"), 3);
  EXPECT_EQ(f.find("llama.block_count")->type, GgufType::U32);
  EXPECT_EQ(f.get_int("test.i32"), -7);
  EXPECT_EQ(f.find("test.i32")->type, GgufType::I32);
  EXPECT_EQ(f.find("test.u64")->as_uint(), uint64_t{1} << 40);
  EXPECT_EQ(f.get_float("test.f32"), static_cast<double>(0.1f));
  EXPECT_EQ(f.get_bool("test.bool"), true);
  EXPECT_EQ(f.get_string("test.empty"), "");
  const GgufArray* ai = f.get_array("test.arr_i32");
  ASSERT_NE(ai, nullptr);
  EXPECT_EQ(ai->elem_type, GgufType::I32);
  ASSERT_EQ(ai->count, 3u);
  EXPECT_EQ(ai->int_at(0), 1);
  EXPECT_EQ(ai->int_at(1), -2);
  EXPECT_EQ(ai->number_at(2), 3.0);
  const GgufArray* af = f.get_array("test.arr_f32");
  ASSERT_NE(af, nullptr);
  EXPECT_EQ(af->number_at(1), -1.25);
  const GgufArray* as = f.get_array("test.arr_str");
  ASSERT_NE(as, nullptr);
  ASSERT_EQ(as->strings.size(), 3u);
  EXPECT_EQ(as->strings[0], "a");
  EXPECT_EQ(as->strings[1], "");
  EXPECT_EQ(as->strings[2], "\xc4\xa0the");
  EXPECT_EQ(f.get_array("test.arr_empty")->count, 0u);

  const std::vector<std::string> names = {"t.f32", "t.f16", "t.q8_0", "t.q4_k", "t.last"};
  ASSERT_EQ(f.tensors().size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(f.tensors()[i].name, names[i]);
  const auto* q4k = f.find_tensor("t.q4_k");
  EXPECT_EQ(q4k->n_dims, 4);
  EXPECT_EQ(q4k->ne[0], 256);
  EXPECT_EQ(q4k->ne[3], 2);
  EXPECT_EQ(q4k->n_elements(), 512);
  EXPECT_EQ(q4k->type, DType::Q4_K);
  EXPECT_EQ(q4k->nbytes, 288u);
  EXPECT_EQ(std::vector<uint8_t>(q4k->data, q4k->data + q4k->nbytes), pattern(288, 5));
  const auto* f16 = f.find_tensor("t.f16");
  EXPECT_EQ(f16->n_dims, 3);
  uint16_t h;
  std::memcpy(&h, f16->data + 2 * 5, 2);
  EXPECT_EQ(fp16_to_f32(h), 0.25f);
  EXPECT_EQ(std::vector<uint8_t>(f.find_tensor("t.q8_0")->data, f.find_tensor("t.q8_0")->data + 136),
            pattern(136, 9));
  for (const auto& t : f.tensors()) EXPECT_EQ((t.data - (f.tensors()[0].data - f.data_offset())) % alignment, 0u);
  const auto* last = f.find_tensor("t.last");
  // As ggml writes it, the last tensor is padded to the alignment too.
  EXPECT_EQ(f.data_offset() + last->offset + (last->nbytes + alignment - 1) / alignment * alignment, f.file_size());
}

}  // namespace

TEST(GgufWriter, MatchesIndependentEncoding) {
  // The test builder encodes the format field by field the way ggml's gguf_write_out does.
  const gguf_test::RawImage im = gguf_test::base_image();
  const std::vector<uint8_t> raw = im.build();
  const size_t data_start = raw.size() - 160;  // 32 (a) + 32 (b, padded) + 96 (c, padded)
  auto slice = [&](size_t off, size_t n) {
    return std::vector<uint8_t>(raw.begin() + data_start + off, raw.begin() + data_start + off + n);
  };
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", 2);
  w.set_f32("llama.rope.freq_base", 10000.0f);
  w.set_bool("tokenizer.ggml.add_bos_token", true);
  w.set_array_i32("tokenizer.ggml.token_type", {1, 2, 3});
  w.set_array_string("tokenizer.ggml.tokens", {"a", "bc"});
  w.add_tensor("a", DType::F32, {4, 2}, slice(0, 32));
  w.add_tensor("b", DType::F16, {8}, slice(32, 16));
  w.add_tensor("c", DType::Q8_0, {32, 2}, slice(64, 68));
  std::vector<uint8_t> expect = raw;
  // The builder fills padding after 'b' and 'c' with its pattern; ggml writes zeros there.
  std::fill(expect.begin() + data_start + 48, expect.begin() + data_start + 64, 0);
  std::fill(expect.begin() + data_start + 132, expect.end(), 0);
  EXPECT_EQ(w.to_bytes(), expect);
}

TEST(GgufWriter, RoundTripInMemory) {
  const std::vector<uint8_t> bytes = sample_writer().to_bytes();
  auto f = GgufFile::parse(bytes.data(), bytes.size());
  check_sample(*f, 32);
  EXPECT_EQ(f->find("general.alignment"), nullptr);  // default alignment is not written
  EXPECT_EQ(f->metadata().size(), 11u);
  EXPECT_EQ(f->metadata()[0].first, "general.architecture");
  EXPECT_EQ(f->metadata()[10].first, "test.arr_empty");
}

TEST(GgufWriter, RoundTripAlignment64) {
  const std::vector<uint8_t> bytes = sample_writer(64).to_bytes();
  auto f = GgufFile::parse(bytes.data(), bytes.size());
  check_sample(*f, 64);
  ASSERT_NE(f->find("general.alignment"), nullptr);
  EXPECT_EQ(f->find("general.alignment")->type, GgufType::U32);
  EXPECT_EQ(f->get_int("general.alignment"), 64);
}

TEST(GgufWriter, RoundTripThroughFile) {
  const std::string path = std::string(POCKET_BINARY_DIR) + "/test_gguf_writer_roundtrip.gguf";
  const GgufWriter w = sample_writer();
  w.write(path);
  {
    auto f = GgufFile::open(path);
    check_sample(*f, 32);
    EXPECT_EQ(f->path(), path);
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(disk, w.to_bytes());
  }
  std::filesystem::remove(path);
}

TEST(GgufWriter, NoTensors) {
  GgufWriter w;
  w.set_u32("k", 1);
  const auto bytes = w.to_bytes();
  EXPECT_EQ(bytes.size() % 32, 0u);  // ggml pads after the (empty) infos too
  auto f = GgufFile::parse(bytes.data(), bytes.size());
  EXPECT_TRUE(f->tensors().empty());
  EXPECT_EQ(f->get_int("k"), 1);
}

TEST(GgufWriter, RejectsInvalidInput) {
  GgufWriter w;
  w.set_u32("k", 1);
  EXPECT_THROW(w.set_string("k", "again"), Error);
  EXPECT_THROW(w.set_u32("", 1), Error);
  EXPECT_THROW(w.set_u32("general.alignment", 64), Error);
  EXPECT_THROW(w.set_string("general.alignment", "32"), Error);
  w.add_tensor("t", DType::F32, {2}, pattern(8, 0));
  EXPECT_THROW(w.add_tensor("t", DType::F32, {2}, pattern(8, 0)), Error);
  EXPECT_THROW(w.add_tensor("u", DType::F32, {2}, pattern(7, 0)), Error);
  EXPECT_THROW(w.add_tensor("u", DType::F32, {}, {}), Error);
  EXPECT_THROW(w.add_tensor("u", DType::F32, {1, 1, 1, 1, 1}, pattern(4, 0)), Error);
  EXPECT_THROW(w.add_tensor("u", DType::F32, {-1}, {}), Error);
  EXPECT_THROW(w.add_tensor("u", DType::Q8_0, {16}, pattern(17, 0)), Error);
  EXPECT_THROW(w.add_tensor(std::string(64, 'n'), DType::F32, {1}, pattern(4, 0)), Error);
  w.add_tensor(std::string(63, 'n'), DType::F32, {1}, pattern(4, 0));
  EXPECT_THROW(GgufWriter(3).to_bytes(), Error);
  EXPECT_THROW(GgufWriter(0).to_bytes(), Error);
  EXPECT_THROW(w.write("/nonexistent-dir/x.gguf"), Error);
}

TEST(GgufValue, Accessors) {
  GgufWriter w;
  w.set_u64("big", ~uint64_t{0});
  w.set_i32("neg", -5);
  w.set_string("s", "hello");
  w.set_bool("b", false);
  w.set_f32("f", 2.5f);
  const auto bytes = w.to_bytes();
  auto f = GgufFile::parse(bytes.data(), bytes.size());
  EXPECT_THROW(f->find("big")->as_int(), Error);
  EXPECT_EQ(f->find("big")->as_uint(), ~uint64_t{0});
  EXPECT_EQ(f->find("neg")->as_int(), -5);
  EXPECT_THROW(f->find("neg")->as_uint(), Error);
  EXPECT_EQ(f->find("neg")->as_double(), -5.0);
  EXPECT_TRUE(f->find("neg")->is_int());
  EXPECT_TRUE(f->find("f")->is_number());
  EXPECT_FALSE(f->find("f")->is_int());
  EXPECT_THROW(f->find("f")->as_int(), Error);
  EXPECT_THROW(f->find("s")->as_double(), Error);
  EXPECT_THROW(f->find("s")->as_array(), Error);
  EXPECT_THROW(f->find("b")->as_string(), Error);
  EXPECT_THROW(f->find("b")->as_int(), Error);
  EXPECT_EQ(f->find("b")->as_bool(), false);
  EXPECT_EQ(f->get_float("neg"), -5.0);  // integers widen to float
  try {
    (void)f->get_int("s");
    ADD_FAILURE() << "expected a type error";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "key 's'")) << e.what();
    EXPECT_TRUE(contains(e.what(), "str")) << e.what();
  }
  EXPECT_THROW((void)f->get_bool("s"), Error);
  EXPECT_THROW((void)f->get_string("neg"), Error);
  EXPECT_THROW((void)f->get_array("neg"), Error);
  EXPECT_EQ(f->get_array("missing"), nullptr);
  EXPECT_FALSE(f->get_int("missing"));
  EXPECT_EQ(f->get_int_or("missing", 42), 42);
  EXPECT_EQ(f->get_int_or("neg", 42), -5);
  EXPECT_EQ(f->get_float_or("missing", 1.5), 1.5);
  EXPECT_EQ(f->get_string_or("missing", "d"), "d");
  EXPECT_EQ(f->get_string_or("s", "d"), "hello");
  EXPECT_EQ(f->get_bool_or("missing", true), true);
  EXPECT_EQ(f->get_bool_or("b", true), false);
  EXPECT_THROW(f->get_int_or("s", 1), Error);
  EXPECT_STREQ(gguf_type_name(GgufType::STRING), "str");
  EXPECT_STREQ(gguf_type_name(static_cast<GgufType>(99)), "unknown");
}

TEST(GgufValue, ArrayElementAccess) {
  GgufWriter w;
  w.set_array_f32("f", {1.5f});
  w.set_array_string("s", {"x"});
  const auto bytes = w.to_bytes();
  auto f = GgufFile::parse(bytes.data(), bytes.size());
  const GgufArray* af = f->get_array("f");
  EXPECT_EQ(af->number_at(0), 1.5);
  EXPECT_THROW((void)af->number_at(1), Error);
  EXPECT_THROW((void)af->int_at(0), Error);
  const GgufArray* as = f->get_array("s");
  EXPECT_THROW((void)as->number_at(0), Error);
  EXPECT_THROW((void)as->int_at(0), Error);
}

TEST(GgufValue, Display) {
  GgufWriter w;
  w.set_string("short", "llama");
  w.set_string("esc", "a\"b\\c\nd\te\x01");
  w.set_string("long", std::string(100, 'x'));
  // 59 ASCII bytes then a 2-byte code point straddling the cut: it must not be split.
  w.set_string("utf8", std::string(59, 'y') + "\xc3\xa9" + "zzz");
  w.set_f32("f", 0.1f);
  w.set_i32("i", -3);
  w.set_u64("u", 18446744073709551615ull);
  w.set_bool("b", true);
  std::vector<int32_t> ten(10);
  for (int i = 0; i < 10; ++i) ten[i] = i;
  w.set_array_i32("ten", ten);
  w.set_array_i32("three", {1, 2, 3});
  w.set_array_i32("none", {});
  w.set_array_string("strs", {"<s>", "a\nb", std::string(40, 'q')});
  w.set_array_f32("fl", {0.5f, 0.1f});
  const auto bytes = w.to_bytes();
  auto f = GgufFile::parse(bytes.data(), bytes.size());
  auto d = [&](const char* k, size_t n = 8) { return f->find(k)->to_display(n); };
  EXPECT_EQ(d("short"), "\"llama\"");
  EXPECT_EQ(d("esc"), "\"a\\\"b\\\\c\\nd\\te\\x01\"");
  EXPECT_EQ(d("long"), "\"" + std::string(60, 'x') + "\"...");
  EXPECT_EQ(d("utf8"), "\"" + std::string(59, 'y') + "\"...");
  EXPECT_EQ(d("f"), "0.1");
  EXPECT_EQ(d("i"), "-3");
  EXPECT_EQ(d("u"), "18446744073709551615");
  EXPECT_EQ(d("b"), "true");
  EXPECT_EQ(d("ten"), "[0, 1, 2, 3, 4, 5, 6, 7, ... (10 items)]");
  EXPECT_EQ(d("ten", 3), "[0, 1, 2, ... (10 items)]");
  EXPECT_EQ(d("ten", 0), "[... (10 items)]");
  EXPECT_EQ(d("three"), "[1, 2, 3]");
  EXPECT_EQ(d("none"), "[]");
  EXPECT_EQ(d("strs"), "[\"<s>\", \"a\\nb\", \"" + std::string(24, 'q') + "\"...]");
  EXPECT_EQ(d("fl"), "[0.5, 0.1]");
}

TEST(GgufWriter, AddTensorF32QuantizesRowByRow) {
  std::vector<float> v(64 * 3);
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(static_cast<float>(i) * 0.37f) * (1.0f + i % 7);
  GgufWriter w;
  w.add_tensor_f32("f32", DType::F32, {64, 3}, v);
  w.add_tensor_f32("f16", DType::F16, {64, 3}, v);
  w.add_tensor_f32("q8", DType::Q8_0, {64, 3}, v);
  EXPECT_THROW(w.add_tensor_f32("bad", DType::F32, {64, 2}, v), Error);
  EXPECT_THROW(w.add_tensor_f32("bad", DType::Q8_0, {48, 4}, v), Error);
  const auto bytes = w.to_bytes();
  auto f = GgufFile::parse(bytes.data(), bytes.size());
  const auto* tf = f->find_tensor("f32");
  ASSERT_EQ(tf->nbytes, v.size() * 4);
  EXPECT_EQ(std::memcmp(tf->data, v.data(), tf->nbytes), 0);
  const auto* th = f->find_tensor("f16");
  ASSERT_EQ(th->nbytes, v.size() * 2);
  for (size_t i = 0; i < v.size(); ++i) {
    uint16_t h;
    std::memcpy(&h, th->data + 2 * i, 2);
    ASSERT_EQ(h, f32_to_fp16(v[i])) << i;
  }
  const auto* tq = f->find_tensor("q8");
  const size_t rb = row_bytes(DType::Q8_0, 64);
  ASSERT_EQ(tq->nbytes, 3 * rb);
  std::vector<uint8_t> row(rb);
  for (int r = 0; r < 3; ++r) {
    quantize_row(DType::Q8_0, v.data() + r * 64, row.data(), 64);
    EXPECT_EQ(std::memcmp(tq->data + r * rb, row.data(), rb), 0) << r;
  }
}

TEST(GgufReader, AcceptsVersion2) {
  gguf_test::RawImage im = gguf_test::base_image();
  im.version = 2;
  const auto bytes = im.build();
  auto f = GgufFile::parse(bytes.data(), bytes.size());
  EXPECT_EQ(f->version(), 2u);
  EXPECT_EQ(f->tensors().size(), 3u);
}
