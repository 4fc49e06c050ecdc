"""A small HTTP(S) endpoint on loopback for govwatch's webhook tests (standard library only).

WebhookServer answers each request with the next scripted reply (status, headers, body; the
last one repeats) and records what it received: method, path, headers, body. With hold (a
threading.Event), it records a request and keeps its reply until the event is set: a client
killed meanwhile never hears that its request arrived.

Run by hand:  /usr/bin/python3 webhook_server.py --port 8080 --status 200
"""
import argparse
import http.server
import json
import ssl
import threading


class Request:
    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))


class LoopbackHandler(http.server.BaseHTTPRequestHandler):
    """The request handler the loopback servers build on: HTTP/1.1 (curl keeps the connection),
    the body read whole, nothing logged on the test's stderr."""

    protocol_version = "HTTP/1.1"

    def read_body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def log_message(self, fmt, *args):
        pass


class LoopbackServer:
    """An HTTP(S) server on 127.0.0.1, on a thread of its own: the base of the loopback servers
    of the sink tests (this one, ntfy_server, telegram_server). A subclass sets up its state,
    then calls __init__ with its handler class; use it as a context manager. certs: {"cert":,
    "key":} for HTTPS (see smtp_server.make_certificates)."""

    def __init__(self, handler, certs=None):
        self.requests = []
        self.lock = threading.Lock()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.scheme = "http"
        if certs:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(certs["cert"], certs["key"])
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def listen_on(self, port):
        """Plain HTTP on this port instead, for running a server by hand."""
        self.httpd.server_close()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port),
                                                    self.httpd.RequestHandlerClass)
        self.httpd.daemon_threads = True
        self.scheme = "http"
        self.port = port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path=""):
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.port, path)

    def received(self):
        with self.lock:
            return list(self.requests)

    def release(self):
        """Lets answers held back go (a server that holds them says how): before shutting down,
        so that no handler thread waits on."""

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


class WebhookServer(LoopbackServer):
    """replies: a list of (status, {header: value}, body bytes); use as a context manager.
    certs: {"cert":, "key":} for HTTPS (see smtp_server.make_certificates)."""

    def __init__(self, replies=((200, {}, b"ok"),), certs=None, hold=None):
        self.replies = list(replies)
        self.hold = hold
        server = self

        class Handler(LoopbackHandler):
            def do_POST(self):
                body = self.read_body()
                with server.lock:
                    server.requests.append(Request(self.command, self.path, dict(self.headers),
                                                   body))
                    i = min(len(server.requests), len(server.replies)) - 1
                    status, headers, reply = server.replies[i]
                if server.hold is not None:
                    server.hold.wait(60)
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(reply)))
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.end_headers()
                    self.wfile.write(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # a held reply to a daemon the test has killed: nobody to tell

            do_PUT = do_POST
            do_PATCH = do_POST
            do_GET = do_POST

        super().__init__(Handler, certs)

    def url(self, path="/hook"):
        return super().url(path)

    def release(self):
        if self.hold is not None:
            self.hold.set()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--status", type=int, default=200)
    args = ap.parse_args()
    srv = WebhookServer([(args.status, {}, b"")])
    srv.listen_on(args.port)
    print("listening on http://127.0.0.1:%d" % args.port, flush=True)
    try:
        srv.httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
