#include "probes/metric_analysis.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "config/rfc3339.hpp"

namespace canary_guard::probes {
namespace {

// A threshold as the user wrote it (0.05, 0.5, 1e-06).
std::string num(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// A measured value: at least two decimals, at most three significant digits after them (0.50, 0.031, 2.43).
std::string measured(double v) {
  if (std::isnan(v) || std::isinf(v) || std::fabs(v) >= 1e6 || (v != 0 && std::fabs(v) < 1e-3)) return num(v);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  std::string s = buf;
  while (s.size() > 1 && s.back() == '0' && s[s.size() - 3] != '.') s.pop_back();
  return s;
}

// The worst judgeable (non-NaN, latest sample) value of a set of series: the highest for increase-type checks.
std::optional<double> worst(const std::vector<Series>& series, bool highest) {
  std::optional<double> w;
  for (const auto& s : series) {
    if (s.samples.empty() || std::isnan(s.samples.back().value)) continue;
    const double v = s.samples.back().value;
    if (!w || (highest ? v > *w : v < *w)) w = v;
  }
  return w;
}

bool is_check_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; }
bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// Exact text of a double for the fingerprint (17 significant digits round-trip).
std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

std::string check_fingerprint(const config::Check& c) {
  // Length-prefixed fields, so no two definitions serialise alike.
  std::string canon;
  auto field = [&](std::string_view name, std::string_view value) {
    canon += name;
    canon += ':';
    canon += std::to_string(value.size());
    canon += ':';
    canon += value;
    canon += ';';
  };
  auto opt = [&](std::string_view name, const std::optional<double>& v) { field(name, v ? exact(*v) : "-"); };
  field("mode", c.compare ? "compare" : "threshold");
  field("query", c.query);
  for (const auto& [k, v] : c.vars) field("var." + k, v);
  opt("min", c.min);
  opt("max", c.max);
  field("failures", std::to_string(c.failures));
  field("of", std::to_string(c.of));
  field("on_no_data", c.on_no_data == config::OnOutcome::fail ? "fail" : "ignore");
  field("on_error", c.on_error == config::OnOutcome::fail ? "fail" : "ignore");
  if (c.min_samples) {
    field("min_samples.query", c.min_samples->query);
    field("min_samples.min", exact(c.min_samples->min));
  }
  if (c.compare) {
    field("compare.direction", c.compare->direction == config::CompareDirection::increase ? "increase" : "decrease");
    field("compare.max_ratio", exact(c.compare->max_ratio));
    field("compare.margin", exact(c.compare->margin));
  }
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a 64
  for (unsigned char ch : canon) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

namespace {

}  // namespace

int CheckState::fails() const { return static_cast<int>(std::count(window.begin(), window.end(), 'F')); }

CheckOutcome judge_threshold(const config::Check& check, const std::vector<Series>& series,
                             std::optional<std::optional<double>> min_samples) {
  QueryResult r;
  r.series = series;
  Threshold t{check.min, check.max};
  std::optional<MinSamples> ms;
  if (check.min_samples && min_samples) ms = MinSamples{check.min_samples->min, *min_samples};
  auto ev = evaluate_threshold(r, t, ms);
  CheckOutcome o;
  o.outcome = ev.result.outcome;
  o.value = ev.value;
  if (o.outcome == Outcome::fail && ev.value) {
    const bool above = check.max && *ev.value > *check.max;
    o.detail = check.name + " " + measured(*ev.value) + (above ? " > " + num(*check.max) : " < " + num(*check.min));
  } else if (o.outcome == Outcome::pass && ev.value) {
    o.detail = check.name + " " + measured(*ev.value) + " within " +
               (check.min ? num(*check.min) : std::string("-Inf")) + ".." +
               (check.max ? num(*check.max) : std::string("+Inf"));
  } else {
    o.detail = check.name + ": " + ev.result.detail;
  }
  return o;
}

CheckOutcome judge_compare(const config::Check& check, const std::vector<Series>& new_series,
                           const std::vector<Series>& stable_series, std::optional<CompareSamples> samples) {
  const config::CompareSpec spec = check.compare.value_or(config::CompareSpec{});
  const bool increase = spec.direction == config::CompareDirection::increase;
  const auto nv = worst(new_series, increase);
  const auto sv = worst(stable_series, increase);
  CheckOutcome o;
  o.value = nv;
  // The absolute bound (min / max) judges the new side alone: it holds also when the stable side cannot be
  // compared (its pods are gone, the revision was deleted, it gets too little traffic); then only the comparison is
  // NO_DATA. Called only once the new side is known to be evidence.
  auto stable_missing = [&](std::string why) {
    if (check.min || check.max) {
      auto abs = judge_threshold(check, new_series);
      if (abs.outcome == Outcome::fail) return abs;
    }
    o.outcome = Outcome::no_data;
    o.detail = check.name + ": " + why + ((check.min || check.max) ? " (the absolute bound holds)" : "");
    return o;
  };
  // Low traffic is no evidence on either side (R1.10): one 5xx in two requests proves nothing against a stable
  // revision, and neither does a stable revision that no longer gets traffic.
  if (check.min_samples) {
    const double need = check.min_samples->min;
    auto lacking = [&](const std::optional<double>& n, std::string_view side) -> std::optional<std::string> {
      if (!samples) return "min_samples not measured";
      if (!n) return "min_samples query returned no data for the " + std::string(side) + " revision";
      if (!(*n >= need)) return "samples " + measured(*n) + " < " + num(need) + " for the " + std::string(side) +
                               " revision";
      return std::nullopt;
    };
    if (auto why = lacking(samples ? samples->new_side : std::nullopt, "new")) {
      o.outcome = Outcome::no_data;
      o.detail = check.name + ": " + *why;
      return o;
    }
    if (auto why = lacking(samples->stable_side, "stable")) {
      if (!nv) {
        o.outcome = Outcome::no_data;
        o.detail = check.name + ": no data for the new revision";
        return o;
      }
      return stable_missing(*why);
    }
  }
  if (!nv) {
    o.outcome = Outcome::no_data;
    o.detail = check.name + ": no data for the new revision";
    return o;
  }
  if (!sv) return stable_missing("no data for the stable revision");
  const double limit = increase ? *sv * spec.max_ratio + spec.margin : *sv / spec.max_ratio - spec.margin;
  const bool fail = increase ? *nv > limit : *nv < limit;
  o.outcome = fail ? Outcome::fail : Outcome::pass;
  o.detail = check.name + " " + measured(*nv) + (fail ? (increase ? " > " : " < ") : " within ") + measured(limit) +
             " (stable " + measured(*sv) + (increase ? " x " : " / ") + num(spec.max_ratio) +
             (increase ? " + " : " - ") + num(spec.margin) + ")";
  // Also an absolute bound, when the check has one.
  if (!fail && (check.min || check.max)) {
    auto abs = judge_threshold(check, new_series);
    if (abs.outcome == Outcome::fail) return abs;
  }
  return o;
}

CheckOutcome judge_error(const config::Check& check, const QueryError& e) {
  CheckOutcome o;
  o.outcome = Outcome::error;
  o.error = e;
  o.detail = check.name + ": Prometheus " + std::string(to_string(e.cls)) + " error (" + e.type + "): " + e.message;
  return o;
}

bool warmed_up(const config::Check& check, const RevisionAnalysis& a, TimePoint now, TimePoint eval_time) {
  if (now < a.started + check.initial_delay) return false;
  if (!a.first_ready) return false;
  return eval_time - check.range_window >= *a.first_ready;
}

std::optional<TimePoint> warm_at(const config::Check& check, const RevisionAnalysis& a,
                                 std::chrono::milliseconds eval_lag) {
  if (!a.first_ready) return std::nullopt;
  return std::max(a.started + check.initial_delay, *a.first_ready + check.range_window + eval_lag);
}

bool record(const config::Check& check, CheckState& st, const CheckOutcome& in, TimePoint now,
            std::optional<TimePoint>& last_decisive) {
  // A state gathered under another definition of the check is no evidence for this one.
  if (std::string fp = check_fingerprint(check); st.fingerprint != fp) {
    if (!st.fingerprint.empty()) st = CheckState{};
    st.fingerprint = std::move(fp);
  }
  Outcome o = in.outcome;
  if (o == Outcome::no_data && check.on_no_data == config::OnOutcome::fail) o = Outcome::fail;
  if (o == Outcome::error && check.on_error == config::OnOutcome::fail) o = Outcome::fail;
  st.last = in.outcome;
  st.last_value = in.value;
  st.last_detail = in.detail;
  st.last_at = now;
  bool changed = false;
  if (in.error && in.error->cls == ErrorClass::config) {
    if (!st.config_error) changed = true;
    st.config_error = in.detail;
  } else if (is_decisive(in.outcome)) {
    st.config_error.reset();
    st.config_error_told = false;
  }
  if (!is_decisive(o)) return changed;
  last_decisive = now;
  const bool had_fail = st.window.find('F') != std::string::npos;
  st.window.push_back(o == Outcome::fail ? 'F' : 'P');
  const auto of = static_cast<std::size_t>(std::max(1, check.of));
  if (st.window.size() > of) st.window.erase(0, st.window.size() - of);
  if (o == Outcome::fail) changed = true;
  if (o == Outcome::pass && !st.passed) {
    st.passed = true;
    changed = true;
  }
  if (o == Outcome::pass && had_fail) changed = true;  // a FAIL may have been pushed out
  if (!st.tripped && st.fails() >= std::max(1, check.failures)) {
    st.tripped = true;
    // The configured window ("3 of the last 5"), also when fewer than `of` decisive outcomes exist yet.
    st.trip_detail = in.detail + " in " + std::to_string(st.fails()) + " of the last " +
                     std::to_string(std::max(1, check.of)) + " evaluations";
    changed = true;
  }
  return changed;
}

Recorded record_outcome(const config::Check& check, const std::vector<const config::Check*>& applicable,
                        RevisionAnalysis& a, const CheckOutcome& o, TimePoint now, std::chrono::milliseconds max_blind,
                        std::chrono::milliseconds eval_lag) {
  const bool was_blind = summarize(applicable, a, max_blind, eval_lag, now).blind;
  std::optional<TimePoint> decisive;
  Recorded r;
  r.changed = record(check, a.checks[check.name], o, now, decisive);
  if (!decisive) return r;
  a.last_decisive = decisive;
  a.blind = false;
  if (was_blind) r.restored = r.changed = true;
  return r;
}

std::string format_analysis(const RevisionAnalysis& a) {
  std::string out = "hash=" + a.hash + " rollout=" + std::to_string(a.rollout);
  if (!a.stable.empty()) out += " stable=" + a.stable;
  if (a.last_decisive) out += " decisive=" + format_rfc3339(*a.last_decisive);
  if (a.blind) out += " blind=1";
  for (const auto& [name, st] : a.checks) {
    if (st.window.empty() && !st.passed) continue;
    out += ' ';
    out += name;
    out += '=';
    out += st.window;
    if (st.passed) out += '!';
    out += '@';
    out += st.fingerprint;
  }
  return out;
}

std::optional<RevisionAnalysis> parse_analysis(std::string_view text, std::string_view own_hash) {
  RevisionAnalysis a;
  bool have_hash = false, have_rollout = false;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    if (i >= text.size()) break;
    std::size_t end = text.find(' ', i);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view tok = text.substr(i, end - i);
    i = end;
    const auto eq = tok.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    const std::string_view key = tok.substr(0, eq), val = tok.substr(eq + 1);
    if (key == "hash") {
      if (val != own_hash || val.empty()) return std::nullopt;
      a.hash = std::string(val);
      have_hash = true;
      continue;
    }
    if (key == "rollout") {
      std::int64_t n = 0;
      const auto [p, ec] = std::from_chars(val.data(), val.data() + val.size(), n);
      if (ec != std::errc{} || p != val.data() + val.size() || n < 0) return std::nullopt;
      a.rollout = n;
      have_rollout = true;
      continue;
    }
    if (key == "stable") {
      // A pod-template-hash or a ControllerRevision hash: [a-z0-9], at most 63 (a label value).
      if (val.empty() || val.size() > 63 || val == own_hash ||
          !std::all_of(val.begin(), val.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }))
        return std::nullopt;
      a.stable = std::string(val);
      continue;
    }
    if (key == "decisive") {
      auto t = parse_rfc3339(val);
      if (!t) return std::nullopt;
      a.last_decisive = *t;
      continue;
    }
    if (key == "blind") {
      if (val != "1") return std::nullopt;
      a.blind = true;
      continue;
    }
    if (!std::all_of(key.begin(), key.end(), is_check_char)) return std::nullopt;
    CheckState st;
    std::string_view w = val;
    if (const auto at = w.find('@'); at != std::string_view::npos) {
      const std::string_view fp = w.substr(at + 1);
      if (fp.size() > 32 || !std::all_of(fp.begin(), fp.end(), is_hex)) return std::nullopt;
      st.fingerprint = std::string(fp);
      w = w.substr(0, at);
    }
    if (!w.empty() && w.back() == '!') {
      st.passed = true;
      w.remove_suffix(1);
    }
    if (w.size() > 100 || !std::all_of(w.begin(), w.end(), [](char c) { return c == 'P' || c == 'F'; }))
      return std::nullopt;
    st.window = std::string(w);
    a.checks[std::string(key)] = std::move(st);
  }
  if (!have_hash || !have_rollout) return std::nullopt;
  return a;
}

RevisionAnalysis restore_analysis(std::optional<std::string_view> seed, std::string_view hash, std::int64_t rollout,
                                  const std::vector<const config::Check*>& applicable) {
  RevisionAnalysis out;
  out.hash = std::string(hash);
  out.rollout = rollout;
  std::optional<RevisionAnalysis> rec;
  if (seed) rec = parse_analysis(*seed, hash);
  // Another rollout of the same template (deployed again): its outcomes, its PASS and its blindness are history.
  if (rec && rec->rollout != rollout) rec.reset();
  if (rec) {
    out.stable = rec->stable;
    out.last_decisive = rec->last_decisive;
    out.blind = rec->blind;
  }
  for (const config::Check* c : applicable) {
    CheckState& st = out.checks[c->name];
    st.fingerprint = check_fingerprint(*c);
    if (!rec) continue;
    auto it = rec->checks.find(c->name);
    if (it == rec->checks.end() || it->second.fingerprint != st.fingerprint) continue;  // edited: start afresh
    st.passed = it->second.passed;
    st.window = it->second.window;
    const auto of = static_cast<std::size_t>(std::max(1, c->of));
    if (st.window.size() > of) st.window.erase(0, st.window.size() - of);
    // A restored window that already trips (k FAIL were persisted) trips again at once.
    if (st.fails() >= std::max(1, c->failures)) {
      st.tripped = true;
      st.trip_detail = c->name + " failed in " + std::to_string(st.fails()) + " of the last " +
                       std::to_string(std::max(1, c->of)) + " evaluations (before a restart)";
    }
  }
  return out;
}

AnalysisSummary summarize(const std::vector<const config::Check*>& applicable, const RevisionAnalysis& a,
                          std::chrono::milliseconds max_blind, std::chrono::milliseconds eval_lag, TimePoint now) {
  AnalysisSummary s;
  s.required = !applicable.empty();
  if (!s.required) return s;
  s.all_passed = true;
  std::optional<TimePoint> could_decide;  // the earliest moment some check could have had a decisive outcome
  for (const config::Check* c : applicable) {
    auto it = a.checks.find(c->name);
    const CheckState* st = it == a.checks.end() ? nullptr : &it->second;
    if (!st || !st->passed) {
      s.all_passed = false;
      s.waiting_for.push_back(c->name);
    }
    if (st && st->tripped && !s.tripped) {
      s.tripped = c;
      s.trip_detail = st->trip_detail;
    }
    if (auto w = warm_at(*c, a, eval_lag)) could_decide = could_decide ? std::min(*could_decide, *w) : *w;
  }
  // Known blind (a restart while blind): until a decisive outcome clears it.
  if (a.blind) {
    s.blind = true;
    return s;
  }
  // Blind: since the later of the last decisive outcome and the moment one could first be had.
  std::optional<TimePoint> since = could_decide;
  if (a.last_decisive && (!since || *a.last_decisive > *since)) since = a.last_decisive;
  if (since) {
    const TimePoint at = *since + max_blind;
    if (now >= at) s.blind = true;
    else s.blind_at = at;
  }
  return s;
}

}  // namespace canary_guard::probes
