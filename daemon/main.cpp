// canary-guard: rolls bad releases of Kubernetes Deployments and DaemonSets back to the last revision it verified
// healthy. This file only parses arguments and maps results to exit codes.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cstring>
#include <iostream>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cg_version.hpp"
#include "config/check.hpp"
#include "daemon/app/query_cmd.hpp"
#include "daemon/app/http_get.hpp"
#include "daemon/app/run.hpp"
#include "daemon/app/explain.hpp"
#include "daemon/app/status.hpp"
#include "daemon/app/status_live.hpp"
#include "daemon/app/wiring.hpp"

namespace cg = canary_guard;

namespace {

// The one-shot commands' scaffolding: --daemon checked, credentials resolved, a client made, `task(client, ioc)`
// run to completion on a one-thread io_context. Exit codes: 2 for bad input (arguments, credentials), 1 for a
// failure the task reports (it sets rc) or an internal one, 0 otherwise.
template <class Task>
int with_client(const std::string& kubeconfig, const std::string& context, const std::string& daemon_url, Task task) {
  if (!daemon_url.empty()) {
    if (auto u = cg::app::check_http_base_url(daemon_url); !u) {
      std::cerr << "error: --daemon: " << u.error() << '\n';
      return 2;
    }
  }
  auto creds = cg::app::resolve_credentials(kubeconfig, "", context);
  if (!creds) {
    std::cerr << "error: " << creds.error() << '\n';
    return 2;
  }
  boost::asio::io_context ioc(1);
  auto client = cg::kube::Client::make(ioc, *creds);
  if (!client) {
    std::cerr << "error: " << client.error() << '\n';
    return 2;
  }
  int rc = 0;
  // Boost 1.74's co_spawn completion needs a default-constructible result: the task prints and sets rc itself.
  boost::asio::co_spawn(ioc, task(**client, ioc, rc), [&](std::exception_ptr e) {
    if (e) {
      std::cerr << "error: internal failure\n";
      rc = 1;
    }
  });
  ioc.run();
  return rc;
}

int status_command(const std::string& kubeconfig, const std::string& context, const std::string& ns,
                   const std::string& output, const std::string& daemon_url) {
  return with_client(kubeconfig, context, daemon_url,
                     [&](cg::kube::Client& client, boost::asio::io_context& ioc, int& rc) -> boost::asio::awaitable<void> {
    auto rows = co_await cg::app::collect_status(client, ns);
    if (!rows) {
      std::cerr << "error: " << cg::kube::describe(rows.error()) << '\n';
      rc = 1;
      co_return;
    }
    if (!daemon_url.empty()) {
      // Live values are a bonus: without them the rows still show the persisted windows.
      auto live = co_await cg::app::fetch_live_analysis(ioc, daemon_url, std::chrono::seconds(2));
      if (live) cg::app::merge_live_analysis(*rows, *live);
      else
        std::cerr << "canary-guard status: daemon at " << daemon_url << " not reachable (" << live.error()
                  << "): showing persisted windows only\n";
    }
    if (output == "json") cg::app::print_json(*rows, std::cout);
    else cg::app::print_table(*rows, std::cout);
  });
}

int explain_command(const std::string& kubeconfig, const std::string& context, const std::string& ns,
                    const std::string& workload, const std::string& output, const std::string& daemon_url,
                    const std::string& component) {
  auto target = cg::app::parse_workload_arg(workload);
  if (!target) {
    std::cerr << "error: " << target.error() << '\n';
    return 2;
  }
  return with_client(kubeconfig, context, daemon_url,
                     [&](cg::kube::Client& client, boost::asio::io_context& ioc, int& rc) -> boost::asio::awaitable<void> {
    auto e = co_await cg::app::collect_explain(client, target->first, ns, target->second, component);
    if (!e) {
      std::cerr << "error: " << cg::kube::describe(e.error()) << '\n';
      rc = 1;
      co_return;
    }
    if (!daemon_url.empty()) {
      auto live = co_await cg::app::fetch_live_analysis(ioc, daemon_url, std::chrono::seconds(2));
      if (live) {
        for (auto& entry : *live)
          if (entry.kind == e->kind && entry.ns == e->ns && entry.workload == e->name && entry.revision_hash == e->current_hash)
            e->live = entry;
      } else {
        std::cerr << "canary-guard explain: daemon at " << daemon_url << " not reachable (" << live.error()
                  << "): showing what the cluster holds\n";
      }
    }
    if (output == "json") cg::app::render_explain_json(*e, std::cout);
    else cg::app::render_explain_text(*e, std::cout);
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"canary-guard: automatic rollback of bad Deployment and DaemonSet releases"};
  app.set_version_flag("--version", std::string("canary-guard ") + cg::kVersion + " (" + cg::kRevision + ")");
  app.require_subcommand(1);

  auto* version = app.add_subcommand("version", "Print the version");

  std::string check_path;
  auto* check = app.add_subcommand("check-config", "Validate a configuration file; every problem with line:column");
  check->add_option("file", check_path, "TOML configuration file")->required();

  std::string kubeconfig, context, ns, output = "table";
  auto* status = app.add_subcommand("status", "List Deployments and DaemonSets with revision, rollout state and verdict");
  status->add_option("--kubeconfig", kubeconfig, "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)");
  status->add_option("--context", context, "kubeconfig context (default: current-context)");
  status->add_option("-n,--namespace", ns, "only this namespace (default: all)");
  status->add_option("-o,--output", output, "table or json")->check(CLI::IsMember({"table", "json"}));
  std::string daemon_url;
  status->add_option("--daemon", daemon_url,
                     "a running daemon's HTTP address (http://127.0.0.1:9464): add each check's last value and outcome");

  std::string ex_workload, ex_ns = "default", ex_output = "text", ex_component = "canary-guard";
  auto* explain = app.add_subcommand("explain", "A workload's decision timeline: revisions, findings, verdicts, "
                                                "rollbacks with time to detect and restore, and the guard's Events");
  explain->add_option("workload", ex_workload, "deployment/NAME or daemonset/NAME")->required();
  explain->add_option("-n,--namespace", ex_ns, "namespace (default: default)");
  explain->add_option("-o,--output", ex_output, "text or json")->check(CLI::IsMember({"text", "json"}));
  explain->add_option("--kubeconfig", kubeconfig, "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)");
  explain->add_option("--context", context, "kubeconfig context (default: current-context)");
  explain->add_option("--daemon", daemon_url, "a running daemon's HTTP address: add the live analysis");
  explain->add_option("--event-component", ex_component, "the daemon's [guard] event_component (default canary-guard)");

  cg::app::RunOptions run_opts;
  auto* run = app.add_subcommand("run", "Run the guard");
  run->add_option("-c,--config", run_opts.config_path, "TOML configuration file")->required();
  run->add_option("--kubeconfig", run_opts.kubeconfig, "kubeconfig file (overrides [kubernetes] kubeconfig)");
  run->add_option("--log-format", run_opts.log_format, "text or json (overrides [log] format)");
  run->add_option("--listen", run_opts.listen, "metrics/health address (overrides [server] listen)");
  run->add_flag("--dry-run", run_opts.dry_run, "decide and tell, but patch nothing");

  cg::app::QueryOptions query_opts;
  auto* query = app.add_subcommand("query", "Run one metric check now for a workload: rendered PromQL, raw series, outcome");
  query->add_option("-c,--config", query_opts.config_path, "TOML configuration file")->required();
  query->add_option("--kubeconfig", query_opts.kubeconfig, "kubeconfig file");
  query->add_option("--check", query_opts.check, "check name ([[check]] name)")->required();
  query->add_option("-n,--namespace", query_opts.ns, "namespace of the workload (default: default)");
  query->add_option("--kind", query_opts.kind, "Deployment or DaemonSet (default: either)")
      ->check(CLI::IsMember({"Deployment", "DaemonSet"}));
  query->add_option("--stable-hash", query_opts.stable_hash, "compare mode: the stable revision's hash");
  query->add_option("workload", query_opts.workload, "Deployment or DaemonSet name")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (*version) {
    std::cout << "canary-guard " << cg::kVersion << " (" << cg::kRevision << ")\n";
    return 0;
  }
  if (*check) return cg::config::check_config_main(check_path, std::cout, std::cerr);
  if (*status) return status_command(kubeconfig, context, ns, output, daemon_url);
  if (*explain) return explain_command(kubeconfig, context, ex_ns, ex_workload, ex_output, daemon_url, ex_component);
  if (*run) {
    run_opts.argv.assign(argv, argv + argc);
    const int rc = cg::app::run_guard(run_opts);
    if (rc != cg::app::kReexec) return rc;
    ::execv("/proc/self/exe", argv);  // SIGHUP with a good configuration: start again in place, same pid
    std::cerr << "error: re-executing for the new configuration failed: " << std::strerror(errno) << '\n';
    return 1;
  }
  if (*query) return cg::app::query_main(query_opts);
  return 2;
}
