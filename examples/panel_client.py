#!/usr/bin/python3
"""What the Fediversity panel does, as a short autobahn-python client.

Submits one sync per application, follows its tenant's events with a prefix subscription, replays
`deployment.events(since)` after every (re)join and drops duplicates by `seq`, then reads each
sync's output with `build.logs`. The service publishes each deployment's events in `seq` order, so
an event that skips ahead means some were missed (a dropped connection): they are read from the
store. Prints JSON lines on stdout:

  {"type": "joined", "authid", "authrole", "tenant"}
  {"type": "submitted", "deployment", "sync", "state", "superseded"}
  {"type": "event", ...the event...}            (each seq once, in order, per deployment)
  {"type": "dropped_connection"}                (with --drop-after)
  {"type": "logs", "deployment", "sync", "lines", "complete", "first", "last"}
  {"type": "result", "deployment", "sync", "state", "error", "events", "gaps"}
  {"type": "done", "ok": bool} or {"type": "timeout"} or {"type": "error", "uri", "message"}

Exit code 0 when every sync succeeded, 1 when one did not, 2 on timeout, 3 on an API error.

Runs with Debian's python3-autobahn 22.7 (Component.start(), since run() is broken there):

  /usr/bin/python3 examples/panel_client.py --url ws://127.0.0.1:8080/ws \
      --authid panel --ticket s3cret --tenant acme \
      --deploy mastodon=mastodon-config.json --deploy pixelfed --timeout 300
"""

import argparse
import asyncio
import json
import sys
import uuid

from autobahn.asyncio.component import Component
from autobahn.exception import Disconnected
from autobahn.wamp.exception import ApplicationError, TransportLost
from autobahn.wamp.types import SubscribeOptions

TERMINAL = {"succeeded", "failed", "cancelled", "superseded", "timed_out"}


def emit(obj):
    print(json.dumps(obj, sort_keys=True), flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", default="ws://127.0.0.1:8080/ws")
    p.add_argument("--realm", default="fediversity")
    p.add_argument("--authid", required=True)
    p.add_argument("--ticket", required=True)
    p.add_argument("--tenant", help="act for this tenant (role panel); a tenant session may omit it")
    p.add_argument("--deploy", action="append", default=[], metavar="NAME[=CONFIG.json]",
                   help="deployment to submit, with an optional JSON configuration file (default {})")
    p.add_argument("--type", dest="deployment_type", help="deployment_type for every submit")
    p.add_argument("--mode", choices=["replace", "enqueue"], default="replace")
    p.add_argument("--serializer", choices=["json", "msgpack", "cbor"], default="json")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds until giving up")
    p.add_argument("--drop-after", type=int, default=0, metavar="N",
                   help="drop the connection once after N events, to exercise reconnect and replay")
    p.add_argument("--log-limit", type=int, default=1000)
    return p.parse_args(argv)


class Panel:
    def __init__(self, args):
        self.args = args
        self.tenant = args.tenant
        self.deployments = []
        self.configs = {}
        for spec in args.deploy:
            name, _, path = spec.partition("=")
            self.deployments.append(name)
            if path:
                with open(path) as f:
                    self.configs[name] = json.load(f)
            else:
                self.configs[name] = {}
        self.last_seq = {d: 0 for d in self.deployments}  # highest seq seen, per deployment
        self.missed = {d: 0 for d in self.deployments}  # highest seq that arrived after a gap
        self.replaying = {}  # deployment -> the session reading its stored events
        self.replay_again = set()  # deployments whose replay must read once more
        self.syncs = {}  # deployment -> sync id we submitted
        # Submits are idempotent per deployment: a submit repeated after a lost connection (its
        # answer may have been lost) returns the first call's sync instead of superseding it.
        run = uuid.uuid4().hex
        self.request_ids = {d: "panel-{}-{}".format(run, d) for d in self.deployments}
        self.final = {}  # deployment -> (state, error)
        self.event_count = {d: 0 for d in self.deployments}
        self.gaps = {d: 0 for d in self.deployments}
        self.submitted = False
        self.baselined = False
        self.dropped = False
        self.seen_total = 0
        self.all_done = asyncio.get_event_loop().create_future()
        self.session = None

    def kw(self, **kwargs):
        if self.tenant is not None:
            kwargs["tenant"] = self.tenant
        return {k: v for k, v in kwargs.items() if v is not None}

    # -- events -------------------------------------------------------------------------------

    def on_event(self, event, details=None):
        if not isinstance(event, dict) or event.get("tenant") != self.tenant:
            return  # a plain string-prefix broker may deliver another tenant's topics; ignore them
        dep = event.get("deployment")
        if dep not in self.last_seq:
            return
        seq = event.get("seq")
        if not isinstance(seq, int) or seq <= self.last_seq[dep]:
            return  # duplicate (replay and live overlap)
        if seq == self.last_seq[dep] + 1:
            self.accept(dep, event)
            return
        # A gap: the events before this one were missed (published while we were away); the
        # store has them, and this one too.
        self.missed[dep] = max(self.missed[dep], seq)
        self.gaps[dep] += 1
        asyncio.ensure_future(self.replay(dep))

    def accept(self, dep, event):
        """The next event of `dep`, live or replayed (the store's order is authoritative)."""
        seq = event.get("seq")
        if not isinstance(seq, int) or seq <= self.last_seq[dep]:
            return
        self.last_seq[dep] = seq
        self.apply(dep, event)

    def apply(self, dep, event):
        self.event_count[dep] += 1
        self.seen_total += 1
        emit(dict(event, type="event", event_type=event.get("type")))
        sync = self.syncs.get(dep)
        if sync is not None and event.get("sync") == sync and dep not in self.final:
            data = event.get("data") or {}
            if event.get("type") == "sync.finished":
                self.final[dep] = (data.get("state"), data.get("error"))
            elif event.get("type") == "sync.superseded":
                self.final[dep] = ("superseded", None)
        self.check_done()
        if self.args.drop_after and not self.dropped and self.seen_total >= self.args.drop_after:
            self.dropped = True
            emit({"type": "dropped_connection"})
            transport = getattr(self.session, "_transport", None)
            if transport is not None:
                transport.close()  # abrupt: the Component reconnects, on_join replays

    def check_done(self):
        if self.submitted and all(d in self.final for d in self.deployments) and not self.all_done.done():
            self.all_done.set_result(True)

    async def replay(self, dep):
        """Reads the stored events after the last one seen, until none is missing."""
        session = self.session
        if session is None:
            return  # the next join replays
        if self.replaying.get(dep) is session:
            self.replay_again.add(dep)  # the replay under way reads once more
            return
        self.replaying[dep] = session
        try:
            while self.session is session:
                self.replay_again.discard(dep)
                try:
                    page = await session.call("fediversity.deployment.events",
                                              **self.kw(deployment=dep, since=self.last_seq[dep]))
                except (Disconnected, TransportLost):
                    return  # the next join replays
                for event in page["events"]:
                    self.accept(dep, event)
                if page["more"] and page["events"] or dep in self.replay_again:
                    continue
                if self.missed[dep] > self.last_seq[dep]:
                    # Stored before it was published, so the next read has it.
                    await asyncio.sleep(0.05)
                    continue
                break
        finally:
            if self.replaying.get(dep) is session:
                del self.replaying[dep]

    async def sync_state(self, dep):
        """After a reconnect the sync may have finished unseen; the view says so."""
        try:
            view = await self.session.call("fediversity.deployment.get", **self.kw(deployment=dep))
        except ApplicationError as e:
            if e.error == "fediversity.error.not_found":
                return 0
            raise
        return view["seq"]

    # -- session ------------------------------------------------------------------------------

    async def on_join(self, session, details):
        self.session = session
        extra = details.authextra or {}
        if self.tenant is None:
            self.tenant = extra.get("tenant")
        emit({"type": "joined", "authid": details.authid, "authrole": details.authrole, "tenant": self.tenant})
        try:
            # Trailing dot: the prefix ends at the tenant segment, so only this tenant matches.
            await session.subscribe(self.on_event, "fediversity.events.{}.".format(self.tenant),
                                    options=SubscribeOptions(match="prefix", details_arg="details"))
            if not self.submitted:
                if not self.baselined:
                    for dep in self.deployments:
                        # Everything up to the current seq is history: start from there.
                        self.last_seq[dep] = await self.sync_state(dep)
                    self.baselined = True
                for dep in self.deployments:
                    if dep in self.syncs:
                        continue  # submitted before the connection dropped
                    result = await session.call(
                        "fediversity.deployment.submit",
                        **self.kw(deployment=dep, configuration=self.configs[dep],
                                  deployment_type=self.args.deployment_type, mode=self.args.mode,
                                  request_id=self.request_ids[dep]))
                    sync = result["sync"]
                    self.syncs[dep] = sync["sync"]
                    emit({"type": "submitted", "deployment": dep, "sync": sync["sync"],
                          "state": sync["state"], "superseded": result["superseded"]})
                self.submitted = True
            for dep in self.deployments:
                await self.replay(dep)
            self.check_done()
        except ApplicationError as e:
            self.fail(e)
        except (Disconnected, TransportLost):
            pass  # the connection dropped mid-join; the Component reconnects and the next join replays

    def on_leave(self, session, details):
        self.session = None

    def fail(self, e):
        emit({"type": "error", "uri": e.error, "message": e.args[0] if e.args else str(e),
              "kwargs": e.kwargs})
        if not self.all_done.done():
            self.all_done.set_exception(e)

    async def read_logs(self, dep):
        session = self.session
        sync = self.syncs[dep]
        since, lines, complete, first, last = 0, 0, False, None, None
        while True:
            page = await session.call("fediversity.build.logs",
                                      **self.kw(deployment=dep, sync=sync, since_line=since,
                                                limit=self.args.log_limit))
            for line in page["lines"]:
                if first is None:
                    first = line["text"]
                last = line["text"]
            lines += len(page["lines"])
            complete = page["complete"]
            if not page["lines"] or page["next_line"] <= since:
                break
            since = page["next_line"]
        emit({"type": "logs", "deployment": dep, "sync": sync, "lines": lines, "complete": complete,
              "first": first, "last": last})


async def main(args):
    panel = Panel(args)
    component = Component(
        transports=[{
            "type": "websocket",
            "url": args.url,
            "serializers": [args.serializer],
            "max_retries": 10,
            "initial_retry_delay": 0.2,
            "max_retry_delay": 2,
        }],
        realm=args.realm,
        authentication={"ticket": {"authid": args.authid, "ticket": args.ticket}},
    )
    component.on("join", panel.on_join)
    component.on("leave", panel.on_leave)
    done = component.start(asyncio.get_event_loop())

    code = 0
    try:
        await asyncio.wait_for(asyncio.shield(panel.all_done), timeout=args.timeout)
        # Logs, once a session is up again (the last event may have raced a reconnect).
        while panel.session is None:
            await asyncio.sleep(0.1)
        for dep in panel.deployments:
            await panel.read_logs(dep)
        ok = True
        for dep in panel.deployments:
            state, error = panel.final[dep]
            ok = ok and state == "succeeded"
            emit({"type": "result", "deployment": dep, "sync": panel.syncs[dep], "state": state,
                  "error": error, "events": panel.event_count[dep], "gaps": panel.gaps[dep]})
        emit({"type": "done", "ok": ok})
        code = 0 if ok else 1
    except asyncio.TimeoutError:
        emit({"type": "timeout", "finished": sorted(panel.final)})
        code = 2
    except ApplicationError as e:
        if not panel.all_done.done():
            panel.fail(e)
        code = 3
    finally:
        try:
            await component.stop()
        except Exception:
            pass
        try:
            await asyncio.wait_for(done, timeout=2)
        except Exception:
            pass
    return code


if __name__ == "__main__":
    arguments = parse_args(sys.argv[1:])
    if not arguments.deploy:
        print("at least one --deploy NAME[=CONFIG.json] is required", file=sys.stderr)
        sys.exit(2)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    sys.exit(loop.run_until_complete(main(arguments)))
