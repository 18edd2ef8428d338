#!/usr/bin/env python3
"""A misbehaving registry for the tests: a reverse proxy in front of a real
registry (UPSTREAM, e.g. 127.0.0.1:5000, holding the busybox test images in
repository "busybox") that misbehaves by repository name:

  /v2/good/...          passed through unchanged
  /v2/wrongdigest/...   layer blobs have one byte flipped (same length)
  /v2/wrongmanifest/... manifests fetched by digest get a trailing space
  /v2/truncated/...     layer blobs end 100 bytes early (Content-Length agrees)
  /v2/oversize/...      layer blobs carry 100 extra bytes
  /v2/hugemanifest/...  manifests claim 2 GiB and trickle spaces
  /v2/redirectloop/...  manifests redirect to themselves forever
  /v2/cut/...           the first GET of each blob stops after half the body
                        (connection closed); later GETs honour Range
  /v2/slow/...          layer blobs send half the body, then stall for 60 s

Every blob request is logged to LOG as "<repo> <digest> <Range header or ->".

usage: bad_registry.py PORT_FILE UPSTREAM LOG
"""
import os
import sys
import time
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, upstream, log = sys.argv[1:4]
cut_done = set()
lock = threading.Lock()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


def fetch(path, headers):
    req = urllib.request.Request("http://" + upstream + path, headers=headers)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, headers, body, length=None):
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() in ("content-type", "docker-content-digest", "content-range", "location"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        parts = self.path.split("/")
        if self.path in ("/v2/", "/v2"):
            return self.send(200, {"Content-Type": "application/json"}, b"{}")
        if len(parts) < 5 or parts[1] != "v2":
            return self.send(404, {}, b"")
        repo, kind, ref = parts[2], parts[3], "/".join(parts[4:])
        up = "/v2/busybox/%s/%s" % (kind, ref)
        fwd = {k: v for k, v in self.headers.items() if k.lower() in ("accept", "range")}

        if kind == "manifests":
            if repo == "hugemanifest":
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                self.send_header("Content-Length", str(2 << 30))
                self.end_headers()
                try:
                    for _ in range(2 << 14):
                        self.wfile.write(b" " * 65536)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True
                return
            if repo == "redirectloop":
                self.send_response(302)
                self.send_header("Location", self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status, headers, body = fetch(up, fwd)
            if repo == "wrongmanifest" and ref.startswith("sha256:"):
                body += b" "
            return self.send(status, headers, body)

        if kind != "blobs":
            return self.send(404, {}, b"")
        with open(log, "a") as f:
            f.write("%s %s %s\n" % (repo, ref, self.headers.get("Range", "-")))
        status, headers, body = fetch(up, fwd)
        is_layer = len(body) > 4096  # configs are small; layers are not
        if status not in (200, 206) or not is_layer:
            return self.send(status, headers, body)
        if repo == "wrongdigest":
            body = body[:100] + bytes([body[100] ^ 1]) + body[101:]
        elif repo == "truncated":
            body = body[:-100]
        elif repo == "oversize":
            body = body + b"x" * 100
        elif repo == "slow":
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                time.sleep(60)
                self.wfile.write(body[len(body) // 2:])
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        elif repo == "cut":
            with lock:
                first = ref not in cut_done
                cut_done.add(ref)
            if first:
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
        return self.send(status, headers, body)


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
