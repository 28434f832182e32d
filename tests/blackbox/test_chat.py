"""Chat REST: rooms, members, messages (seq, idempotency, gap fill), read state, and room
membership enforced on every room route."""
import asyncio
import time
import unittest

import websockets

from .harness import ServerTestCase


class ChatUsers(ServerTestCase):
    """Alice, bob (김철수) and carol on a server of their own; no tests of its own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.admin = s.admin_token()
        cls.ids = {}
        cls.tokens = {}
        for name, display in (("alice", "Alice"), ("bob", "김철수"), ("carol", "Carol")):
            cls.ids[name] = s.create_user(cls.admin, f"{name}@example.com", name=display)
            cls.tokens[name] = s.login(f"{name}@example.com", "password-1")

    def room(self, creator="alice", members=("bob",), room_type=None, name="general"):
        body = {"name": name, "member_ids": [self.ids[m] for m in members]}
        if room_type:
            body["room_type"] = room_type
        r = self.server.post("/api/v1/rooms", body, self.tokens[creator])
        self.assertIn(r.status, (200, 201), r)
        return r.json["id"]

    def send(self, room, who="alice", **body):
        body.setdefault("body", "hello")
        return self.server.post(f"/api/v1/rooms/{room}/messages", body, self.tokens[who])


class ChatRestTest(ChatUsers):
    def test_create_rooms(self):
        s = self.server
        r = s.post("/api/v1/rooms", {"name": "ids as strings",
                                     "member_ids": [str(self.ids["bob"])]}, self.tokens["alice"])
        self.assertStatus(r, 201)
        self.assertIsInstance(r.json["id"], int)
        self.assertStatus(s.post("/api/v1/rooms", {"name": "x", "member_ids": [99999999]},
                                 self.tokens["alice"]), 400, "unknown member")
        self.assertStatus(s.post("/api/v1/rooms", {"name": "x", "room_type": "channel"},
                                 self.tokens["alice"]), 400, "room_type must be group or direct")
        self.assertStatus(s.post("/api/v1/rooms", {"name": "x", "room_type": "direct",
                                                   "member_ids": []}, self.tokens["alice"]),
                          400, "a direct room needs exactly one other member")
        self.assertStatus(s.post("/api/v1/rooms", {"member_ids": []}, self.tokens["alice"]), 400,
                          "name is required")

    def test_direct_rooms_are_one_per_pair(self):
        s = self.server
        first = s.post("/api/v1/rooms", {"name": "dm", "room_type": "direct",
                                         "member_ids": [self.ids["carol"]]}, self.tokens["bob"])
        self.assertStatus(first, 201)
        again = s.post("/api/v1/rooms", {"name": "dm", "room_type": "direct",
                                         "member_ids": [self.ids["bob"]]}, self.tokens["carol"])
        self.assertStatus(again, 200)
        self.assertEqual(again.json["id"], first.json["id"])
        self.assertStatus(s.post(f"/api/v1/rooms/{first.json['id']}/members",
                                 {"user_id": self.ids["alice"]}, self.tokens["bob"]),
                          400, "cannot add members to a direct room")

    def test_messages_seq_idempotency_and_paging(self):
        s = self.server
        room = self.room()
        first = self.send(room, body="one", client_msg_id="c-1")
        self.assertStatus(first, 201)
        m = first.json
        self.assertEqual(m["seq"], 1)
        self.assertEqual(m["room_id"], room)
        self.assertEqual(m["sender_id"], self.ids["alice"])
        self.assertEqual(m["tenant_id"], "default")
        self.assertEqual(m["client_msg_id"], "c-1")
        self.assertEqual(m["emojis"], None)
        self.assertEqual(m["file_ids"], [])
        self.assertTrue(m["created_at"].endswith("Z"))
        repeat = self.send(room, body="one", client_msg_id="c-1")
        self.assertStatus(repeat, 200)
        self.assertEqual(repeat.json["id"], m["id"])
        emoji = self.send(room, who="bob", body="", emojis=["😀"])
        self.assertStatus(emoji, 201)
        self.assertEqual(emoji.json["seq"], 2)
        self.assertEqual(emoji.json["emojis"], ["😀"])
        f1, f2 = s.register_files(room, self.ids["alice"], 2)
        files = self.send(room, body="see @김철수", file_id=f1, file_ids=[str(f1), f2])
        self.assertStatus(files, 201)
        self.assertEqual(files.json["file_ids"], [f1, f2])
        self.assertEqual(files.json["mentions"], ["김철수"])
        for i in range(4, 8):
            self.assertEqual(self.send(room, body=f"m{i}").json["seq"], i)

        page = s.get(f"/api/v1/rooms/{room}/messages?limit=3", self.tokens["bob"]).json
        self.assertEqual([x["seq"] for x in page["items"]], [7, 6, 5])
        page2 = s.get(f"/api/v1/rooms/{room}/messages?limit=3&cursor={page['next_cursor']}",
                      self.tokens["bob"]).json
        self.assertEqual([x["seq"] for x in page2["items"]], [4, 3, 2])
        page3 = s.get(f"/api/v1/rooms/{room}/messages?limit=3&cursor={page2['next_cursor']}",
                      self.tokens["bob"]).json
        self.assertEqual([x["seq"] for x in page3["items"]], [1])
        self.assertNotIn("next_cursor", page3)
        gap = s.get(f"/api/v1/rooms/{room}/messages?after_seq=4", self.tokens["bob"]).json
        self.assertEqual([x["seq"] for x in gap["items"]], [5, 6, 7])
        self.assertStatus(s.get(f"/api/v1/rooms/{room}/messages?cursor=%21", self.tokens["bob"]),
                          400, "cursor is invalid")
        self.assertStatus(s.get(f"/api/v1/rooms/{room}/messages?after_seq=-1",
                                self.tokens["bob"]), 400)

    def test_message_validation(self):
        room = self.room()
        self.assertStatus(self.send(room, body=""), 400, "body is required")
        self.assertStatus(self.send(room, body=" \t\n "), 400, "body is required")
        self.assertStatus(self.send(room, body=" ", emojis=["😀"]), 201)  # something attached
        self.assertStatus(self.send(room, body="x" * (16 * 1024 + 1)), 400, "body is too long")
        self.assertStatus(self.send(room, body="x", emojis="nope"), 400,
                          "emojis must be an array of strings")
        self.assertStatus(self.send(room, body="x", file_ids=list(range(1, 30))), 400,
                          "file_ids has too many items")
        # Attachments must be registered files of this very room.
        other = self.room()
        (elsewhere,) = self.server.register_files(other, self.ids["alice"], 1)
        (here,) = self.server.register_files(room, self.ids["alice"], 1)
        for ids in ([elsewhere], [here, 99999999], [99999999]):
            self.assertStatus(self.send(room, body="x", file_ids=ids), 400,
                              "file_ids must be registered files of this room")
        self.assertStatus(self.send(room, body="", file_ids=[here]), 201)

    def test_read_state(self):
        s = self.server
        room = self.room(members=("bob", "carol"))
        ids = [self.send(room, body=f"m{i}").json["id"] for i in range(3)]
        bob = self.tokens["bob"]
        self.assertEqual(s.get(f"/api/v1/rooms/{room}/read", bob).json,
                         {"room_id": room, "user_id": self.ids["bob"],
                          "last_read_message_id": None})
        self.assertEqual(s.get(f"/api/v1/rooms/{room}/unread-count", bob).json["unread_count"], 3)
        self.assertStatus(s.post(f"/api/v1/rooms/{room}/read", {"message_id": ids[1]}, bob), 200)
        self.assertEqual(s.get(f"/api/v1/rooms/{room}/unread-count", bob).json["unread_count"], 1)
        self.assertStatus(s.post(f"/api/v1/rooms/{room}/read", {"message_id": ids[0]}, bob), 200)
        self.assertEqual(s.get(f"/api/v1/rooms/{room}/read", bob).json["last_read_message_id"],
                         ids[1])  # never backwards
        readers = s.get(f"/api/v1/rooms/{room}/messages/{ids[1]}/readers", bob).json
        self.assertEqual(sorted(r["user_id"] for r in readers),
                         sorted([self.ids["alice"], self.ids["bob"]]))
        counts = {c["room_id"]: c["unread_count"]
                  for c in s.get("/api/v1/rooms/unread-counts", bob).json}
        self.assertEqual(counts[room], 1)
        self.assertStatus(s.post(f"/api/v1/rooms/{room}/read", {"message_id": 99999999}, bob),
                          404, "message not found")

    def test_room_list(self):
        s = self.server
        dm = s.post("/api/v1/rooms", {"name": "dm", "room_type": "direct",
                                      "member_ids": [self.ids["bob"]]}, self.tokens["alice"]).json
        self.send(dm["id"], body="안녕 @김철수")
        listed = s.get("/api/v1/rooms?limit=200", self.tokens["bob"]).json
        top = listed["items"][0]
        self.assertEqual(top["room_id"], dm["id"])
        self.assertEqual(top["room_type"], "direct")
        self.assertEqual(top["peer_user_id"], self.ids["alice"])
        self.assertEqual(top["peer_name"], "Alice")
        self.assertEqual(top["latest_message_body"], "안녕 @김철수")
        self.assertEqual(top["latest_message_kind"], "text")
        self.assertEqual(top["latest_message_summary"], "안녕 @김철수")
        self.assertEqual(top["latest_message_mention_tokens"], ["김철수"])
        self.assertTrue(top["latest_message_is_mentioned"])
        self.assertEqual(top["latest_message_sender"], self.ids["alice"])
        self.assertGreaterEqual(top["unread_count"], 1)
        first = s.get("/api/v1/rooms?limit=1", self.tokens["bob"]).json
        second = s.get(f"/api/v1/rooms?limit=1&cursor={first['next_cursor']}",
                       self.tokens["bob"]).json
        self.assertNotEqual(first["items"][0]["room_id"], second["items"][0]["room_id"])

    def test_non_members_are_refused_on_every_room_route(self):
        s = self.server
        room = self.room(members=("bob",))
        msg = self.send(room).json["id"]
        carol = self.tokens["carol"]
        routes = [("POST", f"/api/v1/rooms/{room}/members", {"user_id": self.ids["carol"]}),
                  ("POST", f"/api/v1/rooms/{room}/messages", {"body": "let me in"}),
                  ("GET", f"/api/v1/rooms/{room}/messages", None),
                  ("GET", f"/api/v1/rooms/{room}/messages?after_seq=0", None),
                  ("GET", f"/api/v1/rooms/{room}/unread-count", None),
                  ("POST", f"/api/v1/rooms/{room}/read", {"message_id": msg}),
                  ("GET", f"/api/v1/rooms/{room}/read", None),
                  ("GET", f"/api/v1/rooms/{room}/messages/{msg}/readers", None)]
        for method, path, body in routes:
            with self.subTest(route=f"{method} {path}"):
                self.assertStatus(s.request(method, path, body=body, token=carol), 403,
                                  "room access denied")
                missing = path.replace(f"/rooms/{room}/", "/rooms/99999999/")
                self.assertStatus(s.request(method, missing, body=body, token=carol), 403,
                                  "room access denied")
        rooms = [r["room_id"] for r in s.get("/api/v1/rooms", carol).json["items"]]
        self.assertNotIn(room, rooms)
        # Once added by a member, the same routes work.
        self.assertStatus(s.post(f"/api/v1/rooms/{room}/members", {"user_id": self.ids["carol"]},
                                 self.tokens["alice"]), 200)
        self.assertStatus(s.get(f"/api/v1/rooms/{room}/messages", carol), 200)
        self.assertStatus(s.post(f"/api/v1/rooms/{room}/members", {"user_id": 99999999},
                                 self.tokens["alice"]), 400, "unknown member")

    def test_other_tenants_cannot_reach_rooms(self):
        s = self.server
        room = self.room()
        s.create_tenant(self.admin, "rival")
        seeded = s.run_command("seed-admin", {"TENANT_ID": "rival",
                                              "ADMIN_EMAIL": "boss@rival.example"})
        self.assertEqual(seeded.returncode, 0, seeded.stderr)
        rival = s.login("boss@rival.example", "admin-pass-123", tenant="rival")
        self.assertStatus(s.get(f"/api/v1/rooms/{room}/messages", rival), 403,
                          "room access denied")
        self.assertStatus(s.post("/api/v1/rooms", {"name": "x", "member_ids": [self.ids["bob"]]},
                                 rival), 400, "unknown member")


class MentionNotificationTest(ChatUsers):
    """Without a broker the relay runs the notifications consumer in process: a mention of an
    offline member is stored as a `mention` notification (once), an online member's is not
    (their socket shows the message), nor the sender's own."""

    def test_offline_mentioned_members_get_a_stored_notification(self):
        s = self.server
        room = self.room(members=("bob", "carol"), name="mentions")

        async def with_carol_online():
            q = f"access_token={self.tokens['carol']}&room_id={room}"
            async with websockets.connect(f"ws://127.0.0.1:{s.port}/ws?{q}"):
                deadline = time.monotonic() + 10
                carol = self.ids["carol"]
                while s.sql(f"SELECT status FROM users WHERE id = {carol}") != [["online"]]:
                    self.assertLess(time.monotonic(), deadline, "carol never came online")
                    await asyncio.sleep(0.05)
                # bob by his display name, carol by her email's local part, alice herself.
                r = await asyncio.to_thread(self.send, room, body="@김철수 @carol @alice 회의")
                self.assertStatus(r, 201)
                # Carol stays connected until the consumer ran (it runs after the commit).
                query = ("SELECT recipient_user_id, kind, title FROM chat_notifications"
                         f" WHERE message_id = {r.json['id']}")
                deadline = time.monotonic() + 10
                while not s.sql(query) and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                # (One statement writes every recipient's row: a wrong one would be here now.)
                return query
        query = asyncio.run(with_carol_online())
        self.assertEqual(s.sql(query), [[str(self.ids["bob"]), "mention", "mention"]])
        # No mention, no notification; the relay got past both messages.
        plain = self.send(room, body="no mentions here").json["id"]
        deadline = time.monotonic() + 10
        while s.sql("SELECT count(*) FROM outbox WHERE published_at IS NULL") != [["0"]]:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        self.assertEqual(s.sql(f"SELECT count(*) FROM chat_notifications"
                               f" WHERE message_id = {plain}"), [["0"]])
        self.assertEqual(s.sql(query), [[str(self.ids["bob"]), "mention", "mention"]])


class SendRateLimitTest(ServerTestCase):
    server_env = {"MESSAGE_RATE_PER_USER": "3"}

    def test_sends_are_throttled_per_user(self):
        s = self.server
        admin = s.admin_token()
        room = s.post("/api/v1/rooms", {"name": "r"}, admin).json["id"]
        statuses = [s.post(f"/api/v1/rooms/{room}/messages", {"body": str(i)}, admin).status
                    for i in range(6)]
        self.assertEqual(statuses[:3], [201, 201, 201])
        self.assertIn(429, statuses[3:])
        # The outbox relay hands every committed message to the in-process consumers.
        import re, time
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            m = re.search(r"^msg_events_dispatched_total (\d+)$", s.get("/metrics").body, re.M)
            if m and int(m.group(1)) >= 3:
                break
            time.sleep(0.05)
        self.assertGreaterEqual(int(m.group(1)), 3)
        # Nothing was persisted for the throttled sends: seqs stay dense.
        seqs = [m["seq"] for m in
                s.get(f"/api/v1/rooms/{room}/messages?after_seq=0", admin).json["items"]]
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))


if __name__ == "__main__":
    unittest.main()
