#!/usr/bin/env python3
"""Chat fan-out driver: U users, R rooms of M members, one multi-room WebSocket per user;
S closed-loop senders send over WebSocket (each waits for its ack) for D seconds. Reports
messages persisted/s, deliveries/s, send→ack and send→deliver latency (p50/p99/max), and
checks every member got every message exactly once, in seq order.

A small driver (Python, one process): past a few thousand frames/s it is the bottleneck, not
the server; the C++ load generator (tools/loadgen, a later issue) replaces it.

    bench/chat_fanout.py --url http://127.0.0.1:18080 --jwt-secret S --token ADMIN_TOKEN \
        --users 100 --rooms 1 --members 100 --senders 10 --seconds 20
"""
import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import random
import time
import urllib.request

import websockets


def jwt(secret, user_id, tenant="default", role="user"):
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    now = int(time.time())
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"user_id": str(user_id), "tenant_id": tenant, "role": role,
                           "iat": now, "exp": now + 3600}).encode())
    sig = b64(hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


def call(url, method, path, body, token):
    req = urllib.request.Request(url + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json",
                                          "Authorization": "Bearer " + token})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--jwt-secret", required=True)
    ap.add_argument("--token", required=True, help="an admin token of tenant default")
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--rooms", type=int, default=1)
    ap.add_argument("--members", type=int, default=100)
    ap.add_argument("--senders", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=20)
    a = ap.parse_args()

    org = call(a.url, "GET", "/api/v1/org-units", None, a.token)[0]["id"]
    run = random.randrange(1 << 30)
    users = [call(a.url, "POST", "/api/v1/users",
                  {"org_id": org, "email": f"b{run}-{i}@bench.example", "password": "password-1",
                   "name": f"bench{i}"}, a.token)["id"] for i in range(a.users)]
    tokens = {u: jwt(a.jwt_secret, u) for u in users}
    rooms = {}
    for r in range(a.rooms):
        members = random.sample(users, a.members) if a.members < a.users else list(users)
        rid = call(a.url, "POST", "/api/v1/rooms", {"name": f"bench {r}",
                                                    "member_ids": members[1:]},
                   tokens[members[0]])["id"]
        rooms[rid] = members
    ws_url = a.url.replace("http://", "ws://")

    sockets = {}
    for u in users:
        sockets[u] = await websockets.connect(f"{ws_url}/ws?access_token={tokens[u]}",
                                              max_queue=None, max_size=2 ** 22)
    received = {u: {} for u in users}  # user → room → [seq]
    deliver_ms, ack_ms = [], []
    sent_at = {}
    acks = {}
    stop = asyncio.Event()

    async def reader(u, ws):
        async for raw in ws:
            now = time.perf_counter()
            f = json.loads(raw)
            if f.get("type") == "message":
                m = f["payload"]
                received[u].setdefault(m["room_id"], []).append(m["seq"])
                t = sent_at.get(m["client_msg_id"]) if m.get("client_msg_id") else None
                if t is not None:
                    deliver_ms.append((now - t) * 1000)
            elif f.get("type") == "ack":
                fut = acks.pop(f["client_msg_id"], None)
                if fut:
                    fut.set_result(now)

    readers = [asyncio.create_task(reader(u, ws)) for u, ws in sockets.items()]
    room_ids = list(rooms)
    persisted = 0

    async def sender(k):
        nonlocal persisted
        n = 0
        while not stop.is_set():
            rid = random.choice(room_ids)
            u = random.choice(rooms[rid])
            cid = f"{k}-{n}"
            n += 1
            fut = asyncio.get_running_loop().create_future()
            acks[cid] = fut
            sent_at[cid] = time.perf_counter()
            await sockets[u].send(json.dumps({"type": "message", "room_id": rid,
                                              "payload": {"body": "x" * 64, "client_msg_id": cid}}))
            t = await asyncio.wait_for(fut, 30)
            ack_ms.append((t - sent_at[cid]) * 1000)
            persisted += 1

    started = time.perf_counter()
    tasks = [asyncio.create_task(sender(k)) for k in range(a.senders)]
    await asyncio.sleep(a.seconds)
    stop.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(2)  # let the last deliveries land
    for ws in sockets.values():
        await ws.close()
    for t in readers:
        t.cancel()

    # Oracle: each member of each room saw 1..last exactly once, in order.
    violations = 0
    for rid, members in rooms.items():
        expected = None
        for u in members:
            seqs = received[u].get(rid, [])
            if seqs != list(range(1, len(seqs) + 1)):
                violations += 1
                if violations == 1:
                    bad = next(i for i, q in enumerate(seqs) if q != i + 1)
                    print(f"first violation: room {rid} user {u} at index {bad}: "
                          f"{seqs[max(0, bad - 3):bad + 4]}")
            expected = len(seqs) if expected is None else expected
            if len(seqs) != expected:
                violations += 1
    deliveries = len(deliver_ms)
    print(json.dumps({
        "users": a.users, "rooms": a.rooms, "members": a.members, "senders": a.senders,
        "seconds": round(elapsed, 1), "messages": persisted,
        "messages_per_s": round(persisted / elapsed, 1),
        "deliveries": deliveries, "deliveries_per_s": round(deliveries / elapsed, 1),
        "ack_ms": {"p50": round(pct(ack_ms, .5), 2), "p99": round(pct(ack_ms, .99), 2),
                   "max": round(max(ack_ms), 2)},
        "deliver_ms": {"p50": round(pct(deliver_ms, .5), 2), "p99": round(pct(deliver_ms, .99), 2),
                       "max": round(max(deliver_ms), 2)},
        "oracle_violations": violations}, indent=1))
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
