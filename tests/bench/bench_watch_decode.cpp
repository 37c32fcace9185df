// Watch event decode + projection throughput (target: >= 50,000 events/s on one core). Prints figures;
// nothing is asserted (see style.md §6).
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "daemon/kube/projection.hpp"

namespace {

using json = nlohmann::json;
using namespace canary_guard;

// A Deployment as the 1.20 apiserver sends it, with managedFields and last-applied (the realistic bulk).
std::string deployment_line() {
  json tmpl = {{"metadata", {{"labels", {{"app", "checkout"}, {"tier", "web"}}},
                             {"annotations", {{"prometheus.io/scrape", "true"}}}}},
               {"spec",
                {{"containers",
                  json::array({{{"name", "app"},
                                {"image", "registry.example/checkout:2.14.1"},
                                {"ports", json::array({{{"containerPort", 8080}, {"protocol", "TCP"}}})},
                                {"env", json::array({{{"name", "MODE"}, {"value", "prod"}},
                                                     {{"name", "POD_IP"},
                                                      {"valueFrom", {{"fieldRef", {{"fieldPath", "status.podIP"}}}}}}})},
                                {"resources", {{"limits", {{"cpu", "1"}, {"memory", "512Mi"}}},
                                               {"requests", {{"cpu", "250m"}, {"memory", "256Mi"}}}}},
                                {"readinessProbe", {{"httpGet", {{"path", "/ready"}, {"port", 8080}}},
                                                    {"periodSeconds", 5}}},
                                {"terminationMessagePath", "/dev/termination-log"},
                                {"imagePullPolicy", "IfNotPresent"}}})},
                 {"restartPolicy", "Always"},
                 {"terminationGracePeriodSeconds", 30},
                 {"dnsPolicy", "ClusterFirst"},
                 {"schedulerName", "default-scheduler"},
                 {"securityContext", json::object()}}}};
  json mf = json::array();
  for (int i = 0; i < 3; ++i)
    mf.push_back({{"manager", "kube-controller-manager"}, {"operation", "Update"}, {"apiVersion", "apps/v1"},
                  {"time", "2024-01-02T03:04:05Z"}, {"fieldsType", "FieldsV1"},
                  {"fieldsV1", {{"f:status", {{"f:conditions", {{".", json::object()}, {"k:{\"type\":\"Available\"}", json::object()}}},
                                              {"f:replicas", json::object()}}}}}});
  json obj = {{"apiVersion", "apps/v1"},
              {"kind", "Deployment"},
              {"metadata",
               {{"name", "checkout"}, {"namespace", "shop"}, {"uid", "6f1c1b1e-5d1f-4a57-9a3c-0f5e0c1a2b3c"},
                {"resourceVersion", "48213"}, {"generation", 7}, {"creationTimestamp", "2024-01-02T03:04:05Z"},
                {"labels", {{"app", "checkout"}}},
                {"annotations", {{"deployment.kubernetes.io/revision", "7"}, {"canary-guard.io/policy", "default"},
                                 {"kubectl.kubernetes.io/last-applied-configuration", std::string(1500, 'x')}}},
                {"managedFields", mf}}},
              {"spec", {{"replicas", 3}, {"selector", {{"matchLabels", {{"app", "checkout"}}}}}, {"template", tmpl},
                        {"strategy", {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", "25%"}, {"maxUnavailable", "25%"}}}}},
                        {"revisionHistoryLimit", 10}, {"progressDeadlineSeconds", 600}}},
              {"status", {{"observedGeneration", 7}, {"replicas", 3}, {"updatedReplicas", 3}, {"readyReplicas", 3},
                          {"availableReplicas", 3},
                          {"conditions", json::array({{{"type", "Available"}, {"status", "True"}, {"reason", "MinimumReplicasAvailable"},
                                                       {"lastUpdateTime", "2024-01-02T03:05:00Z"}, {"lastTransitionTime", "2024-01-02T03:05:00Z"}},
                                                      {{"type", "Progressing"}, {"status", "True"}, {"reason", "NewReplicaSetAvailable"},
                                                       {"lastUpdateTime", "2024-01-02T03:06:00Z"}, {"lastTransitionTime", "2024-01-02T03:04:05Z"}}})}}}};
  return json{{"type", "MODIFIED"}, {"object", obj}}.dump();
}

std::string pod_line() {
  json obj = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "checkout-78449c65d4-x7k2p"}, {"namespace", "shop"}, {"uid", "a1b2c3"},
                            {"resourceVersion", "48250"}, {"creationTimestamp", "2024-01-02T03:04:05Z"},
                            {"labels", {{"app", "checkout"}, {"pod-template-hash", "78449c65d4"}}},
                            {"ownerReferences", json::array({{{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"},
                                                              {"name", "checkout-78449c65d4"}, {"uid", "rs-uid"},
                                                              {"controller", true}, {"blockOwnerDeletion", true}}})},
                            {"managedFields", json::array({{{"manager", "kubelet"}, {"fieldsV1", {{"f:status", json::object()}}}}})}}},
              {"spec", {{"nodeName", "node-1"},
                        {"containers", json::array({{{"name", "app"}, {"image", "registry.example/checkout:2.14.1"},
                                                     {"resources", {{"requests", {{"cpu", "250m"}}}}}}})},
                        {"volumes", json::array({{{"name", "token"}, {"projected", {{"sources", json::array()}}}}})}}},
              {"status", {{"phase", "Running"},
                          {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", "2024-01-02T03:05:00Z"}},
                                                      {{"type", "PodScheduled"}, {"status", "True"}, {"lastTransitionTime", "2024-01-02T03:04:06Z"}}})},
                          {"containerStatuses", json::array({{{"name", "app"}, {"ready", true}, {"restartCount", 1},
                                                              {"image", "registry.example/checkout:2.14.1"},
                                                              {"state", {{"running", {{"startedAt", "2024-01-02T03:04:30Z"}}}}},
                                                              {"lastState", {{"terminated", {{"reason", "Error"}, {"exitCode", 1}}}}}}})}}}};
  return json{{"type", "MODIFIED"}, {"object", obj}}.dump();
}

// As the informer decodes: one Decoder (simdjson parser) reused for every line.
void BM_DecodeDeployment(benchmark::State& state) {
  const std::string line = deployment_line();
  kube::Decoder decoder;
  for (auto _ : state) {
    auto ev = decoder.decode_event<probes::DeploymentView>(line);
    benchmark::DoNotOptimize(ev);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(line.size()));
}
BENCHMARK(BM_DecodeDeployment);

void BM_DecodePod(benchmark::State& state) {
  const std::string line = pod_line();
  kube::Decoder decoder;
  for (auto _ : state) {
    auto ev = decoder.decode_event<probes::PodView>(line);
    benchmark::DoNotOptimize(ev);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(line.size()));
}
BENCHMARK(BM_DecodePod);

// A relist page: 500 Deployments in one LIST body, decoded as Informer::relist does.
void BM_DecodeDeploymentListPage(benchmark::State& state) {
  json obj = json::parse(deployment_line())["object"];
  json page = {{"kind", "DeploymentList"}, {"metadata", {{"resourceVersion", "48213"}, {"continue", "x"}}},
               {"items", json::array()}};
  for (int i = 0; i < 500; ++i) {
    obj["metadata"]["name"] = "checkout-" + std::to_string(i);
    page["items"].push_back(obj);
  }
  const std::string body = page.dump();
  kube::Decoder decoder;
  for (auto _ : state) {
    auto p = decoder.decode_list<probes::DeploymentView>(body);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations() * 500);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_DecodeDeploymentListPage);

// Reference only: what a plain nlohmann DOM parse of the same line costs (the decoder no longer does this).
void BM_NlohmannParseOnlyDeployment(benchmark::State& state) {
  const std::string line = deployment_line();
  for (auto _ : state) {
    auto j = json::parse(line);
    benchmark::DoNotOptimize(j);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NlohmannParseOnlyDeployment);

// Parse of the template text plus canonical encoding and FNV.
void BM_TemplateFingerprint(benchmark::State& state) {
  const std::string tmpl = json::parse(deployment_line())["object"]["spec"]["template"].dump();
  kube::Decoder decoder;
  for (auto _ : state) benchmark::DoNotOptimize(decoder.template_fingerprint(tmpl));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TemplateFingerprint);

}  // namespace

BENCHMARK_MAIN();
