"""autobahn-python (Debian python3-autobahn 22.7) client for the router interop tests.

Usage: /usr/bin/python3 client.py <url> <serializer> <scenario> <auth-json>
Prints one JSON object with what it observed; the Node test asserts on it.
"""
import asyncio
import json
import sys

import txaio

txaio.use_asyncio()

from autobahn.asyncio.component import Component  # noqa: E402
from autobahn.wamp.exception import ApplicationError  # noqa: E402
from autobahn.wamp.types import CallOptions, PublishOptions, RegisterOptions, SubscribeOptions  # noqa: E402

url, serializer, scenario, auth = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
out = {"joined": False}


def int_info(v):
    return {"value": v, "is_int": isinstance(v, int) and not isinstance(v, bool)}


async def err_uri(coro):
    try:
        await coro
        return "allowed"
    except ApplicationError as e:
        return e.error


async def interop(session, details):
    out["session_is_int"] = isinstance(details.session, int)
    r = await session.call("node.echo", 1, 2 ** 40 + 1, 2 ** 53, big=2 ** 33, f=0.5, s="h\u00e9")
    out["echo"] = {"args": list(r.results), "kwargs": r.kwresults, "types": [isinstance(x, int) for x in r.results]}
    try:
        await session.call("node.fail")
    except ApplicationError as e:
        out["error"] = {"uri": e.error, "args": list(e.args), "kwargs": e.kwargs}
    progress = []
    final = await session.call("node.progress", options=CallOptions(on_progress=lambda *a, **kw: progress.append([list(a), kw])))
    out["progress"] = {"updates": progress, "final": final}
    withheld = []
    final = await session.call("node.progress_uninterruptible", options=CallOptions(on_progress=lambda *a, **kw: withheld.append([list(a), kw])))
    out["progress_withheld"] = {"updates": withheld, "final": final}
    events = []
    got_all = asyncio.get_event_loop().create_future()

    def on_event(*args, **kwargs):
        events.append({"args": list(args), "kwargs": kwargs})
        if len(events) == 3 and not got_all.done():
            got_all.set_result(True)

    sub = await session.subscribe(on_event, "node.ticks", options=SubscribeOptions(match="prefix"))
    await session.call("node.tick")
    await asyncio.wait_for(got_all, 5)
    out["events"] = events
    await sub.unsubscribe()

    def py_echo(*args, **kwargs):
        return {"py": True, "args": list(args), "kwargs": kwargs, "int": 2 ** 52 + 3}

    await session.register(py_echo, "py.echo." + serializer)
    out["node_called_py"] = await session.call("node.call_py", "py.echo." + serializer)
    out["disclosed"] = await session.call("node.whoami")
    pub = await session.publish("py.topic", 1, options=PublishOptions(acknowledge=True))
    out["publication_is_int"] = isinstance(pub.id, int)

    def progressive(*args, details=None):
        if details and details.progress:
            details.progress(1)
            details.progress(2)
        return "py-done"

    await session.register(progressive, "py.progress." + serializer, options=RegisterOptions(details_arg="details"))
    out["node_progress"] = await session.call("node.call_py_progress", "py.progress." + serializer)


async def denied(session, details):
    out["authextra"] = details.authextra
    out["register"] = await err_uri(session.register(lambda: 1, "fediversity.x"))
    out["publish"] = await err_uri(session.publish("fediversity.events.acme.x", options=PublishOptions(acknowledge=True)))
    out["subscribe_other"] = await err_uri(session.subscribe(lambda *a: None, "fediversity.events.beta", options=SubscribeOptions(match="prefix")))
    out["subscribe_own"] = await err_uri(session.subscribe(lambda *a: None, "fediversity.events.acme", options=SubscribeOptions(match="prefix")))
    out["call_outside"] = await err_uri(session.call("other.thing"))


async def err_info(coro):
    try:
        return {"result": await coro}
    except ApplicationError as e:
        return {"error": e.error, "args": list(e.args)}


async def payload(session, details):
    deep = "leaf"
    for _ in range(100):
        deep = {"k": deep}
    out["deep"] = await err_info(session.call("node.echo", deep=deep))
    out["proto"] = await err_info(session.call("node.echo", **{"__proto__": {"admin": True}}))
    out["after"] = await err_info(session.call("node.echo", 1))
    # autobahn-python 22.7 cannot ask for disclose_caller itself (RegisterOptions has no such
    # option); Node registered plain.who with it, and reports whom it saw.
    out["disclosed_by_registration"] = await session.call("plain.who")
    out["session"] = details.session


async def noop(session, details):
    pass


def main():
    comp = Component(
        transports=[{"type": "websocket", "url": url, "serializers": [serializer], "max_retries": 0}],
        realm="fediversity",
        authentication=auth,
    )

    @comp.on_join
    async def joined(session, details):
        out["joined"] = True
        out["details"] = {"authid": details.authid, "authrole": details.authrole, "authmethod": details.authmethod, "authextra": details.authextra}
        try:
            await {"interop": interop, "denied": denied, "payload": payload, "join": noop}[scenario](session, details)
        except Exception as e:  # report, don't hang
            out["exception"] = repr(e)
        await session.leave()

    @comp.on_leave
    def left(session, details):
        out.setdefault("leave_reason", details.reason)
        out.setdefault("leave_message", details.message)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(asyncio.wait_for(comp.start(loop=loop), 30))
    except Exception as e:
        out.setdefault("start_error", repr(e))
    print(json.dumps(out))


main()
