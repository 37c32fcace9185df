#pragma once
// Bounds checked before handing untrusted text to nlohmann's recursive parser.
#include <string_view>

namespace canary_guard::probes {

// True when no JSON array/object nests deeper than max_depth (strings skipped, escapes honoured).
inline bool json_depth_within(std::string_view body, int max_depth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

}  // namespace canary_guard::probes
