// TOML -> Config. Reads with toml++ (its source regions give line:column), then validates every key it knows
// and reports every key it does not, collecting all problems instead of stopping at the first one.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <utility>

#include <toml++/toml.h>

#include "config/checks.hpp"
#include "config/config.hpp"
#include "config/duration.hpp"

namespace canary_guard::config {
namespace {

struct SectionSchema {
  std::string_view name;
  std::vector<std::string_view> keys;
};

// Every key the file may contain. Used for unknown-key errors and their "did you mean" hints.
const std::vector<SectionSchema> kSchema{
    {"kubernetes", {"kubeconfig", "context", "max_requests_in_flight"}},
    {"selection", {"namespaces", "exclude_namespaces", "label_selector", "mode", "kinds"}},
    {"guard",
     {"dry_run", "bake_time", "daemonset_progress_deadline", "max_concurrent_rollbacks", "on_known_bad",
      "known_bad_min_interval", "event_component"}},
    {"pods",
     {"crashloop_restarts", "crashloop_unready_restarts", "image_pull_grace", "config_error_grace", "oom_kills", "schedule_grace",
      "unschedulable_is_failure", "ready_grace"}},
    {"server", {"listen", "cert_file", "key_file"}},
    {"log", {"level", "format"}},
    {"prometheus",
     {"url", "timeout", "eval_lag", "bearer_token_file", "basic_auth_user", "basic_auth_password_file", "ca_file",
      "accept_warnings"}},
    {"analysis", {"max_blind", "pause_when_blind", "batch"}},
    {"alertmanager",
     {"url", "webhook_token_file", "workload_labels", "severities", "alert_grace", "act_on_healthy", "heartbeat_alert",
      "heartbeat_timeout", "runbook_url", "repost_interval", "own_alerts", "receiver"}},
    // [[check]] and its sub-tables (config/checks.hpp). [vars] and [check.vars] take any NAME.
    {"check",
     {"name", "query", "min", "max", "interval", "failures", "of", "initial_delay", "on_no_data", "on_error",
      "namespaces", "kinds", "selector", "min_samples", "compare", "vars"}},
    {"notify", {"url", "format", "events", "bearer_token_file"}},
    {"leader_election",
     {"enabled", "lease_namespace", "lease_name", "identity", "lease_duration", "renew_deadline", "retry_period"}},
    {"check.min_samples", {"query", "min"}},
    {"check.compare", {"max_ratio", "margin", "direction"}},
};

// How a section is written in the file, for messages.
std::string header(std::string_view section) {
  if (section == "check") return "[[check]]";
  return "[" + std::string(section) + "]";
}

// A [vars] / [check.vars] NAME, as {{vars.NAME}} can spell it.
bool is_var_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  });
}

// [a-z0-9_-]{1,63}: check names appear in metrics labels, annotations and logs.
bool is_check_name(std::string_view s) {
  return !s.empty() && s.size() <= 63 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// Field names of the canary-guard.io/analysis record (probes/metric_analysis.hpp), which holds one field per check.
bool is_reserved_check_name(std::string_view s) {
  return s == "hash" || s == "rollout" || s == "stable" || s == "decisive" || s == "blind";
}

// The sample workload check-config and the loader render templates for.
CheckTarget sample_target() { return {"default", "example", "Deployment", "0123456789", "abcdef0123"}; }

// Quotes a value from the file for a message, shortened so one absurd value cannot flood the terminal.
std::string in_quotes(std::string_view s) {
  constexpr std::size_t kMax = 80;
  const bool cut = s.size() > kMax;
  if (cut) s = s.substr(0, kMax);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += '?';
      continue;
    }
    out += c;
  }
  return out + (cut ? "...\"" : "\"");
}

std::string normalized(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c == '-') c = '_';
  }
  return out;
}

// Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent transpositions
// ("gaurd" is one edit from "guard").
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// The closest candidate, if it is plausibly what was meant: within a small edit distance (case and '-' vs
// '_' do not count), or a prefix either way ("warning" -> "warn").
std::optional<std::string_view> closest(std::string_view word, const std::vector<std::string_view>& candidates) {
  const std::string w = normalized(word);
  if (w.empty()) return std::nullopt;
  std::optional<std::string_view> best;
  std::size_t best_d = std::numeric_limits<std::size_t>::max();
  for (std::string_view c : candidates) {
    const std::string n = normalized(c);
    std::size_t d = edit_distance(w, n);
    if (w.size() >= 3 && n.size() >= 3 && (n.starts_with(w) || w.starts_with(n))) d = std::min<std::size_t>(d, 1);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  const std::size_t limit = std::min<std::size_t>(3, w.size() / 4 + 1);
  if (best && best_d <= limit) return best;
  return std::nullopt;
}

std::string_view type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

std::string found(const toml::node& n) {
  std::string out = "found ";
  out += type_name(n.type());
  if (const auto* s = n.as_string()) out += " " + in_quotes(s->get());
  else if (const auto* i = n.as_integer()) out += " " + std::to_string(i->get());
  else if (const auto* b = n.as_boolean()) out += b->get() ? " true" : " false";
  return out;
}

// Walks the parsed document section by section. Holds the diagnostics found so far.
class Loader {
 public:
  Loader(std::string_view text, std::string_view file) : file_(file) {
    std::size_t start = 0;
    while (start <= text.size()) {
      const std::size_t nl = text.find('\n', start);
      lines_.push_back(text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
  }

  LoadResult run(std::string_view text) {
    toml::table root;
    try {
      root = toml::parse(text, std::string_view(file_));
    } catch (const toml::parse_error& e) {
      add(e.source().begin, std::string(e.description()));
      return unexpected(std::move(diags_));
    } catch (const std::exception& e) {
      diags_.push_back({file_, 0, 0, std::string("cannot parse: ") + e.what()});
      return unexpected(std::move(diags_));
    }
    Config c;
    c.source_file = file_;
    check_top_level(root);
    if (const auto* t = section(root, "kubernetes")) kubernetes(*t, c.kubernetes);
    const toml::table* sel = section(root, "selection");
    if (sel) selection(*sel, c.selection);
    if (const auto* t = section(root, "guard")) guard(*t, c);
    if (const auto* t = section(root, "pods")) pods(*t, c.defaults.pods);
    if (const auto* t = section(root, "server")) server(*t, c.server);
    if (const auto* t = section(root, "log")) log(*t, c.log);
    if (const auto* t = section(root, "prometheus")) prometheus(*t, c.prometheus);
    if (const auto* t = section(root, "analysis")) analysis(*t, c.analysis);
    if (const auto* t = section(root, "alertmanager")) alertmanager(*t, c.alertmanager);
    if (const toml::node* n = root.get("notify")) notify(*n, c.notify);
    if (const auto* t = section(root, "leader_election")) leader_election(*t, c.leader_election);
    std::map<std::string, std::string, std::less<>> vars;
    if (const toml::node* n = root.get("vars")) {
      section_ = "vars";
      read_vars(*n, vars);
    }
    if (const toml::node* n = root.get("check")) checks(*n, vars, c);
    if (!c.checks.empty() && c.prometheus.url.empty())
      add_at(c.checks.front().line, c.checks.front().column, "checks need [prometheus] url");
    c.defaults.enabled = c.selection.mode == SelectionMode::opt_out;
    compare_timing(c);
    if (!diags_.empty()) {
      std::stable_sort(diags_.begin(), diags_.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return std::pair(a.line, a.column) < std::pair(b.line, b.column);
      });
      return unexpected(std::move(diags_));
    }
    return c;
  }

 private:
  void add(const toml::source_position& p, std::string msg) {
    // One diagnostic per output line, whatever the file contained.
    for (char& c : msg)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    diags_.push_back({file_, static_cast<int>(p.line), static_cast<int>(p.column), std::move(msg)});
  }
  void add(const toml::node& n, std::string msg) { add(n.source().begin, std::move(msg)); }
  void add_at(int line, int column, std::string msg) {
    toml::source_position p{static_cast<toml::source_index>(line), static_cast<toml::source_index>(column)};
    add(p, std::move(msg));
  }

  // Column of byte `offset` inside a string value, when the value is written literally on one line (no
  // escapes); otherwise the column of the string itself.
  toml::source_position position_in(const toml::node& n, std::string_view value, std::size_t offset) const {
    toml::source_position p = n.source().begin;
    if (p.line == 0 || p.line > lines_.size() || p.column == 0) return p;
    const std::string_view line = lines_[p.line - 1];
    const std::size_t col = p.column - 1;
    if (col >= line.size() || (line[col] != '"' && line[col] != '\'')) return p;
    const char q = line[col];
    if (line.substr(col + 1, value.size()) != value || line.size() <= col + 1 + value.size() ||
        line[col + 1 + value.size()] != q)
      return p;
    p.column = static_cast<toml::source_index>(p.column + 1 + offset);
    return p;
  }

  void check_top_level(const toml::table& root) {
    const std::vector<std::string_view> names = {"kubernetes", "selection", "guard",    "pods",  "server",
                                                 "log",        "prometheus", "analysis", "alertmanager", "notify", "leader_election", "vars", "check"};
    for (auto&& [k, v] : root) {
      if (std::find(names.begin(), names.end(), k.str()) != names.end()) continue;
      std::string msg = "unknown key " + in_quotes(k.str());
      if (auto home = section_of(k.str())) msg += "; it belongs in " + header(*home);
      else if (auto s = closest(k.str(), names)) msg += "; did you mean " + header(*s) + "?";
      else
        msg += " (sections are [kubernetes], [selection], [guard], [pods], [server], [log], [prometheus], "
               "[analysis], [alertmanager], [[notify]], [leader_election], [vars], [[check]])";
      add(k.source().begin, std::move(msg));
      (void)v;
    }
  }

  static std::optional<std::string_view> section_of(std::string_view key) {
    for (const auto& s : kSchema)
      if (std::find(s.keys.begin(), s.keys.end(), key) != s.keys.end()) return s.name;
    return std::nullopt;
  }

  // The section's table after checking its keys, or nullptr when absent or not a table.
  const toml::table* section(const toml::table& root, std::string_view name) {
    const toml::node* n = root.get(name);
    if (!n) return nullptr;
    const toml::table* t = n->as_table();
    if (!t) {
      add(*n, std::string(name) + ": expected a table ([" + std::string(name) + "]), " + found(*n));
      return nullptr;
    }
    check_keys(*t, name);
    section_ = name;
    return t;
  }

  // Unknown keys of a table that follows schema `name` (a kSchema entry).
  void check_keys(const toml::table& t, std::string_view name) {
    const SectionSchema* schema = nullptr;
    for (const auto& s : kSchema)
      if (s.name == name) schema = &s;
    for (auto&& [k, v] : t) {
      if (std::find(schema->keys.begin(), schema->keys.end(), k.str()) != schema->keys.end()) continue;
      std::string msg = "unknown key " + in_quotes(k.str()) + " in " + header(name);
      // A key of another section (a compare-mode key written in [[check]], where it would be ignored) says where
      // it belongs, before any near-miss spelling.
      if (auto home = section_of(k.str())) msg += "; it belongs in " + header(*home);
      else if (auto s = closest(k.str(), schema->keys)) msg += "; did you mean " + in_quotes(*s) + "?";
      add(k.source().begin, std::move(msg));
      (void)v;
    }
  }

  std::string path(std::string_view key) const { return section_ + "." + std::string(key); }

  const toml::node* typed(const toml::table& t, std::string_view key, toml::node_type want, std::string_view what) {
    const toml::node* n = t.get(key);
    if (!n) return nullptr;
    if (n->type() != want) {
      add(*n, path(key) + ": expected " + std::string(what) + ", " + found(*n));
      return nullptr;
    }
    return n;
  }

  void read_bool(const toml::table& t, std::string_view key, bool& out) {
    if (const auto* n = typed(t, key, toml::node_type::boolean, "true or false")) out = n->as_boolean()->get();
  }

  const toml::value<std::string>* read_string(const toml::table& t, std::string_view key, std::string& out) {
    const auto* n = typed(t, key, toml::node_type::string, "a string");
    if (!n) return nullptr;
    out = n->as_string()->get();
    return n->as_string();
  }

  template <class Int>
  void read_int(const toml::table& t, std::string_view key, std::int64_t min, Int& out) {
    const auto* n = typed(t, key, toml::node_type::integer, "an integer");
    if (!n) return;
    const std::int64_t v = n->as_integer()->get();
    const std::int64_t max = std::numeric_limits<std::int32_t>::max();
    if (v < min) add(*n, path(key) + ": must be at least " + std::to_string(min) + ", found " + std::to_string(v));
    else if (v > max) add(*n, path(key) + ": must be at most " + std::to_string(max) + ", found " + std::to_string(v));
    else out = static_cast<Int>(v);
  }

  // Returns the node when the key held a valid duration.
  template <class D>
  const toml::node* read_duration(const toml::table& t, std::string_view key, bool allow_zero, D& out) {
    const toml::node* n = t.get(key);
    if (!n) return nullptr;
    const auto* s = n->as_string();
    if (!s) {
      std::string msg = path(key) + ": expected a duration string such as \"5m\", " + found(*n);
      if (const auto* i = n->as_integer()) msg += " (durations need a unit, e.g. \"" + std::to_string(i->get()) + "s\")";
      add(*n, std::move(msg));
      return nullptr;
    }
    const std::string& text = s->get();
    auto d = parse_duration(text);
    if (!d) {
      add(*n, path(key) + ": invalid duration " + in_quotes(text) + ": " + d.error());
      return nullptr;
    }
    if (auto problem = duration_limit_problem(*d, allow_zero)) {
      add(*n, path(key) + ": " + in_quotes(text) + " " + *problem);
      return nullptr;
    }
    out = std::chrono::duration_cast<D>(*d);
    return n;
  }

  template <class E>
  void read_choice(const toml::table& t, std::string_view key, std::initializer_list<std::pair<std::string_view, E>> choices,
                   E& out) {
    std::string text;
    const auto* n = read_string(t, key, text);
    if (!n) return;
    std::string names;
    for (const auto& [name, value] : choices) {
      if (name == text) {
        out = value;
        return;
      }
      names += (names.empty() ? "" : ", ") + in_quotes(name);
    }
    std::string msg = path(key) + ": invalid value " + in_quotes(text) + " (one of " + names + ")";
    std::vector<std::string_view> list;
    for (const auto& c : choices) list.push_back(c.first);
    if (auto c = closest(text, list)) msg += "; did you mean " + in_quotes(*c) + "?";
    add(*n, std::move(msg));
  }

  // An array of strings; `check` returns a problem for an element or nullopt. `out` is replaced only when
  // every element is valid; `valid` (if given) receives each valid element's node. Returns whether the key
  // was written.
  bool read_string_array(const toml::table& t, std::string_view key, std::vector<std::string>& out,
                         const std::function<std::optional<std::string>(const std::string&)>& check,
                         std::vector<const toml::value<std::string>*>* valid = nullptr) {
    const auto* n = typed(t, key, toml::node_type::array, "an array of strings");
    if (!n) return t.contains(key);
    std::vector<std::string> values;
    bool ok = true;
    for (const toml::node& e : *n->as_array()) {
      const auto* s = e.as_string();
      if (!s) {
        add(e, path(key) + ": expected a string, " + found(e));
        ok = false;
        continue;
      }
      if (auto problem = check(s->get())) {
        add(e, path(key) + ": " + in_quotes(s->get()) + " " + *problem);
        ok = false;
        continue;
      }
      values.push_back(s->get());
      if (valid) valid->push_back(s);
    }
    if (ok) out = std::move(values);
    return true;
  }

  void kubernetes(const toml::table& t, KubernetesSection& k) {
    read_string(t, "kubeconfig", k.kubeconfig);
    read_string(t, "context", k.context);
    read_int(t, "max_requests_in_flight", 1, k.max_requests_in_flight);
  }

  void selection(const toml::table& t, Selection& s) {
    const auto namespace_check = [](const std::string& v) -> std::optional<std::string> {
      if (is_dns1123_label(v)) return std::nullopt;
      return std::string("is not a valid namespace name (lowercase letters, digits and '-', at most 63)");
    };
    std::vector<const toml::value<std::string>*> listed;
    read_string_array(t, "namespaces", s.namespaces, namespace_check, &listed);
    const bool exclude_written = read_string_array(t, "exclude_namespaces", s.exclude_namespaces, namespace_check);
    // Listing a namespace and excluding it is contradictory; exclusion would win silently.
    for (const auto* n : listed) {
      const std::string& ns = n->get();
      if (std::find(s.exclude_namespaces.begin(), s.exclude_namespaces.end(), ns) == s.exclude_namespaces.end())
        continue;
      add(*n, path("namespaces") + ": " + in_quotes(ns) + " is also in selection.exclude_namespaces" +
                  (exclude_written ? "" : " (by default; set exclude_namespaces to guard it)"));
    }

    if (const auto* n = read_string(t, "label_selector", s.label_selector_text)) {
      auto sel = LabelSelector::parse(s.label_selector_text);
      if (sel) s.label_selector = std::move(*sel);
      else add(position_in(*n, s.label_selector_text, sel.error().offset),
               path("label_selector") + ": " + sel.error().message);
    }
    read_choice<SelectionMode>(t, "mode", {{"opt-out", SelectionMode::opt_out}, {"opt-in", SelectionMode::opt_in}}, s.mode);

    const auto kind_check = [](const std::string& v) -> std::optional<std::string> {
      if (v == "Deployment" || v == "DaemonSet") return std::nullopt;
      std::string msg = "is not a supported kind (\"Deployment\" or \"DaemonSet\")";
      if (auto c = closest(v, {"Deployment", "DaemonSet"})) msg += "; did you mean " + in_quotes(*c) + "?";
      return msg;
    };
    if (const toml::node* n = t.get("kinds"); n && n->as_array() && n->as_array()->empty())
      add(*n, path("kinds") + ": empty list would guard nothing");
    else read_string_array(t, "kinds", s.kinds, kind_check);
  }

  void guard(const toml::table& t, Config& c) {
    Policy& p = c.defaults;
    read_bool(t, "dry_run", p.dry_run);
    read_duration(t, "bake_time", false, p.bake_time);
    read_duration(t, "daemonset_progress_deadline", false, p.daemonset_progress_deadline);
    read_int(t, "max_concurrent_rollbacks", 1, c.max_concurrent_rollbacks);
    read_choice<KnownBadAction>(t, "on_known_bad",
                                {{"hold", KnownBadAction::hold}, {"rollback", KnownBadAction::rollback}},
                                p.on_known_bad);
    read_duration(t, "known_bad_min_interval", false, p.known_bad_min_interval);
    std::string component = c.event_component;
    if (const auto* n = read_string(t, "event_component", component)) {
      if (component.empty() || component.size() > 128 ||
          std::any_of(component.begin(), component.end(), [](char ch) { return std::isspace(static_cast<unsigned char>(ch)) != 0; }))
        add(*n, path("event_component") + ": must be 1 to 128 characters without spaces, " + found(*n));
      else c.event_component = component;
    }
  }

  void pods(const toml::table& t, PodPolicy& p) {
    read_int(t, "crashloop_restarts", 1, p.crashloop_restarts);
    read_int(t, "crashloop_unready_restarts", 0, p.crashloop_unready_restarts);  // 0 = off
    read_duration(t, "image_pull_grace", false, p.image_pull_grace);
    read_duration(t, "config_error_grace", false, p.config_error_grace);
    read_int(t, "oom_kills", 1, p.oom_kills);
    read_duration(t, "schedule_grace", false, p.schedule_grace);
    read_bool(t, "unschedulable_is_failure", p.unschedulable_is_failure);
    read_duration(t, "ready_grace", true, p.ready_grace);  // 0 = half the progress deadline
  }

  void server(const toml::table& t, ServerSection& s) {
    const auto* cert = read_string(t, "cert_file", s.cert_file);
    const auto* key = read_string(t, "key_file", s.key_file);
    if (cert && !key) add(*cert, path("cert_file") + ": needs key_file: TLS takes both, or neither");
    if (key && !cert) add(*key, path("key_file") + ": needs cert_file: TLS takes both, or neither");
    std::string text;
    const auto* n = read_string(t, "listen", text);
    if (!n) return;
    auto l = parse_listen(text);
    if (!l) {
      add(*n, path("listen") + ": invalid address " + in_quotes(text) + ": " + l.error());
      return;
    }
    s.listen = text;
    s.host = l->host;
    s.port = l->port;
  }

  void log(const toml::table& t, LogSection& l) {
    read_choice<LogLevel>(t, "level",
                          {{"trace", LogLevel::trace}, {"debug", LogLevel::debug}, {"info", LogLevel::info},
                           {"warn", LogLevel::warn}, {"error", LogLevel::error}},
                          l.level);
    read_choice<LogFormat>(t, "format", {{"text", LogFormat::text}, {"json", LogFormat::json}}, l.format);
  }

  using Vars = std::map<std::string, std::string, std::less<>>;

  void prometheus(const toml::table& t, PrometheusSection& p) {
    if (const auto* n = read_string(t, "url", p.url); n && !p.url.empty()) {
      const bool http = p.url.starts_with("http://"), https = p.url.starts_with("https://");
      if (!http && !https)
        add(*n, path("url") + ": " + in_quotes(p.url) + " must start with http:// or https://");
      else if (p.url.size() == (http ? 7u : 8u) || p.url[http ? 7 : 8] == '/')
        add(*n, path("url") + ": " + in_quotes(p.url) + " has no host");
    }
    read_duration(t, "timeout", false, p.timeout);
    read_duration(t, "eval_lag", true, p.eval_lag);
    const auto* bearer = read_string(t, "bearer_token_file", p.bearer_token_file);
    const auto* user = read_string(t, "basic_auth_user", p.basic_auth_user);
    const auto* password = read_string(t, "basic_auth_password_file", p.basic_auth_password_file);
    read_string(t, "ca_file", p.ca_file);
    read_bool(t, "accept_warnings", p.accept_warnings);
    if (bearer && !p.bearer_token_file.empty() && (!p.basic_auth_user.empty() || !p.basic_auth_password_file.empty()))
      add(*bearer, path("bearer_token_file") + ": cannot be combined with basic auth (set either " +
                       "bearer_token_file or basic_auth_user + basic_auth_password_file)");
    else if (user && !p.basic_auth_user.empty() && p.basic_auth_password_file.empty())
      add(*user, path("basic_auth_user") + ": needs basic_auth_password_file");
    else if (password && !p.basic_auth_password_file.empty() && p.basic_auth_user.empty())
      add(*password, path("basic_auth_password_file") + ": needs basic_auth_user");
  }

  void analysis(const toml::table& t, AnalysisSection& a) {
    Millis max_blind{0};
    if (read_duration(t, "max_blind", false, max_blind)) a.max_blind = max_blind;
    read_bool(t, "pause_when_blind", a.pause_when_blind);
    read_bool(t, "batch", a.batch);
  }

  void alertmanager(const toml::table& t, AlertmanagerSection& a) {
    const toml::node* url = read_string(t, "url", a.url);
    if (url && !a.url.empty()) {
      const bool http = a.url.starts_with("http://"), https = a.url.starts_with("https://");
      if (!http && !https)
        add(*url, path("url") + ": " + in_quotes(a.url) + " must start with http:// or https://");
      else if (https)
        add(*url, path("url") + ": " + in_quotes(a.url) + ": https is not supported for Alertmanager yet; use a "
                                 "local http:// address (a sidecar or the cluster-internal Service)");
      else if (a.url.size() == 7u || a.url[7] == '/')
        add(*url, path("url") + ": " + in_quotes(a.url) + " has no host");
    }
    const toml::node* token = read_string(t, "webhook_token_file", a.webhook_token_file);
    auto label_name = [](const std::string& s) -> std::optional<std::string> {
      if (s.empty()) return std::string("is empty");
      for (char ch : s)
        if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'))
          return std::string("is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)");
      if (std::isdigit(static_cast<unsigned char>(s[0]))) return std::string("is not a Prometheus label name");
      return std::nullopt;
    };
    read_string_array(t, "workload_labels", a.workload_labels, label_name);
    if (t.contains("workload_labels") && a.workload_labels.empty())
      add(*t.get("workload_labels"), path("workload_labels") + ": needs at least one label name");
    read_string_array(t, "severities", a.severities,
                      [](const std::string& s) -> std::optional<std::string> {
                        if (s.empty()) return std::string("is empty");
                        return std::nullopt;
                      });
    read_duration(t, "alert_grace", true, a.alert_grace);
    read_bool(t, "act_on_healthy", a.act_on_healthy);
    read_string(t, "heartbeat_alert", a.heartbeat_alert);
    const toml::node* hb = read_duration(t, "heartbeat_timeout", false, a.heartbeat_timeout);
    if (hb && a.heartbeat_alert.empty())
      add(*hb, path("heartbeat_timeout") + ": needs heartbeat_alert (the alert whose absence it times)");
    if (!a.heartbeat_alert.empty() && a.heartbeat_timeout.count() == 0) a.heartbeat_timeout = std::chrono::minutes{5};
    read_string(t, "runbook_url", a.runbook_url);
    read_duration(t, "repost_interval", false, a.repost_interval);
    read_bool(t, "own_alerts", a.own_alerts);
    if (const toml::node* rc = read_string(t, "receiver", a.receiver); rc && !a.receiver.empty() && !a.enabled())
      add(*rc, path("receiver") + ": needs webhook_token_file: the alerts read at start are those the webhook "
                                  "would deliver");
    if (token && !a.webhook_token_file.empty() && a.url.empty())
      add(*token, path("webhook_token_file") + ": needs url: an alert is re-checked with Alertmanager "
                                                "(GET /api/v2/alerts) before it rolls anything back");
  }

  void leader_election(const toml::table& t, LeaderElectionSection& l) {
    read_bool(t, "enabled", l.enabled);
    auto dns_name = [&](std::string_view key, std::string& out) {
      const toml::node* n = read_string(t, key, out);
      if (!n) return;
      const bool ok = !out.empty() && out.size() <= 253 && std::all_of(out.begin(), out.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
      }) && out.front() != '-' && out.back() != '-';
      if (!ok) add(*n, path(key) + ": " + in_quotes(out) + " is not a Kubernetes name (lower-case letters, digits, '-', '.')");
    };
    dns_name("lease_namespace", l.lease_namespace);
    dns_name("lease_name", l.lease_name);
    read_string(t, "identity", l.identity);
    read_duration(t, "lease_duration", false, l.lease_duration);
    read_duration(t, "renew_deadline", false, l.renew_deadline);
    const toml::node* retry = read_duration(t, "retry_period", false, l.retry_period);
    const auto r = l.retry_period.count(), d = l.renew_deadline.count(), ld = l.lease_duration.count();
    if (!(ld > d) || !(d * 10 > r * 12)) {
      const toml::node* at = retry ? retry : t.get("lease_duration") ? t.get("lease_duration") : t.get("renew_deadline");
      const std::string msg = path("lease_duration") + " > renew_deadline > 1.2 x retry_period must hold (client-go's "
                              "rules: the leader stops before its lease can expire), not " +
                              format_duration(l.lease_duration) + " / " + format_duration(l.renew_deadline) + " / " +
                              format_duration(l.retry_period);
      if (at) add(*at, msg);
      else add(t.source().begin, msg);
    }
  }

  void notify(const toml::node& node, std::vector<NotifyTarget>& out) {
    const toml::array* arr = node.as_array();
    if (!arr || !arr->is_array_of_tables()) {
      add(node, "notify: expected [[notify]] tables, " + found(node));
      return;
    }
    int index = 0;
    for (const toml::node& e : *arr) {
      ++index;
      const toml::table& t = *e.as_table();
      section_ = "notify[" + std::to_string(index) + "]";
      check_keys(t, "notify");
      NotifyTarget n;
      const toml::node* url = read_string(t, "url", n.url);
      if (!url)
        add(t.source().begin, section_ + ": needs url");
      else if (!n.url.starts_with("http://") || n.url.size() == 7u || n.url[7] == '/')
        add(*url, path("url") + ": " + in_quotes(n.url) +
                      " must be http://host[:port]/path (https is not supported yet; use a local relay)");
      read_choice<NotifyFormat>(t, "format", {{"json", NotifyFormat::json}, {"slack", NotifyFormat::slack}}, n.format);
      read_string_array(t, "events", n.events, [](const std::string& ev) -> std::optional<std::string> {
        if (std::find(kNotifyEvents.begin(), kNotifyEvents.end(), ev) != kNotifyEvents.end()) return std::nullopt;
        return std::string("is not an event (RollbackStarted, RollbackSucceeded, RollbackFailed, Held, Blind)");
      });
      read_string(t, "bearer_token_file", n.bearer_token_file);
      out.push_back(std::move(n));
    }
  }

  // [vars] or [check.vars]: NAME = "string" pairs, overlaid onto `out`.
  void read_vars(const toml::node& n, Vars& out) {
    const toml::table* t = n.as_table();
    if (!t) {
      add(n, section_ + ": expected a table of strings, " + found(n));
      return;
    }
    for (auto&& [k, v] : *t) {
      if (!is_var_name(k.str())) {
        add(k.source().begin, section_ + ": invalid variable name " + in_quotes(k.str()) +
                                  " (letters, digits and '_', so that {{vars.NAME}} can name it)");
        continue;
      }
      if (const auto* s = v.as_string()) out[std::string(k.str())] = s->get();
      else add(v, path(k.str()) + ": expected a string, " + found(v));
    }
  }

  // A threshold-like number: TOML integer or float, not NaN. Returns the node when read.
  const toml::node* read_number(const toml::table& t, std::string_view key, std::optional<double>& out) {
    const toml::node* n = t.get(key);
    if (!n) return nullptr;
    if (const auto* i = n->as_integer()) out = static_cast<double>(i->get());
    else if (const auto* f = n->as_floating_point(); f && !std::isnan(f->get())) out = f->get();
    else {
      std::string msg = path(key) + ": expected a number, " + found(*n);
      if (const auto* s = n->as_string()) {
        char* end = nullptr;
        const std::string& text = s->get();
        std::strtod(text.c_str(), &end);
        if (!text.empty() && end == text.c_str() + text.size()) msg += " (write the number without quotes)";
      }
      add(*n, std::move(msg));
      return nullptr;
    }
    return n;
  }

  // A compare check whose warm-up leaves a typical small rollout too few comparisons (config.hpp
  // comparisons_in_rollout): it loads, but check-config says so, with the figures.
  void compare_timing(Config& c) {
    for (const Check& ch : c.checks) {
      if (!ch.compare) continue;
      const long n = comparisons_in_rollout(ch, c.prometheus.eval_lag, kTypicalRollout);
      if (n >= ch.failures) continue;
      const auto first = std::max(ch.initial_delay, c.prometheus.eval_lag + ch.range_window);
      c.warnings.push_back(
          {file_, ch.line, ch.column,
           "check." + ch.name + ": a rollout of " + format_duration(kTypicalRollout) + " gives only " +
               std::to_string(n) + " comparison(s) with the stable revision, fewer than failures = " +
               std::to_string(ch.failures) + ": the first comparison waits " + format_duration(first) +
               " (max of initial_delay " + format_duration(ch.initial_delay) + " and eval_lag " +
               format_duration(c.prometheus.eval_lag) + " + window " + format_duration(ch.range_window) +
               "), and the stable series leave the query's range " + format_duration(c.prometheus.eval_lag) +
               " + " + format_duration(ch.range_window) + " after the last old pod; lower initial_delay or interval " +
               "(now " + format_duration(ch.interval) + "), or widen the window (README: choosing warm-up and window)"});
    }
  }

  // Reports an unknown variable or a malformed "{{" at its column (config/checks.hpp).
  bool template_ok(const toml::table& t, std::string_view key, const Check& ch) {
    const toml::node* n = t.get(key);
    const auto* s = n ? n->as_string() : nullptr;
    if (!s) return false;
    auto r = render_template(s->get(), ch, sample_target());
    if (r) return true;
    add(position_in(*n, s->get(), r.error().offset), path(key) + ": " + r.error().message);
    return false;
  }

  static std::optional<std::string> kind_problem(const std::string& v) {
    if (v == "Deployment" || v == "DaemonSet") return std::nullopt;
    std::string msg = "is not a supported kind (\"Deployment\" or \"DaemonSet\")";
    if (auto c = closest(v, {"Deployment", "DaemonSet"})) msg += "; did you mean " + in_quotes(*c) + "?";
    return msg;
  }

  // A sub-table of a [[check]] ([check.min_samples], [check.compare]), its keys checked; nullptr when absent.
  const toml::table* sub_table(const toml::table& t, std::string_view key) {
    const toml::node* n = t.get(key);
    if (!n) return nullptr;
    const toml::table* sub = n->as_table();
    if (!sub) {
      add(*n, path(key) + ": expected a table ([check." + std::string(key) + "]), " + found(*n));
      return nullptr;
    }
    check_keys(*sub, "check." + std::string(key));
    return sub;
  }

  void checks(const toml::node& node, const Vars& global, Config& c) {
    const toml::array* arr = node.as_array();
    if (!arr || !arr->is_array_of_tables()) {
      add(node, "check: expected [[check]] tables, " + found(node));
      return;
    }
    std::map<std::string, int, std::less<>> first_line;  // check name -> line of its [[check]]
    int index = 0;
    for (const toml::node& e : *arr) {
      ++index;
      const toml::table& t = *e.as_table();
      Check ch;
      ch.line = static_cast<int>(t.source().begin.line);
      ch.column = static_cast<int>(t.source().begin.column);
      section_ = "check[" + std::to_string(index) + "]";
      check_keys(t, "check");

      std::string name;
      if (const auto* n = read_string(t, "name", name)) {
        if (!is_check_name(name))
          add(*n, path("name") + ": " + in_quotes(name) + " is not a valid check name ([a-z0-9_-], 1 to 63 characters)");
        else if (is_reserved_check_name(name))
          add(*n, path("name") + ": " + in_quotes(name) +
                      " is reserved (a field of the canary-guard.io/analysis record); choose another name");
        else if (auto it = first_line.find(name); it != first_line.end())
          add(*n, path("name") + ": duplicate check name " + in_quotes(name) + " (first at line " +
                       std::to_string(it->second) + ")");
        else {
          first_line.emplace(name, ch.line);
          ch.name = name;
          section_ = "check." + name;
        }
      } else if (!t.contains("name")) {
        add(t, path("name") + ": missing; every [[check]] needs a name");
      }

      // Variables and the interval first: the templates below are rendered with them.
      ch.vars = global;
      if (const toml::node* n = t.get("vars")) {
        const std::string saved = section_;
        section_ += ".vars";
        read_vars(*n, ch.vars);
        section_ = saved;
      }
      if (const toml::node* n = t.get("interval"); n && n->as_string()) {
        if (auto d = parse_duration(n->as_string()->get()); d && *d < std::chrono::seconds{1})
          add(*n, path("interval") + ": " + in_quotes(n->as_string()->get()) + " must be at least 1s");
        else read_duration(t, "interval", false, ch.interval);
      } else if (n) {
        read_duration(t, "interval", false, ch.interval);
      }

      const auto* query = read_string(t, "query", ch.query);
      if (!query && !t.contains("query")) add(t, path("query") + ": missing; every [[check]] needs a query");
      else if (query && ch.query.empty()) add(*query, path("query") + ": is empty");
      const bool query_ok = query && !ch.query.empty() && template_ok(t, "query", ch);

      const toml::node* min = read_number(t, "min", ch.min);
      read_number(t, "max", ch.max);
      // A threshold check is its bounds; a compare check judges against the stable revision and may add them.
      if (!t.contains("min") && !t.contains("max") && !t.contains("compare"))
        add(t, section_ + ": needs min, max or both (the bounds a passing value lies within), or [check.compare]");
      if (ch.min && ch.max && *ch.min > *ch.max)
        add(*min, path("min") + ": " + std::to_string(*ch.min) + " is greater than max " + std::to_string(*ch.max));

      const auto* failures = t.get("failures");
      read_int(t, "failures", 1, ch.failures);
      read_int(t, "of", 1, ch.of);
      if (const toml::node* of = t.get("of"); of && of->as_integer()) {
        const std::int64_t v = of->as_integer()->get();
        if (v > 100) add(*of, path("of") + ": must be at most 100, found " + std::to_string(v));
        else if (v >= 1 && v < ch.failures)
          add(*of, path("of") + ": " + std::to_string(v) + " is less than failures " + std::to_string(ch.failures) +
                        " (roll back at `failures` FAIL among the last `of` outcomes)");
      } else if (failures && failures->as_integer() && ch.failures > ch.of) {
        add(*failures, path("failures") + ": " + std::to_string(ch.failures) + " is more than of (default " +
                            std::to_string(ch.of) + ")");
      }
      read_duration(t, "initial_delay", true, ch.initial_delay);
      const std::initializer_list<std::pair<std::string_view, OnOutcome>> outcomes = {{"ignore", OnOutcome::ignore},
                                                                                       {"fail", OnOutcome::fail}};
      read_choice<OnOutcome>(t, "on_no_data", outcomes, ch.on_no_data);
      read_choice<OnOutcome>(t, "on_error", outcomes, ch.on_error);

      read_string_array(t, "namespaces", ch.namespaces, [](const std::string& v) -> std::optional<std::string> {
        if (is_dns1123_label(v)) return std::nullopt;
        return std::string("is not a valid namespace name (lowercase letters, digits and '-', at most 63)");
      });
      read_string_array(t, "kinds", ch.kinds, kind_problem);
      if (const auto* n = read_string(t, "selector", ch.selector_text)) {
        auto sel = LabelSelector::parse(ch.selector_text);
        if (sel) ch.selector = std::move(*sel);
        else add(position_in(*n, ch.selector_text, sel.error().offset), path("selector") + ": " + sel.error().message);
      }

      const std::string check_section = section_;
      const toml::node* ms_query = nullptr;  // [check.min_samples] query, for the compare rule below
      if (const toml::table* ms = sub_table(t, "min_samples")) {
        section_ = check_section + ".min_samples";
        MinSamplesSpec spec;
        const auto* q = read_string(*ms, "query", spec.query);
        ms_query = q;
        if (!q && !ms->contains("query")) add(*ms, path("query") + ": missing");
        else if (q && spec.query.empty()) add(*q, path("query") + ": is empty");
        else if (q) template_ok(*ms, "query", ch);
        std::optional<double> m;
        if (const toml::node* n = read_number(*ms, "min", m)) {
          if (*m < 0) add(*n, path("min") + ": must not be negative");
          spec.min = *m;
        } else if (!ms->contains("min")) {
          add(*ms, path("min") + ": missing (the least sample count that is evidence)");
        }
        ch.min_samples = std::move(spec);
      }
      section_ = check_section;
      if (const toml::table* cmp = sub_table(t, "compare")) {
        section_ = check_section + ".compare";
        CompareSpec spec;
        std::optional<double> v;
        if (const toml::node* n = read_number(*cmp, "max_ratio", v)) {
          if (*v <= 0) add(*n, path("max_ratio") + ": must be greater than 0, found " + std::to_string(*v));
          spec.max_ratio = *v;
        }
        v.reset();
        if (const toml::node* n = read_number(*cmp, "margin", v)) {
          if (*v < 0) add(*n, path("margin") + ": must not be negative, found " + std::to_string(*v));
          spec.margin = *v;
        }
        read_choice<CompareDirection>(
            *cmp, "direction", {{"increase", CompareDirection::increase}, {"decrease", CompareDirection::decrease}},
            spec.direction);
        if (query_ok && !uses_variable(ch.query, "revision_hash"))
          add(*cmp, check_section + ".compare: the query must select the revision with {{revision_hash}} "
                                     "(it is run once for the new and once for the stable revision)");
        ch.compare = spec;
        // R1.10: in compare mode both sides need their minimum, so min_samples is run for each side too.
        if (ms_query && ch.min_samples && !ch.min_samples->query.empty() &&
            !uses_variable(ch.min_samples->query, "revision_hash"))
          add(*ms_query, check_section + ".min_samples.query: with [check.compare] it must select the revision "
                                         "with {{revision_hash}} (it is run for the new and for the stable "
                                         "revision; each side needs its minimum)");
      }
      section_ = check_section;

      if (query_ok) {
        ch.range_window = range_window_of(ch.query, ch.interval);
        Batchability b = batchability_of(ch.query);
        if (b.batchable && ch.min_samples) {
          b = batchability_of(ch.min_samples->query);
          if (!b.batchable) b.reason = "min_samples query: " + b.reason;
        }
        ch.batchable = b.batchable;
        ch.not_batchable_reason = std::move(b.reason);
      }
      c.checks.push_back(std::move(ch));  // also when invalid: the load fails then, with every problem
    }
  }

  std::string file_;
  std::vector<std::string_view> lines_;
  std::vector<Diagnostic> diags_;
  std::string section_;
};

}  // namespace

Expected<ListenAddress, std::string> parse_listen(std::string_view s) {
  ListenAddress out;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    const std::size_t close = s.find(']');
    if (close == std::string_view::npos) return unexpected(std::string("missing \"]\" after IPv6 address"));
    out.host = std::string(s.substr(1, close - 1));
    in6_addr a6{};
    if (inet_pton(AF_INET6, out.host.c_str(), &a6) != 1)
      return unexpected("invalid IPv6 address " + in_quotes(out.host));
    if (close + 1 >= s.size() || s[close + 1] != ':')
      return unexpected(std::string("expected \":port\" after \"]\" (e.g. \"[::1]:9464\")"));
    port = s.substr(close + 2);
  } else {
    const std::size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) return unexpected(std::string("expected host:port (e.g. \"127.0.0.1:9464\")"));
    out.host = std::string(s.substr(0, colon));
    port = s.substr(colon + 1);
    if (out.host.empty()) return unexpected(std::string("missing host (use \"0.0.0.0\" or \"[::]\" for all interfaces)"));
    if (out.host.find(':') != std::string::npos)
      return unexpected(std::string("an IPv6 address needs brackets (e.g. \"[::1]:9464\")"));
    const bool numeric = std::all_of(out.host.begin(), out.host.end(), [](char c) { return c == '.' || std::isdigit(static_cast<unsigned char>(c)); });
    if (numeric) {
      in_addr a4{};
      if (inet_pton(AF_INET, out.host.c_str(), &a4) != 1) return unexpected("invalid IPv4 address " + in_quotes(out.host));
    } else {
      std::string lower = out.host;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      bool ok = lower.size() <= 253;
      std::size_t start = 0;
      while (ok) {
        const std::size_t dot = lower.find('.', start);
        ok = is_dns1123_label(std::string_view(lower).substr(start, dot == std::string::npos ? std::string::npos : dot - start));
        if (dot == std::string::npos) break;
        start = dot + 1;
      }
      if (!ok) return unexpected("invalid host name " + in_quotes(out.host));
    }
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return unexpected("invalid port " + in_quotes(port) + " (0-65535)");
  const int p = std::stoi(std::string(port));
  if (p > 65535) return unexpected("port " + std::string(port) + " out of range (0-65535)");
  out.port = static_cast<std::uint16_t>(p);
  return out;
}

namespace {

// toml++ 3.3 (Debian bookworm) recurses once per part of a dotted key or table header, with no bound of its own
// (unlike arrays and inline tables, capped at 256 levels), so `[a.a.a...]` with ~40,000 parts overflowed the stack
// (found by tests/fuzz/fuzz_config.cpp). No canary-guard key has more than 3 parts; refuse more than 32 before
// parsing. A rough lexer suffices: it finds runs of bare or quoted key parts joined by dots (whitespace allowed, as in
// keys), outside comments and multi-line strings; a value never has more than one dot in such a run (1.5, dates).
constexpr int kMaxKeyParts = 32;

std::optional<Diagnostic> key_too_deep(std::string_view s, std::string_view file) {
  int line = 1, run_line = 0, run_col = 0, dots = 0;
  std::size_t line_start = 0;
  bool in_run = false;
  auto start_run = [&](std::size_t i) {
    if (in_run) return;
    in_run = true;
    dots = 0;
    run_line = line;
    run_col = static_cast<int>(i - line_start) + 1;
  };
  auto newline = [&](std::size_t i) {
    ++line;
    line_start = i + 1;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\n') {
      newline(i);
      in_run = false;
    } else if (c == '#') {
      while (i + 1 < s.size() && s[i + 1] != '\n') ++i;
      in_run = false;
    } else if (c == '"' || c == '\'') {
      const std::string_view triple = c == '"' ? "\"\"\"" : "'''";
      if (s.substr(i, 3) == triple) {  // a multi-line string: always a value
        std::size_t j = i + 3;
        while (j < s.size() && s.substr(j, 3) != triple) {
          if (s[j] == '\n') newline(j);
          if (c == '"' && s[j] == '\\' && j + 1 < s.size() && s[j + 1] != '\n') ++j;
          ++j;
        }
        i = std::min(j + 2, s.size());
        in_run = false;
        continue;
      }
      start_run(i);  // a quoted key part (or a string value, which ends the run after it)
      std::size_t j = i + 1;
      while (j < s.size() && s[j] != c && s[j] != '\n') j += (c == '"' && s[j] == '\\' && j + 1 < s.size()) ? 2 : 1;
      i = (j < s.size() && s[j] == c) ? j : j - 1;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') {
      start_run(i);
    } else if (c == '.') {
      if (in_run && ++dots >= kMaxKeyParts)
        return Diagnostic{std::string(file), run_line, run_col,
                          "a key with more than " + std::to_string(kMaxKeyParts) +
                              " parts (a.b.c...): not a canary-guard configuration, and deeper than the TOML parser "
                              "can safely nest"};
    } else if (c != ' ' && c != '\t') {
      in_run = false;
    }
  }
  return std::nullopt;
}

}  // namespace

LoadResult load_string(std::string_view toml, std::string_view file_name) {
  if (toml.size() > kMaxConfigBytes)
    return unexpected(std::vector<Diagnostic>{{std::string(file_name), 0, 0, "file is larger than 1 MiB"}});
  if (auto d = key_too_deep(toml, file_name)) return unexpected(std::vector<Diagnostic>{std::move(*d)});
  return Loader(toml, file_name).run(toml);
}

LoadResult load_file(const std::string& path) {
  auto fail = [&](std::string msg) { return unexpected(std::vector<Diagnostic>{{path, 0, 0, std::move(msg)}}); };
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec) return fail("cannot read: " + ec.message());
  if (!std::filesystem::is_regular_file(st)) return fail("cannot read: not a regular file");
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return fail("cannot read: " + ec.message());
  if (size > kMaxConfigBytes) return fail("file is larger than 1 MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot open for reading");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return fail("read error");
  return load_string(buf.str(), path);
}

}  // namespace canary_guard::config
