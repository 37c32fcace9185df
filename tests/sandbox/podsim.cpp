// podsim: the simulated kubelet and scheduler of the sandbox cluster (see spec/sandbox.md §3 and
// tests/sandbox/podsim/simulator.hpp). Thin main: parse arguments, load the kubeconfig, wire, run.
//
//   podsim --kubeconfig F --nodes N --metrics-listen 127.0.0.1:PORT [--ready-delay 1s]
//          [--restart-backoff kubelet|fixed] [--crash-run 1s] [--crash-interval 2s] [--pull-interval 4s]
//          [--rps 20] [--workers 4] [--watch-timeout 5m] [--log-level info]
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "daemon/kube/client.hpp"
#include "daemon/kube/kubeconfig.hpp"
#include "tests/sandbox/podsim/simulator.hpp"
#include "tests/sandbox/podsim/traffic.hpp"

namespace {

using canary_guard::Duration;

// "1s", "500ms", "2m", "1.5s"; a bare number means seconds. nullopt on anything else or a negative value.
std::optional<Duration> parse_duration(const std::string& text) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr == text.data() || !(value >= 0) || value > 86400.0 * 365) return std::nullopt;
  const std::string unit(ptr, end);
  double ms = 0;
  if (unit.empty() || unit == "s") ms = value * 1000;
  else if (unit == "ms") ms = value;
  else if (unit == "m") ms = value * 60'000;
  else if (unit == "h") ms = value * 3'600'000;
  else return std::nullopt;
  return Duration{static_cast<std::int64_t>(ms)};
}

// Loopback only: podsim's metrics are for the sandbox's Prometheus, never for the network.
bool loopback_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) return false;
  const auto host = listen.substr(0, colon);
  int port = 0;
  const auto port_text = listen.substr(colon + 1);
  const auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || port < 1 || port > 65535) return false;
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

}  // namespace

int main(int argc, char** argv) {
  namespace podsim = canary_guard::podsim;
  namespace kube = canary_guard::kube;

  CLI::App app{"podsim: simulated kubelet and scheduler for the canary-guard sandbox cluster"};
  std::string kubeconfig, listen, ready_delay_text = "1s", crash_text = "2s", crash_run_text = "1s",
      backoff_text = "kubelet", pull_text = "4s", level = "info";
  int nodes = 3;
  double rps = 20;
  int workers = 4;
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig file")->required();
  app.add_option("--nodes", nodes, "number of simulated nodes podsim-node-1..N")->check(CLI::Range(1, 1000));
  app.add_option("--metrics-listen", listen, "127.0.0.1:PORT for /metrics")->required();
  app.add_option("--ready-delay", ready_delay_text, "time from start to Ready for default images (e.g. 1s, 500ms)");
  app.add_option("--restart-backoff", backoff_text,
                 "how crashed containers restart: kubelet (at once, then 10 s, 20 s, 40 s ... capped at 5 min, as a "
                 "real kubelet) or fixed (one crash every --crash-interval)")
      ->check(CLI::IsMember({"kubelet", "fixed"}));
  app.add_option("--crash-run", crash_run_text, "kubelet back-off: how long a crashing container runs before it exits");
  app.add_option("--crash-interval", crash_text, "fixed back-off: one crash/OOM cycle of crashloop, crash<N> and oom images");
  app.add_option("--pull-interval", pull_text, "ErrImagePull/ImagePullBackOff alternation period");
  app.add_option("--rps", rps, "simulated requests per second per running pod")->check(CLI::Range(0.0, 10000.0));
  app.add_option("--workers", workers, "concurrent API writes")->check(CLI::Range(1, 64));
  std::string watch_text = "5m";
  app.add_option("--watch-timeout", watch_text, "length of one pod watch request (the server ends it; podsim resumes)");
  app.add_option("--log-level", level, "trace|debug|info|warn|error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  CLI11_PARSE(app, argc, argv);

  int problems = 0;
  podsim::SimulatorOptions options;
  options.nodes = nodes;
  options.workers = workers;
  const auto check_duration = [&](const std::string& flag, const std::string& text, Duration& out) {
    if (auto d = parse_duration(text)) {
      out = *d;
    } else {
      std::fprintf(stderr, "podsim: %s: invalid duration \"%s\" (examples: 1s, 500ms, 2m)\n", flag.c_str(), text.c_str());
      ++problems;
    }
  };
  check_duration("--ready-delay", ready_delay_text, options.timing.ready_delay);
  check_duration("--crash-interval", crash_text, options.timing.crash_interval);
  check_duration("--crash-run", crash_run_text, options.timing.crash_run);
  options.timing.backoff = backoff_text == "fixed" ? podsim::RestartBackoff::fixed : podsim::RestartBackoff::kubelet;
  check_duration("--pull-interval", pull_text, options.timing.pull_interval);
  Duration watch_timeout{300'000};
  check_duration("--watch-timeout", watch_text, watch_timeout);
  options.watch_timeout_seconds = static_cast<int>(std::max<std::int64_t>(1, watch_timeout.count() / 1000));
  if (!loopback_listen(listen)) {
    std::fprintf(stderr, "podsim: --metrics-listen: \"%s\" is not 127.0.0.1:PORT\n", listen.c_str());
    ++problems;
  }
  auto creds = kube::load_kubeconfig(kubeconfig, "");
  if (!creds) {
    std::fprintf(stderr, "podsim: %s\n", creds.error().c_str());
    ++problems;
  }
  if (problems) return 2;

  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ podsim %v");

  boost::asio::io_context ioc(1);
  kube::ClientOptions client_options;
  client_options.user_agent = "podsim";
  client_options.request_timeout = std::chrono::seconds{15};
  client_options.max_idle_connections = static_cast<std::size_t>(workers) + 2;
  auto client = kube::Client::make(ioc, *creds, client_options);
  if (!client) {
    std::fprintf(stderr, "podsim: %s\n", client.error().c_str());
    return 2;
  }

  auto registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    // The Exposer serves from its own (civetweb) thread; prometheus-cpp metrics are thread-safe.
    exposer = std::make_unique<prometheus::Exposer>(listen, 1);
    exposer->RegisterCollectable(registry);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "podsim: --metrics-listen %s: %s\n", listen.c_str(), e.what());
    return 2;
  }

  podsim::Traffic traffic(*registry, rps);
  canary_guard::SystemClock clock;
  podsim::Simulator sim(ioc, **client, traffic, clock, options);
  sim.start();

  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("action=stop signal={}", sig);
    (*client)->cancel_watches();
    ioc.stop();
  });

  // One summary line a minute: enough to see podsim is alive and how much it does.
  boost::asio::co_spawn(
      ioc,
      [&]() -> boost::asio::awaitable<void> {
        boost::asio::steady_timer timer(ioc);
        for (;;) {
          timer.expires_after(std::chrono::seconds{60});
          boost::system::error_code ec;
          co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
          const auto& s = sim.stats();
          spdlog::info("action=stats binds={} unschedulable={} status_writes={} deletes={} conflicts={} errors={} watch_events={} "
                       "serving_pods={}",
                       s.binds, s.unschedulable, s.status_writes, s.deletes, s.conflicts, s.errors, s.watch_events, traffic.size());
        }
      },
      boost::asio::detached);

  spdlog::info("action=start nodes={} metrics=http://{}/metrics ready_delay={}ms restart_backoff={} crash_run={}ms "
               "crash_interval={}ms api={}",
               nodes, listen, options.timing.ready_delay.count(), backoff_text, options.timing.crash_run.count(),
               options.timing.crash_interval.count(), (*creds).server);
  ioc.run();
  return 0;
}
