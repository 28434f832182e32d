"""Does one user's WebSocket flood hurt another user's latency? (issue 12)

A victim socket measures the round trip of application pings ({"type":"ping"} → "pong") at a
steady 20/s while a flooder, in another room, sends typing frames as fast as its socket takes
them (fanned out to 5 listeners). Three runs on fresh servers: no flood, a flood under the
default per-socket budget, and a flood with the budget off (WS_FRAMES_PER_SECOND=0,
WS_BYTES_PER_SECOND=0). Prints p50/p99/max of the victim's round trips and how many flood frames
the server accepted. Run by bench/ws_flood.sh (release build, private PostgreSQL)."""
import asyncio
import json
import os
import statistics
import sys
import time

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from blackbox.harness import Server  # noqa: E402

SECONDS = float(os.environ.get("FLOOD_SECONDS", "10"))
PINGS_PER_SECOND = 20  # within the victim's own budget (50 frames/s)
LISTENERS = 5


def setup(server):
    admin = server.admin_token()
    users = {}
    for name in ["victim", "flooder"] + [f"l{i}" for i in range(LISTENERS)]:
        server.create_user(admin, f"{name}@example.com")
        users[name] = server.login(f"{name}@example.com", "password-1")
    quiet = server.post("/api/v1/rooms", {"name": "quiet"}, users["victim"]).json["id"]
    me = {n: server.get("/api/v1/users/me", t).json["id"] for n, t in users.items()}
    loud = server.post("/api/v1/rooms", {"name": "loud", "member_ids": [
        me[f"l{i}"] for i in range(LISTENERS)]}, users["flooder"]).json["id"]
    return users, quiet, loud


async def drain(ws, counter):
    try:
        async for _ in ws:
            counter[0] += 1
    except websockets.exceptions.ConnectionClosed:
        pass


async def scenario(port, users, quiet, loud, flood):
    base = f"ws://127.0.0.1:{port}/ws?room_id="
    victim = await websockets.connect(f"{base}{quiet}&access_token={users['victim']}")
    listeners = [await websockets.connect(f"{base}{loud}&access_token={users[f'l{i}']}")
                 for i in range(LISTENERS)]
    received = [0]
    drains = [asyncio.create_task(drain(w, received)) for w in listeners]
    stop = asyncio.Event()
    sent = [0]
    cut = [False]

    async def flooder():
        ws = await websockets.connect(f"{base}{loud}&access_token={users['flooder']}")
        frame = json.dumps({"type": "typing", "payload": {"text": "x" * 200}})
        reader = asyncio.create_task(drain(ws, [0]))
        try:
            while not stop.is_set():
                await ws.send(frame)  # waits when the server stops reading: TCP pushes back
                sent[0] += 1
                if sent[0] % 64 == 0:
                    await asyncio.sleep(0)
        except websockets.exceptions.ConnectionClosed:
            cut[0] = True  # e.g. cut as a slow consumer of its own echoes
        reader.cancel()
        await ws.close()

    flood_task = asyncio.create_task(flooder()) if flood else None
    flood_started = asyncio.get_running_loop().time()
    await asyncio.sleep(1.0)  # the flood is running
    rtts = []
    loop = asyncio.get_running_loop()
    end = loop.time() + SECONDS
    while loop.time() < end:
        t0 = time.perf_counter()
        await victim.send('{"type":"ping"}')
        while json.loads(await victim.recv()).get("type") != "pong":
            pass
        rtts.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(max(0, 1 / PINGS_PER_SECOND - (time.perf_counter() - t0)))
    stop.set()
    flood_seconds = loop.time() - flood_started if flood else 0
    if flood_task:  # its send may be blocked by TCP back-pressure: cancel, do not wait
        flood_task.cancel()
        try:
            await flood_task
        except asyncio.CancelledError:
            pass
    for t in drains:
        t.cancel()
    for w in listeners + [victim]:
        await w.close()
    return rtts, sent[0], received[0] / LISTENERS, flood_seconds, cut[0]


def run(name, env, flood):
    server = Server(env=dict(env, MESSAGE_RATE_PER_USER="1000000")).start()
    try:
        users, quiet, loud = setup(server)
        rtts, sent, handled, seconds, cut = asyncio.run(
            scenario(server.port, users, quiet, loud, flood))
    finally:
        server.drop()
    rtts.sort()
    p = lambda q: rtts[min(len(rtts) - 1, int(q * len(rtts)))]  # noqa: E731
    print(f"{name:28} victim pings={len(rtts):5} p50={statistics.median(rtts):6.2f} ms "
          f"p99={p(0.99):7.2f} ms max={rtts[-1]:7.2f} ms | flood frames written by the "
          f"client={sent:7}, relayed by the server={handled:8.0f} "
          f"({handled / seconds if seconds else 0:7.0f}/s){' flooder cut' if cut else ''}",
          flush=True)


if __name__ == "__main__":
    run("no flood", {}, False)
    run("flood, default budget", {}, True)
    run("flood, budget off", {"WS_FRAMES_PER_SECOND": "0", "WS_BYTES_PER_SECOND": "0"}, True)
