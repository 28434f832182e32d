"""Issue 12, tried as a colleague in the same company would: every object a request names is
checked against the caller's rights at the moment of use, and a right taken away stops working
everywhere within seconds, on REST and live sockets alike. Each test failed on the code before
the fix (local blob store; the same rules hold on S3, which test_files covers for the routes)."""
import asyncio
import http.client
import os
import time
import urllib.parse

import websockets

from .harness import ADMIN_PASSWORD, ServerTestCase
from .test_files import transfer

REVOKE_WITHIN = 5  # seconds: the acceptance bound for REST and sockets


class SecurityTest(ServerTestCase):
    server_env = {"WS_PING_INTERVAL_SECONDS": "1", "WS_IDLE_TIMEOUT_SECONDS": "5",
                  "WS_FRAMES_PER_SECOND": "20", "WS_MAX_SOCKETS_PER_USER": "4"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.admin = s.admin_token()
        cls.ids, cls.tokens = {}, {}
        for name in ("alice", "bob", "eve", "mia", "ned", "olga", "pat", "uma"):
            role = "manager" if name == "mia" else "user"
            cls.ids[name] = s.create_user(cls.admin, f"{name}@example.com", role=role)
            cls.tokens[name] = s.login(f"{name}@example.com", "password-1")
        r = s.post("/api/v1/rooms", {"name": "board", "member_ids": [cls.ids["bob"]]},
                   cls.tokens["alice"])
        assert r.status == 201, r
        cls.room = r.json["id"]

    # ---- helpers ---------------------------------------------------------------------------

    def post(self, path, body, who):
        token = self.tokens[who] if who in self.tokens else who
        return self.server.post(path, body, token)

    def upload(self, key, data, who):
        r = self.post("/api/v1/files/presign-upload", {"object_key": key}, who)
        self.assertStatus(r, 200)
        status, _ = transfer("PUT", r.json["url"], data)
        self.assertEqual(status, 200)
        return r.json

    def register(self, key, data, who="alice", content_type="application/pdf"):
        self.upload(key, data, who)
        r = self.post("/api/v1/files/register",
                      {"room_id": self.room, "object_key": key, "content_type": content_type,
                       "original_name": key.rsplit("/", 1)[-1], "size_bytes": len(data)}, who)
        self.assertStatus(r, 201)
        return r.json

    def note(self, who, to, files):
        return self.post("/api/v1/notes", {"title": "fyi", "body": "see attached",
                                          "to": [self.ids[t] for t in to], "files": files}, who)

    def ws_url(self, token, path="/ws"):
        return f"ws://127.0.0.1:{self.server.port}{path}?room_id={self.room}&access_token={token}"

    async def closed_within(self, ws, seconds):
        """The close code of a socket the server ends within `seconds` (None: still open)."""
        try:
            while True:
                await asyncio.wait_for(ws.recv(), seconds)
        except asyncio.TimeoutError:
            return None
        except websockets.exceptions.ConnectionClosed as e:
            return e.code

    def wait_refused(self, token, path="/api/v1/users/me"):
        """Seconds until `token` is refused with 401 (fails after REVOKE_WITHIN)."""
        started = time.monotonic()
        while True:
            r = self.server.get(path, token)
            if r.status == 401:
                return r, time.monotonic() - started
            if time.monotonic() - started > REVOKE_WITHIN:
                self.fail(f"token still accepted after {REVOKE_WITHIN}s: {r}")
            time.sleep(0.1)

    def fresh_user(self, name, role="user"):
        uid = self.server.create_user(self.admin, f"{name}@example.com", role=role)
        return uid, self.server.login(f"{name}@example.com", "password-1")

    # ---- files -----------------------------------------------------------------------------

    def test_note_cannot_attach_a_file_of_a_room_the_sender_is_not_in(self):
        key = f"rooms/{self.room}/minutes.pdf"
        self.register(key, b"%PDF board minutes")
        # Eve is not in the room: naming its file in a note is refused and stores nothing …
        r = self.note("eve", ["uma"], [{"file_name": "m.pdf", "object_key": key}])
        self.assertStatus(r, 403, "file access denied")
        inbox = self.server.get("/api/v1/notes/inbox", self.tokens["uma"]).json
        self.assertEqual(inbox, [])
        # … so she has no right to download it either.
        d = self.post("/api/v1/files/presign-download", {"object_key": key}, "eve")
        self.assertStatus(d, 404, "file not found")
        # Unregistered room keys and other people's notes/ folders are refused too.
        r = self.note("eve", ["pat"], [{"file_name": "x", "object_key": f"rooms/{self.room}/none"}])
        self.assertStatus(r, 403, "file access denied")
        r = self.note("eve", ["pat"],
                      [{"file_name": "x", "object_key": f"notes/{self.ids['alice']}/a.pdf"}])
        self.assertStatus(r, 400)

    def test_note_attachments_the_sender_may_read_reach_the_recipient(self):
        own = f"notes/{self.ids['bob']}/plan.pdf"
        data = b"%PDF plan"
        self.upload(own, data, "bob")
        room_file = f"rooms/{self.room}/agenda.pdf"
        self.register(room_file, b"%PDF agenda")
        r = self.note("bob", ["pat"], [{"file_name": "plan.pdf", "object_key": own},
                                       {"file_name": "agenda.pdf", "object_key": room_file}])
        self.assertStatus(r, 201)
        stored = [f["object_key"] for f in r.json["files"]]
        self.assertEqual(stored, [f"tenants/default/{own}", f"tenants/default/{room_file}"])
        d = self.post("/api/v1/files/presign-download", {"object_key": own}, "pat")
        self.assertStatus(d, 200)
        self.assertEqual(transfer("GET", d.json["url"]), (200, data))
        # Served as a download that no browser renders inline (local store).
        u = urllib.parse.urlsplit(d.json["url"])
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        try:
            conn.request("GET", u.path + "?" + u.query)
            got = conn.getresponse()
            got.read()
            self.assertEqual(got.getheader("Content-Disposition"), "attachment")
            self.assertEqual(got.getheader("X-Content-Type-Options"), "nosniff")
            self.assertEqual(got.getheader("Content-Type"), "application/octet-stream")
        finally:
            conn.close()
        # An upload into notes/ that nobody made is not attachable.
        r = self.note("bob", ["pat"], [{"file_name": "ghost",
                                        "object_key": f"notes/{self.ids['bob']}/ghost.pdf"}])
        self.assertStatus(r, 400, "object does not exist")

    def test_registered_objects_cannot_be_overwritten(self):
        image_key = f"rooms/{self.room}/face.png"
        from .test_files import png
        registered = self.register(image_key, png(64, 64), content_type="image/png")
        self.assertTrue(registered["thumbnail_key"])
        for key in (image_key, registered["object_key"], registered["thumbnail_key"]):
            with self.subTest(key=key):
                r = self.post("/api/v1/files/presign-upload", {"object_key": key}, "bob")
                self.assertStatus(r, 409, "file is already registered")
        # notes/ keys are per uploader: nobody writes into another user's folder …
        r = self.post("/api/v1/files/presign-upload",
                      {"object_key": f"notes/{self.ids['alice']}/x.pdf"}, "bob")
        self.assertStatus(r, 400)
        r = self.post("/api/v1/files/presign-upload", {"object_key": "notes/x.pdf"}, "bob")
        self.assertStatus(r, 400)
        # … and an attachment of a sent note is frozen like a registered file.
        own = f"notes/{self.ids['alice']}/frozen.pdf"
        self.upload(own, b"v1", "alice")
        self.assertStatus(self.note("alice", ["bob"], [{"file_name": "f", "object_key": own}]), 201)
        r = self.post("/api/v1/files/presign-upload", {"object_key": own}, "alice")
        self.assertStatus(r, 409, "file is already registered")

    def test_a_thumbnail_never_overwrites_a_registered_object(self):
        from .test_files import png
        # Alice registers a file whose name is what bob's image's thumbnail would be called.
        victim_key = f"rooms/{self.room}/chart_thumb.jpg"
        original = b"\xff\xd8 alice's own jpeg bytes"
        self.register(victim_key, original, content_type="image/jpeg")
        bob_image = self.register(f"rooms/{self.room}/chart.png", png(32, 32), who="bob",
                                  content_type="image/png")
        self.assertEqual(bob_image["thumbnail_key"], "")  # not made: its key is taken
        d = self.post("/api/v1/files/presign-download", {"object_key": victim_key}, "alice")
        self.assertStatus(d, 200)
        self.assertEqual(transfer("GET", d.json["url"]), (200, original))

    # ---- tenants ---------------------------------------------------------------------------

    def make_tenant(self, tenant_id):
        s = self.server
        s.create_tenant(self.admin, tenant_id)
        seeded = s.run_command("seed-admin", {"TENANT_ID": tenant_id,
                                              "ADMIN_EMAIL": f"admin@{tenant_id}.example"})
        self.assertEqual(seeded.returncode, 0, seeded.stderr)
        return s.login(f"admin@{tenant_id}.example", ADMIN_PASSWORD, tenant=tenant_id)

    def test_tenant_admin_may_rename_only(self):
        own = self.make_tenant("selfserve")
        path = "/api/v1/tenants/selfserve"
        r = self.server.patch(path, {"name": "Self Serve"}, own)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["name"], "Self Serve")
        for field, value in (("is_active", True), ("is_active", False),
                             ("deployment_mode", "dedicated"), ("dedicated_dsn", "host=x"),
                             ("dedicated_redis_addr", "r:6379"), ("user_count_threshold", 5),
                             ("dedicated_minio_bucket", "b"), ("dedicated_minio_use_ssl", True)):
            with self.subTest(field=field):
                r = self.server.patch(path, {field: value}, own)
                self.assertStatus(r, 403, "only a platform admin may change " + field)
        self.assertTrue(self.server.get("/api/v1/tenants", own).json[0]["is_active"])

    def test_suspended_tenant_loses_rest_and_sockets_within_seconds(self):
        own = self.make_tenant("suspendme")
        me = self.server.get("/api/v1/users/me", own).json["id"]
        room = self.server.post("/api/v1/rooms", {"name": "r"}, own).json["id"]
        session = self.server.post("/api/v1/session/login", {"device_id": "d"}, own).json
        q = urllib.parse.urlencode({k: session[k] for k in ("tenant_id", "user_id", "session_id",
                                                            "session_token")})
        base = f"ws://127.0.0.1:{self.server.port}"

        async def scenario():
            async with websockets.connect(f"{base}/ws?room_id={room}&access_token={own}") as chat, \
                    websockets.connect(f"{base}/ws/session?{q}") as sess:
                await asyncio.sleep(0.3)
                r = await asyncio.to_thread(self.server.patch, "/api/v1/tenants/suspendme",
                                            {"is_active": False}, self.admin)
                self.assertStatus(r, 200)
                codes = await asyncio.gather(self.closed_within(chat, REVOKE_WITHIN),
                                             self.closed_within(sess, REVOKE_WITHIN))
                self.assertEqual(codes, [4401, 4401])
        asyncio.run(asyncio.wait_for(scenario(), 30))
        r, _ = self.wait_refused(own)
        self.assertEqual(r.json, {"error": "tenant suspended"})
        # No way back in: new logins, new sockets.
        login = self.server.post("/api/v1/auth/login", {"tenant_id": "suspendme",
                                                        "email": "admin@suspendme.example",
                                                        "password": ADMIN_PASSWORD})
        self.assertStatus(login, 401)

        async def reconnect():
            try:
                async with websockets.connect(f"{base}/ws?room_id={room}&access_token={own}"):
                    return 101
            except websockets.exceptions.InvalidStatusCode as e:
                return e.status_code
        self.assertEqual(asyncio.run(reconnect()), 401)
        # The platform admin brings it back; the old token works again (it was never revoked).
        self.assertStatus(self.server.patch("/api/v1/tenants/suspendme", {"is_active": True},
                                            self.admin), 200)
        started = time.monotonic()
        while self.server.get("/api/v1/users/me", own).status != 200:
            self.assertLess(time.monotonic() - started, REVOKE_WITHIN)
            time.sleep(0.1)
        self.assertEqual(self.server.get("/api/v1/users/me", own).json["id"], me)

    # ---- users: revocation and lifecycle ----------------------------------------------------

    def test_logout_everywhere_revokes_every_token_and_socket(self):
        uid, first = self.fresh_user("quinn")
        second = self.server.login("quinn@example.com", "password-1")
        self.server.post("/api/v1/rooms/%d/members" % self.room, {"user_id": uid}, self.tokens["alice"])

        async def scenario():
            async with websockets.connect(self.ws_url(second)) as ws:
                await asyncio.sleep(0.3)
                r = await asyncio.to_thread(self.server.post, "/api/v1/session/logout-all",
                                            None, first)
                self.assertStatus(r, 200)
                self.assertEqual(await self.closed_within(ws, REVOKE_WITHIN), 4401)
        asyncio.run(asyncio.wait_for(scenario(), 30))
        for token in (first, second):
            r = self.server.get("/api/v1/users/me", token)
            self.assertStatus(r, 401, "token revoked")
        fresh = self.server.login("quinn@example.com", "password-1")
        self.assertStatus(self.server.get("/api/v1/users/me", fresh), 200)

    def test_deactivate_and_reactivate_a_user(self):
        uid, token = self.fresh_user("rita")
        path = f"/api/v1/users/{uid}"
        self.assertStatus(self.server.post(path + "/deactivate", None, self.tokens["bob"]), 403)
        self.assertStatus(self.server.post(path + "/deactivate", None, self.admin), 200)
        self.assertStatus(self.server.get("/api/v1/users/me", token), 401, "token revoked")
        login = self.server.post("/api/v1/auth/login", {"tenant_id": "default",
                                                        "email": "rita@example.com",
                                                        "password": "password-1"})
        self.assertStatus(login, 401, "invalid credentials")
        self.assertStatus(self.server.post(path + "/reactivate", None, self.admin), 200)
        fresh = self.server.login("rita@example.com", "password-1")
        self.assertStatus(self.server.get("/api/v1/users/me", fresh), 200)
        # The token from before the deactivation stays dead.
        self.assertStatus(self.server.get("/api/v1/users/me", token), 401, "token revoked")
        # Another tenant's admin cannot reach this user at all.
        other = self.make_tenant("faraway")
        self.assertStatus(self.server.post(path + "/deactivate", None, other), 404,
                          "user not found")

    def test_role_changes_and_password_resets(self):
        uid, token = self.fresh_user("sam")
        role = f"/api/v1/users/{uid}/role"
        # A manager may not raise anyone to admin (nor change roles at all).
        self.assertStatus(self.server.patch(role, {"role": "admin"}, self.tokens["mia"]), 403)
        self.assertStatus(self.server.patch(role, {"role": "boss"}, self.admin), 400)
        r = self.server.patch(role, {"role": "manager"}, self.admin)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["role"], "manager")
        # The old token claims role "user": revoked.
        self.assertStatus(self.server.get("/api/v1/users/me", token), 401, "token revoked")
        token = self.server.login("sam@example.com", "password-1")
        self.assertEqual(self.server.get("/api/v1/users/me", token).json["role"], "manager")

        device = self.server.post("/api/v1/session/login", {"device_id": "sams-phone"}, token)
        self.assertStatus(device, 200)
        q = urllib.parse.urlencode({k: device.json[k] for k in ("tenant_id", "user_id",
                                                                "session_id", "session_token")})
        session_url = f"ws://127.0.0.1:{self.server.port}/ws/session?{q}"

        async def handshake():
            try:
                async with websockets.connect(session_url):
                    return 101
            except websockets.exceptions.InvalidStatusCode as e:
                return e.status_code
        self.assertEqual(asyncio.run(handshake()), 101)

        password = f"/api/v1/users/{uid}/password"
        self.assertStatus(self.server.post(password, {"password": "short"}, self.admin), 400)
        self.assertStatus(self.server.post(password, {"password": "new-password-2"},
                                           self.tokens["bob"]), 403)
        # A manager cannot reset an admin's password.
        admin_id = self.server.get("/api/v1/users/me", self.admin).json["id"]
        self.assertStatus(self.server.post(f"/api/v1/users/{admin_id}/password",
                                           {"password": "new-password-2"},
                                           self.tokens["mia"]), 403)
        self.assertStatus(self.server.post(password, {"password": "new-password-2"}, self.admin),
                          200)
        self.assertStatus(self.server.get("/api/v1/users/me", token), 401, "token revoked")
        # The device session opened under the old password ends with it.
        self.assertEqual(asyncio.run(handshake()), 401)
        self.server.login("sam@example.com", "new-password-2")
        bad = self.server.post("/api/v1/auth/login", {"tenant_id": "default",
                                                      "email": "sam@example.com",
                                                      "password": "password-1"})
        self.assertStatus(bad, 401)

    def test_expired_token_closes_its_socket(self):
        uid, _ = self.fresh_user("tess")
        self.server.post("/api/v1/rooms/%d/members" % self.room, {"user_id": uid}, self.tokens["alice"])
        now = int(time.time())
        token = self.server.make_jwt({"user_id": str(uid), "tenant_id": "default",
                                      "role": "user", "iat": now, "exp": now + 2})

        async def scenario():
            async with websockets.connect(self.ws_url(token)) as ws:
                return await self.closed_within(ws, 6)
        self.assertEqual(asyncio.run(asyncio.wait_for(scenario(), 20)), 4401)

    # ---- room membership -------------------------------------------------------------------

    def test_removed_member_loses_the_room_at_once_on_live_sockets(self):
        s = self.server
        room = s.post("/api/v1/rooms", {"name": "leaky", "member_ids": [
            self.ids["bob"], self.ids["ned"], self.ids["olga"]]}, self.tokens["alice"]).json["id"]
        base = f"ws://127.0.0.1:{s.port}/ws"
        ned = self.tokens["ned"]

        async def scenario():
            async with websockets.connect(f"{base}?room_id={room}&access_token={ned}") as single, \
                    websockets.connect(f"{base}?access_token={ned}") as multi, \
                    websockets.connect(f"{base}?room_id={room}&access_token="
                                       f"{self.tokens['bob']}") as bob_ws:
                from .wsclient import Client
                m, bob = Client(multi), Client(bob_ws)
                await asyncio.sleep(0.3)
                r = await asyncio.to_thread(
                    s.delete, f"/api/v1/rooms/{room}/members/{self.ids['ned']}", None,
                    self.tokens["alice"])
                self.assertStatus(r, 200)
                # The single-room socket is closed; the multi-room one is told and leaves.
                self.assertEqual(await self.closed_within(single, REVOKE_WITHIN), 4403)
                removed = await m.next("member.removed")
                self.assertEqual((removed["room_id"], removed["user_id"]),
                                 (room, self.ids["ned"]))
                self.assertEqual((await bob.next("member.removed"))["user_id"], self.ids["ned"])
                await asyncio.to_thread(s.post, f"/api/v1/rooms/{room}/messages",
                                        {"body": "after ned left"}, self.tokens["alice"])
                self.assertEqual((await bob.next("message"))["payload"]["body"], "after ned left")
                self.assertTrue(await m.nothing("message", 1.0))
                # No relays from the removed member either.
                await m.send({"type": "typing", "room_id": room, "payload": {"typing": True}})
                self.assertEqual((await m.next("error"))["error"], "room access denied")
                self.assertTrue(await bob.nothing("typing", 1.0))
                await m.send({"type": "subscribe", "room_ids": [room]})
                self.assertEqual((await m.next("error"))["error"], "room access denied")
        asyncio.run(asyncio.wait_for(scenario(), 30))
        self.assertStatus(s.get(f"/api/v1/rooms/{room}/messages", ned), 403, "room access denied")

    def test_who_may_remove_room_members(self):
        s = self.server
        room = s.post("/api/v1/rooms", {"name": "rules", "member_ids": [
            self.ids["bob"], self.ids["olga"]]}, self.tokens["alice"]).json["id"]
        path = f"/api/v1/rooms/{room}/members/"
        # A plain member cannot remove others; an outsider is not told the room exists.
        self.assertStatus(s.delete(path + str(self.ids["olga"]), None, self.tokens["bob"]), 403,
                          "insufficient permissions")
        self.assertStatus(s.delete(path + str(self.ids["olga"]), None, self.tokens["eve"]), 403,
                          "room access denied")
        other = self.make_tenant("farther")
        self.assertStatus(s.delete(path + str(self.ids["olga"]), None, other), 403,
                          "room access denied")
        self.assertStatus(s.delete(path + str(self.ids["eve"]), None, self.tokens["alice"]), 404,
                          "member not found")
        self.assertStatus(s.delete(path + "x", None, self.tokens["alice"]), 400)
        # Anyone may leave; the tenant's admin may remove anyone.
        self.assertStatus(s.delete(path + str(self.ids["bob"]), None, self.tokens["bob"]), 200)
        self.assertStatus(s.delete(path + str(self.ids["olga"]), None, self.admin), 200)
        self.assertStatus(s.get(f"/api/v1/rooms/{room}/messages", self.tokens["bob"]), 403)
        members = s.get(f"/api/v1/rooms/{room}/messages", self.tokens["alice"])
        self.assertStatus(members, 200)

    # ---- abuse limits ----------------------------------------------------------------------

    def test_a_socket_flood_is_slowed_to_its_budget_and_relays_are_bounded(self):
        s = self.server
        room = s.post("/api/v1/rooms", {"name": "flood", "member_ids": [self.ids["bob"]]},
                      self.tokens["alice"]).json["id"]
        base = f"ws://127.0.0.1:{s.port}/ws?room_id={room}&access_token="
        sent = 200

        async def scenario():
            from .wsclient import Client
            async with websockets.connect(base + self.tokens["alice"]) as a, \
                    websockets.connect(base + self.tokens["bob"]) as b:
                flooder, watcher = Client(a), Client(b)
                loop = asyncio.get_running_loop()
                started = loop.time()
                for i in range(sent):
                    await flooder.send({"type": "typing", "payload": {"n": i}})
                got = 0
                while loop.time() - started < 2.0:
                    try:
                        await watcher.next("typing", timeout=max(0.01, 2.0 - (loop.time() - started)))
                        got += 1
                    except (AssertionError, asyncio.TimeoutError):
                        break
                # 20 frames/s with a 40-frame burst: at most ~80 in two seconds, not all 200.
                self.assertLess(got, 120)
                # Slowed, not dropped: the rest arrives, in order, at the budget's pace.
                while got < sent:
                    await watcher.next("typing", timeout=15)
                    got += 1
                self.assertGreaterEqual(loop.time() - started, (sent - 40) / 20 - 1)
                # Relay payloads are bounded.
                await flooder.send({"type": "typing", "payload": {"x": "y" * 2000}})
                self.assertEqual((await flooder.next("error", timeout=15))["error"],
                                 "payload too large")
                await flooder.send({"type": "webrtc_offer", "payload": {"sdp": "v" * 17000}})
                self.assertEqual((await flooder.next("error", timeout=15))["error"],
                                 "payload too large")
        asyncio.run(asyncio.wait_for(scenario(), 60))

    def test_a_ping_flood_closes_the_socket(self):
        # Beast answers every ping with a pong by itself, so pings never reached the frame
        # budget: a client could make the server write without limit. Now they are charged.
        uid, token = self.fresh_user("pino")
        room = self.server.post("/api/v1/rooms", {"name": "pings"}, token).json["id"]
        url = f"ws://127.0.0.1:{self.server.port}/ws?room_id={room}&access_token={token}"

        async def scenario():
            async with websockets.connect(url, ping_interval=None) as calm, \
                    websockets.connect(url, ping_interval=None) as flood:
                for _ in range(10):  # a few pings, each answered: fine
                    await asyncio.wait_for(await calm.ping(), 5)
                for i in range(400):  # 20 frames/s, burst 40: this is twenty seconds' worth
                    try:
                        await flood.ping(str(i).encode())
                    except websockets.exceptions.ConnectionClosed:
                        break
                with self.assertRaises(websockets.exceptions.ConnectionClosed) as closed:
                    while True:
                        await asyncio.wait_for(flood.recv(), 10)
                self.assertEqual(closed.exception.rcvd.code, 1008)
                self.assertEqual(closed.exception.rcvd.reason, "too many control frames")
                await asyncio.wait_for(await calm.ping(), 5)  # the calm socket lives on
        asyncio.run(asyncio.wait_for(scenario(), 30))

    def test_sockets_per_user_are_capped(self):
        uid, token = self.fresh_user("vera")
        room = self.server.post("/api/v1/rooms", {"name": "v"}, token).json["id"]
        url = f"ws://127.0.0.1:{self.server.port}/ws?room_id={room}&access_token={token}"

        async def scenario():
            opened = [await websockets.connect(url) for _ in range(4)]
            try:
                with self.assertRaises(websockets.exceptions.InvalidStatusCode) as refused:
                    await websockets.connect(url)
                self.assertEqual(refused.exception.status_code, 429)
                await opened.pop().close()
                for _ in range(50):  # the server notices the close
                    try:
                        opened.append(await websockets.connect(url))
                        break
                    except websockets.exceptions.InvalidStatusCode:
                        await asyncio.sleep(0.1)
                self.assertEqual(len(opened), 4)
            finally:
                for ws in opened:
                    await ws.close()
        asyncio.run(asyncio.wait_for(scenario(), 30))

    # ---- responses -------------------------------------------------------------------------

    def test_security_headers_and_masked_secrets(self):
        login = self.server.post("/api/v1/auth/login", {"tenant_id": "default",
                                                        "email": "bob@example.com",
                                                        "password": "password-1"})
        for r in (login, self.server.get("/health"), self.server.get("/nope")):
            self.assertEqual(r.headers.get("x-content-type-options"), "nosniff")
            self.assertEqual(r.headers.get("referrer-policy"), "no-referrer")
        self.assertEqual(login.headers.get("cache-control"), "no-store")
        r = self.server.post("/api/v1/tenants", {
            # Shared: stored (sealed) and masked all the same, and no database to provision.
            "tenant_id": "secretive", "name": "S", "deployment_mode": "shared",
            "dedicated_dsn": "postgres://u:dsnpass@db/x",
            "dedicated_redis_addr": "redis://:redispass@cache:6379/0",
            "dedicated_lavinmq_url": "amqp://mq:mqpass@broker:5672/vhost",
            "dedicated_minio_endpoint": "s3:9000", "dedicated_minio_access_key": "AKIAEXAMPLE",
            "dedicated_minio_secret_key": "miniopass", "dedicated_minio_bucket": "b"}, self.admin)
        self.assertStatus(r, 201)
        listed = self.server.get("/api/v1/tenants", self.admin)
        for body in (r.body, listed.body):
            for secret in ("dsnpass", "redispass", "mqpass", "AKIAEXAMPLE", "miniopass"):
                self.assertNotIn(secret, body)
        t = r.json
        self.assertEqual(t["dedicated_redis_addr"], "redis://:***@cache:6379/0")
        self.assertEqual(t["dedicated_lavinmq_url"], "amqp://mq:***@broker:5672/vhost")
        self.assertEqual(t["dedicated_minio_access_key"], "")
        self.assertTrue(t["dedicated_minio_access_key_configured"])


class AddressCapTest(ServerTestCase):
    """One client address may hold MAX_CONNECTIONS_PER_ADDRESS connections (WebSockets
    included): without it one host could take every connection the server allows."""
    server_env = {"MAX_CONNECTIONS_PER_ADDRESS": "3"}

    def open_http(self, retry=False):
        """A kept-alive connection that the server answered, or None when it was refused.
        `retry`: for up to 5 s (connections the client just closed stay counted until the
        server has seen them close)."""
        deadline = time.monotonic() + (5 if retry else 0)
        while True:
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=5)
            try:
                conn.request("GET", "/health/live")
                r = conn.getresponse()
                r.read()
                if r.status == 200:
                    return conn
            except (ConnectionError, http.client.HTTPException, OSError):
                pass
            conn.close()
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.1)

    def assertRefused(self):
        """The server closes a connection over the cap at once: not a timeout, not an answer."""
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=5)
        try:
            with self.assertRaises((http.client.RemoteDisconnected, ConnectionResetError,
                                    BrokenPipeError)):
                conn.request("GET", "/health/live")
                conn.getresponse().read()
        finally:
            conn.close()

    def test_connections_per_address_are_capped(self):
        s = self.server
        token = s.admin_token()
        room = s.post("/api/v1/rooms", {"name": "cap"}, token).json["id"]
        url = f"ws://127.0.0.1:{s.port}/ws?room_id={room}&access_token={token}"

        async def scenario():
            held = [self.open_http(retry=True), self.open_http(retry=True)]
            self.assertTrue(all(held))
            ws = await websockets.connect(url)  # a socket keeps its slot after the upgrade
            try:
                self.assertRefused()
                try:
                    await asyncio.wait_for(websockets.connect(url), 5)
                    self.fail("a fourth connection was accepted")
                except (websockets.exceptions.InvalidMessage, ConnectionError) as e:
                    self.assertNotIsInstance(e, TimeoutError)
            finally:
                await ws.close()
            self.assertTrue(s.wait_for_log("reason=max_connections_per_address"))
            again = self.open_http(retry=True)  # the socket's slot is back once it closed
            self.assertIsNotNone(again)
            self.assertRefused()
            for c in held + [again]:
                c.close()
            self.assertIsNotNone(self.open_http(retry=True), "slots did not come back")
        asyncio.run(asyncio.wait_for(scenario(), 30))
