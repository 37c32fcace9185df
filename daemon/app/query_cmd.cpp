#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include "daemon/app/query_cmd.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cmath>
#include <iostream>

#include "config/config.hpp"
#include "daemon/app/prom_source.hpp"
#include "daemon/app/status.hpp"
#include "daemon/app/wiring.hpp"
#include "probes/metric_analysis.hpp"

namespace canary_guard::app {

namespace {

std::string value_text(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return std::to_string(v);
}

void print_series(const probes::QueryResult& r, std::ostream& out) {
  if (r.series.empty()) out << "  (no series)\n";
  for (const auto& s : r.series) {
    out << "  {";
    for (std::size_t i = 0; i < s.labels.size(); ++i)
      out << (i ? ", " : "") << s.labels[i].first << "=\"" << s.labels[i].second << '"';
    out << "} ";
    if (!s.samples.empty()) out << value_text(s.samples.back().value);
    out << '\n';
  }
  for (const auto& w : r.warnings) out << "  warning: " << w << '\n';
}

}  // namespace

int query_main(const QueryOptions& opts) {
  auto loaded = config::load_file(opts.config_path);
  if (!loaded) {
    for (const auto& d : loaded.error()) std::cerr << config::format(d) << '\n';
    return 2;
  }
  const config::Config& cfg = *loaded;
  const config::Check* check = nullptr;
  for (const auto& c : cfg.checks)
    if (c.name == opts.check) check = &c;
  if (!check) {
    std::cerr << "error: no check named \"" << opts.check << "\" in " << opts.config_path << '\n';
    return 2;
  }
  auto creds = resolve_credentials(opts.kubeconfig, cfg.kubernetes.kubeconfig, cfg.kubernetes.context);
  if (!creds) {
    std::cerr << "error: " << creds.error() << '\n';
    return 2;
  }
  auto prom_opts = prom::PrometheusClient::validate(prometheus_options(cfg.prometheus));
  if (!prom_opts) {
    std::cerr << "error: [prometheus]: " << prom_opts.error() << '\n';
    return 2;
  }
  boost::asio::io_context ioc(1);
  auto client = kube::Client::make(ioc, *creds);
  if (!client) {
    std::cerr << "error: " << client.error() << '\n';
    return 2;
  }
  prom::PrometheusClient prom(ioc, *prom_opts);
  int rc = 0;
  auto task = [&]() -> boost::asio::awaitable<void> {
    auto rows = co_await collect_status(**client, opts.ns);
    if (!rows) {
      std::cerr << "error: " << kube::describe(rows.error()) << '\n';
      rc = 1;
      co_return;
    }
    const StatusRow* row = nullptr;
    for (const auto& r : *rows)
      if (r.name == opts.workload && (opts.kind.empty() || r.kind == opts.kind)) row = &r;
    if (!row || row->hash.empty()) {
      std::cerr << "error: no Deployment or DaemonSet " << opts.ns << "/" << opts.workload
                << " with a current revision\n";
      rc = 1;
      co_return;
    }
    const config::CheckTarget target{row->ns, row->name, row->kind, row->hash, opts.stable_hash};
    auto promql = config::render_template(check->query, *check, target);
    if (!promql) {
      std::cerr << "error: " << promql.error().message << '\n';
      rc = 2;
      co_return;
    }
    const double eval_time = to_unix_seconds(SystemClock{}.now() - cfg.prometheus.eval_lag);
    std::cout << "check " << check->name << " for " << row->kind << " " << row->ns << "/" << row->name
              << " revision " << row->revision << " (" << row->hash << ")\n";
    std::cout << "query (evaluated at now - " << cfg.prometheus.eval_lag.count() / 1000.0 << " s):\n  " << *promql
              << '\n';
    const auto deadline = std::chrono::steady_clock::now() + cfg.prometheus.timeout * 3;
    auto result = co_await prom.query(*promql, eval_time, deadline);
    probes::CheckOutcome outcome;
    if (!result) {
      std::cout << "error: " << probes::to_string(result.error().cls) << " (" << result.error().type
                << "): " << result.error().message << '\n';
      outcome = probes::judge_error(*check, result.error());
    } else {
      std::cout << "series:\n";
      print_series(*result, std::cout);
      std::vector<probes::Series> stable;
      if (check->compare && !opts.stable_hash.empty()) {
        config::CheckTarget st = target;
        st.revision_hash = opts.stable_hash;
        if (auto sq = config::render_template(check->query, *check, st)) {
          auto sr = co_await prom.query(*sq, eval_time, deadline);
          if (sr) {
            std::cout << "stable series (" << opts.stable_hash << "):\n";
            print_series(*sr, std::cout);
            stable = sr->series;
          }
        }
      }
      std::optional<std::optional<double>> ms;
      if (check->min_samples) {
        if (auto msq = config::render_template(check->min_samples->query, *check, target)) {
          auto mr = co_await prom.query(*msq, eval_time, deadline);
          if (mr) ms = probes::sum_of_values(*mr);
          std::cout << "min_samples: " << (ms && *ms ? value_text(**ms) : std::string("no data")) << " (need "
                    << check->min_samples->min << ")\n";
        }
      }
      outcome = check->compare ? probes::judge_compare(*check, result->series, stable)
                               : probes::judge_threshold(*check, result->series, ms);
    }
    std::cout << "outcome: " << probes::to_string(outcome.outcome) << " (" << outcome.detail << ")\n";
  };
  boost::asio::co_spawn(ioc, task(), [&](std::exception_ptr e) {
    if (e) {
      std::cerr << "error: internal failure\n";
      rc = 1;
    }
  });
  ioc.run();
  return rc;
}

}  // namespace canary_guard::app
