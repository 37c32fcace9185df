// Fuzz target: the configuration loader (config/load.cpp: TOML through toml++ into Config, validation with
// line:column diagnostics), and the per-workload annotation overrides (resolve_policy, is_guarded) on top of a
// configuration that loaded. Checks: a rejected file names at least one problem, positions stay inside the input.
//
// Input layout: the whole input is the TOML file. When it loads, its last line is also read as annotations
// (a TOML comment `# key=value;key=value`; keys without the canary-guard.io/ prefix get it), so both layers see
// fuzzed text.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace {

using namespace canary_guard;
using config::KeyValues;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_config: invariant broken: %s\n", what);
  std::abort();
}

KeyValues annotations_from(std::string_view line) {
  KeyValues kv;
  while (!line.empty() && (line.front() == '#' || line.front() == ' ')) line.remove_prefix(1);
  while (!line.empty()) {
    auto end = std::min(line.find(';'), line.size());
    auto item = line.substr(0, end);
    line.remove_prefix(std::min(end + 1, line.size()));
    auto eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(item.substr(0, eq));
    if (key.rfind("canary-guard.io/", 0) != 0) key = "canary-guard.io/" + key;
    kv.emplace_back(std::move(key), std::string(item.substr(eq + 1)));
  }
  return kv;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = config::load_string(text, "fuzz.toml");
  const int lines = 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  if (!r) {
    if (r.error().empty()) fail("rejected without a diagnostic");
    for (const auto& d : r.error()) {
      if (d.line < 0 || d.column < 0) fail("negative line or column");
      if (d.line > lines + 1) fail("diagnostic line beyond the end of the input");
      if (d.message.empty()) fail("diagnostic without a message");
      (void)config::format(d);
    }
    return 0;
  }
  for (const auto& w : r->warnings) (void)config::format_warning(w);
  auto last = text;
  while (!last.empty() && last.back() == '\n') last.remove_suffix(1);
  const auto nl = last.rfind('\n');
  const auto ann = annotations_from(nl == std::string_view::npos ? last : last.substr(nl + 1));
  auto resolved = config::resolve_policy(*r, ann);
  (void)resolved;
  for (std::string_view kind : {"Deployment", "DaemonSet"})
    (void)config::is_guarded(*r, "shop", KeyValues{{"app", "checkout"}}, ann, kind);
  return 0;
}
