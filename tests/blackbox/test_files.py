"""Files on both backends — s3rver (started by scripts/test.sh) and the local store: presign → PUT →
register → list → presign-download → GET, with membership, tenant isolation, path rules, size
checks and bad input refused; thumbnails of images, refused decompression bombs (the local
store's URLs are served by the server's streamed /blobs routes)."""
import hashlib
import hmac
import http.client
import os
import secrets
import socket
import struct
import time
import unittest
import urllib.parse
import zlib

import asyncio

import websockets

from .harness import ServerTestCase
from .wsclient import Client

S3 = os.environ.get("MSG_TEST_S3_ENDPOINT", "")


def png(width, height, claimed=None):
    """A grey gradient PNG (pure Python); `claimed` overrides the header's size (a bomb)."""
    rows = b"".join(b"\x00" + bytes((x * 255 // max(1, width - 1)) for x in range(width))
                    for _ in range(height))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    w, h = claimed or (width, height)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def transfer(method, url, body=None, headers=None, with_headers=False):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        if headers is None:
            headers = {"Content-Type": "application/octet-stream"} if body else {}
        conn.request(method, u.path + "?" + u.query, body=body, headers=headers)
        r = conn.getresponse()
        out = (r.status, r.read())
        return out + (r.headers,) if with_headers else out
    finally:
        conn.close()


def upload_image(fileman, token, room, name="diagram.png"):
    """Presigns, uploads and registers a 200x120 PNG in `room`; the register response."""
    key, image = f"rooms/{room}/{name}", png(200, 120)
    up = fileman.post("/api/v1/files/presign-upload",
                      {"object_key": key, "content_type": "image/png", "size_bytes": len(image)},
                      token)
    assert up.status == 200, up
    status = transfer("PUT", up.json["url"], image, {"Content-Type": "image/png"})[0]
    assert status == 200, status
    return fileman.post("/api/v1/files/register",
                        {"room_id": room, "object_key": key, "content_type": "image/png",
                         "original_name": name, "size_bytes": len(image)}, token)


class FilesTest(ServerTestCase):
    server_env = {
        "MINIO_ENDPOINT": urllib.parse.urlsplit(S3).netloc if S3 else "",
        "MINIO_ACCESS_KEY": "S3RVER",
        "MINIO_SECRET_KEY": "S3RVER",
        "MINIO_BUCKET": "files-" + secrets.token_hex(4),
    }

    needs_s3 = True

    @classmethod
    def setUpClass(cls):
        if cls.needs_s3 and not S3:
            raise RuntimeError("MSG_TEST_S3_ENDPOINT must be set (run through scripts/test.sh)")
        super().setUpClass()
        s = cls.server
        admin = s.admin_token()
        cls.ids, cls.tokens = {}, {}
        for name in ("alice", "bob", "mallory"):
            cls.ids[name] = s.create_user(admin, f"{name}@example.com")
            cls.tokens[name] = s.login(f"{name}@example.com", "password-1")
        cls.room = s.post("/api/v1/rooms", {"name": "ops", "member_ids": [cls.ids["bob"]]},
                          cls.tokens["alice"]).json["id"]
        s.create_tenant(admin, "other")
        seeded = s.run_command("seed-admin", {"TENANT_ID": "other",
                                              "ADMIN_EMAIL": "admin@other.example"})
        assert seeded.returncode == 0, seeded.stderr
        cls.tokens["other"] = s.login("admin@other.example", "admin-pass-123", tenant="other")

    def post(self, path, body, who):
        return self.server.post(path, body, self.tokens[who])

    def upload(self, key, data, who="alice"):
        r = self.post("/api/v1/files/presign-upload",
                      {"object_key": key, "content_type": "application/octet-stream",
                       "size_bytes": len(data)}, who)
        self.assertStatus(r, 200)
        status, _ = transfer("PUT", r.json["url"], data)
        self.assertEqual(status, 200)
        return r.json

    def test_round_trip(self):
        data = os.urandom(50_000)
        key = f"rooms/{self.room}/사진 (1).png"
        presigned = self.upload(key, data)
        self.assertEqual(presigned["object_key"], f"tenants/default/{key}")
        self.assertTrue(presigned["expires_at"].endswith("Z"))
        body = {"room_id": str(self.room), "object_key": key, "content_type": "image/png",
                "original_name": "사진 (1).png", "size_bytes": len(data)}
        r = self.post("/api/v1/files/register", body, "alice")
        self.assertStatus(r, 201)
        f = r.json
        self.assertEqual((f["room_id"], f["uploader_id"], f["object_key"], f["size_bytes"]),
                         (self.room, self.ids["alice"], f"tenants/default/{key}", len(data)))
        self.assertEqual(f["tenant_id"], "default")
        self.assertStatus(self.post("/api/v1/files/register", body, "alice"), 409,
                          "file is already registered")
        listed = self.server.get(f"/api/v1/rooms/{self.room}/files", self.tokens["bob"])
        self.assertStatus(listed, 200)
        self.assertIn(f["id"], [x["id"] for x in listed.json["items"]])
        # Bob (a member) downloads with the stored key or the client key.
        for k in (key, f"tenants/default/{key}"):
            d = self.post("/api/v1/files/presign-download", {"object_key": k}, "bob")
            self.assertStatus(d, 200)
            status, got = transfer("GET", d.json["url"])
            self.assertEqual((status, got), (200, data))

    def register(self, name, data, content_type):
        key = f"rooms/{self.room}/{name}"
        self.upload(key, data)
        r = self.post("/api/v1/files/register",
                      {"room_id": self.room, "object_key": key, "content_type": content_type,
                       "original_name": name, "size_bytes": len(data)}, "alice")
        self.assertStatus(r, 201)
        return r.json

    def listed(self, file_id):
        r = self.server.get(f"/api/v1/rooms/{self.room}/files?limit=100", self.tokens["alice"])
        self.assertStatus(r, 200)
        return next(x for x in r.json["items"] if x["id"] == file_id)

    def finished(self, f, timeout=20):
        """The file once its thumbnail is no longer pending (the thumbnail consumer ran)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = self.listed(f["id"])
            if now["thumbnail_status"] != "pending":
                return now
            time.sleep(0.05)
        self.fail(f"thumbnail of {f['object_key']} still pending after {timeout}s")

    def test_images_get_a_thumbnail(self):
        async def watch_and_register():
            q = f"access_token={self.tokens['bob']}&room_id={self.room}"
            async with websockets.connect(f"ws://127.0.0.1:{self.server.port}/ws?{q}") as ws:
                bob = Client(ws)
                await bob.send({"type": "ping"})
                await bob.next("pong")  # frames are read after the socket joined its room
                f = await asyncio.to_thread(self.register, "그림.png", png(900, 300),
                                            "image/png")
                return f, await bob.next("file.thumbnail_ready", timeout=20)
        f, frame = asyncio.run(watch_and_register())
        # Registered at once, the thumbnail's key named and pending; made after the commit.
        self.assertEqual(f["thumbnail_key"], f"tenants/default/rooms/{self.room}/그림_thumb.jpg")
        self.assertEqual(f["thumbnail_status"], "pending")
        self.assertEqual(frame["room_id"], self.room)
        self.assertEqual(frame["payload"]["id"], f["id"])
        self.assertEqual(frame["payload"]["thumbnail_status"], "ready")
        self.assertEqual(frame["payload"]["thumbnail_key"], f["thumbnail_key"])
        self.assertEqual(self.finished(f)["thumbnail_status"], "ready")
        d = self.post("/api/v1/files/presign-download", {"object_key": f["thumbnail_key"]}, "bob")
        self.assertStatus(d, 200)
        status, jpeg = transfer("GET", d.json["url"])
        self.assertEqual(status, 200)
        self.assertEqual(jpeg[:3], b"\xff\xd8\xff")  # a JPEG
        # Its size, from the SOF0/SOF2 marker: 320 x 320.
        i = 2
        while i < len(jpeg):
            marker, length = jpeg[i + 1], struct.unpack(">H", jpeg[i + 2:i + 4])[0]
            if marker in (0xC0, 0xC2):
                self.assertEqual(struct.unpack(">HH", jpeg[i + 5:i + 9]), (320, 320))
                break
            i += 2 + length
        else:
            self.fail("no SOF marker")
        self.assertStatus(self.post("/api/v1/files/presign-download",
                                    {"object_key": f["thumbnail_key"]}, "mallory"), 404)

    def test_bad_images_are_registered_without_thumbnail(self):
        # Not an image despite its type, and a decompression bomb (a 2x2 PNG whose header
        # claims 60000x60000): both refused by the thumbnailer, the file itself registered.
        cases = [("fake.jpg", b"this is not a jpeg at all" * 10),
                 ("bomb.png", png(2, 2, claimed=(60000, 60000)))]
        huge = png(2, 2) + bytes(33 * 1024 * 1024)  # over the thumbnailer's 32 MiB input bound
        if len(huge) <= int(self.server_env.get("MAX_UPLOAD_BYTES", 100 * 1024 * 1024)):
            cases.append(("huge.png", huge))
        for name, data in cases:
            f = self.register(name, data, "image/jpeg" if name.endswith("jpg") else "image/png")
            self.assertEqual(f["thumbnail_status"], "pending", name)  # tried after the commit
            done = self.finished(f)
            self.assertEqual((done["thumbnail_status"], done["thumbnail_key"]), ("none", ""), name)
        self.assertIn("no thumbnail", self.server.log())
        # A non-image type is not even tried.
        txt = self.register("notes.txt", b"plain", "text/plain")
        self.assertEqual((txt["thumbnail_status"], txt["thumbnail_key"]), ("none", ""))

    def test_multi_file_message_flow(self):
        """The seed README's browser flow: presign and PUT each file, register each, then send
        one message carrying all their ids."""
        ids = []
        for i, data in enumerate((b"first", png(40, 30), os.urandom(3000))):
            name = f"multi-{i}.bin"
            f = self.register(name, data, "image/png" if i == 1 else "application/octet-stream")
            ids.append(f["id"])
        r = self.post(f"/api/v1/rooms/{self.room}/messages",
                      {"body": "three files", "file_ids": ids}, "alice")
        self.assertStatus(r, 201)
        self.assertEqual(r.json["file_ids"], ids)
        listed = self.server.get(f"/api/v1/rooms/{self.room}/messages?limit=1",
                                 self.tokens["bob"]).json["items"][0]
        self.assertEqual(listed["file_ids"], ids)

    def test_size_and_existence_are_checked(self):
        key = f"rooms/{self.room}/sized.bin"
        self.upload(key, b"x" * 100)
        base = {"room_id": self.room, "object_key": key, "content_type": "application/pdf",
                "original_name": "sized.bin"}
        self.assertStatus(self.post("/api/v1/files/register", dict(base, size_bytes=99), "alice"),
                          400, "size_bytes does not match the object")
        self.assertStatus(self.post("/api/v1/files/register",
                                    dict(base, object_key=f"rooms/{self.room}/never.bin",
                                         size_bytes=1), "alice"), 400, "object does not exist")
        self.assertStatus(self.post("/api/v1/files/register",
                                    dict(base, room_id=self.room + 1000, size_bytes=100), "alice"),
                          400, "object_key must be under rooms/<room_id>/")

    def test_outsiders_and_other_tenants_are_refused(self):
        key = f"rooms/{self.room}/secret.txt"
        self.upload(key, b"secret")
        self.assertStatus(self.post("/api/v1/files/register",
                                    {"room_id": self.room, "object_key": key,
                                     "content_type": "text/plain", "original_name": "s.txt",
                                     "size_bytes": 6}, "alice"), 201)
        self.assertStatus(self.post("/api/v1/files/presign-upload", {"object_key": key},
                                    "mallory"), 403, "room access denied")
        self.assertStatus(self.post("/api/v1/files/presign-download", {"object_key": key},
                                    "mallory"), 404, "file not found")
        self.assertStatus(self.server.get(f"/api/v1/rooms/{self.room}/files",
                                          self.tokens["mallory"]), 403)
        # Another tenant's key space: the same client key means their own (absent) file, and
        # naming ours explicitly does not escape their prefix.
        self.assertStatus(self.post("/api/v1/files/presign-download", {"object_key": key},
                                    "other"), 404, "file not found")
        self.assertStatus(self.post("/api/v1/files/presign-download",
                                    {"object_key": f"tenants/default/{key}"}, "other"), 400)
        # Unregistered objects are not downloadable either, even by the uploader.
        self.upload(f"rooms/{self.room}/unregistered.txt", b"u")
        self.assertStatus(self.post("/api/v1/files/presign-download",
                                    {"object_key": f"rooms/{self.room}/unregistered.txt"},
                                    "alice"), 404)

    def test_key_rules(self):
        me = self.ids["alice"]
        ok = self.post("/api/v1/files/presign-upload",
                       {"object_key": f"users/{me}/avatar.jpg", "size_bytes": 6}, "alice")
        self.assertStatus(ok, 200)
        # The own folder: its owner reads it back; nobody else can even name it.
        self.assertEqual(transfer("PUT", ok.json["url"], b"avatar")[0], 200)
        mine = self.post("/api/v1/files/presign-download",
                         {"object_key": f"users/{me}/avatar.jpg"}, "alice")
        self.assertStatus(mine, 200)
        self.assertEqual(transfer("GET", mine.json["url"]), (200, b"avatar"))
        self.assertStatus(self.post("/api/v1/files/presign-download",
                                    {"object_key": f"users/{me}/avatar.jpg"}, "bob"), 400)
        self.assertStatus(self.post("/api/v1/files/presign-upload",
                                    {"object_key": f"notes/{me}/x.pdf", "size_bytes": 9},
                                    "alice"), 200)
        for key, error in ((f"rooms/{self.room}/../1/a.png", "object_key is invalid"),
                           ("rooms/1/a\\b.png", "object_key is invalid"),
                           (f"rooms/{self.room}/" + "a" * 600, None),
                           (f"users/{self.ids['bob']}/x.jpg",
                            "object_key must start with rooms/<room_id>/, users/<your id>/ or "
                            "notes/<your id>/"),
                           ("notes/x.pdf", None), (f"notes/{self.ids['bob']}/x.pdf", None),
                           ("elsewhere/x", None), ("", "object_key is required")):
            r = self.post("/api/v1/files/presign-upload", {"object_key": key}, "alice")
            self.assertStatus(r, 400, error)

    def test_uploads_are_bound_to_their_type_and_length(self):
        """Issue 12: a presigned PUT stores only what it was asked for. The bounds are checked
        here; the store side (S3's signed headers, the local route) in the tests below and in
        blob_store_contract_test / test_sigv4."""
        key = f"rooms/{self.room}/bound.bin"
        limit = int(self.server_env.get("MAX_UPLOAD_BYTES", 100 * 1024 * 1024))
        for body, error in (({"size_bytes": 0}, f"size_bytes must be between 1 and {limit}"),
                            ({"size_bytes": limit + 1}, f"size_bytes must be between 1 and {limit}"),
                            ({"size_bytes": "10"}, None),
                            ({"size_bytes": 5, "content_type": "text/plain\r\nX-Evil: 1"},
                             "content_type is invalid"),
                            ({"size_bytes": 5, "content_type": "noslash"},
                             "content_type is invalid"),
                            ({"size_bytes": 5, "content_type": "é/x"}, "content_type is invalid"),
                            ({"size_bytes": 5, "content_type": "text/plain;  charset=x"},
                             "content_type is invalid")):
            self.assertStatus(self.post("/api/v1/files/presign-upload",
                                        dict(body, object_key=key), "alice"), 400, error)

    def test_downloads_are_attachments(self):
        key = f"rooms/{self.room}/page.html"
        data = b"<script>alert(document.cookie)</script>"
        self.upload(key, data)
        self.assertStatus(self.post("/api/v1/files/register",
                                    {"room_id": self.room, "object_key": key,
                                     "content_type": "text/html", "original_name": "page.html",
                                     "size_bytes": len(data)}, "alice"), 201)
        d = self.post("/api/v1/files/presign-download", {"object_key": key}, "bob")
        self.assertStatus(d, 200)
        status, got, headers = transfer("GET", d.json["url"], with_headers=True)
        self.assertEqual((status, got), (200, data))
        self.assertTrue(headers.get("Content-Disposition", "").startswith("attachment"), headers)

    def test_the_store_enforces_the_upload_terms(self):
        """S3: the terms become signed headers of the URL. A real bucket refuses another type
        or length; s3rver does not check signature bytes, so this checks the URL's signed
        headers and the happy path, and test_sigv4 pins the signature against botocore."""
        key = f"rooms/{self.room}/terms.txt"
        # Without a length the bucket would take any size: refused.
        self.assertStatus(self.post("/api/v1/files/presign-upload",
                                    {"object_key": key, "content_type": "text/plain"}, "alice"),
                          400, "size_bytes is required")
        r = self.post("/api/v1/files/presign-upload",
                      {"object_key": key, "content_type": "text/plain", "size_bytes": 5}, "alice")
        self.assertStatus(r, 200)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(r.json["url"]).query)
        self.assertEqual(query["X-Amz-SignedHeaders"], ["content-length;content-type;host"])
        self.assertEqual(transfer("PUT", r.json["url"], b"hello",
                                  headers={"Content-Type": "text/plain"})[0], 200)

    def test_bad_input(self):
        for path, body in (("/api/v1/files/register", {"object_key": "rooms/1/a"}),
                           ("/api/v1/files/register", {"room_id": self.room, "object_key":
                                                       f"rooms/{self.room}/a", "content_type": "x",
                                                       "original_name": "a", "size_bytes": 0}),
                           ("/api/v1/files/presign-download", {}),
                           ("/api/v1/files/presign-upload", {"object_key": 5})):
            self.assertStatus(self.post(path, body, "alice"), 400)
        r = self.server.request("POST", "/api/v1/files/register", raw=b"{nope",
                                token=self.tokens["alice"])
        self.assertStatus(r, 400)
        self.assertStatus(self.server.get(f"/api/v1/rooms/{self.room}/files?cursor=%%%",
                                          self.tokens["alice"]), 400, "cursor is invalid")


class LocalFilesTest(FilesTest):
    """The same tests on the local store (no MINIO_ENDPOINT): URLs served by this server's
    streamed /blobs routes, plus what only the local store decides: signatures and size."""

    needs_s3 = False
    server_env = {"MAX_UPLOAD_BYTES": str(1_000_000)}

    def test_urls_point_at_this_server(self):
        r = self.post("/api/v1/files/presign-upload", {"object_key": f"rooms/{self.room}/x"},
                      "alice")
        self.assertTrue(r.json["url"].startswith(
            f"http://127.0.0.1:{self.server.port}/blobs/tenants/default/rooms/"), r.json)

    def test_signatures_are_checked(self):
        key = f"rooms/{self.room}/signed.bin"
        put = self.post("/api/v1/files/presign-upload", {"object_key": key}, "alice").json["url"]
        status, body = transfer("GET", put)  # a PUT URL does not read
        self.assertEqual(status, 403, body)
        for tampered in (put[:-1] + ("0" if put[-1] != "0" else "1"),
                         put.replace("exp=", "exp=1"), put.split("&sig=")[0],
                         put.replace("signed.bin", "other.bin")):
            status, body = transfer("PUT", tampered, b"x")
            self.assertEqual(status, 403, tampered)
            self.assertIn(b"invalid or expired signature", body)
        status, _ = transfer("PUT", put.replace("signed.bin", "..%2F..%2Fescape"), b"x")
        self.assertIn(status, (400, 403))
        self.assertEqual(transfer("PUT", put, b"ok")[0], 200)

    def test_expired_urls_are_refused(self):
        # The URL key is derived from JWT_SECRET (HMAC-SHA256(JWT_SECRET, "msg_server blob
        # urls")); sign a URL as the server would, once valid and once expired.
        url_key = hmac.new(self.server.jwt_secret.encode(), b"msg_server blob urls",
                           hashlib.sha256).hexdigest().encode()
        key = f"tenants/default/rooms/{self.room}/expiring.bin"

        def signed(exp):
            sig = hmac.new(url_key, f"PUT\n{key}\n{exp}\n\n\n".encode(),
                           hashlib.sha256).hexdigest()
            return (f"http://127.0.0.1:{self.server.port}/blobs/"
                    f"{urllib.parse.quote(key)}?exp={exp}&sig={sig}")
        self.assertEqual(transfer("PUT", signed(int(time.time()) + 60), b"fresh")[0], 200)
        status, body = transfer("PUT", signed(int(time.time()) - 1), b"stale")
        self.assertEqual(status, 403)
        self.assertIn(b"invalid or expired signature", body)

    def test_the_store_enforces_the_upload_terms(self):
        """Local: the URL carries the terms (signed) and the /blobs route enforces them."""
        key = f"rooms/{self.room}/terms.txt"
        self.assertStatus(self.post("/api/v1/files/presign-upload", {"object_key": key},
                                    "alice"), 200)  # the local store bounds uploads itself
        url = self.post("/api/v1/files/presign-upload",
                        {"object_key": key, "content_type": "text/plain", "size_bytes": 5},
                        "alice").json["url"]
        self.assertIn("&ct=text%2Fplain&len=5&new=1&sig=", url)
        for data, headers, error in (
                (b"hello", {"Content-Type": "text/html"}, b"Content-Type does not match"),
                (b"hello", {}, b"Content-Type does not match"),
                (b"hello!", {"Content-Type": "text/plain"}, b"Content-Length does not match")):
            status, body = transfer("PUT", url, data, headers=headers)
            self.assertEqual(status, 403, body)
            self.assertIn(error, body)
        status, body = transfer("PUT", url.replace("ct=text%2Fplain", "ct=text%2Fhtml"), b"hello",
                                headers={"Content-Type": "text/html"})
        self.assertEqual(status, 403)
        self.assertIn(b"invalid or expired signature", body)
        self.assertEqual(transfer("PUT", url, b"hello", headers={"Content-Type": "text/plain"})[0],
                         200)

    def test_room_objects_are_written_once(self):
        """A URL presigned before the file was registered cannot replace it afterwards (issue
        12); the caller's own users/ folder stays rewritable (an avatar)."""
        key = f"rooms/{self.room}/once.txt"
        body = {"object_key": key, "size_bytes": 5}
        first = self.post("/api/v1/files/presign-upload", body, "alice").json["url"]
        early = self.post("/api/v1/files/presign-upload", body, "bob").json["url"]
        self.assertEqual(transfer("PUT", first, b"alice")[0], 200)
        self.assertStatus(self.post("/api/v1/files/register",
                                    {"room_id": self.room, "object_key": key,
                                     "content_type": "text/plain", "original_name": "once.txt",
                                     "size_bytes": 5}, "alice"), 201)
        status, answer = transfer("PUT", early, b"bob!!")
        self.assertEqual(status, 409, answer)
        self.assertIn(b"object already exists", answer)
        d = self.post("/api/v1/files/presign-download", {"object_key": key}, "bob").json["url"]
        self.assertEqual(transfer("GET", d), (200, b"alice"))
        avatar = f"users/{self.ids['alice']}/avatar.png"
        for data in (b"one", b"two"):
            url = self.post("/api/v1/files/presign-upload", {"object_key": avatar},
                            "alice").json["url"]
            self.assertNotIn("new=1", url)
            self.assertEqual(transfer("PUT", url, data)[0], 200)
        mine = self.post("/api/v1/files/presign-download", {"object_key": avatar},
                         "alice").json["url"]
        self.assertEqual(transfer("GET", mine), (200, b"two"))

    def test_oversize_upload_is_refused(self):
        key = f"rooms/{self.room}/big.bin"
        url = self.post("/api/v1/files/presign-upload", {"object_key": key}, "alice").json["url"]
        # Refused from Content-Length before any body byte is read: the answer comes back
        # while the client has sent only the header (a raw socket, so nothing races).
        u = urllib.parse.urlsplit(url)
        with socket.create_connection((u.hostname, u.port), timeout=30) as sock:
            sock.sendall(f"PUT {u.path}?{u.query} HTTP/1.1\r\nHost: {u.netloc}\r\n"
                         f"Content-Length: 1000001\r\n\r\n".encode())
            answer = b""
            while chunk := sock.recv(4096):  # the server closes after answering
                answer += chunk
        self.assertTrue(answer.startswith(b"HTTP/1.1 413"), answer)
        self.assertIn(b"upload too large", answer)
        # Nothing was stored: registering it finds no object.
        r = self.post("/api/v1/files/register",
                      {"room_id": self.room, "object_key": key, "content_type": "x/y",
                       "original_name": "big.bin", "size_bytes": 1_000_001}, "alice")
        self.assertStatus(r, 400, "object does not exist")
        # Exactly the limit is fine, and streamed to disk.
        status, _ = transfer("PUT", url, b"y" * 1_000_000)
        self.assertEqual(status, 200)


if __name__ == "__main__":
    unittest.main()
