#!/usr/bin/env python3
"""freeze_proxy.py LISTEN_PORT_FILE TARGET_PORT: a loopback TCP proxy (TLS passes through untouched) that can stop
moving bytes without closing anything, as a hung load balancer or a dropped flow does. Fault injection for e2e tests.
Writes the port it listens on (127.0.0.1, chosen by the kernel) to LISTEN_PORT_FILE.
  SIGUSR1  freeze the connections open now (no byte moves either way; the sockets stay open); new ones still flow
  SIGUSR2  freeze everything: open connections and every new one (accepted, never forwarded)
  SIGHUP   thaw: every connection flows again, new ones too"""
import signal
import socket
import sys
import threading

lock = threading.Lock()
conns = []            # threading.Event per connection: set while it may flow
freeze_new = False


def pipe(src, dst, flow):
    try:
        while True:
            flow.wait()
            data = src.recv(65536)
            if not data:
                break
            flow.wait()
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def freeze_open(*_):
    with lock:
        for flow in conns:
            flow.clear()


def freeze_all(*_):
    global freeze_new
    freeze_new = True
    freeze_open()


def thaw(*_):
    global freeze_new
    with lock:
        freeze_new = False
        for flow in conns:
            flow.set()


def main():
    port_file, target = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGUSR1, freeze_open)
    signal.signal(signal.SIGUSR2, freeze_all)
    signal.signal(signal.SIGHUP, thaw)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(128)
    with open(port_file, "w") as f:
        f.write(str(srv.getsockname()[1]))
    while True:
        client, _ = srv.accept()
        try:
            upstream = socket.create_connection(("127.0.0.1", target))
        except OSError:
            client.close()
            continue
        flow = threading.Event()
        with lock:
            if not freeze_new:
                flow.set()
            conns.append(flow)
        threading.Thread(target=pipe, args=(client, upstream, flow), daemon=True).start()
        threading.Thread(target=pipe, args=(upstream, client, flow), daemon=True).start()


if __name__ == "__main__":
    main()
