"""Device sessions, the session WebSocket, presence, notes and chat notifications against the
binary with real WebSocket clients: who receives what (to/cc/bcc each with its own type, bcc
invisible to the others), status changes within one tenant only, automatic presence, logout
and token rotation closing sockets, refused handshakes, and bad input."""
import asyncio
import re
import unittest
import urllib.parse

import websockets

from .harness import ADMIN_PASSWORD, ServerTestCase
from .test_files import transfer
from .wsclient import Client

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


async def status_of(client, user, status=None):
    """The next status.changed about `user` (with `status`), skipping others' (presence makes
    everyone's sockets announce them)."""
    while True:
        event = await client.next("status.changed")
        if event["user_id"] == user and status in (None, event["status"]):
            return event


async def no_status_of(client, user, wait):
    """True if no status.changed about `user` arrives within `wait` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        left = deadline - loop.time()
        if left <= 0:
            return True
        try:
            event = await client.next("status.changed", timeout=left)
        except (AssertionError, asyncio.TimeoutError):
            return True
        if event["user_id"] == user:
            return False


class SessionTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.admin = s.admin_token()
        cls.ids, cls.tokens = {}, {}
        for name in ("alice", "bob", "carol", "dave", "erin", "frank"):
            cls.ids[name] = s.create_user(cls.admin, f"{name}@example.com")
            cls.tokens[name] = s.login(f"{name}@example.com", "password-1")
        s.create_tenant(cls.admin, "rival")
        seeded = s.run_command("seed-admin", {"TENANT_ID": "rival",
                                              "ADMIN_EMAIL": "admin@rival.example"})
        assert seeded.returncode == 0, seeded.stderr
        cls.rival = s.login("admin@rival.example", ADMIN_PASSWORD, tenant="rival")
        cls.rival_id = s.get("/api/v1/users/me", cls.rival).json["id"]

    # ---- helpers ---------------------------------------------------------------------------

    def device_login(self, who, device="laptop", token=None, **extra):
        r = self.server.post("/api/v1/session/login", dict({"device_id": device}, **extra),
                             token or self.tokens[who])
        self.assertStatus(r, 200)
        return r.json

    def session_url(self, session, **override):
        q = {"tenant_id": session["tenant_id"], "user_id": session["user_id"],
             "session_id": session["session_id"], "session_token": session["session_token"]}
        q.update(override)
        return f"ws://127.0.0.1:{self.server.port}/ws/session?{urllib.parse.urlencode(q)}"

    def open(self, session, **override):
        return websockets.connect(self.session_url(session, **override))

    async def connected(self, ws):
        client = Client(ws)
        first = await client.next()
        self.assertEqual(first["type"], "session.connected")
        return client

    def run_async(self, coro):
        return asyncio.run(asyncio.wait_for(coro, 60))

    def handshake_status(self, url):
        async def attempt():
            try:
                async with websockets.connect(url):
                    return 101
            except websockets.exceptions.InvalidStatusCode as e:
                return e.status_code
        return self.run_async(attempt())

    async def closed_with(self, ws, timeout=5):
        try:
            while True:
                await asyncio.wait_for(ws.recv(), timeout)
        except websockets.exceptions.ConnectionClosed as e:
            return e.code

    def room(self, creator, *members):
        r = self.server.post("/api/v1/rooms", {"name": "r", "member_ids": [
            self.ids[m] for m in members]}, self.tokens[creator])
        self.assertStatus(r, 201)
        return r.json["id"]

    # ---- login and the socket handshake ------------------------------------------------------

    def test_login_keeps_the_session_and_rotates_the_token(self):
        first = self.device_login("alice", "phone", device_name="Pixel",
                                  allowed_tenants=[" rival ", "", "rival"])
        self.assertRegex(first["session_token"], r"^[0-9a-f]{64}$")
        self.assertRegex(first["session_id"], UUID)
        self.assertEqual(first["auth_token"], self.tokens["alice"])
        self.assertEqual(first["user_id"], self.ids["alice"])
        self.assertEqual(first["tenant_id"], "default")
        self.assertEqual(first["device_name"], "Pixel")
        self.assertEqual(first["allowed_tenants"], ["rival", "default"])
        second = self.device_login("alice", "phone")
        self.assertEqual(second["session_id"], first["session_id"])
        self.assertNotEqual(second["session_token"], first["session_token"])
        other = self.device_login("alice", "tablet")
        self.assertNotEqual(other["session_id"], first["session_id"])
        # The old token no longer opens a socket; the new one does.
        self.assertEqual(self.handshake_status(self.session_url(first)), 401)
        self.assertEqual(self.handshake_status(self.session_url(second)), 101)

    def test_handshake_refuses_wrong_values(self):
        s = self.device_login("bob", "desk")
        rival_session = self.device_login(None, "desk", token=self.rival)
        cases = {
            "wrong token": {"session_token": "0" * 64},
            "short token": {"session_token": "abc"},
            "other user": {"user_id": self.ids["carol"]},
            "other tenant": {"tenant_id": "rival"},
            "not a uuid": {"session_id": "x' OR '1'='1"},
            "unknown session": {"session_id": "00000000-0000-0000-0000-000000000000"},
            "bad user id": {"user_id": "abc"},
            "missing token": {"session_token": ""},
            "another tenant's session": {"session_id": rival_session["session_id"]},
        }
        for name, override in cases.items():
            with self.subTest(case=name):
                self.assertEqual(self.handshake_status(self.session_url(s, **override)), 401)
        self.assertEqual(self.handshake_status(self.session_url(s)), 101)

        async def refused_body():
            try:
                async with self.open(s, session_token="f" * 64):
                    return None
            except websockets.exceptions.InvalidStatusCode as e:
                return e
        self.assertEqual(self.run_async(refused_body()).status_code, 401)

    def test_first_frame_and_ping(self):
        s = self.device_login("carol", "desk")

        async def scenario():
            async with self.open(s) as ws:
                client = Client(ws)
                first = await client.next()
                self.assertEqual(set(first), {"type", "tenant_id", "user_id", "session_id",
                                              "connected_at"})
                self.assertEqual(first["session_id"], s["session_id"])
                self.assertEqual(first["user_id"], self.ids["carol"])
                self.assertTrue(first["connected_at"].endswith("Z"))
                await ws.send("keep-alive")  # any frame is fine, as the seed
                await client.send({"type": "ping"})
                self.assertEqual((await client.next("pong"))["type"], "pong")
        self.run_async(scenario())

    # ---- token rotation and logout close sockets ---------------------------------------------

    def test_new_login_and_logout_close_the_old_sockets(self):
        first = self.device_login("dave", "laptop")

        async def scenario():
            async with self.open(first) as a, self.open(first) as b:
                first_a = await self.connected(a)
                first_b = await self.connected(b)
                # Two sockets of one device both work…
                self.assertStatus(self.server.patch("/api/v1/session/status",
                                                    {"status": "away"}, self.tokens["dave"]), 200)
                for client in (first_a, first_b):
                    changed = await status_of(client, self.ids["dave"], "away")
                    self.assertEqual(changed["status_note"], "")
                # …and a new login on the device closes both.
                second = await asyncio.to_thread(self.device_login, "dave", "laptop")
                self.assertEqual(await self.closed_with(a), 1008)
                self.assertEqual(await self.closed_with(b), 1008)
            async with self.open(second) as c:
                await self.connected(c)
                r = await asyncio.to_thread(self.server.post, "/api/v1/session/logout",
                                            {"session_id": second["session_id"]},
                                            self.tokens["dave"])
                self.assertStatus(r, 200)
                self.assertEqual(await self.closed_with(c), 1008)
            return second
        second = self.run_async(scenario())
        self.assertEqual(self.handshake_status(self.session_url(second)), 401)
        self.server.patch("/api/v1/session/status", {"status": "online"}, self.tokens["dave"])

    def test_logout_is_the_callers_own(self):
        mine = self.device_login("erin", "laptop")
        r = self.server.post("/api/v1/session/logout", {"session_id": mine["session_id"]},
                             self.tokens["frank"])
        self.assertStatus(r, 404, "session not found")
        self.assertEqual(self.handshake_status(self.session_url(mine)), 101)
        self.assertStatus(self.server.post("/api/v1/session/logout", {}, self.tokens["erin"]),
                          400, "session_id or device_id is required")
        self.assertStatus(self.server.post("/api/v1/session/logout", {"device_id": "laptop"},
                                           self.tokens["erin"]), 200)
        self.assertEqual(self.handshake_status(self.session_url(mine)), 401)

    # ---- status and presence ------------------------------------------------------------------

    def test_status_changes_reach_the_tenant_and_not_other_tenants(self):
        watcher = self.device_login("alice", "watcher")
        rival = self.device_login(None, "watcher", token=self.rival)

        async def scenario():
            async with self.open(watcher) as w, self.open(rival) as r:
                ours, theirs = await self.connected(w), await self.connected(r)
                res = await asyncio.to_thread(self.server.patch, "/api/v1/session/status",
                                              {"status": " BUSY ", "status_note": " lunch "},
                                              self.tokens["bob"])
                self.assertStatus(res, 200)
                event = await status_of(ours, self.ids["bob"], "busy")
                self.assertEqual(set(event), {"type", "tenant_id", "user_id", "status",
                                              "status_note", "updated_at"})
                self.assertEqual((event["user_id"], event["status"], event["status_note"]),
                                 (self.ids["bob"], "busy", "lunch"))
                # The users route changes the same presence and announces it too.
                res = await asyncio.to_thread(
                    self.server.patch, f"/api/v1/users/{self.ids['bob']}/status",
                    {"status": "meeting", "note": "1:1"}, self.tokens["bob"])
                self.assertStatus(res, 200)
                event = await status_of(ours, self.ids["bob"], "meeting")
                self.assertEqual(event["status_note"], "1:1")
                self.assertTrue(await no_status_of(theirs, self.ids["bob"], 0.5))
        self.run_async(scenario())
        found = self.server.get("/api/v1/users/search?q=bob", self.admin).json
        self.assertEqual(found[0]["status"], "meeting")
        self.server.patch("/api/v1/session/status", {"status": "online"}, self.tokens["bob"])

    def test_status_bad_input(self):
        t = self.tokens["carol"]
        self.assertStatus(self.server.patch("/api/v1/session/status", {"status": "asleep"}, t),
                          400, "status must be one of online|offline|busy|away|meeting")
        self.assertStatus(self.server.patch("/api/v1/session/status", {"status": "  "}, t),
                          400, "status is required")
        self.assertStatus(self.server.patch("/api/v1/session/status", {}, t), 400,
                          "status is required")
        self.assertStatus(self.server.patch("/api/v1/session/status",
                                            {"status": "away", "status_note": "x" * 600}, t),
                          400, "status_note is too long")

    def test_automatic_presence_follows_sockets_unless_set_by_hand(self):
        watcher = self.device_login("alice", "presence-watcher")
        frank = self.ids["frank"]
        chat_url = (f"ws://127.0.0.1:{self.server.port}/ws?"
                    f"access_token={self.tokens['frank']}")

        async def scenario():
            async with self.open(watcher) as w:
                watch = await self.connected(w)
                async with websockets.connect(chat_url):
                    await status_of(watch, frank, "online")
                    # A second socket (the session one) changes nothing.
                    frank_session = await asyncio.to_thread(self.device_login, "frank", "f")
                    async with self.open(frank_session) as fs:
                        await self.connected(fs)
                    self.assertTrue(await no_status_of(watch, frank, 0.5))
                await status_of(watch, frank, "offline")
                # A status chosen by hand stays when the sockets go.
                await asyncio.to_thread(self.server.patch, "/api/v1/session/status",
                                        {"status": "away"}, self.tokens["frank"])
                await status_of(watch, frank, "away")
                async with websockets.connect(chat_url):
                    await asyncio.sleep(0.3)
                self.assertTrue(await no_status_of(watch, frank, 0.7))
        self.run_async(scenario())
        found = self.server.get("/api/v1/users/search?q=frank", self.admin).json
        self.assertEqual(found[0]["status"], "away")
        self.server.patch("/api/v1/session/status", {"status": "online"}, self.tokens["frank"])

    # ---- notes ---------------------------------------------------------------------------------

    def test_note_reaches_each_recipient_with_its_own_type_and_bcc_stays_hidden(self):
        sessions = {who: self.device_login(who, "notes") for who in ("bob", "carol", "dave",
                                                                      "erin")}
        # The attachment is alice's own upload into her notes/ folder (issue 12).
        key = f"notes/{self.ids['alice']}/plan.pdf"
        up = self.server.post("/api/v1/files/presign-upload", {"object_key": key},
                              self.tokens["alice"])
        self.assertStatus(up, 200)
        self.assertEqual(transfer("PUT", up.json["url"], b"%PDF plan")[0], 200)
        stored = f"tenants/default/{key}"

        async def scenario():
            async with self.open(sessions["bob"]) as b, self.open(sessions["carol"]) as c, \
                    self.open(sessions["dave"]) as d, self.open(sessions["erin"]) as e:
                clients = {"bob": await self.connected(b), "carol": await self.connected(c),
                           "dave": await self.connected(d), "erin": await self.connected(e)}
                body = {"title": " 주간 보고 ", "body": "내용",
                        "to": [self.ids["bob"], str(self.ids["bob"])],
                        "cc": [self.ids["carol"], self.ids["bob"]],
                        "bcc": [self.ids["dave"]],
                        "files": [{"file_name": "plan.pdf", "object_key": key,
                                   "content_type": "application/pdf", "size_bytes": 42}]}
                r = await asyncio.to_thread(self.server.post, "/api/v1/notes", body,
                                            self.tokens["alice"])
                self.assertStatus(r, 201)
                note = r.json
                self.assertEqual(note["title"], "주간 보고")
                self.assertEqual(note["recipients"], [
                    {"user_id": self.ids["bob"], "type": "to"},
                    {"user_id": self.ids["carol"], "type": "cc"},
                    {"user_id": self.ids["dave"], "type": "bcc"}])  # the sender sees all
                expected = {"bob": "to", "carol": "cc", "dave": "bcc"}
                for who, kind in expected.items():
                    event = await clients[who].next("note.received")
                    self.assertEqual(event["recipient_type"], kind)
                    self.assertEqual(event["note_id"], note["note_id"])
                    self.assertEqual(event["files"][0]["object_key"], stored)
                    self.assertEqual(set(event), {"type", "note_id", "tenant_id",
                                                  "sender_user_id", "recipient_type", "title",
                                                  "body", "files", "created_at"})
                    self.assertTrue(await clients[who].nothing("note.received", 0.2))
                self.assertTrue(await clients["erin"].nothing("note.received", 0.3))
                return note
        note = self.run_async(scenario())
        nid = note["note_id"]

        as_bob = self.server.get(f"/api/v1/notes/{nid}", self.tokens["bob"])
        self.assertStatus(as_bob, 200)
        self.assertEqual([r["type"] for r in as_bob.json["recipients"]], ["to", "cc"])
        self.assertEqual(as_bob.json["recipient_type"], "to")
        as_dave = self.server.get(f"/api/v1/notes/{nid}", self.tokens["dave"])
        self.assertEqual(as_dave.json["recipient_type"], "bcc")
        self.assertIn({"user_id": self.ids["dave"], "type": "bcc"}, as_dave.json["recipients"])
        self.assertEqual(len(self.server.get(f"/api/v1/notes/{nid}", self.tokens["alice"])
                             .json["recipients"]), 3)
        self.assertStatus(self.server.get(f"/api/v1/notes/{nid}", self.tokens["erin"]), 404,
                          "note not found")
        self.assertStatus(self.server.get(f"/api/v1/notes/{nid}", self.rival), 404,
                          "note not found")

        inbox = self.server.get("/api/v1/notes/inbox", self.tokens["carol"]).json
        item = next(i for i in inbox if i["note_id"] == nid)
        self.assertEqual((item["recipient_type"], item["file_count"], item["is_read"]),
                         ("cc", 1, False))
        self.assertStatus(self.server.post(f"/api/v1/notes/{nid}/read", None,
                                           self.tokens["carol"]), 200)
        inbox = self.server.get("/api/v1/notes/inbox", self.tokens["carol"]).json
        item = next(i for i in inbox if i["note_id"] == nid)
        self.assertTrue(item["is_read"])
        self.assertTrue(item["read_at"].endswith("Z"))
        # Bob's copy is still unread; Erin has nothing.
        bob_item = next(i for i in self.server.get("/api/v1/notes/inbox",
                                                   self.tokens["bob"]).json
                        if i["note_id"] == nid)
        self.assertFalse(bob_item["is_read"])
        self.assertFalse(any(i["note_id"] == nid for i in
                             self.server.get("/api/v1/notes/inbox", self.tokens["erin"]).json))

    def test_inbox_pages_with_before(self):
        ids = []
        for i in range(3):
            r = self.server.post("/api/v1/notes", {"title": f"p{i}", "to": [self.ids["erin"]]},
                                 self.tokens["frank"])
            self.assertStatus(r, 201)
            ids.append(r.json["note_id"])
        page = self.server.get("/api/v1/notes/inbox?limit=2", self.tokens["erin"]).json
        self.assertEqual([i["note_id"] for i in page], [ids[2], ids[1]])
        rest = self.server.get(f"/api/v1/notes/inbox?limit=2&before={ids[1]}",
                               self.tokens["erin"]).json
        self.assertEqual(rest[0]["note_id"], ids[0])
        self.assertStatus(self.server.get("/api/v1/notes/inbox?before=x", self.tokens["erin"]),
                          400, "before must be an id")

    def test_note_bad_input(self):
        t = self.tokens["alice"]
        cases = [
            ({"to": [self.ids["bob"]]}, "title is required"),
            ({"title": "   ", "to": [self.ids["bob"]]}, "title is required"),
            ({"title": "t"}, "at least one recipient is required"),
            ({"title": "t", "to": [], "cc": [], "bcc": []}, "at least one recipient is required"),
            ({"title": "t", "to": [self.rival_id]}, "unknown recipient"),
            ({"title": "t", "to": [99999999]}, "unknown recipient"),
            ({"title": "t", "to": ["abc"]}, "to must be an array of ids"),
            ({"title": "t", "to": "1"}, "to must be an array of ids"),
            ({"title": "x" * 201, "to": [self.ids["bob"]]}, "title is too long"),
            ({"title": "t", "to": [self.ids["bob"]], "files": [{"file_name": "a"}]},
             "object_key is required"),
            ({"title": "t", "to": [self.ids["bob"]], "files": "x"},
             "files must be an array of objects"),
            ({"title": "t", "to": list(range(1, 1002))}, "to has too many items"),
        ]
        for body, error in cases:
            with self.subTest(error=error):
                self.assertStatus(self.server.post("/api/v1/notes", body, t), 400, error)
        self.assertStatus(self.server.request("POST", "/api/v1/notes", raw=b"{oops", token=t),
                          400, "invalid json")
        self.assertStatus(self.server.get("/api/v1/notes/abc", t), 400, "note_id must be an id")
        self.assertStatus(self.server.post("/api/v1/notes/abc/read", None, t), 400,
                          "note_id must be an id")

    # ---- chat notifications ---------------------------------------------------------------------

    def test_chat_notify_reaches_room_members_without_a_token(self):
        room = self.room("alice", "bob", "carol")
        sessions = {who: self.device_login(who, "notify") for who in ("bob", "carol", "erin")}
        sent = self.server.post(f"/api/v1/rooms/{room}/messages", {"body": "hi"},
                                self.tokens["alice"]).json

        async def scenario():
            async with self.open(sessions["bob"]) as b, self.open(sessions["carol"]) as c, \
                    self.open(sessions["erin"]) as e:
                bob, carol, erin = (await self.connected(b), await self.connected(c),
                                    await self.connected(e))
                r = await asyncio.to_thread(
                    self.server.post, "/api/v1/chat/notify",
                    {"room_id": room, "message_id": sent["id"], "title": "Alice",
                     "body": "hi", "recipient_ids": [self.ids["bob"], self.ids["bob"]]},
                    self.tokens["alice"])
                self.assertStatus(r, 200)
                event = await bob.next("chat.notification")
                self.assertEqual(set(event), {"type", "tenant_id", "room_id", "message_id",
                                              "sender_user_id", "recipient_user_id", "title",
                                              "body", "created_at"})
                self.assertNotIn(self.tokens["alice"], str(event))
                self.assertEqual((event["room_id"], event["message_id"],
                                  event["sender_user_id"], event["recipient_user_id"]),
                                 (room, sent["id"], self.ids["alice"], self.ids["bob"]))
                self.assertTrue(await bob.nothing("chat.notification", 0.3))  # once
                self.assertTrue(await carol.nothing("chat.notification", 0.2))
                self.assertTrue(await erin.nothing("chat.notification", 0.2))
        self.run_async(scenario())

        t = self.tokens["alice"]
        cases = [
            ({"room_id": room, "recipient_ids": [self.ids["erin"]]}, t, 400,
             "recipient_ids must be members of the room"),
            ({"room_id": room, "recipient_ids": [self.ids["bob"]]}, self.tokens["erin"], 403,
             "room access denied"),
            ({"room_id": 99999999, "recipient_ids": [self.ids["bob"]]}, t, 403,
             "room access denied"),
            ({"room_id": room, "recipient_ids": [self.ids["bob"]]}, self.rival, 403,
             "room access denied"),
            ({"room_id": room, "message_id": 99999999, "recipient_ids": [self.ids["bob"]]}, t,
             404, "message not found"),
            ({"room_id": room}, t, 400, "recipient_ids is required"),
            ({"room_id": room, "recipient_ids": []}, t, 400, "recipient_ids is required"),
            ({"recipient_ids": [self.ids["bob"]]}, t, 400, "room_id is required"),
            ({"room_id": room, "recipient_ids": [self.ids["bob"]], "body": "x" * 5000}, t, 400,
             "body is too long"),
        ]
        for body, token, status, error in cases:
            with self.subTest(error=error, status=status):
                self.assertStatus(self.server.post("/api/v1/chat/notify", body, token), status,
                                  error)

    def test_login_bad_input(self):
        t = self.tokens["alice"]
        cases = [
            ({}, "tenant_id, user_id, device_id are required"),
            ({"device_id": "   "}, "tenant_id, user_id, device_id are required"),
            ({"device_id": 5}, "device_id must be a string"),
            ({"device_id": "d" * 129}, "device_id is too long"),
            ({"device_id": "d", "allowed_tenants": "x"}, "allowed_tenants must be an array of strings"),
            ({"device_id": "d", "allowed_tenants": ["x"] * 33}, "allowed_tenants has too many items"),
        ]
        for body, error in cases:
            with self.subTest(error=error):
                self.assertStatus(self.server.post("/api/v1/session/login", body, t), 400, error)


class ThrottleTest(ServerTestCase):
    server_env = {"MESSAGE_RATE_PER_USER": "2"}

    def test_notes_and_notify_are_throttled_per_user(self):
        s = self.server
        admin = s.admin_token()
        ids = {n: s.create_user(admin, f"{n}@example.com") for n in ("amy", "ben")}
        amy, ben = (s.login(f"{n}@example.com", "password-1") for n in ("amy", "ben"))
        room = s.post("/api/v1/rooms", {"name": "r", "member_ids": [ids["ben"]]}, amy).json["id"]
        note = {"title": "t", "to": [ids["ben"]]}
        statuses = [s.post("/api/v1/notes", note, amy).status for _ in range(6)]
        self.assertIn(429, statuses)
        self.assertEqual(statuses[0], 201)
        limited = s.post("/api/v1/notes", note, amy)
        if limited.status == 429:
            self.assertIn("retry-after", limited.headers)
            self.assertEqual(limited.json, {"error": "too many requests"})
        self.assertStatus(s.post("/api/v1/notes", {"title": "t", "to": [ids["amy"]]}, ben), 201)
        ping = {"room_id": room, "recipient_ids": [ids["ben"]]}
        statuses = [s.post("/api/v1/chat/notify", ping, amy).status for _ in range(6)]
        self.assertEqual(statuses[0], 200)
        self.assertIn(429, statuses)


if __name__ == "__main__":
    unittest.main()
