#pragma once
// AlertStore: the alerts Alertmanager delivered to POST /v1/alertmanager, as the guard's observe() reads them.
// Holds the firing alerts that name a workload (label `namespace` plus the first of `workload_labels` present), the
// idempotency keys already seen, and when the heartbeat alert last arrived. Pure: no Asio, no JSON, no clock reads
// (time is passed in). Owned by the daemon wiring; touched only on the io thread.
//
// Rules (spec/probes.md §3.2, §3.4):
//  - Alertmanager delivers at least once (HA peers, retries after 5xx, the same group again after a 4xx): a
//    notification is applied per alert, keyed by (fingerprint, startsAt, status); a key seen before is a duplicate
//    and changes nothing. The key set is bounded (oldest forgotten first).
//  - A resolved notification ends the alert; a late firing copy of an alert already resolved (same fingerprint and
//    startsAt) does not bring it back.
//  - Alerts of a severity not listed are counted as ignored, never stored: they are logged, never acted on.
//  - An alert that names no workload (no `namespace` or no workload label) is ignored too, and so are the daemon's
//    own alerts (alertname CanaryGuard...) when a route sends them back: a page is never evidence.
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/clock.hpp"
#include "daemon/guard/workload_key.hpp"
#include "probes/alerts.hpp"

namespace canary_guard::guard {

struct AlertStoreOptions {
  std::vector<std::string> workload_labels{"workload", "deployment", "daemonset"};
  std::vector<std::string> severities{"critical", "page"};  // empty: any severity
  std::string heartbeat_alert;                               // alertname of the heartbeat; empty: none
  std::size_t max_keys = 20'000;                             // idempotency keys remembered
  std::size_t max_alerts = 10'000;                           // firing alerts held (the oldest beyond are dropped)
};

// A firing alert that names a workload.
struct StoredAlert {
  probes::Alert alert;
  std::string ns;
  std::string workload;
  std::optional<Kind> kind;  // set when the label that named it was "deployment" or "daemonset"
  std::string alertname;
  std::string severity;
  TimePoint received{};
};

class AlertStore {
 public:
  explicit AlertStore(AlertStoreOptions options);

  struct Applied {
    int accepted = 0;    // alerts that changed what is stored (new firing, or resolved)
    int duplicates = 0;  // seen before: nothing changed
    int ignored = 0;     // other severity, or no workload named
    bool heartbeat = false;
    // Workloads whose alerts changed (namespace, name): the caller enqueues them.
    std::set<std::pair<std::string, std::string>> workloads;
    // One line per ignored alert, for the log ("alertname=X reason=severity severity=info").
    std::vector<std::string> ignored_why;
  };
  Applied apply(const probes::WebhookMessage& message, TimePoint now);

  // Firing alerts naming workload ns/name of `kind` (a "workload" label names either kind).
  std::vector<const StoredAlert*> firing_for(std::string_view ns, std::string_view name, Kind kind) const;
  const StoredAlert* find(const std::string& fingerprint) const {
    auto it = firing_.find(fingerprint);
    return it == firing_.end() ? nullptr : &it->second;
  }
  // Forgets one firing alert (the re-check found it resolved, silenced or inhibited). Returns whether it was held.
  // Its key stays known, so a replay of the same notification does not bring it back.
  bool forget(const std::string& fingerprint);

  std::optional<TimePoint> last_heartbeat() const { return last_heartbeat_; }
  // The alert channel is blind: a heartbeat alert is configured and none arrived within heartbeat_timeout (set by
  // the heartbeat watch, AlertWiring). While blind, Alertmanager's silence proves nothing: a revision under bake is
  // not verified healthy (observe: hold `alerts_blind`), a failure still rolls it back. `since`: when it went blind.
  void set_blind(std::optional<TimePoint> since) { blind_since_ = since; }
  std::optional<TimePoint> blind_since() const { return blind_since_; }
  std::size_t firing_count() const { return firing_.size(); }
  // Number of firing alerts per workload (namespace, name), for canary_guard_alerts_firing.
  std::map<std::pair<std::string, std::string>, int> firing_by_workload() const;

 private:
  bool seen(const std::string& key) const { return keys_.count(key) > 0; }
  void remember(const std::string& key);

  AlertStoreOptions options_;
  std::map<std::string, StoredAlert> firing_;  // by fingerprint
  std::set<std::string> keys_;
  std::deque<std::string> key_order_;  // oldest first, for the bound
  std::optional<TimePoint> last_heartbeat_;
  std::optional<TimePoint> blind_since_;
};

}  // namespace canary_guard::guard
