"""The HTTP server itself: keep-alive, pipelining, request ids, health, metrics, CORS,
graceful shutdown, configuration errors, roles."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from .harness import BIN, Server, ServerTestCase


def read_responses(sock, count, timeout=10):
    """Reads `count` HTTP responses (Content-Length framed) from a raw socket."""
    sock.settimeout(timeout)
    data, responses = b"", []
    while len(responses) < count:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        while True:
            head_end = data.find(b"\r\n\r\n")
            if head_end < 0:
                break
            head = data[:head_end].decode()
            length = 0
            for line in head.split("\r\n")[1:]:
                k, _, v = line.partition(":")
                if k.lower() == "content-length":
                    length = int(v)
            if len(data) < head_end + 4 + length:
                break
            responses.append((head, data[head_end + 4:head_end + 4 + length]))
            data = data[head_end + 4 + length:]
    return responses


class HttpBehaviourTest(ServerTestCase):
    server_env = {"CORS_ALLOWED_ORIGINS": "https://app.example"}

    def test_health_endpoints(self):
        s = self.server
        self.assertEqual(s.get("/health").json, {"status": "ok"})
        self.assertEqual(s.get("/health/live").json, {"status": "ok"})
        r = s.get("/health/ready")
        self.assertStatus(r, 200)
        self.assertEqual(r.json, {"status": "ready"})

    def test_keep_alive_and_pipelining_answer_in_order(self):
        with socket.create_connection(("127.0.0.1", self.server.port)) as sock:
            paths = ["/health", "/nope", "/health/live", "/api/v1/users/me", "/health/ready"]
            sock.sendall(b"".join(f"GET {p} HTTP/1.1\r\nHost: t\r\nX-Request-Id: r{i}\r\n\r\n"
                                  .encode() for i, p in enumerate(paths)))
            responses = read_responses(sock, len(paths))
        self.assertEqual(len(responses), len(paths))
        statuses = [int(h.split(" ")[1]) for h, _ in responses]
        self.assertEqual(statuses, [200, 404, 200, 401, 200])
        for i, (head, _) in enumerate(responses):
            self.assertIn(f"X-Request-Id: r{i}", head)

    def test_connection_semantics(self):
        def exchange(request):
            with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as sock:
                sock.sendall(request)
                data = b""
                while True:  # the server must close the connection itself
                    chunk = sock.recv(4096)
                    if not chunk:
                        return data
                    data += chunk

        old = exchange(b"GET /health HTTP/1.0\r\n\r\n")
        self.assertTrue(old.startswith(b"HTTP/1.0 200 OK\r\n"), old)
        self.assertTrue(old.endswith(b'{"status":"ok"}'), old)
        close = exchange(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        self.assertIn(b"Connection: close\r\n", close)
        head = exchange(b"HEAD /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        self.assertIn(b"Content-Length: 15\r\n", head)
        self.assertTrue(head.endswith(b"\r\n\r\n"), head)  # headers only

    def test_request_id_generated_and_bounded(self):
        r = self.server.get("/health")
        self.assertRegex(r.headers["x-request-id"], r"^[0-9a-f]{8}-\d+$")
        evil = self.server.get("/health", headers={"X-Request-Id": "a b;<script>" + "c" * 100})
        self.assertNotIn(" ", evil.headers["x-request-id"])
        self.assertLessEqual(len(evil.headers["x-request-id"]), 64)

    def test_metrics(self):
        self.server.get("/health")
        self.server.get("/api/v1/nowhere")
        text = self.server.get("/metrics").body
        self.assertIn('msg_http_requests_total{route="/health",method="GET",status="200"}', text)
        self.assertIn('route="unmatched",method="GET",status="404"', text)
        self.assertIn("msg_http_request_duration_seconds_bucket", text)
        self.assertIn("msg_pg_pool_max 16", text)
        self.assertIn("msg_http_connections", text)

    def test_cors(self):
        s = self.server
        ok = s.get("/health", headers={"Origin": "https://app.example"})
        self.assertEqual(ok.headers.get("access-control-allow-origin"), "https://app.example")
        other = s.get("/health", headers={"Origin": "https://evil.example"})
        self.assertNotIn("access-control-allow-origin", other.headers)
        pre = s.request("OPTIONS", "/api/v1/users/me",
                        headers={"Origin": "https://app.example",
                                 "Access-Control-Request-Method": "GET"})
        self.assertEqual(pre.status, 204)
        self.assertIn("Authorization", pre.headers["access-control-allow-headers"])

    def test_secrets_never_logged(self):
        s = self.server
        s.post("/api/v1/auth/login", {"tenant_id": "default", "email": "admin@example.com",
                                      "password": "super-secret-guess"})
        token = s.admin_token()
        s.get("/api/v1/users/me", token)
        self.assertTrue(s.wait_for_log("route=/api/v1/users/me status=200"))
        log = s.log()
        self.assertNotIn("super-secret-guess", log)
        self.assertNotIn(token, log)
        self.assertNotIn(s.jwt_secret, log)
        self.assertIn("route=/api/v1/auth/login status=401", log)

    def test_generated_admin_password_goes_to_a_private_file_when_not_on_a_terminal(self):
        s = self.server
        s.create_tenant(s.admin_token(), "genpass")
        root = tempfile.mkdtemp(prefix="msg_bb_secret_")
        try:
            done = s.run_command("seed-admin", {"TENANT_ID": "genpass", "ADMIN_PASSWORD": "",
                                                "DATA_DIR": os.path.join(root, "data")})
            self.assertEqual(done.returncode, 0, done.stderr)
            path = os.path.join(root, "secrets", "admin_password")
            self.assertIn(path, done.stdout)
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
            with open(path) as f:
                password = f.read().strip()
            self.assertGreaterEqual(len(password), 16)
            self.assertNotIn(password, done.stdout + done.stderr)  # a pipe is not a terminal
            s.login("admin@example.com", password, tenant="genpass")
        finally:
            shutil.rmtree(root, ignore_errors=True)


class LifecycleTest(unittest.TestCase):
    def test_sigterm_drains_and_exits_zero(self):
        server = Server().start()
        try:
            self.assertEqual(server.get("/health").status, 200)
            # An idle keep-alive connection must not hold up shutdown.
            idle = socket.create_connection(("127.0.0.1", server.port))
            started = time.monotonic()
            code = server.stop(signal.SIGTERM)
            self.assertEqual(code, 0, server.log())
            self.assertLess(time.monotonic() - started, 15)
            self.assertIn("shutdown signal=15", server.log())
            self.assertIn("stopped", server.log())
            idle.close()
        finally:
            server.drop()

    def test_bad_configuration_exits_non_zero_naming_the_variable(self):
        env = {k: v for k, v in os.environ.items() if k not in ("JWT_SECRET", "APP_ENV")}
        cases = [({"APP_ENV": "dev", "PORT": "eighty"}, "PORT"),
                 ({"APP_ENV": "dev", "LOG_FORMAT": "xml"}, "LOG_FORMAT"),
                 ({"APP_ENV": "prod"}, "JWT_SECRET"),
                 ({"APP_ENV": "prod", "JWT_SECRET": "change-me-in-production"}, "JWT_SECRET")]
        for extra, variable in cases:
            with self.subTest(variable=variable, env=extra):
                done = subprocess.run([BIN, "all"], env=dict(env, **extra), capture_output=True,
                                      text=True, timeout=30)
                self.assertEqual(done.returncode, 2, done.stderr)
                self.assertIn(variable, done.stderr)

    def test_unknown_role(self):
        done = subprocess.run([BIN, "juggler"], capture_output=True, text=True, timeout=30,
                              env=dict(os.environ, APP_ENV="dev"))
        self.assertEqual(done.returncode, 2)
        self.assertIn("unknown role", done.stderr)

    def test_session_role_serves_auth_on_session_port_and_readiness_follows_the_database(self):
        server = Server(role="session").start()
        try:
            token = server.admin_token()
            self.assertEqual(server.get("/api/v1/users/me", token).status, 200)
        finally:
            server.drop()
        # Same role against a database that does not answer: alive, not ready.
        down = Server(role="session")
        down.env["POSTGRES_DSN"] = "host=127.0.0.1 port=1 dbname=x user=x"
        down.env["PG_CONNECT_TIMEOUT_MS"] = "500"
        down.proc = None
        try:
            import threading, re
            down.proc = subprocess.Popen([BIN, "session"], env=down.env, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, text=True)
            for line in down.proc.stdout:
                m = re.search(r"listening .*port=(\d+)", line)
                if m:
                    down.port = int(m.group(1))
                    break
            threading.Thread(target=lambda: [None for _ in down.proc.stdout], daemon=True).start()
            self.assertEqual(down.get("/health/live").status, 200)
            r = down.get("/health/ready")
            self.assertEqual(r.status, 503)
            self.assertEqual(r.json, {"status": "not_ready", "error": "database unavailable"})
            login = down.post("/api/v1/auth/login", {"tenant_id": "default",
                                                     "email": "a@example.com", "password": "x"})
            self.assertEqual(login.status, 503, login)  # an outage is not "invalid credentials"
            self.assertEqual(login.json, {"error": "service unavailable"})
        finally:
            down.drop()


if __name__ == "__main__":
    unittest.main()


class TimeoutsAndJsonLogTest(ServerTestCase):
    server_env = {"HTTP_IDLE_TIMEOUT_SECONDS": "1", "HTTP_READ_TIMEOUT_SECONDS": "1",
                  "LOG_FORMAT": "json"}

    def closed_within(self, sock, seconds):
        """True when the server closes the socket (recv returns b"") within `seconds`."""
        sock.settimeout(seconds)
        started = time.monotonic()
        try:
            while sock.recv(4096):
                pass
        except socket.timeout:
            return False
        return time.monotonic() - started < seconds

    def test_idle_keep_alive_connection_is_closed(self):
        with socket.create_connection(("127.0.0.1", self.server.port)) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
            self.assertTrue(read_responses(sock, 1))
            self.assertTrue(self.closed_within(sock, 5))

    def test_stalled_headers_and_body_are_cut_off(self):
        with socket.create_connection(("127.0.0.1", self.server.port)) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n")  # never finishes the headers
            self.assertTrue(self.closed_within(sock, 5))
        with socket.create_connection(("127.0.0.1", self.server.port)) as sock:
            sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Length: 50\r\n"
                         b"\r\n{\"tenant")  # body stalls
            self.assertTrue(self.closed_within(sock, 5))
        self.assertEqual(self.server.get("/health").status, 200)

    def test_log_lines_are_json(self):
        self.server.get("/api/v1/users/me")
        self.assertTrue(self.server.wait_for_log("route=/api/v1/users/me status=401"))
        lines = [l for l in self.server.log().splitlines() if l.strip()]
        self.assertTrue(lines)
        import json
        parsed = [json.loads(l) for l in lines]
        self.assertTrue(all({"timestamp", "level", "module", "message"} <= set(p) for p in parsed))
        self.assertTrue(any("route=/api/v1/users/me status=401" in p["message"] for p in parsed))
