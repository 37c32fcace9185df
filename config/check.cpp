#include "config/check.hpp"

#include <sstream>

#include "config/checks.hpp"
#include "config/duration.hpp"

namespace canary_guard::config {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::string number(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

// A rendered query on one output line: whitespace runs (newlines of a ''' query) become one space.
// PromQL strings never hold a raw newline (rendered values escape it), so this changes no meaning.
std::string one_line(const std::string& q) {
  std::string out;
  for (char c : q) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The sample workloads check-config renders queries for.
const CheckTarget kSample{"default", "example", "Deployment", "0123456789", "abcdef0123"};
const CheckTarget kSample2{"shop", "checkout", "Deployment", "9876543210", "fedcba9876"};

void print_check(const Config& c, const Check& ch, std::ostream& out) {
  const std::string where = "check " + ch.name + " (" + c.source_file + ":" + std::to_string(ch.line) + ")";
  out << where << ":";
  if (ch.min) out << " min=" << number(*ch.min);
  if (ch.max) out << " max=" << number(*ch.max);
  out << " interval=" << format_duration(ch.interval) << " failures=" << ch.failures << " of=" << ch.of
      << " initial_delay=" << format_duration(ch.initial_delay)
      << " on_no_data=" << (ch.on_no_data == OnOutcome::fail ? "fail" : "ignore")
      << " on_error=" << (ch.on_error == OnOutcome::fail ? "fail" : "ignore")
      << " range_window=" << format_duration(ch.range_window);
  if (!ch.namespaces.empty()) out << " namespaces=" << join(ch.namespaces);
  if (!ch.kinds.empty()) out << " kinds=" << join(ch.kinds);
  if (!ch.selector.empty()) out << " selector=\"" << ch.selector.to_string() << "\"";
  if (ch.compare)
    out << " compare=" << (ch.compare->direction == CompareDirection::increase ? "increase" : "decrease")
        << " max_ratio=" << number(ch.compare->max_ratio) << " margin=" << number(ch.compare->margin);
  out << '\n';
  // The loader rendered every template once already, so these cannot fail; print the error if they ever do.
  auto rendered = [](const Expected<std::string, RenderError>& r) { return r ? one_line(*r) : "(cannot render: " + r.error().message + ")"; };
  out << "  query for default/example: " << rendered(render_template(ch.query, ch, kSample)) << '\n';
  if (ch.min_samples)
    out << "  min_samples (min=" << number(ch.min_samples->min)
        << ") for default/example: " << rendered(render_template(ch.min_samples->query, ch, kSample)) << '\n';
  if (ch.batchable) {
    out << "  batch query for default/example and shop/checkout: "
        << rendered(render_batch(ch.query, ch, {kSample, kSample2})) << '\n';
  } else {
    out << where << ": not batchable: " << ch.not_batchable_reason << "; it runs once per workload\n";
  }
}

}  // namespace

std::string summary(const Config& c) {
  const Selection& s = c.selection;
  const Policy& p = c.defaults;
  std::string out = c.source_file + ":";
  out += " mode=" + std::string(to_string(s.mode));
  out += " namespaces=" + (s.namespaces.empty() ? std::string("all") : join(s.namespaces));
  if (!s.exclude_namespaces.empty()) out += " exclude=" + join(s.exclude_namespaces);
  if (!s.label_selector.empty()) out += " selector=\"" + s.label_selector.to_string() + "\"";
  out += " kinds=" + join(s.kinds);
  out += std::string(" dry_run=") + (p.dry_run ? "true" : "false");
  out += " bake_time=" + format_duration(p.bake_time);
  out += " daemonset_progress_deadline=" + format_duration(p.daemonset_progress_deadline);
  out += " max_concurrent_rollbacks=" + std::to_string(c.max_concurrent_rollbacks);
  out += " on_known_bad=" + std::string(to_string(p.on_known_bad));
  if (p.on_known_bad == KnownBadAction::rollback) out += " known_bad_min_interval=" + format_duration(p.known_bad_min_interval);
  out += " listen=" + c.server.listen;
  return out;
}

int check_config_main(const std::string& path, std::ostream& out, std::ostream& err) {
  const LoadResult r = load_file(path);
  if (!r) {
    for (const Diagnostic& d : r.error()) err << format(d) << '\n';
    return 1;
  }
  const Config& c = *r;
  for (const Diagnostic& d : c.warnings) err << format_warning(d) << '\n';
  out << "config OK: " << summary(*r) << '\n';
  if (!c.prometheus.url.empty()) {
    const PrometheusSection& p = c.prometheus;
    out << "prometheus: url=" << p.url << " timeout=" << format_duration(p.timeout)
        << " eval_lag=" << format_duration(p.eval_lag) << " auth="
        << (!p.bearer_token_file.empty() ? "bearer" : !p.basic_auth_user.empty() ? "basic" : "none")
        << " accept_warnings=" << (p.accept_warnings ? "true" : "false") << " analysis: max_blind="
        << (c.analysis.max_blind ? format_duration(*c.analysis.max_blind) : std::string("5x-smallest-interval"))
        << " pause_when_blind=" << (c.analysis.pause_when_blind ? "true" : "false")
        << " batch=" << (c.analysis.batch ? "true" : "false") << '\n';
  }
  for (const Check& ch : c.checks) print_check(c, ch, out);
  return 0;
}

}  // namespace canary_guard::config
