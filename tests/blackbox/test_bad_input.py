"""Bad input gets a clear 4xx and the server keeps serving."""
import socket
import unittest

from .harness import ServerTestCase


class BadInputTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.server.admin_token()

    def tearDown(self):
        self.assertStatus(self.server.get("/health"), 200)  # still serving

    def test_malformed_json(self):
        for raw in ("{", "[1,2]", "null", "", "not json", '{"a":1}{"b":2}'):
            with self.subTest(raw=raw):
                r = self.server.request("POST", "/api/v1/org-units", raw=raw, token=self.admin)
                self.assertStatus(r, 400, "invalid json")

    def test_invalid_utf8(self):
        r = self.server.request("POST", "/api/v1/org-units", raw=b'{"name":"\xff\xfe"}',
                                token=self.admin)
        self.assertStatus(r, 400, "invalid json")

    def test_wrong_types(self):
        s = self.server
        cases = [("/api/v1/org-units", {"name": 5}, "name must be a string"),
                 ("/api/v1/org-units", {"name": "x", "parent_id": True}, "parent_id must be an id"),
                 ("/api/v1/org-units", {"name": "x", "parent_id": -1}, "parent_id must be an id"),
                 ("/api/v1/org-units", {"name": "x", "parent_id": 1.5}, "parent_id must be an id"),
                 ("/api/v1/org-units", {"name": "x", "parent_id": 2 ** 60},
                  "parent_id must be an id"),
                 ("/api/v1/users", {"org_id": [1], "email": "a@b.co", "password": "password-1",
                                    "name": "x"}, "org_id must be an id"),
                 ("/api/v1/auth/login", {"tenant_id": 1, "email": "a", "password": "b"},
                  "tenant_id must be a string"),
                 ("/api/v1/tenants", {"tenant_id": "t", "name": "t", "deployment_mode": "shared",
                                      "is_active": "yes"}, "is_active must be a boolean"),
                 ("/api/v1/tenants", {"tenant_id": "t", "name": "t", "deployment_mode": "shared",
                                      "user_count_threshold": "10"},
                  "user_count_threshold must be an integer")]
        for path, body, error in cases:
            with self.subTest(path=path, body=body):
                self.assertStatus(s.post(path, body, self.admin), 400, error)

    def test_missing_fields(self):
        s = self.server
        self.assertStatus(s.post("/api/v1/org-units", {}, self.admin), 400, "name is required")
        self.assertStatus(s.post("/api/v1/org-units", {"name": "   "}, self.admin), 400,
                          "name is required")
        self.assertStatus(s.post("/api/v1/users", {"email": "a@b.co"}, self.admin), 400,
                          "org_id is required")
        self.assertStatus(s.post("/api/v1/auth/login", {}), 400, "tenant_id is required")
        self.assertStatus(s.patch("/api/v1/users/1/status", {}, self.admin), 400,
                          "status is required")
        self.assertStatus(s.post("/api/v1/users/me/aliases", {}, self.admin), 400,
                          "alias is required")

    def test_long_strings(self):
        s = self.server
        self.assertStatus(s.post("/api/v1/org-units", {"name": "x" * 201}, self.admin), 400,
                          "name is too long")
        self.assertStatus(s.post("/api/v1/auth/login", {"tenant_id": "t" * 65, "email": "a",
                                                        "password": "b"}), 400,
                          "tenant_id is too long")
        self.assertStatus(s.patch("/api/v1/users/1/status", {"status": "online",
                                                             "note": "n" * 501}, self.admin),
                          400, "note is too long")

    def test_bad_path_ids(self):
        for path in ("/api/v1/users/abc/status", "/api/v1/users/0/status",
                     "/api/v1/users/99999999999999999999/status"):
            with self.subTest(path=path):
                self.assertStatus(self.server.patch(path, {"status": "online"}, self.admin), 400,
                                  "id must be an id")

    def test_oversize_body_is_413(self):
        # Raw socket: the server answers as soon as it sees the Content-Length, while we may
        # still be sending; it must drain and let us read the answer.
        body = b'{"name":"' + b"x" * (1024 * 1024 + 10) + b'"}'
        head = (f"POST /api/v1/org-units HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer "
                f"{self.admin}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as sock:
            try:
                sock.sendall(head + body)
            except (BrokenPipeError, ConnectionResetError):
                pass
            reply = b""
            while not reply.rstrip().endswith(b"}"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
        self.assertTrue(reply.startswith(b"HTTP/1.1 413"), reply[:200])
        self.assertIn(b'{"error":"request body too large"}', reply)

    def test_oversize_headers_are_431(self):
        r = self.server.get("/health", headers={"X-Big": "a" * 20000})
        self.assertEqual(r.status, 431)

    def test_unknown_route_and_method(self):
        self.assertStatus(self.server.get("/api/v1/nothing"), 404, "not found")
        self.assertStatus(self.server.request("PUT", "/api/v1/org-units", body={}), 405,
                          "method not allowed")

    def test_garbage_request_line(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as sock:
            sock.sendall(b"\x00\x01\x02 nonsense\r\n\r\n")
            reply = sock.recv(4096)
        self.assertTrue(reply.startswith(b"HTTP/1.1 400"), reply)

    def test_half_request_then_close(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as sock:
            sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        # The torn request is dropped without an answer or a handler run; the server still
        # serves the next client (a crash or a stuck connection slot would fail here).
        self.assertEqual(self.server.get("/health").status, 200)
        self.assertStatus(self.server.request("POST", "/api/v1/auth/login", body={}), 400)


if __name__ == "__main__":
    unittest.main()
