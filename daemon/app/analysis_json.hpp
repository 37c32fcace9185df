#pragma once
// The wire format of the daemon's GET /analysis: the live metric analysis of every workload under analysis, one
// JSON array entry per workload and revision, with each check's last outcome and value (values the annotation
// canary-guard.io/analysis does not carry). render_analysis is the daemon's side, parse_analysis_entries the side of
// `canary-guard status --daemon`. Pure: no I/O, no clock.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/expected.hpp"
#include "daemon/guard/analysis_view.hpp"

namespace canary_guard::app {

// One check of one entry as read back from the daemon.
struct LiveCheck {
  std::string name;
  std::string last_outcome;       // "pass", "fail", "no_data", ...; "" = not evaluated yet
  std::optional<double> value;    // finite values only
  std::string value_text;         // "NaN", "+Inf", "-Inf" when the value was not finite; else ""
  std::string detail;
  std::string at;                 // RFC 3339 UTC; "" = not evaluated yet
  std::string window;             // 'P' / 'F', oldest first
  bool passed = false;
  bool tripped = false;
};

struct LiveEntry {
  std::string kind;  // Deployment | DaemonSet
  std::string ns;
  std::string workload;
  std::string revision_hash;
  std::vector<LiveCheck> checks;
};

// [{"kind","namespace","workload","revision_hash","checks":[{"name","last_outcome","value","detail","at","window",
// "passed","tripped"}]}]; value null when there is none or it is NaN / infinite (then "value_text" says which),
// last_outcome and at null before the first evaluation.
std::string render_analysis(const std::vector<guard::AnalysisSnapshot>& snapshot);

// The inverse, for untrusted input: an error when the body is not a JSON array; an entry (or a check) with a
// missing field or a field of the wrong type drops that whole entry. Never throws.
Expected<std::vector<LiveEntry>, std::string> parse_analysis_entries(std::string_view body);

}  // namespace canary_guard::app
