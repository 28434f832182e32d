"""The chat WebSocket against the binary, with real clients (python3-websockets): delivery to
every member in seq order, REST → WS, acks and duplicates, typing/read events, resume after a
disconnect, targeted signalling, multi-room sockets, bad frames, and a stalled reader that is
cut off while the others keep receiving."""
import asyncio
import http.client
import json
import re
import socket
import time
import unittest

import websockets

from .harness import ServerTestCase
from .wsclient import TIMEOUT, Client

class ChatSocketTest(ServerTestCase):
    server_env = {"MESSAGE_RATE_PER_USER": "100000", "WS_SEND_QUEUE_LIMIT": "16"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.admin = s.admin_token()
        cls.ids, cls.tokens = {}, {}
        for name in ("alice", "bob", "carol", "dave"):
            cls.ids[name] = s.create_user(cls.admin, f"{name}@example.com")
            cls.tokens[name] = s.login(f"{name}@example.com", "password-1")

    def room(self, members=("bob", "carol"), creator="alice"):
        r = self.server.post("/api/v1/rooms", {"name": "r", "member_ids": [
            self.ids[m] for m in members]}, self.tokens[creator])
        return r.json["id"]

    def url(self, who, room=None, query=None):
        q = f"access_token={self.tokens[who]}" if who else ""
        if room is not None:
            q += f"&room_id={room}"
        if query:
            q += "&" + query
        return f"ws://127.0.0.1:{self.server.port}/ws?{q}"

    def connect(self, who, room=None, **kw):
        return websockets.connect(self.url(who, room), max_size=2 ** 22, **kw)

    def run_async(self, coro):
        return asyncio.run(asyncio.wait_for(coro, 60))

    def handshake_status(self, url, headers=None):
        async def attempt():
            try:
                async with websockets.connect(url, extra_headers=headers or {}):
                    return 101
            except websockets.exceptions.InvalidStatusCode as e:
                return e.status_code
        return self.run_async(attempt())

    def test_handshake_is_checked(self):
        room = self.room()
        self.assertEqual(self.handshake_status(self.url(None, room)), 401)
        self.assertEqual(self.handshake_status(self.url(None, room, "access_token=junk")), 401)
        self.assertEqual(self.handshake_status(self.url("dave", room)), 403)  # not a member
        self.assertEqual(self.handshake_status(self.url("alice", 99999999)), 403)
        self.assertEqual(self.handshake_status(self.url("alice", "abc")), 400)
        self.assertEqual(self.handshake_status(self.url("alice", room),
                                               {"Origin": "https://evil.example"}), 403)
        self.assertEqual(self.handshake_status(
            self.url(None, room), {"Authorization": "Bearer " + self.tokens["bob"]}), 101)

    def test_three_users_get_every_message_in_seq_order_once(self):
        room = self.room()

        async def scenario():
            async with self.connect("alice", room) as a, self.connect("bob", room) as b, \
                    self.connect("carol", room) as c:
                alice, bob, carol = Client(a), Client(b), Client(c)
                for i in range(5):
                    await alice.send({"type": "message",
                                      "payload": {"body": f"ws {i}", "client_msg_id": f"m{i}"}})
                    ack = await alice.next("ack")
                    self.assertEqual(ack["client_msg_id"], f"m{i}")
                    self.assertEqual(ack["payload"]["seq"], i + 1)
                rest = self.server.post(f"/api/v1/rooms/{room}/messages", {"body": "via rest"},
                                        self.tokens["bob"])
                self.assertEqual(rest.status, 201)
                for client in (alice, bob, carol):
                    seqs = [(await client.next("message"))["payload"]["seq"] for _ in range(6)]
                    self.assertEqual(seqs, [1, 2, 3, 4, 5, 6])
                    self.assertTrue(await client.nothing("message", 0.3))  # no duplicates
        self.run_async(scenario())

    def test_duplicate_client_msg_id_is_acked_with_the_original(self):
        room = self.room()

        async def scenario():
            async with self.connect("alice", room) as a, self.connect("bob", room) as b:
                alice, bob = Client(a), Client(b)
                frame = {"type": "message", "payload": {"body": "once", "client_msg_id": "dup"}}
                await alice.send(frame)
                first = await alice.next("ack")
                await alice.send(frame)
                second = await alice.next("ack")
                self.assertTrue(second["duplicate"])
                self.assertEqual(second["payload"]["id"], first["payload"]["id"])
                self.assertEqual((await bob.next("message"))["payload"]["body"], "once")
                self.assertTrue(await bob.nothing("message", 0.5))
        self.run_async(scenario())

    def test_typing_read_and_errors(self):
        room = self.room()

        async def scenario():
            async with self.connect("alice", room) as a, self.connect("bob", room) as b:
                alice, bob = Client(a), Client(b)
                await alice.send({"type": "typing", "payload": {"typing": True}})
                typing = await bob.next("typing")
                self.assertEqual(typing["user_id"], self.ids["alice"])
                self.assertEqual(typing["room_id"], room)
                await alice.send({"type": "message", "payload": {"body": "read me"}})
                msg = (await bob.next("message"))["payload"]
                await bob.send({"type": "read", "payload": {"message_id": msg["id"]}})
                read = await alice.next("read")
                self.assertEqual(read["payload"], {"room_id": room, "user_id": self.ids["bob"],
                                                   "message_id": msg["id"], "seq": msg["seq"]})
                await bob.ws.send("{not json")
                self.assertEqual((await bob.next("error"))["error"], "invalid json")
                await bob.send({"type": "message", "payload": {"body": ""}})
                self.assertEqual((await bob.next("error"))["error"], "body required")
                await bob.send({"type": "message", "payload": {"body": " \t\n "}})
                self.assertEqual((await bob.next("error"))["error"], "body required")
                await bob.send({"type": "dance"})
                self.assertEqual((await bob.next("error"))["error"], "unsupported type")
                await bob.send({"type": "ping"})
                await bob.next("pong")  # still alive after bad frames
        self.run_async(scenario())

    def test_oversize_frame_closes_with_1009(self):
        room = self.room()

        async def scenario():
            async with self.connect("alice", room) as a:
                await a.send("x" * (64 * 1024 + 1))
                with self.assertRaises(websockets.exceptions.ConnectionClosed) as closed:
                    await asyncio.wait_for(a.recv(), TIMEOUT)
                self.assertEqual(closed.exception.code, 1009)
        self.run_async(scenario())

    def test_resume_returns_exactly_the_missed_messages(self):
        room = self.room()

        async def scenario():
            async with self.connect("bob", room) as b:
                bob = Client(b)
                self.server.post(f"/api/v1/rooms/{room}/messages", {"body": "seen"},
                                 self.tokens["alice"])
                last = (await bob.next("message"))["payload"]["seq"]
            for i in range(3):  # bob is offline
                self.server.post(f"/api/v1/rooms/{room}/messages", {"body": f"missed {i}"},
                                 self.tokens["alice"])
            async with self.connect("bob", room) as b:
                bob = Client(b)
                await bob.send({"type": "resume", "payload": {"rooms": {str(room): last}}})
                got = [(await bob.next("message"))["payload"] for _ in range(3)]
                self.assertEqual([m["body"] for m in got], ["missed 0", "missed 1", "missed 2"])
                self.assertEqual([m["seq"] for m in got], [last + 1, last + 2, last + 3])
                self.assertTrue(await bob.nothing("message", 0.3))
        self.run_async(scenario())

    def test_targeted_signalling_reaches_only_the_target(self):
        room = self.room()

        async def scenario():
            async with self.connect("alice", room) as a, self.connect("bob", room) as b, \
                    self.connect("carol", room) as c:
                alice, bob, carol = Client(a), Client(b), Client(c)
                await alice.send({"type": "webrtc_offer", "target_id": self.ids["bob"],
                                  "payload": {"sdp": "v=0"}})
                offer = await bob.next("signal_webrtc_offer")
                self.assertEqual(offer["payload"], {"sdp": "v=0"})
                self.assertEqual(offer["target_id"], self.ids["bob"])
                # A room-wide marker sent after the offer reaches carol: if the offer had been
                # broadcast, she would have seen it first.
                await alice.send({"type": "typing", "payload": {}})
                first_for_carol = await carol.next()
                self.assertEqual(first_for_carol["type"], "typing")
                await alice.send({"type": "webrtc_ice", "payload": {"candidate": "c"}})
                self.assertEqual((await carol.next("signal_webrtc_ice"))["payload"],
                                 {"candidate": "c"})  # no target: everyone
        self.run_async(scenario())

    def test_multi_room_socket_subscribe_and_unsubscribe(self):
        r1 = self.room()
        r2 = self.room(members=("bob",))
        foreign = self.room(members=("carol",), creator="dave")

        async def scenario():
            async with self.connect("bob") as b:
                bob = Client(b)
                for room in (r1, r2):
                    self.server.post(f"/api/v1/rooms/{room}/messages", {"body": f"to {room}"},
                                     self.tokens["alice"])
                rooms = {(await bob.next("message"))["room_id"] for _ in range(2)}
                self.assertEqual(rooms, {r1, r2})
                await bob.send({"type": "subscribe", "room_ids": [foreign]})
                err = await bob.next("error")
                self.assertEqual((err["error"], err["room_id"]), ("room access denied", foreign))
                await bob.send({"type": "message", "room_id": r2, "payload": {"body": "hi r2"}})
                self.assertEqual((await bob.next("ack"))["payload"]["room_id"], r2)
                await bob.send({"type": "message", "room_id": foreign,
                                "payload": {"body": "sneak"}})
                self.assertEqual((await bob.next("error"))["error"], "room access denied")
                await bob.send({"type": "unsubscribe", "room_ids": [r1]})
                await bob.send({"type": "ping"})
                await bob.next("pong")
                self.server.post(f"/api/v1/rooms/{r1}/messages", {"body": "gone"},
                                 self.tokens["alice"])
                self.server.post(f"/api/v1/rooms/{r2}/messages", {"body": "still here"},
                                 self.tokens["alice"])
                while True:
                    m = await bob.next("message")
                    if m["payload"]["body"] in ("gone", "still here"):
                        break
                self.assertEqual(m["payload"]["body"], "still here")
        self.run_async(scenario())

    def ws_count(self):
        text = self.server.get("/metrics").body
        return int(float(re.search(r"^msg_ws_connections (\S+)$", text, re.M).group(1)))

    def test_stalled_reader_is_cut_off_and_others_keep_receiving(self):
        room = self.room()
        # A raw client that completes the handshake and then never reads.
        stalled = socket.create_connection(("127.0.0.1", self.server.port))
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.sendall((f"GET /ws?room_id={room}&access_token={self.tokens['carol']} HTTP/1.1\r\n"
                         f"Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += stalled.recv(1)
        self.assertIn(b"101", head.split(b"\r\n")[0])
        count = 200
        body = "z" * 16000

        async def scenario():
            async with self.connect("bob", room, max_queue=None) as b:
                bob = Client(b)
                self.assertEqual(self.ws_count(), 2)
                loop = asyncio.get_running_loop()

                def flood():
                    for i in range(count):
                        r = self.server.post(f"/api/v1/rooms/{room}/messages",
                                             {"body": body, "client_msg_id": str(i)},
                                             self.tokens["alice"])
                        assert r.status == 201, r
                sender = loop.run_in_executor(None, flood)
                seqs = []
                while len(seqs) < count:
                    seqs.append((await bob.next("message", timeout=30))["payload"]["seq"])
                await sender
                self.assertEqual(seqs, list(range(1, count + 1)))
                deadline = time.monotonic() + 15
                while self.ws_count() != 1 and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                self.assertEqual(self.ws_count(), 1)  # the stalled socket was closed
        try:
            self.run_async(scenario())
        finally:
            stalled.close()


if __name__ == "__main__":
    unittest.main()


class SeedBrowserExampleTest(ServerTestCase):
    """The seed README's browser snippet (login → create room → WS send), as a page on another
    origin would run it against `make run` (APP_ENV=dev), with numeric file ids."""

    server_env = {"APP_ENV": "dev"}

    def test_login_create_room_ws_send(self):
        s = self.server
        page = {"Origin": "http://localhost:3000"}
        pre = s.request("OPTIONS", "/api/v1/auth/login",
                        headers=dict(page, **{"Access-Control-Request-Method": "POST"}))
        self.assertEqual(pre.status, 204)
        login = s.post("/api/v1/auth/login", {"tenant_id": "default", "email": "admin@example.com",
                                              "password": "admin-pass-123"}, headers=page)
        self.assertEqual(login.headers.get("access-control-allow-origin"), "http://localhost:3000")
        token = login.json["access_token"]
        room = s.post("/api/v1/rooms", {"name": "ws-demo-room", "room_type": "group",
                                        "member_ids": []}, token, headers=page)
        self.assertEqual(room.status, 201, room)
        room_id = room.json["id"]
        me = s.get("/api/v1/users/me", token).json["id"]
        file_ids = s.register_files(room_id, me, 2)

        async def scenario():
            url = f"ws://127.0.0.1:{s.port}/ws?room_id={room_id}&access_token={token}"
            async with websockets.connect(url, extra_headers=page) as ws:
                client = Client(ws)
                await client.send({"type": "message", "payload": {
                    "client_msg_id": "5b0f7e3c-2d1f-4c57-9a51-7d7c3a1b2c3d",
                    "body": "hello realtime with files", "file_ids": file_ids, "emojis": []}})
                event = await client.next("message")
                self.assertEqual(event["payload"]["body"], "hello realtime with files")
                self.assertEqual(event["payload"]["file_ids"], file_ids)
                self.assertEqual(event["room_id"], room_id)
        asyncio.run(asyncio.wait_for(scenario(), 30))


class PingAndIdleTest(ServerTestCase):
    server_env = {"WS_PING_INTERVAL_SECONDS": "1", "WS_IDLE_TIMEOUT_SECONDS": "3"}

    def test_server_pings_and_drops_a_silent_peer(self):
        s = self.server
        token = s.admin_token()
        room = s.post("/api/v1/rooms", {"name": "r"}, token).json["id"]
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        sock.sendall((f"GET /ws?room_id={room}&access_token={token} HTTP/1.1\r\nHost: x\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(1)
        started = time.monotonic()
        frames = b""
        closed_at = None
        while time.monotonic() - started < 10:
            chunk = sock.recv(4096)  # we never answer: no pong, no data
            if not chunk:
                closed_at = time.monotonic() - started
                break
            frames += chunk
        sock.close()
        self.assertEqual(frames[0] & 0x0F, 0x9, frames[:8])  # the first frame is a ping
        self.assertIsNotNone(closed_at)  # dropped after the idle timeout
        self.assertLess(closed_at, 8)


class ResumePagingTest(ServerTestCase):
    """More missed than one resume returns: the first 500 and `resumed` with `more`, and a
    second resume from there brings the rest."""

    server_env = {"MESSAGE_RATE_PER_USER": "100000"}

    def test_resume_pages_past_500(self):
        s = self.server
        admin = s.admin_token()
        ids = {n: s.create_user(admin, f"{n}@example.com") for n in ("alice", "bob")}
        tokens = {n: s.login(f"{n}@example.com", "password-1") for n in ids}
        room = s.post("/api/v1/rooms", {"name": "r", "member_ids": [ids["bob"]]},
                      tokens["alice"]).json["id"]
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        for i in range(520):  # one keep-alive connection: the suite stays fast
            conn.request("POST", f"/api/v1/rooms/{room}/messages", json.dumps({"body": f"m{i}"}),
                         {"Authorization": "Bearer " + tokens["alice"],
                          "Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, 201)
        conn.close()

        async def scenario():
            url = f"ws://127.0.0.1:{s.port}/ws?access_token={tokens['bob']}&room_id={room}"
            async with websockets.connect(url) as ws:
                bob = Client(ws)
                await bob.send({"type": "resume", "payload": {"rooms": {str(room): 0}}})
                first = [(await bob.next("message"))["payload"]["seq"] for _ in range(500)]
                self.assertEqual(first, list(range(1, 501)))
                page = await bob.next("resumed")
                self.assertEqual(page["room_id"], room)
                self.assertEqual(page["payload"], {"last_seq": 500, "more": True})
                await bob.send({"type": "resume", "payload": {"rooms": {str(room): 500}}})
                rest = [(await bob.next("message"))["payload"]["seq"] for _ in range(20)]
                self.assertEqual(rest, list(range(501, 521)))
                done = await bob.next("resumed")
                self.assertEqual(done["payload"], {"last_seq": 520, "more": False})
                # Nothing missed: `resumed` at once, with the seq given.
                await bob.send({"type": "resume", "payload": {"rooms": {str(room): 520}}})
                done = await bob.next("resumed")
                self.assertEqual(done["payload"], {"last_seq": 520, "more": False})
                self.assertTrue(await bob.nothing("message", 0.2))
        asyncio.run(asyncio.wait_for(scenario(), 60))
