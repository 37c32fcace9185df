// Unit tests of podsim's scheduling rule: quantities at their edges, selectors, node affinity and resource fit.
#include "tests/sandbox/podsim/scheduling.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "tests/sandbox/podsim/pod_info.hpp"

namespace canary_guard::podsim {
namespace {

using nlohmann::json;
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

TEST(Quantity, Table) {
  struct Case {
    const char* text;
    std::optional<std::int64_t> value, milli;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"0", 0, 0},
           {"1", 1, 1000},
           {"4", 4, 4000},
           {"500m", 1, 500},  // Value() rounds up
           {"1500m", 2, 1500},
           {"0.5", 1, 500},
           {".5", 1, 500},
           {"1.", 1, 1000},
           {"0.0001", 1, 1},  // MilliValue() rounds up too
           {"100n", 1, 1},
           {"1000000n", 1, 1},
           {"1u", 1, 1},
           {"1k", 1000, 1'000'000},
           {"1Ki", 1024, 1'024'000},
           {"1Mi", 1'048'576, 1'048'576'000},
           {"1Gi", 1'073'741'824, 1'073'741'824'000},
           {"8Gi", 8'589'934'592, 8'589'934'592'000},
           {"32Gi", 34'359'738'368, 34'359'738'368'000},
           {"1G", 1'000'000'000, 1'000'000'000'000},
           {"1M", 1'000'000, 1'000'000'000},
           {"1T", 1'000'000'000'000, 1'000'000'000'000'000},
           {"1Ti", 1'099'511'627'776, 1'099'511'627'776'000},
           {"1P", 1'000'000'000'000'000, 1'000'000'000'000'000'000},
           {"1Pi", 1'125'899'906'842'624, 1'125'899'906'842'624'000},
           {"10P", 10'000'000'000'000'000, kMax},  // milli overflows int64
           {"1E", 1'000'000'000'000'000'000, kMax},
           {"8Ei", kMax, kMax},  // saturates, as the API's int64 does
           {"1.5Gi", 1'610'612'736, 1'610'612'736'000},
           {"128974848", 128'974'848, 128'974'848'000},
           {"129e6", 129'000'000, 129'000'000'000},
           {"129E6", 129'000'000, 129'000'000'000},
           {"123Mi", 128'974'848, 128'974'848'000},
           {"1e3", 1000, 1'000'000},
           {"1e+3", 1000, 1'000'000},
           {"1e-3", 1, 1},
           {"12e-1", 2, 1200},
           {"+2", 2, 2000},
           {"-0", 0, 0},
           {"0.000", 0, 0},
           {"000123", 123, 123'000},
           {"100000000000000000000000000000", kMax, kMax},  // trailing zeros are not significant digits
           {"1e100", kMax, kMax},
           {"1e-100", 1, 1},
           // Not quantities.
           {"", std::nullopt, std::nullopt},
           {"m", std::nullopt, std::nullopt},
           {".", std::nullopt, std::nullopt},
           {"-1", std::nullopt, std::nullopt},
           {"-500m", std::nullopt, std::nullopt},
           {"1e", std::nullopt, std::nullopt},
           {"1Ki ", std::nullopt, std::nullopt},
           {" 1", std::nullopt, std::nullopt},
           {"1KB", std::nullopt, std::nullopt},
           {"1K", std::nullopt, std::nullopt},  // "k" is the decimal kilo
           {"1ki", std::nullopt, std::nullopt},
           {"1mi", std::nullopt, std::nullopt},
           {"1.2.3", std::nullopt, std::nullopt},
           {"1e3.5", std::nullopt, std::nullopt},
           {"1ee3", std::nullopt, std::nullopt},
           {"12345678901234567890123", std::nullopt, std::nullopt},  // more than 20 significant digits
           {"abc", std::nullopt, std::nullopt},
       }) {
    EXPECT_EQ(quantity_value(c.text), c.value) << '"' << c.text << '"';
    EXPECT_EQ(quantity_milli(c.text), c.milli) << '"' << c.text << '"';
  }
}

SchedNode node(std::string name, std::map<std::string, std::string> extra = {}, std::int64_t cpu_milli = 4000,
               std::int64_t memory = 8LL << 30) {
  std::map<std::string, std::string> labels{{"kubernetes.io/hostname", name}, {"kubernetes.io/os", "linux"}};
  for (auto& [k, v] : extra) labels[k] = v;
  return SchedNode{std::move(name), std::move(labels), cpu_milli, memory};
}

std::vector<SchedNode> three_nodes() {
  return {node("n1", {{"zone", "a"}, {"gen", "3"}}), node("n2", {{"zone", "b"}, {"gen", "5"}}),
          node("n3", {{"zone", "b"}, {"gpu", "true"}, {"gen", "x"}})};
}

std::vector<std::string> feasible(const char* spec_json, const std::vector<SchedNode>& nodes) {
  const auto spec = parse_scheduling(json::parse(spec_json));
  EXPECT_TRUE(spec.problems.empty()) << spec_json << ": " << (spec.problems.empty() ? "" : spec.problems.front());
  return decide_scheduling(spec, nodes).feasible;
}

using Names = std::vector<std::string>;

std::string affinity(const char* terms) {
  return std::string(R"({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": )"
                     R"({"nodeSelectorTerms": )") +
         terms + "}}}}";
}

TEST(Scheduling, SelectorsAndAffinity) {
  const auto nodes = three_nodes();
  struct Case {
    std::string spec;
    Names want;
  };
  for (const auto& c : std::initializer_list<Case>{
           {R"({})", {"n1", "n2", "n3"}},
           {R"({"nodeSelector": {}})", {"n1", "n2", "n3"}},
           {R"({"nodeSelector": {"kubernetes.io/os": "linux"}})", {"n1", "n2", "n3"}},
           {R"({"nodeSelector": {"zone": "b"}})", {"n2", "n3"}},
           {R"({"nodeSelector": {"zone": "b", "gpu": "true"}})", {"n3"}},
           {R"({"nodeSelector": {"zone": "c"}})", {}},
           {R"({"nodeSelector": {"kubernetes.io/os": "windows"}})", {}},
           {R"({"nodeSelector": {"kubernetes.io/hostname": "n2"}})", {"n2"}},
           {R"({"nodeSelector": {"gpu": ""}})", {}},  // absent label is not the empty value
           // Operators.
           {affinity(R"([{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "c"]}]}])"), {"n1"}},
           {affinity(R"([{"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}])"),
            {"n2", "n3"}},
           {affinity(R"([{"matchExpressions": [{"key": "gpu", "operator": "NotIn", "values": ["true"]}]}])"),
            {"n1", "n2"}},  // NotIn matches a node without the label
           {affinity(R"([{"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}])"), {"n3"}},
           {affinity(R"([{"matchExpressions": [{"key": "gpu", "operator": "DoesNotExist"}]}])"), {"n1", "n2"}},
           {affinity(R"([{"matchExpressions": [{"key": "gen", "operator": "Gt", "values": ["3"]}]}])"), {"n2"}},
           {affinity(R"([{"matchExpressions": [{"key": "gen", "operator": "Gt", "values": ["2"]}]}])"), {"n1", "n2"}},
           {affinity(R"([{"matchExpressions": [{"key": "gen", "operator": "Lt", "values": ["5"]}]}])"), {"n1"}},
           {affinity(R"([{"matchExpressions": [{"key": "gen", "operator": "Lt", "values": ["3"]}]}])"), {}},
           {affinity(R"([{"matchExpressions": [{"key": "nolabel", "operator": "Lt", "values": ["9"]}]}])"), {}},
           // ANDed within a term, ORed across terms.
           {affinity(R"([{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]},
                                               {"key": "gpu", "operator": "DoesNotExist"}]}])"),
            {"n2"}},
           {affinity(R"([{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]},
                         {"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}])"),
            {"n1", "n3"}},
           {affinity(R"([{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["z"]}]},
                         {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["y"]}]}])"),
            {}},
           {affinity(R"([{}])"), {}},  // an empty term matches nothing
           {affinity(R"([{}, {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}])"), {"n1"}},
           {affinity(R"([])"), {}},
           // matchFields: DaemonSet pods name their node.
           {affinity(R"([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]}])"), {"n2"}},
           {affinity(R"([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["other"]}]}])"), {}},
           {affinity(R"([{"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["n2"]}]}])"),
            {"n1", "n3"}},
           {affinity(R"([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}],
                          "matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}])"),
            {}},
           // nodeSelector and affinity must both hold.
           {std::string(R"({"nodeSelector": {"zone": "b"}, )") +
                affinity(R"([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}])")
                    .substr(1),
            {}},
       })
    EXPECT_EQ(feasible(c.spec.c_str(), nodes), c.want) << c.spec;
}

std::string requests(const char* cpu, const char* memory) {
  return std::string(R"({"containers": [{"name": "c", "resources": {"requests": {"cpu": ")") + cpu +
         R"(", "memory": ")" + memory + R"("}}}]})";
}

TEST(Scheduling, ResourceFitAtTheEdges) {
  // allocatable cpu "4", memory "8Gi" on every node.
  const std::vector<SchedNode> nodes{node("n1"), node("n2")};
  struct Case {
    std::string spec;
    bool fits;
  };
  for (const auto& c : std::initializer_list<Case>{
           {requests("4", "8Gi"), true},  // equal to capacity fits
           {requests("4000m", "8589934592"), true},
           {requests("4001m", "1"), false},  // one millicore above
           {requests("4", "8589934593"), false},  // one byte above
           {requests("3999m", "8191Mi"), true},
           {requests("4.001", "1Gi"), false},
           {requests("0", "0"), true},
           {requests("500m", "1G"), true},
           {requests("1", "8.6G"), false},  // 8.6e9 > 8Gi = 8.589934592e9
           {requests("1", "8589934592e0"), true},
           {requests("1", "9e9"), false},
           {R"({"containers": [{"name": "c"}]})", true},  // no requests at all
           {R"({"containers": [{"name": "c", "resources": {"limits": {"cpu": "64"}}}]})", true},  // limits only
           // Containers add up.
           {R"({"containers": [{"name": "a", "resources": {"requests": {"cpu": "2"}}},
                               {"name": "b", "resources": {"requests": {"cpu": "2"}}}]})",
            true},
           {R"({"containers": [{"name": "a", "resources": {"requests": {"cpu": "2"}}},
                               {"name": "b", "resources": {"requests": {"cpu": "2001m"}}}]})",
            false},
           {R"({"containers": [{"name": "a", "resources": {"requests": {"memory": "4Gi"}}},
                               {"name": "b", "resources": {"requests": {"memory": "4Gi"}}}]})",
            true},
           // Init containers: the largest one counts against the sum, they are not added to it.
           {R"({"initContainers": [{"name": "i", "resources": {"requests": {"cpu": "4"}}}],
                "containers": [{"name": "a", "resources": {"requests": {"cpu": "3"}}}]})",
            true},
           {R"({"initContainers": [{"name": "i", "resources": {"requests": {"cpu": "4100m"}}}],
                "containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}]})",
            false},
           {R"({"initContainers": [{"name": "i", "resources": {"requests": {"memory": "9Gi"}}}],
                "containers": [{"name": "a"}]})",
            false},
           // Pod overhead (RuntimeClass) is added.
           {R"({"overhead": {"cpu": "1m"}, "containers": [{"name": "a", "resources": {"requests": {"cpu": "4"}}}]})",
            false},
       }) {
    const auto spec = parse_scheduling(json::parse(c.spec));
    EXPECT_TRUE(spec.problems.empty()) << c.spec;
    EXPECT_EQ(decide_scheduling(spec, nodes).feasible.size(), c.fits ? 2u : 0u) << c.spec;
  }
}

TEST(Scheduling, ResourceFitPicksTheBigNode) {
  const std::vector<SchedNode> nodes{node("small", {}, 1000, 1LL << 30), node("big", {}, 16000, 64LL << 30)};
  EXPECT_EQ(feasible(requests("2", "1Gi").c_str(), nodes), Names{"big"});
  EXPECT_EQ(feasible(requests("1", "1Gi").c_str(), nodes), (Names{"small", "big"}));
  EXPECT_EQ(feasible(requests("1", "2Gi").c_str(), nodes), Names{"big"});
}

TEST(Scheduling, MessagesLikeTheScheduler) {
  const auto nodes = three_nodes();
  struct Case {
    std::string spec;
    std::string message;
  };
  for (const auto& c : std::initializer_list<Case>{
           {R"({"nodeSelector": {"zone": "c"}})", "0/3 nodes are available: 3 node(s) didn't match node selector."},
           {affinity(R"([{"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}])").insert(1,
                R"("containers": [{"name": "a", "resources": {"requests": {"cpu": "5"}}}], )"),
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match node selector."},
           {requests("5", "9Gi"), "0/3 nodes are available: 3 Insufficient cpu, 3 Insufficient memory."},
           {requests("1", "9Gi"), "0/3 nodes are available: 3 Insufficient memory."},
       }) {
    const auto spec = parse_scheduling(json::parse(c.spec));
    ASSERT_TRUE(spec.problems.empty()) << c.spec;
    const auto d = decide_scheduling(spec, nodes);
    EXPECT_TRUE(d.feasible.empty()) << c.spec;
    EXPECT_EQ(d.message, c.message) << c.spec;
  }
  EXPECT_EQ(decide_scheduling(parse_scheduling(json::object()), {}).message, "no nodes available to schedule pods");
  EXPECT_EQ(decide_scheduling(parse_scheduling(json::object()), nodes).message, "");
}

TEST(Scheduling, UnreadableSpecSchedulesAnywhere) {
  const auto nodes = three_nodes();
  for (const char* text : {
           R"({"nodeSelector": "zone=b"})",
           R"({"nodeSelector": {"zone": 5}})",
           R"({"containers": [{"name": "a", "resources": {"requests": {"cpu": "lots"}}}]})",
           R"({"containers": [{"name": "a", "resources": {"requests": {"memory": 512}}}]})",
           R"({"containers": [{"name": "a", "resources": {"requests": []}}]})",
           R"({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}}})",
           R"({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "Near", "values": ["a"]}]}]}}}})",
           R"({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "zone", "operator": "In", "values": []}]}]}}}})",
           R"({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "gen", "operator": "Gt", "values": ["x"]}]}]}}}})",
           R"({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchFields": [{"key": "metadata.uid", "operator": "In", "values": ["u"]}]}]}}}})",
       }) {
    const auto spec = parse_scheduling(json::parse(text));
    EXPECT_FALSE(spec.problems.empty()) << text;
    EXPECT_EQ(decide_scheduling(spec, nodes).feasible.size(), 3u) << text;
  }
  // Odd top-level shapes are not problems, and nothing throws.
  for (const char* text : {"null", "[]", "5", R"({"containers": 5})", R"({"affinity": 1})"})
    EXPECT_NO_THROW(parse_scheduling(json::parse(text))) << text;
}

TEST(Scheduling, DaemonSetPodFromTheApi) {
  // As the DaemonSet controller writes it, with the nodeSelector many DaemonSets carry.
  const auto pod = parse_pod(json::parse(R"({
    "metadata": {"namespace": "kube-system", "name": "agent-x1", "uid": "u-1"},
    "spec": {
      "nodeSelector": {"kubernetes.io/os": "linux"},
      "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["podsim-node-2"]}]}]}}},
      "containers": [{"name": "agent", "image": "agent:v2",
                      "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]
    }})"));
  ASSERT_TRUE(pod);
  EXPECT_EQ(pod->affinity_node, "podsim-node-2");
  EXPECT_EQ(pod->scheduling.cpu_milli, 100);
  EXPECT_EQ(pod->scheduling.memory_bytes, 128LL << 20);
  const std::vector<SchedNode> nodes{node("podsim-node-1"), node("podsim-node-2"), node("podsim-node-3")};
  EXPECT_EQ(decide_scheduling(pod->scheduling, nodes).feasible, Names{"podsim-node-2"});
  // Its node relabelled away from linux: no other node may take it.
  auto relabelled = nodes;
  relabelled[1].labels["kubernetes.io/os"] = "windows";
  const auto d = decide_scheduling(pod->scheduling, relabelled);
  EXPECT_TRUE(d.feasible.empty());
  EXPECT_EQ(d.message, "0/3 nodes are available: 3 node(s) didn't match node selector.");
}

TEST(Scheduling, NodesFromTheApi) {
  const auto status = json::parse(node_status_patch_body("podsim-node-1", "10.0.0.2", TimePoint{}, TimePoint{}));
  auto body = json::parse(node_create_body("podsim-node-1"));
  body["status"] = status["status"];
  const auto n = parse_sched_node(body);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->name, "podsim-node-1");
  EXPECT_EQ(n->labels.at("kubernetes.io/hostname"), "podsim-node-1");
  EXPECT_EQ(n->labels.at("kubernetes.io/os"), "linux");
  EXPECT_EQ(n->cpu_milli, 8000);
  EXPECT_EQ(n->memory_bytes, 32LL << 30);
  EXPECT_FALSE(parse_sched_node(json::parse(R"({"metadata": {"name": "x"}})")));
  EXPECT_FALSE(parse_sched_node(json::parse("null")));

  EXPECT_FALSE(node_labels_patch_body(body, "podsim-node-1"));
  body["metadata"]["labels"].erase("kubernetes.io/os");
  body["metadata"]["resourceVersion"] = "9";
  const auto patch = node_labels_patch_body(body, "podsim-node-1");
  ASSERT_TRUE(patch);
  const auto p = json::parse(*patch);
  EXPECT_EQ(p["metadata"]["labels"], (json{{"kubernetes.io/os", "linux"}}));
  EXPECT_EQ(p["metadata"]["resourceVersion"], "9");
  EXPECT_EQ(json::parse(*node_labels_patch_body(json::object(), "n"))["metadata"]["labels"].size(), 2u);
}

TEST(Scheduling, UnschedulableStatus) {
  const TimePoint t0{std::chrono::seconds{1'700'000'000}};
  const auto s = unschedulable_status(json::object(), "0/3 nodes are available: x.", t0);
  EXPECT_EQ(s["phase"], "Pending");
  ASSERT_EQ(s["conditions"].size(), 1u);
  EXPECT_EQ(s["conditions"][0]["type"], "PodScheduled");
  EXPECT_EQ(s["conditions"][0]["status"], "False");
  EXPECT_EQ(s["conditions"][0]["reason"], "Unschedulable");
  EXPECT_EQ(s["conditions"][0]["message"], "0/3 nodes are available: x.");
  EXPECT_EQ(s["conditions"][0]["lastTransitionTime"], format_time(t0));
  // Read back later: the same status, so no rewrite; a new message is a rewrite with the old transition time.
  const auto back = json::parse(s.dump());
  const auto later = t0 + std::chrono::seconds{30};
  EXPECT_TRUE(status_contains(back, unschedulable_status(back, "0/3 nodes are available: x.", later)));
  const auto changed = unschedulable_status(back, "0/3 nodes are available: y.", later);
  EXPECT_FALSE(status_contains(back, changed));
  EXPECT_EQ(changed["conditions"][0]["lastTransitionTime"], format_time(t0));
}

}  // namespace
}  // namespace canary_guard::podsim
