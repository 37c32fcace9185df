#include "daemon/guard/pages.hpp"

#include <algorithm>

namespace canary_guard::guard {

std::string reason_class(std::string_view r) {
  if (r == "progress_deadline") return "progress_deadline";
  if (r.rfind("pod_signal", 0) == 0) return "pod_signal";
  if (r.rfind("metric:", 0) == 0) return "metric_probe";
  if (r.rfind("alert:", 0) == 0) return "alert";
  if (r == "known_bad_template") return "known_bad";
  return "other";
}

namespace {

bool held_reason(std::string_view r) {
  return r == "no_healthy_revision" || r == "paused" || r == "rollback_limit" || r == "known_bad_template" ||
         r == "known_bad_rate_limited" || r == "alert_on_healthy";
}

std::string label(const Snapshot& s) { return s.ns + "/" + s.name; }

}  // namespace

std::vector<Page> pages_for(const Snapshot& s, const Decision& d, TimePoint now, std::chrono::seconds rollback_page_for) {
  std::vector<Page> out;
  const std::string kind(to_string(s.kind));
  const std::string token(kind_token(s.kind));
  for (const auto& r : s.revisions) {
    if (!r.rollback) continue;
    const RollbackRecord& rec = *r.rollback;
    const std::string from = "revision " + std::to_string(r.number) + " (" + r.hash + ")";
    if (rec.state == RollbackState::failed && rec.to == s.current_hash) {
      out.push_back(Page{"CanaryGuardRollbackFailed", "page", reason_class(rec.reason),
                         "Rollback of " + kind + " " + label(s) + " did not finish",
                         "canary-guard rolled " + label(s) + " back from " + from + " (" + rec.reason +
                             ") but the target revision " + std::to_string(rec.to_revision) +
                             " did not roll out; the workload is held on it. Look at its pods and Events.",
                         rec.at});
    }
    const bool running = rec.state == RollbackState::started || rec.state == RollbackState::waiting;
    const bool done_on_target = rec.state == RollbackState::succeeded && rec.to == s.current_hash;
    if ((running || done_on_target) && now - rec.at < rollback_page_for) {
      out.push_back(Page{"CanaryGuardRollback", "warning", reason_class(rec.reason),
                         kind + " " + label(s) + " rolled back from " + from,
                         "canary-guard rolled " + label(s) + " back from " + from + " to revision " +
                             std::to_string(rec.to_revision) + " because of " + rec.reason +
                             ". The failed release needs a fix; `canary-guard explain -n " + s.ns + " " + token + "/" +
                             s.name + "` shows the evidence.",
                         rec.at});
    }
  }
  if (d.action == Action::rollback && !d.dry_run && d.current && d.target)
    out.push_back(Page{"CanaryGuardRollback", "warning", reason_class(d.reason),
                       kind + " " + label(s) + " rolled back from revision " + std::to_string(d.current->number) +
                           " (" + d.current->hash + ")",
                       d.message, now});
  if (d.action == Action::hold && held_reason(d.reason))
    out.push_back(Page{"CanaryGuardHeld", "warning", d.reason, "Rollback of " + kind + " " + label(s) + " held (" + d.reason + ")",
                       d.message, now});
  if (s.hold && s.hold->reason == "metrics_blind" && !(d.current && d.current->verdict))
    out.push_back(Page{"CanaryGuardBlind", "warning", "metrics_blind",
                       "Metric analysis of " + kind + " " + label(s) + " is blind",
                       s.hold->detail + "; the revision is neither rolled back nor verified while blind.", now});
  if (s.hold && s.hold->reason == "alerts_blind" && !(d.current && d.current->verdict))
    out.push_back(Page{"CanaryGuardBlind", "warning", "alerts_blind",
                       "The alert channel is blind for " + kind + " " + label(s),
                       s.hold->detail + "; the revision is not verified healthy while blind.", now});
  // One page per (alertname, reason): two records of the same class collapse into the newest.
  std::sort(out.begin(), out.end(), [](const Page& a, const Page& b) {
    return std::tie(a.alertname, a.reason, b.since) < std::tie(b.alertname, b.reason, a.since);
  });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const Page& a, const Page& b) { return a.alertname == b.alertname && a.reason == b.reason; }),
            out.end());
  return out;
}

}  // namespace canary_guard::guard
