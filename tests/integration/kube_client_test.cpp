// Kubernetes client against the sandbox control plane (scripts/sandbox up; eval "$(scripts/sandbox env)").
// Skips with a reason when the sandbox environment is absent.
#include <gtest/gtest.h>

#include <set>

#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>

#include "daemon/kube/client.hpp"
#include "daemon/kube/informer.hpp"
#include "daemon/kube/resources.hpp"
#include "tests/integration/it_support.hpp"

namespace canary_guard::kube {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

using it::env;

std::string sandbox_script() { return std::string(CG_SOURCE_DIR) + "/scripts/sandbox"; }

using it::run;

class KubeClientIT : public ::testing::Test {
 protected:
  void SetUp() override {
    if (env("KUBECONFIG").empty() || env("CG_SANDBOX_DIR").empty())
      GTEST_SKIP() << "sandbox not running: run scripts/sandbox up and eval \"$(scripts/sandbox env)\"";
    auto creds = load_kubeconfig(env("KUBECONFIG"), "");
    ASSERT_TRUE(creds) << creds.error();
    admin_creds_ = *creds;
    auto c = Client::make(ioc_, *creds);
    ASSERT_TRUE(c) << c.error();
    admin_ = std::move(*c);
    ns_ = "cg-kube-it-" + std::to_string(std::random_device{}() % 1000000);
    auto r = run(ioc_, admin_->create(paths::namespaces(), json{{"metadata", {{"name", ns_}}}}.dump()));
    ASSERT_TRUE(r) << describe(r.error());
  }
  void TearDown() override {
    if (admin_) (void)run(ioc_, admin_->remove(paths::namespaces(ns_)));
  }
  Result<json> create_configmap(const std::string& name, const json& data = json::object()) {
    return run(ioc_, admin_->create(paths::configmaps(ns_), json{{"metadata", {{"name", name}}}, {"data", data}}.dump()));
  }
  Result<json> create_deployment(const std::string& name) {
    json d = {{"metadata", {{"name", name}}},
              {"spec",
               {{"replicas", 0},
                {"paused", true},
                {"selector", {{"matchLabels", {{"app", name}}}}},
                {"template",
                 {{"metadata", {{"labels", {{"app", name}}}}},
                  {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "busybox:1"}}})}}}}}}}};
    return run(ioc_, admin_->create(paths::deployments(ns_), d.dump()));
  }

  boost::asio::io_context ioc_;
  Credentials admin_creds_;
  std::unique_ptr<Client> admin_;
  std::string ns_;
};

TEST_F(KubeClientIT, GetListAndPaging) {
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(create_configmap("cm-" + std::to_string(i)));
  auto got = run(ioc_, admin_->get(paths::configmaps(ns_, "cm-7")));
  ASSERT_TRUE(got) << describe(got.error());
  EXPECT_EQ((*got)["metadata"]["name"], "cm-7");

  int pages = 0;
  std::size_t items = 0;
  auto r = run(ioc_, admin_->list_pages(paths::configmaps(ns_), {}, 10, [&](json& page, bool) {
    ++pages;
    items += page["items"].size();
  }));
  ASSERT_TRUE(r) << describe(r.error());
  EXPECT_EQ(pages, 3);
  EXPECT_GE(items, 25u);  // plus kube-root-ca.crt when that controller runs

  auto all = run(ioc_, admin_->list_all(paths::configmaps(ns_), {}, 7));
  ASSERT_TRUE(all) << describe(all.error());
  EXPECT_EQ((*all)["items"].size(), items);
  EXPECT_FALSE((*all)["metadata"]["resourceVersion"].get<std::string>().empty());

  auto missing = run(ioc_, admin_->get(paths::configmaps(ns_, "nope")));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);

  // Keep-alive: many sequential requests reuse the pool without errors.
  int counted = 0;
  admin_->set_request_hook([&](std::string_view verb, std::string_view resource, int code) {
    if (verb == "GET" && resource == "configmaps" && code == 200) ++counted;
  });
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(run(ioc_, admin_->get(paths::configmaps(ns_, "cm-1"))));
  EXPECT_EQ(counted, 20);
}

// Sockets this process has open (the client's connections among them).
int open_sockets() {
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc/self/fd", ec)) {
    std::error_code lec;
    auto target = fs::read_symlink(e.path(), lec);
    if (!lec && target.string().rfind("socket:", 0) == 0) ++n;
  }
  return n;
}

TEST_F(KubeClientIT, ABurstWaitsForItsRequestSlotsInsteadOfOpeningAConnectionEach) {
  ASSERT_TRUE(create_configmap("burst"));
  ClientOptions o;
  o.max_connections = 3;
  o.max_idle_connections = 3;
  auto c = Client::make(ioc_, admin_creds_, o);
  ASSERT_TRUE(c) << c.error();
  auto& client = **c;
  const int before = open_sockets();
  int ok = 0, failed = 0, done = 0, peak = 0;
  constexpr int kRequests = 150;
  for (int i = 0; i < kRequests; ++i) {
    boost::asio::co_spawn(
        ioc_,
        [&client, &ok, &failed, &done, path = paths::configmaps(ns_, "burst"),
         patch = json{{"data", {{"n", std::to_string(i)}}}}.dump(), get = i % 2 == 1]() -> boost::asio::awaitable<void> {
          bool good = false;
          if (get) {
            auto r = co_await client.get(path);
            good = r.has_value();
          } else {
            auto r = co_await client.patch(path, PatchType::merge, patch);
            good = r.has_value();
          }
          ++(good ? ok : failed);
          ++done;
        },
        boost::asio::detached);
  }
  // Sample the open sockets while the burst runs.
  boost::asio::steady_timer sampler(ioc_);
  std::function<void(boost::system::error_code)> sample = [&](boost::system::error_code) {
    peak = std::max(peak, open_sockets() - before);
    if (done < kRequests) {
      sampler.expires_after(std::chrono::milliseconds(2));
      sampler.async_wait(sample);
    }
  };
  sample({});
  ioc_.restart();
  ioc_.run();
  EXPECT_EQ(ok, kRequests);
  EXPECT_EQ(failed, 0);
  EXPECT_GE(peak, 1);
  EXPECT_LE(peak, 3) << "more connections than max_connections were open at once";
}

TEST_F(KubeClientIT, ABurstsNextStepReusesTheConnectionsItsFirstStepOpened) {
  // Ten rollbacks at once: ten reads, then ten writes. With the default pool (25 idle) the writes find the reads'
  // connections; with the former pool of 4, six of them paid a new TLS handshake each.
  ASSERT_TRUE(create_configmap("step"));
  auto c = Client::make(ioc_, admin_creds_);
  ASSERT_TRUE(c) << c.error();
  auto& client = **c;
  const int before = open_sockets();
  auto ten_at_once = [&](bool write) {
    int ok = 0;
    for (int i = 0; i < 10; ++i)
      boost::asio::co_spawn(
          ioc_,
          [&client, &ok, write, path = paths::configmaps(ns_, "step"),
           patch = json{{"data", {{"n", std::to_string(i)}}}}.dump()]() -> boost::asio::awaitable<void> {
            bool good = write ? (co_await client.patch(path, PatchType::merge, patch)).has_value()
                              : (co_await client.get(path)).has_value();
            if (good) ++ok;
          },
          boost::asio::detached);
    ioc_.restart();
    ioc_.run();
    return ok;
  };
  ASSERT_EQ(ten_at_once(false), 10);
  const int after_reads = open_sockets() - before;
  EXPECT_EQ(after_reads, 10) << "the ten connections of the first step are kept idle";
  ASSERT_EQ(ten_at_once(true), 10);
  EXPECT_EQ(open_sockets() - before, after_reads) << "the second step opened new connections instead of reusing";
}

TEST_F(KubeClientIT, PagesOverTheBodyCapAreFetchedAgainSmaller) {
  // 40 ConfigMaps of 3 KB under a 64 KiB body cap: a page of 500 (all 40, ~120 KB) is over the cap, as 500 pods of
  // 40 KB are over the daemon's 16 MiB. The list must halve its pages (down to 16: ~48 KB) and complete, with
  // every item once, instead of failing the same way for ever.
  const std::string blob(3000, 'x');
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(create_configmap("big-" + std::to_string(i), json{{"blob", blob}}));
  ClientOptions o;
  o.body_limit = 64u << 10;
  auto c = Client::make(ioc_, admin_creds_, o);
  ASSERT_TRUE(c) << c.error();
  std::set<std::string> names;
  int pages = 0;
  auto r = run(ioc_, (*c)->list_pages(paths::configmaps(ns_), {}, 500, [&](json& page, bool restarted) {
    if (restarted) names.clear();
    ++pages;
    for (auto& item : page["items"]) names.insert(item["metadata"]["name"].get<std::string>());
  }));
  ASSERT_TRUE(r) << describe(r.error());
  EXPECT_EQ(names.size(), 40u);
  EXPECT_GE(pages, 3);  // 16 + 16 + 8
  // The cap itself still holds: below the floor a page that does not fit is an error, never an unbounded read.
  ClientOptions tiny;
  tiny.body_limit = 8u << 10;
  auto t = Client::make(ioc_, admin_creds_, tiny);
  ASSERT_TRUE(t) << t.error();
  auto failed = run(ioc_, (*t)->list_pages(paths::configmaps(ns_), {}, 500, [](json&, bool) {}));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().reason, kBodyTooLarge);
}

TEST_F(KubeClientIT, WrongCaIsRefused) {
  auto dir = fs::temp_directory_path() / ("cg-wrong-ca-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=wrong -days 1 -keyout " +
                    (dir / "k.pem").string() + " -out " + (dir / "c.pem").string() + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  Credentials wrong = admin_creds_;
  std::ifstream in(dir / "c.pem");
  wrong.ca_pem.assign(std::istreambuf_iterator<char>(in), {});
  fs::remove_all(dir);
  auto c = Client::make(ioc_, wrong);
  ASSERT_TRUE(c) << c.error();
  auto r = run(ioc_, (*c)->get("/version"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::transport);
  EXPECT_NE(r.error().message.find("TLS handshake"), std::string::npos) << r.error().message;

  // The right CA but a name the certificate does not carry is refused too.
  Credentials wrong_name = admin_creds_;
  wrong_name.tls_server_name = "not-the-apiserver.example";
  auto c2 = Client::make(ioc_, wrong_name);
  ASSERT_TRUE(c2);
  auto r2 = run(ioc_, (*c2)->get("/version"));
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().kind, ErrorKind::transport);
}

TEST_F(KubeClientIT, LimitedIdentityIsForbiddenWithRbacMessage) {
  if (env("CANARY_GUARD_KUBECONFIG").empty()) GTEST_SKIP() << "CANARY_GUARD_KUBECONFIG not set";
  auto creds = load_kubeconfig(env("CANARY_GUARD_KUBECONFIG"), "");
  ASSERT_TRUE(creds) << creds.error();
  auto c = Client::make(ioc_, *creds);
  ASSERT_TRUE(c) << c.error();
  auto r = run(ioc_, (*c)->list(paths::core("secrets", "kube-system"), {}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::forbidden);
  EXPECT_EQ(r.error().http_status, 403);
  EXPECT_NE(r.error().message.find("cannot list resource \"secrets\""), std::string::npos) << r.error().message;
}

TEST_F(KubeClientIT, ForbiddenWatchIsForbiddenNotABodyLimit) {
  // Boost 1.74 compares a Content-Length against an unset body limit as if the limit were 0: a 403 on a watch
  // came back as "watch header: body limit exceeded" (a transport error) instead of forbidden.
  if (env("CANARY_GUARD_KUBECONFIG").empty()) GTEST_SKIP() << "CANARY_GUARD_KUBECONFIG not set";
  auto creds = load_kubeconfig(env("CANARY_GUARD_KUBECONFIG"), "");
  ASSERT_TRUE(creds) << creds.error();
  auto c = Client::make(ioc_, *creds);
  ASSERT_TRUE(c) << c.error();
  WatchOptions w;
  w.timeout_seconds = 5;
  auto r = run(ioc_, (*c)->watch(paths::core("secrets", "kube-system"), w, [](std::string_view) { return true; }));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::forbidden) << describe(r.error());
  EXPECT_EQ(r.error().http_status, 403);
  EXPECT_NE(r.error().message.find("cannot watch resource \"secrets\""), std::string::npos) << r.error().message;
}

TEST_F(KubeClientIT, PatchPreconditionsAndConflicts) {
  auto cm = create_configmap("p", {{"k", "v1"}});
  ASSERT_TRUE(cm) << describe(cm.error());
  const std::string rv = (*cm)["metadata"]["resourceVersion"];
  const std::string path = paths::configmaps(ns_, "p");

  auto again = create_configmap("p");
  ASSERT_FALSE(again);
  EXPECT_TRUE(is_already_exists(again.error()));

  // json patch guarded by a test op that holds
  auto ok = run(ioc_, admin_->patch(path, PatchType::json,
                                    json::array({{{"op", "test"}, {"path", "/metadata/resourceVersion"}, {"value", rv}},
                                                 {{"op", "replace"}, {"path", "/data/k"}, {"value", "v2"}}})
                                        .dump()));
  ASSERT_TRUE(ok) << describe(ok.error());
  EXPECT_EQ((*ok)["data"]["k"], "v2");

  // ... and one whose test fails: 422 Invalid, not 409
  auto stale_test = run(ioc_, admin_->patch(path, PatchType::json,
                                            json::array({{{"op", "test"}, {"path", "/metadata/resourceVersion"}, {"value", rv}},
                                                         {{"op", "replace"}, {"path", "/data/k"}, {"value", "v3"}}})
                                                .dump()));
  ASSERT_FALSE(stale_test);
  EXPECT_EQ(stale_test.error().kind, ErrorKind::invalid);
  EXPECT_EQ(stale_test.error().http_status, 422);

  // merge patch carrying a stale resourceVersion: 409 Conflict
  auto stale_merge = run(ioc_, admin_->patch(path, PatchType::merge,
                                             json{{"metadata", {{"resourceVersion", rv}}}, {"data", {{"k", "v4"}}}}.dump()));
  ASSERT_FALSE(stale_merge);
  EXPECT_EQ(stale_merge.error().kind, ErrorKind::conflict);
  EXPECT_EQ(stale_merge.error().reason, "Conflict");

  auto smp = run(ioc_, admin_->patch(path, PatchType::strategic, json{{"data", {{"s", "x"}}}}.dump()));
  ASSERT_TRUE(smp) << describe(smp.error());
  EXPECT_EQ((*smp)["data"]["s"], "x");
  EXPECT_EQ((*smp)["data"]["k"], "v2");

  // PUT with a stale resourceVersion: 409
  json body = *smp;
  body["metadata"]["resourceVersion"] = rv;
  auto put = run(ioc_, admin_->update(path, body.dump()));
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().kind, ErrorKind::conflict);
}

TEST_F(KubeClientIT, WatchFromAncientRvIsGone) {
  // On a young cluster the apiserver's watch cache still covers resourceVersion 1; compacting etcd and restarting the
  // apiserver (its cache then starts at the current revision) makes it too old for certain.
  ASSERT_TRUE(create_configmap("ancient"));
  ASSERT_EQ(std::system((sandbox_script() + " compact >/dev/null 2>&1").c_str()), 0);
  ASSERT_EQ(std::system((sandbox_script() + " restart-apiserver >/dev/null 2>&1").c_str()), 0);
  bool got_line = false;
  auto r = run(ioc_, admin_->watch(paths::configmaps(ns_), WatchOptions{"1", 30, true, {}, {}}, [&](std::string_view line) {
    got_line = true;
    auto e = error_from_status_json(nlohmann::json::parse(line, nullptr, false).value("object", json::object()).dump());
    EXPECT_EQ(e.kind, ErrorKind::gone) << line;
    return false;
  }));
  // 1.20 answers with 200 and an ERROR event (or 410 directly): both must read as gone.
  if (!r) {
    EXPECT_EQ(r.error().kind, ErrorKind::gone) << describe(r.error());
  } else {
    EXPECT_TRUE(got_line);
  }
}

TEST_F(KubeClientIT, PagedListRestartsAfterCompaction) {
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(create_configmap("c-" + std::to_string(i)));
  int pages = 0;
  bool saw_restart = false;
  std::size_t items_after_restart = 0;
  auto r = run(ioc_, admin_->list_pages(paths::configmaps(ns_), {}, 5, [&](json& page, bool restarted) {
    if (restarted) {
      saw_restart = true;
      items_after_restart = 0;
    }
    items_after_restart += page["items"].size();
    if (++pages == 1) {
      // Make the snapshot of the continue token older than etcd's compacted revision. (kubectl, because this
      // callback runs inside our io_context and must not block on it.)
      ASSERT_EQ(std::system(("kubectl -n " + ns_ + " create configmap bump >/dev/null 2>&1").c_str()), 0);
      ASSERT_EQ(std::system((sandbox_script() + " compact >/dev/null 2>&1").c_str()), 0);
    }
  }));
  ASSERT_TRUE(r) << describe(r.error());
  EXPECT_TRUE(saw_restart);
  EXPECT_GE(items_after_restart, 13u);
}

TEST_F(KubeClientIT, RelistAsksTheWatchCacheFirstAndFallsBackToAPagedConsistentReadOverTheCap) {
  // 40 Deployments of ~6 KB (a 4 KB annotation). Under the default cap the informer's first list is RV=0 (served by
  // the watch cache, one response); a requested relist is a consistent read. Under a 128 KiB cap the cache's one
  // response (~240 KB) is over: the same relist falls back to the paged consistent read (pages halved to 16) and
  // completes with every object.
  const std::string blob(4000, 'x');
  for (int i = 0; i < 40; ++i) {
    const std::string name = "big-" + std::to_string(i);
    json d = {{"metadata", {{"name", name}, {"annotations", {{"blob", blob}}}}},
              {"spec",
               {{"replicas", 0},
                {"paused", true},
                {"selector", {{"matchLabels", {{"app", name}}}}},
                {"template",
                 {{"metadata", {{"labels", {{"app", name}}}}},
                  {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "busybox:1"}}})}}}}}}}};
    ASSERT_TRUE(run(ioc_, admin_->create(paths::deployments(ns_), d.dump())));
  }
  auto run_until = [&](auto pred, std::chrono::seconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < end) {
      if (ioc_.stopped()) ioc_.restart();
      ioc_.run_for(std::chrono::milliseconds{100});
    }
    return pred();
  };
  struct StopInformer {
    Informer<probes::DeploymentView>& inf;
    Client& client;
    boost::asio::io_context& ioc;
    ~StopInformer() {
      inf.stop();
      auto end = std::chrono::steady_clock::now() + std::chrono::seconds{30};
      while (inf.running() && std::chrono::steady_clock::now() < end) {
        client.cancel_watches();
        ioc.restart();
        ioc.run_for(std::chrono::milliseconds{100});
      }
    }
  };
  InformerOptions opts;
  opts.path = paths::deployments(ns_);
  {
    Informer<probes::DeploymentView> inf(*admin_, opts);
    StopInformer stop{inf, *admin_, ioc_};
    boost::asio::co_spawn(ioc_, inf.run(), boost::asio::detached);
    ASSERT_TRUE(run_until([&] { return inf.has_synced(); }, std::chrono::seconds{30}));
    EXPECT_EQ(inf.cache().size(), 40u);
    EXPECT_EQ(inf.stats().cache_lists, 1u);  // RV=0
    EXPECT_EQ(inf.stats().quorum_lists, 0u);
    inf.request_relist();  // a fresh read disagreed: the next list reads from etcd
    // The open watch ends at its next event: make one.
    std::optional<Result<json>> patched;
    boost::asio::co_spawn(ioc_, [&]() -> boost::asio::awaitable<void> {
      patched.emplace(co_await admin_->patch(paths::deployments(ns_, "big-0"), PatchType::merge,
                                             R"({"metadata":{"annotations":{"canary-guard.io/it":"poke"}}})"));
    }, boost::asio::detached);
    ASSERT_TRUE(run_until([&] { return patched.has_value(); }, std::chrono::seconds{10}));
    ASSERT_TRUE(run_until([&] { return inf.stats().quorum_lists == 1 && inf.live(); }, std::chrono::seconds{30}));
    EXPECT_EQ(inf.stats().cache_lists, 1u);
    EXPECT_EQ(inf.cache().size(), 40u);
  }
  ClientOptions small;
  small.body_limit = 128u << 10;
  auto c = Client::make(ioc_, admin_creds_, small);
  ASSERT_TRUE(c) << c.error();
  Informer<probes::DeploymentView> inf(**c, opts);
  StopInformer stop{inf, **c, ioc_};
  boost::asio::co_spawn(ioc_, inf.run(), boost::asio::detached);
  ASSERT_TRUE(run_until([&] { return inf.has_synced(); }, std::chrono::seconds{30}))
      << "errors=" << inf.stats().errors << " why=" << inf.why_not_live();
  EXPECT_EQ(inf.cache().size(), 40u);
  EXPECT_EQ(inf.stats().cache_lists, 1u);   // over the cap ...
  EXPECT_EQ(inf.stats().quorum_lists, 1u);  // ... so paged from etcd, in the same relist
  EXPECT_EQ(inf.stats().relists, 1u);
  EXPECT_EQ(inf.stats().errors, 0u);
}

TEST_F(KubeClientIT, InformerSurvivesApiserverRestartWithoutMissingUpdates) {
  ASSERT_TRUE(create_deployment("web"));
  InformerOptions opts;
  opts.path = paths::deployments(ns_);
  opts.backoff_min = std::chrono::milliseconds{200};
  opts.backoff_max = std::chrono::milliseconds{2000};
  Informer<probes::DeploymentView> inf(*admin_, opts);
  boost::asio::co_spawn(ioc_, inf.run(), boost::asio::detached);
  auto run_until = [&](auto pred, std::chrono::seconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < end) {
      if (ioc_.stopped()) ioc_.restart();  // run() from the helpers leaves it stopped
      ioc_.run_for(std::chrono::milliseconds{100});
    }
    return pred();
  };
  // The informer's coroutine refers to `inf`: end it before `inf` goes away, whatever the test outcome.
  struct StopInformer {
    Informer<probes::DeploymentView>& inf;
    Client& client;
    boost::asio::io_context& ioc;
    ~StopInformer() {
      inf.stop();
      auto end = std::chrono::steady_clock::now() + std::chrono::seconds{30};
      while (inf.running() && std::chrono::steady_clock::now() < end) {
        client.cancel_watches();  // a watch may have started after the previous cancel
        ioc.restart();
        ioc.run_for(std::chrono::milliseconds{100});
      }
    }
  } stop_informer{inf, *admin_, ioc_};
  ASSERT_TRUE(run_until([&] { return inf.has_synced() && inf.find(ns_ + "/web"); }, std::chrono::seconds{30}));

  ASSERT_EQ(std::system((sandbox_script() + " restart-apiserver >/dev/null 2>&1").c_str()), 0);
  // Change the object right after the restart; the informer must see it (re-watch from its RV or relist).
  std::optional<Result<json>> patched;
  for (int i = 0; i < 60 && !(patched && *patched); ++i) {
    boost::asio::co_spawn(ioc_, [&]() -> boost::asio::awaitable<void> {
      patched.emplace(co_await admin_->patch(paths::deployments(ns_, "web"), PatchType::merge,
                                             R"({"metadata":{"annotations":{"canary-guard.io/it":"after-restart"}}})"));
    }, boost::asio::detached);
    run_until([&] { return patched.has_value(); }, std::chrono::seconds{10});
    if (!(patched && *patched)) {
      patched.reset();
      ioc_.run_for(std::chrono::milliseconds{500});
    }
  }
  ASSERT_TRUE(patched && *patched);
  EXPECT_TRUE(run_until(
      [&] {
        auto* d = inf.find(ns_ + "/web");
        auto* v = d ? probes::find_value(d->meta.annotations, "canary-guard.io/it") : nullptr;
        return v && *v == "after-restart";
      },
      std::chrono::seconds{60}));
}

}  // namespace
}  // namespace canary_guard::kube
