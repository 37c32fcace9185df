// The guard's record writes against the sandbox apiserver (scripts/sandbox up; eval "$(scripts/sandbox env)"): every
// write is a compare-and-swap on what the writer read, the first record of a revision too. Two processes that both
// believe they lead (tests/e2e/test_two_leaders.sh) read "no record" at the same moment and both write: exactly one
// write lands, the other is told `conflict` and re-reads. Before the first write was a CAS, both landed and both
// daemons told (two RevisionHealthy Events for one revision, CI of 2026-12-07). Skips when the sandbox is absent.
#include <gtest/gtest.h>

#include <utility>  // Boost 1.74: must precede boost/asio/awaitable.hpp

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <optional>
#include <random>

#include "config/clock.hpp"
#include "daemon/guard/events.hpp"
#include "daemon/guard/kube_writer.hpp"
#include "daemon/guard/records.hpp"
#include "daemon/kube/client.hpp"
#include "daemon/kube/resources.hpp"
#include "tests/integration/it_support.hpp"

namespace canary_guard::guard {
namespace {

using json = nlohmann::json;

using it::env;

using it::run;

class RecordRaceIT : public ::testing::Test {
 protected:
  void SetUp() override {
    if (env("KUBECONFIG").empty() || env("CG_SANDBOX_DIR").empty())
      GTEST_SKIP() << "sandbox not running: run scripts/sandbox up and eval \"$(scripts/sandbox env)\"";
    auto creds = kube::load_kubeconfig(env("KUBECONFIG"), "");
    ASSERT_TRUE(creds) << creds.error();
    auto c = kube::Client::make(ioc_, *creds);
    ASSERT_TRUE(c) << c.error();
    client_ = std::move(*c);
    ns_ = "cg-record-it-" + std::to_string(std::random_device{}() % 1000000);
    auto r = run(ioc_, client_->create(kube::paths::namespaces(), json{{"metadata", {{"name", ns_}}}}.dump()));
    ASSERT_TRUE(r) << kube::describe(r.error());
    recorder_.emplace(*client_, clock_, "canary-guard", "it");
    writer_.emplace(ioc_, *client_, *recorder_);
  }
  void TearDown() override {
    writer_.reset();
    if (client_) (void)run(ioc_, client_->remove(kube::paths::namespaces(ns_)));
  }

  // A ReplicaSet as the deployment controller makes them: it always carries deployment.kubernetes.io/revision.
  void create_replicaset(const std::string& name) {
    json rs = {{"metadata", {{"name", name}, {"annotations", {{"deployment.kubernetes.io/revision", "1"}}}}},
               {"spec",
                {{"replicas", 0},
                 {"selector", {{"matchLabels", {{"app", name}}}}},
                 {"template",
                  {{"metadata", {{"labels", {{"app", name}}}}},
                   {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "web:v1"}}})}}}}}}}};
    auto r = run(ioc_, client_->create(kube::paths::replicasets(ns_), rs.dump()));
    ASSERT_TRUE(r) << kube::describe(r.error());
  }
  // A ControllerRevision with no annotations at all (a DaemonSet without any): the first record creates the map.
  void create_controllerrevision(const std::string& name) {
    json cr = {{"metadata", {{"name", name}}}, {"data", json::object()}, {"revision", 1}};
    auto r = run(ioc_, client_->create(kube::paths::controllerrevisions(ns_), cr.dump()));
    ASSERT_TRUE(r) << kube::describe(r.error());
  }
  Observation obs(Kind kind) {
    Observation o;
    o.key = WorkloadKey{kind, ns_, "web"};
    o.ref = ObjectRef{kind == Kind::deployment ? "Deployment" : "DaemonSet", ns_, "web", "", ""};
    return o;
  }
  VerdictRecord healthy(const std::string& hash, std::string why) {
    return VerdictRecord{Verdict::healthy, hash, clock_.now(), std::move(why)};
  }
  std::string annotation(const std::string& path, std::string_view key) {
    auto r = run(ioc_, client_->get(path));
    EXPECT_TRUE(r) << kube::describe(r.error());
    if (!r) return {};
    const auto& m = (*r)["metadata"];
    if (!m.contains("annotations") || !m["annotations"].contains(std::string(key))) return {};
    return m["annotations"][std::string(key)].get<std::string>();
  }

  boost::asio::io_context ioc_;
  SystemClock clock_;
  std::unique_ptr<kube::Client> client_;
  std::string ns_;
  std::optional<EventRecorder> recorder_;
  std::optional<KubeWriter> writer_;
};

TEST_F(RecordRaceIT, OfTwoFirstRecordsWrittenFromTheSameReadExactlyOneLands) {
  create_replicaset("web-aaa");
  Revision seen;  // what both processes read: the ReplicaSet, no record yet
  seen.name = "web-aaa";
  seen.hash = "aaa";
  const auto o = obs(Kind::deployment);
  const auto a = healthy("aaa", "writer-a");
  const auto b = healthy("aaa", "writer-b");
  auto [ra, rb] = run(ioc_, both(writer_->write_record(o, seen, a, std::nullopt),
                                 writer_->write_record(o, seen, b, std::nullopt)));
  ASSERT_NE(bool(ra), bool(rb)) << "exactly one of two racing first writes must land";
  const auto& lost = ra ? rb : ra;
  EXPECT_EQ(lost.error().kind, kube::ErrorKind::conflict) << kube::describe(lost.error());
  const std::string text = annotation(kube::paths::replicasets(ns_, "web-aaa"), kVerdictAnnotation);
  EXPECT_EQ(text, format_verdict(ra ? a : b));
  EXPECT_EQ(annotation(kube::paths::replicasets(ns_, "web-aaa"), "deployment.kubernetes.io/revision"), "1")
      << "the controller's annotations are kept";

  // The loser re-reads and swaps what it now sees: that lands.
  Revision reread = seen;
  reread.verdict_text = text;
  const VerdictRecord failed{Verdict::failed, "aaa", clock_.now(), "pod_signal:crash_loop"};
  auto rc = run(ioc_, writer_->write_record(o, reread, failed, std::nullopt));
  ASSERT_TRUE(rc) << kube::describe(rc.error());
  EXPECT_EQ(annotation(kube::paths::replicasets(ns_, "web-aaa"), kVerdictAnnotation), format_verdict(failed));
  // A write from the first, now stale, read still fails: nothing is overwritten blindly.
  auto rd = run(ioc_, writer_->write_record(o, seen, a, std::nullopt));
  ASSERT_FALSE(rd);
  EXPECT_EQ(rd.error().kind, kube::ErrorKind::conflict);
}

TEST_F(RecordRaceIT, TheFirstRollbackRecordIsACompareAndSwapToo) {
  create_replicaset("web-bbb");
  Revision seen;
  seen.name = "web-bbb";
  seen.hash = "bbb";
  const auto o = obs(Kind::deployment);
  const VerdictRecord failed{Verdict::failed, "bbb", clock_.now(), "pod_signal:crash_loop"};
  const RollbackRecord started{RollbackState::started, "bbb", "aaa", 1, clock_.now(), "pod_signal:crash_loop"};
  auto [ra, rb] = run(ioc_, both(writer_->write_record(o, seen, failed, started),
                                 writer_->write_record(o, seen, failed, started)));
  EXPECT_NE(bool(ra), bool(rb)) << "two processes must not both record the start of one rollback";
}

TEST_F(RecordRaceIT, WithoutAnyAnnotationsTheFirstRecordCreatesTheMapOnce) {
  create_controllerrevision("web-ccc");
  Revision seen;
  seen.name = "web-ccc";
  seen.hash = "ccc";
  seen.has_annotations = false;
  const auto o = obs(Kind::daemonset);
  const auto a = healthy("ccc", "writer-a");
  const auto b = healthy("ccc", "writer-b");
  auto [ra, rb] = run(ioc_, both(writer_->write_record(o, seen, a, std::nullopt),
                                 writer_->write_record(o, seen, b, std::nullopt)));
  ASSERT_NE(bool(ra), bool(rb));
  EXPECT_EQ(annotation(kube::paths::controllerrevisions(ns_, "web-ccc"), kVerdictAnnotation),
            format_verdict(ra ? a : b));
}

}  // namespace
}  // namespace canary_guard::guard
