#include "daemon/guard/analysis_view.hpp"

#include <algorithm>

namespace canary_guard::guard {
namespace {


std::vector<std::string> split_names(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t j = s.find(',', i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view t = s.substr(i, j - i);
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    if (!t.empty()) out.emplace_back(t);
    i = j + 1;
  }
  return out;
}

}  // namespace

std::vector<const config::Check*> applicable_checks(const config::Config& config, std::string_view ns,
                                                    std::string_view kind, const config::KeyValues& labels,
                                                    const config::KeyValues& annotations) {
  std::vector<const config::Check*> out;
  std::optional<std::vector<std::string>> chosen;
  if (const std::string* a = probes::find_value(annotations, config::annotation::checks)) {
    if (*a == "none") return out;
    chosen = split_names(*a);
  }
  for (const auto& c : config.checks) {
    if (!c.namespaces.empty() && std::find(c.namespaces.begin(), c.namespaces.end(), ns) == c.namespaces.end())
      continue;
    if (!c.kinds.empty() && std::find(c.kinds.begin(), c.kinds.end(), kind) == c.kinds.end()) continue;
    if (!c.selector.empty() && !c.selector.matches(labels)) continue;
    if (chosen && std::find(chosen->begin(), chosen->end(), c.name) == chosen->end()) continue;
    out.push_back(&c);
  }
  return out;
}

probes::RevisionAnalysis initial_analysis(const AnalysisTarget& t) {
  std::optional<std::string_view> seed;
  if (t.seed) seed = *t.seed;
  auto a = probes::restore_analysis(seed, t.vars.revision_hash, t.rollout, t.checks);
  a.started = t.started;
  a.first_ready = t.first_ready;
  if (t.blind || t.paused_blind) a.blind = true;
  return a;
}

std::chrono::milliseconds max_blind(const config::Config& config) {
  if (config.analysis.max_blind) return *config.analysis.max_blind;
  std::chrono::milliseconds smallest{0};
  for (const auto& c : config.checks)
    if (smallest.count() == 0 || c.interval < smallest) smallest = c.interval;
  return smallest.count() > 0 ? 5 * smallest : std::chrono::milliseconds{25'000};
}

}  // namespace canary_guard::guard
