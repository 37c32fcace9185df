#!/usr/bin/env python3
"""Mutating load on a kube-apiserver: N processes (true parallelism, no GIL between them), each PATCHing its own
ConfigMap in NAMESPACE as fast as it can (merge patch of a counter) and retrying at once on 429. Each ConfigMap
carries LOAD_KB (1) KB of data: small, because the sandbox's etcd never compacts (--etcd-compaction-interval 0) and
keeps every revision (256 KB writes added ~100 MB per test). Against an apiserver with one mutating request in
flight, two processes already get ~80 % of their writes answered 429 (as a ServiceAccount: system:masters is
exempt from the max-in-flight filter). Runs until SIGTERM, then prints one summary line: requests per HTTP status.

    mutating_load.py URL TOKEN CA_FILE NAMESPACE PROCESSES
"""
import http.client
import multiprocessing
import os
import json
import signal
import ssl
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlparse

url, token, ca, ns, threads = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
u = urlparse(url)
ctx = ssl.create_default_context(cafile=ca)
kb = int(os.environ.get("LOAD_KB", "1"))
stop = threading.Event()
counts = Counter()
lock = threading.Lock()
headers = {"Authorization": "Bearer " + token, "Accept": "application/json"}


def conn():
    return http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10)


def worker(i):
    name = "load-%d" % i
    c = conn()
    body = json.dumps({"metadata": {"name": name}, "data": {"n": "0", "blob": "x" * (kb * 1024)}})
    created = False
    n = 0
    while not stop.is_set():
        try:
            if not created:
                c.request("POST", "/api/v1/namespaces/%s/configmaps" % ns, body,
                          dict(headers, **{"Content-Type": "application/json"}))
                r = c.getresponse()
                r.read()
                created = r.status in (201, 409)
            else:
                n += 1
                c.request("PATCH", "/api/v1/namespaces/%s/configmaps/%s" % (ns, name),
                          json.dumps({"data": {"n": str(n)}}),
                          dict(headers, **{"Content-Type": "application/merge-patch+json"}))
                r = c.getresponse()
                r.read()
            with lock:
                counts[r.status] += 1
        except Exception:  # a dropped connection: count it and reconnect
            with lock:
                counts["error"] += 1
            c.close()
            c = conn()
            time.sleep(0.05)


def on_term(*_):
    stop.set()


def process(i, q):
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    t = threading.Thread(target=worker, args=(i,), daemon=True)
    t.start()
    while not stop.is_set():
        stop.wait(0.5)
    t.join(timeout=15)
    q.put(dict(counts))


if __name__ == "__main__":
    q = multiprocessing.Queue()
    t0 = time.time()
    ps = [multiprocessing.Process(target=process, args=(i, q)) for i in range(threads)]
    for p in ps:
        p.start()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    while not stop.is_set():
        stop.wait(1)
    for p in ps:
        p.terminate()  # SIGTERM: each stops and reports
    total_counts = Counter()
    for _ in ps:
        try:
            total_counts.update(q.get(timeout=20))
        except Exception:
            pass
    for p in ps:
        p.join(timeout=5)
    el = time.time() - t0
    total = sum(total_counts.values())
    print("mutating_load processes=%d kb=%d seconds=%.1f requests=%d rate=%.0f/s %s" % (
        threads, kb, el, total, total / el if el else 0,
        " ".join("status_%s=%d" % (k, v) for k, v in sorted(total_counts.items(), key=str))))
    sys.stdout.flush()
