// Parsing Prometheus /api/v1/query responses (target: >= 200 MB/s on one core for a 10,000-series vector).
// Prints figures (bytes/s is Google Benchmark's throughput column); nothing is asserted (style.md §6).
#include <benchmark/benchmark.h>

#include <string>

#include "probes/prometheus.hpp"

namespace {

// A vector result as Prometheus 2.42 sends it: labels like a real per-pod request-rate query.
std::string vector_body(int series) {
  std::string b = R"({"status":"success","data":{"resultType":"vector","result":[)";
  for (int i = 0; i < series; ++i) {
    if (i) b += ',';
    b += R"({"metric":{"__name__":"http_requests_total","code":"200","instance":"127.0.0.1:9100","job":"podsim",)";
    b += R"("namespace":"shop-)" + std::to_string(i % 50) + R"(","pod":"checkout-6d8f7c9b5-)" + std::to_string(i) +
         R"(","pod_template_hash":"6d8f7c9b5"},"value":[1732200000.123,")" + std::to_string(0.001 * (i % 997)) +
         R"("]})";
  }
  b += "]}}";
  return b;
}

void BM_ParseVector(benchmark::State& state) {
  const std::string body = vector_body(static_cast<int>(state.range(0)));
  std::size_t series = 0;
  for (auto _ : state) {
    auto r = canary_guard::probes::parse_query_response(200, body);
    if (!r) state.SkipWithError("parse failed");
    else series += r->series.size();
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(body.size()));
  state.counters["series"] = static_cast<double>(state.range(0));
  state.counters["body_bytes"] = static_cast<double>(body.size());
  benchmark::DoNotOptimize(series);
}
BENCHMARK(BM_ParseVector)->Arg(100)->Arg(10'000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
