#!/usr/bin/env python3
"""A webhook receiver for fediversity-deploy, standard library only.

It does what the panel's Django view would do with a delivery (docs/webhooks.md):

1. read the raw body (bounded) and check ``X-Fediversity-Signature`` -- ``sha256=`` and the hex
   HMAC-SHA256 of exactly those bytes, keyed with the webhook's secret -- in constant time,
   *before* parsing anything;
2. parse the event (the same object as published on ``fediversity.events.<tenant>.<deployment>``);
3. de-duplicate by ``X-Fediversity-Delivery``: deliveries are at least once, and a retry carries
   the same id. The id is recorded and the event handled in one database transaction, so a crash
   between the two cannot lose the event or handle it twice;
4. answer 2xx quickly (the service waits at most 10 s), also for a duplicate, so it stops retrying.

Each handled event is printed as one JSON line on stdout. The secret comes from the environment
variable WEBHOOK_SECRET or from --secret-file, never from the command line (``ps`` shows that).

    WEBHOOK_SECRET=whsec_... python3 examples/webhook_receiver.py --listen 127.0.0.1:8000 --db hooks.sqlite

In Django the same steps are: ``request.body`` for the raw bytes, ``hmac.compare_digest``, a model
with a unique ``delivery`` field, and ``transaction.atomic()`` around the insert and the handling.
"""

import argparse
import hashlib
import hmac
import json
import os
import sqlite3
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1024 * 1024
SIGNATURE_PREFIX = "sha256="


def signature_ok(secret: bytes, body: bytes, header) -> bool:
    """Whether ``header`` is the signature of ``body`` under ``secret``."""
    if not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = SIGNATURE_PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), header.encode("ascii", "replace"))


class DeliveryLog:
    """Delivery ids seen so far, and what was done with each event, in one SQLite database."""

    def __init__(self, path: str):
        self.lock = threading.Lock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS deliveries ("
            " delivery TEXT PRIMARY KEY, tenant TEXT, deployment TEXT, seq INTEGER, type TEXT, event TEXT)"
        )

    def handle_once(self, delivery: str, event: dict, handle) -> bool:
        """Records ``delivery`` and calls ``handle(event)`` in one transaction; False if seen before."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                cur = self.db.execute(
                    "INSERT OR IGNORE INTO deliveries VALUES (?, ?, ?, ?, ?, ?)",
                    (delivery, event.get("tenant"), event.get("deployment"), event.get("seq"), event.get("type"), json.dumps(event)),
                )
                fresh = cur.rowcount == 1
                if fresh:
                    handle(event)
                self.db.execute("COMMIT")
                return fresh
            except BaseException:
                self.db.execute("ROLLBACK")
                raise


def make_handler(secret: bytes, log: DeliveryLog, path: str, out):
    out_lock = threading.Lock()

    def notify(delivery: str, event: dict) -> None:
        # The panel would mark the sync as done for its user here (a notification, an e-mail).
        with out_lock:
            out.write(json.dumps({"delivery": delivery, "event": event}) + "\n")
            out.flush()

    class Handler(BaseHTTPRequestHandler):
        server_version = "webhook-receiver"

        def answer(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path != path:
                return self.answer(404, {"error": "unknown path"})
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                return self.answer(411, {"error": "Content-Length required"})
            if length < 0 or length > MAX_BODY:
                return self.answer(413, {"error": "body too large"})
            body = self.rfile.read(length)
            if not signature_ok(secret, body, self.headers.get("X-Fediversity-Signature")):
                return self.answer(401, {"error": "bad signature"})
            delivery = self.headers.get("X-Fediversity-Delivery", "")
            if not delivery:
                return self.answer(400, {"error": "no delivery id"})
            try:
                event = json.loads(body)
            except ValueError:
                return self.answer(400, {"error": "body is not JSON"})
            if not isinstance(event, dict) or not isinstance(event.get("seq"), int) or not isinstance(event.get("type"), str):
                return self.answer(400, {"error": "not an event"})
            fresh = log.handle_once(delivery, event, lambda e: notify(delivery, e))
            return self.answer(200, {"ok": True, "duplicate": not fresh})

        def do_GET(self) -> None:  # noqa: N802
            self.answer(405, {"error": "POST only"})

        def log_message(self, fmt, *args) -> None:
            # Access log on stderr, without headers (the signature stays out of logs).
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    return Handler


def read_secret(args) -> bytes:
    if args.secret_file:
        with open(args.secret_file, "rb") as f:
            secret = f.read().strip()
    else:
        secret = os.environ.get("WEBHOOK_SECRET", "").encode()
    if not secret:
        sys.exit("webhook_receiver: set WEBHOOK_SECRET or pass --secret-file")
    return secret


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", default="127.0.0.1:8000", help="HOST:PORT (port 0 picks a free one)")
    parser.add_argument("--path", default="/hooks/fediversity", help="the path deliveries are POSTed to")
    parser.add_argument("--db", default=":memory:", help="SQLite file that remembers delivery ids (default: in memory)")
    parser.add_argument("--secret-file", help="file holding the webhook's signing secret")
    args = parser.parse_args()
    secret = read_secret(args)
    host, _, port = args.listen.rpartition(":")
    server = ThreadingHTTPServer((host.strip("[]"), int(port)), make_handler(secret, DeliveryLog(args.db), args.path, sys.stdout))
    server.daemon_threads = True
    bound_host, bound_port = server.server_address[:2]
    print(json.dumps({"listening": "http://%s:%d%s" % (bound_host, bound_port, args.path)}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
