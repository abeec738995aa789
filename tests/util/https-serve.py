#!/usr/bin/env python3
"""https-serve.py CERT KEY FILE - serve FILE as Prometheus text over https on 127.0.0.1.

Binds a free port, prints "port N", then answers every GET with FILE until killed. For the
https tests of the vLLM source (tests/vllm.rs); CERT/KEY are made by the test with openssl.
"""
import http.server
import ssl
import sys

cert, key, path = sys.argv[1:4]
with open(path, "rb") as f:
    body = f.read()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print("port", server.server_address[1], flush=True)
server.serve_forever()
