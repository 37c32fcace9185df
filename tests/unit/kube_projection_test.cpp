#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "daemon/kube/projection.hpp"

namespace canary_guard::kube {
namespace {

using json = nlohmann::json;  // builds fixtures; projection itself reads JSON text (simdjson)

// Realistic objects as the apiserver sends them (managedFields, last-applied, escapes, unicode). Their template
// fingerprints are pinned below to the values the nlohmann-based implementation (before simdjson) produced.
constexpr std::string_view kRealDeployment = R"json({"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"checkout","namespace":"shop","uid":"6f1c1b1e","resourceVersion":"48213","generation":7,"creationTimestamp":"2024-01-02T03:04:05Z","labels":{"app":"checkout"},"annotations":{"deployment.kubernetes.io/revision":"7","canary-guard.io/policy":"default","kubectl.kubernetes.io/last-applied-configuration":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},"managedFields":[{"manager":"kube-controller-manager","operation":"Update","apiVersion":"apps/v1","time":"2024-01-02T03:04:05Z","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:conditions":{".":{},"k:{\"type\":\"Available\"}":{}},"f:replicas":{}}}},{"manager":"kube-controller-manager","operation":"Update","apiVersion":"apps/v1","time":"2024-01-02T03:04:05Z","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:conditions":{".":{},"k:{\"type\":\"Available\"}":{}},"f:replicas":{}}}},{"manager":"kube-controller-manager","operation":"Update","apiVersion":"apps/v1","time":"2024-01-02T03:04:05Z","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:conditions":{".":{},"k:{\"type\":\"Available\"}":{}},"f:replicas":{}}}}]},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"checkout"}},"template":{"metadata":{"creationTimestamp":null,"labels":{"app":"checkout","tier":"web"},"annotations":{"prometheus.io/scrape":"true","kubectl.kubernetes.io/restartedAt":"2024-01-02T03:00:00Z"}},"spec":{"volumes":[{"name":"config","configMap":{"name":"checkout-config","defaultMode":420}}],"containers":[{"name":"app","image":"registry.example/checkout:2.14.1","args":["--mode=prod","--quote=a\"b\\c é 😀"],"ports":[{"containerPort":8080,"protocol":"TCP"}],"env":[{"name":"MODE","value":"prod"},{"name":"RATIO","value":"0.5"},{"name":"POD_IP","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"status.podIP"}}}],"resources":{"limits":{"cpu":"1","memory":"512Mi"},"requests":{"cpu":"250m","memory":"256Mi"}},"readinessProbe":{"httpGet":{"path":"/ready","port":8080,"scheme":"HTTP"},"timeoutSeconds":1,"periodSeconds":5,"successThreshold":1,"failureThreshold":3},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent","securityContext":{"runAsNonRoot":true,"readOnlyRootFilesystem":false}}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","schedulerName":"default-scheduler","securityContext":{},"tolerations":[{"key":"k","operator":"Exists","effect":"NoSchedule","tolerationSeconds":-1}],"priority":0,"overhead":null}},"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}},"revisionHistoryLimit":10,"progressDeadlineSeconds":600},"status":{"observedGeneration":7,"replicas":3,"updatedReplicas":3,"readyReplicas":3,"availableReplicas":3}})json";
constexpr std::string_view kRealReplicaSet = R"json({"kind":"ReplicaSet","apiVersion":"apps/v1","metadata":{"name":"checkout-78449c65d4","namespace":"shop","uid":"rs-uid","resourceVersion":"48214","generation":2,"creationTimestamp":"2024-01-02T03:04:05Z","labels":{"app":"checkout","pod-template-hash":"78449c65d4"},"annotations":{"deployment.kubernetes.io/desired-replicas":"3","deployment.kubernetes.io/max-replicas":"4","deployment.kubernetes.io/revision":"7"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"checkout","uid":"6f1c1b1e","controller":true,"blockOwnerDeletion":true}],"managedFields":[{"manager":"kube-controller-manager","operation":"Update","apiVersion":"apps/v1","time":"2024-01-02T03:04:05Z","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:conditions":{".":{},"k:{\"type\":\"Available\"}":{}},"f:replicas":{}}}},{"manager":"kube-controller-manager","operation":"Update","apiVersion":"apps/v1","time":"2024-01-02T03:04:05Z","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:conditions":{".":{},"k:{\"type\":\"Available\"}":{}},"f:replicas":{}}}},{"manager":"kube-controller-manager","operation":"Update","apiVersion":"apps/v1","time":"2024-01-02T03:04:05Z","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:conditions":{".":{},"k:{\"type\":\"Available\"}":{}},"f:replicas":{}}}}]},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"checkout","pod-template-hash":"78449c65d4"}},"template":{"metadata":{"creationTimestamp":null,"labels":{"pod-template-hash":"78449c65d4","app":"checkout","tier":"web"},"annotations":{"prometheus.io/scrape":"true","kubectl.kubernetes.io/restartedAt":"2024-01-02T03:00:00Z"}},"spec":{"volumes":[{"name":"config","configMap":{"name":"checkout-config","defaultMode":420}}],"containers":[{"name":"app","image":"registry.example/checkout:2.14.1","args":["--mode=prod","--quote=a\"b\\c é 😀"],"ports":[{"containerPort":8080,"protocol":"TCP"}],"env":[{"name":"MODE","value":"prod"},{"name":"RATIO","value":"0.5"},{"name":"POD_IP","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"status.podIP"}}}],"resources":{"limits":{"cpu":"1","memory":"512Mi"},"requests":{"cpu":"250m","memory":"256Mi"}},"readinessProbe":{"httpGet":{"path":"/ready","port":8080,"scheme":"HTTP"},"timeoutSeconds":1,"periodSeconds":5,"successThreshold":1,"failureThreshold":3},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent","securityContext":{"runAsNonRoot":true,"readOnlyRootFilesystem":false}}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","schedulerName":"default-scheduler","securityContext":{},"tolerations":[{"key":"k","operator":"Exists","effect":"NoSchedule","tolerationSeconds":-1}],"priority":0,"overhead":null}}},"status":{"replicas":3,"fullyLabeledReplicas":3,"readyReplicas":3,"availableReplicas":3,"observedGeneration":2}})json";
constexpr std::string_view kRealDaemonSet = R"json({"kind":"DaemonSet","apiVersion":"apps/v1","metadata":{"name":"agent","namespace":"kube-system","uid":"ds-uid","resourceVersion":"900","generation":3,"creationTimestamp":"2024-01-02T03:04:05Z","annotations":{"deprecated.daemonset.template.generation":"3"}},"spec":{"selector":{"matchLabels":{"app":"agent"}},"template":{"metadata":{"creationTimestamp":null,"labels":{"app":"agent"}},"spec":{"containers":[{"name":"agent","image":"agent:1.2","resources":{},"terminationMessagePath":"/dev/termination-log","imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"hostNetwork":true,"nodeSelector":{"kubernetes.io/os":"linux"}}},"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}},"revisionHistoryLimit":10},"status":{"currentNumberScheduled":3,"numberMisscheduled":0,"desiredNumberScheduled":3,"numberReady":3,"observedGeneration":3,"updatedNumberScheduled":3,"numberAvailable":3}})json";
constexpr std::string_view kRealControllerRevision = R"json({"kind":"ControllerRevision","apiVersion":"apps/v1","metadata":{"name":"agent-5d4f8b9c7","namespace":"kube-system","uid":"cr-uid","resourceVersion":"901","creationTimestamp":"2024-01-02T03:04:05Z","labels":{"app":"agent","controller-revision-hash":"5d4f8b9c7"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"DaemonSet","name":"agent","uid":"ds-uid","controller":true,"blockOwnerDeletion":true}]},"data":{"spec":{"template":{"$patch":"replace","metadata":{"creationTimestamp":null,"labels":{"app":"agent"}},"spec":{"containers":[{"image":"agent:1.2","imagePullPolicy":"IfNotPresent","name":"agent","resources":{},"terminationMessagePath":"/dev/termination-log"}],"hostNetwork":true,"nodeSelector":{"kubernetes.io/os":"linux"},"restartPolicy":"Always","terminationGracePeriodSeconds":30}}}},"revision":3})json";
constexpr std::string_view kNumbersTemplate = R"json({"spec":{"a":[1,-1,0.5,1000.0,-0.0,9007199254740993,18446744073709551615,-9223372036854775808,1.5e+300,true,false,null,"",[],{}],"b":{"x":null,"y":[]}}})json";

json deployment() {
  return json::parse(R"({
  "apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"web","namespace":"shop","uid":"u-d","resourceVersion":"812","generation":4,
    "creationTimestamp":"2024-01-02T03:04:05Z","labels":{"app":"web"},
    "annotations":{"deployment.kubernetes.io/revision":"3","canary-guard.io/verdict":"pass",
      "kubectl.kubernetes.io/last-applied-configuration":"{...}"},
    "managedFields":[{"manager":"kubectl","operation":"Update"}]},
  "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"progressDeadlineSeconds":600,"minReadySeconds":5,
    "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},
    "template":{"metadata":{"labels":{"app":"web"}},
      "spec":{"containers":[{"name":"app","image":"web:2","resources":{}}],"restartPolicy":"Always"}}},
  "status":{"observedGeneration":4,"replicas":3,"updatedReplicas":3,"readyReplicas":2,"availableReplicas":2,
    "unavailableReplicas":1,
    "conditions":[{"type":"Available","status":"False","reason":"MinimumReplicasUnavailable",
       "lastUpdateTime":"2024-01-02T03:05:00Z","lastTransitionTime":"2024-01-02T03:05:00Z"},
      {"type":"Progressing","status":"True","reason":"ReplicaSetUpdated",
       "lastUpdateTime":"2024-01-02T03:06:00Z","lastTransitionTime":"2024-01-02T03:04:05Z"}]}})");
}

TEST(Projection, Deployment) {
  auto d = project_deployment(deployment().dump());
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->meta.ns, "shop");
  EXPECT_EQ(d->meta.name, "web");
  EXPECT_EQ(d->meta.resource_version, "812");
  EXPECT_EQ(d->meta.generation, 4);
  EXPECT_EQ(d->meta.created.time_since_epoch().count(), 1704164645000);
  EXPECT_EQ(d->meta.annotations.size(), 2u);  // revision + canary-guard.io/, not last-applied
  EXPECT_EQ(*probes::find_value(d->meta.annotations, "canary-guard.io/verdict"), "pass");
  EXPECT_EQ(*probes::find_value(d->meta.labels, "app"), "web");
  EXPECT_EQ(d->spec_replicas, 3);
  EXPECT_TRUE(d->replicas_set);
  EXPECT_EQ(d->progress_deadline_seconds, 600);
  EXPECT_EQ(d->min_ready_seconds, 5);
  EXPECT_EQ(d->strategy, "RollingUpdate");
  EXPECT_EQ(d->ready_replicas, 2);
  EXPECT_EQ(d->unavailable_replicas, 1);
  ASSERT_EQ(d->conditions.size(), 2u);
  EXPECT_EQ(d->condition("Progressing")->reason, "ReplicaSetUpdated");
  EXPECT_EQ(d->template_hash.size(), 16u);
}

TEST(Projection, DeploymentDefaults) {
  auto d = project_deployment(R"({"metadata":{"name":"x"}})");
  ASSERT_TRUE(d) << d.error();
  EXPECT_FALSE(d->replicas_set);
  EXPECT_EQ(d->spec_replicas, 1);
  EXPECT_FALSE(d->progress_deadline_seconds);
  EXPECT_EQ(d->strategy, "RollingUpdate");
  EXPECT_EQ(d->template_hash, empty_template_fingerprint());
}

struct Bad {
  const char* what;
  const char* pointer;  // JSON pointer to overwrite
  json value;
  const char* expect_in_error;
};

TEST(Projection, WrongTypesAreErrorsNotCrashes) {
  const Bad cases[] = {
      {"replicas string", "/spec/replicas", "3", "spec.replicas"},
      {"replicas float", "/spec/replicas", 3.5, "spec.replicas"},
      {"replicas too big", "/spec/replicas", 1LL << 40, "spec.replicas"},
      {"paused number", "/spec/paused", 1, "spec.paused"},
      {"labels list", "/metadata/labels", json::array({"a"}), "metadata.labels"},
      {"label value number", "/metadata/labels/app", 5, "metadata.labels.app"},
      {"annotation value number", "/metadata/annotations/canary-guard.io~1verdict", 5, "annotations"},
      {"bad timestamp", "/metadata/creationTimestamp", "yesterday", "creationTimestamp"},
      {"conditions object", "/status/conditions", json::object(), "status.conditions"},
      {"condition entry string", "/status/conditions/0", "x", "conditions"},
      {"status string", "/status", "ok", "status"},
      {"spec array", "/spec", json::array(), "spec"},
      {"strategy string", "/spec/strategy", "Recreate", "spec.strategy"},
      {"template string", "/spec/template", "t", "spec.template"},
      {"owner refs object", "/metadata/ownerReferences", json::object(), "ownerReferences"},
      {"name number", "/metadata/name", 1, "metadata.name"},
      {"metadata missing", "/metadata", nullptr, "metadata"},
  };
  for (const auto& c : cases) {
    json j = deployment();
    j[json::json_pointer(c.pointer)] = c.value;
    auto d = project_deployment(j.dump());
    ASSERT_FALSE(d) << c.what;
    EXPECT_NE(d.error().find(c.expect_in_error), std::string::npos) << c.what << ": " << d.error();
  }
  EXPECT_FALSE(project_deployment("[]"));
  EXPECT_FALSE(project_deployment(R"("x")"));
  EXPECT_FALSE(project_pod("null"));
}

TEST(Projection, ReplicaSet) {
  auto j = json::parse(R"({"metadata":{"name":"web-78449c65d4","namespace":"shop","uid":"u-rs",
    "labels":{"app":"web","pod-template-hash":"78449c65d4"},
    "annotations":{"deployment.kubernetes.io/revision":"7","deployment.kubernetes.io/desired-replicas":"3"},
    "ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"web","uid":"u-other"},
                       {"apiVersion":"apps/v1","kind":"Deployment","name":"web","uid":"u-d","controller":true}]},
    "spec":{"replicas":3,"template":{"metadata":{"labels":{"app":"web","pod-template-hash":"78449c65d4"}},
      "spec":{"containers":[{"name":"app","image":"web:2","resources":{}}],"restartPolicy":"Always"}}},
    "status":{"replicas":3,"readyReplicas":3,"availableReplicas":2,"observedGeneration":1}})");
  auto s = project_replicaset(j.dump());
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ(s->revision, 7);
  EXPECT_EQ(s->pod_template_hash, "78449c65d4");
  EXPECT_EQ(s->meta.controller_uid, "u-d");
  EXPECT_EQ(s->available_replicas, 2);
  // The RS template equals the Deployment template once pod-template-hash is dropped.
  EXPECT_EQ(s->template_hash, project_deployment(deployment().dump())->template_hash);

  j["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "7x";
  EXPECT_EQ(project_replicaset(j.dump())->revision, -1);
  j["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "-2";
  EXPECT_EQ(project_replicaset(j.dump())->revision, -1);
  j["metadata"]["annotations"].erase("deployment.kubernetes.io/revision");
  EXPECT_EQ(project_replicaset(j.dump())->revision, 0);
}

TEST(Projection, DaemonSetAndControllerRevision) {
  auto ds = project_daemonset(R"({"metadata":{"name":"agent","namespace":"kube-system","generation":2},
    "spec":{"updateStrategy":{"type":"OnDelete"},"template":{"metadata":{"labels":{"app":"agent"}},
      "spec":{"containers":[{"name":"a","image":"agent:1"}]}}},
    "status":{"desiredNumberScheduled":3,"numberReady":2,"numberUnavailable":1,"updatedNumberScheduled":3}})");
  ASSERT_TRUE(ds) << ds.error();
  EXPECT_EQ(ds->update_strategy, "OnDelete");
  EXPECT_EQ(ds->desired_number_scheduled, 3);
  EXPECT_EQ(ds->number_unavailable, 1);

  // The CR data is the SMP {"spec":{"template":{...,"$patch":"replace"}}}, keys sorted, $patch first.
  auto cr = project_controller_revision(R"({"metadata":{"name":"agent-5d4f8b","namespace":"kube-system",
      "labels":{"app":"agent","controller-revision-hash":"5d4f8b"},
      "ownerReferences":[{"uid":"u-ds","controller":true}]},
    "revision":3,
    "data":{"spec":{"template":{"$patch":"replace","metadata":{"labels":{"app":"agent"}},
      "spec":{"containers":[{"image":"agent:1","name":"a"}]}}}}})");
  ASSERT_TRUE(cr) << cr.error();
  EXPECT_EQ(cr->revision, 3);
  EXPECT_EQ(cr->hash, "5d4f8b");
  EXPECT_EQ(cr->meta.controller_uid, "u-ds");
  EXPECT_EQ(cr->template_hash, ds->template_hash);
  EXPECT_FALSE(cr->meta.has_annotations);  // a first record creates the map (record_patch)

  // Only foreign annotations: none is kept, but the map is there (a first record adds a member to it).
  auto annotated = project_controller_revision(
      R"({"metadata":{"name":"agent-2","annotations":{"deprecated.daemonset.template.generation":"2"}},"revision":2})");
  ASSERT_TRUE(annotated);
  EXPECT_TRUE(annotated->meta.annotations.empty());
  EXPECT_TRUE(annotated->meta.has_annotations);

  auto unlabelled = project_controller_revision(R"({"metadata":{"name":"agent-1"},"revision":1})");
  ASSERT_TRUE(unlabelled);
  EXPECT_EQ(unlabelled->hash, "agent-1");
  EXPECT_FALSE(project_controller_revision(R"({"metadata":{"name":"x"},"revision":"1"})"));
  EXPECT_FALSE(project_controller_revision(R"({"metadata":{"name":"x"},"data":"raw"})"));
}

TEST(Projection, Pod) {
  auto p = project_pod(R"({"metadata":{"name":"web-78449c65d4-abcde","namespace":"shop",
      "labels":{"app":"web","pod-template-hash":"78449c65d4","team":"x"},
      "ownerReferences":[{"uid":"u-rs","controller":true}],"deletionTimestamp":"2024-01-02T03:04:05Z"},
    "spec":{"nodeName":"n1","containers":[{"name":"app","image":"web:2"}]},
    "status":{"phase":"Running",
      "conditions":[{"type":"Ready","status":"False","lastTransitionTime":"2024-01-02T03:04:05Z"}],
      "initContainerStatuses":[{"name":"init","ready":true,"restartCount":0,
        "state":{"terminated":{"reason":"Completed","exitCode":0}}}],
      "containerStatuses":[{"name":"app","ready":false,"restartCount":5,
        "state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off"}},
        "lastState":{"terminated":{"reason":"Error","exitCode":137}}}]}})");
  ASSERT_TRUE(p) << p.error();
  EXPECT_EQ(p->pod_template_hash, "78449c65d4");
  EXPECT_EQ(p->meta.labels.size(), 1u);  // only the hash labels
  EXPECT_TRUE(p->meta.deleted);
  EXPECT_EQ(p->meta.controller_uid, "u-rs");
  EXPECT_EQ(p->node_name, "n1");
  EXPECT_EQ(p->phase, "Running");
  ASSERT_EQ(p->containers.size(), 2u);
  EXPECT_TRUE(p->containers[0].init);
  EXPECT_EQ(p->containers[0].terminated_reason, "Completed");
  EXPECT_EQ(p->containers[1].waiting_reason, "CrashLoopBackOff");
  EXPECT_EQ(p->containers[1].restart_count, 5);
  EXPECT_EQ(p->containers[1].last_exit_code, 137);
  EXPECT_EQ(p->containers[1].last_terminated_reason, "Error");
  EXPECT_FALSE(p->containers[1].running);
  EXPECT_FALSE(project_pod(R"({"metadata":{"name":"p"},"status":{"containerStatuses":[1]}})"));
  EXPECT_FALSE(project_pod(R"({"metadata":{"name":"p"},"status":{"containerStatuses":[{"restartCount":"1"}]}})"));
}

// ---- template fingerprint -------------------------------------------------------------------------------------

std::string fp(std::string_view s, bool strip = false) {
  auto h = template_fingerprint(s, strip);
  EXPECT_TRUE(h) << s;
  return h ? *h : std::string();
}

TEST(Fingerprint, EqualityRules) {
  const char* base = R"({"metadata":{"labels":{"app":"w"}},"spec":{"containers":[{"name":"a","image":"i:1"}]}})";
  const char* equal[] = {
      R"({"spec":{"containers":[{"image":"i:1","name":"a"}]},"metadata":{"labels":{"app":"w"}}})",   // key order
      R"({"metadata":{"labels":{"app":"w","pod-template-hash":"abc"}},"spec":{"containers":[{"name":"a","image":"i:1"}]}})",
      R"({"metadata":{"labels":{"app":"w"},"annotations":{}},"spec":{"containers":[{"name":"a","image":"i:1","env":[]}]}})",
      R"({"metadata":{"labels":{"app":"w"},"annotations":null},"spec":{"volumes":null,"containers":[{"name":"a","image":"i:1","resources":{"limits":{}}}]}})",
      R"({"metadata":{"labels":{"app":"w"},"creationTimestamp":null},"spec":{"containers":[{"name":"a","image":"i:1"}]}})",
  };
  for (const char* e : equal) EXPECT_EQ(fp(base), fp(e)) << e;
  const char* different[] = {
      R"({"metadata":{"labels":{"app":"w"}},"spec":{"containers":[{"name":"a","image":"i:2"}]}})",
      R"({"metadata":{"labels":{"app":"v"}},"spec":{"containers":[{"name":"a","image":"i:1"}]}})",
      R"({"metadata":{"labels":{"app":"w","x":"y"}},"spec":{"containers":[{"name":"a","image":"i:1"}]}})",
      R"({"metadata":{"labels":{"app":"w"}},"spec":{"containers":[{"name":"a","image":"i:1"},{"name":"b","image":"i:1"}]}})",
      R"({"metadata":{"labels":{"app":"w"}},"spec":{"containers":[{"name":"a","image":"i:1","args":["x"]}]}})",
      R"({"metadata":{"labels":{"app":"w"}},"spec":{"containers":[{"name":"a","image":"i:1","tty":false}]}})",
      R"({"metadata":{"labels":{"app":"w"},"annotations":{"kubectl.kubernetes.io/restartedAt":"t"}},"spec":{"containers":[{"name":"a","image":"i:1"}]}})",
  };
  for (const char* d : different) EXPECT_NE(fp(base), fp(d)) << d;
  // A pod-template-hash label elsewhere than the template's own labels is data, not the hash.
  EXPECT_NE(fp(R"({"spec":{"nodeSelector":{"pod-template-hash":"x"}}})"), fp(R"({"spec":{}})"));
  // Array order matters; strings and numbers do not collide.
  EXPECT_NE(fp(R"({"spec":{"a":[1,2]}})"), fp(R"({"spec":{"a":[2,1]}})"));
  EXPECT_NE(fp(R"({"spec":{"a":"1"}})"), fp(R"({"spec":{"a":1}})"));
  EXPECT_EQ(fp(R"({"spec":{"a":1.0}})"), fp(R"({"spec":{"a":1}})"));
  EXPECT_NE(fp(R"({"spec":{"a":"ab","b":"c"}})"), fp(R"({"spec":{"a":"a","b":"bc"}})"));
  // Empty and missing templates are equal.
  EXPECT_EQ(fp("{}"), empty_template_fingerprint());
  EXPECT_EQ(fp(R"({"metadata":{"labels":{"pod-template-hash":"x"}}})"), fp("{}"));
  EXPECT_EQ(fp("null"), fp("{}"));
  // $patch is dropped only when asked (ControllerRevision data).
  EXPECT_EQ(fp(R"({"$patch":"replace","spec":{"a":1}})", true), fp(R"({"spec":{"a":1}})"));
  EXPECT_NE(fp(R"({"$patch":"replace","spec":{"a":1}})", false), fp(R"({"spec":{"a":1}})"));
  EXPECT_EQ(fp("{}").size(), 16u);
}

// ---- watch events ---------------------------------------------------------------------------------------------

TEST(DecodeEvent, Types) {
  json ev = {{"type", "MODIFIED"}, {"object", deployment()}};
  auto e = decode_event<probes::DeploymentView>(ev.dump());
  ASSERT_TRUE(e) << e.error();
  EXPECT_EQ(e->type, EventType::modified);
  EXPECT_EQ(e->resource_version, "812");
  EXPECT_EQ(e->object.spec_replicas, 3);

  auto b = decode_event<probes::DeploymentView>(
      R"({"type":"BOOKMARK","object":{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"resourceVersion":"999","creationTimestamp":null},"spec":{"template":{"metadata":{"creationTimestamp":null},"spec":{"containers":null}}},"status":{}}})");
  ASSERT_TRUE(b) << b.error();
  EXPECT_EQ(b->type, EventType::bookmark);
  EXPECT_EQ(b->resource_version, "999");

  auto x = decode_event<probes::DeploymentView>(
      R"j({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}})j");
  ASSERT_TRUE(x) << x.error();
  EXPECT_EQ(x->type, EventType::error);
  EXPECT_EQ(x->error.kind, ErrorKind::gone);

  const char* bad[] = {
      "",
      "{",
      R"({"type":"ADDED"})",
      R"({"type":"ADDED","object":[]})",
      R"({"type":"SOMETHING","object":{}})",
      R"({"type":1,"object":{}})",
      R"({"type":"BOOKMARK","object":{"metadata":{}}})",
      R"({"type":"ADDED","object":{"metadata":{"name":"x"},"spec":{"replicas":"3"}}})",
      R"(["type","ADDED"])",
  };
  for (const char* s : bad) EXPECT_FALSE(decode_event<probes::DeploymentView>(s)) << s;
  // Every truncation of a valid line is rejected, never a crash.
  std::string line = ev.dump();
  for (std::size_t n = 0; n < line.size(); n += 7)
    EXPECT_FALSE(decode_event<probes::DeploymentView>(std::string_view(line).substr(0, n))) << n;
}

TEST(DecodeEvent, SameProjectionAsObjectAlone) {
  json obj = deployment();
  auto direct = project_deployment(obj.dump());
  auto via = decode_event<probes::DeploymentView>(json{{"type", "ADDED"}, {"object", obj}}.dump());
  ASSERT_TRUE(direct && via);
  EXPECT_EQ(direct->template_hash, via->object.template_hash);
  EXPECT_EQ(direct->meta.annotations, via->object.meta.annotations);
  EXPECT_EQ(direct->meta.labels, via->object.meta.labels);
  EXPECT_EQ(direct->conditions.size(), via->object.conditions.size());
}

TEST(DecodeEvent, PodReadsOnlyNodeNameOfSpec) {
  // Parts no projection reads are never type-checked (the old parser skipped them): junk there is no error.
  auto line = R"({"type":"ADDED","object":{"metadata":{"name":"p","namespace":"n","labels":{"pod-template-hash":"h","x":"y"},
    "annotations":{"other.io/n":5,"kubectl.kubernetes.io/last-applied-configuration":{"big":[1,2]}},"managedFields":"junk"},
    "spec":{"containers":"not a list","nodeName":"node-7","volumes":[{"name":"v","projected":{"sources":[]}}]},
    "status":{"phase":"Pending","containerStatuses":[{"name":"a","restartCount":2,"state":{"waiting":{"reason":"ErrImagePull"}}}]}}})";
  auto ev = decode_event<probes::PodView>(line);
  ASSERT_TRUE(ev) << ev.error();
  EXPECT_EQ(ev->object.node_name, "node-7");
  EXPECT_EQ(ev->object.pod_template_hash, "h");
  EXPECT_EQ(ev->object.meta.labels.size(), 1u);
  EXPECT_TRUE(ev->object.meta.annotations.empty());
  ASSERT_EQ(ev->object.containers.size(), 1u);
  EXPECT_EQ(ev->object.containers[0].waiting_reason, "ErrImagePull");
  EXPECT_EQ(ev->object.containers[0].restart_count, 2);
  // Deployments read their spec (the template fingerprint needs it): junk there is an error.
  EXPECT_FALSE(decode_event<probes::DeploymentView>(
      R"({"type":"ADDED","object":{"metadata":{"name":"d"},"spec":{"template":[]}}})"));
}

// ---- fingerprints pinned to the pre-simdjson implementation --------------------------------------------------

TEST(Fingerprint, EqualsPreviousImplementationOnRealisticObjects) {
  // Values computed by the nlohmann-based template_fingerprint these replace; a change here would make every
  // stored verdict annotation (keyed by hash) look like it belongs to another revision.
  auto d = project_deployment(kRealDeployment);
  auto rs = project_replicaset(kRealReplicaSet);
  auto ds = project_daemonset(kRealDaemonSet);
  auto cr = project_controller_revision(kRealControllerRevision);
  ASSERT_TRUE(d) << d.error();
  ASSERT_TRUE(rs) << rs.error();
  ASSERT_TRUE(ds) << ds.error();
  ASSERT_TRUE(cr) << cr.error();
  EXPECT_EQ(d->template_hash, "edb92f8a8f62cb94");
  EXPECT_EQ(rs->template_hash, "edb92f8a8f62cb94");  // == its Deployment's: pod-template-hash label dropped
  EXPECT_EQ(ds->template_hash, "2db151261b28e67f");
  EXPECT_EQ(cr->template_hash, "2db151261b28e67f");  // == its DaemonSet's: $patch dropped, keys sorted
  EXPECT_EQ(fp(kNumbersTemplate), "ad2045a604057c1f");
  EXPECT_EQ(fp(R"({"metadata":{"labels":{"app":"w"}},"spec":{"containers":[{"name":"a","image":"i:1"}]}})"),
            "8c9b7264a0e9e881");
  EXPECT_EQ(fp(R"({"$patch":"replace","spec":{"a":1}})", true), "d2959ee342b7bf53");
  EXPECT_EQ(fp("{}"), "08f44b07b5901a25");
  EXPECT_EQ(empty_template_fingerprint(), "08f44b07b5901a25");
  // Duplicate keys: the last one counts, as it did.
  EXPECT_EQ(fp(R"({"a":1,"a":2,"b":{"x":1,"x":null}})"), "e60a15ad0de2435c");
  EXPECT_EQ(fp(R"({"b":{},"a":2})"), "e60a15ad0de2435c");
}

TEST(Fingerprint, NotJsonIsAnError) {
  for (std::string_view s : {"", "{", "nul", "{\"a\":}", "[1,]", "\"\\ud800\""}) EXPECT_FALSE(template_fingerprint(s)) << s;
  // JSON that is not an object fingerprints as the empty template (as a missing one does).
  EXPECT_EQ(fp("null"), empty_template_fingerprint());
  EXPECT_EQ(fp("[1]"), empty_template_fingerprint());
}

// ---- realistic objects ------------------------------------------------------------------------------------------

TEST(Projection, RealisticObjects) {
  auto d = project_deployment(kRealDeployment);
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->meta.name, "checkout");
  EXPECT_EQ(d->spec_replicas, 3);
  EXPECT_EQ(d->progress_deadline_seconds, 600);
  // Only the revision and canary-guard.io/ annotations, sorted by key as before.
  ASSERT_EQ(d->meta.annotations.size(), 2u);
  EXPECT_EQ(d->meta.annotations[0].first, "canary-guard.io/policy");
  EXPECT_EQ(d->meta.annotations[1].first, "deployment.kubernetes.io/revision");
  auto rs = project_replicaset(kRealReplicaSet);
  ASSERT_TRUE(rs) << rs.error();
  EXPECT_EQ(rs->revision, 7);
  EXPECT_EQ(rs->meta.controller_uid, "6f1c1b1e");
  EXPECT_EQ(rs->pod_template_hash, "78449c65d4");
  auto cr = project_controller_revision(kRealControllerRevision);
  ASSERT_TRUE(cr) << cr.error();
  EXPECT_EQ(cr->hash, "5d4f8b9c7");
  EXPECT_EQ(cr->revision, 3);
}

TEST(Projection, LabelsSortedAndLastDuplicateWins) {
  auto d = project_deployment(R"({"metadata":{"name":"x","name":"y","labels":{"b":"2","a":"1","b":"3"},
    "annotations":{"canary-guard.io/z":"1","canary-guard.io/a":"2"}},"spec":{"replicas":1,"replicas":4}})");
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->meta.name, "y");
  EXPECT_EQ(d->spec_replicas, 4);
  EXPECT_EQ(d->meta.labels, (probes::KeyValues{{"a", "1"}, {"b", "3"}}));
  EXPECT_EQ(d->meta.annotations, (probes::KeyValues{{"canary-guard.io/a", "2"}, {"canary-guard.io/z", "1"}}));
}

TEST(Projection, NotJsonOrOutOfRangeIsAnErrorNotACrash) {
  const std::string deep = std::string(5000, '[') + std::string(5000, ']');
  const std::string cases[] = {
      "",
      " ",
      "{",
      "nul",
      R"({"metadata":{"name":"x"},})",
      R"({"metadata":{"name":"x"}} trailing)",
      R"({"metadata":{"name":"x\ud800"}})",                     // lone surrogate
      std::string(R"({"metadata":{"name":")") + "\xff\xfe" + R"("}})",  // not UTF-8
      R"({"metadata":{"name":"x"},"spec":{"replicas":123456789012345678901234567890}})",  // beyond 64 bits
      R"({"metadata":{"name":"x"},"spec":{"replicas":1e400}})",
      R"({"metadata":{"name":"x"},"spec":{"replicas":18446744073709551615}})",            // uint64: out of range
      R"({"metadata":{"name":"x"},"spec":{"replicas":-2147483649}})",
      R"({"metadata":{"name":"x","generation":9223372036854775808}})",
      std::string(R"({"metadata":{"name":"x"},"spec":{"template":{"spec":)") + deep + "}}}",  // too deep
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(project_deployment(c)) << c.substr(0, 80);
    EXPECT_FALSE(decode_event<probes::DeploymentView>(R"({"type":"ADDED","object":)" + c + "}")) << c.substr(0, 80);
  }
  // In range at the edges.
  auto d = project_deployment(R"({"metadata":{"name":"x","generation":9223372036854775807},"spec":{"replicas":2147483647}})");
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->spec_replicas, 2147483647);
  EXPECT_EQ(d->meta.generation, 9223372036854775807);
}

TEST(DecodeEvent, EveryTruncationOfRealisticLinesIsRejected) {
  const std::string dep = R"({"type":"MODIFIED","object":)" + std::string(kRealDeployment) + "}";
  const std::string pod = json{{"type", "MODIFIED"},
                               {"object", json::parse(R"({"metadata":{"name":"p","namespace":"n",
      "labels":{"pod-template-hash":"h"}},"spec":{"nodeName":"n1"},"status":{"phase":"Running",
      "containerStatuses":[{"name":"a","ready":true,"restartCount":1,"state":{"running":{}}}]}})")}}
                              .dump();
  ASSERT_TRUE(decode_event<probes::DeploymentView>(dep));
  ASSERT_TRUE(decode_event<probes::PodView>(pod));
  for (std::size_t n = 0; n < dep.size(); ++n)
    ASSERT_FALSE(decode_event<probes::DeploymentView>(std::string_view(dep).substr(0, n))) << n;
  for (std::size_t n = 0; n < pod.size(); ++n)
    ASSERT_FALSE(decode_event<probes::PodView>(std::string_view(pod).substr(0, n))) << n;
}

TEST(DecodeEvent, ErrorEventWithoutStatusFieldsAndOddBookmarks) {
  auto x = decode_event<probes::PodView>(R"({"type":"ERROR","object":{}})");
  ASSERT_TRUE(x) << x.error();
  EXPECT_EQ(x->type, EventType::error);
  EXPECT_FALSE(decode_event<probes::PodView>(R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":7}}})"));
  EXPECT_FALSE(decode_event<probes::PodView>(R"({"type":"BOOKMARK","object":{"metadata":[]}})"));
  EXPECT_FALSE(decode_event<probes::PodView>(R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":""}}})"));
  auto b = decode_event<probes::PodView>(R"({"object":{"metadata":{"resourceVersion":"5"}},"type":"BOOKMARK"})");
  ASSERT_TRUE(b) << b.error();
  EXPECT_EQ(b->resource_version, "5");
}

TEST(Decoder, ViewsOutliveTheNextParse) {
  Decoder dec;
  auto big = dec.project<probes::DeploymentView>(kRealDeployment);
  ASSERT_TRUE(big) << big.error();
  auto small = dec.project<probes::DeploymentView>(R"({"metadata":{"name":"tiny","namespace":"z"}})");
  ASSERT_TRUE(small) << small.error();
  EXPECT_EQ(big->meta.name, "checkout");
  EXPECT_EQ(big->meta.ns, "shop");
  EXPECT_EQ(*probes::find_value(big->meta.annotations, "canary-guard.io/policy"), "default");
  EXPECT_EQ(small->meta.name, "tiny");
  EXPECT_GE(dec.capacity(), kRealDeployment.size());
  Decoder moved = std::move(dec);
  EXPECT_TRUE(moved.project<probes::DeploymentView>(kRealDeployment));
}

// ---- list pages -----------------------------------------------------------------------------------------------

TEST(DecodeList, Page) {
  Decoder dec;
  const std::string body = R"({"kind":"DeploymentList","apiVersion":"apps/v1","metadata":{"resourceVersion":"900",
    "continue":"tok"},"items":[)" + std::string(kRealDeployment) +
                           R"(,{"metadata":{"name":"bad"},"spec":{"replicas":"3"}},7,{"metadata":{"name":"ok"}}]})";
  auto page = dec.decode_list<probes::DeploymentView>(body);
  ASSERT_TRUE(page) << page.error();
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].meta.name, "checkout");
  EXPECT_EQ(page->items[0].template_hash, "edb92f8a8f62cb94");
  EXPECT_EQ(page->items[1].meta.name, "ok");
  ASSERT_EQ(page->errors.size(), 2u);
  EXPECT_NE(page->errors[0].find("spec.replicas"), std::string::npos) << page->errors[0];
  EXPECT_EQ(page->resource_version, "900");
  EXPECT_EQ(page->continue_token, "tok");

  auto last = dec.decode_list<probes::PodView>(R"({"metadata":{"resourceVersion":"901"},"items":[]})");
  ASSERT_TRUE(last) << last.error();
  EXPECT_TRUE(last->items.empty());
  EXPECT_EQ(last->continue_token, "");
  // Tolerated as before: no items / no metadata / odd types there mean an empty page without a version.
  for (const char* s : {R"({})", R"({"items":null})", R"({"metadata":[],"items":"x"})",
                        R"({"metadata":{"resourceVersion":9,"continue":false}})"}) {
    auto p = dec.decode_list<probes::PodView>(s);
    ASSERT_TRUE(p) << s;
    EXPECT_TRUE(p->items.empty()) << s;
    EXPECT_FALSE(p->resource_version) << s;
    EXPECT_EQ(p->continue_token, "") << s;
  }
}

TEST(DecodeList, MalformedBodiesAreErrors) {
  Decoder dec;
  const std::string body = R"({"metadata":{"resourceVersion":"900"},"items":[)" + std::string(kRealReplicaSet) + "]}";
  ASSERT_TRUE(dec.decode_list<probes::ReplicaSetView>(body));
  for (std::size_t n = 0; n < body.size(); n += 3)
    EXPECT_FALSE(dec.decode_list<probes::ReplicaSetView>(std::string_view(body).substr(0, n))) << n;
  for (const char* s : {"[]", "null", "\"x\"", "<html>", "{\"items\":[}"}) {
    auto p = dec.decode_list<probes::ReplicaSetView>(s);
    ASSERT_FALSE(p) << s;
  }
  EXPECT_EQ(dec.decode_list<probes::ReplicaSetView>("[]").error(), "list response is not an object");
}

}  // namespace
}  // namespace canary_guard::kube
