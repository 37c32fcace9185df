#include "probes/json_limits.hpp"
#include "probes/alerts.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include <nlohmann/json.hpp>

namespace canary_guard::probes {
namespace {

using nlohmann::json;

// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's days_from_civil).



// Reads exactly n digits at s[pos].

const TimePoint kZeroTime = *parse_rfc3339("0001-01-01T00:00:00Z");  // Go's zero time.Time

Expected<KeyValues, std::string> string_map(const json& j) {
  KeyValues out;
  if (j.is_null()) return out;
  if (!j.is_object()) return unexpected(std::string("not an object"));
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_string()) return unexpected("value of \"" + it.key() + "\" is not a string");
    out.emplace_back(it.key(), it.value().get<std::string>());
  }
  return out;
}


// Optional string field: absent/null -> "", wrong type -> error.
void opt_string(const json& obj, const char* key, std::string& out, const std::string& where, ValidationErrors& errs) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return;
  if (!it->is_string()) {
    errs.push_back(where + key + ": not a string");
    return;
  }
  out = it->get<std::string>();
}

void opt_map(const json& obj, const char* key, KeyValues& out, const std::string& where, ValidationErrors& errs) {
  auto it = obj.find(key);
  if (it == obj.end()) return;
  auto m = string_map(*it);
  if (!m) errs.push_back(where + key + ": " + m.error());
  else out = std::move(*m);
}

void parse_alert(const json& j, std::size_t index, Alert& a, ValidationErrors& errs) {
  const std::string where = "alerts[" + std::to_string(index) + "].";
  if (!j.is_object()) {
    errs.push_back(where.substr(0, where.size() - 1) + ": not an object");
    return;
  }
  opt_string(j, "status", a.status, where, errs);
  if (a.status != "firing" && a.status != "resolved") errs.push_back(where + "status: must be firing or resolved");
  auto labels = j.find("labels");
  if (labels == j.end()) {
    errs.push_back(where + "labels: missing");
  } else {
    auto m = string_map(*labels);
    if (!m) errs.push_back(where + "labels: " + m.error());
    else if (m->empty()) errs.push_back(where + "labels: empty");
    else a.labels = std::move(*m);
  }
  opt_map(j, "annotations", a.annotations, where, errs);
  opt_string(j, "startsAt", a.starts_at_text, where, errs);
  if (auto t = parse_rfc3339(a.starts_at_text)) {
    a.starts_at = *t;
  } else {
    errs.push_back(where + "startsAt: not RFC3339");
  }
  std::string ends;
  opt_string(j, "endsAt", ends, where, errs);
  if (!ends.empty()) {
    if (auto t = parse_rfc3339(ends)) {
      if (!is_zero_time(*t)) a.ends_at = *t;
    } else {
      errs.push_back(where + "endsAt: not RFC3339");
    }
  }
  opt_string(j, "generatorURL", a.generator_url, where, errs);
  opt_string(j, "fingerprint", a.fingerprint, where, errs);
  if (a.fingerprint.empty()) errs.push_back(where + "fingerprint: missing");
}

Expected<WebhookMessage, ValidationErrors> parse_impl(std::string_view body, const WebhookLimits& limits) {
  if (body.size() > limits.max_body_bytes)
    return unexpected(ValidationErrors{"body of " + std::to_string(body.size()) + " bytes exceeds the limit"});
  if (!json_depth_within(body, limits.max_depth)) return unexpected(ValidationErrors{"JSON nested too deeply"});
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return unexpected(ValidationErrors{"not valid JSON"});
  if (!doc.is_object()) return unexpected(ValidationErrors{"not a JSON object"});

  WebhookMessage msg;
  ValidationErrors errs;
  opt_string(doc, "version", msg.version, "", errs);
  if (msg.version != "4") errs.push_back("version: must be \"4\", got \"" + msg.version + "\"");
  opt_string(doc, "groupKey", msg.group_key, "", errs);
  opt_string(doc, "status", msg.status, "", errs);
  if (msg.status != "firing" && msg.status != "resolved") errs.push_back("status: must be firing or resolved");
  opt_string(doc, "receiver", msg.receiver, "", errs);
  opt_string(doc, "externalURL", msg.external_url, "", errs);
  opt_map(doc, "groupLabels", msg.group_labels, "", errs);
  opt_map(doc, "commonLabels", msg.common_labels, "", errs);
  opt_map(doc, "commonAnnotations", msg.common_annotations, "", errs);
  if (auto t = doc.find("truncatedAlerts"); t != doc.end() && !t->is_null()) {
    if (!t->is_number_integer() || t->get<std::int64_t>() < 0) errs.push_back("truncatedAlerts: not a count");
    else msg.truncated_alerts = t->get<std::int64_t>();
  }
  auto alerts = doc.find("alerts");
  if (alerts == doc.end() || !alerts->is_array()) {
    errs.push_back("alerts: missing or not an array");
  } else if (alerts->size() > limits.max_alerts) {
    errs.push_back("alerts: more than " + std::to_string(limits.max_alerts));
  } else {
    msg.alerts.resize(alerts->size());
    for (std::size_t i = 0; i < alerts->size(); ++i) parse_alert((*alerts)[i], i, msg.alerts[i], errs);
  }
  if (!errs.empty()) return unexpected(std::move(errs));
  return msg;
}

}  // namespace

bool is_zero_time(TimePoint t) { return t == kZeroTime; }

Expected<ActiveAlerts, std::string> parse_active_alerts(std::string_view body, const WebhookLimits& limits) {
  try {
    if (body.size() > limits.max_body_bytes) return unexpected(std::string("answer exceeds the size limit"));
    if (!json_depth_within(body, limits.max_depth)) return unexpected(std::string("JSON nested too deeply"));
    const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_array()) return unexpected(std::string("not a JSON array"));
    ActiveAlerts out;
    for (std::size_t i = 0; i < doc.size() && out.alerts.size() < limits.max_alerts; ++i) {
      const json& g = doc[i];
      const json* st = g.is_object() && g.contains("status") ? &g["status"] : nullptr;
      if (!st || !st->is_object() || !st->contains("state") || !(*st)["state"].is_string()) {
        ++out.skipped;
        continue;
      }
      if ((*st)["state"].get_ref<const std::string&>() != "active") continue;  // suppressed or unprocessed
      json copy = g;
      copy["status"] = "firing";
      copy.erase("endsAt");  // a firing alert's endsAt in the API is its expiry, not an end
      Alert a;
      ValidationErrors errs;
      parse_alert(copy, i, a, errs);
      if (!errs.empty()) {
        ++out.skipped;
        continue;
      }
      out.alerts.push_back(std::move(a));
    }
    return out;
  } catch (const std::exception& e) {
    return unexpected(std::string("internal: ") + e.what());
  }
}


Expected<WebhookMessage, ValidationErrors> parse_alertmanager_webhook(std::string_view body,
                                                                      const WebhookLimits& limits) {
  try {
    return parse_impl(body, limits);
  } catch (const std::exception& e) {
    return unexpected(ValidationErrors{std::string("internal: ") + e.what()});
  }
}

std::string idempotency_key(const Alert& a) {
  return a.fingerprint + "|" + std::to_string(a.starts_at.time_since_epoch().count()) + "|" + a.status;
}

bool is_relevant(const Alert& a, const AlertMatcher& m) {
  const std::string* ns = find_value(a.labels, "namespace");
  if (!ns || *ns != m.ns) return false;
  bool named = false;
  for (std::string_view key : {"workload", "deployment", "daemonset"}) {
    const std::string* v = find_value(a.labels, key);
    if (v && *v == m.workload) named = true;
  }
  if (!named) return false;
  if (!m.severities.empty()) {
    const std::string* sev = find_value(a.labels, "severity");
    if (!sev || std::find(m.severities.begin(), m.severities.end(), *sev) == m.severities.end()) return false;
  }
  for (const auto& [k, v] : m.extra) {
    const std::string* got = find_value(a.labels, k);
    if (!got || *got != v) return false;
  }
  return true;
}

ProbeResult evaluate_alerts(const std::vector<Alert>& alerts, const AlertMatcher& m, TimePoint rollout_start,
                            std::chrono::seconds grace) {
  const TimePoint since = rollout_start - std::chrono::duration_cast<std::chrono::milliseconds>(grace);
  const Alert* fresh = nullptr;
  const Alert* old = nullptr;
  std::size_t fresh_count = 0;
  for (const Alert& a : alerts) {
    if (a.status != "firing" || !is_relevant(a, m)) continue;
    if (a.starts_at >= since) {
      ++fresh_count;
      if (!fresh) fresh = &a;
    } else if (!old) {
      old = &a;
    }
  }
  auto name = [](const Alert& a) {
    const std::string* n = find_value(a.labels, "alertname");
    return n ? *n : std::string("<unnamed>");
  };
  if (fresh) {
    std::string detail = "alert " + name(*fresh) + " firing since the rollout";
    if (fresh_count > 1) detail += " (+" + std::to_string(fresh_count - 1) + " more)";
    return ProbeResult::fail("alert", std::move(detail));
  }
  if (old) return ProbeResult::inconclusive("preexisting_alert", "alert " + name(*old) + " fired before the rollout");
  return ProbeResult::inconclusive("no_alert", "no relevant alert firing");
}

}  // namespace canary_guard::probes
