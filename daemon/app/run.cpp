#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include "daemon/app/run.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstring>
#include <functional>
#include <iostream>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "cg_version.hpp"
#include "config/config.hpp"
#include "daemon/app/alert_wiring.hpp"
#include "daemon/app/analysis_json.hpp"
#include "daemon/app/http_server.hpp"
#include "daemon/app/leader_elector.hpp"
#include "daemon/app/metrics.hpp"
#include "daemon/app/notify.hpp"
#include "daemon/app/prom_source.hpp"
#include "daemon/app/status_endpoint.hpp"
#include "daemon/guard/analyzer.hpp"
#include "daemon/app/wiring.hpp"
#include "daemon/guard/controller.hpp"
#include "daemon/kube/client.hpp"

namespace canary_guard::app {

namespace asio = boost::asio;

int run_guard(const RunOptions& opts) {
  auto loaded = config::load_file(opts.config_path);
  if (!loaded) {
    for (const auto& d : loaded.error()) std::cerr << config::format(d) << '\n';
    return 2;
  }
  config::Config cfg = std::move(*loaded);
  if (opts.dry_run) cfg.defaults.dry_run = true;
  if (opts.log_format == "json") cfg.log.format = config::LogFormat::json;
  else if (opts.log_format == "text") cfg.log.format = config::LogFormat::text;
  else if (!opts.log_format.empty()) {
    std::cerr << "error: --log-format must be text or json\n";
    return 2;
  }
  if (!opts.listen.empty()) cfg.server.listen = opts.listen;
  setup_logging(cfg.log.level, cfg.log.format);
  for (const auto& d : cfg.warnings) spdlog::warn("component=config event=warning {}", config::format_warning(d));

  auto creds = resolve_credentials(opts.kubeconfig, cfg.kubernetes.kubeconfig, cfg.kubernetes.context);
  if (!creds) {
    std::cerr << "error: " << creds.error() << '\n';
    return 2;
  }
  asio::io_context ioc(1);
  SystemClock clock;
  Metrics metrics(kVersion, kRevision);
  kube::ClientOptions client_options;
  client_options.max_connections = static_cast<std::size_t>(cfg.kubernetes.max_requests_in_flight);
  auto client = kube::Client::make(ioc, *creds, client_options);
  if (!client) {
    std::cerr << "error: " << client.error() << '\n';
    return 2;
  }
  (*client)->set_request_hook(
      [&metrics](std::string_view verb, std::string_view resource, int code) { metrics.kube_request(verb, resource, code); });

  char host[256] = "canary-guard";
  gethostname(host, sizeof host - 1);
  // Metric analysis: a Prometheus client and the Analyzer when checks are configured.
  std::unique_ptr<prom::PrometheusClient> prom_client;
  std::unique_ptr<PromSource> prom_source;
  std::unique_ptr<guard::Analyzer> analyzer;
  if (!cfg.checks.empty()) {
    auto po = prom::PrometheusClient::validate(prometheus_options(cfg.prometheus));
    if (!po) {
      std::cerr << "error: [prometheus]: " << po.error() << '\n';
      return 2;
    }
    prom_client = std::make_unique<prom::PrometheusClient>(ioc, *po, &metrics);
    prom_source = std::make_unique<PromSource>(*prom_client);
    analyzer = std::make_unique<guard::Analyzer>(ioc, cfg, clock, *prom_source, nullptr, nullptr, &metrics);
  }
  auto alerts = AlertWiring::make(ioc, cfg, clock, &metrics);
  if (!alerts) {
    std::cerr << "error: " << alerts.error() << '\n';
    return 2;
  }
  guard::Controller controller(ioc, **client, cfg, clock, &metrics, host, analyzer.get());
  HttpServer::AnalysisFn analysis_body;
  if (analyzer) analysis_body = [&analyzer] { return render_analysis(analyzer->snapshot()); };
  HttpServer http(ioc, [&metrics] { return metrics.render(); }, [&controller] { return controller.not_ready(); }, analysis_body);
  http.router().add("GET", "/status", [&controller, &analyzer](const HttpRequest& req) {
    return status_response(controller, analyzer.get(), req);
  });
  (*alerts)->attach(http, controller);
  std::unique_ptr<LeaderElector> elector;
  if (cfg.leader_election.enabled) {
    const std::string identity =
        cfg.leader_election.identity.empty() ? default_identity() : cfg.leader_election.identity;
    elector = std::make_unique<LeaderElector>(ioc, **client, cfg.leader_election, identity, clock, &metrics,
                                              [&controller, &alerts](bool leading) {
                                                controller.leadership_changed(leading);
                                                (*alerts)->leadership_changed(leading);
                                              });
    controller.set_leading([&elector] { return elector->leading(); });
    (*alerts)->set_leading([&elector] { return elector->leading(); });
    http.set_health([&elector]() -> std::string {
      return elector->healthy() ? std::string() : "lost the leader lease and cannot renew it";
    });
  }
  if (!cfg.server.cert_file.empty()) {
    if (auto t = http.enable_tls(cfg.server.cert_file, cfg.server.key_file); !t) {
      std::cerr << "error: " << t.error() << '\n';
      return 2;
    }
  }
  if (auto l = http.listen(cfg.server.listen); !l) {
    std::cerr << "error: " << l.error() << '\n';
    return 2;
  }
  spdlog::info("component=main event=start version={} credentials=\"{}\" listen={} tls={} dry_run={}", kVersion,
               creds->source, cfg.server.listen, http.tls(), cfg.defaults.dry_run);

  auto log_crash = [](const char* what) {
    return [what](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("component=main task={} event=crashed error=\"{}\"", what, ex.what());
      }
    };
  };
  asio::co_spawn(ioc, http.run(), log_crash("http"));
  asio::co_spawn(ioc, controller.run(), log_crash("controller"));
  if (elector) asio::co_spawn(ioc, elector->run(), log_crash("leader_election"));
  (*alerts)->start();
  if (analyzer) {
    asio::co_spawn(ioc, analyzer->run(), log_crash("analyzer"));
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          auto v = co_await prom_client->buildinfo();
          if (v) spdlog::info("component=prometheus event=buildinfo url={} version={}", cfg.prometheus.url, *v);
          else spdlog::warn("component=prometheus event=buildinfo_failed url={} error=\"{}\"", cfg.prometheus.url, v.error().message);
        },
        log_crash("buildinfo"));
  }

  // systemd: READY=1 once the caches are synced; WATCHDOG=1 from this loop (a wedged loop stops the pings).
  Notifier notifier(ioc);
  notifier.status("starting: listing workloads, revisions and pods");
  asio::co_spawn(ioc, notifier.watchdog(), log_crash("watchdog"));
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer t(ioc);
        while (!controller.synced()) {
          t.expires_after(std::chrono::milliseconds(100));
          co_await t.async_wait(asio::use_awaitable);
        }
        notifier.ready(std::string("caches synced; guarding") + (cfg.defaults.dry_run ? " (dry run)" : ""));
      },
      log_crash("notify"));

  // SIGHUP: read the configuration again. One that fails to load is logged and the old one kept; one that loads is
  // applied by re-executing the daemon in place (execve: same pid, so systemd and a pod see one process), after the
  // same clean stop as SIGTERM (the Lease released): every part starts with it, and nothing is lost, since the
  // guard's state lives on the cluster objects. Token and CA files are re-read by their users as they change.
  bool reexec = false;
  asio::signal_set hup(ioc, SIGHUP);
  std::function<void()> stop_all;
  std::function<void(const boost::system::error_code&, int)> on_hup = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    auto again = config::load_file(opts.config_path);
    if (!again) {
      for (const auto& d : again.error())
        spdlog::error("component=main event=reload_failed keeping=old_config {}", config::format(d));
      hup.async_wait(on_hup);
      return;
    }
    if (opts.argv.empty()) {
      spdlog::info("component=main event=reload_checked detail=\"the new configuration loads; restart to apply it\"");
      hup.async_wait(on_hup);
      return;
    }
    spdlog::info("component=main event=reload config={} detail=\"configuration loads; re-executing in place\"",
                 opts.config_path);
    notifier.status("reloading configuration");
    reexec = true;
    stop_all();
  };
  hup.async_wait(on_hup);

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("component=main event=stop signal={}", sig);
    stop_all();
  });
  stop_all = [&]() {
    hup.cancel();
    signals.cancel();
    if (reexec) notifier.reloading();
    else notifier.stopping();
    notifier.stop();
    controller.stop();  // no new decisions; a write in flight finishes or fails on its own deadline
    (*alerts)->stop();
    if (analyzer) analyzer->stop();
    http.stop();
    // Release the Lease (bounded: one request), so a successor takes over at once, then stop.
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          if (elector) {
            asio::steady_timer guard_timer(ioc);
            bool done = false;
            guard_timer.expires_after(std::chrono::milliseconds(1500));
            guard_timer.async_wait([&](const boost::system::error_code& e) {
              if (!e && !done) ioc.stop();  // the apiserver did not answer in time: stop anyway
            });
            co_await elector->release();
            done = true;
            guard_timer.cancel();
          }
          ioc.stop();
        },
        log_crash("shutdown"));
  };
  ioc.run();
  return reexec ? kReexec : 0;
}

}  // namespace canary_guard::app
