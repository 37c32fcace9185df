// Rendering and analysis of [[check]] query templates (config/checks.hpp). Pure functions over strings: the
// loader runs them once per check at start-up, the analysis once per evaluation.
#include "config/checks.hpp"

#include <algorithm>
#include <cstdio>

#include "config/duration.hpp"

namespace canary_guard::config {
namespace {

struct Segment {
  std::size_t begin = 0, end = 0;  // the literal text, or the whole {{...}} of a variable
  bool is_var = false;
  std::string name;  // of a variable, without spaces
};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
  return out + "\"";
}

// Splits a template into literal text and {{name}} / {{ name }} variables. Names are kTemplateVariables entries
// or vars.NAME (NAME: letters, digits, '_'); whether vars.NAME exists is for the caller to say.
Expected<std::vector<Segment>, RenderError> parse_template(std::string_view t) {
  std::vector<Segment> out;
  std::size_t pos = 0;
  while (pos < t.size()) {
    const std::size_t open = t.find("{{", pos);
    if (open == std::string_view::npos) break;
    if (open > pos) out.push_back({pos, open, false, {}});
    std::size_t i = open + 2;
    while (i < t.size() && t[i] == ' ') ++i;
    const std::size_t name_begin = i;
    while (i < t.size() && (is_name_char(t[i]) || t[i] == '.')) ++i;
    const std::string_view name = t.substr(name_begin, i - name_begin);
    while (i < t.size() && t[i] == ' ') ++i;
    if (name.empty() || t.substr(i, 2) != "}}")
      return unexpected(RenderError{open, "malformed \"{{\": expected {{name}} or {{ name }}"});
    const bool known = std::find(std::begin(kTemplateVariables), std::end(kTemplateVariables), name) !=
                       std::end(kTemplateVariables);
    const bool var = name.starts_with("vars.") && name.size() > 5 &&
                     std::all_of(name.begin() + 5, name.end(), is_name_char);
    if (!known && !var) {
      std::string names;
      for (std::string_view v : kTemplateVariables) names += (names.empty() ? "" : ", ") + std::string(v);
      return unexpected(
          RenderError{open, "unknown template variable " + quoted(name) + " (one of " + names + ", vars.NAME)"});
    }
    out.push_back({open, i + 2, true, std::string(name)});
    pos = i + 2;
  }
  if (pos < t.size()) out.push_back({pos, t.size(), false, {}});
  return out;
}

// The inside of a PromQL double-quoted string literal (Go escapes), so no value can close the quotes.
std::string string_escaped(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (u < 0x20 || u == 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(u));
      out += buf;
    } else out += c;
  }
  return out;
}

// RE2 quoting of a literal value for an =~ alternation.
std::string regex_quoted(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (std::string_view("\\.+*?()|[]{}^$").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

bool is_batch_variable(std::string_view name) {
  return name == "revision_hash" || name == "namespace" || name == "workload" || name == "stable_hash";
}

std::string_view target_value(const CheckTarget& t, std::string_view name) {
  if (name == "namespace") return t.ns;
  if (name == "workload") return t.workload;
  if (name == "kind") return t.kind;
  if (name == "revision_hash") return t.revision_hash;
  return t.stable_hash;  // stable_hash; the other names are handled by the caller
}

// Shared by render_template and render_batch. `value` renders a per-target variable (already escaped).
template <class Value>
Expected<std::string, RenderError> render(std::string_view tmpl, const Check& check, std::string_view kind,
                                          bool batch, Value value) {
  auto segments = parse_template(tmpl);
  if (!segments) return unexpected(std::move(segments.error()));
  std::string out;
  out.reserve(tmpl.size() + 64);
  std::size_t literal_floor = 0;  // the template text before this may be a rendered value, not a literal
  for (const Segment& s : *segments) {
    if (!s.is_var) {
      out.append(tmpl.substr(s.begin, s.end - s.begin));
      continue;
    }
    const std::string_view name = s.name;
    if (name == "revision_label") out += revision_label_for(kind);
    else if (name == "interval") out += format_duration(check.interval);
    else if (name.starts_with("vars.")) {
      const auto it = check.vars.find(name.substr(5));
      if (it == check.vars.end())
        return unexpected(RenderError{s.begin, "unknown template variable " + quoted(name) + " (not in [vars] or " +
                                                   "[check.vars])"});
      out += string_escaped(it->second);
    } else {
      if (batch && is_batch_variable(name) && s.begin > literal_floor && tmpl[s.begin - 1] == '"' &&
          tmpl.substr(s.end, 1) == "\"") {
        // label="{{var}}" -> label=~"a|b"; label!="{{var}}" -> label!~"a|b". The operator is literal text that
        // was copied unchanged, so its offset from the end of `out` is its offset from the "{{" in the template.
        std::size_t q = s.begin - 1;  // the opening quote
        while (q > literal_floor && tmpl[q - 1] == ' ') --q;
        if (q > literal_floor && tmpl[q - 1] == '=') {
          const std::size_t eq_back = s.begin - (q - 1);  // characters from the '=' to the end of `out`
          const std::size_t eq = out.size() - eq_back;
          const char before = q - 1 > literal_floor ? tmpl[q - 2] : '\0';
          if (before == '!') out[eq] = '~';
          else if (before != '=' && before != '~') out.insert(eq + 1, 1, '~');
        }
      }
      out += value(name);
    }
    literal_floor = s.end;
  }
  return out;
}

// PromQL durations: one or more number+unit, units y w d h m s ms (largest first, as Prometheus requires).
std::optional<Millis> parse_promql_duration(std::string_view s) {
  static constexpr std::pair<std::string_view, std::int64_t> kUnits[] = {
      {"y", 365LL * 86'400'000}, {"w", 7LL * 86'400'000}, {"d", 86'400'000}, {"h", 3'600'000},
      {"ms", 1},                 {"m", 60'000},           {"s", 1'000}};
  if (s.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    std::int64_t n = 0;
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && n < 1'000'000'000) n = n * 10 + (s[i++] - '0');
    if (i == start) return std::nullopt;
    bool matched = false;
    for (const auto& [unit, ms] : kUnits)
      if (s.substr(i, unit.size()) == unit) {
        total += n * ms;
        i += unit.size();
        matched = true;
        break;
      }
    if (!matched) return std::nullopt;
  }
  return Millis{total};
}

// The template with string literals blanked out (same length, so offsets stay valid): brackets, parentheses
// and words inside label values are not syntax.
std::string without_strings(std::string_view t) {
  std::string out(t);
  char quote = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    if (quote) {
      if (c == '\\' && quote != '`' && i + 1 < out.size()) {
        out[i] = out[i + 1] = ' ';
        ++i;
        continue;
      }
      if (c == quote) quote = 0;
      else out[i] = ' ';
    } else if (c == '"' || c == '\'' || c == '`') {
      quote = c;
    } else if (c == '#') {  // a comment runs to the end of the line
      while (i < out.size() && out[i] != '\n') out[i++] = ' ';
    }
  }
  return out;
}

std::size_t skip_space(std::string_view s, std::size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

// Index just after the ')' matching the '(' at `open`, or npos.
std::size_t after_matching(std::string_view s, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < s.size(); ++i) {
    if (s[i] == '(') ++depth;
    else if (s[i] == ')' && --depth == 0) return i + 1;
  }
  return std::string_view::npos;
}

struct Grouping {
  std::string keyword;  // "by" | "without" | "" (none)
  std::vector<std::string> labels;
};

// Reads "by (a, b)" / "without (a)" at `i`; advances `i` past it.
std::optional<Grouping> read_grouping(std::string_view s, std::size_t& i) {
  std::size_t j = skip_space(s, i);
  for (std::string_view kw : {std::string_view("without"), std::string_view("by")}) {
    if (s.substr(j, kw.size()) != kw || (j + kw.size() < s.size() && is_name_char(s[j + kw.size()]))) continue;
    std::size_t open = skip_space(s, j + kw.size());
    if (open >= s.size() || s[open] != '(') return std::nullopt;
    const std::size_t close = after_matching(s, open);
    if (close == std::string_view::npos) return std::nullopt;
    Grouping g{std::string(kw), {}};
    std::string label;
    for (char c : s.substr(open + 1, close - open - 2)) {
      if (c == ',') {
        g.labels.push_back(label);
        label.clear();
      } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') label += c;
    }
    if (!label.empty()) g.labels.push_back(label);
    i = close;
    return g;
  }
  return std::nullopt;
}

bool is_revision_label(std::string_view l) {
  return l == "{{revision_label}}" || l == "pod_template_hash" || l == "controller_revision_hash";
}

}  // namespace

std::string_view revision_label_for(std::string_view kind) {
  return kind == "DaemonSet" ? "controller_revision_hash" : "pod_template_hash";
}

Expected<std::string, RenderError> render_template(std::string_view tmpl, const Check& check, const CheckTarget& t) {
  return render(tmpl, check, t.kind, false, [&](std::string_view name) { return string_escaped(target_value(t, name)); });
}

Expected<std::string, RenderError> render_batch(std::string_view tmpl, const Check& check,
                                                const std::vector<CheckTarget>& targets) {
  if (targets.empty()) return unexpected(RenderError{0, "a batch needs at least one workload"});
  // kind and revision_label have one value per query: a batch holds workloads of one kind.
  for (const CheckTarget& t : targets)
    if (t.kind != targets.front().kind)
      return unexpected(RenderError{0, "a batch holds workloads of one kind (found " + targets.front().kind +
                                           " and " + t.kind + ")"});
  return render(tmpl, check, targets.front().kind, true, [&](std::string_view name) {
    if (name == "kind") return string_escaped(targets.front().kind);
    // Each distinct non-empty value once, in the order of the targets (several workloads share a namespace;
    // a workload without a stable revision has no stable_hash to match).
    std::vector<std::string_view> seen;
    std::string out;
    for (const CheckTarget& t : targets) {
      const std::string_view v = target_value(t, name);
      if (v.empty() || std::find(seen.begin(), seen.end(), v) != seen.end()) continue;
      seen.push_back(v);
      out += (out.empty() ? "" : "|") + string_escaped(regex_quoted(v));
    }
    return out;
  });
}

bool uses_variable(std::string_view tmpl, std::string_view name) {
  const auto segments = parse_template(tmpl);
  if (!segments) return false;
  return std::any_of(segments->begin(), segments->end(), [&](const Segment& s) { return s.is_var && s.name == name; });
}

Millis range_window_of(std::string_view tmpl, Millis interval) {
  const std::string s = without_strings(tmpl);
  Millis longest{0};
  for (std::size_t open = s.find('['); open != std::string::npos; open = s.find('[', open + 1)) {
    const std::size_t close = s.find(']', open);
    if (close == std::string::npos) break;
    std::string_view range = std::string_view(s).substr(open + 1, close - open - 1);
    range = range.substr(0, range.find(':'));  // a subquery [5m:1m] looks back over its range
    while (!range.empty() && range.front() == ' ') range.remove_prefix(1);
    while (!range.empty() && range.back() == ' ') range.remove_suffix(1);
    Millis d{0};
    if (range.starts_with("{{")) d = interval;
    else if (auto p = parse_promql_duration(range)) d = *p;
    longest = std::max(longest, d);
  }
  return longest;
}

Batchability batchability_of(std::string_view tmpl) {
  static constexpr std::string_view kAggregations[] = {"sum",    "avg",    "min",  "max",  "count",
                                                       "group",  "stddev", "stdvar", "quantile", "topk",
                                                       "bottomk", "count_values"};
  std::string text = without_strings(tmpl);
  // "{{ revision_label }}" and "{{revision_label}}" are the same label.
  for (std::size_t p = text.find("{{ "); p != std::string::npos; p = text.find("{{ ", p)) text.erase(p + 2, 1);
  for (std::size_t p = text.find(" }}"); p != std::string::npos; p = text.find(" }}", p)) text.erase(p, 1);
  const std::string_view s = text;
  for (std::size_t i = 0; i < s.size();) {
    if (!is_name_char(s[i]) || (i > 0 && (is_name_char(s[i - 1]) || s[i - 1] == ':' || s[i - 1] == '.'))) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < s.size() && (is_name_char(s[end]) || s[end] == ':')) ++end;
    const std::string_view word = s.substr(i, end - i);
    const std::size_t word_at = i;
    i = end;
    if (std::find(std::begin(kAggregations), std::end(kAggregations), word) == std::end(kAggregations)) continue;
    // Prefix form "sum by (...) (expr)" or postfix form "sum (expr) by (...)".
    std::size_t j = end;
    std::optional<Grouping> g = read_grouping(s, j);
    j = skip_space(s, j);
    if (j >= s.size() || s[j] != '(') continue;  // a label or metric named like an aggregation
    if (!g) {
      std::size_t k = after_matching(s, j);
      if (k != std::string_view::npos) g = read_grouping(s, k);
    }
    const std::string where = std::string(word) + " at offset " + std::to_string(word_at) + " of the query";
    auto has = [&](auto pred) { return g && std::any_of(g->labels.begin(), g->labels.end(), pred); };
    const bool ns = has([](const std::string& l) { return l == "namespace"; });
    const bool rev = has([](const std::string& l) { return is_revision_label(l); });
    std::string lost;
    if (!g) lost = "namespace and the revision label";
    else if (g->keyword == "by" && !ns && !rev) lost = "namespace and the revision label";
    else if (g->keyword == "by" && !ns) lost = "namespace";
    else if (g->keyword == "by" && !rev) lost = "the revision label";
    else if (g->keyword == "without" && ns && rev) lost = "namespace and the revision label";
    else if (g->keyword == "without" && ns) lost = "namespace";
    else if (g->keyword == "without" && rev) lost = "the revision label";
    if (lost.empty()) continue;
    std::string labels;
    if (g)
      for (const auto& x : g->labels) labels += (labels.empty() ? "" : ", ") + x;
    const std::string how = !g ? " has no by (...) clause" : " groups " + g->keyword + " (" + labels + ")";
    return {false, where + how + ", so its result loses " + lost +
                       " (add by (namespace, {{revision_label}}) to batch it)"};
  }
  return {};
}

}  // namespace canary_guard::config
