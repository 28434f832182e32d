"""A WebSocket test client (python3-websockets) that waits for frames by type."""
import asyncio
import json
import time

TIMEOUT = 10


class Client:
    def __init__(self, ws):
        self.ws = ws
        self.backlog = []  # frames received while waiting for another type

    async def send(self, frame):
        await self.ws.send(json.dumps(frame))

    async def next(self, type_=None, timeout=TIMEOUT):
        """The next frame (of `type_`); frames of other types are kept for later calls."""
        for i, frame in enumerate(self.backlog):
            if type_ is None or frame.get("type") == type_:
                return self.backlog.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {type_ or 'frame'} within {timeout}s")
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), left))
            if type_ is None or frame.get("type") == type_:
                return frame
            self.backlog.append(frame)

    async def nothing(self, type_, wait=0.5):
        """True if no frame of `type_` arrives within `wait` seconds."""
        try:
            await self.next(type_, timeout=wait)
            return False
        except (AssertionError, asyncio.TimeoutError):
            return True
