// Error type used at every boundary (io, media, apps): a bad file or request becomes
// a pocket::Error with a human-readable message, never a crash. Hot code asserts instead.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace pocket {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(fmt::format(f, std::forward<Args>(args)...));
}

// Checks a condition that depends on untrusted input.
#define POCKET_CHECK(cond, ...)              \
  do {                                       \
    if (!(cond)) ::pocket::fail(__VA_ARGS__); \
  } while (0)

}  // namespace pocket
