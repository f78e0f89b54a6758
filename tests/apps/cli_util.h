// Runs the built `pocket` binary and captures its output, for CLI contract tests.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "test_util.h"

namespace pocket::test {

struct CmdResult {
  int status = -1;
  std::string out;
  std::string err;
};

// The binary, behind the cross build's emulator when there is one (tests/CMakeLists.txt).
inline std::string pocket_bin() {
#ifdef POCKET_TEST_EMULATOR
  return std::string(POCKET_TEST_EMULATOR) + " " + binary_path("bin/pocket");
#else
  return binary_path("bin/pocket");
#endif
}

// `args` is appended to the binary path verbatim (quote it yourself).
inline CmdResult run_pocket(const std::string& args) {
  static int counter = 0;
  const std::string err_file = binary_path("cli_stderr_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".txt");
  const std::string cmd = pocket_bin() + " " + args + " 2>" + err_file;
  CmdResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  try {
    r.err = read_text(err_file);
  } catch (...) {
  }
  std::remove(err_file.c_str());
  return r;
}

// Single-quotes a string for the shell.
inline std::string shq(const std::string& s) {
  std::string o = "'";
  for (char c : s) {
    if (c == '\'') o += "'\\''";
    else o += c;
  }
  return o + "'";
}

}  // namespace pocket::test
