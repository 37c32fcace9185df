#pragma once
// Kubernetes label selectors in their string form ("app=web,tier!=cache,env in (prod,staging),!legacy"), parsed
// once at config load and matched against a workload's labels on every reconcile. Same grammar and semantics as
// k8s.io/apimachinery/pkg/labels.Parse for the operators label selectors on workloads use (=, ==, !=, exists,
// !exists, in, notin); the numeric gt/lt operators are rejected.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/expected.hpp"

namespace canary_guard::config {

// Same type as probes::KeyValues (config must not include probes/, dependencies point config <- probes).
using KeyValues = std::vector<std::pair<std::string, std::string>>;

enum class SelectorOp { exists, does_not_exist, equals, not_equals, in, not_in };

struct Requirement {
  std::string key;
  SelectorOp op = SelectorOp::exists;
  std::vector<std::string> values;  // one for equals/not_equals, >= 1 for in/not_in, none otherwise
  bool operator==(const Requirement&) const = default;
};

struct SelectorError {
  std::size_t offset = 0;  // 0-based byte offset into the selector text where the problem starts
  std::string message;
};

// A parsed selector: all requirements must hold (AND). Empty selects everything.
class LabelSelector {
 public:
  static Expected<LabelSelector, SelectorError> parse(std::string_view text);

  // Kubernetes semantics: != and notin also match when the label is absent.
  bool matches(const KeyValues& labels) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }
  // Canonical text, e.g. "app=web,env in (prod,staging),!legacy"; parse(to_string()) gives the same selector.
  std::string to_string() const;

 private:
  std::vector<Requirement> requirements_;
};

// Validation shared with the configuration loader.
// Qualified name: [DNS-subdomain prefix "/"] name, name <= 63 chars of [A-Za-z0-9_.-], alphanumeric at both ends.
bool is_qualified_label_key(std::string_view key);
// Label value: empty, or <= 63 chars of [A-Za-z0-9_.-] with alphanumeric at both ends.
bool is_label_value(std::string_view value);
// DNS-1123 label (namespace names): <= 63 chars of [a-z0-9-], alphanumeric at both ends.
bool is_dns1123_label(std::string_view name);

}  // namespace canary_guard::config
