"""Issue 17: dedicated tenants. A second PostgreSQL cluster (scripts/test.sh starts it listening
on loopback TCP: a dedicated DSN may not name a socket path) holds a dedicated tenant's data;
the shared cluster keeps only the registry row. The node provisions the database (migrations and
the tenant's own row) before it records the tenant, routes every operation of the tenant there,
relays that database's outbox, and keeps the tenant's own row in step (a suspension counts)."""
import os
import secrets
import subprocess
import time
import unittest
import urllib.parse

from .harness import BIN, Server
from .test_files import transfer

DEDICATED_ADMIN_DSN = os.environ.get("MSG_TEST_POSTGRES_DEDICATED_DSN", "")
S3 = os.environ.get("MSG_TEST_S3_ENDPOINT", "")


def dedicated_sql(sql, db="postgres"):
    out = subprocess.run(["psql", f"{DEDICATED_ADMIN_DSN} dbname={db}", "-v", "ON_ERROR_STOP=1",
                          "-qAtF", "\t", "-c", sql], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return [line.split("\t") for line in out.stdout.splitlines() if line]


class DedicatedTenantTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not DEDICATED_ADMIN_DSN:
            raise RuntimeError("MSG_TEST_POSTGRES_DEDICATED_DSN is not set (run through "
                               "scripts/test.sh, which starts the second cluster)")
        if not S3:
            raise RuntimeError("MSG_TEST_S3_ENDPOINT must be set (run through scripts/test.sh)")
        cls.dbs = []
        # Routes cached 1 s: a tenant-move's read-only phase reaches the node quickly.
        cls.server = Server(env={"TENANT_CACHE_TTL_SECONDS": "1",
                                 "PG_ACQUIRE_TIMEOUT_MS": "2000"}).start()
        cls.platform = cls.server.admin_token()

    @classmethod
    def tearDownClass(cls):
        cls.server.drop()
        for db in cls.dbs:
            dedicated_sql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")

    def new_database(self):
        db = f"ded_{os.getpid()}_{secrets.token_hex(4)}"
        dedicated_sql(f"CREATE DATABASE {db}")
        self.dbs.append(db)
        return db, f"{DEDICATED_ADMIN_DSN} dbname={db}"

    def create_dedicated(self, tenant_id):
        db, dsn = self.new_database()
        r = self.server.post("/api/v1/tenants", {"tenant_id": tenant_id, "name": tenant_id,
                                                 "deployment_mode": "dedicated",
                                                 "dedicated_dsn": dsn}, self.platform)
        self.assertEqual(r.status, 201, r)
        self.assertTrue(r.json["dedicated_dsn_configured"])
        self.assertEqual(r.json["dedicated_dsn"], "")
        return db

    def seed_admin(self, tenant_id):
        email = f"admin@{tenant_id}.example"
        done = self.server.run_command("seed-admin", {"TENANT_ID": tenant_id,
                                                      "ADMIN_EMAIL": email})
        self.assertEqual(done.returncode, 0, done.stderr)
        return self.server.login(email, "admin-pass-123", tenant=tenant_id)

    def test_a_dedicated_tenants_data_lives_only_in_its_database(self):
        s = self.server
        db = self.create_dedicated("ded-data")
        # Provisioned: the schema and the tenant's own row (no settings in it).
        self.assertEqual(dedicated_sql("SELECT name, deployment_mode, is_active, dedicated_dsn "
                                       "FROM tenants WHERE tenant_id = 'ded-data'", db),
                         [["ded-data", "dedicated", "t", ""]])
        admin = self.seed_admin("ded-data")
        bob = s.create_user(admin, "bob@ded-data.example")
        room = s.post("/api/v1/rooms", {"name": "own db", "member_ids": [bob]}, admin)
        self.assertEqual(room.status, 201, room)
        for i in range(3):
            sent = s.post(f"/api/v1/rooms/{room.json['id']}/messages",
                          {"body": f"dedicated {i}", "client_msg_id": f"d-{i}"}, admin)
            self.assertEqual(sent.status, 201, sent)
        history = s.get(f"/api/v1/rooms/{room.json['id']}/messages", admin).json["items"]
        self.assertEqual(sorted(m["body"] for m in history),
                         ["dedicated 0", "dedicated 1", "dedicated 2"])
        found = s.get("/api/v1/users/search?q=bob", admin).json
        self.assertEqual([u["email"] for u in found], ["bob@ded-data.example"])

        # A shared tenant's message, beside it.
        carol = s.create_user(self.platform, "carol.shared@example.com")
        platform_room = s.post("/api/v1/rooms", {"name": "shared", "member_ids": [carol]},
                               self.platform)
        self.assertEqual(platform_room.status, 201, platform_room)
        s.post(f"/api/v1/rooms/{platform_room.json['id']}/messages", {"body": "shared one"},
               self.platform)

        count = "SELECT count(*) FROM messages WHERE tenant_id = '{}'"
        self.assertEqual(dedicated_sql(count.format("ded-data"), db), [["3"]])
        self.assertEqual(s.sql(count.format("ded-data")), [["0"]])
        self.assertEqual(s.sql("SELECT count(*) FROM users WHERE tenant_id = 'ded-data'"),
                         [["0"]])
        self.assertEqual(dedicated_sql(count.format("default"), db), [["0"]])
        self.assertEqual(s.sql(count.format("default")), [["1"]])
        # Its events are relayed from its own outbox.
        deadline = time.time() + 30
        while dedicated_sql("SELECT count(*) FROM outbox WHERE published_at IS NULL", db) != [["0"]]:
            self.assertLess(time.time(), deadline, "the dedicated outbox was not relayed")
            time.sleep(0.2)
        self.assertGreaterEqual(int(dedicated_sql("SELECT count(*) FROM outbox", db)[0][0]), 3)
        # The registry holds the DSN sealed, never in clear.
        stored = s.sql("SELECT dedicated_dsn FROM tenants WHERE tenant_id = 'ded-data'")[0][0]
        self.assertTrue(stored.startswith("enc:v1:"))
        self.assertNotIn(db, stored)

    def test_a_dedicated_tenants_files_live_in_its_own_bucket(self):
        # The node's shared store is the local one (DATA_DIR/blobs); the tenant's is a bucket on
        # the run's S3 server.
        s = self.server
        _, dsn = self.new_database()
        bucket = "ded-" + secrets.token_hex(4)
        r = s.post("/api/v1/tenants", {
            "tenant_id": "ded-files", "name": "files", "deployment_mode": "dedicated",
            "dedicated_dsn": dsn, "dedicated_minio_endpoint": urllib.parse.urlsplit(S3).netloc,
            "dedicated_minio_access_key": "S3RVER", "dedicated_minio_secret_key": "S3RVER",
            "dedicated_minio_bucket": bucket}, self.platform)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["dedicated_minio_secret_key"], "")
        admin = self.seed_admin("ded-files")
        room = s.post("/api/v1/rooms", {"name": "files", "member_ids": []}, admin).json["id"]
        data = os.urandom(3000)
        key = f"rooms/{room}/report.bin"
        up = s.post("/api/v1/files/presign-upload",
                    {"object_key": key, "content_type": "application/octet-stream",
                     "size_bytes": len(data)}, admin)
        self.assertEqual(up.status, 200, up)
        self.assertTrue(up.json["url"].startswith(f"{S3}/{bucket}/tenants/ded-files/"), up.json)
        self.assertEqual(transfer("PUT", up.json["url"], data)[0], 200)
        reg = s.post("/api/v1/files/register",
                     {"room_id": room, "object_key": key, "content_type": "application/octet-stream",
                      "original_name": "report.bin", "size_bytes": len(data)}, admin)
        self.assertEqual(reg.status, 201, reg)  # the node found the object in that bucket
        down = s.post("/api/v1/files/presign-download", {"object_key": key}, admin)
        self.assertEqual(down.status, 200, down)
        self.assertTrue(down.json["url"].startswith(f"{S3}/{bucket}/"))
        self.assertEqual(transfer("GET", down.json["url"]), (200, data))
        self.assertFalse(os.path.exists(os.path.join(s.data_dir, "blobs", "tenants",
                                                     "ded-files")))
        # A shared tenant's objects stay in the shared store.
        me = s.get("/api/v1/users/me", self.platform).json["id"]
        shared = s.post("/api/v1/files/presign-upload",
                        {"object_key": f"users/{me}/avatar.png", "content_type": "image/png",
                         "size_bytes": 10}, self.platform)
        self.assertEqual(shared.status, 200, shared)
        self.assertFalse(shared.json["url"].startswith(S3), shared.json)

    def test_a_suspension_counts_in_the_dedicated_database(self):
        s = self.server
        db = self.create_dedicated("ded-suspend")
        self.seed_admin("ded-suspend")
        r = s.patch("/api/v1/tenants/ded-suspend", {"is_active": False}, self.platform)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(dedicated_sql("SELECT is_active FROM tenants WHERE tenant_id = "
                                       "'ded-suspend'", db), [["f"]])
        login = s.post("/api/v1/auth/login", {"tenant_id": "ded-suspend",
                                              "email": "admin@ded-suspend.example",
                                              "password": "admin-pass-123"})
        self.assertEqual(login.status, 401, login)

    def test_a_tenant_without_data_may_become_dedicated_and_routes_there_at_once(self):
        s = self.server
        r = s.post("/api/v1/tenants", {"tenant_id": "ded-late", "name": "late",
                                       "deployment_mode": "shared"}, self.platform)
        self.assertEqual(r.status, 201, r)
        # The node has routed the tenant to the shared database (a login looked it up).
        miss = s.post("/api/v1/auth/login", {"tenant_id": "ded-late", "email": "x@late.example",
                                             "password": "password-1"})
        self.assertEqual(miss.status, 401)
        db, dsn = self.new_database()
        r = s.patch("/api/v1/tenants/ded-late", {"deployment_mode": "dedicated",
                                                 "dedicated_dsn": dsn}, self.platform)
        self.assertEqual(r.status, 200, r)
        admin = self.seed_admin("ded-late")  # lands in the dedicated database
        self.assertEqual(dedicated_sql("SELECT count(*) FROM users WHERE tenant_id = 'ded-late'",
                                       db), [["1"]])
        self.assertEqual(s.get("/api/v1/users/me", admin).status, 200)

    def test_a_tenant_with_data_is_not_moved_by_a_patch(self):
        s = self.server
        r = s.post("/api/v1/tenants", {"tenant_id": "ded-full", "name": "full",
                                       "deployment_mode": "shared"}, self.platform)
        self.assertEqual(r.status, 201, r)
        self.seed_admin("ded-full")
        _, dsn = self.new_database()
        r = s.patch("/api/v1/tenants/ded-full", {"deployment_mode": "dedicated",
                                                 "dedicated_dsn": dsn}, self.platform)
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json["error"],
                         "tenant has data: move it with msg_server tenant-move")

    def tenant_move(self, tenant_id, dsn, *extra):
        env = dict(self.server.env)  # the node's TTL and acquire timeout: it waits 2+2+1 s
        env["TENANT_MOVE_DSN"] = dsn
        return subprocess.Popen([BIN, "tenant-move", tenant_id] + list(extra),
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)

    def test_a_tenant_with_data_moves_with_tenant_move_and_keeps_its_ids(self):
        s = self.server
        r = s.post("/api/v1/tenants", {"tenant_id": "ded-move", "name": "move",
                                       "deployment_mode": "shared"}, self.platform)
        self.assertEqual(r.status, 201, r)
        admin = self.seed_admin("ded-move")
        bob = s.create_user(admin, "bob@ded-move.example")
        room = s.post("/api/v1/rooms", {"name": "moving", "member_ids": [bob]}, admin).json["id"]
        for i in range(5):
            sent = s.post(f"/api/v1/rooms/{room}/messages",
                          {"body": f"before {i}", "client_msg_id": f"m-{i}"}, admin)
            self.assertEqual(sent.status, 201, sent)
        note = s.post("/api/v1/notes", {"title": "hello", "body": "note body",
                                        "to": [bob]}, admin)
        self.assertEqual(note.status, 201, note)
        before = s.get(f"/api/v1/rooms/{room}/messages", admin).json["items"]
        db, dsn = self.new_database()

        move = self.tenant_move("ded-move", dsn)
        # Read-only while it moves: writes answer 503, reads go on.
        deadline = time.time() + 20
        while True:
            refused = s.post(f"/api/v1/rooms/{room}/messages", {"body": "during"}, admin)
            if refused.status == 503:
                break
            self.assertEqual(refused.status, 201, refused)  # before the node saw the move
            self.assertLess(time.time(), deadline, "writes were never refused")
            time.sleep(0.2)
        self.assertEqual(refused.json["error"], "tenant is being moved; try again later")
        self.assertEqual(s.get(f"/api/v1/rooms/{room}/messages", admin).status, 200)
        out, _ = move.communicate(timeout=120)
        self.assertEqual(move.returncode, 0, out)
        self.assertIn("moved", out)

        # Everything is in its own database, nothing left in the shared one but the registry row.
        after = s.get(f"/api/v1/rooms/{room}/messages", admin).json["items"]
        tables = "SELECT (SELECT count(*) FROM users WHERE tenant_id = 'ded-move'), " \
                 "(SELECT count(*) FROM messages WHERE tenant_id = 'ded-move'), " \
                 "(SELECT count(*) FROM notes WHERE tenant_id = 'ded-move')"
        self.assertEqual(dedicated_sql(tables, db), [["2", str(len(after)), "1"]])
        self.assertEqual(s.sql(tables), [["0", "0", "0"]])
        self.assertEqual(s.sql("SELECT deployment_mode, move_dsn FROM tenants "
                               "WHERE tenant_id = 'ded-move'"), [["dedicated", ""]])
        # The same token, room ids and message ids work; new writes continue the sequences.
        kept = {(m["id"], m["seq"], m["body"]) for m in after}
        for m in before:
            self.assertIn((m["id"], m["seq"], m["body"]), kept)
        sent = s.post(f"/api/v1/rooms/{room}/messages", {"body": "after"}, admin)
        self.assertEqual(sent.status, 201, sent)
        self.assertGreater(sent.json["id"], max(m["id"] for m in after))
        self.assertEqual(sent.json["seq"], max(m["seq"] for m in after) + 1)
        inbox = s.get("/api/v1/notes/inbox", s.login("bob@ded-move.example", "password-1",
                                                     tenant="ded-move"))
        self.assertEqual(inbox.status, 200, inbox)
        self.assertEqual([n["title"] for n in inbox.json], ["hello"])

    def test_an_interrupted_tenant_move_resumes(self):
        s = self.server
        r = s.post("/api/v1/tenants", {"tenant_id": "ded-resume", "name": "resume",
                                       "deployment_mode": "shared"}, self.platform)
        self.assertEqual(r.status, 201, r)
        admin = self.seed_admin("ded-resume")
        room = s.post("/api/v1/rooms", {"name": "r", "member_ids": []}, admin).json["id"]
        for i in range(3):
            s.post(f"/api/v1/rooms/{room}/messages", {"body": f"m{i}"}, admin)
        db, dsn = self.new_database()
        # Killed while it waits for the nodes: the move stays recorded (read-only) ...
        move = self.tenant_move("ded-resume", dsn)
        s.wait_sql("SELECT move_dsn <> '' FROM tenants WHERE tenant_id = 'ded-resume'", [["t"]])
        move.kill()
        move.wait()
        # ... a PATCH may not change it meanwhile, and another target is refused ...
        r = s.patch("/api/v1/tenants/ded-resume", {"name": "renamed"}, self.platform)
        self.assertEqual((r.status, r.json["error"]), (409, "tenant is being moved; try again later"))
        _, other = self.new_database()
        elsewhere = self.tenant_move("ded-resume", other)
        out, _ = elsewhere.communicate(timeout=60)
        self.assertEqual(elsewhere.returncode, 1, out)
        self.assertIn("another move of this tenant is recorded", out)
        # ... and the same command again finishes it.
        again = self.tenant_move("ded-resume", dsn)
        out, _ = again.communicate(timeout=120)
        self.assertEqual(again.returncode, 0, out)
        self.assertEqual(dedicated_sql("SELECT count(*) FROM messages WHERE tenant_id = "
                                       "'ded-resume'", db), [["3"]])
        self.assertEqual(s.get(f"/api/v1/rooms/{room}/messages", admin).status, 200)
        self.assertEqual(s.post(f"/api/v1/rooms/{room}/messages", {"body": "m3"}, admin).status,
                         201)
        # Run once more: nothing to copy, nothing left to purge.
        done = self.tenant_move("ded-resume", dsn)
        out, _ = done.communicate(timeout=60)
        self.assertEqual(done.returncode, 0, out)
        self.assertIn("0 rows removed", out)

    def test_an_aborted_tenant_move_leaves_the_tenant_writable_where_it_was(self):
        s = self.server
        r = s.post("/api/v1/tenants", {"tenant_id": "ded-abort", "name": "abort",
                                       "deployment_mode": "shared"}, self.platform)
        self.assertEqual(r.status, 201, r)
        admin = self.seed_admin("ded-abort")
        room = s.post("/api/v1/rooms", {"name": "r", "member_ids": []}, admin).json["id"]
        _, dsn = self.new_database()
        move = self.tenant_move("ded-abort", dsn)
        s.wait_sql("SELECT move_dsn <> '' FROM tenants WHERE tenant_id = 'ded-abort'", [["t"]])
        move.kill()
        move.wait()
        aborted = self.tenant_move("ded-abort", dsn, "--abort")
        out, _ = aborted.communicate(timeout=60)
        self.assertEqual(aborted.returncode, 0, out)
        self.assertEqual(s.sql("SELECT deployment_mode, move_dsn FROM tenants "
                               "WHERE tenant_id = 'ded-abort'"), [["shared", ""]])
        deadline = time.time() + 10
        while True:  # the node's cached route (1 s) still says moving for a moment
            sent = s.post(f"/api/v1/rooms/{room}/messages", {"body": "still here"}, admin)
            if sent.status == 201:
                break
            self.assertEqual(sent.status, 503, sent)
            self.assertLess(time.time(), deadline)
            time.sleep(0.2)
        self.assertEqual(s.sql("SELECT count(*) FROM messages WHERE tenant_id = 'ded-abort'"),
                         [["1"]])

    def test_bad_or_unreachable_databases_are_refused_with_nothing_saved(self):
        s = self.server
        port = DEDICATED_ADMIN_DSN.split("port=")[1].split()[0]
        for dsn, status, error in [
            (f"host=127.0.0.1 port={port} dbname=x sslkey=/etc/shadow", 400,
             "dedicated_dsn may not set sslkey"),
            ("host=/var/run/postgresql dbname=x", 400,
             "dedicated_dsn host must be a host name or address"),
            (f"host=127.0.0.1 port={port} user=postgres dbname=no_such_database", 503,
             "the dedicated database could not be prepared"),
        ]:
            with self.subTest(dsn=dsn):
                r = s.post("/api/v1/tenants", {"tenant_id": "ded-bad", "name": "bad",
                                               "deployment_mode": "dedicated",
                                               "dedicated_dsn": dsn}, self.platform)
                self.assertEqual((r.status, r.json["error"]), (status, error))
                self.assertNotIn("shadow", r.body)
        listed = [t["tenant_id"] for t in s.get("/api/v1/tenants", self.platform).json]
        self.assertNotIn("ded-bad", listed)


if __name__ == "__main__":
    unittest.main()
