#!/usr/bin/env python3
"""A tiny Docker registry token server for the tests (token auth spec).

GET /token?service=S&scope=repository:NAME:ACTIONS[&scope=...] with HTTP Basic
credentials USER:PASS returns {"token", "access_token", "expires_in", "issued_at"}:
a JWT (RS256, signed with `openssl dgst`, so only the standard library is needed)
carrying the requested access, with the signing certificate in the x5c header so
that the registry (auth.token.rootcertbundle = that certificate) accepts it.
Wrong or missing credentials get 401.  Every request is appended to LOG so tests
can count token fetches.

usage: token_server.py PORT_FILE KEY CERT ISSUER USER PASS LOG
"""
import base64
import json
import os
import subprocess
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, key, cert, issuer, user, password, log = sys.argv[1:8]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cert_der() -> str:
    out = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return base64.b64encode(out).decode()


X5C = cert_der()


def sign(payload: dict) -> str:
    header = {"alg": "RS256", "typ": "JWT", "x5c": [X5C]}
    signing_input = (b64(json.dumps(header).encode()) + "." +
                     b64(json.dumps(payload).encode())).encode()
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                         input=signing_input, check=True, capture_output=True).stdout
    return signing_input.decode() + "." + b64(sig)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        with open(log, "a") as f:
            f.write(self.path + "\n")
        auth = self.headers.get("Authorization", "")
        want = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        if url.path != "/token" or auth != want:
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"details":"bad credentials"}')
            return
        access = []
        for scope in q.get("scope", []):
            parts = scope.split(":")
            if len(parts) >= 3:
                access.append({"type": parts[0], "name": ":".join(parts[1:-1]),
                               "actions": parts[-1].split(",")})
        now = int(time.time())
        token = sign({"iss": issuer, "sub": user, "aud": q.get("service", [""])[0],
                      "exp": now + 300, "nbf": now - 10, "iat": now,
                      "jti": b64(os.urandom(12)), "access": access})
        body = json.dumps({"token": token, "access_token": token, "expires_in": 300,
                           "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
