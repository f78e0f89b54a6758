// Jinja filters over sequences and mappings (first, last, join, map, select*, reject*,
// sort, dictsort, unique, groupby, min/max, sum, batch, slice, list, items, reverse).
// Filters that are generators in jinja2 (map, select, reverse, unique, batch...) return
// one-shot generator values: truthy, not len()-able, printed as a generator object.
// ref: pallets/jinja src/jinja2/filters.py
#include <algorithm>

#include "chat/jinja_filters.h"
#include "chat/jinja_text.h"

namespace pocket::jinja {

Value ignore_case(const Value& v) { return v.is_string() ? Value::string(py_lower(v.str())) : v; }

static std::vector<Value> attribute_path(const Value& attr) {
  std::vector<Value> parts;
  if (attr.is_none()) return parts;
  if (!attr.is_string()) {
    parts.push_back(attr);
    return parts;
  }
  const std::string& s = attr.str();
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    const std::string part = s.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const bool digits = !part.empty() && part.size() < 19 && part.find_first_not_of("0123456789") == std::string::npos;
    parts.push_back(digits ? Value::integer(std::stoll(part)) : Value::string(part));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

AttrGetter::AttrGetter(const Value& attribute, bool lower, const Value* default_value, bool multi)
    : lower_(lower), multi_(multi), has_default_(default_value != nullptr && !default_value->is_none()) {
  if (has_default_) default_ = *default_value;
  if (multi && attribute.is_string()) {
    const std::string& s = attribute.str();
    size_t start = 0;
    while (true) {
      const size_t comma = s.find(',', start);
      paths_.push_back(attribute_path(Value::string(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start))));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  } else if (!attribute.is_none() || multi) {
    paths_.push_back(attribute_path(attribute));
  }
}

Value AttrGetter::get(Interp& in, const Value& item) const {
  std::vector<Value> keys;
  for (const auto& path : paths_) {
    Value v = item;
    for (const Value& part : path) {
      v = in.getitem(v, part);
      if (has_default_ && v.is_undefined()) v = default_;
    }
    keys.push_back(lower_ ? ignore_case(v) : v);
  }
  if (paths_.empty()) return lower_ ? ignore_case(item) : item;
  if (multi_) return Value::list(std::move(keys));
  return keys[0];
}

namespace {

const Value kNone = Value::none();

Value arg(const CallArgs& a, size_t i, std::string_view name, const Value& def) {
  const Value* v = a.get(i, name);
  return v ? *v : def;
}

std::vector<Value> items_of(const Value& v) {
  std::vector<Value> out;
  iterate(v, out);
  return out;
}

Value generator(std::vector<Value> items, std::string error = {}) {
  auto data = std::make_shared<ListData>();
  uint32_t depth = 0;
  for (const Value& item : items) depth = std::max(depth, value_depth(item));
  data->depth = depth + 1;
  data->items = std::move(items);
  data->tag = ListData::Tag::kGenerator;
  data->extra = std::move(error);
  return Value::list_data(std::move(data));
}

// Runs `fn` for each item eagerly; an error is deferred to whoever consumes the generator,
// as Python would only raise it then.
template <typename Fn>
Value lazy(const std::vector<Value>& items, Fn fn) {
  std::vector<Value> out;
  try {
    for (const Value& item : items) fn(item, out);
  } catch (const TemplateRaised&) {
    throw;
  } catch (const TemplateError& e) {
    return generator(std::move(out), e.message());
  }
  return generator(std::move(out));
}

Value f_first(Interp&, const Value& v, CallArgs& a) {
  a.check("first", 0, {});
  if (v.is_string()) {
    if (v.str().empty()) return Value::undefined("No first item, sequence was empty.");
    size_t i = 0;
    next_code_point(v.str(), i);
    return Value::string(v.str().substr(0, i));
  }
  std::vector<Value> items = items_of(v);
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items[0];
}

Value f_last(Interp&, const Value& v, CallArgs& a) {
  a.check("last", 0, {});
  if (v.has_tag(ListData::Tag::kGenerator)) type_error("'generator' object is not reversible");
  std::vector<Value> items = items_of(v);
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

Value f_list(Interp&, const Value& v, CallArgs& a) {
  a.check("list", 0, {});
  return Value::list(items_of(v));
}

Value f_join(Interp& in, const Value& v, CallArgs& a) {
  a.check("join", 2, {"d", "attribute"});
  const std::string sep = to_str(arg(a, 0, "d", Value::string("")));
  const Value& attribute = arg(a, 1, "attribute", kNone);
  std::vector<Value> items = items_of(v);
  AttrGetter getter(attribute, false);
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += to_str(attribute.is_none() ? items[i] : getter.get(in, items[i]));
    in.check_size(out.size());
  }
  return in.make_string(std::move(out));
}

Value f_reverse(Interp&, const Value& v, CallArgs& a) {
  a.check("reverse", 0, {});
  if (v.is_string()) {
    std::u32string u = to_u32(v.str());
    std::reverse(u.begin(), u.end());
    return v.is_markup() ? Value::markup(to_utf8(u)) : Value::string(to_utf8(u));
  }
  std::vector<Value> items = items_of(v);
  std::reverse(items.begin(), items.end());
  // reversed() of a list/tuple/dict is an iterator; anything else becomes a list.
  if (v.is_sequence_like() || v.is_dict() || v.has_tag(ListData::Tag::kKeys) || v.has_tag(ListData::Tag::kValues) ||
      v.has_tag(ListData::Tag::kItems)) {
    return generator(std::move(items));
  }
  return Value::list(std::move(items));
}

Value f_items(Interp&, const Value& v, CallArgs& a) {
  a.check("items", 0, {});
  if (v.is_undefined()) return generator({});
  if (!v.is_dict()) return generator({}, "TypeError: Can only get item pairs from a mapping.");
  std::vector<Value> out;
  for (const auto& kv : v.dict().items) out.push_back(Value::tuple({kv.first, kv.second}));
  return generator(std::move(out));
}

Value f_map(Interp& in, const Value& v, CallArgs& a) {
  if (!truthy(v)) return generator({});
  std::vector<Value> items = items_of(v);
  const Value* attribute = nullptr;
  for (const auto& kv : a.kw) {
    if (kv.first == "attribute") attribute = &kv.second;
  }
  if (a.pos.empty() && attribute != nullptr) {
    const Value* def = nullptr;
    for (const auto& kv : a.kw) {
      if (kv.first == "default") def = &kv.second;
      else if (kv.first != "attribute") throw TemplateError("FilterArgumentError: Unexpected keyword argument " + py_repr_str(kv.first), 0);
    }
    AttrGetter getter(*attribute, false, def);
    return lazy(items, [&](const Value& item, std::vector<Value>& out) { out.push_back(getter.get(in, item)); });
  }
  if (a.pos.empty()) throw TemplateError("FilterArgumentError: map requires a filter argument", 0);
  const std::string name = to_str(a.pos[0]);
  CallArgs rest;
  rest.pos.assign(a.pos.begin() + 1, a.pos.end());
  rest.kw = a.kw;
  return lazy(items, [&](const Value& item, std::vector<Value>& out) {
    CallArgs call = rest;
    out.push_back(in.filter(name, item, call));
  });
}

Value select_or_reject(Interp& in, const Value& v, CallArgs& a, bool select, bool lookup_attr) {
  if (!truthy(v)) return generator({});
  std::vector<Value> items = items_of(v);
  size_t off = 0;
  Value attr;
  if (lookup_attr) {
    if (a.pos.empty()) throw TemplateError("FilterArgumentError: Missing parameter for attribute name", 0);
    attr = a.pos[0];
    off = 1;
  }
  AttrGetter getter(attr, false);
  const bool has_test = a.pos.size() > off;
  const std::string test = has_test ? to_str(a.pos[off]) : std::string();
  CallArgs rest;
  if (has_test) rest.pos.assign(a.pos.begin() + static_cast<long>(off) + 1, a.pos.end());
  rest.kw = a.kw;
  return lazy(items, [&](const Value& item, std::vector<Value>& out) {
    const Value x = lookup_attr ? getter.get(in, item) : item;
    bool ok;
    if (has_test) {
      CallArgs call = rest;
      ok = in.test(test, x, call);
    } else {
      ok = truthy(x);
    }
    if (ok == select) out.push_back(item);
  });
}

Value f_select(Interp& in, const Value& v, CallArgs& a) { return select_or_reject(in, v, a, true, false); }
Value f_reject(Interp& in, const Value& v, CallArgs& a) { return select_or_reject(in, v, a, false, false); }
Value f_selectattr(Interp& in, const Value& v, CallArgs& a) { return select_or_reject(in, v, a, true, true); }
Value f_rejectattr(Interp& in, const Value& v, CallArgs& a) { return select_or_reject(in, v, a, false, true); }

// Python's sorted(): stable, `<` only, reverse keeps equal items in order.
void sort_by_key(Interp& in, std::vector<std::pair<Value, Value>>& keyed, bool reverse) {
  in.charge(keyed.size() * 4);
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    return reverse ? compare(y.first, x.first) == -1 : compare(x.first, y.first) == -1;
  });
}

Value f_sort(Interp& in, const Value& v, CallArgs& a) {
  a.check("sort", 3, {"reverse", "case_sensitive", "attribute"});
  const bool reverse = truthy(arg(a, 0, "reverse", Value::boolean(false)));
  const bool cs = truthy(arg(a, 1, "case_sensitive", Value::boolean(false)));
  const Value& attribute = arg(a, 2, "attribute", kNone);
  AttrGetter getter(attribute, !cs, nullptr, true);
  std::vector<std::pair<Value, Value>> keyed;
  for (const Value& item : items_of(v)) keyed.emplace_back(getter.get(in, item), item);
  sort_by_key(in, keyed, reverse);
  std::vector<Value> out;
  for (auto& kv : keyed) out.push_back(std::move(kv.second));
  return Value::list(std::move(out));
}

Value f_dictsort(Interp& in, const Value& v, CallArgs& a) {
  a.check("dictsort", 3, {"case_sensitive", "by", "reverse"});
  const bool cs = truthy(arg(a, 0, "case_sensitive", Value::boolean(false)));
  const std::string by = to_str(arg(a, 1, "by", Value::string("key")));
  const bool reverse = truthy(arg(a, 2, "reverse", Value::boolean(false)));
  if (by != "key" && by != "value") {
    throw TemplateError("FilterArgumentError: You can only sort by either \"key\" or \"value\"", 0);
  }
  if (!v.is_dict()) type_error("'" + type_name(v) + "' object has no attribute 'items'");
  std::vector<std::pair<Value, Value>> keyed;
  for (const auto& kv : v.dict().items) {
    const Value& k = by == "key" ? kv.first : kv.second;
    keyed.emplace_back(cs ? k : ignore_case(k), Value::tuple({kv.first, kv.second}));
  }
  sort_by_key(in, keyed, reverse);
  std::vector<Value> out;
  for (auto& kv : keyed) out.push_back(std::move(kv.second));
  return Value::list(std::move(out));
}

Value f_unique(Interp& in, const Value& v, CallArgs& a) {
  a.check("unique", 2, {"case_sensitive", "attribute"});
  const bool cs = truthy(arg(a, 0, "case_sensitive", Value::boolean(false)));
  AttrGetter getter(arg(a, 1, "attribute", kNone), !cs);
  std::vector<Value> seen;
  return lazy(items_of(v), [&](const Value& item, std::vector<Value>& out) {
    Value key = getter.get(in, item);
    if (key.is_dict() || key.has_tag(ListData::Tag::kList)) type_error("unhashable type: '" + type_name(key) + "'");
    in.charge(seen.size() / 8);
    for (const Value& s : seen) {
      if (equals(s, key)) return;
    }
    seen.push_back(key);
    out.push_back(item);
  });
}

Value min_or_max(Interp& in, const Value& v, CallArgs& a, bool want_max) {
  a.check(want_max ? "max" : "min", 2, {"case_sensitive", "attribute"});
  const bool cs = truthy(arg(a, 0, "case_sensitive", Value::boolean(false)));
  AttrGetter getter(arg(a, 1, "attribute", kNone), !cs);
  std::vector<Value> items = items_of(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  Value best_key = getter.get(in, items[0]);
  for (size_t i = 1; i < items.size(); ++i) {
    Value key = getter.get(in, items[i]);
    const int c = want_max ? compare(best_key, key) : compare(key, best_key);
    if (c == -1) {
      best = i;
      best_key = std::move(key);
    }
  }
  return items[best];
}

Value f_min(Interp& in, const Value& v, CallArgs& a) { return min_or_max(in, v, a, false); }
Value f_max(Interp& in, const Value& v, CallArgs& a) { return min_or_max(in, v, a, true); }

Value f_sum(Interp& in, const Value& v, CallArgs& a) {
  a.check("sum", 2, {"attribute", "start"});
  const Value& attribute = arg(a, 0, "attribute", kNone);
  Value total = arg(a, 1, "start", Value::integer(0));
  AttrGetter getter(attribute, false);
  for (const Value& item : items_of(v)) {
    if (total.is_string()) type_error("sum() can't sum strings [use ''.join(seq) instead]");
    total = binary_op(in, "+", total, getter.get(in, item));
  }
  return total;
}

Value f_batch(Interp& in, const Value& v, CallArgs& a) {
  a.check("batch", 2, {"linecount", "fill_with"});
  const Value* count_v = a.get(0, "linecount");
  if (count_v == nullptr || !count_v->is_integral()) type_error("batch() requires an integer linecount");
  const int64_t count = count_v->as_int();
  const Value& fill = arg(a, 1, "fill_with", kNone);
  std::vector<Value> items = items_of(v);
  std::vector<Value> out, tmp;
  for (const Value& item : items) {
    if (static_cast<int64_t>(tmp.size()) == count) {
      out.push_back(Value::list(std::move(tmp)));
      tmp.clear();
    }
    tmp.push_back(item);
  }
  if (!tmp.empty()) {
    if (!fill.is_none() && static_cast<int64_t>(tmp.size()) < count) {
      in.charge(static_cast<uint64_t>(count));
      if (count > 1'000'000) throw TemplateError("MemoryError: batch size is too large", 0);
      tmp.resize(static_cast<size_t>(count), fill);
    }
    out.push_back(Value::list(std::move(tmp)));
  }
  return generator(std::move(out));
}

Value f_slice(Interp&, const Value& v, CallArgs& a) {
  a.check("slice", 2, {"slices", "fill_with"});
  const Value* n_v = a.get(0, "slices");
  if (n_v == nullptr || !n_v->is_integral() || n_v->as_int() <= 0) type_error("slice() requires a positive slice count");
  const auto slices = static_cast<size_t>(std::min<int64_t>(n_v->as_int(), 1'000'000));
  const Value& fill = arg(a, 1, "fill_with", kNone);
  std::vector<Value> seq = items_of(v);
  const size_t per = seq.size() / slices;
  const size_t with_extra = seq.size() % slices;
  size_t offset = 0;
  std::vector<Value> out;
  for (size_t i = 0; i < slices; ++i) {
    const size_t start = offset + i * per;
    if (i < with_extra) ++offset;
    const size_t end = offset + (i + 1) * per;
    std::vector<Value> tmp(seq.begin() + static_cast<long>(start), seq.begin() + static_cast<long>(end));
    if (!fill.is_none() && i >= with_extra) tmp.push_back(fill);
    out.push_back(Value::list(std::move(tmp)));
  }
  return generator(std::move(out));
}

Value f_groupby(Interp& in, const Value& v, CallArgs& a) {
  a.check("groupby", 3, {"attribute", "default", "case_sensitive"});
  const Value* attribute = a.get(0, "attribute");
  if (attribute == nullptr) type_error("groupby() missing 1 required positional argument: 'attribute'");
  const Value& def = arg(a, 1, "default", kNone);
  const bool cs = truthy(arg(a, 2, "case_sensitive", Value::boolean(false)));
  AttrGetter key_of(*attribute, !cs, &def);
  AttrGetter out_key(*attribute, false, &def);
  std::vector<std::pair<Value, Value>> keyed;
  for (const Value& item : items_of(v)) keyed.emplace_back(key_of.get(in, item), item);
  sort_by_key(in, keyed, false);
  std::vector<Value> groups;
  for (size_t i = 0; i < keyed.size();) {
    size_t j = i;
    std::vector<Value> members;
    while (j < keyed.size() && equals(keyed[j].first, keyed[i].first)) members.push_back(keyed[j++].second);
    Value grouper = cs ? keyed[i].first : out_key.get(in, members[0]);
    auto data = std::make_shared<ListData>();
    data->items = {grouper, Value::list(std::move(members))};
    data->tag = ListData::Tag::kTuple;
    data->extra = "group";  // _GroupTuple: also exposes .grouper and .list
    data->depth = std::max(value_depth(data->items[0]), value_depth(data->items[1])) + 1;
    groups.push_back(Value::list_data(std::move(data)));
    i = j;
  }
  return Value::list(std::move(groups));
}

}  // namespace

void register_sequence_filters(FilterTable& t) {
  t["batch"] = f_batch;
  t["dictsort"] = f_dictsort;
  t["first"] = f_first;
  t["groupby"] = f_groupby;
  t["items"] = f_items;
  t["join"] = f_join;
  t["last"] = f_last;
  t["list"] = f_list;
  t["map"] = f_map;
  t["max"] = f_max;
  t["min"] = f_min;
  t["reject"] = f_reject;
  t["rejectattr"] = f_rejectattr;
  t["reverse"] = f_reverse;
  t["select"] = f_select;
  t["selectattr"] = f_selectattr;
  t["slice"] = f_slice;
  t["sort"] = f_sort;
  t["sum"] = f_sum;
  t["unique"] = f_unique;
}

}  // namespace pocket::jinja
