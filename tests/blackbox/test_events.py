"""Issue 16: committed changes reach an AMQP broker (the run's RabbitMQ, MSG_TEST_AMQP_URL) as
the documented envelope (docs/events.md), confirmed, and nothing is lost while the broker is
unreachable. A consumer here is a queue of the test's own, bound to the exchange `chat.events`."""
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import pika

from .harness import BIN, Server, ServerTestCase

AMQP_URL = os.environ.get("MSG_TEST_AMQP_URL", "")
EXCHANGE = "chat.events"


def marked(mark):
    """Matches message events whose body carries `mark`. Tests of other modules (and their
    databases, where room ids start at 1 too) publish to the same exchange at the same time,
    so a room id alone does not say whose event it is."""
    return lambda e: (isinstance(e.get("payload"), dict)
                      and mark in str(e["payload"].get("body", "")))


class Consumer:
    """A private queue bound to `chat.events` with `key`; read with get()."""

    def __init__(self, key):
        if not AMQP_URL:
            raise RuntimeError("MSG_TEST_AMQP_URL is not set (run through scripts/test.sh)")
        self.conn = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
        self.ch = self.conn.channel()
        self.ch.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
        self.queue = self.ch.queue_declare("", exclusive=True).method.queue
        self.ch.queue_bind(self.queue, EXCHANGE, routing_key=key)

    def get_all(self, want, timeout=20, match=lambda env: True):
        """Messages (method, properties, envelope) until `want` matched or the timeout."""
        got, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline and len(got) < want:
            method, props, body = self.ch.basic_get(self.queue, auto_ack=True)
            if method is None:
                time.sleep(0.05)
                continue
            env = json.loads(body)
            if match(env):
                got.append((method, props, env))
        return got

    def drain(self, seconds, match=lambda env: True):
        return self.get_all(10 ** 9, timeout=seconds, match=match)

    def close(self):
        self.conn.close()


class Proxy:
    """A TCP forwarder between the server and the broker, so a test can make the broker
    unreachable (stop: the listener closes and live connections are cut) and come back on the
    same port — the broker itself stays up for the rest of the run."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.listener, self.conns, self.lock = None, [], threading.Lock()

    def start(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(16)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        # shutdown() first: close() alone leaves a thread blocked in accept() accepting.
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            conns, self.conns = self.conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def broker_port():
    return int(re.search(r":(\d+)/?", AMQP_URL.split("@")[-1]).group(1))


class EventsTest(ServerTestCase):
    server_env = {"LAVINMQ_URL": AMQP_URL, "MESSAGE_RATE_PER_USER": "10000",
                  "AMQP_QUEUE_PREFIX": "bb" + secrets.token_hex(4)}

    def send(self, token, room, body):
        r = self.server.post(f"/api/v1/rooms/{room}/messages", {"body": body}, token)
        self.assertIn(r.status, (200, 201), r)
        return r.json

    def test_a_sent_message_reaches_a_bound_queue_as_the_envelope(self):
        s = self.server
        token = s.admin_token()
        room = s.post("/api/v1/rooms", {"name": "events"}, token).json["id"]
        consumer = Consumer("default.message.created")
        body = "이벤트 envelope " + secrets.token_hex(4)
        try:
            sent = self.send(token, room, body)
            got = consumer.get_all(1, match=marked(body))
            self.assertEqual(len(got), 1, "the event did not reach the queue")
            method, props, env = got[0]
            self.assertEqual(method.routing_key, "default.message.created")
            self.assertEqual(set(env), {"id", "type", "version", "tenant_id", "occurred_at",
                                        "payload"})
            self.assertRegex(env["id"], r"^default/\d+$")
            self.assertEqual(env["type"], "message.created")
            self.assertEqual(env["version"], 1)
            self.assertEqual(env["tenant_id"], "default")
            self.assertRegex(env["occurred_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
            self.assertEqual(env["payload"], {"id": sent["id"], "room_id": room,
                                              "seq": sent["seq"], "sender_id": sent["sender_id"],
                                              "body": body})
            self.assertEqual(props.delivery_mode, 2)  # persistent
            self.assertEqual(props.message_id, env["id"])
            self.assertEqual(props.type, "message.created")
            self.assertEqual(props.content_type, "application/json")
            # Only the tenant's own routing key: a queue bound to another tenant sees nothing.
            other = Consumer("acme.#")
            try:
                self.send(token, room, "not for acme")
                self.assertEqual(other.drain(1.5), [])
            finally:
                other.close()
        finally:
            consumer.close()
        self.assertIn("msg_amqp_connected 1", s.get("/metrics").body)


class EventsOffTest(ServerTestCase):
    server_env = {"LAVINMQ_URL": AMQP_URL, "CHAT_USE_MQ": "false"}

    def test_chat_use_mq_false_publishes_nothing(self):
        s = self.server
        token = s.admin_token()
        room = s.post("/api/v1/rooms", {"name": "quiet"}, token).json["id"]
        consumer = Consumer("#")
        body = "stays home " + secrets.token_hex(4)
        try:
            r = s.post(f"/api/v1/rooms/{room}/messages", {"body": body}, token)
            self.assertEqual(r.status, 201, r)
            # The relay still runs (in-process consumers) and marks the row published...
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                pending = s.sql("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0]
                if pending == "0":
                    break
                time.sleep(0.1)
            self.assertEqual(pending, "0")
            # ...but nothing of this room went to the broker.
            self.assertEqual(consumer.drain(1.5, match=marked(body)), [])
        finally:
            consumer.close()
        self.assertIn("msg_amqp_connected 0", s.get("/metrics").body)


class WorkerRoleTest(unittest.TestCase):
    """`msg_server worker` serves health on WORKER_PORT and relays the outbox to the broker
    (here it is the only relay: the other node runs the `session` role, which has none)."""

    def test_the_worker_relays_committed_events(self):
        base = Server(role="session").start()
        worker = None
        consumer = Consumer("relayed.#")
        try:
            worker = Server(role="worker", peer_of=base,
                            env={"LAVINMQ_URL": AMQP_URL,
                                 "AMQP_QUEUE_PREFIX": "bb" + secrets.token_hex(4)}).start()
            self.assertEqual(worker.get("/health/ready").status, 200)
            self.assertEqual(worker.get("/api/v1/rooms").status, 404)  # no API routes
            base.sql("INSERT INTO tenants (tenant_id, name) VALUES ('relayed', 'r')")
            base.sql("INSERT INTO outbox (tenant_id, topic, payload)"
                     " SELECT 'relayed', 'message.created', jsonb_build_object('n', g)"
                     " FROM generate_series(1, 30) g")
            got = consumer.get_all(30, match=lambda e: e["tenant_id"] == "relayed")
            self.assertEqual(sorted(env["payload"]["n"] for _, _, env in got), list(range(1, 31)))
            self.assertIn("msg_amqp_connected 1", worker.get("/metrics").body)
        finally:
            consumer.close()
            for s in (worker, base):
                if s is not None:
                    s.stop()
            base.drop()


class WorkerConsumersTest(unittest.TestCase):
    """Split roles over one database and data directory: `session` (logins), `chat`
    (messages), `fileman` (files) and a `worker`, the only node with a relay and consumer
    groups. A mention of an offline user becomes a stored notification, and a registered image
    gets its thumbnail after the registration answered — both made by the worker's groups
    (msg.notifications, msg.thumbnails)."""

    def test_the_worker_makes_thumbnails_and_mention_notifications(self):
        from .test_files import transfer, upload_image
        session = Server(role="session").start()
        nodes = [session]
        try:
            env = {"LAVINMQ_URL": AMQP_URL, "AMQP_QUEUE_PREFIX": "bb" + secrets.token_hex(4),
                   "FILEMAN_PORT": "0"}
            for role in ("chat", "fileman", "worker"):
                nodes.append(Server(role=role, peer_of=session, env=env).start())
            chat, fileman, worker = nodes[1:]
            admin = session.admin_token()
            bob = session.create_user(admin, "bob@example.com")  # never connects: offline
            room = chat.post("/api/v1/rooms", {"name": "split", "member_ids": [bob]}, admin)
            self.assertEqual(room.status, 201, room)
            room = room.json["id"]
            sent = chat.post(f"/api/v1/rooms/{room}/messages", {"body": "@bob 확인 부탁해요"},
                             admin)
            self.assertEqual(sent.status, 201, sent)

            f = upload_image(fileman, admin, room)
            self.assertEqual(f.status, 201, f)
            self.assertEqual(f.json["thumbnail_status"], "pending")

            def until(query, want):
                self.assertEqual(worker.wait_sql(query, want), want, worker.log()[-2000:])
            until("SELECT recipient_user_id, message_id, kind FROM chat_notifications",
                  [[str(bob), str(sent.json["id"]), "mention"]])
            until(f"SELECT thumbnail_status FROM files WHERE id = {f.json['id']}", [["ready"]])
            d = fileman.post("/api/v1/files/presign-download",
                             {"object_key": f.json["thumbnail_key"]}, admin)
            self.assertEqual(d.status, 200, d)
            status, jpeg = transfer("GET", d.json["url"])
            self.assertEqual((status, jpeg[:3]), (200, b"\xff\xd8\xff"))
            for group in ("notifications", "thumbnails"):
                self.assertGreaterEqual(
                    metric(worker, f'msg_events_consumed_total{{group="{group}"}}'), 1, group)
            # The chat node has no relay and no consumer group.
            self.assertNotIn("msg_events_consumed_total{", chat.get("/metrics").body)
        finally:
            for s in reversed(nodes):
                s.stop()
            session.drop()


OUTAGE_SECONDS = 30


class BrokerOutageTest(unittest.TestCase):
    """The broker unreachable for 30 s while 1,000 messages are sent: every send is acked (the outbox
    holds the events), every event arrives once the broker is back (none lost; a bound queue
    dedupes on the envelope id), and the server's own consumer group applies each exactly once
    (processed_events). The relay and the consumer had connections when the outage began, so
    it proves their reconnects too."""

    def test_events_sent_during_an_outage_arrive_after_it(self):
        N = 1000
        proxy = Proxy(broker_port())
        proxy.start()
        url = AMQP_URL.replace(f":{broker_port()}", f":{proxy.port}")
        server = Server(env={"LAVINMQ_URL": url, "MESSAGE_RATE_PER_USER": "10000",
                             "AMQP_QUEUE_PREFIX": "bb" + secrets.token_hex(4)}).start()
        consumer = Consumer("default.message.created")
        try:
            token = server.admin_token()
            room = server.post("/api/v1/rooms", {"name": "outage"}, token).json["id"]
            mark = secrets.token_hex(4)
            mine = marked(mark)
            first = server.post(f"/api/v1/rooms/{room}/messages", {"body": f"before {mark}"},
                                token)
            self.assertEqual(first.status, 201)
            self.assertEqual(len(consumer.get_all(1, match=mine)), 1)  # connected and flowing

            proxy.stop()
            cut_at = time.monotonic()
            ids = []
            for i in range(N):
                r = server.post(f"/api/v1/rooms/{room}/messages", {"body": f"m{i} {mark}"},
                                token)
                self.assertEqual(r.status, 201, r)
                ids.append(r.json["id"])
            # The broker stays unreachable for 30 s (the outage): the relay tries, fails
            # and backs off; the consumers' reconnects fail meanwhile.
            time.sleep(max(1.5, OUTAGE_SECONDS - (time.monotonic() - cut_at)))
            unpublished = server.sql("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            self.assertGreater(int(unpublished[0][0]), 0, "events were marked published unconfirmed"
                               + "\n".join(server.lines[-20:]))
            self.assertEqual(consumer.drain(0.5, match=mine), [])

            proxy.start()
            # At least once: a consumer dedupes on the envelope id (a confirm lost at a bad
            # moment may legitimately bring a second copy); every message's event must come.
            by_id, deadline = {}, time.monotonic() + 60
            outage_ids = set(ids)
            arrived = lambda: sum(1 for env in by_id.values()
                                  if env["payload"]["id"] in outage_ids)
            while arrived() < N and time.monotonic() < deadline:
                for _, _, env in consumer.get_all(N - arrived(), timeout=2, match=mine):
                    by_id.setdefault(env["id"], env)
            # (The "before" message may come again too: its confirm can be cut with the proxy,
            # and then the relay publishes it once more — at least once.)
            seen = sorted(env["payload"]["id"] for env in by_id.values()
                          if env["payload"]["id"] != first.json["id"])
            self.assertEqual(seen, sorted(ids), "events lost")
            # The server's own consumer group (vector-index, through the proxy too) applied
            # each event exactly once: every first delivery of an id counts, repeats do not.
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and metric(server, "msg_events_applied_total") < N + 1:
                time.sleep(0.2)
            self.assertEqual(metric(server, "msg_events_applied_total"), N + 1)
            rows = server.sql("SELECT count(*), count(DISTINCT event_id) FROM processed_events"
                              " WHERE consumer = 'vector-index'")
            self.assertEqual(rows[0], [str(N + 1), str(N + 1)])
        finally:
            consumer.close()
            proxy.stop()
            code = server.stop()
            server.drop()
        self.assertEqual(code, 0, server.log()[-2000:])


def metric(server, name):
    """The value of the series `name` (with its labels, if any); None when absent."""
    m = re.search(rf"^{re.escape(name)} (\S+)$", server.get("/metrics").body, re.M)
    return float(m.group(1)) if m else None


DEAD = 'msg_events_dead_lettered_total{group="vector-index"}'
RETRIED = 'msg_events_retried_total{group="vector-index"}'


class DeadLetterTest(ServerTestCase):
    """The vector-index consumer (queue <prefix>.vector-index) fails on every event (its
    embedding endpoint is down): after AMQP_MAX_ATTEMPTS the event is in <prefix>.dlq with the
    reason, `msg_server dlq list` shows it and `dlq replay` delivers it to the group again."""
    prefix = "bb" + secrets.token_hex(4)
    server_env = {"LAVINMQ_URL": AMQP_URL, "AMQP_QUEUE_PREFIX": prefix, "AMQP_MAX_ATTEMPTS": "2",
                  "EMBEDDING_ENDPOINT": "http://127.0.0.1:1/v1/embeddings"}

    def dlq(self, *args):
        done = subprocess.run([BIN, "dlq", *args], env=self.server.env, capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        return done.stdout

    def wait_metric(self, name, at_least, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = metric(self.server, name)
            if value is not None and value >= at_least:
                return value
            time.sleep(0.2)
        self.fail(f"{name} did not reach {at_least}: {metric(self.server, name)}")

    def test_a_failing_consumer_dead_letters_and_replay_delivers_again(self):
        s = self.server
        token = s.admin_token()
        room = s.post("/api/v1/rooms", {"name": "dlq"}, token).json["id"]
        sent = s.post(f"/api/v1/rooms/{room}/messages", {"body": "never indexed"}, token)
        self.assertEqual(sent.status, 201, sent)
        self.wait_metric(DEAD, 1)
        self.assertEqual(metric(s, RETRIED), 1)  # 2 attempts: 1 retry
        self.assertEqual(metric(s, 'msg_events_consumed_total{group="vector-index"}'), 0)

        listed = self.dlq("list")
        self.assertIn("1 dead letter(s)", listed)
        line = next(l for l in listed.splitlines() if "\tgroup=" in l)
        self.assertRegex(line, r"^default/\d+\tmessage\.created\tgroup=vector-index\t"
                               r"attempts=2\trouting_key=default\.message\.created\treason=\S")
        self.assertIn("1 dead letter(s)", self.dlq("list"))  # listing leaves it there

        self.assertIn("0 dead letter(s) replayed", self.dlq("replay", "no-such-group"))
        self.assertIn("1 dead letter(s) replayed", self.dlq("replay", "vector-index"))
        # Delivered to the group again: it fails twice more and is dead-lettered again.
        self.wait_metric(DEAD, 2)
        self.assertEqual(metric(s, RETRIED), 2)
        self.assertIn("1 dead letter(s)", self.dlq("list"))


class ConsumerCrashTest(unittest.TestCase):
    """Two nodes share one consumer group (competing consumers on <prefix>.vector-index). One
    is killed with SIGKILL while events flow: the deliveries it held unacked go to the other,
    and every event's work completes (processed_events has a row for every outbox event; its
    key makes a second completion of an id impossible, so "twice" is ruled out by the schema,
    and the surviving node counts the redeliveries it skipped)."""

    def test_a_killed_consumer_loses_nothing_and_applies_nothing_twice(self):
        N = 400
        env = {"LAVINMQ_URL": AMQP_URL, "AMQP_QUEUE_PREFIX": "bb" + secrets.token_hex(4),
               "MESSAGE_RATE_PER_USER": "10000"}
        a = Server(env=env).start()
        b = None
        try:
            b = Server(peer_of=a, env=dict(env, DATA_DIR=tempfile.mkdtemp(prefix="msg_bb_b_")))
            b.start()
            token = a.admin_token()
            room = a.post("/api/v1/rooms", {"name": "crash"}, token).json["id"]
            killed = False
            for i in range(N):
                target = b if killed else a
                r = target.post(f"/api/v1/rooms/{room}/messages", {"body": f"m{i}"}, token)
                self.assertEqual(r.status, 201, r)
                if i == N // 3:
                    a.proc.send_signal(signal.SIGKILL)  # its relay, consumer and sockets die
                    a.proc.wait()
                    killed = True
            count = lambda: b.sql("SELECT count(*), count(DISTINCT event_id) FROM processed_events"
                                  " WHERE consumer = 'vector-index'")[0]
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and count()[0] != str(N):
                time.sleep(0.3)
            self.assertEqual(count(), [str(N), str(N)], "an event was lost")
            missing = b.sql("SELECT count(*) FROM outbox o WHERE NOT EXISTS (SELECT 1 FROM"
                            " processed_events p WHERE p.consumer = 'vector-index'"
                            " AND p.event_id = o.tenant_id || '/' || o.id)")
            self.assertEqual(missing, [["0"]])
        finally:
            if b is not None:
                b.stop()
                shutil.rmtree(b.env["DATA_DIR"], ignore_errors=True)
            a.drop()


class WorkerCrashTest(unittest.TestCase):
    """Two `worker` processes share the msg.notifications group. Messages that mention an
    offline user are committed first (the chat node has no relay), so the workers meet a
    backlog: each takes a prefetch window of deliveries. One worker is killed with SIGKILL
    once it has handled some of its window; the deliveries it held unacked are redelivered
    to the other (its redelivered counter says so), and every message gets exactly one
    mention notification (0 lost; the (message, recipient) key makes a second one impossible,
    and there are as many notifications as distinct messages)."""

    def test_a_killed_worker_loses_nothing_and_applies_nothing_twice(self):
        # Whether the kill lands while the worker holds unacked deliveries is a matter of
        # timing (a fast worker may have drained the backlog): each attempt checks that nothing
        # was lost or applied twice, and the test fails unless one attempt proved it with
        # deliveries the broker redelivered.
        for attempt in range(3):
            redelivered = self.kill_a_worker_mid_window()
            if redelivered >= 1:
                return
        self.fail("the killed worker never held an unacked delivery: the test proved nothing")

    def kill_a_worker_mid_window(self):
        N = 600
        session = Server(role="session").start()
        nodes = [session]
        try:
            env = {"LAVINMQ_URL": AMQP_URL, "AMQP_QUEUE_PREFIX": "bb" + secrets.token_hex(4),
                   "MESSAGE_RATE_PER_USER": "10000", "AMQP_PREFETCH": "50"}
            chat = Server(role="chat", peer_of=session, env=env).start()
            nodes.append(chat)
            admin = session.admin_token()
            bob = session.create_user(admin, "bob@example.com")  # never connects: offline
            room = chat.post("/api/v1/rooms", {"name": "crash", "member_ids": [bob]}, admin)
            self.assertEqual(room.status, 201, room)
            room = room.json["id"]
            for i in range(N):
                r = chat.post(f"/api/v1/rooms/{room}/messages", {"body": f"@bob {i}"}, admin)
                self.assertEqual(r.status, 201, r)

            workers = [Server(role="worker", peer_of=session, env=env) for _ in range(2)]
            for w in workers:
                nodes.append(w.start())
            a, b = workers
            consumed = 'msg_events_consumed_total{group="notifications"}'
            deadline = time.monotonic() + 30
            while (metric(a, consumed) or 0) < 5:
                self.assertLess(time.monotonic(), deadline, a.log()[-2000:])
                time.sleep(0.01)
            a.proc.send_signal(signal.SIGKILL)  # mid-window: it holds unacked deliveries
            a.proc.wait()
            nodes.remove(a)

            count = lambda: b.sql("SELECT count(*), count(DISTINCT message_id)"
                                  " FROM chat_notifications WHERE kind = 'mention'")[0]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and count()[0] != str(N):
                time.sleep(0.2)
            self.assertEqual(count(), [str(N), str(N)], "a notification was lost\n"
                             + b.log()[-2000:])
            missing = b.sql("SELECT count(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM"
                            " chat_notifications n WHERE n.message_id = m.id"
                            f" AND n.recipient_user_id = {bob}) AND m.room_id = {room}")
            self.assertEqual(missing, [["0"]])
            return metric(b, 'msg_events_redelivered_total{group="notifications"}') or 0
        finally:
            for s in reversed(nodes):
                s.stop()
            session.drop()
