#!/usr/bin/env python3
"""Mutating load on a kube-apiserver: N threads, each PATCHing its own ConfigMap in NAMESPACE as fast as it can
(merge patch of a counter; nothing accumulates in etcd). Against an apiserver with one mutating request in flight
most of them get 429. Runs until SIGTERM, then prints one summary line: requests per HTTP status.

    mutating_load.py URL TOKEN CA_FILE NAMESPACE THREADS
"""
import http.client
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
stop = threading.Event()
counts = Counter()
lock = threading.Lock()
headers = {"Authorization": "Bearer " + token, "Accept": "application/json"}


def conn():
    return http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10)


def worker(i):
    name = "load-%d" % i
    c = conn()
    body = json.dumps({"metadata": {"name": name}, "data": {"n": "0"}})
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


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)
t0 = time.time()
ts = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
for t in ts:
    t.start()
while not stop.is_set():
    stop.wait(1)
for t in ts:
    t.join(timeout=15)
el = time.time() - t0
total = sum(counts.values())
print("mutating_load seconds=%.1f requests=%d rate=%.0f/s %s" % (
    el, total, total / el if el else 0, " ".join("status_%s=%d" % (k, v) for k, v in sorted(counts.items(), key=str))))
sys.stdout.flush()
