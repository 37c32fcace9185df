// Memory per cached object (target <= 2 KB per Deployment/ReplicaSet) and, with --sandbox, RSS and initial sync
// time of informers over N Deployments + N ReplicaSets created in a scratch namespace of the sandbox.
//   bench_cache_memory                 # projection sizeof + heap bytes per object
//   bench_cache_memory --sandbox 10000 # needs KUBECONFIG (admin) from `scripts/sandbox env`; cleans up after
// Prints figures; asserts nothing (style.md §6).
#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/kube/informer.hpp"
#include "daemon/kube/projection.hpp"
#include "daemon/kube/resources.hpp"

// Counting allocator: heap bytes attributable to the projected views.
static std::atomic<long long> g_live_bytes{0};
void* operator new(std::size_t n) {
  void* p = std::malloc(n + 16);
  if (!p) throw std::bad_alloc();
  *static_cast<std::size_t*>(p) = n;
  g_live_bytes += static_cast<long long>(n);
  return static_cast<char*>(p) + 16;
}
void operator delete(void* p) noexcept {
  if (!p) return;
  char* base = static_cast<char*>(p) - 16;
  g_live_bytes -= static_cast<long long>(*reinterpret_cast<std::size_t*>(base));
  std::free(base);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }

namespace {

using json = nlohmann::json;
using namespace canary_guard;

json deployment_json(const std::string& ns, const std::string& name) {
  json tmpl = {{"metadata", {{"labels", {{"app", name}}}}},
               {"spec", {{"containers", json::array({{{"name", "app"}, {"image", "registry.example/" + name + ":1.0.0"}}})}}}};
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"uid", "6f1c1b1e-5d1f-4a57-9a3c-0f5e0c1a2b3c"},
                        {"resourceVersion", "48213"}, {"generation", 7}, {"creationTimestamp", "2024-01-02T03:04:05Z"},
                        {"labels", {{"app", name}, {"team", "payments"}}},
                        {"annotations", {{"deployment.kubernetes.io/revision", "7"}, {"canary-guard.io/policy", "default"}}}}},
          {"spec", {{"replicas", 0}, {"paused", true}, {"selector", {{"matchLabels", {{"app", name}}}}}, {"template", tmpl}}},
          {"status", {{"observedGeneration", 7},
                      {"conditions", json::array({{{"type", "Available"}, {"status", "True"}, {"reason", "MinimumReplicasAvailable"},
                                                   {"lastUpdateTime", "2024-01-02T03:05:00Z"}, {"lastTransitionTime", "2024-01-02T03:05:00Z"}},
                                                  {{"type", "Progressing"}, {"status", "True"}, {"reason", "NewReplicaSetAvailable"},
                                                   {"lastUpdateTime", "2024-01-02T03:06:00Z"}, {"lastTransitionTime", "2024-01-02T03:04:05Z"}}})}}}};
}

json replicaset_json(const std::string& ns, const std::string& name) {
  json d = deployment_json(ns, name);
  json rs = {{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"metadata", d["metadata"]}, {"spec", json::object()}};
  rs["metadata"]["labels"]["pod-template-hash"] = "78449c65d4";
  rs["metadata"]["ownerReferences"] = json::array({{{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", name},
                                                    {"uid", "6f1c1b1e-5d1f-4a57-9a3c-0f5e0c1a2b3d"}, {"controller", true}}});
  rs["spec"] = {{"replicas", 0}, {"selector", {{"matchLabels", {{"app", name}, {"pod-template-hash", "78449c65d4"}}}}},
                {"template", d["spec"]["template"]}};
  rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] = "78449c65d4";
  return rs;
}

template <class View, class F>
void report(const char* what, F project, const json& j) {
  constexpr int kN = 1000;
  const std::string text = j.dump();
  (void)project(text);  // warm up: the thread_local decoder's buffers are not the objects' memory
  std::vector<View> v;
  v.reserve(kN);
  long long before = g_live_bytes;
  for (int i = 0; i < kN; ++i) v.push_back(*project(text));
  long long heap = (g_live_bytes - before) / kN - static_cast<long long>(sizeof(View));
  std::printf("%-12s sizeof=%zu heap_per_object=%lld total_per_object=%lld bytes (target <= 2048)\n", what, sizeof(View),
              heap, heap + static_cast<long long>(sizeof(View)));
}

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

std::string namespace_body(const std::string& ns) { return json{{"metadata", {{"name", ns}}}}.dump(); }

// g++ 12 rejects braced JSON initialisers inside a coroutine body ("array used as initializer"): build bodies in
// plain functions.
boost::asio::awaitable<void> populate(kube::Client& c, std::string ns, int n, int& rc) {
  (void)co_await c.create(kube::paths::namespaces(), namespace_body(ns));
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    std::string name = "b" + std::to_string(i);
    json d = deployment_json(ns, name);
    d["metadata"].erase("uid");
    d["metadata"].erase("resourceVersion");
    d.erase("status");
    auto r = co_await c.create(kube::paths::deployments(ns), d.dump());
    if (!r && !kube::is_already_exists(r.error())) {
      std::fprintf(stderr, "create deployment: %s\n", kube::describe(r.error()).c_str());
      rc = 1;
      co_return;
    }
    json rs = replicaset_json(ns, "s" + std::to_string(i));
    rs["metadata"].erase("uid");
    rs["metadata"].erase("resourceVersion");
    rs["metadata"].erase("ownerReferences");  // standalone, so the garbage collector leaves it alone
    auto r2 = co_await c.create(kube::paths::replicasets(ns), rs.dump());
    if (!r2 && !kube::is_already_exists(r2.error())) {
      std::fprintf(stderr, "create replicaset: %s\n", kube::describe(r2.error()).c_str());
      rc = 1;
      co_return;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("created %d deployments + %d replicasets in %.1f s\n", n, n, secs);
}

boost::asio::awaitable<void> remove_namespace(kube::Client& c, std::string ns) {
  auto r = co_await c.remove(kube::paths::namespaces(ns));
  if (!r) std::fprintf(stderr, "cleanup: %s\n", kube::describe(r.error()).c_str());
}

int sandbox_mode(int n) {
  const char* kc = std::getenv("KUBECONFIG");
  if (!kc || !*kc) {
    std::fprintf(stderr, "--sandbox needs KUBECONFIG: eval \"$(scripts/sandbox env)\"\n");
    return 2;
  }
  auto creds = kube::load_kubeconfig(std::string(kc), "");
  if (!creds) {
    std::fprintf(stderr, "%s\n", creds.error().c_str());
    return 2;
  }
  boost::asio::io_context ioc;
  auto client = kube::Client::make(ioc, *creds);
  if (!client) {
    std::fprintf(stderr, "%s\n", client.error().c_str());
    return 2;
  }
  kube::Client& c = **client;
  const std::string ns = "cg-bench-cache";
  int rc = 0;
  boost::asio::co_spawn(ioc, populate(c, ns, n, rc), boost::asio::detached);
  ioc.run();
  if (rc != 0) return rc;

  long rss0 = rss_kib();
  kube::InformerOptions od;
  od.path = kube::paths::deployments(ns);
  kube::InformerOptions orr;
  orr.path = kube::paths::replicasets(ns);
  kube::Informer<probes::DeploymentView> deps(c, od);
  kube::Informer<probes::ReplicaSetView> rss(c, orr);
  auto t0 = std::chrono::steady_clock::now();
  boost::asio::co_spawn(ioc, deps.run(), boost::asio::detached);
  boost::asio::co_spawn(ioc, rss.run(), boost::asio::detached);
  ioc.restart();
  while (!(deps.has_synced() && rss.has_synced())) ioc.run_one();
  double sync_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  long rss1 = rss_kib();
  std::printf("initial sync of %zu deployments + %zu replicasets: %.2f s; RSS %ld KiB -> %ld KiB (%.0f bytes/object)\n",
              deps.cache().size(), rss.cache().size(), sync_s, rss0, rss1,
              (rss1 - rss0) * 1024.0 / static_cast<double>(deps.cache().size() + rss.cache().size()));
  deps.stop();
  rss.stop();
  c.cancel_watches();
  ioc.restart();
  ioc.run_for(std::chrono::milliseconds{200});
  boost::asio::co_spawn(ioc, remove_namespace(c, ns), boost::asio::detached);
  ioc.restart();
  ioc.run_for(std::chrono::seconds{30});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  report<probes::DeploymentView>("Deployment", kube::project_deployment, deployment_json("shop", "checkout"));
  report<probes::ReplicaSetView>("ReplicaSet", kube::project_replicaset, replicaset_json("shop", "checkout"));
  if (argc >= 2 && std::strcmp(argv[1], "--sandbox") == 0) return sandbox_mode(argc >= 3 ? std::atoi(argv[2]) : 10000);
  return 0;
}
