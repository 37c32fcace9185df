#pragma once
// The configuration model of canary-guard, its TOML loader and the per-workload view of it.
//
// load_file()/load_string() turn a TOML file into a validated Config or into *every* problem found, each with
// file, line and column (start-up problems are fatal; see style.md §4). resolve_policy() and is_guarded() apply a
// workload's canary-guard.io/* annotations on top of the file's defaults; they never fail, they report problems
// as strings so the guard can put them into a Kubernetes Event and carry on with the defaults.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/checks.hpp"
#include "config/expected.hpp"
#include "config/policy.hpp"
#include "config/selector.hpp"

namespace canary_guard::config {

// ---------------------------------------------------------------------------------------------------------------
// Model. Defaults here are the documented defaults (config/examples/canary-guard.toml).

struct KubernetesSection {
  std::string kubeconfig;  // empty: $KUBECONFIG, then ~/.kube/config, then in-cluster
  std::string context;     // empty: the kubeconfig's current-context
  int max_requests_in_flight = 32;  // API requests (not watches) at once; more wait their turn
};

enum class SelectionMode { opt_out, opt_in };

struct Selection {
  std::vector<std::string> namespaces;                       // empty: all namespaces
  std::vector<std::string> exclude_namespaces{"kube-system"};
  std::string label_selector_text;                           // as written in the file
  LabelSelector label_selector;                              // parsed form of label_selector_text
  SelectionMode mode = SelectionMode::opt_out;
  std::vector<std::string> kinds{"Deployment", "DaemonSet"};
};

struct ServerSection {
  std::string listen = "127.0.0.1:9464";  // as written
  std::string host = "127.0.0.1";         // without IPv6 brackets
  std::uint16_t port = 9464;              // 0: let the kernel choose (tests)
  // TLS for every endpoint when both are set (PEM; the certificate file may hold the chain). Re-read when either
  // file changes (a renewed certificate applies to new connections without a restart). Empty: plain HTTP.
  std::string cert_file;
  std::string key_file;
};

enum class LogLevel { trace, debug, info, warn, error };
enum class LogFormat { text, json };

// [alertmanager]: firing alerts as a rollback trigger (POST /v1/alertmanager), the re-check before acting, and the
// daemon's own alerts (spec/probes.md §3). url empty: no re-check possible and no own alerts.
struct AlertmanagerSection {
  std::string url;                 // base URL of Alertmanager's API: re-checks (GET /api/v2/alerts), own alerts
  std::string webhook_token_file;  // the Bearer token Alertmanager sends; empty: the webhook endpoint is off (404)
  std::vector<std::string> workload_labels{"workload", "deployment", "daemonset"};  // first present names it
  std::vector<std::string> severities{"critical", "page"};  // alerts of other severities are logged only
  std::chrono::milliseconds alert_grace{30'000};  // an alert that started this long before a revision still counts
  bool act_on_healthy = false;     // a revision already verified healthy is rolled back by an alert too
  std::string heartbeat_alert;     // an always-firing alert routed to the daemon ("Watchdog"); empty: none
  std::chrono::milliseconds heartbeat_timeout{0};  // 0: 5 minutes when heartbeat_alert is set
  std::string runbook_url;         // annotation runbook_url of the daemon's own alerts
  std::chrono::milliseconds repost_interval{60'000};  // own alerts are re-posted this often while they hold
  bool own_alerts = true;          // post CanaryGuardRollback/... when url is set
  // The receiver that routes to this daemon in Alertmanager's configuration. Set: at start and on taking the lead,
  // the alerts already active for it are read (GET /api/v2/alerts?receiver=...), so a restart or a new leader does
  // not wait for Alertmanager's repeat_interval to learn them. Empty: only what the webhook delivers.
  std::string receiver;
  bool enabled() const { return !webhook_token_file.empty(); }
};

// [[notify]]: a webhook for teams without Alertmanager (JSON, or a Slack-compatible incoming-webhook message).
enum class NotifyFormat { json, slack };
struct NotifyTarget {
  std::string url;  // http:// (a local relay or the cluster-internal Service)
  NotifyFormat format = NotifyFormat::json;
  std::vector<std::string> events{"RollbackStarted", "RollbackSucceeded", "RollbackFailed", "Held", "Blind"};
  std::string bearer_token_file;
};
inline const std::vector<std::string_view> kNotifyEvents{"RollbackStarted", "RollbackSucceeded", "RollbackFailed",
                                                         "Held", "Blind"};

// [leader_election]: two or more replicas, one actor (a coordination.k8s.io/v1 Lease, client-go semantics).
struct LeaderElectionSection {
  bool enabled = false;
  std::string lease_namespace = "canary-guard";
  std::string lease_name = "canary-guard";
  std::string identity;  // empty: hostname + "_" + a random suffix
  std::chrono::milliseconds lease_duration{15'000};
  std::chrono::milliseconds renew_deadline{10'000};
  std::chrono::milliseconds retry_period{2'000};
};

struct LogSection {
  LogLevel level = LogLevel::info;
  LogFormat format = LogFormat::text;
};

// One problem in a configuration file. line/column are 1-based; 0 when the problem has no position
// (e.g. the file cannot be read).
struct Diagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;
};

struct Config {
  std::string source_file;  // where it was loaded from (for messages)
  KubernetesSection kubernetes;
  Selection selection;
  Policy defaults;  // [guard] and [pods]; enabled follows selection.mode (false for opt-in)
  int max_concurrent_rollbacks = 3;
  std::string event_component = "canary-guard";
  ServerSection server;
  LogSection log;
  PrometheusSection prometheus;  // url empty: no metric analysis
  AnalysisSection analysis;
  AlertmanagerSection alertmanager;
  std::vector<NotifyTarget> notify;
  LeaderElectionSection leader_election;
  std::vector<Check> checks;  // validated, in file order, with [vars] merged into each Check::vars
  // Settings that load but will likely not do what their author meant (check-config prints them, the daemon logs
  // them at start); never a reason to refuse the file.
  std::vector<Diagnostic> warnings;
};

struct ListenAddress {
  std::string host;  // IPv4 literal, IPv6 literal without brackets, or a host name
  std::uint16_t port = 0;
};
// "host:port" or "[v6]:port" as [server] listen takes it (also for a --listen command-line override). The error
// says what is wrong, e.g. "an IPv6 address needs brackets (e.g. \"[::1]:9464\")".
Expected<ListenAddress, std::string> parse_listen(std::string_view text);

std::string_view to_string(SelectionMode m);
std::string_view to_string(LogLevel l);
std::string_view to_string(LogFormat f);
std::string_view to_string(KnownBadAction a);

// ---------------------------------------------------------------------------------------------------------------
// Loading.

// "file:line:col: error: message" (or "file: error: message" without a position), as compilers print them,
// so editors can jump to the spot.
std::string format(const Diagnostic& d);
// The same with "warning:" for Config::warnings.
std::string format_warning(const Diagnostic& d);

// Compare mode needs the stable revision's series at the evaluation time, and a rolling update removes the stable
// pods: counted from the new revision's first Ready pod, a query evaluated at t (eval_lag behind the clock) sees them
// while t - eval_lag - window < the rollout's duration, and counts from max(initial_delay, eval_lag + window) (R2.6).
// The number of comparisons a rollout of `rollout` gives, one per interval. The loader warns when a typical small
// rollout (kTypicalRollout) gives fewer than `failures`: such a check cannot catch a bad release by comparison.
inline constexpr std::chrono::seconds kTypicalRollout{30};
long comparisons_in_rollout(const Check& check, std::chrono::milliseconds eval_lag, std::chrono::milliseconds rollout);

using LoadResult = Expected<Config, std::vector<Diagnostic>>;

// Files larger than this are rejected unread: a configuration file is a few KiB.
inline constexpr std::size_t kMaxConfigBytes = 1 << 20;

LoadResult load_file(const std::string& path);
LoadResult load_string(std::string_view toml, std::string_view file_name);

// ---------------------------------------------------------------------------------------------------------------
// Per-workload overrides.

namespace annotation {
inline constexpr std::string_view prefix = "canary-guard.io/";
inline constexpr std::string_view enabled = "canary-guard.io/enabled";
inline constexpr std::string_view dry_run = "canary-guard.io/dry-run";
inline constexpr std::string_view bake_time = "canary-guard.io/bake-time";
inline constexpr std::string_view progress_deadline = "canary-guard.io/progress-deadline";
inline constexpr std::string_view on_known_bad = "canary-guard.io/on-known-bad";
inline constexpr std::string_view crashloop_restarts = "canary-guard.io/crashloop-restarts";
inline constexpr std::string_view image_pull_grace = "canary-guard.io/image-pull-grace";
inline constexpr std::string_view ready_grace = "canary-guard.io/ready-grace";
// Comma-separated [[check]] names that apply to this workload (of those its selection allows); "none": no metric
// analysis for it.
inline constexpr std::string_view checks = "canary-guard.io/checks";
// Keys the guard itself writes (state it keeps on the object). resolve_policy() ignores every key that starts
// with one of these, e.g. canary-guard.io/verdict or canary-guard.io/rollback-revision.
inline constexpr std::array<std::string_view, 4> guard_written_prefixes{
    "canary-guard.io/verdict", "canary-guard.io/rollback", "canary-guard.io/hold", "canary-guard.io/analysis"};
}  // namespace annotation

struct Resolved {
  Policy policy;
  // One sentence per ignored annotation, naming the annotation, the value and why, e.g.
  // `annotation canary-guard.io/bake-time="5 min" ignored: ...; using the default 5m`.
  std::vector<std::string> problems;
};

// The configuration's defaults overlaid with the workload's canary-guard.io/* annotations. An invalid value
// keeps the default for that field. canary-guard.io/progress-deadline sets daemonset_progress_deadline (a
// Deployment has its own spec.progressDeadlineSeconds). policy.enabled reports the opt-in/opt-out outcome for
// the annotations alone; is_guarded() is the full answer.
Resolved resolve_policy(const Config& config, const KeyValues& annotations);

// Whether canary-guard watches this workload: its kind is configured, its namespace is selected and not
// excluded, its labels match the selector, and the mode allows it (opt-in: canary-guard.io/enabled="true";
// opt-out: anything but "false"). An invalid canary-guard.io/enabled value means "not guarded" in either mode
// (doubt means no action); resolve_policy() reports it.
bool is_guarded(const Config& config, std::string_view ns, const KeyValues& labels, const KeyValues& annotations,
                std::string_view kind);

}  // namespace canary_guard::config
