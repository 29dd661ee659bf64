#!/usr/bin/env python3
"""http_sink.py - a loopback HTTP receiver for the alert tests.

Records every request (method, path with query, headers in order, body) as
one JSON line in DIR/requests.jsonl and answers according to DIR/mode, read
at each request so a test can change it between runs:

  ok            200 "OK"
  status N      N with a short body (e.g. "status 202", "status 500")
  hang          accept, read the request, never answer (until --lifetime)

It binds 127.0.0.1 port 0 (or --port) and writes the port to DIR/port once
it listens.  --refuse only picks a free port, writes it and exits: nothing
listens there, so connections are refused.  The server stops by itself
after --lifetime seconds.
"""
import argparse
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        rec = {
            "method": self.command,
            "path": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body": body.decode("utf-8", "replace"),
        }
        d = self.server.dir
        with self.server.lock:
            with open(os.path.join(d, "requests.jsonl"), "a") as f:
                f.write(json.dumps(rec) + "\n")
        try:
            with open(os.path.join(d, "mode")) as f:
                mode = f.read().split()
        except FileNotFoundError:
            mode = ["ok"]
        if mode and mode[0] == "hang":
            time.sleep(self.server.lifetime)
            return
        status = int(mode[1]) if mode and mode[0] == "status" else 200
        reply = b'{"status":1,"request":"test"}' if status < 300 else b'{"error":"sink says no"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = do_PUT = do_HEAD = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--lifetime", type=float, default=120)
    ap.add_argument("--refuse", action="store_true")
    a = ap.parse_args()
    if a.refuse:
        s = socket.socket()
        s.bind(("127.0.0.1", a.port))
        port = s.getsockname()[1]
        s.close()
        write_atomic(os.path.join(a.dir, "port"), str(port))
        return
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.dir = a.dir
    srv.lifetime = a.lifetime
    srv.lock = threading.Lock()
    write_atomic(os.path.join(a.dir, "port"), str(srv.server_address[1]))
    threading.Timer(a.lifetime, lambda: os._exit(0)).start()
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
