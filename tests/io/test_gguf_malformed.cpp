// Malformed GGUF images must fail with a pocket::Error that names the problem — never crash,
// overread or allocate without bound. Each input is copied into an exact-size heap buffer so
// that the sanitizer build catches any read past its end.
//
// The named cases are also checked in as tests/corpus/fuzz_gguf/bad_<name>.gguf (seeds for the
// fuzz target). After changing gguf_test_image.h, regenerate them with
//   POCKET_WRITE_CORPUS=1 ./test_gguf --gtest_filter='GgufCorpus.*'
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.h"
#include "core/mmap.h"
#include "io/gguf.h"
#include "io/gguf_test_image.h"
#include "io/gguf_writer.h"

using namespace pocket;
namespace fs = std::filesystem;

namespace {

const std::string kCorpus = std::string(POCKET_SOURCE_DIR) + "/tests/corpus/fuzz_gguf/";

// Parses a private copy of exactly `n` bytes; returns the error message, or "" on success.
// Everything parsed is touched so that a bad pointer would show up under ASan.
std::string try_parse(const uint8_t* data, size_t n) {
  std::vector<uint8_t> copy(data, data + n);
  try {
    auto f = GgufFile::parse(copy.empty() ? nullptr : copy.data(), copy.size());
    size_t sum = 0;
    for (const auto& [k, v] : f->metadata()) sum += k.size() + v.to_display(4).size();
    for (const auto& t : f->tensors()) {
      EXPECT_GE(t.data, copy.data());
      EXPECT_LE(t.data + t.nbytes, copy.data() + copy.size());
      if (t.nbytes) sum += t.data[0] + t.data[t.nbytes - 1];
    }
    (void)sum;
    return "";
  } catch (const Error& e) {
    std::string msg = e.what();
    return msg.empty() ? "<empty message>" : msg;
  }
}

std::string try_parse(const std::vector<uint8_t>& v) { return try_parse(v.data(), v.size()); }

std::vector<uint8_t> read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Valid seeds for the corpus: the test builder's image and a writer image.
std::vector<std::pair<std::string, std::vector<uint8_t>>> valid_seeds() {
  std::vector<std::pair<std::string, std::vector<uint8_t>>> v;
  v.emplace_back("base", gguf_test::base_image().build());
  gguf_test::RawImage v2 = gguf_test::base_image();
  v2.version = 2;
  v.emplace_back("base_v2", v2.build());
  GgufWriter w(64);
  w.set_string("general.architecture", "llama");
  w.set_u64("u64", 5);
  w.set_array_f32("f", {1.0f, 2.0f});
  w.set_array_string("tokens", {"<s>", "</s>", "hi"});
  w.add_tensor("w", DType::F16, {4, 2}, std::vector<uint8_t>(16, 0x3c));
  w.add_tensor("q", DType::Q4_0, {32}, std::vector<uint8_t>(18, 0x11));
  v.emplace_back("writer_align64", w.to_bytes());
  GgufWriter empty;
  v.emplace_back("writer_empty", empty.to_bytes());
  return v;
}

}  // namespace

TEST(GgufMalformed, BaseImageIsValid) {
  const auto bytes = gguf_test::base_image().build();
  auto f = GgufFile::parse(bytes.data(), bytes.size());
  EXPECT_EQ(f->get_string("general.architecture"), "llama");
  EXPECT_EQ(f->get_int("llama.block_count"), 2);
  EXPECT_EQ(f->get_float("llama.rope.freq_base"), 10000.0);
  EXPECT_EQ(f->get_bool("tokenizer.ggml.add_bos_token"), true);
  EXPECT_EQ(f->get_array("tokenizer.ggml.tokens")->strings.at(1), "bc");
  ASSERT_EQ(f->tensors().size(), 3u);
  EXPECT_EQ(f->data_offset(), bytes.size() - 160);
  EXPECT_EQ(f->tensors()[2].offset, 64u);
  EXPECT_EQ(f->tensors()[2].nbytes, 68u);
}

TEST(GgufMalformed, NamedCasesFailWithMessage) {
  for (const auto& c : gguf_test::malformed_cases()) {
    SCOPED_TRACE(c.name);
    const std::string msg = try_parse(c.bytes);
    ASSERT_FALSE(msg.empty()) << "malformed image parsed without error";
    EXPECT_EQ(msg.rfind("gguf: ", 0), 0u) << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << "message: " << msg << "\nexpected to contain: " << c.expect;
  }
}

// Cutting the builder's image anywhere before the end of the last tensor's data must fail;
// cutting only its trailing padding is accepted (ggml, too, only checks the data it uses).
TEST(GgufMalformed, TruncatedBuilderImageAtEveryByte) {
  const auto bytes = gguf_test::base_image().build();
  const size_t data_end = bytes.size() - 28;  // 28 bytes of padding after tensor 'c'
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string msg = try_parse(bytes.data(), n);
    if (n < data_end) {
      ASSERT_FALSE(msg.empty()) << "prefix of " << n << " bytes parsed";
    } else {
      ASSERT_TRUE(msg.empty()) << n << ": " << msg;
    }
  }
}

TEST(GgufMalformed, TruncatedWriterImageAtEveryByte) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_array_string("tokenizer.ggml.tokens", {"a", "bb", "ccc"});
  w.set_array_f32("f", {1.0f, 2.0f, 3.0f});
  w.set_bool("b", true);
  w.add_tensor("x", DType::F32, {3}, std::vector<uint8_t>(12, 1));
  w.add_tensor("y", DType::Q8_0, {32}, std::vector<uint8_t>(34, 2));
  w.add_tensor("z", DType::F32, {8}, std::vector<uint8_t>(32, 3));  // ends the file without padding
  const auto bytes = w.to_bytes();
  ASSERT_TRUE(try_parse(bytes).empty());
  for (size_t n = 0; n < bytes.size(); ++n) ASSERT_FALSE(try_parse(bytes.data(), n).empty()) << n;
}

// The smallest shared model: every cut in the header/metadata/infos region and the first data
// bytes, and a sample of cuts through the data. Its last tensor ends exactly at the end of file.
TEST(GgufMalformed, TruncatedSharedModel) {
  MappedFile m(std::string(POCKET_SHARED_DIR) + "/models/smolvlm2-2.2b-tiny-mmproj.gguf");
  ASSERT_TRUE(try_parse(m.data(), m.size()).empty());
  const size_t dense = 2048 + 256;  // the infos end at byte 2059
  for (size_t n = 0; n < dense; ++n) ASSERT_FALSE(try_parse(m.data(), n).empty()) << n;
  std::mt19937_64 rng(1234);
  std::uniform_int_distribution<size_t> pick(dense, m.size() - 1);
  for (int i = 0; i < 150; ++i) {
    const size_t n = pick(rng);
    ASSERT_FALSE(try_parse(m.data(), n).empty()) << n;
  }
  ASSERT_FALSE(try_parse(m.data(), m.size() - 1).empty());
}

// Random byte corruption: any outcome but a crash (or an exception other than pocket::Error,
// which try_parse would let escape) is fine.
TEST(GgufMalformed, RandomMutations) {
  std::mt19937_64 rng(42);
  for (const auto& [name, seed] : valid_seeds()) {
    SCOPED_TRACE(name);
    for (int it = 0; it < 1500; ++it) {
      std::vector<uint8_t> b = seed;
      const int n_mut = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < n_mut && !b.empty(); ++k) {
        const size_t at = rng() % b.size();
        switch (rng() % 3) {
          case 0: b[at] = static_cast<uint8_t>(rng()); break;
          case 1: b[at] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
          default:  // a plausible-looking huge or boundary 64-bit value
            for (size_t j = 0; j < 8 && at + j < b.size(); ++j) b[at + j] = (rng() % 2) ? 0xff : 0x00;
        }
      }
      if (rng() % 4 == 0) b.resize(rng() % (b.size() + 1));
      (void)try_parse(b);
    }
  }
}

TEST(GgufMalformed, OpenReportsPath) {
  const std::string path = std::string(POCKET_BINARY_DIR) + "/test_gguf_bad_magic.gguf";
  {
    std::ofstream f(path, std::ios::binary);
    f << "GGML-not-gguf";
  }
  try {
    (void)GgufFile::open(path);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bad magic 'GGML'"), std::string::npos) << msg;
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
  }
  fs::remove(path);
  const std::string empty = std::string(POCKET_BINARY_DIR) + "/test_gguf_empty.gguf";
  { std::ofstream f(empty, std::ios::binary); }
  EXPECT_THROW((void)GgufFile::open(empty), Error);
  fs::remove(empty);
}

// The checked-in corpus equals what the generators produce (or is rewritten on request), and
// every file in it behaves as its name says: bad_* fail, valid_* parse, anything else (e.g. a
// reproducer kept from fuzzing) at least does not crash.
TEST(GgufCorpus, MatchesGenerators) {
  const bool write = std::getenv("POCKET_WRITE_CORPUS") != nullptr;
  std::vector<std::pair<std::string, std::vector<uint8_t>>> files;
  for (auto& c : gguf_test::malformed_cases()) files.emplace_back("bad_" + c.name + ".gguf", c.bytes);
  for (auto& [name, bytes] : valid_seeds()) files.emplace_back("valid_" + name + ".gguf", bytes);
  if (write) fs::create_directories(kCorpus);
  for (const auto& [name, bytes] : files) {
    SCOPED_TRACE(name);
    EXPECT_LE(bytes.size(), 4096u);
    if (write) {
      std::ofstream f(kCorpus + name, std::ios::binary | std::ios::trunc);
      f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
    ASSERT_TRUE(fs::exists(kCorpus + name)) << "regenerate with POCKET_WRITE_CORPUS=1";
    EXPECT_EQ(read_file(kCorpus + name), bytes) << "regenerate with POCKET_WRITE_CORPUS=1";
  }
}

TEST(GgufCorpus, ReplayEveryFile) {
  size_t total = 0;
  int n = 0;
  for (const auto& e : fs::directory_iterator(kCorpus)) {
    const std::string name = e.path().filename().string();
    SCOPED_TRACE(name);
    const auto bytes = read_file(e.path());
    total += bytes.size();
    ++n;
    const std::string msg = try_parse(bytes);
    if (name.rfind("bad_", 0) == 0) {
      EXPECT_FALSE(msg.empty());
    } else if (name.rfind("valid_", 0) == 0) {
      EXPECT_TRUE(msg.empty()) << msg;
    }
  }
  EXPECT_GT(n, 30);
  EXPECT_LT(total, 200u * 1024);
}
