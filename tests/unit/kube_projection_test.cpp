#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon/kube/projection.hpp"

namespace canary_guard::kube {
namespace {

using json = nlohmann::json;

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
  auto d = project_deployment(deployment());
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
  auto d = project_deployment(json::parse(R"({"metadata":{"name":"x"}})"));
  ASSERT_TRUE(d) << d.error();
  EXPECT_FALSE(d->replicas_set);
  EXPECT_EQ(d->spec_replicas, 1);
  EXPECT_FALSE(d->progress_deadline_seconds);
  EXPECT_EQ(d->strategy, "RollingUpdate");
  EXPECT_EQ(d->template_hash, template_fingerprint(nullptr));
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
    auto d = project_deployment(j);
    ASSERT_FALSE(d) << c.what;
    EXPECT_NE(d.error().find(c.expect_in_error), std::string::npos) << c.what << ": " << d.error();
  }
  EXPECT_FALSE(project_deployment(json::array()));
  EXPECT_FALSE(project_deployment(json("x")));
  EXPECT_FALSE(project_pod(json(nullptr)));
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
  auto s = project_replicaset(j);
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ(s->revision, 7);
  EXPECT_EQ(s->pod_template_hash, "78449c65d4");
  EXPECT_EQ(s->meta.controller_uid, "u-d");
  EXPECT_EQ(s->available_replicas, 2);
  // The RS template equals the Deployment template once pod-template-hash is dropped.
  EXPECT_EQ(s->template_hash, project_deployment(deployment())->template_hash);

  j["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "7x";
  EXPECT_EQ(project_replicaset(j)->revision, -1);
  j["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "-2";
  EXPECT_EQ(project_replicaset(j)->revision, -1);
  j["metadata"]["annotations"].erase("deployment.kubernetes.io/revision");
  EXPECT_EQ(project_replicaset(j)->revision, 0);
}

TEST(Projection, DaemonSetAndControllerRevision) {
  auto ds = project_daemonset(json::parse(R"({"metadata":{"name":"agent","namespace":"kube-system","generation":2},
    "spec":{"updateStrategy":{"type":"OnDelete"},"template":{"metadata":{"labels":{"app":"agent"}},
      "spec":{"containers":[{"name":"a","image":"agent:1"}]}}},
    "status":{"desiredNumberScheduled":3,"numberReady":2,"numberUnavailable":1,"updatedNumberScheduled":3}})"));
  ASSERT_TRUE(ds) << ds.error();
  EXPECT_EQ(ds->update_strategy, "OnDelete");
  EXPECT_EQ(ds->desired_number_scheduled, 3);
  EXPECT_EQ(ds->number_unavailable, 1);

  // The CR data is the SMP {"spec":{"template":{...,"$patch":"replace"}}}, keys sorted, $patch first.
  auto cr = project_controller_revision(json::parse(R"({"metadata":{"name":"agent-5d4f8b","namespace":"kube-system",
      "labels":{"app":"agent","controller-revision-hash":"5d4f8b"},
      "ownerReferences":[{"uid":"u-ds","controller":true}]},
    "revision":3,
    "data":{"spec":{"template":{"$patch":"replace","metadata":{"labels":{"app":"agent"}},
      "spec":{"containers":[{"image":"agent:1","name":"a"}]}}}}})"));
  ASSERT_TRUE(cr) << cr.error();
  EXPECT_EQ(cr->revision, 3);
  EXPECT_EQ(cr->hash, "5d4f8b");
  EXPECT_EQ(cr->meta.controller_uid, "u-ds");
  EXPECT_EQ(cr->template_hash, ds->template_hash);

  auto unlabelled = project_controller_revision(json::parse(R"({"metadata":{"name":"agent-1"},"revision":1})"));
  ASSERT_TRUE(unlabelled);
  EXPECT_EQ(unlabelled->hash, "agent-1");
  EXPECT_FALSE(project_controller_revision(json::parse(R"({"metadata":{"name":"x"},"revision":"1"})")));
  EXPECT_FALSE(project_controller_revision(json::parse(R"({"metadata":{"name":"x"},"data":"raw"})")));
}

TEST(Projection, Pod) {
  auto p = project_pod(json::parse(R"({"metadata":{"name":"web-78449c65d4-abcde","namespace":"shop",
      "labels":{"app":"web","pod-template-hash":"78449c65d4","team":"x"},
      "ownerReferences":[{"uid":"u-rs","controller":true}],"deletionTimestamp":"2024-01-02T03:04:05Z"},
    "spec":{"nodeName":"n1","containers":[{"name":"app","image":"web:2"}]},
    "status":{"phase":"Running",
      "conditions":[{"type":"Ready","status":"False","lastTransitionTime":"2024-01-02T03:04:05Z"}],
      "initContainerStatuses":[{"name":"init","ready":true,"restartCount":0,
        "state":{"terminated":{"reason":"Completed","exitCode":0}}}],
      "containerStatuses":[{"name":"app","ready":false,"restartCount":5,
        "state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off"}},
        "lastState":{"terminated":{"reason":"Error","exitCode":137}}}]}})"));
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
  EXPECT_FALSE(project_pod(json::parse(R"({"metadata":{"name":"p"},"status":{"containerStatuses":[1]}})")));
  EXPECT_FALSE(project_pod(json::parse(R"({"metadata":{"name":"p"},"status":{"containerStatuses":[{"restartCount":"1"}]}})")));
}

// ---- template fingerprint -------------------------------------------------------------------------------------

std::string fp(const char* s, bool strip = false) {
  auto j = json::parse(s);
  return template_fingerprint(&j, strip);
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
  EXPECT_EQ(fp("{}"), template_fingerprint(nullptr));
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

TEST(DecodeEvent, DropsManagedFieldsButKeepsProjection) {
  json obj = deployment();
  auto direct = project_deployment(obj);
  auto via = decode_event<probes::DeploymentView>(json{{"type", "ADDED"}, {"object", obj}}.dump());
  ASSERT_TRUE(direct && via);
  EXPECT_EQ(direct->template_hash, via->object.template_hash);
  EXPECT_EQ(direct->meta.annotations, via->object.meta.annotations);
  auto parsed = parse_event_json(json{{"type", "ADDED"}, {"object", obj}}.dump());
  ASSERT_TRUE(parsed);
  EXPECT_FALSE((*parsed)["object"]["metadata"].contains("managedFields"));
  EXPECT_FALSE((*parsed)["object"]["metadata"]["annotations"].contains("kubectl.kubernetes.io/last-applied-configuration"));
  EXPECT_TRUE((*parsed)["object"]["metadata"]["annotations"].contains("canary-guard.io/verdict"));
}

TEST(DecodeEvent, PodKeepsOnlyNodeNameOfSpec) {
  auto line = R"({"type":"ADDED","object":{"metadata":{"name":"p","namespace":"n","labels":{"pod-template-hash":"h"}},
    "spec":{"containers":[{"name":"a","image":"i","env":[{"name":"X","value":"{\"nested\":[1,2,{}]}"}]}],
            "nodeName":"node-7","volumes":[{"name":"v","projected":{"sources":[]}}]},
    "status":{"phase":"Pending","containerStatuses":[{"name":"a","restartCount":2,"state":{"waiting":{"reason":"ErrImagePull"}}}]}}})";
  auto parsed = parse_event_json(line, /*pod=*/true);
  ASSERT_TRUE(parsed);
  EXPECT_EQ((*parsed)["object"]["spec"], (json{{"nodeName", "node-7"}}));
  auto ev = decode_event<probes::PodView>(line);
  ASSERT_TRUE(ev) << ev.error();
  EXPECT_EQ(ev->object.node_name, "node-7");
  EXPECT_EQ(ev->object.pod_template_hash, "h");
  ASSERT_EQ(ev->object.containers.size(), 1u);
  EXPECT_EQ(ev->object.containers[0].waiting_reason, "ErrImagePull");
  EXPECT_EQ(ev->object.containers[0].restart_count, 2);
  // Deployments keep their spec (the template fingerprint needs it).
  auto d = parse_event_json(R"({"type":"ADDED","object":{"metadata":{"name":"d"},"spec":{"replicas":2}}})", false);
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)["object"]["spec"]["replicas"], 2);
}

}  // namespace
}  // namespace canary_guard::kube
