#pragma once
// `canary-guard explain -n NS deployment/NAME` (or daemonset/NAME): the workload's decision timeline for its recent
// revisions, from what the cluster holds: each revision object with its start, the guard's verdict and rollback
// records, the persisted metric analysis, and the guard's Events; with --daemon the live analysis of the current
// revision. Shows when each revision started, what was found, holds and why, the verdict or the rollback with its
// target, and how long detection (revision start -> rollback decided) and restore (decided -> RollbackSucceeded)
// took. The first command an on-call person runs after being paged; `-o json` for tools.
// collect_explain does the I/O; the rendering is pure (table-tested in tests/unit/app_explain_test.cpp).
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "config/clock.hpp"
#include "daemon/app/analysis_json.hpp"
#include "daemon/guard/records.hpp"
#include "daemon/kube/client.hpp"

namespace canary_guard::app {

struct ExplainEvent {
  TimePoint at{};
  std::string type;  // Normal | Warning
  std::string reason;
  std::string message;
  int count = 1;
};

struct ExplainRevision {
  std::int64_t number = 0;
  std::string hash;
  std::string object;  // ReplicaSet / ControllerRevision name
  TimePoint created{};
  bool current = false;
  std::optional<guard::VerdictRecord> verdict;
  std::optional<guard::RollbackRecord> rollback;
  std::string checks = "-";  // the persisted analysis of its latest rollout: "error-ratio=PPF! p99=!" or "-"
};

struct Explanation {
  std::string kind;  // Deployment | DaemonSet
  std::string ns;
  std::string name;
  std::string current_hash;
  bool paused = false;
  std::vector<ExplainRevision> revisions;  // newest first, at most kMaxRevisions
  std::vector<ExplainEvent> events;        // the guard's Events on the workload, oldest first
  std::optional<LiveEntry> live;           // --daemon: the live analysis of the current revision
};
inline constexpr std::size_t kMaxRevisions = 6;

// "deployment/web", "deploy/web", "ds/agent", "daemonset/agent" -> (Deployment|DaemonSet, name); error text else.
Expected<std::pair<std::string, std::string>, std::string> parse_workload_arg(const std::string& arg);

boost::asio::awaitable<kube::Result<Explanation>> collect_explain(kube::Client& client, std::string kind, std::string ns,
                                                                  std::string name, std::string event_component);

void render_explain_text(const Explanation& e, std::ostream& out);
void render_explain_json(const Explanation& e, std::ostream& out);

}  // namespace canary_guard::app
