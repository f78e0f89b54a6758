// Hub listing parser and quant selection: both API response shapes, malformed listings (which
// must fail with pocket::Error), unsafe paths, Link pagination, and the selection rules of
// io/hub_listing.h on listings shaped like the real SmolVLM2 / Ministral 3 repositories.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "io/hub_listing.h"

namespace pocket {
namespace {

const std::string kSha(64, 'a');

HubFile gg(const std::string& path, uint64_t size = 100) { return HubFile{path, size, kSha}; }

std::vector<std::string> paths(const std::vector<HubFile>& files) {
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(f.path);
  return out;
}

TEST(HubListing, TreeShape) {
  const std::string j = R"([
    {"type":"file","oid":"0123456789012345678901234567890123456789","size":1570,"path":".gitattributes"},
    {"type":"directory","oid":"x","size":0,"path":"sub"},
    {"type":"file","oid":"abc","size":134,"path":"model-Q8_0.gguf",
     "lfs":{"oid":")" + std::string(64, 'B') + R"(","size":278828032,"pointerSize":135}},
    {"type":"file","oid":"abc","size":10,"path":"sub/readme.md"}
  ])";
  const auto files = parse_hub_listing(j);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].path, ".gitattributes");
  EXPECT_EQ(files[0].size, 1570u);
  EXPECT_EQ(files[0].sha256, "");
  EXPECT_EQ(files[1].path, "model-Q8_0.gguf");
  EXPECT_EQ(files[1].size, 278828032u);  // the LFS object's size, not the pointer's
  EXPECT_EQ(files[1].sha256, std::string(64, 'b'));
  EXPECT_EQ(files[2].path, "sub/readme.md");
}

TEST(HubListing, SiblingsShape) {
  const auto files = parse_hub_listing(
      R"({"id":"o/n","siblings":[{"rfilename":"config.json"},{"rfilename":"m.safetensors","size":5,
         "lfs":{"sha256":"x","oid":"sha256:)" + kSha + R"(","size":7}}]})");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, "config.json");
  EXPECT_EQ(files[1].size, 7u);
  EXPECT_EQ(files[1].sha256, kSha);
}

TEST(HubListing, UnsafePathsSkipped) {
  const auto files = parse_hub_listing(R"([{"type":"file","path":"../evil.gguf"},{"type":"file","path":"/etc/x"},
      {"type":"file","path":"a//b"},{"type":"file","path":"a\\b"},{"type":"file","path":"./x"},
      {"type":"file","path":""},{"type":"file","path":"ok.gguf"},{"type":"file","path":"ok.gguf"}])");
  EXPECT_EQ(paths(files), std::vector<std::string>{"ok.gguf"});
}

TEST(HubListing, MalformedFailsCleanly) {
  const char* cases[] = {
      "",
      "not json",
      "[",
      "42",
      "\"str\"",
      "{}",
      R"({"error":"Repository not found"})",
      R"({"siblings":3})",
      "[1]",
      R"([{"type":"file"}])",
      R"([{"type":7,"path":"a"}])",
      R"([{"type":"file","path":5}])",
      R"([{"type":"file","path":"a","size":-1}])",
      R"([{"type":"file","path":"a","size":"12"}])",
      R"([{"type":"file","path":"a","size":1.5}])",
      R"([{"type":"file","path":"a","lfs":"x"}])",
      R"([{"type":"file","path":"a","lfs":{}}])",
      R"([{"type":"file","path":"a","lfs":{"oid":"abc"}}])",
      R"([{"type":"file","path":"a","lfs":{"oid":")" "zz" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" R"("}}])",
      R"([{"type":"file","path":"a","lfs":{"oid":")" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" R"(","size":-3}}])",
  };
  for (const char* c : cases) EXPECT_THROW(parse_hub_listing(c), Error) << c;
  try {
    parse_hub_listing(R"({"error":"Repository not found"})");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Repository not found"), std::string::npos);
  }
}

TEST(HubListing, LinkNext) {
  EXPECT_EQ(parse_link_next(R"(<https://h/api/models/o/n/tree/main?recursive=true&cursor=abc>; rel="next")"),
            "https://h/api/models/o/n/tree/main?recursive=true&cursor=abc");
  EXPECT_EQ(parse_link_next(R"(<http://a/prev>; rel="prev", <http://a/next>; rel=next)"), "http://a/next");
  EXPECT_EQ(parse_link_next(R"(<http://a/prev>; rel="prev")"), "");
  EXPECT_EQ(parse_link_next(""), "");
  EXPECT_EQ(parse_link_next("<unterminated; rel=next"), "");
}

TEST(HubListing, RepoIds) {
  EXPECT_TRUE(is_valid_repo_id("ggml-org/SmolVLM2-256M-Video-Instruct-GGUF"));
  EXPECT_TRUE(is_valid_repo_id("mistralai/Ministral-3-3B-Instruct-2512"));
  EXPECT_TRUE(is_valid_repo_id("a_b/c.d"));
  for (const char* bad : {"", "noslash", "a/b/c", "/b", "a/", "../x", "a/..", "a/b..c", "a/.b", "a/b-", "a b/c", "a/b:c"})
    EXPECT_FALSE(is_valid_repo_id(bad)) << bad;
}

TEST(HubListing, QuantTags) {
  EXPECT_EQ(gguf_quant_tag("SmolVLM2-256M-Video-Instruct-Q8_0.gguf"), "Q8_0");
  EXPECT_EQ(gguf_quant_tag("dir/Ministral-3-3B-Instruct-2512-q4_k_m.gguf"), "Q4_K_M");
  EXPECT_EQ(gguf_quant_tag("mmproj-SmolVLM2-256M-Video-Instruct-f16.gguf"), "F16");
  EXPECT_EQ(gguf_quant_tag("Mistral-7B.Q2_K.gguf"), "Q2_K");
  EXPECT_EQ(gguf_quant_tag("big-Q4_K_M-00002-of-00003.gguf"), "Q4_K_M");
  EXPECT_EQ(gguf_quant_tag("model.gguf"), "");
  EXPECT_EQ(gguf_quant_tag("SmolVLM2-Instruct.gguf"), "");
  EXPECT_EQ(quant_tag_bits("Q4_K_M"), 4);
  EXPECT_EQ(quant_tag_bits("BF16"), 16);
  EXPECT_EQ(quant_tag_bits("F32"), 32);
  EXPECT_EQ(quant_tag_bits(""), 0);
}

// Listing shaped like ggml-org/SmolVLM2-256M-Video-Instruct-GGUF.
std::vector<HubFile> smolvlm_listing() {
  return {HubFile{".gitattributes", 1600, ""},
          HubFile{"README.md", 400, ""},
          gg("SmolVLM2-256M-Video-Instruct-Q4_K_M.gguf", 150),
          gg("SmolVLM2-256M-Video-Instruct-Q8_0.gguf", 280),
          gg("SmolVLM2-256M-Video-Instruct-f16.gguf", 330),
          gg("mmproj-SmolVLM2-256M-Video-Instruct-Q8_0.gguf", 100),
          gg("mmproj-SmolVLM2-256M-Video-Instruct-f16.gguf", 190)};
}

TEST(HubSelect, DefaultIsQ8WithMatchingMmproj) {
  const HubSelection s = select_hub_files(smolvlm_listing(), "");
  EXPECT_FALSE(s.checkpoint);
  EXPECT_EQ(s.quant, "Q8_0");
  EXPECT_EQ(s.model_file, "SmolVLM2-256M-Video-Instruct-Q8_0.gguf");
  EXPECT_EQ(s.mmproj_file, "mmproj-SmolVLM2-256M-Video-Instruct-Q8_0.gguf");
  EXPECT_EQ(paths(s.files), (std::vector<std::string>{"SmolVLM2-256M-Video-Instruct-Q8_0.gguf",
                                                      "mmproj-SmolVLM2-256M-Video-Instruct-Q8_0.gguf"}));
}

TEST(HubSelect, ExplicitTags) {
  HubSelection s = select_hub_files(smolvlm_listing(), "q4_k_m");
  EXPECT_EQ(s.model_file, "SmolVLM2-256M-Video-Instruct-Q4_K_M.gguf");
  EXPECT_EQ(s.quant, "Q4_K_M");
  // No Q4 mmproj: the closest bit width (Q8_0 over f16).
  EXPECT_EQ(s.mmproj_file, "mmproj-SmolVLM2-256M-Video-Instruct-Q8_0.gguf");
  s = select_hub_files(smolvlm_listing(), "F16");
  EXPECT_EQ(s.model_file, "SmolVLM2-256M-Video-Instruct-f16.gguf");
  EXPECT_EQ(s.mmproj_file, "mmproj-SmolVLM2-256M-Video-Instruct-f16.gguf");
  try {
    select_hub_files(smolvlm_listing(), "Q2_K");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("Q2_K"), std::string::npos) << msg;
    EXPECT_NE(msg.find("Q4_K_M, Q8_0, F16"), std::string::npos) << msg;
  }
}

TEST(HubSelect, DefaultFallsBackToPreferenceThenSmallest) {
  std::vector<HubFile> l = {gg("m-Q2_K.gguf", 50), gg("m-Q4_K_M.gguf", 90), gg("m-Q6_K.gguf", 120)};
  EXPECT_EQ(select_hub_files(l, "").model_file, "m-Q6_K.gguf");
  l = {gg("m-IQ3_XS.gguf", 70), gg("m-IQ2_M.gguf", 50), gg("m-TQ1_0.gguf", 60)};
  EXPECT_EQ(select_hub_files(l, "").model_file, "m-IQ2_M.gguf");
  EXPECT_EQ(select_hub_files(l, "").mmproj_file, "");
}

TEST(HubSelect, SplitModelsBringAllParts) {
  std::vector<HubFile> l = {gg("Q4_K_M/big-Q4_K_M-00002-of-00002.gguf"), gg("Q4_K_M/big-Q4_K_M-00001-of-00002.gguf"),
                            gg("Q8_0/big-Q8_0-00001-of-00002.gguf"), gg("Q8_0/big-Q8_0-00002-of-00002.gguf"),
                            gg("mmproj-big-f16.gguf")};
  HubSelection s = select_hub_files(l, "Q4_K_M");
  EXPECT_EQ(s.model_file, "Q4_K_M/big-Q4_K_M-00001-of-00002.gguf");
  EXPECT_EQ(paths(s.files), (std::vector<std::string>{"Q4_K_M/big-Q4_K_M-00001-of-00002.gguf",
                                                      "Q4_K_M/big-Q4_K_M-00002-of-00002.gguf", "mmproj-big-f16.gguf"}));
  l.erase(l.begin());  // part 2 of Q4_K_M missing
  EXPECT_THROW(select_hub_files(l, "Q4_K_M"), Error);
}

TEST(HubSelect, MmprojPrefersSameDirectory) {
  std::vector<HubFile> l = {gg("a/m-Q8_0.gguf"), gg("mmproj-Q8_0.gguf"), gg("a/mmproj-F16.gguf")};
  EXPECT_EQ(select_hub_files(l, "Q8_0").mmproj_file, "a/mmproj-F16.gguf");
}

TEST(HubSelect, ImatrixAndMmprojAreNotModels) {
  std::vector<HubFile> l = {gg("imatrix.gguf"), gg("mmproj-Q8_0.gguf"), HubFile{"config.json", 10, ""},
                            gg("model.safetensors")};
  const HubSelection s = select_hub_files(l, "");
  EXPECT_TRUE(s.checkpoint);
}

TEST(HubSelect, Checkpoint) {
  // Shaped like mistralai/Ministral-3-3B-Instruct-2512 (FP8): the HF-layout model.safetensors
  // and Mistral's own consolidated.safetensors side by side.
  std::vector<HubFile> l = {HubFile{"README.md", 1, ""},          HubFile{"config.json", 2, ""},
                            HubFile{"params.json", 3, ""},        gg("consolidated.safetensors"),
                            gg("model.safetensors"),              HubFile{"chat_template.jinja", 4, ""},
                            HubFile{"generation_config.json", 5, ""}, gg("tekken.json"),
                            HubFile{"tokenizer.json", 6, ""},     HubFile{"tokenizer_config.json", 7, ""},
                            HubFile{"preprocessor_config.json", 8, ""}, gg("sub/model.safetensors")};
  HubSelection s = select_hub_files(l, "");
  EXPECT_TRUE(s.checkpoint);
  EXPECT_EQ(s.model_file, "config.json");
  EXPECT_EQ(paths(s.files),
            (std::vector<std::string>{"config.json", "model.safetensors", "chat_template.jinja", "generation_config.json",
                                      "tokenizer.json", "tokenizer_config.json", "preprocessor_config.json"}));
  EXPECT_THROW(select_hub_files(l, "Q8_0"), Error);

  // Sharded, no "model" prefix: every top-level safetensors file.
  l = {HubFile{"config.json", 2, ""}, gg("a-00001-of-00002.safetensors"), gg("a-00002-of-00002.safetensors"),
       HubFile{"model.safetensors.index.json", 9, ""}};
  s = select_hub_files(l, "");
  EXPECT_EQ(s.files.size(), 4u);

  EXPECT_THROW(select_hub_files({HubFile{"README.md", 1, ""}}, ""), Error);
  EXPECT_THROW(select_hub_files({gg("model.safetensors")}, ""), Error);  // no config.json
  EXPECT_THROW(select_hub_files({}, ""), Error);
}

}  // namespace
}  // namespace pocket
