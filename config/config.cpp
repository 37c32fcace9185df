// Enum names, diagnostics formatting and the per-workload view of the configuration (annotation overrides and
// the "is this workload guarded" question).
#include "config/config.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include "config/duration.hpp"

namespace canary_guard::config {

std::string_view to_string(SelectionMode m) { return m == SelectionMode::opt_in ? "opt-in" : "opt-out"; }

std::string_view to_string(LogLevel l) {
  switch (l) {
    case LogLevel::trace: return "trace";
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "info";
}

std::string_view to_string(LogFormat f) { return f == LogFormat::json ? "json" : "text"; }

std::string_view to_string(KnownBadAction a) { return a == KnownBadAction::rollback ? "rollback" : "hold"; }

namespace {
std::string format_as(const Diagnostic& d, std::string_view severity) {
  std::string out = d.file;
  if (d.line > 0) {
    out += ':' + std::to_string(d.line);
    if (d.column > 0) out += ':' + std::to_string(d.column);
  }
  return out + ": " + std::string(severity) + ": " + d.message;
}
}  // namespace

std::string format(const Diagnostic& d) { return format_as(d, "error"); }
std::string format_warning(const Diagnostic& d) { return format_as(d, "warning"); }

long comparisons_in_rollout(const Check& check, std::chrono::milliseconds eval_lag, std::chrono::milliseconds rollout) {
  if (check.interval.count() <= 0) return 0;
  const auto first = std::max(check.initial_delay, eval_lag + check.range_window);
  const auto last = rollout + eval_lag + check.range_window;  // exclusive: the stable series leave the range
  if (last <= first) return 0;
  return static_cast<long>((last - first - std::chrono::milliseconds{1}) / check.interval) + 1;
}

namespace {

const std::string* find(const KeyValues& kv, std::string_view key) {
  for (const auto& [k, v] : kv)
    if (k == key) return &v;
  return nullptr;
}

// Annotation values are user input that ends up in an Event message: keep them short and printable.
std::string shown(std::string_view v) {
  std::string out = "\"";
  for (std::size_t i = 0; i < v.size() && i < 64; ++i) {
    const char c = v[i];
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  if (v.size() > 64) out += "...";
  return out + "\"";
}

// Collects the problems of one resolve_policy() call in a uniform sentence shape.
class Overlay {
 public:
  explicit Overlay(std::vector<std::string>& problems) : problems_(problems) {}

  void problem(std::string_view key, std::string_view value, std::string_view why, std::string_view kept) {
    std::string msg = "annotation " + std::string(key) + "=" + shown(value) + " ignored: " + std::string(why) +
                      "; using " + std::string(kept);
    // The reason may quote the value again; an Event message must stay one printable line.
    for (char& c : msg)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    problems_.push_back(std::move(msg));
  }

  void boolean(const KeyValues& a, std::string_view key, bool& out) {
    const std::string* v = find(a, key);
    if (!v) return;
    if (*v == "true") out = true;
    else if (*v == "false") out = false;
    else problem(key, *v, "expected \"true\" or \"false\"", out ? "true" : "false");
  }

  void duration(const KeyValues& a, std::string_view key, bool allow_zero, std::chrono::seconds& out) {
    const std::string* v = find(a, key);
    if (!v) return;
    const std::string kept = "the default " + format_duration(out);
    auto d = parse_duration(*v);
    if (!d) return problem(key, *v, "invalid duration: " + d.error(), kept);
    if (auto why = duration_limit_problem(*d, allow_zero)) return problem(key, *v, "duration " + *why, kept);
    out = std::chrono::duration_cast<std::chrono::seconds>(*d);
  }

  void count(const KeyValues& a, std::string_view key, std::int32_t min, std::int32_t& out) {
    const std::string* v = find(a, key);
    if (!v) return;
    const std::string kept = "the default " + std::to_string(out);
    std::int64_t n = 0;
    const char* end = v->data() + v->size();
    auto [ptr, ec] = std::from_chars(v->data(), end, n);
    if (v->empty() || ec != std::errc() || ptr != end)
      return problem(key, *v, "expected a whole number", kept);
    if (n < min) return problem(key, *v, "must be at least " + std::to_string(min), kept);
    if (n > std::numeric_limits<std::int32_t>::max()) return problem(key, *v, "number too large", kept);
    out = static_cast<std::int32_t>(n);
  }

 private:
  std::vector<std::string>& problems_;
};

constexpr std::array<std::string_view, 9> kOverrideKeys{
    annotation::enabled,           annotation::dry_run,      annotation::bake_time,
    annotation::progress_deadline, annotation::on_known_bad, annotation::crashloop_restarts,
    annotation::image_pull_grace,  annotation::ready_grace,  annotation::checks};

bool guard_written(std::string_view key) {
  return std::any_of(annotation::guard_written_prefixes.begin(), annotation::guard_written_prefixes.end(),
                     [&](std::string_view p) { return key.starts_with(p); });
}

// Closest known override key by edit distance on the part after the prefix (for "did you mean").
std::string_view suggestion(std::string_view key) {
  const std::string_view name = key.substr(annotation::prefix.size());
  std::string_view best;
  std::size_t best_d = 3;  // suggest only within distance 2
  for (std::string_view k : kOverrideKeys) {
    const std::string_view cand = k.substr(annotation::prefix.size());
    std::vector<std::size_t> prev(cand.size() + 1), cur(cand.size() + 1);
    for (std::size_t j = 0; j <= cand.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= name.size(); ++i) {
      cur[0] = i;
      for (std::size_t j = 1; j <= cand.size(); ++j) {
        const char a = name[i - 1] == '_' ? '-' : name[i - 1];
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a == cand[j - 1] ? 0 : 1)});
      }
      std::swap(prev, cur);
    }
    if (prev[cand.size()] < best_d) {
      best_d = prev[cand.size()];
      best = k;
    }
  }
  return best;
}

}  // namespace

Resolved resolve_policy(const Config& config, const KeyValues& annotations) {
  Resolved r{config.defaults, {}};
  r.policy.enabled = config.selection.mode == SelectionMode::opt_out;
  Overlay o(r.problems);
  o.boolean(annotations, annotation::enabled, r.policy.enabled);
  o.boolean(annotations, annotation::dry_run, r.policy.dry_run);
  o.duration(annotations, annotation::bake_time, false, r.policy.bake_time);
  o.duration(annotations, annotation::progress_deadline, false, r.policy.daemonset_progress_deadline);
  if (const std::string* v = find(annotations, annotation::on_known_bad)) {
    if (*v == "hold") r.policy.on_known_bad = KnownBadAction::hold;
    else if (*v == "rollback") r.policy.on_known_bad = KnownBadAction::rollback;
    else
      o.problem(annotation::on_known_bad, *v, "expected \"hold\" or \"rollback\"",
                "the default " + std::string(to_string(r.policy.on_known_bad)));
  }
  o.count(annotations, annotation::crashloop_restarts, 1, r.policy.pods.crashloop_restarts);
  o.duration(annotations, annotation::image_pull_grace, false, r.policy.pods.image_pull_grace);
  o.duration(annotations, annotation::ready_grace, true, r.policy.pods.ready_grace);

  for (const auto& [key, value] : annotations) {
    if (!key.starts_with(annotation::prefix) || guard_written(key)) continue;
    if (std::find(kOverrideKeys.begin(), kOverrideKeys.end(), key) != kOverrideKeys.end()) continue;
    std::string msg = "unknown annotation " + key + " ignored";
    if (auto s = suggestion(key); !s.empty()) msg += "; did you mean " + std::string(s) + "?";
    r.problems.push_back(std::move(msg));
  }
  return r;
}

bool is_guarded(const Config& config, std::string_view ns, const KeyValues& labels, const KeyValues& annotations,
                std::string_view kind) {
  const Selection& s = config.selection;
  if (std::find(s.kinds.begin(), s.kinds.end(), kind) == s.kinds.end()) return false;
  if (!s.namespaces.empty() && std::find(s.namespaces.begin(), s.namespaces.end(), ns) == s.namespaces.end())
    return false;
  if (std::find(s.exclude_namespaces.begin(), s.exclude_namespaces.end(), ns) != s.exclude_namespaces.end())
    return false;
  if (!s.label_selector.matches(labels)) return false;
  const std::string* enabled = find(annotations, annotation::enabled);
  if (s.mode == SelectionMode::opt_in) return enabled != nullptr && *enabled == "true";
  return enabled == nullptr || *enabled == "true";
}

}  // namespace canary_guard::config
