#include "probes/alerts.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include <nlohmann/json.hpp>

namespace canary_guard::probes {
namespace {

using nlohmann::json;

// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

// Reads exactly n digits at s[pos].
std::optional<int> digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

const TimePoint kZeroTime{std::chrono::milliseconds{days_from_civil(1, 1, 1) * 86'400'000LL}};

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

bool depth_within(std::string_view body, int max_depth) {
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
  if (!depth_within(body, limits.max_depth)) return unexpected(ValidationErrors{"JSON nested too deeply"});
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

std::optional<TimePoint> parse_rfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)
  if (s.size() < 20) return std::nullopt;
  auto year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2), hour = digits(s, 11, 2),
       minute = digits(s, 14, 2), second = digits(s, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 ||
      static_cast<unsigned>(*day) > days_in_month(*year, static_cast<unsigned>(*month)) || *hour > 23 ||
      *minute > 59 || *second > 59)
    return std::nullopt;
  std::size_t pos = 19;
  std::int64_t millis = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    const std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (pos - start < 3) millis = millis * 10 + (s[pos] - '0');
      ++pos;
    }
    if (pos == start) return std::nullopt;
    for (std::size_t n = pos - start; n < 3; ++n) millis *= 10;
  }
  if (pos >= s.size()) return std::nullopt;
  std::int64_t offset_minutes = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    auto oh = digits(s, pos + 1, 2), om = digits(s, pos + 4, 2);
    if (!oh || !om || pos + 3 >= s.size() || s[pos + 3] != ':' || *oh > 23 || *om > 59) return std::nullopt;
    offset_minutes = (*oh * 60 + *om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const std::int64_t days = days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
  const std::int64_t secs = days * 86'400 + *hour * 3600 + *minute * 60 + *second - offset_minutes * 60;
  return TimePoint{std::chrono::milliseconds{secs * 1000 + millis}};
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
