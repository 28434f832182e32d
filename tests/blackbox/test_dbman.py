"""Issue 17: the dbman tier. Roles `chat`, `session` and `fileman` started with DBMAN_ENDPOINTS
and an empty POSTGRES_DSN have no database of their own: every data operation they run goes
over HTTP to `msg_server dbman` processes, which fail over for each other."""
import os
import secrets
import signal
import threading
import time
import unittest

from .harness import Server, free_port

TOKEN = "dbman-test-token-" + "x" * 32
AMQP_URL = os.environ.get("MSG_TEST_AMQP_URL", "")


def dbman(peer_of=None, port=0, env=None):
    e = {"INTERNAL_API_TOKEN": TOKEN, "DBMAN_PORT": str(port)}
    e.update(env or {})
    return Server(role="dbman", peer_of=peer_of, env=e).start()


def client_env(*tiers, **extra):
    """A node that reaches the database only through `tiers`."""
    env = {"DBMAN_ENDPOINTS": ",".join(f"http://127.0.0.1:{t.port}" for t in tiers),
           "INTERNAL_API_TOKEN": TOKEN, "POSTGRES_DSN": ""}
    env.update(extra)
    return env


def metric(server, name):
    for line in server.get("/metrics").body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


class DbmanApiTest(unittest.TestCase):
    """The internal API itself: token, bounds, errors that travel with their code."""

    @classmethod
    def setUpClass(cls):
        cls.tier = dbman()

    @classmethod
    def tearDownClass(cls):
        cls.tier.drop()

    def user_jwt(self):
        return self.tier.make_jwt({"user_id": "1", "tenant_id": "default", "role": "admin",
                                   "iat": int(time.time()), "exp": int(time.time()) + 600})

    def call(self, op, body, token=TOKEN):
        return self.tier.post(f"/api/internal/v1/db/{op}", body, token)

    def test_every_call_needs_the_internal_token(self):
        body = {"tenant_id": "default", "room_id": 1, "user_id": 1}
        self.assertEqual(self.tier.post("/api/internal/v1/db/rooms/members/check", body).status,
                         401)
        self.assertEqual(self.call("rooms/members/check", body, token="x" * 40).status, 401)
        # A user's JWT is not the internal token either.
        self.assertEqual(self.call("rooms/members/check", body,
                                   token=self.user_jwt()).status, 401)
        r = self.call("rooms/members/check", body)
        self.assertEqual((r.status, r.json), (200, {"member": False, "room_type": ""}))

    def test_a_body_that_does_not_map_is_a_400_and_an_unknown_operation_a_404(self):
        r = self.call("rooms/members/check", {"tenant_id": "default", "room_id": "one"})
        self.assertEqual(r.status, 400, r)
        self.assertIn("invalid request body", r.json["error"])
        self.assertEqual(self.call("rooms/members/check", None).status, 400)
        self.assertEqual(self.call("no/such/op", {}).status, 404)

    def test_an_operations_error_keeps_its_code(self):
        r = self.call("rooms/members/add", {"tenant_id": "default", "room_id": 424242,
                                            "user_id": 1, "actor": 1})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json, {"error": "room access denied", "code": "forbidden",
                                  "retry_after": 0})

    def test_it_serves_no_public_api(self):
        self.assertEqual(self.tier.get("/api/v1/rooms", self.user_jwt()).status, 404)
        self.assertEqual(self.tier.post("/api/v1/auth/login", {}).status, 404)
        self.assertEqual(self.tier.get("/health/ready").status, 200)


class SplitDeploymentTest(unittest.TestCase):
    """dbman ×2 + chat + session + fileman + worker, each its own process; only the dbman
    processes and the worker (its outbox relay) have POSTGRES_DSN. The seed's flows work as on
    `all`: login, users, rooms, messages, history, read state, a live socket, errors with the
    same texts, a file with its thumbnail and a mention notification made by the worker."""

    def test_the_flows_of_all_work_across_the_tier(self):
        import asyncio
        import websockets
        from .test_files import upload_image
        from .wsclient import Client
        a = dbman()
        nodes = [a]
        try:
            b = dbman(peer_of=a)
            nodes.append(b)
            prefix = "bb" + secrets.token_hex(4)
            env = client_env(a, b, LAVINMQ_URL=AMQP_URL, AMQP_QUEUE_PREFIX=prefix,
                             FILEMAN_PORT="0")
            session = Server(role="session", peer_of=a, env=env).start()
            nodes.append(session)
            chat = Server(role="chat", peer_of=a, env=env).start()
            nodes.append(chat)
            fileman = Server(role="fileman", peer_of=a, env=env).start()
            nodes.append(fileman)
            worker_env = dict(env, POSTGRES_DSN=a.env["POSTGRES_DSN"])
            worker = Server(role="worker", peer_of=a, env=worker_env).start()
            nodes.append(worker)
            for n in (session, chat, fileman, worker):
                self.assertEqual(n.get("/health/ready").status, 200, n.role)
                self.assertNotIn("msg_pg_pool_connections", n.get("/metrics").body
                                 if n is not worker else "", n.role)

            admin = session.admin_token()
            bob = session.create_user(admin, "bob@example.com")  # never connects: offline
            carol = session.create_user(admin, "carol@example.com")
            carol_token = session.login("carol@example.com", "password-1")
            room = chat.post("/api/v1/rooms", {"name": "split", "member_ids": [bob]}, admin)
            self.assertEqual(room.status, 201, room)
            room = room.json["id"]

            async def live():
                q = f"access_token={admin}&room_id={room}"
                async with websockets.connect(f"ws://127.0.0.1:{chat.port}/ws?{q}") as ws:
                    c = Client(ws)
                    await c.send({"type": "ping"})
                    await c.next("pong")
                    sent = chat.post(f"/api/v1/rooms/{room}/messages",
                                     {"body": "@bob 확인 부탁해요", "client_msg_id": "split-1"},
                                     admin)
                    self.assertEqual(sent.status, 201, sent)
                    frame = await c.next("message")
                    self.assertEqual(frame["payload"]["id"], sent.json["id"])
                    return sent.json
            sent = asyncio.run(asyncio.wait_for(live(), 60))

            again = chat.post(f"/api/v1/rooms/{room}/messages",
                              {"body": "@bob 확인 부탁해요", "client_msg_id": "split-1"}, admin)
            self.assertEqual((again.status, again.json["id"]), (200, sent["id"]))  # the duplicate
            history = chat.get(f"/api/v1/rooms/{room}/messages", admin)
            self.assertEqual(history.status, 200, history)
            self.assertEqual([m["id"] for m in history.json["items"]], [sent["id"]])
            denied = chat.get(f"/api/v1/rooms/{room}/messages", carol_token)
            self.assertEqual((denied.status, denied.json), (403, {"error": "room access denied"}))
            bob_token = session.login("bob@example.com", "password-1")
            unread = chat.get(f"/api/v1/rooms/{room}/unread-count", bob_token)
            self.assertEqual(unread.json["unread_count"], 1, unread)
            read = chat.post(f"/api/v1/rooms/{room}/read", {"message_id": sent["id"]}, bob_token)
            self.assertEqual(read.status, 200, read)
            unread = chat.get(f"/api/v1/rooms/{room}/unread-count", bob_token)
            self.assertEqual(unread.json["unread_count"], 0, unread)
            rooms = chat.get("/api/v1/rooms", bob_token)
            self.assertEqual([r["room_id"] for r in rooms.json["items"]], [room], rooms)
            self.assertEqual(session.get("/api/v1/users/search?q=carol", admin).json[0]["id"],
                             carol)

            f = upload_image(fileman, admin, room)
            self.assertEqual(f.status, 201, f)

            def until(query, want):
                self.assertEqual(a.wait_sql(query, want), want, worker.log()[-2000:])
            until("SELECT recipient_user_id, message_id, kind FROM chat_notifications",
                  [[str(bob), str(sent["id"]), "mention"]])
            until(f"SELECT thumbnail_status FROM files WHERE id = {f.json['id']}", [["ready"]])
            # Both dbman processes took calls (round robin).
            for t in (a, b):
                self.assertIn('route="/api/internal/v1/db/', t.get("/metrics").body)
            self.assertGreater(metric(chat, 'msg_dbman_requests_total{kind="call"}'), 0)
        finally:
            for s in reversed(nodes):
                s.stop()
            a.drop()


class FailoverTest(unittest.TestCase):
    """Two dbman processes behind one chat node; one is killed with SIGKILL while four clients
    send (with client_msg_id) and read history. No client sees an error, no acked send is lost
    (none can be stored twice: the client_msg_id key), and once the killed endpoint is back and its cooldown has passed it takes calls
    again."""

    COOLDOWN_MS = 2000

    def test_a_killed_dbman_costs_no_request_and_no_duplicate(self):
        port_a = free_port()
        a = dbman(port=port_a)
        nodes = [a]
        restarted = None
        try:
            b = dbman(peer_of=a)
            nodes.append(b)
            env = client_env(a, b, DBMAN_FAIL_THRESHOLD="1",
                             DBMAN_COOLDOWN_MS=str(self.COOLDOWN_MS),
                             DBMAN_HTTP_TIMEOUT_MS="3000", MESSAGE_RATE_PER_USER="10000")
            session = Server(role="session", peer_of=a, env=env).start()
            nodes.append(session)
            chat = Server(role="chat", peer_of=a, env=env).start()
            nodes.append(chat)
            token = session.admin_token()
            room = chat.post("/api/v1/rooms", {"name": "failover"}, token).json["id"]

            N, WORKERS = 150, 4
            errors, sent = [], []
            kill_at = threading.Event()

            def load(w):
                for i in range(N):
                    if w == 0 and i == N // 3:
                        kill_at.set()
                    cid = f"w{w}-{i}"
                    r = chat.post(f"/api/v1/rooms/{room}/messages",
                                  {"body": f"m {cid}", "client_msg_id": cid}, token)
                    # 200: a retry after the failover found the first attempt's commit.
                    if r.status not in (200, 201):
                        errors.append(("send", cid, r.status, r.body[:200]))
                    else:
                        sent.append(cid)
                    h = chat.get(f"/api/v1/rooms/{room}/messages?limit=20", token)
                    if h.status != 200:
                        errors.append(("history", cid, h.status, h.body[:200]))

            threads = [threading.Thread(target=load, args=(w,)) for w in range(WORKERS)]
            for t in threads:
                t.start()
            kill_at.wait(60)
            a.proc.send_signal(signal.SIGKILL)
            a.proc.wait()
            for t in threads:
                t.join(120)
            self.assertEqual(errors, [], chat.log()[-3000:])
            self.assertEqual(len(sent), N * WORKERS)
            stored = a.sql(f"SELECT count(*), count(DISTINCT client_msg_id) FROM messages"
                           f" WHERE room_id = {room}")
            # Every acked send stored (0 lost); the (room, sender, client_msg_id) key makes a
            # second row impossible, so the resends after the kill found their first commits.
            self.assertEqual(stored, [[str(N * WORKERS), str(N * WORKERS)]], "a send was lost")
            self.assertGreaterEqual(metric(chat, 'msg_dbman_requests_total{kind="failed_attempt"}'),
                                    1)

            # Back on its port: after the cooldown it is tried again and takes calls.
            restarted = dbman(peer_of=a, port=port_a)
            time.sleep(self.COOLDOWN_MS / 1000 + 0.5)
            for _ in range(20):
                self.assertEqual(chat.get(f"/api/v1/rooms/{room}/messages", token).status, 200)
            self.assertIn('route="/api/internal/v1/db/messages/list"',
                          restarted.get("/metrics").body)
        finally:
            if restarted is not None:
                restarted.stop()
            for s in reversed(nodes):
                s.stop()
            a.drop()


class UnreachableTierTest(unittest.TestCase):
    """Every endpoint away: 503 `service unavailable`, never an endpoint's address."""

    def test_an_unreachable_tier_is_a_503_without_its_address(self):
        tier = dbman()
        try:
            env = client_env(tier, DBMAN_HTTP_TIMEOUT_MS="500")
            session = Server(role="session", peer_of=tier, env=env).start()
            try:
                token = session.admin_token()
                tier.stop(signal.SIGKILL)
                r = session.get("/api/v1/org-units", token)
                self.assertEqual((r.status, r.json), (503, {"error": "service unavailable"}))
                self.assertNotIn(str(tier.port), r.body)
                self.assertEqual(session.get("/health/ready").status, 503)
            finally:
                session.stop()
        finally:
            tier.drop()


if __name__ == "__main__":
    unittest.main()
