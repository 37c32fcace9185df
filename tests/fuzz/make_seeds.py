#!/usr/bin/env python3
"""Writes the seed corpus tests/fuzz/corpus/<target>/seed-* : small, realistic inputs for each fuzz target (objects
shaped as the API server sends them, Prometheus and Alertmanager answers as the spec shows them, the example
configuration, kubeconfigs as kubeadm and kind write them, the requests Prometheus and curl send). Run it again after
changing a target's input layout. Files named regression-* (inputs that once crashed or hung) are never touched."""
import base64, json, os, pathlib, struct

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT = HERE / "corpus"


def write(target, name, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / f"seed-{name}").write_bytes(data if isinstance(data, bytes) else data.encode())


def j(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


meta = lambda name, ns="shop", **extra: {"name": name, "namespace": ns, "uid": f"uid-{name}", "resourceVersion": "48213",
                                         "generation": 7, "creationTimestamp": "2024-01-02T03:04:05Z", **extra}
template = {"metadata": {"creationTimestamp": None, "labels": {"app": "checkout", "tier": "web"},
                         "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-01-02T03:00:00Z"}},
            "spec": {"containers": [{"name": "app", "image": "registry.example/checkout:2.14.1",
                                     "args": ["--quote=a\"b\\c é 😀"], "resources": {"limits": {"cpu": "1"}},
                                     "env": [{"name": "RATIO", "value": "0.5"}]}],
                     "restartPolicy": "Always", "terminationGracePeriodSeconds": 30}}
deployment = {"kind": "Deployment", "apiVersion": "apps/v1",
              "metadata": meta("checkout", labels={"app": "checkout"},
                               annotations={"deployment.kubernetes.io/revision": "7",
                                            "canary-guard.io/verdict": "healthy hash=6d59fd96fc at=2026-11-21T20:58:55Z reason=baked"}),
              "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "checkout"}}, "template": template,
                       "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 1}},
                       "progressDeadlineSeconds": 600, "minReadySeconds": 5, "paused": False},
              "status": {"observedGeneration": 7, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 2,
                         "availableReplicas": 2, "unavailableReplicas": 1,
                         "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                                         "lastUpdateTime": "2024-01-02T03:15:00Z",
                                         "lastTransitionTime": "2024-01-02T03:15:00.123456Z"}]}}
rs_template = json.loads(j(template))
rs_template["metadata"]["labels"]["pod-template-hash"] = "78449c65d4"
replicaset = {"kind": "ReplicaSet", "apiVersion": "apps/v1",
              "metadata": meta("checkout-78449c65d4", labels={"app": "checkout", "pod-template-hash": "78449c65d4"},
                               annotations={"deployment.kubernetes.io/revision": "7"},
                               ownerReferences=[{"apiVersion": "apps/v1", "kind": "Deployment", "name": "checkout",
                                                 "uid": "uid-checkout", "controller": True}]),
              "spec": {"replicas": 3, "template": rs_template},
              "status": {"replicas": 3, "readyReplicas": 3, "availableReplicas": 3, "observedGeneration": 2}}
daemonset = {"kind": "DaemonSet", "apiVersion": "apps/v1",
             "metadata": meta("agent", "kube-system", annotations={"deprecated.daemonset.template.generation": "3"}),
             "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template,
                      "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}},
             "status": {"currentNumberScheduled": 3, "desiredNumberScheduled": 3, "numberReady": 2,
                        "observedGeneration": 3, "updatedNumberScheduled": 3, "numberAvailable": 2,
                        "numberUnavailable": 1}}
cr_template = dict(json.loads(j(template)), **{"$patch": "replace"})
controllerrevision = {"kind": "ControllerRevision", "apiVersion": "apps/v1",
                      "metadata": meta("agent-5d4f8b9c7", "kube-system", labels={"controller-revision-hash": "5d4f8b9c7"},
                                       ownerReferences=[{"kind": "DaemonSet", "name": "agent", "uid": "uid-agent",
                                                         "controller": True}]),
                      "data": {"spec": {"template": cr_template}}, "revision": 3}
pod = {"kind": "Pod", "apiVersion": "v1",
       "metadata": meta("checkout-78449c65d4-abcde", labels={"app": "checkout", "pod-template-hash": "78449c65d4"},
                        ownerReferences=[{"uid": "uid-checkout-78449c65d4", "controller": True}]),
       "spec": {"nodeName": "n1", "containers": [{"name": "app", "image": "registry.example/checkout:2.14.1"}]},
       "status": {"phase": "Running", "startTime": "2024-01-02T03:04:06Z",
                  "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": "2024-01-02T03:04:05Z"}],
                  "initContainerStatuses": [{"name": "init", "ready": True, "restartCount": 0,
                                             "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}],
                  "containerStatuses": [{"name": "app", "ready": False, "restartCount": 5,
                                         "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}},
                                         "lastState": {"terminated": {"reason": "Error", "exitCode": 137}}}]}}
objects = [deployment, replicaset, daemonset, controllerrevision, pod]
kinds = ["deployment", "replicaset", "daemonset", "controllerrevision", "pod"]

# fuzz_projection: byte 0 = mode (view * 2 + list?; 10/11 = template fingerprint without/with $patch stripping).
for i, (kind, obj) in enumerate(zip(kinds, objects)):
    write("projection", f"{kind}-object", bytes([i * 2]) + j(obj).encode())
    page = {"kind": kind.capitalize() + "List", "apiVersion": "v1",
            "metadata": {"resourceVersion": "48300", "continue": "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NDgzMDB9"},
            "items": [obj, {"metadata": {"name": 5}}, obj]}
    write("projection", f"{kind}-list", bytes([i * 2 + 1]) + j(page).encode())
write("projection", "template", bytes([10]) + j(template).encode())
write("projection", "template-patch", bytes([11]) + j(cr_template).encode())
write("projection", "numbers", bytes([10]) + b'{"spec":{"a":[1,-1,0.5,1000.0,-0.0,9007199254740993,18446744073709551615,'
      b'-9223372036854775808,1.5e+300,true,false,null,"",[],{}],"b":{"x":null,"y":[]}}}')

# fuzz_watch_stream: byte 0 = kind, byte 1 = max line / 64, bytes 2..9 = chunking seed, then the stream.
for i, (kind, obj) in enumerate(zip(kinds, objects)):
    lines = [j({"type": "ADDED", "object": obj}), j({"type": "MODIFIED", "object": obj}),
             j({"type": "BOOKMARK", "object": {"kind": obj["kind"], "metadata": {"resourceVersion": "48400"}}}),
             j({"type": "DELETED", "object": obj})]
    stream = ("\n".join(lines) + "\n").encode()
    write("watch_stream", kind, bytes([i, 255]) + struct.pack(">Q", 0x9E3779B97F4A7C15 + i) + stream)
gone = j({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                      "message": "too old resource version: 100 (200)", "reason": "Expired", "code": 410}})
write("watch_stream", "error-410", bytes([0, 255]) + struct.pack(">Q", 7) + (gone + "\r\n").encode())
write("watch_stream", "short-bound", bytes([4, 1]) + struct.pack(">Q", 3) + (j({"type": "ADDED", "object": pod}) + "\n\n{\"type\"").encode())

# fuzz_prometheus: byte 0 = status index (0: 200, 1: 400, 2: 422, 3: 503, 4: 500) | 0x80 accept warnings.
vec = {"status": "success", "data": {"resultType": "vector", "result": [
    {"metric": {"namespace": "shop", "workload": "checkout", "revision": "7"}, "value": [1732200000.5, "0.031"]},
    {"metric": {"namespace": "shop", "workload": "checkout", "revision": "6"}, "value": [1732200000.5, "NaN"]},
    {"metric": {}, "value": [1732200000.5, "+Inf"]}]}}
write("prometheus", "vector", bytes([0]) + j(vec).encode())
write("prometheus", "vector-warnings", bytes([0x80]) + j(dict(vec, warnings=["PromQL info: metric might not be a counter"])).encode())
write("prometheus", "matrix", bytes([0]) + j({"status": "success", "data": {"resultType": "matrix", "result": [
    {"metric": {"pod": "checkout-1"}, "values": [[1732200000, "1"], [1732200015, "1.5e-3"], [1732200030, "-Inf"]]}]}}).encode())
write("prometheus", "scalar", bytes([0]) + b'{"status":"success","data":{"resultType":"scalar","result":[1732200000.123,"42"]}}')
write("prometheus", "empty", bytes([0]) + b'{"status":"success","data":{"resultType":"vector","result":[]}}')
write("prometheus", "string", bytes([0]) + b'{"status":"success","data":{"resultType":"string","result":[1,"x"]}}')
write("prometheus", "bad-data", bytes([1]) + j({"status": "error", "errorType": "bad_data",
                                                "error": "1:14: parse error: unexpected right parenthesis ')'"}).encode())
write("prometheus", "unavailable", bytes([3]) + b'{"status":"error","errorType":"unavailable","error":"TSDB not ready"}')
write("prometheus", "proxy-html", bytes([4]) + b"<html><body>502 Bad Gateway</body></html>")
write("prometheus", "histogram", bytes([0]) + j({"status": "success", "data": {"resultType": "vector", "result": [
    {"metric": {}, "histogram": [1732200000, {"count": "2", "sum": "1", "buckets": [[0, "0", "1", "2"]]}]}]}}).encode())

# fuzz_alertmanager: the body as Alertmanager POSTs it.
alert = {"status": "firing", "labels": {"alertname": "HighErrorRatio", "namespace": "shop", "workload": "checkout",
                                        "severity": "page"},
         "annotations": {"summary": "5xx ratio above 5%"}, "startsAt": "2024-11-21T10:00:00.123Z",
         "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus.mon:9090/graph?g0.expr=...",
         "fingerprint": "3f1c0a9e7b2d4c11"}
msg = {"version": "4", "groupKey": "{}:{namespace=\"shop\", workload=\"checkout\"}", "truncatedAlerts": 0,
       "status": "firing", "receiver": "canary-guard", "groupLabels": {"namespace": "shop", "workload": "checkout"},
       "commonLabels": {"alertname": "HighErrorRatio"}, "commonAnnotations": {},
       "externalURL": "http://alertmanager.mon:9093", "alerts": [alert]}
write("alertmanager", "firing", j(msg))
resolved = dict(alert, status="resolved", endsAt="2024-11-21T10:05:00+01:00", startsAt="2024-11-21t10:00:00z")
write("alertmanager", "resolved", j(dict(msg, status="resolved", truncatedAlerts=2, alerts=[resolved, alert])))
write("alertmanager", "version3", j(dict(msg, version="3")))
write("alertmanager", "bad-alert", j(dict(msg, alerts=[dict(alert, startsAt="yesterday", labels={"a": 1})])))

# fuzz_kubeconfig: one or two files separated by a line "---8<---".
ca = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n").decode()
kc = f"""apiVersion: v1
kind: Config
current-context: kind-dev
preferences: {{}}
clusters:
- name: kind-dev
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: {ca}
    tls-server-name: kubernetes
contexts:
- name: kind-dev
  context:
    cluster: kind-dev
    user: kind-dev
    namespace: shop
users:
- name: kind-dev
  user:
    client-certificate-data: {ca}
    client-key-data: {ca}
"""
write("kubeconfig", "kind", kc)
write("kubeconfig", "token-v6", kc.replace("https://127.0.0.1:6443", "https://[fd00::1]:443").replace(
    f"    client-certificate-data: {ca}\n    client-key-data: {ca}\n", "    token: abc.def\n    tokenFile: ~/token\n"))
write("kubeconfig", "exec-merged", f"""current-context: eks
contexts:
- name: eks
  context: {{cluster: eks, user: eks}}
---8<---
clusters:
- name: eks
  cluster:
    server: https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com
    insecure-skip-tls-verify: true
    proxy-url: http://proxy:3128
users:
- name: eks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: ./bin/aws-iam-authenticator
      args: ["token", "-i", "prod"]
      env: [{{name: AWS_PROFILE, value: prod}}]
      interactiveMode: Never
""")
write("kubeconfig", "ca-file", kc.replace(f"certificate-authority-data: {ca}", "certificate-authority: ../ca.crt"))

# fuzz_config: the documented example and a few small ones.
write("config", "example", (ROOT / "config/examples/canary-guard.toml").read_text())
write("config", "minimal", """[kubernetes]
kubeconfig = "/etc/canary-guard/kubeconfig"

[selection]
mode = "opt-in"
namespaces = ["shop", "payments"]
kinds = ["Deployment", "DaemonSet"]
# enabled=true;bake-time=10m;on-known-bad=hold;checks=error-ratio
""")
write("config", "bad", """[server]
listen = "0.0.0.0:99999"
[policy]
bake_time = "5 minutes"
unknown_key = 1
[[check]]
name = "error-ratio"
query = 'sum(rate(http_requests_total{namespace="${namespace}",code=~"5.."}[${interval}]))'
# bake-time=5 min;progress-deadline=-1s;crashloop-restarts=1e9
""")

# Around the dotted-key bound (config/load.cpp key_too_deep; the crash itself needed ~40,000 parts, more than the 64 KiB
# the runs allow, so tests/unit/config_load_test.cpp holds that regression): 33 parts, and 32-part keys in 250 nested
# inline tables (8,000 levels, which toml++ must survive).
write("config", "key-33-parts", "[" + ".".join(["a"] * 33) + "]\nx = 1\n")
write("config", "deep-inline", "x = {" + " = {".join([".".join(["a"] * 32)] * 250) + " = 1" + "}" * 250 + "\n")

# fuzz_http_request: byte 0 = bytes per read - 1, then what the client sent.
write("http_request", "prometheus-scrape", bytes([127]) + b"GET /metrics HTTP/1.1\r\nHost: 10.0.0.5:9464\r\n"
      b"User-Agent: Prometheus/2.42.0\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n"
      b"Accept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n")
write("http_request", "keepalive-pipelined", bytes([3]) + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
      b"HEAD /readyz HTTP/1.1\r\nHost: x\r\n\r\nGET /analysis HTTP/1.0\r\n\r\n")
write("http_request", "post-chunked", bytes([16]) + b"POST /analysis HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      b"\r\n5\r\nhello\r\n0\r\nTrailer: x\r\n\r\n")
write("http_request", "post-length", bytes([64]) + b"PUT /x HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world")
write("http_request", "curl", bytes([31]) + b"GET /readyz?verbose=1 HTTP/1.1\r\nHost: 127.0.0.1:9464\r\nUser-Agent: curl/7.88.1\r\n"
      b"Accept: */*\r\nConnection: close\r\n\r\n")
print("make_seeds: wrote", sum(1 for _ in OUT.rglob("seed-*")), "seeds under", OUT)
