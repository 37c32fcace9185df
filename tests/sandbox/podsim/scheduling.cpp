#include "tests/sandbox/podsim/scheduling.hpp"
#include "tests/sandbox/podsim/json_access.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace canary_guard::podsim {

namespace {

using json = nlohmann::json;
__extension__ typedef unsigned __int128 u128;  // GCC/Clang extension; -Wpedantic needs the marker
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();


bool is_digit(char c) { return c >= '0' && c <= '9'; }

// ceil(text * 10^extra10) for a quantity, saturated at kMax.
std::optional<std::int64_t> scaled(std::string_view s, int extra10) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    if (s[i] == '-') {
      // "-0" is zero; any other negative is not a request.
      bool all_zero = true;
      for (char c : s.substr(1))
        if (is_digit(c) && c != '0') all_zero = false;
      if (!all_zero) return std::nullopt;
    }
    ++i;
  }
  std::string digits;
  int exp10 = 0;
  bool any_digit = false;
  while (i < s.size() && is_digit(s[i])) digits += s[i++], any_digit = true;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) digits += s[i++], --exp10, any_digit = true;
  }
  if (!any_digit) return std::nullopt;

  const std::string_view suffix = s.substr(i);
  int exp2 = 0;
  if (suffix.empty()) {
  } else if (suffix.size() == 2 && suffix[1] == 'i') {
    static constexpr std::string_view kBinary = "KMGTPE";
    const auto pos = kBinary.find(suffix[0]);
    if (pos == std::string_view::npos) return std::nullopt;
    exp2 = 10 * static_cast<int>(pos + 1);
  } else if (suffix.size() == 1 && std::string_view("numkMGTPE").find(suffix[0]) != std::string_view::npos) {
    static constexpr std::pair<char, int> kDecimal[] = {{'n', -9}, {'u', -6}, {'m', -3}, {'k', 3},  {'M', 6},
                                                        {'G', 9},  {'T', 12}, {'P', 15}, {'E', 18}};
    for (const auto& [c, e] : kDecimal)
      if (c == suffix[0]) exp10 += e;
  } else if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::string_view e = suffix.substr(1);
    if (e.front() == '+') e.remove_prefix(1);
    int value = 0;
    const auto [ptr, ec] = std::from_chars(e.data(), e.data() + e.size(), value);
    if (ec != std::errc{} || ptr != e.data() + e.size() || value < -1000 || value > 1000) return std::nullopt;
    exp10 += value;
  } else {
    return std::nullopt;
  }
  exp10 += extra10;

  // Strip zeros that carry no value so only significant digits go into the 128-bit mantissa.
  const auto first = digits.find_first_not_of('0');
  if (first == std::string::npos) return 0;
  digits.erase(0, first);
  while (digits.back() == '0') digits.pop_back(), ++exp10;
  if (digits.size() > 20) return std::nullopt;
  u128 m = 0;
  for (char c : digits) m = m * 10 + static_cast<unsigned>(c - '0');
  m <<= exp2;  // < 10^20 * 2^60 < 2^128

  const u128 cap = static_cast<u128>(kMax);
  if (exp10 >= 0) {
    for (int k = 0; k < exp10; ++k) {
      if (m > cap) return kMax;
      m *= 10;
    }
    return m > cap ? kMax : static_cast<std::int64_t>(m);
  }
  if (-exp10 > 38) return 1;  // a positive amount smaller than one unit rounds up to one
  u128 div = 1;
  for (int k = 0; k < -exp10; ++k) div *= 10;
  const u128 q = m / div + (m % div != 0 ? 1 : 0);
  return q > cap ? kMax : static_cast<std::int64_t>(q);
}

std::int64_t sat_add(std::int64_t a, std::int64_t b) { return a > kMax - b ? kMax : a + b; }

struct Requests {
  std::int64_t cpu = 0, memory = 0;
};

// resources.requests of one container, or spec.overhead. Missing is zero; unreadable is a problem.
Requests requests_of(const json& list_or_map, const std::string& where, std::vector<std::string>& problems) {
  Requests r;
  if (list_or_map.is_null()) return r;
  if (!list_or_map.is_object()) {
    problems.push_back(where + " is not an object");
    return r;
  }
  const auto read = [&](const char* name, bool milli, std::int64_t& out) {
    const json& q = at(list_or_map, name);
    if (q.is_null()) return;
    const auto v = q.is_string() ? (milli ? quantity_milli(str(q)) : quantity_value(str(q))) : std::nullopt;
    if (v) out = *v;
    else problems.push_back(fmt::format("{}.{}: bad quantity {}", where, name, q.dump()));
  };
  read("cpu", true, r.cpu);
  read("memory", false, r.memory);
  return r;
}

std::vector<NodeSelectorRequirement> requirements_of(const json& list, const std::string& where, bool fields,
                                                     std::vector<std::string>& problems) {
  std::vector<NodeSelectorRequirement> out;
  if (list.is_null()) return out;
  if (!list.is_array()) {
    problems.push_back(where + " is not a list");
    return out;
  }
  for (const auto& item : list) {
    NodeSelectorRequirement r{str(at(item, "key")), str(at(item, "operator")), {}};
    const json& values = at(item, "values");
    if (values.is_array())
      for (const auto& v : values) r.values.push_back(str(v));
    const bool needs_values = r.op == "In" || r.op == "NotIn";
    const bool needs_one = r.op == "Gt" || r.op == "Lt";
    const bool needs_none = r.op == "Exists" || r.op == "DoesNotExist";
    bool ok = !r.key.empty() && (needs_values ? !r.values.empty()
                                 : needs_one  ? r.values.size() == 1
                                 : needs_none ? r.values.empty()
                                              : false);
    if (needs_one && ok) {
      std::int64_t n = 0;
      const auto& v = r.values.front();
      ok = std::from_chars(v.data(), v.data() + v.size(), n).ptr == v.data() + v.size() && !v.empty();
    }
    if (fields && (r.key != "metadata.name" || !needs_values)) ok = false;
    if (!ok) {
      problems.push_back(fmt::format("{}: unsupported requirement {}", where, item.dump()));
      continue;
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<std::int64_t> to_int(const std::string& s) {
  std::int64_t n = 0;
  if (s.empty()) return std::nullopt;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return n;
}

bool requirement_matches(const NodeSelectorRequirement& r, const std::map<std::string, std::string>& labels) {
  const auto it = labels.find(r.key);
  const bool has = it != labels.end();
  const auto in_values = [&] {
    return has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
  };
  if (r.op == "In") return in_values();
  if (r.op == "NotIn") return !in_values();
  if (r.op == "Exists") return has;
  if (r.op == "DoesNotExist") return !has;
  if (r.op == "Gt" || r.op == "Lt") {
    if (!has || r.values.size() != 1) return false;
    const auto label = to_int(it->second);
    const auto bound = to_int(r.values.front());
    if (!label || !bound) return false;
    return r.op == "Gt" ? *label > *bound : *label < *bound;
  }
  return false;
}

bool term_matches(const NodeSelectorTerm& term, const SchedNode& node) {
  if (term.match_expressions.empty() && term.match_fields.empty()) return false;
  for (const auto& r : term.match_expressions)
    if (!requirement_matches(r, node.labels)) return false;
  const std::map<std::string, std::string> fields{{"metadata.name", node.name}};
  for (const auto& r : term.match_fields)
    if (!requirement_matches(r, fields)) return false;
  return true;
}

}  // namespace

std::optional<std::int64_t> quantity_value(std::string_view text) { return scaled(text, 0); }
std::optional<std::int64_t> quantity_milli(std::string_view text) { return scaled(text, 3); }

SchedulingSpec parse_scheduling(const json& spec) {
  SchedulingSpec out;
  if (!spec.is_object()) return out;

  const json& selector = at(spec, "nodeSelector");
  if (selector.is_object()) {
    for (const auto& [k, v] : selector.items()) {
      if (v.is_string()) out.node_selector[k] = v.get<std::string>();
      else out.problems.push_back("nodeSelector." + k + " is not a string");
    }
  } else if (!selector.is_null()) {
    out.problems.push_back("nodeSelector is not an object");
  }

  const json& required =
      at(at(at(spec, "affinity"), "nodeAffinity"), "requiredDuringSchedulingIgnoredDuringExecution");
  if (!required.is_null()) {
    const json& terms = at(required, "nodeSelectorTerms");
    if (!terms.is_array()) {
      out.problems.push_back("nodeSelectorTerms is not a list");
    } else {
      out.required_terms.emplace();
      for (std::size_t i = 0; i < terms.size(); ++i) {
        const std::string where = fmt::format("nodeSelectorTerms[{}]", i);
        NodeSelectorTerm t;
        t.match_expressions =
            requirements_of(at(terms[i], "matchExpressions"), where + ".matchExpressions", false, out.problems);
        t.match_fields = requirements_of(at(terms[i], "matchFields"), where + ".matchFields", true, out.problems);
        out.required_terms->push_back(std::move(t));
      }
    }
  }

  Requests sum;
  const json& containers = at(spec, "containers");
  if (containers.is_array()) {
    for (const auto& c : containers) {
      const auto r = requests_of(at(at(c, "resources"), "requests"), "containers[" + str(at(c, "name")) + "]",
                                 out.problems);
      sum.cpu = sat_add(sum.cpu, r.cpu);
      sum.memory = sat_add(sum.memory, r.memory);
    }
  }
  // Init containers run one at a time before the others: the pod needs the largest of them, or the sum.
  const json& inits = at(spec, "initContainers");
  if (inits.is_array()) {
    for (const auto& c : inits) {
      const auto r = requests_of(at(at(c, "resources"), "requests"), "initContainers[" + str(at(c, "name")) + "]",
                                 out.problems);
      sum.cpu = std::max(sum.cpu, r.cpu);
      sum.memory = std::max(sum.memory, r.memory);
    }
  }
  const auto overhead = requests_of(at(spec, "overhead"), "overhead", out.problems);
  out.cpu_milli = sat_add(sum.cpu, overhead.cpu);
  out.memory_bytes = sat_add(sum.memory, overhead.memory);
  return out;
}

std::optional<SchedNode> parse_sched_node(const json& node) {
  SchedNode n;
  n.name = str(at(at(node, "metadata"), "name"));
  if (n.name.empty()) return std::nullopt;
  const json& labels = at(at(node, "metadata"), "labels");
  if (labels.is_object())
    for (const auto& [k, v] : labels.items())
      if (v.is_string()) n.labels[k] = v.get<std::string>();
  const json& alloc = at(at(node, "status"), "allocatable");
  const auto cpu = quantity_milli(str(at(alloc, "cpu")));
  const auto memory = quantity_value(str(at(alloc, "memory")));
  if (!cpu || !memory) return std::nullopt;
  n.cpu_milli = *cpu;
  n.memory_bytes = *memory;
  return n;
}

bool node_matches(const SchedulingSpec& pod, const SchedNode& node) {
  for (const auto& [k, v] : pod.node_selector) {
    const auto it = node.labels.find(k);
    if (it == node.labels.end() || it->second != v) return false;
  }
  if (pod.required_terms)
    return std::any_of(pod.required_terms->begin(), pod.required_terms->end(),
                       [&](const NodeSelectorTerm& t) { return term_matches(t, node); });
  return true;
}

SchedulingDecision decide_scheduling(const SchedulingSpec& pod, const std::vector<SchedNode>& nodes) {
  SchedulingDecision d;
  // Reason -> how many nodes gave it. Like the scheduler: affinity/selector is checked first and is the only
  // reason for a node that fails it; a node that passes it may lack both cpu and memory.
  std::map<std::string, int> reasons;
  for (const auto& node : nodes) {
    if (!pod.problems.empty()) {  // unreadable spec: schedulable anywhere (see SchedulingSpec::problems)
      d.feasible.push_back(node.name);
      continue;
    }
    if (!node_matches(pod, node)) {
      ++reasons["node(s) didn't match node selector"];
      continue;
    }
    const bool cpu_short = pod.cpu_milli > node.cpu_milli;
    const bool memory_short = pod.memory_bytes > node.memory_bytes;
    if (cpu_short) ++reasons["Insufficient cpu"];
    if (memory_short) ++reasons["Insufficient memory"];
    if (!cpu_short && !memory_short) d.feasible.push_back(node.name);
  }
  if (!d.feasible.empty()) return d;
  // The scheduler sorts "<count> <reason>" strings (so counts order first, as text).
  std::vector<std::string> parts;
  for (const auto& [reason, count] : reasons) parts.push_back(fmt::format("{} {}", count, reason));
  std::sort(parts.begin(), parts.end());
  d.message = nodes.empty() ? std::string("no nodes available to schedule pods")
                            : fmt::format("0/{} nodes are available: {}.", nodes.size(), fmt::join(parts, ", "));
  return d;
}

}  // namespace canary_guard::podsim
