// Rendering and analysis of [[check]] query templates (config/checks.hpp). Pure functions over strings: the
// loader runs them once per check at start-up, the analysis once per evaluation.
#include "config/checks.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>

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

// The value of a PromQL string literal's inside (Go escapes for "..." and '...', none for `...`), as Prometheus
// reads it; nullopt for an escape PromQL rejects.
std::optional<std::string> decoded_literal(std::string_view s, char quote) {
  if (quote == '`') return std::string(s);
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  auto utf8 = [](std::string& out, std::uint32_t cp) {
    if (cp < 0x80) out += static_cast<char>(cp);
    else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i >= s.size()) return std::nullopt;
    const char e = s[i];
    switch (e) {
      case 'a': out += '\a'; continue;
      case 'b': out += '\b'; continue;
      case 'f': out += '\f'; continue;
      case 'n': out += '\n'; continue;
      case 'r': out += '\r'; continue;
      case 't': out += '\t'; continue;
      case 'v': out += '\v'; continue;
      case '\\': case '"': case '\'': out += e; continue;
      default: break;
    }
    std::size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : (e >= '0' && e <= '7') ? 3 : 0;
    if (digits == 0) return std::nullopt;
    const bool octal = e >= '0' && e <= '7';
    const std::size_t from = octal ? i : i + 1;
    if (from + digits > s.size()) return std::nullopt;
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < digits; ++k) {
      const int d = hex(s[from + k]);
      if (d < 0 || (octal && d > 7)) return std::nullopt;
      v = v * (octal ? 8 : 16) + static_cast<std::uint32_t>(d);
    }
    i = from + digits - 1;
    if (e == 'x' || octal) {
      if (v > 0xff) return std::nullopt;
      out += static_cast<char>(v);
    } else {
      if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) return std::nullopt;
      utf8(out, v);
    }
  }
  return out;
}

// A string literal of a template: the positions of its quotes. Comments are skipped; an unterminated literal
// runs to the end (close == size()).
struct Literal {
  std::size_t open = 0, close = 0;
  char quote = '"';
};

std::vector<Literal> string_literals(std::string_view t) {
  std::vector<Literal> out;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '#') {
      while (i < t.size() && t[i] != '\n') ++i;
    } else if (c == '"' || c == '\'' || c == '`') {
      Literal l{i, t.size(), c};
      for (++i; i < t.size(); ++i) {
        if (t[i] == '\\' && c != '`') ++i;
        else if (t[i] == c) break;
      }
      l.close = std::min(i, t.size());
      out.push_back(l);
    }
  }
  return out;
}

// The label-matcher operator ("=", "!=", "=~", "!~") whose value is the literal `l`, or "" when the literal is not
// a matcher value (a function argument, a comparison): back from the opening quote, the operator, the label name
// (also written {{revision_label}}), then '{' or ','.
std::string matcher_operator(std::string_view t, const Literal& l) {
  std::size_t i = l.open;
  auto back_space = [&] {
    while (i > 0 && (t[i - 1] == ' ' || t[i - 1] == '\t' || t[i - 1] == '\n' || t[i - 1] == '\r')) --i;
  };
  back_space();
  std::string op;
  const std::string_view two = i >= 2 ? t.substr(i - 2, 2) : std::string_view();
  if (two == "=~" || two == "!~" || two == "!=") op = std::string(two);
  else if (two == "==") return "";
  else if (i >= 1 && t[i - 1] == '=') op = "=";
  else return "";
  i -= op.size();
  back_space();
  const std::size_t label_end = i;
  if (i >= 2 && t.substr(i - 2, 2) == "}}") {
    const std::size_t open = t.rfind("{{", i - 2);
    if (open != std::string_view::npos) i = open;
  } else {
    while (i > 0 && is_name_char(t[i - 1])) --i;
  }
  if (i == label_end) return "";
  back_space();
  if (i == 0 || (t[i - 1] != '{' && t[i - 1] != ',')) return "";
  return op;
}

// Where the operator of the matcher whose value is `l` begins (matcher_operator() must have found one).
std::size_t operator_begin(std::string_view t, const Literal& l, std::size_t op_size) {
  std::size_t i = l.open;
  while (i > 0 && (t[i - 1] == ' ' || t[i - 1] == '\t' || t[i - 1] == '\n' || t[i - 1] == '\r')) --i;
  return i - op_size;
}

// Renders [from, to) of a template for one workload: every variable substituted, values escaped as string-literal
// insides. A per-workload value (namespace, workload, revision_hash, stable_hash) in the value of a regex matcher
// (=~, !~) is regex-quoted too: it is a name, never a pattern (workload "a.b" must not select "aXb").
Expected<std::string, RenderError> render_range(std::string_view tmpl, std::size_t from, std::size_t to,
                                                const Check& check, const CheckTarget& t) {
  auto segments = parse_template(tmpl);
  if (!segments) return unexpected(std::move(segments.error()));
  const std::vector<Literal> literals = string_literals(tmpl);
  std::string out;
  out.reserve(to - from + 64);
  for (const Segment& s : *segments) {
    if (s.end <= from || s.begin >= to) continue;
    if (!s.is_var) {
      const std::size_t b = std::max(s.begin, from), e = std::min(s.end, to);
      out.append(tmpl.substr(b, e - b));
      continue;
    }
    const std::string_view name = s.name;
    if (name == "revision_label") out += revision_label_for(t.kind);
    else if (name == "interval") out += format_duration(check.interval);
    else if (name.starts_with("vars.")) {
      const auto it = check.vars.find(name.substr(5));
      if (it == check.vars.end())
        return unexpected(RenderError{s.begin, "unknown template variable " + quoted(name) + " (not in [vars] or " +
                                                   "[check.vars])"});
      out += string_escaped(it->second);
    } else if (is_batch_variable(name)) {
      const auto lit = std::find_if(literals.begin(), literals.end(),
                                    [&](const Literal& l) { return l.open < s.begin && s.end <= l.close; });
      const std::string op = lit == literals.end() ? std::string() : matcher_operator(tmpl, *lit);
      const std::string_view v = target_value(t, name);
      out += string_escaped(op == "=~" || op == "!~" ? regex_quoted(v) : std::string(v));
    } else {
      out += string_escaped(target_value(t, name));  // kind
    }
  }
  return out;
}

// A label matcher whose value holds a per-workload variable: in a batch its value becomes the alternation of
// every workload's own rendering of it.
struct BatchMatcher {
  std::size_t op_begin = 0;  // the operator ("=" or "=~")
  Literal value;
  bool regex = false;  // =~ (else =)
};

// Every matcher of the template whose value holds {{namespace}}, {{workload}}, {{revision_hash}} or
// {{stable_hash}} (kind, revision_label, interval and vars.* have one value per batch), or why the template cannot
// be batched without changing what it selects for some workload.
Expected<std::vector<BatchMatcher>, RenderError> batch_matchers(std::string_view t) {
  auto segments = parse_template(t);
  if (!segments) return unexpected(std::move(segments.error()));
  const std::vector<Literal> literals = string_literals(t);
  std::vector<BatchMatcher> out;
  for (const Segment& s : *segments) {
    if (!s.is_var || !is_batch_variable(s.name)) continue;
    const auto lit = std::find_if(literals.begin(), literals.end(),
                                  [&](const Literal& l) { return l.open < s.begin && s.end <= l.close; });
    const std::string var = "{{" + s.name + "}} at offset " + std::to_string(s.begin);
    if (lit == literals.end() || lit->close >= t.size())
      return unexpected(RenderError{s.begin, var + " is not inside a string literal"});
    if (!out.empty() && out.back().value.open == lit->open) continue;  // a second variable in the same value
    const std::string op = matcher_operator(t, *lit);
    if (op.empty())
      return unexpected(RenderError{s.begin, var + " is not the value of a label matcher, so one query cannot "
                                             "select each workload's series"});
    const std::size_t op_begin = operator_begin(t, *lit, op.size());
    if (op[0] == '!')
      return unexpected(RenderError{s.begin, var + " is in a negative matcher (" + op + "): one query cannot "
                                             "exclude each workload's own value only from that workload's series"});
    // The literal text must be readable, so its per-workload values can be re-quoted.
    std::string_view inner = t.substr(lit->open + 1, lit->close - lit->open - 1);
    std::string literal_only;
    for (std::size_t k = 0; k < inner.size(); ++k) {
      const std::size_t at = lit->open + 1 + k;
      const auto var_here = std::find_if(segments->begin(), segments->end(),
                                         [&](const Segment& x) { return x.is_var && x.begin == at; });
      if (var_here != segments->end()) {
        k += var_here->end - var_here->begin - 1;
        continue;
      }
      literal_only += inner[k];
    }
    if (!decoded_literal(literal_only, lit->quote))
      return unexpected(RenderError{lit->open, "the string literal at offset " + std::to_string(lit->open) +
                                                   " has an escape PromQL does not accept"});
    out.push_back({op_begin, *lit, op == "=~"});
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
  return render_range(tmpl, 0, tmpl.size(), check, t);
}

Expected<std::string, RenderError> render_batch(std::string_view tmpl, const Check& check,
                                                const std::vector<CheckTarget>& targets) {
  if (targets.empty()) return unexpected(RenderError{0, "a batch needs at least one workload"});
  // kind and revision_label have one value per query: a batch holds workloads of one kind.
  for (const CheckTarget& t : targets)
    if (t.kind != targets.front().kind)
      return unexpected(RenderError{0, "a batch holds workloads of one kind (found " + targets.front().kind +
                                           " and " + t.kind + ")"});
  auto matchers = batch_matchers(tmpl);
  if (!matchers) return unexpected(std::move(matchers.error()));
  std::string out;
  std::size_t pos = 0;
  // The text between the matchers holds no per-workload variable: rendered once, for the first workload.
  auto plain = [&](std::size_t end) -> Expected<Ok, RenderError> {
    auto r = render_range(tmpl, pos, end, check, targets.front());
    if (!r) return unexpected(std::move(r.error()));
    out += *r;
    return Ok{};
  };
  for (const BatchMatcher& m : *matchers) {
    if (auto r = plain(m.op_begin); !r) return unexpected(std::move(r.error()));
    // Each workload's whole value, as its own query reads it; = values regex-quoted, =~ values grouped, each
    // distinct value once: label=~"(?:web-.*)|(?:api-.*)" selects for every workload exactly its own label="..."
    // or label=~"..." series.
    std::vector<std::string> seen;
    std::string alternation;
    for (const CheckTarget& t : targets) {
      auto raw = render_range(tmpl, m.value.open + 1, m.value.close, check, t);
      if (!raw) return unexpected(std::move(raw.error()));
      auto value = decoded_literal(*raw, m.value.quote);
      if (!value) return unexpected(RenderError{m.value.open, "a rendered value is not a valid string literal"});
      if (std::find(seen.begin(), seen.end(), *value) != seen.end()) continue;
      seen.push_back(*value);
      if (!alternation.empty()) alternation += '|';
      alternation += m.regex ? "(?:" + *value + ")" : regex_quoted(*value);
    }
    out += "=~\"" + string_escaped(alternation) + "\"";
    pos = m.value.close + 1;
  }
  if (auto r = plain(tmpl.size()); !r) return unexpected(std::move(r.error()));
  return out;
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
  // Per-workload variables only where a batch can alternate them (positive label matchers).
  if (auto m = batch_matchers(tmpl); !m) return {false, m.error().message};
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
