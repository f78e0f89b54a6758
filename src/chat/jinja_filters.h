// Internal: the filter table shared by the two filter implementation files (string/number
// filters in jinja_filters.cpp, sequence filters in jinja_filters_seq.cpp).
#pragma once

#include <map>
#include <string>

#include "chat/jinja_interp.h"

namespace pocket::jinja {

using FilterFn = Value (*)(Interp&, const Value&, CallArgs&);
using FilterTable = std::map<std::string, FilterFn, std::less<>>;

void register_sequence_filters(FilterTable& table);

// jinja2.filters.make_attrgetter / make_multi_attrgetter: dotted paths with integer parts,
// looked up with getitem semantics, optional default and case folding.
class AttrGetter {
 public:
  AttrGetter(const Value& attribute, bool lower, const Value* default_value = nullptr, bool multi = false);
  Value get(Interp& in, const Value& item) const;
  bool empty() const { return paths_.empty(); }

 private:
  std::vector<std::vector<Value>> paths_;
  bool lower_;
  bool multi_;
  bool has_default_;
  Value default_;
};

// ignore_case(): lower-cases strings, passes everything else through.
Value ignore_case(const Value& v);

}  // namespace pocket::jinja
