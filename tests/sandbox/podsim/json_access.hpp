#pragma once
// Tolerant reads of Kubernetes JSON for podsim: a missing key or a wrong type reads as null / "".
#include <string>

#include <nlohmann/json.hpp>

namespace canary_guard::podsim {

// Child of an object, or a shared null when `j` is not an object or has no such key.
inline const nlohmann::json& at(const nlohmann::json& j, const char* key) {
  static const nlohmann::json null_json;
  if (!j.is_object()) return null_json;
  const auto it = j.find(key);
  return it == j.end() ? null_json : *it;
}

inline std::string str(const nlohmann::json& j) { return j.is_string() ? j.get<std::string>() : std::string{}; }

}  // namespace canary_guard::podsim
