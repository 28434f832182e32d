"""WebSocket keep-alive on both sockets (`/ws` and `/ws/session`), with short intervals: a peer
that answers the server's pings and sends nothing else stays connected for several idle
timeouts; a peer that stops answering is dropped with a close frame within idle timeout + one
ping interval; and an idle user's presence does not flap while their sockets stay up."""
import asyncio
import base64
import os
import struct
import urllib.parse

import websockets

from .harness import ServerTestCase
from .wsclient import Client

PING = 1  # WS_PING_INTERVAL_SECONDS
IDLE = 3  # WS_IDLE_TIMEOUT_SECONDS
HEALTHY_FOR = 3 * IDLE + 1  # how long a healthy idle peer must stay connected
SLACK = 1.0  # scheduling noise on a busy two-core machine under ASan


class RawSocket:
    """An RFC 6455 client on a bare TCP stream, so the test decides exactly what is answered:
    a background reader records pings (answering them while `answering`), the close frame
    and EOF, with their times."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.loop = asyncio.get_running_loop()
        self.answering = True
        self.pings = 0
        self.last_answer = None  # when the last pong went out
        self.close_code = None
        self.close_at = None
        self.eof_at = None
        self.texts = []
        self.task = asyncio.create_task(self._pump())

    @classmethod
    async def open(cls, port, target):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        if not head.startswith(b"HTTP/1.1 101"):
            raise AssertionError(f"handshake refused: {head!r}")
        return cls(reader, writer)

    def send(self, opcode, payload=b""):
        assert len(payload) < 126
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    async def _frame(self):
        head = await self.reader.readexactly(2)
        opcode, size = head[0] & 0x0F, head[1] & 0x7F
        if head[1] & 0x80:
            raise AssertionError("the server masked a frame")
        if size == 126:
            size = struct.unpack("!H", await self.reader.readexactly(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", await self.reader.readexactly(8))[0]
        return opcode, await self.reader.readexactly(size)

    async def _pump(self):
        try:
            while True:
                opcode, payload = await self._frame()
                if opcode == 0x9:
                    self.pings += 1
                    if self.answering:
                        self.send(0xA, payload)
                        self.last_answer = self.loop.time()
                elif opcode == 0x8:
                    self.close_at = self.loop.time()
                    self.close_code = struct.unpack("!H", payload[:2])[0] if payload else None
                else:
                    self.texts.append(payload)
        except (asyncio.IncompleteReadError, ConnectionError):
            self.eof_at = self.loop.time()

    def alive(self):
        return self.close_at is None and self.eof_at is None

    async def wait_closed(self, timeout):
        await asyncio.wait_for(asyncio.shield(self.task), timeout)

    def shut(self):
        self.task.cancel()
        self.writer.close()


class KeepAliveTest(ServerTestCase):
    server_env = {"WS_PING_INTERVAL_SECONDS": str(PING), "WS_IDLE_TIMEOUT_SECONDS": str(IDLE)}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        admin = s.admin_token()
        cls.ids, cls.tokens = {}, {}
        for name in ("amy", "ben", "cho"):
            cls.ids[name] = s.create_user(admin, f"{name}@example.com")
            cls.tokens[name] = s.login(f"{name}@example.com", "password-1")
        r = s.post("/api/v1/rooms", {"name": "quiet", "member_ids": [cls.ids["ben"]]},
                   cls.tokens["amy"])
        assert r.status == 201, r
        cls.room = r.json["id"]

    def chat_target(self, who):
        return f"/ws?room_id={self.room}&access_token={self.tokens[who]}"

    def session_target(self, who, device):
        r = self.server.post("/api/v1/session/login", {"device_id": device}, self.tokens[who])
        self.assertStatus(r, 200)
        q = {k: r.json[k] for k in ("tenant_id", "user_id", "session_id", "session_token")}
        return f"/ws/session?{urllib.parse.urlencode(q)}"

    def run_async(self, coro):
        return asyncio.run(asyncio.wait_for(coro, 60))

    async def healthy_then_silent(self, target):
        """Answers every ping for HEALTHY_FOR seconds (sending nothing else), then stops."""
        sock = await RawSocket.open(self.server.port, target)
        loop = asyncio.get_running_loop()
        try:
            opened = loop.time()
            await asyncio.sleep(HEALTHY_FOR)
            if not sock.alive():
                self.fail(f"a peer answering pings was dropped after "
                          f"{(sock.close_at or sock.eof_at) - opened:.1f}s")
            # Pinged all along, not once per idle timeout.
            self.assertGreaterEqual(sock.pings, HEALTHY_FOR // PING - 2)

            sock.answering = False
            await sock.wait_closed(IDLE + PING + 10)
            self.assertEqual(sock.close_code, 1001, "dropped without a close frame")
            silent_for = sock.close_at - sock.last_answer
            self.assertGreaterEqual(silent_for, IDLE - 0.5)
            self.assertLessEqual(silent_for, IDLE + PING + SLACK)
            # We never answer the close frame: the server cuts the TCP connection itself.
            self.assertLessEqual(sock.eof_at - sock.close_at, PING + SLACK)
        finally:
            sock.shut()

    def test_chat_socket_keeps_a_healthy_peer_and_drops_a_silent_one(self):
        self.run_async(self.healthy_then_silent(self.chat_target("ben")))

    def test_session_socket_keeps_a_healthy_peer_and_drops_a_silent_one(self):
        target = self.session_target("ben", "raw")
        self.run_async(self.healthy_then_silent(target))

    def test_library_client_stays_and_presence_does_not_flap(self):
        """cho watches the tenant's status changes while amy's chat and session sockets sit
        idle (the library answers pings; its own pings are off)."""
        port = self.server.port
        watch_target = self.session_target("cho", "watch")
        amy_session_target = self.session_target("amy", "idle")

        async def scenario():
            url = f"ws://127.0.0.1:{port}"
            async with websockets.connect(url + watch_target, ping_interval=None) as watch_ws:
                watcher = Client(watch_ws)
                self.assertEqual((await watcher.next())["type"], "session.connected")
                async with websockets.connect(url + amy_session_target,
                                              ping_interval=None) as amy_session, \
                        websockets.connect(url + self.chat_target("amy"),
                                           ping_interval=None) as amy_chat:
                    while True:  # amy comes online once
                        event = await watcher.next("status.changed")
                        if event["user_id"] == self.ids["amy"]:
                            self.assertEqual(event["status"], "online")
                            break
                    loop = asyncio.get_running_loop()
                    deadline = loop.time() + HEALTHY_FOR
                    while (left := deadline - loop.time()) > 0:
                        try:
                            event = await watcher.next("status.changed", timeout=left)
                        except (AssertionError, asyncio.TimeoutError):
                            break
                        self.assertNotEqual(event["user_id"], self.ids["amy"],
                                            f"presence flapped: {event}")
                    # Both sockets are still up and working.
                    chat = Client(amy_chat)
                    await chat.send({"type": "message", "payload": {
                        "client_msg_id": "0c3c7e0e-5a3b-4d7e-9f6b-2d9a1e0b7c11",
                        "body": "still here"}})
                    self.assertEqual((await chat.next("message"))["payload"]["body"],
                                     "still here")
                    session = Client(amy_session)
                    self.assertEqual((await session.next())["type"], "session.connected")
                    await session.send({"type": "ping"})
                    self.assertEqual((await session.next("pong"))["type"], "pong")
        self.run_async(scenario())
