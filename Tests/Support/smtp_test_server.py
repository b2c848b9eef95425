#!/usr/bin/python3
"""A real SMTP server for flexpost's tests (aiosmtpd), on loopback.

Options: STARTTLS with a throwaway self-signed certificate, AUTH PLAIN/LOGIN,
and faults injected by tokens in the recipient's local part:
  rcpt451 / rcpt451once   451 at RCPT (always / first time per address)
  rcpt550                 550 at RCPT
  data451once             451 after DATA the first time per address
  data554                 554 after DATA
  droprcpt                connection closed at RCPT
  dropdata                message stored, then the connection closed before the reply
  slowdata                reply to DATA only after --slow seconds
While a file DIR/refuse exists, every recipient is refused with 554 (a relay
that refuses everything: an incident).

Every accepted message is written to DIR as N.eml (the bytes as received)
and N.json: what Python's email package (policy.default) parsed from it,
which is the independent check of flexpost's MIME output.
When listening, it writes DIR/ready holding the port. Stops on SIGTERM.
"""
import argparse, asyncio, warnings, json, os, signal, socket, ssl, subprocess, threading, time
from email import policy
from email.parser import BytesParser
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def describe(raw):
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    parts = []
    defects = [str(d) for d in msg.defects]
    if msg.is_multipart():
        for part in msg.iter_parts():
            defects += [str(d) for d in part.defects]
            parts.append({
                "type": part.get_content_type(),
                "charset": part.get_content_charset(),
                "transferEncoding": part.get("Content-Transfer-Encoding"),
                "content": part.get_content(),
            })
    lines = raw.split(b"\r\n")
    return {
        "subject": str(msg["subject"] or ""),
        "from": str(msg["from"] or ""),
        "to": str(msg["to"] or ""),
        "messageId": str(msg["message-id"] or ""),
        "date": str(msg["date"] or ""),
        "dateParsed": msg["date"].datetime.isoformat() if msg["date"] is not None and msg["date"].datetime else None,
        "autoSubmitted": str(msg["auto-submitted"] or ""),
        "mimeVersion": str(msg["mime-version"] or ""),
        "contentType": msg.get_content_type(),
        "parts": parts,
        "defects": defects,
        "maxLineLength": max(len(l) for l in lines),
        "bareLF": b"\n" in raw.replace(b"\r\n", b""),
        "eightBit": any(b >= 0x80 for b in raw),
    }


class Handler:
    def __init__(self, directory, slow, delay):
        self.directory = directory
        self.slow = slow
        self.delay = delay
        self.count = 0
        self.seen = set()
        self.lock = threading.Lock()

    def once(self, token, address):
        key = token + ":" + address
        with self.lock:
            if key in self.seen:
                return False
            self.seen.add(key)
            return True

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self.lock:
            self.ehlo = getattr(self, "ehlo", 0) + 1
            with open(os.path.join(self.directory, "ehlo_count"), "w") as f:
                f.write(str(self.ehlo))
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if os.path.exists(os.path.join(self.directory, "refuse")):
            return "554 5.7.1 relay access denied"
        if "droprcpt" in local:
            server.transport.close()
            return "421 closing"
        if "rcpt451once" in local and self.once("rcpt451once", address):
            return "451 4.3.0 try again later"
        if "rcpt451" in local and "rcpt451once" not in local:
            return "451 4.3.0 try again later"
        if "rcpt550" in local:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        rcpt = ",".join(envelope.rcpt_tos)
        if self.delay:
            await asyncio.sleep(self.delay)
        if "slowdata" in rcpt:
            await asyncio.sleep(self.slow)
        if "data554" in rcpt:
            return "554 5.6.0 message refused"
        if "data451once" in rcpt and self.once("data451once", rcpt):
            return "451 4.3.0 try again later"
        with self.lock:
            self.count += 1
            n = self.count
        raw = envelope.original_content
        info = describe(raw)
        info["mailFrom"] = envelope.mail_from
        info["rcptTos"] = envelope.rcpt_tos
        info["tls"] = session.ssl is not None
        info["authenticated"] = bool(session.authenticated)
        base = os.path.join(self.directory, "%06d" % n)
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        with open(base + ".json.tmp", "w") as f:
            json.dump(info, f)
        os.rename(base + ".json.tmp", base + ".json")
        if "dropdata" in rcpt:
            server.transport.close()
            return "421 closing"
        return "250 2.0.0 Ok: queued as %06d" % n


def main():
    warnings.simplefilter("ignore", DeprecationWarning)
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls", action="store_true", help="offer STARTTLS")
    parser.add_argument("--require-tls", action="store_true")
    parser.add_argument("--auth", help="user:password; AUTH required")
    parser.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte (smtps)")
    parser.add_argument("--old-tls", action="store_true", help="offer only TLS 1.0/1.1 (a relay flexpost must refuse)")
    parser.add_argument("--slow", type=float, default=5.0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before every DATA reply")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    port = args.port or free_port()
    server_ssl = None
    kwargs = {"decode_data": False, "enable_SMTPUTF8": False, "data_size_limit": 10 * 1024 * 1024}
    if args.tls or args.implicit_tls:
        cert = os.path.join(args.dir, "cert.pem")
        key = os.path.join(args.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        if args.old_tls:
            context.set_ciphers("DEFAULT@SECLEVEL=0")
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
        if args.implicit_tls:
            server_ssl = context
        else:
            kwargs["tls_context"] = context
            kwargs["require_starttls"] = args.require_tls
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
                and auth_data.password.decode() == password
            return AuthResult(success=ok, handled=False)
        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = args.tls
    controller = Controller(Handler(args.dir, args.slow, args.delay), hostname="127.0.0.1", port=port,
                            ssl_context=server_ssl, **kwargs)
    controller.start()
    with open(os.path.join(args.dir, "ready.tmp"), "w") as f:
        f.write(str(port))
    os.rename(os.path.join(args.dir, "ready.tmp"), os.path.join(args.dir, "ready"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    while not stop.wait(0.2):
        if os.getppid() == 1:  # the test process is gone
            break
    controller.stop()


if __name__ == "__main__":
    main()
