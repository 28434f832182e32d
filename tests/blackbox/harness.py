"""Runs the built msg_server against a fresh PostgreSQL database and talks to it over HTTP.

MSG_SERVER_BIN: the binary (set by ctest). MSG_TEST_POSTGRES_DSN: an admin DSN of the test
cluster (set by scripts/test.sh). Each Server gets its own database, so test modules are
independent and can run in parallel.
"""
import base64
import hashlib
import hmac
import http.client
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

BIN = os.environ.get("MSG_SERVER_BIN", "")
ADMIN_DSN = os.environ.get("MSG_TEST_POSTGRES_DSN", "")
ADMIN_PASSWORD = "admin-pass-123"


def psql(dsn, sql):
    subprocess.run(["psql", dsn, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True,
                   stdout=subprocess.DEVNULL)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A private redis-server (Debian's, installed by scripts/install-deps.sh) on a free port,
    without persistence. stop() kills it (a crash or a lost network, as clients see it) and
    start() brings it back, empty, on the same port."""

    def __init__(self):
        self.port = free_port()
        self.proc = None
        self.start()

    def addr(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--logfile", ""], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.command("PING") == "PONG":
                    return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def command(self, *args):
        """One command over RESP; the reply as str, int, list or None."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            out = f"*{len(args)}\r\n".encode()
            for a in args:
                a = str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
            s.sendall(out)
            return _resp(s.makefile("rb"))


def _resp(f):
    line = f.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2].decode()
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_resp(f) for _ in range(n)]
    raise RuntimeError(f"bad RESP line {line!r}")


class Server:
    """One msg_server process (role `all` by default) on a free port with its own database, or
    (`peer_of`) another node of the same deployment: that server's database, secrets and data
    directory, started without migrating or seeding."""

    def __init__(self, env=None, role="all", peer_of=None):
        if not BIN or not ADMIN_DSN:
            raise RuntimeError("MSG_SERVER_BIN and MSG_TEST_POSTGRES_DSN must be set "
                               "(run through scripts/test.sh)")
        self.peer_of = peer_of
        if peer_of:
            self.db, self.jwt_secret = peer_of.db, peer_of.jwt_secret
            self.data_dir = peer_of.data_dir
        else:
            self.db = f"bb_{os.getpid()}_{secrets.token_hex(4)}"
            psql(ADMIN_DSN, f"CREATE DATABASE {self.db}")
            self.jwt_secret = secrets.token_hex(24)
            self.data_dir = tempfile.mkdtemp(prefix="msg_bb_data_")
        self.env = dict(os.environ)
        self.env.update({
            "APP_ENV": "test",
            "JWT_SECRET": self.jwt_secret,
            "POSTGRES_DSN": f"{ADMIN_DSN} dbname={self.db}",
            "PORT": "0",
            "SESSION_PORT": "0",
            "VECTORMAN_PORT": "0",
            "WORKER_PORT": "0",
            "DATA_DIR": self.data_dir,
            "BIND_ADDRESS": "127.0.0.1",
            "ADMIN_PASSWORD": ADMIN_PASSWORD,
            "TENANT_SECRETS_KEY": "blackbox-tenant-secrets-key-0123456789",
            # Cheaper argon2id than production so the suite stays fast; the algorithm and code
            # path are the same.
            "PASSWORD_HASH_MEMORY_KIB": "8192",
            "PASSWORD_HASH_OPS": "1",
            "IO_THREADS": "2",
        })
        if peer_of:
            self.env.update({k: v for k, v in peer_of.env.items() if k not in os.environ})
        self.env.update(env or {})
        self.role = role
        self.proc = None
        self.port = None
        self.lines = []

    def run_command(self, role, extra_env=None):
        env = dict(self.env)
        env.update(extra_env or {})
        return subprocess.run([BIN, role], env=env, capture_output=True, text=True, timeout=60)

    def start(self):
        for command in () if self.peer_of else ("migrate", "seed-admin"):
            done = self.run_command(command)
            if done.returncode != 0:
                raise RuntimeError(f"{command} failed: {done.stdout}{done.stderr}")
        self.proc = subprocess.Popen([BIN, self.role], env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        ready = threading.Event()

        def pump():
            for line in self.proc.stdout:
                self.lines.append(line)
                m = re.search(r"listening .*port=(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()

        self.pump = threading.Thread(target=pump, daemon=True)
        self.pump.start()
        if not ready.wait(60) or self.port is None:
            self.stop()
            raise RuntimeError("server did not start:\n" + "".join(self.lines[-30:]))
        return self

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "pump", None):
            self.pump.join(10)  # every line the server wrote is in self.lines after this
        return self.proc.returncode if self.proc else None

    def drop(self):
        self.stop()
        if self.peer_of:
            return
        psql(ADMIN_DSN, f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def sql(self, statement):
        """Runs SQL on this server's database; the rows as lists of strings."""
        out = subprocess.run(["psql", f"{ADMIN_DSN} dbname={self.db}", "-v", "ON_ERROR_STOP=1",
                              "-qAtF", "\t", "-c", statement], check=True, capture_output=True,
                             text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def wait_sql(self, statement, want, timeout=30):
        """Runs `statement` until its rows are `want` or `timeout` passes; the last rows."""
        deadline = time.monotonic() + timeout
        got = self.sql(statement)
        while got != want and time.monotonic() < deadline:
            time.sleep(0.1)
            got = self.sql(statement)
        return got

    def register_files(self, room_id, uploader_id, count, tenant="default"):
        """Registered file rows straight in SQL (servers without a blob store); their ids."""
        rows = self.sql(
            "INSERT INTO files (tenant_id, room_id, uploader_id, object_key, content_type,"
            " size_bytes, original_name)"
            f" SELECT '{tenant}', {int(room_id)}, {int(uploader_id)},"
            f" 'tenants/{tenant}/rooms/{int(room_id)}/f' || g || '-' || md5(random()::text),"
            " 'application/octet-stream', 1, 'f' || g"
            f" FROM generate_series(1, {int(count)}) g RETURNING id")
        return [int(r[0]) for r in rows]

    def log(self):
        return "".join(self.lines)

    def wait_for_log(self, text, timeout=10):
        """True once `text` appears in the server's output (read by another thread)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return True
            time.sleep(0.02)
        return False

    # --- HTTP -----------------------------------------------------------------------------

    def request(self, method, path, body=None, token=None, headers=None, raw=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            h = {"Content-Type": "application/json"}
            if token:
                h["Authorization"] = "Bearer " + token
            h.update(headers or {})
            data = raw if raw is not None else (json.dumps(body) if body is not None else None)
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read().decode("utf-8", "replace"))
        finally:
            conn.close()

    def get(self, path, token=None, **kw):
        return self.request("GET", path, token=token, **kw)

    def post(self, path, body=None, token=None, **kw):
        return self.request("POST", path, body=body, token=token, **kw)

    def patch(self, path, body=None, token=None, **kw):
        return self.request("PATCH", path, body=body, token=token, **kw)

    def delete(self, path, body=None, token=None, **kw):
        return self.request("DELETE", path, body=body, token=token, **kw)

    # --- auth helpers ---------------------------------------------------------------------

    def login(self, email, password, tenant="default"):
        r = self.post("/api/v1/auth/login",
                      {"tenant_id": tenant, "email": email, "password": password})
        if r.status != 200:
            raise AssertionError(f"login {email}@{tenant} failed: {r}")
        return r.json["access_token"]

    def admin_token(self):
        return self.login("admin@example.com", ADMIN_PASSWORD)

    def make_jwt(self, claims, alg="HS256", secret=None):
        """A token signed like the server signs them (or with another secret/algorithm)."""
        header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
        payload = b64url(json.dumps(claims).encode())
        signing = f"{header}.{payload}".encode()
        if alg == "none":
            return f"{header}.{payload}."
        key = (secret or self.jwt_secret).encode()
        digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
        sig = b64url(hmac.new(key, signing, digest).digest())
        return f"{header}.{payload}.{sig}"

    def create_tenant(self, platform_token, tenant_id):
        r = self.post("/api/v1/tenants", {"tenant_id": tenant_id, "name": tenant_id,
                                          "deployment_mode": "shared"}, platform_token)
        if r.status != 201:
            raise AssertionError(f"create tenant failed: {r}")

    def root_org(self, token):
        return self.get("/api/v1/org-units", token).json[0]["id"]

    def create_user(self, token, email, role="user", password="password-1", name=None, org_id=None,
                    title=""):
        org_id = org_id or self.root_org(token)
        r = self.post("/api/v1/users", {"org_id": org_id, "email": email, "password": password,
                                        "name": name or email.split("@")[0], "role": role,
                                        "title": title}, token)
        if r.status != 201:
            raise AssertionError(f"create user {email} failed: {r}")
        return r.json["id"]


def check_exit(server, code):
    """The debug build runs with ASan/UBSan: a report, or an unclean exit, is a failure."""
    log = server.log()
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        if marker in log:
            start = log.rfind("\n", 0, log.index(marker)) + 1  # the whole line: file:line
            raise AssertionError(f"sanitizer report in the server log:\n{log[start:start + 3000]}")
    if code not in (0, None):
        raise AssertionError(f"server exited with {code}:\n{log[-3000:]}")


class ServerTestCase(unittest.TestCase):
    """A test class sharing one server (and database) across its tests."""

    server_env = None

    @classmethod
    def setUpClass(cls):
        cls.server = Server(env=cls.server_env).start()

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.drop()
        check_exit(cls.server, code)

    def assertStatus(self, response, status, error=None):
        self.assertEqual(response.status, status, response)
        if error is not None:
            self.assertEqual(response.json, {"error": error}, response)
