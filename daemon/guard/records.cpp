#include "daemon/guard/records.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <vector>

namespace canary_guard::guard {
namespace {

// Splits "word k=v k=v ..." into the leading word (if it has no '=') and key/value pairs. The reason is last and
// may contain spaces: everything after "reason=" belongs to it.
struct Fields {
  std::string_view head;
  std::vector<std::pair<std::string_view, std::string_view>> kv;
  std::string_view get(std::string_view key) const {
    for (auto& [k, v] : kv)
      if (k == key) return v;
    return {};
  }
  bool has(std::string_view key) const {
    for (auto& [k, v] : kv)
      if (k == key) return true;
    return false;
  }
};

Fields split(std::string_view s) {
  Fields f;
  std::size_t i = 0;
  auto skip_ws = [&] { while (i < s.size() && s[i] == ' ') ++i; };
  skip_ws();
  bool first = true;
  while (i < s.size()) {
    std::size_t end = s.find(' ', i);
    if (end == std::string_view::npos) end = s.size();
    std::string_view tok = s.substr(i, end - i);
    auto eq = tok.find('=');
    if (eq == std::string_view::npos) {
      if (first) f.head = tok;
      i = end;
    } else {
      std::string_view key = tok.substr(0, eq);
      if (key == "reason") {
        f.kv.emplace_back(key, s.substr(i + eq + 1));
        break;
      }
      f.kv.emplace_back(key, tok.substr(eq + 1));
      i = end;
    }
    first = false;
    skip_ws();
  }
  return f;
}

std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Days from civil (Howard Hinnant's algorithm): no timegm/locale dependence.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::healthy: return "healthy";
    case Verdict::failed: return "failed";
    case Verdict::none: break;
  }
  return "none";
}

std::string_view to_string(RollbackState s) {
  switch (s) {
    case RollbackState::started: return "started";
    case RollbackState::waiting: return "waiting";
    case RollbackState::succeeded: return "succeeded";
    case RollbackState::failed: return "failed";
    case RollbackState::superseded: return "superseded";
  }
  return "started";
}

std::string format_time(TimePoint t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
  std::int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  std::int64_t rem = secs - days * 86400;
  // civil_from_days
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<long long>(y), m, d,
                static_cast<long long>(rem / 3600), static_cast<long long>(rem % 3600 / 60),
                static_cast<long long>(rem % 60));
  return buf;
}

std::optional<TimePoint> parse_time(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len) -> std::optional<std::int64_t> {
    for (std::size_t i = pos; i < pos + len; ++i)
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
    return to_int(s.substr(pos, len));
  };
  auto Y = num(0, 4), M = num(5, 2), D = num(8, 2), h = num(11, 2), mi = num(14, 2), se = num(17, 2);
  if (!Y || !M || !D || !h || !mi || !se) return std::nullopt;
  if (*M < 1 || *M > 12 || *D < 1 || *D > 31 || *h > 23 || *mi > 59 || *se > 60) return std::nullopt;
  std::size_t i = 19;
  std::int64_t millis = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits < 3) millis = millis * 10 + (s[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return std::nullopt;
    for (int k = digits; k < 3; ++k) millis *= 10;
  }
  std::int64_t offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    auto oh = num(i + 1, 2), om = num(i + 4, 2);
    if (!oh || !om) return std::nullopt;
    offset = (*oh * 3600 + *om * 60) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  const std::int64_t secs = days_from_civil(*Y, static_cast<unsigned>(*M), static_cast<unsigned>(*D)) * 86400 +
                            *h * 3600 + *mi * 60 + *se - offset;
  return TimePoint{std::chrono::milliseconds{secs * 1000 + millis}};
}

std::string format_time_ms(TimePoint t) {
  std::string s = format_time(t);
  const auto ms = t.time_since_epoch().count() % 1000;
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03lld", static_cast<long long>(ms < 0 ? ms + 1000 : ms));
  s.insert(s.size() - 1, frac);
  return s;
}

std::string format_verdict(const VerdictRecord& r) {
  std::string out{to_string(r.verdict)};
  out += " hash=" + r.hash + " at=" + format_time(r.at);
  if (!r.reason.empty()) out += " reason=" + r.reason;
  return out;
}

std::optional<VerdictRecord> parse_verdict(std::string_view text, std::string_view own_hash) {
  Fields f = split(text);
  VerdictRecord r;
  if (f.head == "healthy") r.verdict = Verdict::healthy;
  else if (f.head == "failed") r.verdict = Verdict::failed;
  else return std::nullopt;
  r.hash = std::string(f.get("hash"));
  if (r.hash.empty() || r.hash != own_hash) return std::nullopt;
  auto at = parse_time(f.get("at"));
  if (!at) return std::nullopt;
  r.at = *at;
  r.reason = std::string(f.get("reason"));
  return r;
}

std::string format_rollback(const RollbackRecord& r) {
  std::string out = "state=";
  out += to_string(r.state);
  out += " from=" + r.from + " to=" + r.to + " to-revision=" + std::to_string(r.to_revision) + " at=" + format_time_ms(r.at);
  if (!r.reason.empty()) out += " reason=" + r.reason;
  return out;
}

std::optional<RollbackRecord> parse_rollback(std::string_view text, std::string_view own_hash) {
  Fields f = split(text);
  RollbackRecord r;
  auto st = f.get("state");
  if (st == "started") r.state = RollbackState::started;
  else if (st == "waiting") r.state = RollbackState::waiting;
  else if (st == "succeeded") r.state = RollbackState::succeeded;
  else if (st == "failed") r.state = RollbackState::failed;
  else if (st == "superseded") r.state = RollbackState::superseded;
  else return std::nullopt;
  r.from = std::string(f.get("from"));
  r.to = std::string(f.get("to"));
  if (r.from.empty() || r.to.empty() || r.from != own_hash) return std::nullopt;
  auto rev = to_int(f.get("to-revision"));
  auto at = parse_time(f.get("at"));
  if (!rev || !at) return std::nullopt;
  r.to_revision = *rev;
  r.at = *at;
  r.reason = std::string(f.get("reason"));
  return r;
}

}  // namespace canary_guard::guard
