// Errors raised while parsing or rendering a chat template. Every failure of the Jinja
// engine is a TemplateError (a pocket::Error), carrying the template line where known.
// A template's own raise_exception(msg) becomes a TemplateRaised whose what() is exactly
// msg, so callers can show the model author's message verbatim.
#pragma once

#include <string>

#include "core/error.h"

namespace pocket {

class TemplateError : public Error {
 public:
  TemplateError(std::string message, int line) : Error(message), message_(std::move(message)), line_(line) {
    format();
  }
  const char* what() const noexcept override { return formatted_.c_str(); }
  const std::string& message() const { return message_; }
  int line() const { return line_; }  // 0 when unknown
  void set_line(int line) {
    line_ = line;
    format();
  }
  virtual bool raised_by_template() const { return false; }

 protected:
  virtual void format() {
    formatted_ = line_ > 0 ? "template error (line " + std::to_string(line_) + "): " + message_
                           : "template error: " + message_;
  }
  std::string message_;
  int line_;
  std::string formatted_;
};

// raise_exception(msg) called by the template: what() is msg verbatim.
class TemplateRaised : public TemplateError {
 public:
  TemplateRaised(std::string message, int line) : TemplateError(std::move(message), line) { format(); }
  bool raised_by_template() const override { return true; }

 protected:
  void format() override { formatted_ = message_; }
};

}  // namespace pocket
