#include "daemon/app/status_live.hpp"

#include <cstdio>

#include "daemon/app/http_get.hpp"

namespace canary_guard::app {

namespace {

// Text from the daemon goes to a terminal: no control characters.
std::string printable(std::string s) {
  for (char& ch : s)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
  return s;
}

std::string value_text(const LiveCheck& c) {
  if (!c.value_text.empty()) return printable(c.value_text);
  if (!c.value) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", *c.value);
  return buf;
}

}  // namespace

boost::asio::awaitable<Expected<std::vector<LiveEntry>, std::string>> fetch_live_analysis(
    boost::asio::io_context& ioc, std::string base_url, std::chrono::milliseconds timeout) {
  while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
  auto r = co_await http_get(ioc, base_url, "/analysis", timeout);
  if (!r) co_return unexpected(r.error());
  if (r->status != 200) co_return unexpected("GET /analysis answered HTTP " + std::to_string(r->status));
  auto entries = parse_analysis_entries(r->body);
  if (!entries) co_return unexpected("GET /analysis: " + entries.error());
  co_return std::move(*entries);
}

std::size_t merge_live_analysis(std::vector<StatusRow>& rows, const std::vector<LiveEntry>& live) {
  std::size_t merged = 0;
  for (auto& row : rows) {
    if (row.hash.empty()) continue;
    for (const auto& e : live) {
      if (e.kind != row.kind || e.ns != row.ns || e.workload != row.name || e.revision_hash != row.hash) continue;
      row.checks_live = e.checks;
      row.checks = live_checks_column(e.checks);
      ++merged;
      break;
    }
  }
  return merged;
}

std::string live_checks_column(const std::vector<LiveCheck>& checks) {
  if (checks.empty()) return "-";
  std::string out;
  for (const auto& c : checks) {
    if (!out.empty()) out += ", ";
    out += printable(c.name) + "=" + printable(c.window) + (c.passed ? "!" : "");
    if (c.window.empty() && !c.passed) out += "-";
    if (c.last_outcome.empty()) out += " not-evaluated";
    else out += " last=" + value_text(c) + " " + printable(c.last_outcome);
    if (c.tripped) out += " tripped";
  }
  return out;
}

}  // namespace canary_guard::app
