#pragma once
// SeriesFamily: one counter or gauge family whose series are named by workloads (namespace, workload, ...), kept
// with their text-format line prefix (`name{label="value",...} `) rendered once, when the series is created. A
// scrape is then a copy and a number per series: GET /metrics with 1,000 guarded workloads (about 20 series each)
// went from 53 ms through prometheus-cpp's Collect + TextSerializer to the figure tests/bench/bench_metrics_render
// prints (issue #12 §6: under 5 ms). The families without workload labels stay in the prometheus-cpp Registry.
//
// Semantics: label values are given in the order of the label names passed at construction (a wrong count is a
// programming error: the call is ignored, never a crash). add() creates a series at 0 and leaves an existing one
// alone; inc() and set() create it first. Series render in the order of their label values (stable scrapes).
// Thread-safe (one mutex; updates and scrapes are short).
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace canary_guard::app {

class SeriesFamily {
 public:
  enum class Type { counter, gauge };
  using Values = std::initializer_list<std::string_view>;

  SeriesFamily(std::string name, std::string help, Type type, std::vector<std::string> label_names);

  void add(Values values);
  void inc(Values values, double by = 1.0);
  void set(Values values, double value);
  // Sets a series only if it exists (false: absent, nothing created).
  bool set_existing(Values values, double value);
  bool remove(Values values);
  // Removes every series whose first label values equal `prefix` (e.g. namespace and workload). Returns how many.
  std::size_t remove_prefix(Values prefix);
  // Removes one workload's series: those whose `namespace` and `workload` labels (the first two) are `ns` and
  // `workload` and, in a family that also has a `kind` label, whose kind is `kind`. A family without a `kind` label
  // cannot tell a Deployment from a DaemonSet of the same name, so it loses the series both share (for a counter,
  // a reset, which rate() and increase() handle). A family not led by namespace and workload labels has no
  // workload series: nothing is removed. Returns how many were.
  std::size_t remove_workload(std::string_view ns, std::string_view workload, std::string_view kind);

  // Appends `# HELP`, `# TYPE` and one line per series in the Prometheus text format (version 0.0.4). A family
  // without series renders its HELP and TYPE only, as prometheus-cpp does.
  void render(std::string& out) const;

  // Whether any series' first label values equal `prefix`.
  bool has_prefix(Values prefix) const;
  // For tests: the value of one series, nullopt when absent.
  std::optional<double> value(Values values) const;
  std::size_t size() const;
  const std::string& name() const { return name_; }

 private:
  struct Series {
    std::string prefix;  // name{labels} and a space
    double value = 0;
  };
  // The key: label values joined by '\0' (a value cannot hold '\0' in a Kubernetes name).
  std::optional<std::string> key(Values values) const;
  Series& series(const std::string& key, Values values);  // mu_ held

  const std::string name_;
  const std::string header_;  // # HELP / # TYPE lines
  const std::vector<std::string> label_names_;
  mutable std::mutex mu_;
  std::map<std::string, Series> series_;
};

// The text format's sample value: shortest round-trip decimal, NaN, +Inf, -Inf.
void append_sample_value(std::string& out, double v);
// A label value with backslash, double quote and newline escaped.
void append_label_value(std::string& out, std::string_view v);

}  // namespace canary_guard::app
