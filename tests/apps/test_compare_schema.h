// A small JSON Schema (draft 2020-12) validator for the keywords docs/compare.schema.json uses:
// $ref (to "#/$defs/..."), type (one or a list), const, enum, properties, required,
// additionalProperties (false), items, minItems, minimum, maximum, exclusiveMinimum.
// Any other keyword (besides annotations) is reported as an error, so the schema cannot
// silently rely on something this validator does not check.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pocket::test {

class SchemaLite {
 public:
  explicit SchemaLite(nlohmann::json schema) : root_(std::move(schema)) {}

  // Errors as "path: message"; empty when the instance is valid.
  std::vector<std::string> validate(const nlohmann::json& instance) const {
    std::vector<std::string> errors;
    check(root_, instance, "$", errors, 0);
    return errors;
  }

 private:
  static bool is_type(const nlohmann::json& v, const std::string& t) {
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "string") return v.is_string();
    if (t == "boolean") return v.is_boolean();
    if (t == "null") return v.is_null();
    if (t == "number") return v.is_number();
    if (t == "integer") {
      if (v.is_number_integer()) return true;
      return v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<long long>(v.get<double>()));
    }
    return false;
  }

  const nlohmann::json& resolve(const std::string& ref, std::vector<std::string>& errors, const std::string& path) const {
    static const nlohmann::json empty = nlohmann::json::object();
    const std::string prefix = "#/$defs/";
    if (ref.rfind(prefix, 0) != 0 || !root_.contains("$defs") || !root_["$defs"].contains(ref.substr(prefix.size()))) {
      errors.push_back(path + ": unresolvable $ref " + ref);
      return empty;
    }
    return root_["$defs"][ref.substr(prefix.size())];
  }

  void check(const nlohmann::json& s, const nlohmann::json& v, const std::string& path, std::vector<std::string>& errors,
             int depth) const {
    if (depth > 64) {
      errors.push_back(path + ": $ref recursion too deep");
      return;
    }
    if (!s.is_object()) {
      errors.push_back(path + ": schema is not an object");
      return;
    }
    for (auto it = s.begin(); it != s.end(); ++it) {
      const std::string& k = it.key();
      static const char* known[] = {"$schema", "$id", "title", "description", "$defs", "$ref", "type", "const", "enum",
                                    "properties", "required", "additionalProperties", "items", "minItems", "minimum",
                                    "maximum", "exclusiveMinimum"};
      if (std::find(std::begin(known), std::end(known), k) == std::end(known))
        errors.push_back(path + ": schema keyword '" + k + "' is not supported by this validator");
    }
    if (s.contains("$ref")) check(resolve(s["$ref"].get<std::string>(), errors, path), v, path, errors, depth + 1);
    if (s.contains("type")) {
      const nlohmann::json& t = s["type"];
      bool ok = false;
      if (t.is_string()) ok = is_type(v, t.get<std::string>());
      else
        for (const auto& x : t) ok = ok || is_type(v, x.get<std::string>());
      if (!ok) {
        errors.push_back(path + ": expected type " + t.dump() + ", got " + v.dump().substr(0, 80));
        return;
      }
    }
    if (s.contains("const") && v != s["const"]) errors.push_back(path + ": expected " + s["const"].dump());
    if (s.contains("enum") && std::find(s["enum"].begin(), s["enum"].end(), v) == s["enum"].end())
      errors.push_back(path + ": " + v.dump() + " not in " + s["enum"].dump());
    if (v.is_number()) {
      const double x = v.get<double>();
      if (s.contains("minimum") && x < s["minimum"].get<double>()) errors.push_back(path + ": below minimum");
      if (s.contains("maximum") && x > s["maximum"].get<double>()) errors.push_back(path + ": above maximum");
      if (s.contains("exclusiveMinimum") && x <= s["exclusiveMinimum"].get<double>())
        errors.push_back(path + ": " + v.dump() + " is not > " + s["exclusiveMinimum"].dump());
    }
    if (v.is_object()) {
      if (s.contains("required"))
        for (const auto& r : s["required"])
          if (!v.contains(r.get<std::string>())) errors.push_back(path + ": missing required '" + r.get<std::string>() + "'");
      for (auto it = v.begin(); it != v.end(); ++it) {
        const std::string sub = path + "." + it.key();
        if (s.contains("properties") && s["properties"].contains(it.key()))
          check(s["properties"][it.key()], it.value(), sub, errors, depth);
        else if (s.contains("additionalProperties") && s["additionalProperties"] == false)
          errors.push_back(sub + ": property not allowed");
      }
    }
    if (v.is_array()) {
      if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) errors.push_back(path + ": too few items");
      if (s.contains("items"))
        for (size_t i = 0; i < v.size(); ++i) check(s["items"], v[i], path + "[" + std::to_string(i) + "]", errors, depth);
    }
  }

  nlohmann::json root_;
};

}  // namespace pocket::test
