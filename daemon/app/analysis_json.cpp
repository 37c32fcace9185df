#include "daemon/app/analysis_json.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "config/rfc3339.hpp"
#include "probes/outcome.hpp"

namespace canary_guard::app {

namespace {

using nlohmann::json;

json render_check(const guard::CheckSnapshot& c) {
  json j = {{"name", c.name},
            {"last_outcome", c.last ? json(std::string(probes::to_string(*c.last))) : json(nullptr)},
            {"value", nullptr},
            {"detail", c.detail},
            {"at", c.at ? json(format_rfc3339_ms(*c.at)) : json(nullptr)},
            {"window", c.window},
            {"passed", c.passed},
            {"tripped", c.tripped}};
  if (c.value) {
    // JSON has no NaN or Inf; nlohmann would write null without saying which it was.
    if (std::isfinite(*c.value)) j["value"] = *c.value;
    else j["value_text"] = std::isnan(*c.value) ? "NaN" : (*c.value > 0 ? "+Inf" : "-Inf");
  }
  return j;
}

// Optional string field: absent or null -> "", a string -> it, anything else -> false (the entry is dropped).
bool opt_string(const json& o, const char* key, std::string& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

bool req_string(const json& o, const char* key, std::string& out) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_string()) return false;
  out = it->get<std::string>();
  return !out.empty();
}

bool opt_bool(const json& o, const char* key, bool& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return true;
  if (!it->is_boolean()) return false;
  out = it->get<bool>();
  return true;
}

std::optional<LiveCheck> parse_check(const json& j) {
  if (!j.is_object()) return std::nullopt;
  LiveCheck c;
  if (!req_string(j, "name", c.name)) return std::nullopt;
  if (!opt_string(j, "last_outcome", c.last_outcome) || !opt_string(j, "detail", c.detail) ||
      !opt_string(j, "at", c.at) || !opt_string(j, "window", c.window) || !opt_string(j, "value_text", c.value_text) ||
      !opt_bool(j, "passed", c.passed) || !opt_bool(j, "tripped", c.tripped))
    return std::nullopt;
  if (auto v = j.find("value"); v != j.end() && !v->is_null()) {
    if (!v->is_number()) return std::nullopt;
    const double d = v->get<double>();
    if (std::isfinite(d)) c.value = d;  // defensive: nlohmann rejects out-of-range literals today
  }
  return c;
}

std::optional<LiveEntry> parse_entry(const json& j) {
  if (!j.is_object()) return std::nullopt;
  LiveEntry e;
  if (!req_string(j, "kind", e.kind) || !req_string(j, "namespace", e.ns) || !req_string(j, "workload", e.workload) ||
      !req_string(j, "revision_hash", e.revision_hash))
    return std::nullopt;
  auto checks = j.find("checks");
  if (checks == j.end() || !checks->is_array()) return std::nullopt;
  for (const auto& cj : *checks) {
    auto c = parse_check(cj);
    if (!c) return std::nullopt;
    e.checks.push_back(std::move(*c));
  }
  return e;
}

}  // namespace

std::string render_analysis(const std::vector<guard::AnalysisSnapshot>& snapshot) {
  json arr = json::array();
  for (const auto& s : snapshot) {
    json checks = json::array();
    for (const auto& c : s.checks) checks.push_back(render_check(c));
    arr.push_back({{"kind", std::string(guard::to_string(s.key.kind))},
                   {"namespace", s.key.ns},
                   {"workload", s.key.name},
                   {"revision_hash", s.revision_hash},
                   {"checks", std::move(checks)}});
  }
  // A detail may quote a Prometheus error verbatim: never throw on bytes that are not UTF-8.
  return arr.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

Expected<std::vector<LiveEntry>, std::string> parse_analysis_entries(std::string_view body) {
  try {
    const json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return unexpected(std::string("not JSON"));
    if (!doc.is_array()) return unexpected(std::string("not a JSON array"));
    std::vector<LiveEntry> out;
    for (const auto& j : doc)
      if (auto e = parse_entry(j)) out.push_back(std::move(*e));
    return out;
  } catch (const json::exception& e) {  // defensive: every access above is type-checked
    return unexpected(std::string("bad JSON: ") + e.what());
  }
}

}  // namespace canary_guard::app
