// String formatting builtins: str.format() with format specs, printf-style `%`
// formatting, and strftime for strftime_now(). Formatting follows CPython
// (Python/formatter_unicode.c, Objects/unicodeobject.c PyUnicode_Format); strftime
// implements glibc's directives itself so the result never depends on the C locale.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "chat/jinja_interp.h"
#include "chat/jinja_text.h"

namespace pocket::jinja {
namespace {

[[noreturn]] void value_error(const std::string& msg) { throw TemplateError("ValueError: " + msg, 0); }

struct Spec {
  char32_t fill = ' ';
  char align = 0;  // < > ^ =
  char sign = 0;   // + - space
  bool alt = false;
  bool zero = false;
  int width = -1;
  char grouping = 0;
  int precision = -1;
  char type = 0;
};

Spec parse_spec(std::string_view s) {
  Spec sp;
  const std::u32string u = to_u32(s);
  size_t i = 0;
  auto is_align = [](char32_t c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (u.size() >= 2 && is_align(u[1])) {
    sp.fill = u[0];
    sp.align = static_cast<char>(u[1]);
    i = 2;
  } else if (!u.empty() && is_align(u[0])) {
    sp.align = static_cast<char>(u[0]);
    i = 1;
  }
  if (i < u.size() && (u[i] == '+' || u[i] == '-' || u[i] == ' ')) sp.sign = static_cast<char>(u[i++]);
  if (i < u.size() && u[i] == '#') {
    sp.alt = true;
    ++i;
  }
  if (i < u.size() && u[i] == '0') {
    sp.zero = true;
    ++i;
  }
  auto number = [&]() {
    int v = 0;
    bool any = false;
    while (i < u.size() && u[i] >= '0' && u[i] <= '9') {
      v = v * 10 + static_cast<int>(u[i++] - '0');
      if (v > 100000) value_error("Too many decimal digits in format string");
      any = true;
    }
    return any ? v : -1;
  };
  sp.width = number();
  if (i < u.size() && (u[i] == ',' || u[i] == '_')) sp.grouping = static_cast<char>(u[i++]);
  if (i < u.size() && u[i] == '.') {
    ++i;
    sp.precision = number();
    if (sp.precision < 0) value_error("Format specifier missing precision");
  }
  if (i < u.size()) sp.type = static_cast<char>(u[i++]);
  if (i < u.size()) value_error("Invalid format specifier");
  return sp;
}

std::string pad(const std::string& body, const Spec& sp, char default_align, size_t sign_len = 0) {
  const auto len = static_cast<int>(cp_length(body));
  if (sp.width <= len) return body;
  const int n = sp.width - len;
  char align = sp.align ? sp.align : default_align;
  char32_t fill = sp.fill;
  if (sp.zero && !sp.align) {
    align = '=';
    fill = '0';
  }
  std::string f;
  append_utf8(f, fill);
  auto rep = [&](int k) {
    std::string r;
    for (int j = 0; j < k; ++j) r += f;
    return r;
  };
  if (align == '<') return body + rep(n);
  if (align == '^') return rep(n / 2) + body + rep(n - n / 2);
  if (align == '=') return body.substr(0, sign_len) + rep(n) + body.substr(sign_len);
  return rep(n) + body;
}

std::string group_digits(const std::string& digits, char sep) {
  std::string out;
  const size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out += sep;
    out += digits[i];
  }
  return out;
}

std::string format_int(int64_t v, const Spec& sp) {
  const char type = sp.type ? sp.type : 'd';
  const bool neg = v < 0;
  const uint64_t mag = neg ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  std::string digits;
  std::string prefix;
  char buf[80];
  switch (type) {
    case 'd': case 'n': std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(mag)); break;
    case 'x': std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(mag)); prefix = "0x"; break;
    case 'X': std::snprintf(buf, sizeof buf, "%llX", static_cast<unsigned long long>(mag)); prefix = "0X"; break;
    case 'o': std::snprintf(buf, sizeof buf, "%llo", static_cast<unsigned long long>(mag)); prefix = "0o"; break;
    case 'b': {
      std::string b;
      for (uint64_t m = mag; m; m >>= 1) b.insert(b.begin(), static_cast<char>('0' + (m & 1)));
      std::snprintf(buf, sizeof buf, "%s", b.empty() ? "0" : b.c_str());
      prefix = "0b";
      break;
    }
    case 'c': {
      std::string c;
      append_utf8(c, static_cast<char32_t>(mag));
      return pad(c, sp, '<');
    }
    default: value_error(std::string("Unknown format code '") + type + "' for object of type 'int'");
  }
  digits = buf;
  if (sp.grouping) digits = group_digits(digits, sp.grouping);
  std::string sign = neg ? "-" : (sp.sign == '+' ? "+" : (sp.sign == ' ' ? " " : ""));
  if (sp.alt) sign += prefix;
  return pad(sign + digits, sp, '>', sign.size());
}

std::string format_float(double v, const Spec& sp, bool from_int) {
  char type = sp.type;
  std::string body;
  const bool neg = std::signbit(v) && !std::isnan(v);
  const double mag = std::fabs(v);
  int prec = sp.precision;
  if (std::isnan(v) || std::isinf(v)) {
    body = std::isnan(v) ? "nan" : "inf";
    if (type == 'F' || type == 'E' || type == 'G') body = std::isnan(v) ? "NAN" : "INF";
  } else if (type == 0 && prec < 0) {
    body = from_int ? std::to_string(static_cast<int64_t>(mag)) : py_repr_float(mag);
  } else {
    if (prec < 0) prec = 6;
    char buf[512];
    char conv = type;
    bool percent = false;
    double x = mag;
    if (type == '%') {
      percent = true;
      conv = 'f';
      x *= 100;
    } else if (type == 0) {
      conv = 'g';
      if (prec == 0) prec = 1;
    }
    if (conv != 'f' && conv != 'F' && conv != 'e' && conv != 'E' && conv != 'g' && conv != 'G') {
      value_error(std::string("Unknown format code '") + type + "' for object of type 'float'");
    }
    if (x >= 1e300 && (conv == 'f' || conv == 'F')) value_error("float too large to format");
    char fmtbuf[16];
    std::snprintf(fmtbuf, sizeof fmtbuf, "%%%s.*%c", sp.alt ? "#" : "", conv);
    std::snprintf(buf, sizeof buf, fmtbuf, prec, x);
    body = buf;
    if (type == 0 && body.find_first_of(".e") == std::string::npos && body != "inf") body += ".0";
    if (percent) body += '%';
  }
  if (sp.grouping) {
    const size_t dot = body.find_first_of(".e%");
    body = group_digits(body.substr(0, dot), sp.grouping) + (dot == std::string::npos ? "" : body.substr(dot));
  }
  const std::string sign = neg ? "-" : (sp.sign == '+' ? "+" : (sp.sign == ' ' ? " " : ""));
  return pad(sign + body, sp, '>', sign.size());
}

std::string format_value(const Value& v, std::string_view spec_text) {
  const Spec sp = parse_spec(spec_text);
  if (v.is_integral() && !(v.is_bool() && sp.type == 0 && spec_text.empty())) {
    if (sp.type == 0 || sp.type == 'd' || sp.type == 'x' || sp.type == 'X' || sp.type == 'o' || sp.type == 'b' ||
        sp.type == 'c' || sp.type == 'n') {
      if (v.is_bool() && sp.type == 0 && sp.precision < 0 && sp.width < 0) return to_str(v);
      return format_int(v.as_int(), sp);
    }
    return format_float(v.as_float(), sp, true);
  }
  if (v.is_float()) return format_float(v.as_float(), sp, false);
  if (sp.type != 0 && sp.type != 's') {
    value_error(std::string("Unknown format code '") + sp.type + "' for object of type '" + type_name(v) + "'");
  }
  if (sp.sign) value_error("Sign not allowed in string format specifier");
  std::string s = to_str(v);
  if (sp.precision >= 0 && static_cast<size_t>(sp.precision) < cp_length(s)) {
    const std::u32string u = to_u32(s);
    s = to_utf8(std::u32string_view(u).substr(0, static_cast<size_t>(sp.precision)));
  }
  return pad(s, sp, '<');
}

}  // namespace

std::string py_format(Interp& in, const std::string& fmt, const CallArgs& args, bool escape) {
  std::string out;
  size_t auto_index = 0;
  bool used_auto = false, used_manual = false;
  for (size_t i = 0; i < fmt.size();) {
    const char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        out += '}';
        i += 2;
        continue;
      }
      value_error("Single '}' encountered in format string");
    }
    if (c != '{') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      i += 2;
      continue;
    }
    // Find the matching close brace (nested braces only appear in the spec).
    size_t j = i + 1;
    int nest = 1;
    while (j < fmt.size() && nest > 0) {
      if (fmt[j] == '{') ++nest;
      if (fmt[j] == '}') --nest;
      if (nest > 0) ++j;
    }
    if (j >= fmt.size()) value_error("expected '}' before end of string");
    std::string field = fmt.substr(i + 1, j - i - 1);
    i = j + 1;
    std::string spec, conv;
    const size_t colon = field.find(':');
    if (colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field.resize(colon);
    }
    const size_t bang = field.find('!');
    if (bang != std::string::npos) {
      conv = field.substr(bang + 1);
      field.resize(bang);
    }
    if (spec.find('{') != std::string::npos) spec = py_format(in, spec, args);
    size_t k = 0;
    while (k < field.size() && field[k] != '.' && field[k] != '[') ++k;
    const std::string head = field.substr(0, k);
    Value v;
    if (head.empty()) {
      if (used_manual) value_error("cannot switch from manual field specification to automatic field numbering");
      used_auto = true;
      if (auto_index >= args.pos.size()) {
        throw TemplateError("IndexError: Replacement index " + std::to_string(auto_index) +
                                " out of range for positional args tuple", 0);
      }
      v = args.pos[auto_index++];
    } else if (head.find_first_not_of("0123456789") == std::string::npos) {
      if (used_auto) value_error("cannot switch from automatic field numbering to manual field specification");
      used_manual = true;
      const size_t idx = head.size() > 9 ? SIZE_MAX : std::stoul(head);
      if (idx >= args.pos.size()) {
        throw TemplateError("IndexError: Replacement index " + head + " out of range for positional args tuple", 0);
      }
      v = args.pos[idx];
    } else {
      const Value* found = nullptr;
      for (const auto& kv : args.kw) {
        if (kv.first == head) found = &kv.second;
      }
      if (found == nullptr) throw TemplateError("KeyError: " + py_repr_str(head), 0);
      v = *found;
    }
    while (k < field.size()) {
      if (field[k] == '.') {
        size_t e = k + 1;
        while (e < field.size() && field[e] != '.' && field[e] != '[') ++e;
        v = in.getattr(v, field.substr(k + 1, e - k - 1));
        k = e;
      } else {
        const size_t e = field.find(']', k);
        if (e == std::string::npos) value_error("Missing ']' in format string");
        const std::string key = field.substr(k + 1, e - k - 1);
        const bool numeric = !key.empty() && key.find_first_not_of("0123456789") == std::string::npos && key.size() < 10;
        v = in.getitem(v, numeric ? Value::integer(std::stoll(key)) : Value::string(key));
        k = e + 1;
      }
      if (v.is_undefined()) raise_undefined(v);
    }
    if (conv == "r" || conv == "a") {
      v = Value::string(repr(v));
    } else if (conv == "s") {
      v = Value::string(to_str(v));
    } else if (!conv.empty()) {
      value_error("Unknown conversion specifier " + conv);
    }
    out += escape && !v.is_markup() ? html_escape(format_value(v, spec)) : format_value(v, spec);
    in.check_size(out.size());
  }
  in.charge_bytes(out.size());
  return out;
}

std::string py_percent_format(Interp& in, const std::string& fmt, const Value& args, bool escape) {
  std::vector<Value> pos;
  const bool mapping = args.is_dict();
  // PyUnicode_Format skips the "not all arguments converted" check for any argument with
  // __getitem__ (lists, dicts...), only tuples are spread.
  const bool getitem_arg = mapping || (args.kind() == Kind::kList && !args.has_tag(ListData::Tag::kTuple)) || args.is_undefined();
  if (args.has_tag(ListData::Tag::kTuple)) {
    pos = args.items();
  } else {
    pos.push_back(args);
  }
  size_t next = 0;
  std::string out;
  for (size_t i = 0; i < fmt.size();) {
    if (fmt[i] != '%') {
      out += fmt[i++];
      continue;
    }
    ++i;
    if (i >= fmt.size()) value_error("incomplete format");
    Value v;
    bool have = false;
    if (fmt[i] == '(') {
      const size_t e = fmt.find(')', i);
      if (e == std::string::npos) value_error("incomplete format key");
      if (!mapping) type_error("format requires a mapping");
      const Value* found = args.dict().find(std::string_view(fmt).substr(i + 1, e - i - 1));
      if (found == nullptr) throw TemplateError("KeyError: " + py_repr_str(fmt.substr(i + 1, e - i - 1)), 0);
      v = *found;
      have = true;
      i = e + 1;
    }
    Spec sp;
    bool left = false;
    while (i < fmt.size() && std::strchr("-+ #0", fmt[i]) != nullptr) {
      if (fmt[i] == '-') left = true;
      if (fmt[i] == '+') sp.sign = '+';
      if (fmt[i] == ' ' && sp.sign != '+') sp.sign = ' ';
      if (fmt[i] == '#') sp.alt = true;
      if (fmt[i] == '0') sp.zero = true;
      ++i;
    }
    auto number = [&]() {
      int n = 0;
      while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') {
        n = n * 10 + (fmt[i++] - '0');
        if (n > 100000) value_error("width too big");
      }
      return n;
    };
    if (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') sp.width = number();
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      sp.precision = number();
    }
    if (i >= fmt.size()) value_error("incomplete format");
    const char conv = fmt[i++];
    if (conv == '%') {
      out += '%';
      continue;
    }
    if (!have) {
      if (mapping) {
        v = args;
      } else {
        if (next >= pos.size()) type_error("not enough arguments for format string");
        v = pos[next++];
      }
    }
    if (left) {
      sp.align = '<';
      sp.zero = false;
    }
    std::string piece;
    switch (conv) {
      case 's': piece = escape && !v.is_markup() ? html_escape(to_str(v)) : to_str(v); break;
      case 'r': case 'a': piece = escape ? html_escape(repr(v)) : repr(v); break;
      case 'd': case 'i': case 'u':
        if (!v.is_number()) type_error("%" + std::string(1, conv) + " format: a real number is required, not " + type_name(v));
        sp.type = 'd';
        piece = format_int(v.is_float() ? static_cast<int64_t>(v.as_float()) : v.as_int(), sp);
        break;
      case 'x': case 'X': case 'o':
        if (!v.is_integral()) type_error("%" + std::string(1, conv) + " format: an integer is required, not " + type_name(v));
        sp.type = conv;
        piece = format_int(v.as_int(), sp);
        break;
      case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
        if (!v.is_number()) type_error("must be real number, not " + type_name(v));
        sp.type = conv;
        piece = format_float(v.as_float(), sp, false);
        break;
      case 'c': {
        if (v.is_string()) {
          piece = v.str();
        } else {
          piece.clear();
          append_utf8(piece, static_cast<char32_t>(v.as_int()));
        }
        break;
      }
      default:
        value_error("unsupported format character " + py_repr_str(std::string(1, conv)));
    }
    if (conv == 's' || conv == 'r' || conv == 'a' || conv == 'c') {
      if (sp.precision >= 0 && static_cast<size_t>(sp.precision) < cp_length(piece)) {
        piece = to_utf8(to_u32(piece).substr(0, static_cast<size_t>(sp.precision)));
      }
      Spec s2;
      s2.width = sp.width;
      s2.align = left ? '<' : '>';
      piece = pad(piece, s2, '>');
    }
    out += piece;
    in.check_size(out.size());
  }
  in.charge_bytes(out.size());
  if (!getitem_arg && next < pos.size()) type_error("not all arguments converted during string formatting");
  return out;
}

// strftime with glibc's directive set (Python's datetime.strftime hands the format to the
// C library after expanding %f, %z and %Z itself).
std::string format_clock(const Clock& c, const std::string& fmt) {
  static const char* kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
  static const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                  "July",    "August",   "September", "October", "November", "December"};
  // Days since 1970-01-01 (Howard Hinnant's days_from_civil) gives the weekday.
  const int y = c.month <= 2 ? c.year - 1 : c.year;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int mp = (c.month + 9) % 12;
  const int doy = (153 * mp + 2) / 5 + c.day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const long days = static_cast<long>(era) * 146097 + doe - 719468;
  const int wday = static_cast<int>(((days % 7) + 11) % 7);  // 0 = Sunday
  static const int kCum[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  const bool leap = (c.year % 4 == 0 && c.year % 100 != 0) || c.year % 400 == 0;
  const int yday = kCum[(c.month - 1) % 12] + c.day - 1 + (leap && c.month > 2 ? 1 : 0);
  std::string out;
  char buf[64];
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%' || i + 1 >= fmt.size()) {
      out += fmt[i];
      continue;
    }
    char flag = 0;
    char d = fmt[++i];
    if ((d == '-' || d == '_' || d == '0' || d == '^') && i + 1 < fmt.size()) {
      flag = d;
      d = fmt[++i];
    }
    auto num = [&](int v, int width, char padc) {
      if (flag == '-') {
        std::snprintf(buf, sizeof buf, "%d", v);
      } else if (flag == '_' || (padc == ' ' && flag != '0')) {
        std::snprintf(buf, sizeof buf, "%*d", width, v);
      } else {
        std::snprintf(buf, sizeof buf, "%0*d", width, v);
      }
      out += buf;
    };
    auto text = [&](std::string s) {
      if (flag == '^') {
        for (auto& ch : s) ch = static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
      }
      out += s;
    };
    const int hour12 = c.hour % 12 == 0 ? 12 : c.hour % 12;
    switch (d) {
      case 'a': text(std::string(kDays[wday]).substr(0, 3)); break;
      case 'A': text(kDays[wday]); break;
      case 'b': case 'h': text(std::string(kMonths[(c.month - 1) % 12]).substr(0, 3)); break;
      case 'B': text(kMonths[(c.month - 1) % 12]); break;
      case 'C': num(c.year / 100, 2, '0'); break;
      case 'd': num(c.day, 2, '0'); break;
      case 'e': num(c.day, 2, ' '); break;
      case 'f': std::snprintf(buf, sizeof buf, "%06d", c.microsecond); out += buf; break;
      case 'H': num(c.hour, 2, '0'); break;
      case 'I': num(hour12, 2, '0'); break;
      case 'j': num(yday + 1, 3, '0'); break;
      case 'k': num(c.hour, 2, ' '); break;
      case 'l': num(hour12, 2, ' '); break;
      case 'm': num(c.month, 2, '0'); break;
      case 'M': num(c.minute, 2, '0'); break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'p': text(c.hour < 12 ? "AM" : "PM"); break;
      case 'P': out += c.hour < 12 ? "am" : "pm"; break;
      case 'S': num(c.second, 2, '0'); break;
      case 'u': num(wday == 0 ? 7 : wday, 1, '0'); break;
      case 'w': num(wday, 1, '0'); break;
      case 'U': num((yday + 7 - wday) / 7, 2, '0'); break;
      case 'W': num((yday + 7 - ((wday + 6) % 7)) / 7, 2, '0'); break;
      case 'y': num(c.year % 100, 2, '0'); break;
      case 'Y': num(c.year, flag == '0' ? 4 : 1, '0'); break;
      case 'z': case 'Z': break;  // naive datetime: empty
      case 'D': out += format_clock(c, "%m/%d/%y"); break;
      case 'F': out += format_clock(c, "%Y-%m-%d"); break;
      case 'T': out += format_clock(c, "%H:%M:%S"); break;
      case 'R': out += format_clock(c, "%H:%M"); break;
      case 'r': out += format_clock(c, "%I:%M:%S %p"); break;
      case 'c': out += format_clock(c, "%a %b %e %H:%M:%S %Y"); break;
      case 'x': out += format_clock(c, "%m/%d/%y"); break;
      case 'X': out += format_clock(c, "%H:%M:%S"); break;
      case '%': out += '%'; break;
      default:
        out += '%';
        if (flag) out += flag;
        out += d;
    }
  }
  return out;
}

}  // namespace pocket::jinja
