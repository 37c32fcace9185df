#include "config/check.hpp"

#include "config/duration.hpp"

namespace canary_guard::config {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
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
  out << "config OK: " << summary(*r) << '\n';
  return 0;
}

}  // namespace canary_guard::config
