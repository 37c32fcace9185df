// GET /metrics with 1,000 guarded workloads (issue #12 §6: target under 5 ms): the daemon's registry as a fleet of
// 1,000 workloads leaves it (each workload's rollout, rollback and active series, 3 metric checks' evaluation
// counters, values and last-decisive times, alerts firing), plus the process_* series, rendered in the text format
// through the server's Router exactly as a scrape is. Prints figures; asserts nothing (style.md §6).
#include <benchmark/benchmark.h>

#include <boost/asio/io_context.hpp>

#include <string>

#include "daemon/app/http_server.hpp"
#include "daemon/app/metrics.hpp"

namespace {

void BM_MetricsRender(benchmark::State& state) {
  const int workloads = static_cast<int>(state.range(0));
  canary_guard::app::Metrics m("0.1.0", "bench");
  std::map<std::pair<std::string, std::string>, int> firing;
  for (int i = 0; i < workloads; ++i) {
    const std::string ns = "ns-" + std::to_string(i % 50), w = "web-" + std::to_string(i);
    m.rollout_active(ns, w, "Deployment", i % 3 == 0, 1.8e9);
    m.rollout_finished(ns, w, "Deployment", "completed");
    for (const char* check : {"error-ratio", "p99-latency", "saturation"}) {
      m.evaluation(ns, w, check, "pass");
      m.evaluation(ns, w, check, "no_data");
      m.probe_value(ns, w, check, 0.01 * i);
    }
    m.last_decisive(ns, w, 1.8e9);
    if (i % 10 == 0) firing[{ns, w}] = 1;
  }
  m.alerts_firing(firing);
  boost::asio::io_context ioc;
  canary_guard::app::HttpServer server(ioc, [&m] { return m.render(); }, [] { return std::string(); });
  canary_guard::app::HttpRequest req{"GET", "/metrics"};
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto res = server.router().route(req);
    bytes = res.body.size();
    benchmark::DoNotOptimize(res);
  }
  state.counters["body_bytes"] = static_cast<double>(bytes);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_MetricsRender)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
