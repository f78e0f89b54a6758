// SmolVLM2 image and video prompt text (vision/smolvlm_prompt.h).
#include "vision/smolvlm_prompt.h"

#include <cmath>

#include "core/error.h"
#include "media/frame_sampling.h"

namespace pocket {

std::string smolvlm_image_prompt(int rows, int cols, int image_seq_len, const SmolVlmPromptTokens& t) {
  std::string images;
  images.reserve(t.image_token.size() * image_seq_len);
  for (int i = 0; i < image_seq_len; ++i) images += t.image_token;
  std::string s;
  if (rows == 0 && cols == 0) {
    // ref: processing_smolvlm.py _prompt_single_image
    return t.fake_token_around_image + t.global_image_token + images + t.fake_token_around_image;
  }
  // ref: processing_smolvlm.py _prompt_split_image: crops are not closed by the fake token.
  for (int r = 1; r <= rows; ++r) {
    for (int c = 1; c <= cols; ++c) {
      s += t.fake_token_around_image;
      s += "<row_" + std::to_string(r) + "_col_" + std::to_string(c) + ">";
      s += images;
    }
    s += "\n";
  }
  s += "\n" + t.fake_token_around_image + t.global_image_token + images + t.fake_token_around_image;
  return s;
}

std::string smolvlm_video_prompt(const std::vector<std::string>& timestamps, double duration, int image_seq_len,
                                 const SmolVlmPromptTokens& tokens) {
  // ref: transformers smolvlm/processing_smolvlm.py SmolVLMProcessor.process_video and the
  // DEFAULT_VIDEO_INTRO / FRAME_TIMESTAMP_MESSAGE / DEFAULT_MEDIA_OUTTRO constants.
  if (image_seq_len < 1) fail("video prompt: image_seq_len must be positive (got {})", image_seq_len);
  if (!std::isfinite(duration) || duration < 0 || duration >= 9.0e15)
    fail("video prompt: invalid duration {}", duration);
  const auto words = number_to_words_en(static_cast<int64_t>(timestamps.size()));
  const auto duration_text = timedelta_text(static_cast<int64_t>(std::trunc(duration)));
  std::string tile;
  tile.reserve(tokens.fake_token_around_image.size() * 2 + tokens.global_image_token.size() +
               tokens.image_token.size() * static_cast<size_t>(image_seq_len));
  tile += tokens.fake_token_around_image;
  tile += tokens.global_image_token;
  for (int i = 0; i < image_seq_len; ++i) tile += tokens.image_token;
  tile += tokens.fake_token_around_image;

  std::string out = fmt::format(
      "You are provided the following series of {} frames from a {} [H:MM:SS] video.\n", words, duration_text);
  out.reserve(out.size() + timestamps.size() * (tile.size() + 20) + 2);
  for (const std::string& ts : timestamps) {
    out += "\nFrame from ";
    out += ts;
    out += ":";
    out += tile;
  }
  out += "\n\n";
  return out;
}

}  // namespace pocket
