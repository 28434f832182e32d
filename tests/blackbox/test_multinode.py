"""Several msg_server nodes on one private Redis and one database behave as one server (issue
14): a message sent on one node reaches sockets on the others in seq order; a node subscribes
to exactly the rooms its sockets are in; session events and presence cross nodes (a user with
sockets on two nodes stays online until both close); a Redis outage keeps REST and local
delivery going, /health/ready says degraded, and when Redis is back every socket is told to
resync and a resume returns what it missed."""
import asyncio
import signal
import time
import unittest

import websockets

from .harness import Redis, Server, check_exit
from .wsclient import Client


def eventually(check, timeout=10, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    return check()


class NodesTestCase(unittest.TestCase):
    """A private Redis and one node per entry of ROLES (`all` by default) on it, sharing one
    database; USERS created; ENV on every node. A failure in set-up stops what did start (no
    redis-server outlives the test); tear-down checks each node's exit and sanitizer report,
    except a node a test killed with -9."""

    ROLES = ("all", "all")
    USERS = ()
    ENV = {}

    @classmethod
    def setUpClass(cls):
        cls.redis = Redis()
        cls.nodes = []
        try:
            env = dict({"REDIS_ADDR": cls.redis.addr()}, **cls.ENV)
            cls.nodes.append(Server(env=env, role=cls.ROLES[0]).start())
            for role in cls.ROLES[1:]:
                cls.nodes.append(Server(peer_of=cls.nodes[0], role=role).start())
            s = cls.nodes[0]
            cls.admin = s.admin_token()
            cls.ids, cls.tokens = {}, {}
            for name in cls.USERS:
                cls.ids[name] = s.create_user(cls.admin, f"{name}@example.com")
                cls.tokens[name] = s.login(f"{name}@example.com", "password-1")
        except BaseException:
            for n in reversed(cls.nodes):
                n.drop()
            cls.redis.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        codes = [n.stop() for n in cls.nodes]
        for n in reversed(cls.nodes):
            n.drop()
        cls.redis.stop()
        for n, code in zip(cls.nodes, codes):
            if code != -9:  # killed on purpose
                check_exit(n, code)

    def subscribers(self, room):
        """How many nodes hold a Redis subscription to the room's channel."""
        return self.redis.command("PUBSUB", "NUMSUB", f"tenant:default:room:{room}")[1]

    async def subscribed(self, room, nodes, tries=200):
        """True once `nodes` nodes are subscribed to the room (polled every 20 ms)."""
        for _ in range(tries):
            if self.subscribers(room) >= nodes:
                return True
            await asyncio.sleep(0.02)
        return False


class MultiNodeTest(NodesTestCase):
    ROLES = ("all", "all", "all")
    USERS = ("alice", "bob", "carol", "dave", "erin")
    ENV = {"PRESENCE_NODE_TTL_SECONDS": "3"}

    # ---- helpers ---------------------------------------------------------------------------

    def room(self, *members, creator="alice"):
        r = self.nodes[0].post("/api/v1/rooms", {"name": "r", "member_ids": [
            self.ids[m] for m in members]}, self.tokens[creator])
        self.assertEqual(r.status, 201, r)
        return r.json["id"]

    def connect(self, node, who, room=None):
        q = f"access_token={self.tokens[who]}" + (f"&room_id={room}" if room else "")
        return websockets.connect(f"ws://127.0.0.1:{node.port}/ws?{q}")

    def run_async(self, coro):
        return asyncio.run(asyncio.wait_for(coro, 90))

    async def until_subscribed(self, room, nodes):
        if not await self.subscribed(room, nodes):
            self.fail(f"room {room}: {self.subscribers(room)} subscribed nodes, wanted {nodes}")

    def send(self, node, who, room, body):
        r = node.post(f"/api/v1/rooms/{room}/messages", {"body": body}, self.tokens[who])
        self.assertEqual(r.status, 201, r)
        return r.json

    def status(self, who):
        r = self.nodes[0].get(f"/api/v1/users/search?q={who}", self.admin)
        self.assertEqual(r.status, 200, r)
        return r.json[0]["status"]

    # ---- tests -----------------------------------------------------------------------------

    def test_a_send_on_one_node_reaches_the_others_in_seq_order(self):
        a, b, c = self.nodes
        room = self.room("bob", "carol")

        async def scenario():
            async with self.connect(b, "bob") as wb, self.connect(c, "carol", room) as wc:
                bob, carol = Client(wb), Client(wc)
                await self.until_subscribed(room, 2)
                sent = []
                for i in range(30):
                    sent.append((await asyncio.to_thread(self.send, a, "alice", room,
                                                         f"m{i}"))["seq"])
                for client in (bob, carol):
                    got = [(await client.next("message"))["payload"] for _ in sent]
                    self.assertEqual([m["seq"] for m in got], sent)
                    self.assertEqual([m["body"] for m in got], [f"m{i}" for i in range(30)])
                    self.assertTrue(await client.nothing("message", 0.3))  # each once
        self.run_async(scenario())

    def test_a_node_subscribes_to_exactly_the_rooms_of_its_sockets(self):
        a, b, _ = self.nodes
        r1, r2 = self.room("dave"), self.room("dave")
        channels = lambda: sorted(self.redis.command("PUBSUB", "CHANNELS", "tenant:*:room:*"))

        async def scenario():
            async with self.connect(b, "dave", r1):
                await self.until_subscribed(r1, 1)
                self.assertEqual(self.subscribers(r2), 0)
                async with self.connect(a, "dave", r2), self.connect(b, "dave", r2):
                    await self.until_subscribed(r2, 2)
                    self.assertEqual(self.subscribers(r1), 1)  # node a has no socket in r1
            self.assertTrue(await asyncio.to_thread(
                eventually, lambda: not {f"tenant:default:room:{r1}",
                                         f"tenant:default:room:{r2}"} & set(channels())))
        self.run_async(scenario())

    def test_session_events_cross_nodes(self):
        a, b, c = self.nodes
        login = b.post("/api/v1/session/login", {"device_id": "watch"}, self.tokens["carol"])
        self.assertEqual(login.status, 200, login)
        sess = login.json
        url = (f"ws://127.0.0.1:{b.port}/ws/session?tenant_id={sess['tenant_id']}"
               f"&user_id={sess['user_id']}&session_id={sess['session_id']}"
               f"&session_token={sess['session_token']}")

        async def scenario():
            async with websockets.connect(url) as ws:
                watch = Client(ws)
                self.assertEqual((await watch.next())["type"], "session.connected")
                await asyncio.sleep(0.2)
                r = await asyncio.to_thread(c.patch, "/api/v1/session/status",
                                            {"status": "busy", "status_note": "n"},
                                            self.tokens["erin"])
                self.assertEqual(r.status, 200, r)
                while True:
                    event = await watch.next("status.changed")
                    if event["user_id"] == self.ids["erin"]:
                        break
                self.assertEqual(event["status"], "busy")
                note = await asyncio.to_thread(
                    a.post, "/api/v1/notes", {"to": [self.ids["carol"]], "title": "t",
                                              "body": "across nodes"}, self.tokens["alice"])
                self.assertEqual(note.status, 201, note)
                got = await watch.next("note.received")
                self.assertEqual(got["body"], "across nodes")
        self.run_async(scenario())
        c.patch("/api/v1/session/status", {"status": "online"}, self.tokens["erin"])

    def test_presence_follows_the_user_across_nodes(self):
        a, b, _ = self.nodes

        async def scenario():
            async with self.connect(a, "dave"):
                await asyncio.to_thread(eventually, lambda: self.status("dave") == "online")
                async with self.connect(b, "dave"):
                    await asyncio.sleep(0.3)
                self.assertEqual(self.status("dave"), "online")
                await asyncio.sleep(0.5)  # a's socket is still open: no node may write offline
                self.assertEqual(self.status("dave"), "online")
            self.assertEqual(await asyncio.to_thread(
                eventually, lambda: self.status("dave") == "offline"), True)
        self.run_async(scenario())


class MultiNodeCrashTest(NodesTestCase):
    """A node killed with -9: its users' presence is released by the others within the TTL,
    and its clients resume on another node without a gap."""

    USERS = ("alice", "bob")
    ENV = {"PRESENCE_NODE_TTL_SECONDS": "3"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a, cls.b = cls.nodes

    def status(self, who):
        return self.a.get(f"/api/v1/users/search?q={who}", self.admin).json[0]["status"]

    def test_a_crashed_nodes_users_go_offline_and_resume_elsewhere(self):
        room = self.a.post("/api/v1/rooms", {"name": "r", "member_ids": [self.ids["bob"]]},
                           self.tokens["alice"]).json["id"]

        async def scenario():
            ws = await websockets.connect(
                f"ws://127.0.0.1:{self.b.port}/ws?access_token={self.tokens['bob']}&room_id={room}")
            bob = Client(ws)
            await asyncio.to_thread(eventually, lambda: self.status("bob") == "online")
            first = self.a.post(f"/api/v1/rooms/{room}/messages", {"body": "before"},
                                self.tokens["alice"]).json
            self.assertEqual((await bob.next("message"))["payload"]["seq"], first["seq"])
            self.b.stop(sig=9)
            missed = [self.a.post(f"/api/v1/rooms/{room}/messages", {"body": f"m{i}"},
                                  self.tokens["alice"]).json["seq"] for i in range(5)]
            # Node b never closed the socket: its presence entry goes when it stops beating.
            self.assertTrue(await asyncio.to_thread(
                eventually, lambda: self.status("bob") == "offline", 15))
            async with websockets.connect(
                    f"ws://127.0.0.1:{self.a.port}/ws?access_token={self.tokens['bob']}"
                    f"&room_id={room}") as again:
                bob = Client(again)
                await bob.send({"type": "resume", "payload": {"rooms": {str(room): first["seq"]}}})
                got = [(await bob.next("message"))["payload"]["seq"] for _ in missed]
                self.assertEqual(got, missed)
                self.assertTrue(await bob.nothing("message", 0.3))
        asyncio.run(asyncio.wait_for(scenario(), 90))


class RollingRestartTest(NodesTestCase):
    """SIGTERM (a rolling deploy): the node closes its sockets with 1001, exits cleanly within
    the shutdown timeout, and its clients resume on another node without a gap."""

    USERS = ("alice", "bob")
    ENV = {"SHUTDOWN_TIMEOUT_SECONDS": "5"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a, cls.b = cls.nodes

    def test_sigterm_closes_sockets_with_1001_and_clients_resume_elsewhere(self):
        a, b = self.a, self.b
        room = a.post("/api/v1/rooms", {"name": "r", "member_ids": [self.ids["bob"]]},
                      self.tokens["alice"]).json["id"]
        url = lambda node: (f"ws://127.0.0.1:{node.port}/ws?access_token={self.tokens['bob']}"
                            f"&room_id={room}")

        async def scenario():
            ws = await websockets.connect(url(b))
            bob = Client(ws)
            await self.subscribed(room, 1)
            first = (await asyncio.to_thread(a.post, f"/api/v1/rooms/{room}/messages",
                                             {"body": "before"}, self.tokens["alice"])).json
            self.assertEqual((await bob.next("message"))["payload"]["seq"], first["seq"])
            started = time.monotonic()
            b.proc.send_signal(signal.SIGTERM)
            with self.assertRaises(websockets.exceptions.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            self.assertEqual(closed.exception.code, 1001)
            self.assertEqual(await asyncio.to_thread(b.proc.wait, 10), 0)
            self.assertLess(time.monotonic() - started, 5)  # it did not sit out the timeout
            later = [(await asyncio.to_thread(a.post, f"/api/v1/rooms/{room}/messages",
                                              {"body": f"m{i}"}, self.tokens["alice"])).json["seq"]
                     for i in range(3)]
            async with websockets.connect(url(a)) as again:
                bob = Client(again)
                await bob.send({"type": "resume", "payload": {"rooms": {str(room): first["seq"]}}})
                self.assertEqual([(await bob.next("message"))["payload"]["seq"] for _ in later],
                                 later)
        asyncio.run(asyncio.wait_for(scenario(), 60))


class RedisOutageTest(NodesTestCase):
    """Redis stopped under traffic: REST and local delivery go on, readiness says degraded;
    back, every socket is told to resync, and resume returns exactly what it missed."""

    USERS = ("alice", "bob", "carol")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a, cls.b = cls.nodes

    def test_outage_keeps_rest_and_local_delivery_then_resyncs(self):
        a, b = self.a, self.b
        room = a.post("/api/v1/rooms", {"name": "r", "member_ids": [
            self.ids["bob"], self.ids["carol"]]}, self.tokens["alice"]).json["id"]
        url = lambda node, who: (f"ws://127.0.0.1:{node.port}/ws?"
                                 f"access_token={self.tokens[who]}&room_id={room}")
        send = lambda body: a.post(f"/api/v1/rooms/{room}/messages", {"body": body},
                                   self.tokens["alice"])

        async def scenario():
            async with websockets.connect(url(a, "bob")) as wa, \
                    websockets.connect(url(b, "carol")) as wb:
                bob, carol = Client(wa), Client(wb)
                await self.subscribed(room, 2)
                seen = (await asyncio.to_thread(send, "before")).json["seq"]
                self.assertEqual((await carol.next("message"))["payload"]["seq"], seen)
                self.assertEqual((await bob.next("message"))["payload"]["seq"], seen)

                self.redis.stop()
                self.assertTrue(await asyncio.to_thread(eventually, lambda: a.get(
                    "/health/ready").json.get("status") == "degraded"))
                ready = a.get("/health/ready")
                self.assertEqual((ready.status, ready.json["error"]), (200, "redis unavailable"))
                during = []
                for i in range(3):
                    r = await asyncio.to_thread(send, f"during {i}")
                    self.assertEqual(r.status, 201, r)  # acknowledged: in PostgreSQL
                    during.append(r.json["seq"])
                # Local delivery on node a goes on without Redis.
                self.assertEqual([(await bob.next("message"))["payload"]["seq"] for _ in during],
                                 during)

                self.redis.start()
                for client, last in ((carol, seen), (bob, during[-1])):
                    resync = await client.next("resync_required", timeout=15)
                    self.assertEqual(resync["room_id"], room)
                    await client.send({"type": "resume", "payload": {"rooms": {str(room): last}}})
                got = [(await carol.next("message"))["payload"]["seq"] for _ in during]
                self.assertEqual(got, during)  # exactly what carol missed, in order
                self.assertTrue(await bob.nothing("message", 0.3))  # bob missed nothing
                self.assertTrue(await asyncio.to_thread(eventually, lambda: a.get(
                    "/health/ready").json.get("status") == "ready"))
                after = (await asyncio.to_thread(send, "after")).json["seq"]
                self.assertEqual((await carol.next("message"))["payload"]["seq"], after)
                self.assertEqual((await bob.next("message"))["payload"]["seq"], after)
        asyncio.run(asyncio.wait_for(scenario(), 90))


class SplitRolesTest(NodesTestCase):
    """The seed's split deployment: `session`, `chat` and `fileman`, each its own process, on
    one Redis and one database, serve the chat, session, notes and files flows of `all`."""

    ROLES = ("session", "chat", "fileman")
    USERS = ("alice", "bob")
    ENV = {"FILEMAN_PORT": "0"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.session, cls.chat, cls.files = cls.nodes

    def session_socket(self, who):
        r = self.session.post("/api/v1/session/login", {"device_id": "d"}, self.tokens[who])
        self.assertEqual(r.status, 200, r)
        s = r.json
        return websockets.connect(
            f"ws://127.0.0.1:{self.session.port}/ws/session?tenant_id={s['tenant_id']}"
            f"&user_id={s['user_id']}&session_id={s['session_id']}"
            f"&session_token={s['session_token']}")

    def test_chat_session_notes_and_files_across_roles(self):
        from .test_files import transfer
        chat, sess, files = self.chat, self.session, self.files
        alice, bob = self.tokens["alice"], self.tokens["bob"]
        # Each role serves its own routes only.
        self.assertEqual(chat.get("/api/v1/notes", alice).status, 404)
        self.assertEqual(sess.get("/api/v1/rooms", alice).status, 404)
        room = chat.post("/api/v1/rooms", {"name": "r", "member_ids": [self.ids["bob"]]}, alice)
        self.assertEqual(room.status, 201, room)
        room = room.json["id"]

        async def scenario():
            async with self.session_socket("alice") as wa, self.session_socket("bob") as wb:
                watch, bob_session = Client(wa), Client(wb)
                self.assertEqual((await watch.next())["type"], "session.connected")
                self.assertEqual((await bob_session.next())["type"], "session.connected")
                async with websockets.connect(
                        f"ws://127.0.0.1:{chat.port}/ws?access_token={bob}&room_id={room}") as wc:
                    bob_chat = Client(wc)
                    # Presence computed on the chat node reaches the session node's sockets.
                    while True:
                        event = await watch.next("status.changed")
                        if event["user_id"] == self.ids["bob"] and event["status"] == "online":
                            break
                    sent = await asyncio.to_thread(chat.post, f"/api/v1/rooms/{room}/messages",
                                                   {"body": "split"}, alice)
                    self.assertEqual(sent.status, 201, sent)
                    got = await bob_chat.next("message")
                    self.assertEqual(got["payload"]["body"], "split")
                    notify = await asyncio.to_thread(
                        sess.post, "/api/v1/chat/notify",
                        {"room_id": room, "message_id": sent.json["id"], "title": "Alice",
                         "body": "split", "recipient_ids": [self.ids["bob"]]}, alice)
                    self.assertEqual(notify.status, 200, notify)
                    self.assertEqual((await bob_session.next("chat.notification"))["room_id"],
                                     room)

                # Files on fileman: upload, register, download by a member.
                data = b"minutes of the split meeting"
                key = f"rooms/{room}/minutes.txt"
                up = await asyncio.to_thread(files.post, "/api/v1/files/presign-upload",
                                             {"object_key": key}, alice)
                self.assertEqual(up.status, 200, up)
                self.assertEqual((await asyncio.to_thread(transfer, "PUT", up.json["url"],
                                                          data))[0], 200)
                reg = await asyncio.to_thread(
                    files.post, "/api/v1/files/register",
                    {"room_id": room, "object_key": key, "content_type": "text/plain",
                     "original_name": "minutes.txt", "size_bytes": len(data)}, alice)
                self.assertEqual(reg.status, 201, reg)
                # A note from the session node attaching the room's file.
                note = await asyncio.to_thread(
                    sess.post, "/api/v1/notes",
                    {"title": "minutes", "to": [self.ids["bob"]],
                     "files": [{"file_name": "minutes.txt", "object_key": key,
                                "content_type": "text/plain", "size_bytes": len(data)}]}, alice)
                self.assertEqual(note.status, 201, note)
                received = await bob_session.next("note.received")
                stored = received["files"][0]["object_key"]
                down = await asyncio.to_thread(files.post, "/api/v1/files/presign-download",
                                               {"object_key": stored}, bob)
                self.assertEqual(down.status, 200, down)
                self.assertEqual(await asyncio.to_thread(transfer, "GET", down.json["url"]),
                                 (200, data))
        asyncio.run(asyncio.wait_for(scenario(), 60))


class FailoverUnderLoadTest(NodesTestCase):
    """msg_loadgen's oracle over three nodes: a node killed with -9 mid-run, and Redis stopped
    mid-run; clients reconnect to another node / resync and resume, and every acked message
    still reaches every member exactly once, in seq order."""

    ROLES = ("all", "all", "all")
    ENV = {"MESSAGE_RATE_PER_USER": "100000", "WS_FRAMES_PER_SECOND": "0",
           "WS_BYTES_PER_SECOND": "0"}

    def loadgen(self, nodes, seconds):
        import os
        import subprocess
        bin_ = os.environ.get("MSG_LOADGEN_BIN", "")
        if not bin_:
            raise RuntimeError("MSG_LOADGEN_BIN must be set (run through ctest)")
        s = nodes[0]
        return subprocess.Popen(
            [bin_, "fanout", "--rooms", "6", "--members", "6", "--senders", "12", "--rate", "300",
             "--duration", str(seconds), "--warmup", "1", "--drain", "20", "--resilient", "1",
             "--port", ",".join(str(n.port) for n in nodes), "--dsn", s.env["POSTGRES_DSN"],
             "--jwt-secret", s.jwt_secret], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)

    def test_1_redis_outage_under_load(self):
        run = self.loadgen(self.nodes, 6)
        time.sleep(2.5)
        self.redis.stop()
        time.sleep(2)
        self.redis.start()
        out, _ = run.communicate(timeout=120)
        self.assertEqual(run.returncode, 0, out)
        self.assertIn("ORACLE: every acked message reached every member once", out)
        self.assertIn("recovery resync_required", out)  # the sockets were told, and resumed

    def test_2_node_killed_under_load(self):
        run = self.loadgen(self.nodes, 6)
        time.sleep(2.5)
        self.nodes[1].stop(sig=9)
        out, _ = run.communicate(timeout=120)
        self.assertEqual(run.returncode, 0, out)
        self.assertIn("ORACLE: every acked message reached every member once", out)
        self.assertIn("recovery reconnected", out)


if __name__ == "__main__":
    unittest.main()
