#pragma once
// Metric analysis configuration: the [prometheus] section, the [analysis] section and the [[check]] tables
// (../shared/spec/probes.md §0-2, §5). The key names are user interface. Loaded and validated by config/load.cpp
// (every problem with line:column); rendered per workload by render_template() (or for many at once by render_batch()). Pure data and pure functions.
//
//   [prometheus]
//   url = "http://127.0.0.1:9090"   # empty or absent: metric analysis is off
//   timeout = "10s"                 # client deadline per request; the server-side `timeout` sent is 80 % of it
//   eval_lag = "30s"                # queries are evaluated at now - eval_lag (R1.2)
//   bearer_token_file = "..."       # or basic_auth_user + basic_auth_password_file (not both)
//   ca_file = "..."                 # https: verify against this CA (else the system store)
//   accept_warnings = false         # R1.8: a response with warnings is ERROR(partial) unless true
//
//   [analysis]
//   max_blind = "25s"               # default 5 x the smallest check interval (R2.3)
//   pause_when_blind = false        # also pause a Deployment while blind; resumed when checks are decisive again
//   batch = true                    # one query per check for all workloads (false: one per workload)
//
//   [vars]                          # vars.NAME for every check
//   [[check]]
//   name = "error-ratio"            # [a-z0-9_-]{1,63}, unique
//   query = '''...{{revision_label}}="{{revision_hash}}"...'''
//   max = 0.05                      # and/or min; inclusive-pass (R2.5)
//   interval = "5s"
//   failures = 3                    # roll back at `failures` FAIL among the last `of` decisive outcomes
//   of = 5
//   initial_delay = "0s"
//   on_no_data = "ignore"           # "ignore" | "fail"
//   on_error = "ignore"             # "ignore" | "fail"
//   namespaces = [], kinds = [], selector = ""   # which workloads it applies to (all when empty)
//   [check.min_samples]             # optional: below `min`, the outcome is NO_DATA (low traffic is no evidence)
//   query = '''...'''
//   min = 20
//   [check.compare]                 # optional: the new revision against the stable one while both run
//   max_ratio = 1.5
//   margin = 0.01
//   direction = "increase"          # "increase" (FAIL when new > stable*max_ratio+margin) | "decrease"
//   [check.vars]                    # vars.NAME for this check (overrides [vars])
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/expected.hpp"
#include "config/selector.hpp"

namespace canary_guard::config {

using Millis = std::chrono::milliseconds;

struct PrometheusSection {
  std::string url;  // empty: analysis off
  Millis timeout{10'000};
  Millis eval_lag{30'000};
  std::string bearer_token_file;
  std::string basic_auth_user;
  std::string basic_auth_password_file;
  std::string ca_file;
  bool accept_warnings = false;
};

struct AnalysisSection {
  std::optional<Millis> max_blind;  // nullopt: 5 x the smallest check interval
  bool pause_when_blind = false;
  bool batch = true;
};

enum class OnOutcome { ignore, fail };
enum class CompareDirection { increase, decrease };

struct CompareSpec {
  double max_ratio = 1.0;
  double margin = 0.0;
  CompareDirection direction = CompareDirection::increase;
};

struct MinSamplesSpec {
  std::string query;  // template, like Check::query
  double min = 0;
};

struct Check {
  std::string name;
  std::string query;  // template text as written
  std::optional<double> min;
  std::optional<double> max;
  Millis interval{5'000};
  int failures = 3;
  int of = 5;
  Millis initial_delay{0};
  OnOutcome on_no_data = OnOutcome::ignore;
  OnOutcome on_error = OnOutcome::ignore;
  std::optional<MinSamplesSpec> min_samples;
  std::optional<CompareSpec> compare;
  std::vector<std::string> namespaces;  // empty: all
  std::vector<std::string> kinds;       // empty: all ("Deployment", "DaemonSet")
  std::string selector_text;
  LabelSelector selector;
  std::map<std::string, std::string, std::less<>> vars;  // merged: [vars] overlaid with [check.vars]
  // The longest range selector in the query ([30s] -> 30 s), for the warm-up rule R2.6; 0 when it has none.
  Millis range_window{0};
  // Whether one query can serve all workloads: the template's result keeps `namespace` and the revision label
  // (a `sum by (...)` / `by` clause naming both, or no aggregation at all). Set by the loader.
  bool batchable = false;
  std::string not_batchable_reason;  // one sentence when !batchable
  int line = 0, column = 0;          // of the [[check]] table, for messages
};

// The template variables of one evaluation. revision_label is pod_template_hash (Deployment) or
// controller_revision_hash (DaemonSet).
struct CheckTarget {
  std::string ns;
  std::string workload;
  std::string kind;  // Deployment | DaemonSet
  std::string revision_hash;
  std::string stable_hash;  // empty when no stable revision runs
};

inline constexpr std::string_view kTemplateVariables[] = {"namespace", "workload",    "kind",     "revision_hash",
                                                          "revision_label", "stable_hash", "interval"};

struct RenderError {
  std::size_t offset = 0;  // byte offset of the "{{" in the template
  std::string message;
};

// Replaces {{name}} / {{ name }} (name: a kTemplateVariables entry or vars.NAME) with its value, escaped as the
// inside of a PromQL double-quoted string literal (\ and " escaped, control bytes as escapes), so a label value
// cannot inject PromQL. In the value of a regex matcher (=~, !~) the per-workload values (namespace, workload,
// revision_hash, stable_hash) are regex-quoted first: a name is never a pattern (vars.* stay as written, so a var
// may hold a regex). `interval` renders as a PromQL duration ("5s"). An unknown variable or a malformed "{{" is
// an error (the loader reports it with line:column at load time, so it cannot happen at run time).
Expected<std::string, RenderError> render_template(std::string_view tmpl, const Check& check, const CheckTarget& t);

// Batching: the same template rendered for several targets at once, selecting for every target exactly the
// series its own render_template() query selects. Every label matcher whose value holds a per-workload variable
// becomes a regex matcher over each target's whole rendered value, each distinct value once: label="{{ns}}/{{w}}"
// -> label=~"shop/web|shop/api" (values regex-quoted); label=~"{{w}}-.*" -> label=~"(?:web-.*)|(?:api-.*)"
// (grouped). An error where that is impossible: a per-workload variable in a negative matcher (!=, !~: one query
// cannot exclude each workload's value from that workload's series only), outside a matcher value, or outside a
// string literal; batchability_of() reports the same, so the loader marks such checks unbatchable.
Expected<std::string, RenderError> render_batch(std::string_view tmpl, const Check& check,
                                                const std::vector<CheckTarget>& targets);

// "pod_template_hash" | "controller_revision_hash"
std::string_view revision_label_for(std::string_view kind);

// ---------------------------------------------------------------------------------------------------------------
// Added for the loader and check-config (pure helpers over a template's text).

// Whether the template uses {{name}} (or {{ name }}) anywhere; false for a malformed template.
bool uses_variable(std::string_view tmpl, std::string_view name);

// The longest range selector in the template ("[30s]", "[5m:1m]" counts its 5m range; PromQL units ms s m h d w
// y, combinable as "1h30m"); a range written with a template variable ("[{{interval}}]") counts as `interval`.
// Ranges inside string literals are not ranges. 0 when there is none.
Millis range_window_of(std::string_view tmpl, Millis interval);

struct Batchability {
  bool batchable = true;
  std::string reason;  // one sentence when !batchable
};
// The heuristic behind Check::batchable. Per-workload variables only in positive label matchers (see
// render_batch). Every aggregation operator in the template (sum avg min max count group
// stddev stdvar quantile topk bottomk count_values, found as a word followed by "(" or a by/without clause,
// outside string literals) must keep `namespace` and the revision label: a by (...) clause naming both
// (the revision label as {{revision_label}}, pod_template_hash or controller_revision_hash), or a without (...)
// clause removing neither. A template without aggregations keeps every label. Functions such as
// histogram_quantile keep their argument's labels and so do not count on their own. Not analysed: vector
// matching (on/ignoring) and label_replace, which a batch query rarely needs.
Batchability batchability_of(std::string_view tmpl);

}  // namespace canary_guard::config
