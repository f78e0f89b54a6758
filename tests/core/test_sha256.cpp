// SHA-256 against the NIST example vectors (FIPS 180-4 examples, "SHA256.pdf" and the
// one-million-'a' vector from FIPS 180-2 appendix B.3), fed whole and in odd-sized chunks.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "core/error.h"
#include "core/sha256.h"
#include "test_util.h"

namespace pocket {
namespace {

struct Vector {
  std::string msg;
  const char* hex;
};

std::vector<Vector> nist_vectors() {
  return {
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {std::string(1000000, 'a'), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
  };
}

TEST(Sha256, NistVectorsWhole) {
  for (const auto& v : nist_vectors()) EXPECT_EQ(sha256_hex(v.msg), v.hex) << v.msg.size() << " bytes";
}

TEST(Sha256, NistVectorsInChunks) {
  // Chunk sizes that straddle the 64-byte block and the 56-byte padding boundary.
  for (size_t chunk : {1u, 3u, 55u, 56u, 63u, 64u, 65u, 1000u}) {
    for (const auto& v : nist_vectors()) {
      Sha256 h;
      for (size_t i = 0; i < v.msg.size(); i += chunk) h.update(std::string_view(v.msg).substr(i, chunk));
      EXPECT_EQ(h.finish_hex(), v.hex) << "chunk " << chunk << ", " << v.msg.size() << " bytes";
    }
  }
}

TEST(Sha256, ResetAndFile) {
  Sha256 h;
  h.update("garbage");
  (void)h.finish();
  h.reset();
  h.update("abc");
  EXPECT_EQ(h.finish_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  const std::string path = test::binary_path("sha256_test_file.txt");
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_TRUE(f);
  std::fputs("abc", f);
  std::fclose(f);
  EXPECT_EQ(sha256_file_hex(path), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::remove(path.c_str());
  EXPECT_THROW(sha256_file_hex(path), Error);
}

}  // namespace
}  // namespace pocket
