"""A real SMTP server on loopback for govwatch's e-mail tests (Debian's python3-aiosmtpd).

SmtpServer wraps aiosmtpd's Controller: plain, STARTTLS (optionally required), implicit TLS
(smtps), AUTH with one user, and scripted failure replies at RCPT or DATA. It records every
envelope it accepted and every MAIL FROM it saw, and whether the session was encrypted then.
make_certificates() builds a throwaway CA and a server certificate for 127.0.0.1 with openssl.

Run by hand:  /usr/bin/python3 smtp_server.py --port 8025   (prints received messages)
"""
import argparse
import email
import email.policy
import logging
import os
import socket
import ssl
import subprocess
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# aiosmtpd logs a traceback for every refused TLS handshake, which these tests cause on purpose
logging.getLogger("mail.log").setLevel(logging.CRITICAL)


def make_certificates(directory):
    """Writes ca.crt, ca.key, server.crt, server.key into directory; returns their paths."""
    def path(name):
        return os.path.join(directory, name)

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", path("ca.key"), "-out", path("ca.crt"), "-days", "2",
        "-subj", "/CN=govwatch test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *ec, "-keyout", path("server.key"), "-out", path("server.csr"),
        "-subj", "/CN=127.0.0.1")
    with open(path("server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "basicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", path("server.csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"),
        "-CAcreateserial", "-out", path("server.crt"), "-days", "2", "-extfile", path("server.ext"))
    return {"ca": path("ca.crt"), "cert": path("server.crt"), "key": path("server.key")}


def server_tls_context(certs):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(certs["cert"], certs["key"])
    return ctx


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Received:
    """One accepted message: the envelope and the parsed message (policy=default)."""

    def __init__(self, mail_from, rcpt_tos, data, encrypted, authenticated):
        self.mail_from = mail_from
        self.rcpt_tos = list(rcpt_tos)
        self.data = data
        self.encrypted = encrypted
        self.authenticated = authenticated
        self.message = email.message_from_bytes(data, policy=email.policy.default)

    def body(self):
        """The decoded text body with line ends as LF."""
        return self.message.get_content().replace("\r\n", "\n")


class Handler:
    def __init__(self, rcpt_reply=None, data_reply=None, implicit_tls=False):
        self.implicit_tls = implicit_tls
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.received = []
        self.mail_froms = []      # (address, encrypted) for every MAIL FROM, accepted or not
        self.lock = threading.Lock()

    def _encrypted(self, session):
        # aiosmtpd sets session.ssl after STARTTLS; an smtps listener is TLS from the start
        return self.implicit_tls or session.ssl is not None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            self.mail_froms.append((address, self._encrypted(session)))
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        with self.lock:
            self.received.append(Received(envelope.mail_from, envelope.rcpt_tos, data,
                                          self._encrypted(session),
                                          bool(getattr(session, "authenticated", False))))
        return "250 OK: queued"


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 in a thread; use as a context manager.

    tls: None (no TLS at all), "starttls" (offered), "starttls-required", or "smtps".
    auth: None, or (username, password): AUTH required, only this pair succeeds.
    """

    def __init__(self, certs=None, tls=None, auth=None, rcpt_reply=None, data_reply=None):
        self.handler = Handler(rcpt_reply=rcpt_reply, data_reply=data_reply,
                               implicit_tls=tls == "smtps")
        self.port = free_port()
        self.auth_attempts = []
        kwargs = {}
        if tls in ("starttls", "starttls-required"):
            kwargs["tls_context"] = server_tls_context(certs)
            kwargs["require_starttls"] = tls == "starttls-required"
        elif tls == "smtps":
            kwargs["ssl_context"] = server_tls_context(certs)
        if auth:
            user, password = auth

            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = (isinstance(auth_data, LoginPassword) and
                      auth_data.login == user.encode() and auth_data.password == password.encode())
                self.auth_attempts.append((mechanism, ok))
                # handled=False: aiosmtpd answers "535" itself (the default, handled=True,
                # answers nothing and the client hangs until its timeout)
                return AuthResult(success=ok, handled=False)

            kwargs["authenticator"] = authenticator
            kwargs["auth_required"] = True
        self.scheme = "smtps" if tls == "smtps" else "smtp"
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     server_hostname="govwatch-test", **kwargs)

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % (self.scheme, self.port)

    @property
    def received(self):
        with self.handler.lock:
            return list(self.handler.received)

    @property
    def mail_froms(self):
        with self.handler.lock:
            return list(self.handler.mail_froms)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=8025)
    args = ap.parse_args()
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=args.port)
    controller.start()
    print("listening on smtp://127.0.0.1:%d" % args.port, flush=True)
    seen = 0
    try:
        while True:
            time.sleep(0.5)
            for r in handler.received[seen:]:
                print("From %s to %s\n%s\n" % (r.mail_from, r.rcpt_tos,
                                               r.data.decode("utf-8", "replace")), flush=True)
            seen = len(handler.received)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
