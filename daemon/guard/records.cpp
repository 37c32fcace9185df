#include "daemon/guard/records.hpp"

#include "config/rfc3339.hpp"

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


}  // namespace

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::healthy: return "healthy";
    case Verdict::failed: return "failed";
    case Verdict::unfit: return "unfit";
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




std::string format_verdict(const VerdictRecord& r) {
  std::string out{to_string(r.verdict)};
  out += " hash=" + r.hash + " at=" + format_rfc3339(r.at);
  if (!r.reason.empty()) out += " reason=" + r.reason;
  return out;
}

std::optional<VerdictRecord> parse_verdict(std::string_view text, std::string_view own_hash) {
  Fields f = split(text);
  VerdictRecord r;
  if (f.head == "healthy") r.verdict = Verdict::healthy;
  else if (f.head == "failed") r.verdict = Verdict::failed;
  else if (f.head == "unfit") r.verdict = Verdict::unfit;
  else return std::nullopt;
  r.hash = std::string(f.get("hash"));
  if (r.hash.empty() || r.hash != own_hash) return std::nullopt;
  auto at = parse_rfc3339(f.get("at"));
  if (!at) return std::nullopt;
  r.at = *at;
  r.reason = std::string(f.get("reason"));
  return r;
}

std::string format_rollback(const RollbackRecord& r) {
  std::string out = "state=";
  out += to_string(r.state);
  out += " from=" + r.from + " to=" + r.to + " to-revision=" + std::to_string(r.to_revision) + " at=" + format_rfc3339_ms(r.at);
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
  auto at = parse_rfc3339(f.get("at"));
  if (!rev || !at) return std::nullopt;
  r.to_revision = *rev;
  r.at = *at;
  r.reason = std::string(f.get("reason"));
  return r;
}

}  // namespace canary_guard::guard
