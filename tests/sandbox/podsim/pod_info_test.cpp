// Unit tests of podsim's pod projection and request bodies: odd objects must never throw.
#include "tests/sandbox/podsim/pod_info.hpp"

#include <gtest/gtest.h>

namespace canary_guard::podsim {
namespace {

using nlohmann::json;

const json kDaemonSetPod = json::parse(R"({
  "metadata": {"namespace": "kube-system", "name": "agent-x1", "uid": "u-1", "resourceVersion": "42",
               "labels": {"controller-revision-hash": "5d8f", "app": "agent"}},
  "spec": {
    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
      {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["podsim-node-2"]}]}]}}},
    "initContainers": [{"name": "init", "image": "busybox:1"}],
    "containers": [{"name": "agent", "image": "agent:v2-errors30-latency400"}, {"name": "side", "image": "side"}]
  },
  "status": {"phase": "Running", "startTime": "2023-11-14T22:13:20Z", "podIP": "10.244.0.9",
             "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2023-11-14T22:13:21Z"},
                            {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2023-11-14T22:13:19Z"}]}
})");

TEST(ParsePod, FullDaemonSetPod) {
  const auto p = parse_pod(kDaemonSetPod);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->key(), "kube-system/agent-x1");
  EXPECT_EQ(p->uid, "u-1");
  EXPECT_EQ(p->resource_version, "42");
  EXPECT_EQ(p->affinity_node, "podsim-node-2");
  EXPECT_EQ(p->node_name, "");
  EXPECT_FALSE(p->deleting);
  EXPECT_EQ(p->controller_revision_hash, "5d8f");
  EXPECT_EQ(p->pod_template_hash, "");
  ASSERT_EQ(p->containers.size(), 2u);
  EXPECT_EQ(p->containers[0].behaviour.error_percent, 30);
  EXPECT_EQ(p->containers[0].behaviour.latency_ms, 400);
  ASSERT_EQ(p->init_containers.size(), 1u);
  EXPECT_EQ(p->start_time, parse_time("2023-11-14T22:13:20Z"));
  ASSERT_TRUE(p->ready);
  EXPECT_TRUE(p->ready->status);
  EXPECT_EQ(p->ready->since, *parse_time("2023-11-14T22:13:21Z"));
  EXPECT_EQ(p->scheduled_time, parse_time("2023-11-14T22:13:19Z"));
  EXPECT_EQ(p->pod_ip, "10.244.0.9");
}

TEST(ParsePod, OddObjectsDoNotThrow) {
  for (const char* text : {
           "null", "[]", "42", "\"x\"", "{}", R"({"metadata": 5})", R"({"metadata": {"name": "a"}})",
           R"({"metadata": {"namespace": "n", "name": 7}})",
       })
    EXPECT_FALSE(parse_pod(json::parse(text))) << text;

  const auto weird = parse_pod(json::parse(R"({
    "metadata": {"namespace": "n", "name": "p", "labels": [1, 2], "deletionTimestamp": "2023-11-14T22:13:20Z"},
    "spec": {"containers": [{"image": "no-name:v1"}, 5, {"name": "c", "image": 7}],
             "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
               {"matchFields": [{"key": "metadata.name", "operator": "In", "values": []}]}, 3]}}}},
    "status": {"conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "garbage"}, null],
               "startTime": 12}
  })"));
  ASSERT_TRUE(weird);
  EXPECT_TRUE(weird->deleting);
  ASSERT_EQ(weird->containers.size(), 1u);  // nameless and non-object containers dropped
  EXPECT_EQ(weird->containers[0].image, "");
  EXPECT_EQ(weird->affinity_node, "");
  EXPECT_FALSE(weird->ready);
  EXPECT_FALSE(weird->start_time);
}

TEST(ParsePod, Terminal) {
  auto p = *parse_pod(kDaemonSetPod);
  EXPECT_FALSE(p.terminal());
  p.phase = "Succeeded";
  EXPECT_TRUE(p.terminal());
  p.phase = "Failed";
  EXPECT_TRUE(p.terminal());
}

TEST(Bodies, BindingStatusDelete) {
  const auto p = *parse_pod(kDaemonSetPod);
  const auto b = json::parse(binding_body(p, "podsim-node-2"));
  EXPECT_EQ(b["kind"], "Binding");
  EXPECT_EQ(b["metadata"]["name"], "agent-x1");
  EXPECT_EQ(b["metadata"]["uid"], "u-1");
  EXPECT_EQ(b["target"]["kind"], "Node");
  EXPECT_EQ(b["target"]["name"], "podsim-node-2");

  const auto s = json::parse(status_patch_body("42", json{{"phase", "Running"}}));
  EXPECT_EQ(s["metadata"]["resourceVersion"], "42");
  EXPECT_EQ(s["status"]["phase"], "Running");

  const auto d = json::parse(delete_body("u-1"));
  EXPECT_EQ(d["gracePeriodSeconds"], 0);
  EXPECT_EQ(d["preconditions"]["uid"], "u-1");
  EXPECT_FALSE(json::parse(delete_body(""))["preconditions"].is_object());

  // Invalid UTF-8 must not throw out of a body builder.
  EXPECT_NO_THROW(status_patch_body("1", json{{"x", std::string("\xff\xfe")}}));
}

TEST(Nodes, NamesStatusAndTaints) {
  EXPECT_EQ(node_name(1), "podsim-node-1");
  EXPECT_EQ(node_ip(1), "10.0.0.2");
  EXPECT_NE(node_ip(1), node_ip(251));
  const auto st = json::parse(node_status_patch_body("podsim-node-1", "10.0.0.2", *parse_time("2023-11-14T22:13:20Z"),
                                                     *parse_time("2023-11-14T22:00:00Z")))["status"];
  EXPECT_EQ(st["capacity"]["cpu"], "8");
  EXPECT_EQ(st["allocatable"]["memory"], "32Gi");
  EXPECT_EQ(st["allocatable"]["pods"], "110");
  EXPECT_EQ(st["nodeInfo"]["kubeletVersion"], "v1.20.2");
  bool ready = false;
  for (const auto& c : st["conditions"])
    if (c["type"] == "Ready") {
      ready = c["status"] == "True";
      EXPECT_EQ(c["lastHeartbeatTime"], "2023-11-14T22:13:20Z");
      EXPECT_EQ(c["lastTransitionTime"], "2023-11-14T22:00:00Z");
    }
  EXPECT_TRUE(ready);

  EXPECT_FALSE(taints_without_lifecycle(json::parse(R"({"spec": {}})")));
  EXPECT_FALSE(taints_without_lifecycle(json::parse("null")));
  EXPECT_FALSE(taints_without_lifecycle(json::parse(R"({"spec": {"taints": [{"key": "dedicated"}]}})")));
  const auto keep = taints_without_lifecycle(json::parse(R"({"spec": {"taints": [
      {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"},
      {"key": "dedicated", "effect": "NoSchedule"},
      {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}, 5]}})"));
  ASSERT_TRUE(keep);
  ASSERT_EQ(keep->size(), 2u);
  EXPECT_EQ((*keep)[0]["key"], "dedicated");
  const auto patch = json::parse(taints_patch_body("7", json::array()));
  EXPECT_EQ(patch["metadata"]["resourceVersion"], "7");
  EXPECT_TRUE(patch["spec"]["taints"].is_array());
}

}  // namespace
}  // namespace canary_guard::podsim

namespace canary_guard::podsim {
namespace {

TEST(StatusContains, MergeSemantics) {
  struct Case {
    const char *current, *wanted;
    bool want;
  };
  for (const auto& c : std::initializer_list<Case>{
           {R"({})", R"({})", true},
           {R"({"phase": "Running", "extra": 1})", R"({"phase": "Running"})", true},
           {R"({"phase": "Pending"})", R"({"phase": "Running"})", false},
           {R"({})", R"({"phase": "Running"})", false},
           {R"({})", R"({"gone": null})", true},
           {R"({"a": {"b": 1, "c": 2}})", R"({"a": {"b": 1}})", true},
           {R"({"a": {"b": 1}})", R"({"a": {"b": 2}})", false},
           {R"({"l": [1, 2]})", R"({"l": [1, 2]})", true},
           {R"({"l": [1, 2, 3]})", R"({"l": [1, 2]})", false},  // lists are replaced whole
           {R"(null)", R"({"phase": "Running"})", false},
           {R"({"a": 5})", R"({"a": {"b": 1}})", false},
       })
    EXPECT_EQ(status_contains(nlohmann::json::parse(c.current), nlohmann::json::parse(c.wanted)), c.want)
        << c.current << " vs " << c.wanted;
}

TEST(StatusContains, RoundTripOfOwnStatus) {
  // What podsim wrote, read back, needs no rewrite.
  std::vector<ContainerSpec> cs{{"web", "web:crashloop", parse_behaviour("web:crashloop")}};
  const TimePoint start{std::chrono::seconds{1'700'000'000}};
  SimPod pod({"ns", "p", "u", "h", ""}, cs, {}, {"n", "10.0.0.2", "10.244.0.2", start, start});
  pod.advance(start + std::chrono::seconds{9}, Timing{});
  const auto written = pod.status_json();
  const auto read_back = nlohmann::json::parse(written.dump());
  EXPECT_TRUE(status_contains(read_back, written));
  EXPECT_TRUE(status_contains(parse_pod(nlohmann::json{{"metadata", {{"namespace", "ns"}, {"name", "p"}}},
                                                       {"status", read_back}})
                                  ->status,
                              written));
  pod.advance(start + std::chrono::seconds{13}, Timing{});  // one more restart (kubelet back-off: 10 s after 2 s)
  EXPECT_FALSE(status_contains(read_back, pod.status_json()));
}

}  // namespace
}  // namespace canary_guard::podsim
