#include "daemon/guard/alert_store.hpp"

#include <algorithm>

namespace canary_guard::guard {

AlertStore::AlertStore(AlertStoreOptions options) : options_(std::move(options)) {}

void AlertStore::remember(const std::string& key) {
  if (!keys_.insert(key).second) return;
  key_order_.push_back(key);
  while (key_order_.size() > options_.max_keys) {
    keys_.erase(key_order_.front());
    key_order_.pop_front();
  }
}

AlertStore::Applied AlertStore::apply(const probes::WebhookMessage& message, TimePoint now) {
  Applied out;
  for (const auto& a : message.alerts) {
    const std::string* name = probes::find_value(a.labels, "alertname");
    const std::string alertname = name ? *name : std::string();
    if (!options_.heartbeat_alert.empty() && alertname == options_.heartbeat_alert) {
      // The heartbeat is about the channel, not a workload; every delivery counts, duplicates included (a repeat
      // after repeat_interval carries the same key and still proves the route works).
      if (a.status == "firing") {
        last_heartbeat_ = now;
        out.heartbeat = true;
      }
      continue;
    }
    const std::string key = probes::idempotency_key(a);
    if (seen(key)) {
      ++out.duplicates;
      continue;
    }
    if (a.status == "firing") {
      probes::Alert resolved = a;
      resolved.status = "resolved";
      if (seen(probes::idempotency_key(resolved))) {
        ++out.duplicates;  // a late firing copy of an episode that already ended
        continue;
      }
    }
    remember(key);
    if (alertname.rfind("CanaryGuard", 0) == 0) {
      // The daemon's own alerts, routed back to it: never evidence against a workload (no feedback loop).
      ++out.ignored;
      out.ignored_why.push_back("alertname=" + alertname + " reason=own_alert");
      continue;
    }
    const std::string* sev = probes::find_value(a.labels, "severity");
    const std::string severity = sev ? *sev : std::string();
    if (!options_.severities.empty() &&
        std::find(options_.severities.begin(), options_.severities.end(), severity) == options_.severities.end()) {
      ++out.ignored;
      out.ignored_why.push_back("alertname=" + alertname + " reason=severity severity=" +
                                (severity.empty() ? std::string("none") : severity));
      continue;
    }
    const std::string* ns = probes::find_value(a.labels, "namespace");
    const std::string* workload = nullptr;
    std::optional<Kind> kind;
    for (const auto& l : options_.workload_labels) {
      if ((workload = probes::find_value(a.labels, l))) {
        if (l == "deployment") kind = Kind::deployment;
        else if (l == "daemonset") kind = Kind::daemonset;
        break;
      }
    }
    if (!ns || ns->empty() || !workload || workload->empty()) {
      ++out.ignored;
      out.ignored_why.push_back("alertname=" + alertname + " reason=no_workload_label");
      continue;
    }
    if (a.status == "resolved") {
      auto it = firing_.find(a.fingerprint);
      // Only the episode it resolves: a resolved copy of an older episode leaves a newer one firing.
      if (it != firing_.end() && it->second.alert.starts_at <= a.starts_at) firing_.erase(it);
      ++out.accepted;
      out.workloads.emplace(*ns, *workload);
      continue;
    }
    if (auto it = firing_.find(a.fingerprint); it != firing_.end() && it->second.alert.starts_at > a.starts_at) {
      ++out.duplicates;  // an older episode arriving after a newer one
      continue;
    }
    firing_[a.fingerprint] = StoredAlert{a, *ns, *workload, kind, alertname, severity, now};
    ++out.accepted;
    out.workloads.emplace(*ns, *workload);
    if (firing_.size() > options_.max_alerts) {
      auto oldest = std::min_element(firing_.begin(), firing_.end(), [](const auto& x, const auto& y) {
        return x.second.received < y.second.received;
      });
      firing_.erase(oldest);
    }
  }
  return out;
}

std::vector<const StoredAlert*> AlertStore::firing_for(std::string_view ns, std::string_view name, Kind kind) const {
  std::vector<const StoredAlert*> out;
  for (const auto& [fp, s] : firing_)
    if (s.ns == ns && s.workload == name && (!s.kind || *s.kind == kind)) out.push_back(&s);
  return out;
}

bool AlertStore::forget(const std::string& fingerprint) { return firing_.erase(fingerprint) > 0; }

std::map<std::pair<std::string, std::string>, int> AlertStore::firing_by_workload() const {
  std::map<std::pair<std::string, std::string>, int> out;
  for (const auto& [fp, s] : firing_) ++out[{s.ns, s.workload}];
  return out;
}

}  // namespace canary_guard::guard
