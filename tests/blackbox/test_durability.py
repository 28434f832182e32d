"""Acked means committed, with sends batched (group commit): the server is killed with SIGKILL
while many sockets keep several sends in flight each; after a restart every acked message is
stored once with the id and seq its ack named, seq has no gap, and retrying every unacked send
with its client_msg_id stores each at most once."""
import asyncio
import json
import unittest

import websockets

from .harness import Server, check_exit

SOCKETS = 12     # one per user, all in one room: every send of the run contends for it
IN_FLIGHT = 8    # unacked sends a socket keeps outstanding
KILL_AFTER = 400  # acks seen before the kill


class CrashUnderBatchedSendsTest(unittest.TestCase):
    def setUp(self):
        self.server = Server(env={"MESSAGE_RATE_PER_USER": "100000"}).start()
        self.restarted = None
        admin = self.server.admin_token()
        self.tokens = []
        ids = []
        for i in range(SOCKETS):
            ids.append(self.server.create_user(admin, f"u{i}@example.com"))
            self.tokens.append(self.server.login(f"u{i}@example.com", "password-1"))
        self.room = self.server.post("/api/v1/rooms", {"name": "hot", "member_ids": ids[1:]},
                                     self.tokens[0]).json["id"]

    def tearDown(self):
        for s in (self.restarted, self.server):
            if s is not None:
                code = s.stop()
                if s is self.restarted:
                    check_exit(s, code)
        self.server.drop()

    async def sender(self, i, sent, acked, enough):
        url = (f"ws://127.0.0.1:{self.server.port}/ws?access_token={self.tokens[i]}"
               f"&room_id={self.room}")
        try:
            async with websockets.connect(url) as ws:
                window = asyncio.Semaphore(IN_FLIGHT)

                async def reader():
                    try:
                        async for raw in ws:
                            frame = json.loads(raw)
                            if frame.get("type") == "ack":
                                p = frame["payload"]
                                acked[frame["client_msg_id"]] = (p["id"], p["seq"])
                                window.release()
                                if len(acked) >= KILL_AFTER:
                                    enough.set()
                    finally:
                        for _ in range(IN_FLIGHT):
                            window.release()  # the sending loop must not wait on a dead socket

                read = asyncio.create_task(reader())
                try:
                    n = 0
                    while not read.done():
                        await window.acquire()
                        cid = f"u{i}-{n}"
                        sent.append((i, cid))
                        await ws.send(json.dumps({"type": "message",
                                                  "payload": {"body": cid, "client_msg_id": cid}}))
                        n += 1
                finally:
                    await asyncio.gather(read, return_exceptions=True)
        except (websockets.ConnectionClosed, OSError):
            pass  # the kill

    def test_every_acked_send_survives_a_kill_once_and_retries_do_not_duplicate(self):
        sent, acked = [], {}

        async def scenario():
            enough = asyncio.Event()
            tasks = [asyncio.create_task(self.sender(i, sent, acked, enough))
                     for i in range(SOCKETS)]
            await asyncio.wait_for(enough.wait(), 60)
            self.server.stop(sig=9)  # mid-stream: batches in flight, acks on the wire
            await asyncio.wait_for(asyncio.gather(*tasks), 30)
        asyncio.run(scenario())
        self.assertGreaterEqual(len(acked), KILL_AFTER)
        self.assertGreater(len(sent), len(acked))  # some sends were cut off unacked

        self.restarted = Server(peer_of=self.server).start()
        stored = {cid: (int(mid), int(seq)) for cid, mid, seq in self.restarted.sql(
            f"SELECT client_msg_id, id, seq FROM messages WHERE room_id = {self.room}")}
        for cid, ack in acked.items():
            self.assertEqual(stored.get(cid), ack, cid)

        # Retry everything not acked, as a client would after reconnecting.
        for i, cid in sent:
            if cid in acked:
                continue
            r = self.restarted.post(f"/api/v1/rooms/{self.room}/messages",
                                    {"body": cid, "client_msg_id": cid}, self.tokens[i])
            self.assertIn(r.status, (200, 201), r)
            if cid in stored:  # committed before the kill, ack lost: answered with the original
                self.assertEqual(r.json["id"], stored[cid][0])
        rows = self.restarted.sql(
            f"SELECT client_msg_id, seq FROM messages WHERE room_id = {self.room} ORDER BY seq")
        ids = [cid for cid, _ in rows]
        self.assertEqual(len(ids), len(set(ids)), "a client_msg_id stored twice")
        self.assertEqual(sorted(ids), sorted(cid for _, cid in sent))
        self.assertEqual([int(seq) for _, seq in rows], list(range(1, len(rows) + 1)))


if __name__ == "__main__":
    unittest.main()
