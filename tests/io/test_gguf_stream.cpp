// GgufStreamWriter: metadata of every GGUF type copied verbatim, tensors filled in place at
// aligned offsets, in a file and in an in-memory image; the GGUF reader validates the result.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "io/gguf.h"
#include "io/gguf_stream.h"
#include "io/gguf_writer.h"
#include "test_util.h"

namespace pocket {
namespace {

std::vector<uint8_t> sample_source() {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("a.u32", 7);
  w.set_i32("a.i32", -3);
  w.set_u64("a.u64", 1ull << 40);
  w.set_f32("a.f32", 0.25f);
  w.set_bool("a.bool", true);
  w.set_array_i32("a.ai32", {1, -2, 3});
  w.set_array_f32("a.af32", {0.5f, 1.5f});
  w.set_array_string("a.astr", {"x", "", "zz"});
  return w.to_bytes();
}

void expect_same_metadata(const GgufFile& a, const GgufFile& b) {
  ASSERT_EQ(a.metadata().size(), b.metadata().size());
  for (size_t i = 0; i < a.metadata().size(); ++i) {
    EXPECT_EQ(a.metadata()[i].first, b.metadata()[i].first);
    EXPECT_EQ(a.metadata()[i].second.type, b.metadata()[i].second.type);
    EXPECT_EQ(a.metadata()[i].second.to_display(100), b.metadata()[i].second.to_display(100));
  }
}

TEST(GgufStream, CopiesMetadataAndFillsTensors) {
  const std::vector<uint8_t> src_bytes = sample_source();
  auto src = GgufFile::parse(src_bytes.data(), src_bytes.size());
  GgufStreamWriter w;
  w.copy_metadata(*src);
  EXPECT_TRUE(w.has_key("a.astr"));
  EXPECT_THROW(w.add_metadata("a.u32", src->metadata()[1].second), Error);  // duplicate key
  std::vector<float> v(3 * 5);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i) - 4.5f;
  w.add_tensor("t.f32", DType::F32, {5, 3}, [&](uint8_t* dst) { std::memcpy(dst, v.data(), v.size() * 4); });
  w.add_tensor("t.q8", DType::Q8_0, {32, 2}, [](uint8_t* dst) {
    std::vector<float> r(32, 1.0f);
    quantize_row(DType::Q8_0, r.data(), dst, 32);
    quantize_row(DType::Q8_0, r.data(), dst + row_bytes(DType::Q8_0, 32), 32);
  });
  EXPECT_THROW(w.add_tensor("t.bad", DType::Q8_0, {30}, [](uint8_t*) {}), Error);  // not a whole block
  EXPECT_THROW(w.add_tensor("t.f32", DType::F32, {1}, [](uint8_t*) {}), Error);   // duplicate

  const std::string path = test::binary_path("gguf_stream_test.gguf");
  w.write_file(path);
  auto files = std::vector<std::unique_ptr<GgufFile>>{};
  files.push_back(GgufFile::open(path));
  files.push_back(w.to_memory("in-memory"));
  EXPECT_EQ(files[1]->path(), "in-memory");
  for (const auto& f : files) {
    expect_same_metadata(*src, *f);
    ASSERT_EQ(f->tensors().size(), 2u);
    const GgufTensorInfo* t = f->find_tensor("t.f32");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->ne[0], 5);
    EXPECT_EQ(t->ne[1], 3);
    EXPECT_EQ(std::memcmp(t->data, v.data(), v.size() * 4), 0);
    const GgufTensorInfo* q = f->find_tensor("t.q8");
    ASSERT_TRUE(q);
    float back[32];
    dequantize_row(DType::Q8_0, q->data + row_bytes(DType::Q8_0, 32), back, 32);
    EXPECT_NEAR(back[31], 1.0f, 1e-3);  // fp16 block scale
    EXPECT_EQ(q->offset % 32, 0u);
  }
  std::filesystem::remove(path);
  EXPECT_THROW(w.write_file(test::binary_path("no/such/dir/x.gguf")), Error);
}

}  // namespace
}  // namespace pocket
