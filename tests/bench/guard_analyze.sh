#!/usr/bin/env bash
# Turns the timestamped event streams of tests/bench/guard_latency.sh into figures. Separate so a kept run
# (BENCH_KEEP=1, or a failed one) can be analysed again:
#   tests/bench/guard_analyze.sh WORK_DIR
# WORK_DIR holds deploy.jsonl and pod.jsonl (tests/bench/guard_lib.sh watchers) and rounds.tsv (one line per
# round: scenario, round, bad image, good image, deadline seconds, prefix of the guarded Deployments, prefix of the
# idiom Deployments). Prints the figures on stdout and writes one line per sample to WORK_DIR/samples.tsv.
#
# Definitions (all times are watcher stamps or apiserver times on this machine's one clock):
#  PATCH accepted   the first Deployment watch event, after the event that carried the bad image, whose pod template
#                   runs the good image again (the rollback PATCH, whoever sent it).
#  breach, deadline the earlier of (a) lastUpdateTime + progressDeadlineSeconds of the last Progressing=True
#                   condition (reason NewReplicaSetCreated/ReplicaSetUpdated/FoundNewReplicaSet) seen on the bad
#                   revision before the PATCH -- the moment Kubernetes defines as the deadline; lastUpdateTime has
#                   whole seconds, so this is the deadline exactly as the deployment controller computes it -- and
#                   (b) the stamp of the first event carrying Progressing=False/ProgressDeadlineExceeded.
#  breach, crash    the stamp of the first pod watch event of a bad-image pod in CrashLoopBackOff with
#                   restartCount >= 3 (the default crashloop_restarts; new pods start from 0), or >= 2 while the
#                   pod was never Ready (the default crashloop_unready_restarts): the guard's own rule.
#  recovered        the first moment after the PATCH at which every live pod (no deletionTimestamp) of the
#                   Deployment runs the good image and is Ready, and there are spec.replicas of them.
# Percentiles: nearest rank (p99 of 50 samples is the largest).
set -euo pipefail
[ $# = 1 ] && [ -d "$1" ] || { echo "usage: $0 WORK_DIR" >&2; exit 2; }
exec python3 - "$1" <<'PY'
import json, math, os, sys
from collections import defaultdict

d = sys.argv[1]

restarts = 0

def load(name):
    global restarts
    out = defaultdict(list)
    with open(os.path.join(d, name)) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("ev") == "WATCH_RESTART":
                restarts += 1
            key = e.get("name") if name.startswith("deploy") else e.get("app")
            if key:
                out[key].append(e)
    for v in out.values():
        v.sort(key=lambda e: e["t"])
    return out

deploys = load("deploy.jsonl")
pods = load("pod.jsonl")
rounds = []
with open(os.path.join(d, "rounds.tsv")) as f:
    for line in f:
        p = line.split()
        if len(p) == 7:
            rounds.append({"scenario": p[0], "round": int(p[1]), "bad": p[2], "good": p[3], "deadline": int(p[4]),
                           "guarded": p[5], "idiom": p[6]})

PROGRESSING_TRUE = {"NewReplicaSetCreated", "ReplicaSetUpdated", "FoundNewReplicaSet"}

def sample(name, r):
    ev = deploys.get(name, [])
    t_bad = next((e["t"] for e in ev if e["image"] == r["bad"]), None)
    if t_bad is None:
        return None, "bad image never seen"
    t_patch = next((e["t"] for e in ev if e["t"] > t_bad and e["image"] == r["good"]), None)
    if t_patch is None:
        return None, "never rolled back"
    s = {"name": name, "t_bad": t_bad, "t_patch": t_patch}
    if r["scenario"] == "deadline":
        lut = None
        pde = None
        for e in ev:
            if e["t"] < t_bad or e["t"] >= t_patch or e["image"] != r["bad"] or e["ogen"] < e["gen"]:
                continue
            if e["prog_status"] == "True" and e["prog_reason"] in PROGRESSING_TRUE and e["prog_lut"]:
                lut = e["prog_lut"]
            if pde is None and e["prog_status"] == "False" and e["prog_reason"] == "ProgressDeadlineExceeded":
                pde = e["t"]
        cands = []
        if lut is not None:
            cands.append((lut + r["deadline"], "lastUpdateTime+deadline"))
        if pde is not None:
            cands.append((pde, "ProgressDeadlineExceeded"))
        if not cands:
            return None, "no Progressing condition seen"
        s["t_breach"], s["source"] = min(cands)
        s["before_pde"] = pde is None or t_patch < pde
    else:
        pe = [e for e in pods.get(name, []) if e["image"] == r["bad"] and e["t"] >= t_bad]
        was_ready = set()
        t3 = None
        for e in pe:
            if e["ready"]:
                was_ready.add(e["uid"])
            if e["waiting"] != "CrashLoopBackOff":
                continue
            if e["restarts"] >= 3 or (e["restarts"] >= 2 and e["uid"] not in was_ready):
                t3 = e["t"]
                break
        t1 = next((e["t"] for e in pe if e["waiting"] == "CrashLoopBackOff"), None)
        if t3 is None:
            return None, "no pod reached the crash-loop rule (3 restarts, or 2 never Ready) before the rollback"
        s["t_breach"], s["source"], s["t_first_clbo"] = t3, "pod crash-loop rule", t1
    # Recovery: replay pods (all of this Deployment's events) and the Deployment's spec.replicas.
    live = {}
    replicas = None
    stream = [(e["t"], 0, e) for e in ev] + [(e["t"], 1, e) for e in pods.get(name, [])]
    stream.sort(key=lambda x: (x[0], x[1]))
    for t, is_pod, e in stream:
        if is_pod:
            if e["ev"] == "DELETED" or e["del"]:
                live.pop(e["uid"], None)
            else:
                live[e["uid"]] = e
        else:
            replicas = e["spec_replicas"]
        if t < t_patch or replicas is None:
            continue
        if len(live) == replicas and all(p["image"] == r["good"] and p["ready"] for p in live.values()):
            s["t_recovered"] = t
            break
    s["latency"] = s["t_patch"] - s["t_breach"]
    return s, None

def pct(xs, q):
    xs = sorted(xs)
    return xs[max(0, math.ceil(q / 100 * len(xs)) - 1)]

def stats(xs):
    if not xs:
        return "n=0"
    return "n=%d p50=%.3f p90=%.3f p99=%.3f max=%.3f min=%.3f (s)" % (
        len(xs), pct(xs, 50), pct(xs, 90), pct(xs, 99), max(xs), min(xs))

samples = defaultdict(list)  # (scenario, who) -> [sample]
problems = defaultdict(int)
with open(os.path.join(d, "samples.tsv"), "w") as out:
    out.write("scenario\twho\tround\tname\tbreach_source\tbreach_to_patch_s\tpatch_to_recovered_s\tfirst_clbo_to_recovered_s\n")
    for r in rounds:
        for who in ("guarded", "idiom"):
            prefix = r[who]
            for name in sorted(n for n in deploys if n.startswith(prefix)):
                s, why = sample(name, r)
                if s is None:
                    problems[(r["scenario"], who, why)] += 1
                    continue
                samples[(r["scenario"], who)].append(s)
                rec = s.get("t_recovered")
                clbo = s.get("t_first_clbo")
                out.write("%s\t%s\t%d\t%s\t%s\t%.3f\t%s\t%s\n" % (
                    r["scenario"], who, r["round"], name, s["source"], s["latency"],
                    "%.3f" % (rec - s["t_patch"]) if rec else "-",
                    "%.3f" % (rec - clbo) if rec and clbo else "-"))

for scenario, label in (("deadline", "progress deadline (unready release)"),
                        ("crashloop", "crash loop, restartCount >= 3 or >= 2 never Ready (crashloop release)")):
    g = [s["latency"] for s in samples[(scenario, "guarded")]]
    i = [s["latency"] for s in samples[(scenario, "idiom")]]
    if not g and not i:
        continue
    print("breach_to_patch %s" % label)
    print("  canary-guard:                   %s" % stats(g))
    print("  rollout status || rollout undo: %s" % stats(i))
    if g and i and pct(g, 50) > 0:
        print("  ratio idiom/guard: p50 %.1fx, p90 %.1fx, max %.1fx" % (
            pct(i, 50) / pct(g, 50), pct(i, 90) / max(pct(g, 90), 1e-6), max(i) / max(max(g), 1e-6)))
    for who in ("guarded", "idiom"):
        rel = [s["t_patch"] - s["t_bad"] for s in samples[(scenario, who)]]
        print("  release (first event with the bad template) -> PATCH (%s): %s" % (who, stats(rel)))
    if scenario == "deadline":
        neg = sum(1 for x in i if x < 0)
        if neg:
            print("  idiom PATCH before the Kubernetes deadline: %d of %d (its --timeout runs from its own start;"
                  " the deadline from the last progress, lastUpdateTime)" % (neg, len(i)))
        for who in ("guarded", "idiom"):
            src = defaultdict(int)
            for s in samples[(scenario, who)]:
                src[s["source"]] += 1
            print("  breach moment used (%s): %s" % (who, ", ".join("%s %d" % kv for kv in sorted(src.items()))))
            n = sum(1 for s in samples[(scenario, who)] if s["before_pde"])
            print("  PATCH before the controller wrote ProgressDeadlineExceeded (%s): %d of %d" % (
                who, n, len(samples[(scenario, who)])))
    if scenario == "crashloop":
        for who in ("guarded", "idiom"):
            rec = [s["t_recovered"] - s["t_first_clbo"] for s in samples[(scenario, who)]
                   if s.get("t_recovered") and s.get("t_first_clbo")]
            print("first CrashLoopBackOff -> all pods of the healthy revision Ready (%s): %s" % (who, stats(rec)))
    for who in ("guarded", "idiom"):
        rec = [s["t_recovered"] - s["t_patch"] for s in samples[(scenario, who)] if s.get("t_recovered")]
        print("  PATCH -> all healthy pods Ready (%s): %s" % (who, stats(rec)))
if restarts:
    print("  note: the watchers had to restart %d times (watch ended, e.g. an apiserver restart by another test);"
          " events during those gaps were not seen" % restarts)
for (scenario, who, why), n in sorted(problems.items()):
    print("  not measured: %s %s: %d x %s" % (scenario, who, n, why))
PY
