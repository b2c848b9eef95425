#!/usr/bin/python3
"""The order system's end of SPEC §6 delivery events, for the tests: an HTTP
server on loopback that checks each POST's Standard Webhooks signature with
Python's own hmac (an implementation independent of flexpost's) and writes
one JSON line per request to LOG_FILE: webhook id, HTTP status answered,
whether the signature held, and the event.

usage: webhook_receiver.py PORT SECRET LOG_FILE [--fail-first]
--fail-first: the first POST of each webhook-id is answered 500, so that
every event has to be tried again (with the same id).
Prints "listening PORT" once it accepts connections.
"""
import base64, hashlib, hmac, json, signal, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, secret, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
fail_first = "--fail-first" in sys.argv[4:]
key = base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret)
seen = set()
log = open(log_path, "a", buffering=1)


def verified(headers, body):
    msg_id, stamp, signatures = headers.get("webhook-id"), headers.get("webhook-timestamp"), headers.get("webhook-signature")
    if not (msg_id and stamp and signatures) or abs(time.time() - int(stamp)) > 300:
        return False
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()).decode()
    return any(s.startswith("v1,") and hmac.compare_digest(s[3:], expected) for s in signatures.split(" "))


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        msg_id = self.headers.get("webhook-id")
        status = 500 if fail_first and msg_id not in seen else 204
        seen.add(msg_id)
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        log.write(json.dumps({"id": msg_id, "status": status, "verified": verified(self.headers, body),
                              "contentType": self.headers.get("content-type"), "event": event}) + "\n")
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


# The test process hands its signal mask down with SIGTERM blocked: unblock
# it, and stop on it.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
server.daemon_threads = True
print("listening %d" % port, flush=True)
server.serve_forever()
