#include "config/rfc3339.hpp"
#include "daemon/guard/events.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "daemon/guard/records.hpp"
#include "daemon/kube/resources.hpp"

namespace canary_guard::guard {

EventRecorder::EventRecorder(kube::Client& client, const Clock& clock, std::string component, std::string host)
    : client_(client), clock_(clock), component_(std::move(component)), host_(std::move(host)) {}

boost::asio::awaitable<bool> EventRecorder::record(const ObjectRef& obj, std::string type, std::string reason,
                                                   std::string message) {
  const TimePoint now = clock_.now();
  // Name: <object>.<hex unix nanoseconds>; a counter keeps two Events in the same millisecond apart.
  const auto nanos = static_cast<unsigned long long>(now.time_since_epoch().count()) * 1'000'000ULL + (counter_++ % 1'000'000U);
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, "%llx", nanos);
  if (message.size() > 1000) message.resize(1000);
  const std::string ts = format_rfc3339(now);
  nlohmann::json ev = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", obj.name + "." + suffix}, {"namespace", obj.ns}}},
      {"involvedObject",
       {{"apiVersion", "apps/v1"},
        {"kind", obj.kind},
        {"namespace", obj.ns},
        {"name", obj.name},
        {"uid", obj.uid},
        {"resourceVersion", obj.resource_version}}},
      {"reason", reason},
      {"message", message},
      {"type", type},
      {"source", {{"component", component_}, {"host", host_}}},
      {"firstTimestamp", ts},
      {"lastTimestamp", ts},
      {"count", 1},
  };
  auto r = co_await client_.create(kube::paths::events(obj.ns), ev.dump());
  if (!r) {
    spdlog::warn("workload={}/{} event={} error=\"{}\"", obj.ns, obj.name, reason, kube::describe(r.error()));
    co_return false;
  }
  co_return true;
}

}  // namespace canary_guard::guard
