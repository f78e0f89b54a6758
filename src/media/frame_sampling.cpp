// SmolVLM2 frame sampling and the Python text helpers its prompt uses (see frame_sampling.h). Every rule mirrors the
// Python it comes from, down to float64 evaluation order: this file is compiled with
// -ffp-contract=off (pocket_media), so `i * step + start` is never fused into an FMA.
#include "media/frame_sampling.h"

#include <fmt/format.h>

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace pocket {

double python_round(double x) {
  // CPython's float.__round__ with no ndigits rounds the exact binary value to the nearest
  // integer, ties to even; nearbyint does the same under the default rounding mode.
  const int saved = std::fegetround();
  if (saved != FE_TONEAREST) std::fesetround(FE_TONEAREST);
  const double r = std::nearbyint(x);
  if (saved != FE_TONEAREST) std::fesetround(saved);
  return r;
}

FrameSamplingPlan sample_video_frames(const VideoTiming& timing, const FrameSamplingParams& params) {
  // ref: transformers smolvlm/video_processing_smolvlm.py SmolVLMVideoProcessor.sample_frames.
  const int64_t total = timing.total_num_frames;
  const double fps = timing.fps, duration = timing.duration;
  if (total < 1) fail("video sampling: the video has no frames ({})", total);
  if (!std::isfinite(fps) || fps <= 0) fail("video sampling: invalid frame rate {}", fps);
  if (!std::isfinite(duration) || duration < 0) fail("video sampling: invalid duration {}", duration);
  if (params.max_frames < 1) fail("video sampling: max_frames must be at least 1 (got {})", params.max_frames);
  if (!std::isfinite(params.target_fps) || !std::isfinite(params.skip_secs))
    fail("video sampling: non-finite sampling parameters");

  FrameSamplingPlan plan;
  // Step 1: int(round(fps * duration)); compared in double first so a huge product cannot
  // overflow the integer conversion (it is capped by max_frames right after anyway).
  const double estimated = python_round(params.target_fps * duration);
  const double max_frames_d = static_cast<double>(params.max_frames);
  if (estimated >= 9.0e18)
    plan.estimated_frames = std::numeric_limits<int64_t>::max();
  else if (estimated <= -9.0e18)
    plan.estimated_frames = std::numeric_limits<int64_t>::min();
  else
    plan.estimated_frames = static_cast<int64_t>(estimated);
  // Step 2: desired = min(estimated, num_frames), at least 1.
  plan.desired_frames = estimated < max_frames_d ? plan.estimated_frames : params.max_frames;
  if (plan.desired_frames < 1) plan.desired_frames = 1;

  // Step 3: skip `skip_secs` at both ends when the video is long enough. The comparison and the
  // offsets are float64; int() truncates toward zero.
  int64_t start = 0, end = total - 1;
  if (params.skip_secs > 0 && (duration - 2 * params.skip_secs) > (max_frames_d * params.target_fps)) {
    plan.skip_applied = true;
    const double start_f = params.skip_secs * fps;
    const double end_f = static_cast<double>(total) - params.skip_secs * fps;
    start = static_cast<int64_t>(std::trunc(std::clamp(start_f, -9.0e18, 9.0e18)));
    end = static_cast<int64_t>(std::trunc(std::clamp(end_f, -9.0e18, 9.0e18)));
  }
  start = std::max<int64_t>(0, start);
  end = std::min(end, total - 1);
  if (start >= end) {
    plan.range_reset_to_full = true;
    start = 0;
    end = total - 1;
  }
  plan.start_idx = start;
  plan.end_idx = end;

  // numpy.linspace(start, end, num, dtype=int) (numpy 1.24, function_base.py): y = arange(num)
  // * step + start in float64, step = (end − start) / (num − 1), the last element set to `end`,
  // then floor for an integer dtype. When step == 0 numpy computes (i / div) * delta instead,
  // which is 0 as well; a single element is `start`.
  const int64_t num = plan.desired_frames;
  plan.linspace.resize(static_cast<size_t>(num));
  const double start_d = static_cast<double>(start), delta = static_cast<double>(end - start);
  if (num == 1) {
    plan.linspace[0] = start;
  } else {
    const double div = static_cast<double>(num - 1);
    const double step = delta / div;
    for (int64_t i = 0; i < num; ++i) {
      const double fi = static_cast<double>(i);
      const double y = step == 0 ? (fi / div) * delta + start_d : fi * step + start_d;
      plan.linspace[static_cast<size_t>(i)] = static_cast<int64_t>(std::floor(y));
    }
    plan.linspace.back() = end;
  }
  // numpy.unique: sorted, de-duplicated.
  plan.indices = plan.linspace;
  std::sort(plan.indices.begin(), plan.indices.end());
  plan.indices.erase(std::unique(plan.indices.begin(), plan.indices.end()), plan.indices.end());

  // VideoMetadata.timestamps: frame_idx / fps in float64.
  plan.timestamps_seconds.reserve(plan.indices.size());
  plan.timestamps.reserve(plan.indices.size());
  for (const int64_t idx : plan.indices) {
    const double t = static_cast<double>(idx) / fps;
    plan.timestamps_seconds.push_back(t);
    plan.timestamps.push_back(timestamp_mmss(t));
  }
  return plan;
}

std::string timestamp_mmss(double t) {
  // CPython float_divmod (Objects/floatobject.c) for t // 60 and t % 60.
  const double wx = 60.0;
  double mod = std::fmod(t, wx);
  double div = (t - mod) / wx;
  if (mod != 0) {
    if ((wx < 0) != (mod < 0)) {
      mod += wx;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, wx);
  }
  double floordiv;
  if (div != 0) {
    floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
  } else {
    floordiv = std::copysign(0.0, t / wx);
  }
  if (!std::isfinite(floordiv) || std::fabs(floordiv) > 9.0e15) fail("video timestamp out of range: {}", t);
  const auto minutes = static_cast<int64_t>(std::trunc(floordiv));
  const auto seconds = static_cast<int64_t>(std::trunc(mod));
  // Python's :02d pads the digits, keeping a minus sign in front ("-1" -> "-1").
  return fmt::format("{:02d}:{:02d}", minutes, seconds);
}

std::string timedelta_text(int64_t seconds) {
  // datetime.timedelta.__str__: "[D day[s], ]H:MM:SS" with days possibly negative.
  int64_t days = seconds / 86400, rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  const int64_t h = rem / 3600, m = (rem % 3600) / 60, s = rem % 60;
  std::string out;
  if (days != 0) out = fmt::format("{} day{}, ", days, (days == 1 || days == -1) ? "" : "s");
  out += fmt::format("{}:{:02d}:{:02d}", h, m, s);
  return out;
}

namespace {

// num2words' intermediate structure: a (text, value) pair or a list of such nodes.
struct WordNode {
  bool is_list = false;
  std::string text;
  int64_t num = 0;
  std::vector<WordNode> items;
};

WordNode word_leaf(std::string text, int64_t num) {
  WordNode n;
  n.text = std::move(text);
  n.num = num;
  return n;
}

WordNode word_list(std::vector<WordNode> items) {
  WordNode n;
  n.is_list = true;
  n.items = std::move(items);
  return n;
}

// Num2Word_EN's cards, in the OrderedDict's order (high, mid, then low words, descending).
struct Card {
  int64_t value;
  const char* word;
};
constexpr Card kCards[] = {
    {1'000'000'000'000, "trillion"}, {1'000'000'000, "billion"}, {1'000'000, "million"},
    {1000, "thousand"}, {100, "hundred"}, {90, "ninety"}, {80, "eighty"}, {70, "seventy"}, {60, "sixty"},
    {50, "fifty"}, {40, "forty"}, {30, "thirty"}, {20, "twenty"}, {19, "nineteen"}, {18, "eighteen"},
    {17, "seventeen"}, {16, "sixteen"}, {15, "fifteen"}, {14, "fourteen"}, {13, "thirteen"}, {12, "twelve"},
    {11, "eleven"}, {10, "ten"}, {9, "nine"}, {8, "eight"}, {7, "seven"}, {6, "six"}, {5, "five"},
    {4, "four"}, {3, "three"}, {2, "two"}, {1, "one"}, {0, "zero"}};

// ref: num2words base.py Num2Word_Base.splitnum.
std::vector<WordNode> splitnum(int64_t value) {
  for (const Card& card : kCards) {
    if (card.value > value) continue;
    std::vector<WordNode> out;
    int64_t div = 1, mod = 0;
    if (value != 0) {
      div = value / card.value;
      mod = value % card.value;
    }
    if (div == 1) {
      out.push_back(word_leaf("one", 1));
    } else {
      // (the "div == value" tally branch needs a card of value 1 used for value > 1, which
      // English cards never produce: every number below 21 has its own card)
      out.push_back(word_list(splitnum(div)));
    }
    out.push_back(word_leaf(card.word, card.value));
    if (mod != 0) out.push_back(word_list(splitnum(mod)));
    return out;
  }
  fail("number_to_words_en: no card for {}", value);
}

// ref: num2words lang_EN.py Num2Word_EN.merge.
WordNode merge(const WordNode& l, const WordNode& r) {
  if (l.num == 1 && r.num < 100) return word_leaf(r.text, r.num);
  if (100 > l.num && l.num > r.num) return word_leaf(l.text + "-" + r.text, l.num + r.num);
  if (l.num >= 100 && 100 > r.num) return word_leaf(l.text + " and " + r.text, l.num + r.num);
  if (r.num > l.num) return word_leaf(l.text + " " + r.text, l.num * r.num);
  return word_leaf(l.text + ", " + r.text, l.num + r.num);
}

// ref: num2words base.py Num2Word_Base.clean.
WordNode clean(std::vector<WordNode> val) {
  std::vector<WordNode> out = val;
  while (val.size() != 1) {
    out.clear();
    if (!val[0].is_list && !val[1].is_list) {
      out.push_back(merge(val[0], val[1]));
      if (val.size() > 2) out.push_back(word_list(std::vector<WordNode>(val.begin() + 2, val.end())));
    } else {
      for (WordNode& elem : val) {
        if (elem.is_list) {
          if (elem.items.size() == 1)
            out.push_back(std::move(elem.items[0]));
          else
            out.push_back(clean(std::move(elem.items)));
        } else {
          out.push_back(std::move(elem));
        }
      }
    }
    val = out;
  }
  return out[0];
}

}  // namespace

std::string number_to_words_en(int64_t n) {
  if (n < 0 || n >= 1'000'000'000'000'000) fail("number_to_words_en: {} is out of range", n);
  const WordNode w = clean(splitnum(n));
  if (w.is_list) fail("number_to_words_en: could not reduce {}", n);
  return w.text;
}

}  // namespace pocket
