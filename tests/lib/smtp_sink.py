#!/usr/bin/env python3
"""smtp_sink.py - a loopback SMTP receiver for the alert tests.

Speaks just enough SMTP (RFC 5321: EHLO/HELO, AUTH PLAIN and LOGIN, MAIL,
RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) to accept mail from
libcurl, and records each message as one JSON line in DIR/mail.jsonl:
{"from", "rcpt": [...], "auth": "<user>" or null, "data": "..."}.
It offers no STARTTLS, so a client that requires TLS must refuse it.
Binds 127.0.0.1 port 0, writes the port to DIR/port, stops by itself after
--lifetime seconds.
"""
import argparse
import base64
import json
import os
import socketserver
import sys
import threading


class Handler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write((line + "\r\n").encode())

    def readline(self):
        return self.rfile.readline(65536).decode("utf-8", "replace").rstrip("\r\n")

    def handle(self):
        self.reply("220 localhost vigil-test-sink ESMTP")
        mail_from, rcpt, user = None, [], None
        while True:
            line = self.readline()
            if not line and self.rfile.closed:
                return
            cmd = line.split(" ", 1)[0].upper()
            arg = line[len(cmd):].strip()
            if cmd == "EHLO":
                self.reply("250-localhost")
                self.reply("250-AUTH PLAIN LOGIN")
                self.reply("250 8BITMIME")
            elif cmd == "HELO":
                self.reply("250 localhost")
            elif cmd == "AUTH":
                parts = arg.split()
                if parts[0].upper() == "PLAIN":
                    blob = parts[1] if len(parts) > 1 else None
                    if blob is None:
                        self.reply("334 ")
                        blob = self.readline()
                    fields = base64.b64decode(blob).split(b"\0")
                    user = fields[1].decode() if len(fields) > 1 else ""
                else:
                    self.reply("334 VXNlcm5hbWU6")
                    user = base64.b64decode(self.readline()).decode()
                    self.reply("334 UGFzc3dvcmQ6")
                    self.readline()
                self.reply("235 2.7.0 Authentication successful")
            elif cmd == "MAIL":
                mail_from, rcpt = arg.split(":", 1)[1].strip(), []
                self.reply("250 OK")
            elif cmd == "RCPT":
                rcpt.append(arg.split(":", 1)[1].strip())
                self.reply("250 OK")
            elif cmd == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                lines = []
                while True:
                    raw = self.rfile.readline(1 << 20)
                    if not raw or raw in (b".\r\n", b".\n"):
                        break
                    if raw.startswith(b".."):
                        raw = raw[1:]
                    lines.append(raw.decode("utf-8", "replace"))
                rec = {"from": mail_from, "rcpt": rcpt, "auth": user, "data": "".join(lines)}
                with self.server.lock:
                    with open(os.path.join(self.server.dir, "mail.jsonl"), "a") as f:
                        f.write(json.dumps(rec) + "\n")
                self.reply("250 OK queued")
            elif cmd in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif cmd == "QUIT":
                self.reply("221 bye")
                return
            elif not line:
                return
            else:
                self.reply("502 command not implemented")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--lifetime", type=float, default=120)
    a = ap.parse_args()
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    srv.dir = a.dir
    srv.lock = threading.Lock()
    tmp = os.path.join(a.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, os.path.join(a.dir, "port"))
    threading.Timer(a.lifetime, lambda: os._exit(0)).start()
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
