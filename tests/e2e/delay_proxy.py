#!/usr/bin/env python3
"""delay_proxy.py LISTEN_PORT_FILE TARGET_PORT DELAY_S: a loopback TCP proxy that holds every chunk the client
sends for DELAY_S seconds before forwarding it (a slow Prometheus: each request answers DELAY_S later). Writes
the port it listens on (127.0.0.1, chosen by the kernel) to LISTEN_PORT_FILE. Fault injection for e2e tests."""
import socket
import sys
import threading
import time


def pipe(src, dst, delay):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if delay:
                time.sleep(delay)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    port_file, target, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    with open(port_file, "w") as f:
        f.write(str(srv.getsockname()[1]))
    while True:
        client, _ = srv.accept()
        upstream = socket.create_connection(("127.0.0.1", target))
        threading.Thread(target=pipe, args=(client, upstream, delay), daemon=True).start()
        threading.Thread(target=pipe, args=(upstream, client, 0), daemon=True).start()


if __name__ == "__main__":
    main()
