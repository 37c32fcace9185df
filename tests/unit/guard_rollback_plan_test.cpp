#include <gtest/gtest.h>

#include "daemon/guard/rollback_plan.hpp"

using nlohmann::json;
using namespace canary_guard::guard;

namespace {
json deployment() {
  return json::parse(R"({
    "metadata":{"name":"web","resourceVersion":"812","generation":7,"annotations":{
      "deployment.kubernetes.io/revision":"3","kubernetes.io/change-cause":"v3","team":"x",
      "canary-guard.io/verdict":"healthy hash=zzz at=2026-01-01T00:00:00Z"}},
    "spec":{"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"image":"web:3","name":"web"}]}}}})");
}
json replicaset() {
  return json::parse(R"({
    "metadata":{"name":"web-aaa","annotations":{"deployment.kubernetes.io/revision":"1",
      "deployment.kubernetes.io/desired-replicas":"3","deployment.kubernetes.io/max-replicas":"4",
      "kubernetes.io/change-cause":"v1","canary-guard.io/verdict":"healthy hash=aaa at=2026-01-01T00:00:00Z",
      "canary-guard.io/rollback":"state=succeeded from=aaa to=b to-revision=1 at=2026-01-01T00:00:00Z"}},
    "spec":{"template":{"metadata":{"creationTimestamp":null,"labels":{"app":"web","pod-template-hash":"aaa"}},
            "spec":{"containers":[{"image":"web:1","name":"web","resources":{}}]}}}})");
}
}  // namespace

TEST(RollbackPlan, DeploymentPatchMatchesKubectlPlusPrecondition) {
  auto r = deployment_rollback(deployment(), replicaset());
  ASSERT_TRUE(r) << r.error();
  EXPECT_FALSE(r->skipped);
  EXPECT_EQ(r->content_type, "application/json-patch+json");
  auto ops = json::parse(r->body);
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[0], json::parse(R"({"op":"test","path":"/metadata/generation","value":7})"));
  EXPECT_EQ(ops[1]["op"], "replace");
  EXPECT_EQ(ops[1]["path"], "/spec/template");
  EXPECT_EQ(ops[1]["value"]["metadata"]["labels"], json::parse(R"({"app":"web"})"));
  EXPECT_EQ(ops[1]["value"]["spec"]["containers"][0]["image"], "web:1");
  EXPECT_EQ(ops[2]["op"], "replace");
  // Spec §4.4 example: D's revision kept, RS change-cause restored, `team` dropped, RS-only keys in skip list
  // dropped; canary-guard's own records never travel.
  EXPECT_EQ(ops[2]["value"],
            json::parse(R"({"deployment.kubernetes.io/revision":"3","kubernetes.io/change-cause":"v1"})"));
}

TEST(RollbackPlan, DeploymentWithoutAnnotationsUsesAdd) {
  auto d = deployment();
  d["metadata"].erase("annotations");
  auto r = deployment_rollback(d, replicaset());
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)[2]["op"], "add");
}

TEST(RollbackPlan, SameTemplateIsSkipped) {
  auto d = deployment();
  d["spec"]["template"] = json::parse(R"({"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"web:1"}]}})");
  auto r = deployment_rollback(d, replicaset());
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->skipped);
}

TEST(RollbackPlan, MalformedInputsAreErrors) {
  auto d = deployment();
  d["metadata"].erase("generation");
  EXPECT_FALSE(deployment_rollback(d, replicaset()));
  EXPECT_FALSE(deployment_rollback(deployment(), json::object()));
  EXPECT_FALSE(deployment_rollback(json::array(), replicaset()));
  EXPECT_FALSE(deployment_rollback(json(), json()));
  auto rs = replicaset();
  rs["spec"]["template"] = "oops";
  EXPECT_FALSE(deployment_rollback(deployment(), rs));
}

TEST(RollbackPlan, TemplateEqualityRules) {
  auto a = json::parse(R"({"metadata":{"labels":{"app":"x","pod-template-hash":"1"}},"spec":{"a":1,"b":[],"c":{},"d":null}})");
  auto b = json::parse(R"({"spec":{"a":1},"metadata":{"labels":{"app":"x"},"annotations":{}}})");
  EXPECT_TRUE(templates_equal(a, b));
  b["spec"]["a"] = 2;
  EXPECT_FALSE(templates_equal(a, b));
  EXPECT_FALSE(templates_equal(json::parse(R"({"spec":{"l":[1,2]}})"), json::parse(R"({"spec":{"l":[2,1]}})")));
}

TEST(RollbackPlan, DaemonSetUsesRevisionDataWithPrecondition) {
  auto ds = json::parse(R"({"metadata":{"name":"agent","resourceVersion":"77","generation":4},
    "spec":{"template":{"metadata":{"labels":{"app":"agent"}},"spec":{"containers":[{"image":"agent:2","name":"a"}]}}}})");
  auto cr = json::parse(R"({"metadata":{"name":"agent-h1"},"revision":1,
    "data":{"spec":{"template":{"$patch":"replace","metadata":{"labels":{"app":"agent"}},"spec":{"containers":[{"image":"agent:1","name":"a"}]}}}}})");
  auto r = daemonset_rollback(ds, cr);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->content_type, "application/json-patch+json");
  auto ops = json::parse(r->body);
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0], json::parse(R"({"op":"test","path":"/metadata/generation","value":4})"));
  EXPECT_EQ(ops[1]["path"], "/spec/template");
  EXPECT_FALSE(ops[1]["value"].contains("$patch"));
  EXPECT_EQ(ops[1]["value"]["spec"]["containers"][0]["image"], "agent:1");
  ds["spec"]["template"]["spec"]["containers"][0]["image"] = "agent:1";
  EXPECT_TRUE(daemonset_rollback(ds, cr)->skipped);
  EXPECT_FALSE(daemonset_rollback(ds, json::parse(R"({"data":{}})")));
}

TEST(RollbackPlan, GuardSettingsStayAsTheDeploymentHasThem) {
  // The Deployment's canary-guard.io/* settings are kept as they are now, whatever the target ReplicaSet carries
  // (an older copy, or none): in opt-in mode losing `enabled` mid-rollback would orphan the rollback record.
  auto d = deployment();
  d["metadata"]["annotations"]["canary-guard.io/enabled"] = "true";
  d["metadata"]["annotations"]["canary-guard.io/bake-time"] = "45s";
  auto rs = replicaset();
  rs["metadata"]["annotations"]["canary-guard.io/bake-time"] = "5s";     // an older copy of the setting
  rs["metadata"]["annotations"]["canary-guard.io/dry-run"] = "true";     // a setting since removed
  auto r = deployment_rollback(d, rs);
  ASSERT_TRUE(r) << r.error();
  const auto ann = json::parse(r->body)[2]["value"];
  EXPECT_EQ(ann.value("canary-guard.io/enabled", ""), "true");
  EXPECT_EQ(ann.value("canary-guard.io/bake-time", ""), "45s");
  EXPECT_FALSE(ann.contains("canary-guard.io/dry-run"));
  // Records never travel, neither the Deployment's copy nor the ReplicaSet's own.
  EXPECT_FALSE(ann.contains("canary-guard.io/verdict"));
  EXPECT_FALSE(ann.contains("canary-guard.io/rollback"));
  EXPECT_EQ(ann.value("kubernetes.io/change-cause", ""), "v1");
}

TEST(RollbackPlan, LiftsTheGuardsOwnBlindPause) {
  auto d = deployment();
  d["spec"]["paused"] = true;
  d["metadata"]["annotations"]["canary-guard.io/hold"] = "paused-blind hash=zzz at=2026-01-01T00:00:00Z";
  auto r = deployment_rollback(d, replicaset(), /*lift_guard_pause=*/true);
  ASSERT_TRUE(r) << r.error();
  const auto ops = json::parse(r->body);
  ASSERT_EQ(ops.size(), 4u);
  EXPECT_EQ(ops[3], json::parse(R"({"op":"replace","path":"/spec/paused","value":false})"));
  EXPECT_FALSE(ops[2]["value"].contains("canary-guard.io/hold"));
  EXPECT_EQ(json::parse(deployment_rollback(d, replicaset())->body).size(), 3u);
}
