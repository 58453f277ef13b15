#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A webhook receiver for the end-to-end tests: HTTPS on a loopback port, each request appended to
a JSON-lines log (headers, body in base64, the status answered, the time it arrived). make bench
uses it too, for the time from a record's arrival to its webhook. It answers --fail-first N times
500 for each idempotency key before 200, so a test sees a delivery retried. Prints its port."""
import argparse, base64, http.server, json, ssl, sys, threading, time

parser = argparse.ArgumentParser()
parser.add_argument("--cert", required=True)
parser.add_argument("--key", required=True)
parser.add_argument("--log", required=True)
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--fail-first", type=int, default=0)
options = parser.parse_args()
seen = {}
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        received = time.time()
        key = self.headers.get("Idempotency-Key", "")
        with lock:
            seen[key] = seen.get(key, 0) + 1
            status = 500 if seen[key] <= options.fail_first else 200
            with open(options.log, "a") as log:
                log.write(json.dumps({"path": self.path, "headers": dict(self.headers.items()), "body": base64.b64encode(body).decode(),
                                      "status": status, "received": received}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *arguments):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", options.port), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(options.cert, options.key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
