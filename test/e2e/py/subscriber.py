"""autobahn-python (Debian python3-autobahn 22.7) subscriber for the event-order test.

Usage: /usr/bin/python3 subscriber.py <url> <serializer> <authid> <ticket> <subscriptions-json>
where subscriptions-json is a list of [topic, match]. Joins realm `fediversity` with ticket auth,
subscribes to each, prints {"type": "ready"} once all are in place, then one line per event received:
{"type": "event", "sub": <index>, "deployment": ..., "seq": ...}. Exits when stdin closes.
"""
import asyncio
import json
import sys

import txaio

txaio.use_asyncio()

from autobahn.asyncio.component import Component  # noqa: E402
from autobahn.wamp.types import SubscribeOptions  # noqa: E402

url, serializer, authid, ticket, subscriptions = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])


def emit(obj):
    print(json.dumps(obj), flush=True)


component = Component(
    transports=[{"type": "websocket", "url": url, "serializers": [serializer], "max_retries": 0}],
    realm="fediversity",
    authentication={"ticket": {"authid": authid, "ticket": ticket}},
)


async def on_join(session, details):
    for index, (topic, match) in enumerate(subscriptions):
        def on_event(event, index=index):
            emit({"type": "event", "sub": index, "deployment": event.get("deployment"), "seq": event.get("seq")})

        await session.subscribe(on_event, topic, options=SubscribeOptions(match=match))
    emit({"type": "ready"})


component.on("join", on_join)


async def main():
    loop = asyncio.get_event_loop()
    done = component.start(loop)
    await loop.run_in_executor(None, sys.stdin.read)  # until the test closes stdin
    try:
        await component.stop()
        await asyncio.wait_for(done, timeout=2)
    except Exception:
        pass


if __name__ == "__main__":
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(main())
