// Metric analysis at scale, with a fake Prometheus that answers at once (so the figures are canary-guard's own):
// 500 workloads under analysis with 3 checks, batched (one query per check) and unbatched (one per workload per
// check): queries per evaluation round and the CPU time of a round. Then 1,000 workloads under analysis: the
// analyzer's memory. Prints figures; nothing is asserted (style.md §6).
//   bench_analyzer [WORKLOADS]      (default 500)
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>
#include <unordered_set>

#include "daemon/guard/analyzer.hpp"

namespace cg = canary_guard;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// Answers every query with one series per workload (namespace + hash), as a real batched query would.
struct InstantSource final : cg::guard::MetricSource {
  cg::probes::QueryResult all;
  std::size_t queries = 0;
  asio::awaitable<cg::Expected<cg::probes::QueryResult, cg::probes::QueryError>> query(
      std::string, double, std::chrono::milliseconds) override {
    ++queries;
    co_return all;
  }
};

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

cg::config::Check make_check(std::string name, bool batchable) {
  cg::config::Check c;
  c.name = std::move(name);
  c.query = R"(sum by (namespace, {{revision_label}}) (rate(http_requests_total{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}", code=~"5.."}[30s])) / sum by (namespace, {{revision_label}}) (rate(http_requests_total{namespace="{{namespace}}", {{revision_label}}="{{revision_hash}}"}[30s])))";
  c.max = 0.05;
  c.interval = 5s;
  c.range_window = 30s;
  c.batchable = batchable;
  return c;
}

struct Run {
  std::size_t queries_per_round = 0;
  double cpu_ms_per_round = 0;
  long rss_delta_kb = 0;
};

Run run(int workloads, bool batch, int rounds) {
  asio::io_context ioc;
  cg::ManualClock clock{cg::TimePoint{std::chrono::seconds{1'800'000'000}}};
  cg::config::Config config;
  config.prometheus.url = "http://127.0.0.1:9090";
  config.prometheus.eval_lag = 2s;
  config.analysis.batch = batch;
  for (const char* n : {"error-ratio", "p99", "saturation"}) config.checks.push_back(make_check(n, true));
  InstantSource source;
  for (int i = 0; i < workloads; ++i) {
    cg::probes::Series s;
    s.labels = {{"namespace", "ns-" + std::to_string(i % 50)}, {"pod_template_hash", "h" + std::to_string(i)}};
    s.samples = {{1.8e9, 0.001}};
    source.all.series.push_back(std::move(s));
  }
  const long rss0 = rss_kb();
  cg::guard::Analyzer analyzer(ioc, config, clock, source, nullptr, nullptr, nullptr);
  for (int i = 0; i < workloads; ++i) {
    cg::guard::AnalysisTarget t;
    t.key = cg::guard::WorkloadKey{cg::guard::Kind::deployment, "ns-" + std::to_string(i % 50), "w" + std::to_string(i)};
    t.vars = cg::config::CheckTarget{t.key.ns, t.key.name, "Deployment", "h" + std::to_string(i), ""};
    t.revision_object = t.key.name + "-h" + std::to_string(i);
    t.started = clock.now();
    t.first_ready = clock.now();
    for (const auto& c : config.checks) t.checks.push_back(&c);
    analyzer.track(t);
  }
  clock.advance(60s);
  double cpu = 0;
  for (int r = 0; r < rounds; ++r) {
    const std::size_t q0 = source.queries;
    const double c0 = cpu_seconds();
    for (const auto& c : config.checks)
      asio::co_spawn(ioc, [&]() -> asio::awaitable<void> { co_await analyzer.evaluate(c); }, asio::detached);
    ioc.run();
    ioc.restart();
    cpu += cpu_seconds() - c0;
    if (r == 0) (void)q0;
    clock.advance(5s);
  }
  Run out;
  out.queries_per_round = source.queries / static_cast<std::size_t>(rounds);
  out.cpu_ms_per_round = cpu * 1000 / rounds;
  out.rss_delta_kb = rss_kb() - rss0;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 500;
  const Run batched = run(n, true, 20);
  const Run single = run(n, false, 5);
  std::printf("analysis: %d workloads x 3 checks, fake Prometheus answering at once\n", n);
  std::printf("  batched:   queries per round %zu, CPU per round %.2f ms\n", batched.queries_per_round,
              batched.cpu_ms_per_round);
  std::printf("  unbatched: queries per round %zu, CPU per round %.2f ms\n", single.queries_per_round,
              single.cpu_ms_per_round);
  std::printf("  ratio unbatched/batched: queries %.0fx, CPU %.1fx\n",
              static_cast<double>(single.queries_per_round) / static_cast<double>(batched.queries_per_round),
              single.cpu_ms_per_round / batched.cpu_ms_per_round);
  const Run big = run(1000, true, 5);
  std::printf("analysis: 1000 workloads x 3 checks: analyzer state + rounds grew RSS by %ld KB (%.1f KB per workload)\n",
              big.rss_delta_kb, static_cast<double>(big.rss_delta_kb) / 1000.0);
  return 0;
}
