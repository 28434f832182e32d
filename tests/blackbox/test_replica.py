"""Issue 17: the read/write split. An `all` node with POSTGRES_READ_DSN on the run's streaming
replica (scripts/test.sh: pg_basebackup -R of the test cluster) serves directory reads from the
replica, everything else from the primary, and never hides its own writes behind replica lag:
the test pauses replay and reads back what it just wrote."""
import os
import re
import subprocess
import time
import unittest

from .harness import Server

REPLICA_ADMIN_DSN = os.environ.get("MSG_TEST_POSTGRES_REPLICA_DSN", "")


def replica_sql(sql, db="postgres"):
    out = subprocess.run(["psql", f"{REPLICA_ADMIN_DSN} dbname={db}", "-tAc", sql],
                         capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return out.stdout.strip()


def served_by(server, where):
    m = re.search(r'^msg_pg_replica_reads_total\{served_by="' + where + r'"\} (\d+)$',
                  server.get("/metrics").body, re.M)
    return int(m.group(1)) if m else None


class ReadReplicaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not REPLICA_ADMIN_DSN:
            raise RuntimeError("MSG_TEST_POSTGRES_REPLICA_DSN is not set (run through "
                               "scripts/test.sh, which starts the replica)")
        replica_sql("SELECT pg_wal_replay_resume()")
        cls.server = Server()
        # The database was created on the primary just now; the replica follows.
        deadline = time.time() + 30
        while True:
            try:
                replica_sql("SELECT 1", db=cls.server.db)
                break
            except RuntimeError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        cls.server.env["POSTGRES_READ_DSN"] = f"{REPLICA_ADMIN_DSN} dbname={cls.server.db}"
        cls.server.start()
        cls.admin = cls.server.admin_token()

    @classmethod
    def tearDownClass(cls):
        replica_sql("SELECT pg_wal_replay_resume()")
        cls.server.drop()

    def tearDown(self):
        replica_sql("SELECT pg_wal_replay_resume()")

    def wait_replayed(self):
        """Until the replica has replayed everything the primary has now."""
        target = self.server.sql("SELECT pg_current_wal_insert_lsn()")[0][0]
        deadline = time.time() + 30
        while replica_sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'") != "t":
            self.assertLess(time.time(), deadline, "the replica did not catch up")
            time.sleep(0.05)

    def test_directory_reads_are_served_by_the_replica(self):
        self.wait_replayed()
        before = served_by(self.server, "replica") or 0
        r = self.server.get("/api/v1/org-units", self.admin)
        self.assertEqual(r.status, 200)
        self.assertGreater(served_by(self.server, "replica"), before)

    def test_own_writes_read_back_while_the_replica_lags(self):
        s = self.server
        replica_sql("SELECT pg_wal_replay_pause()")
        behind = served_by(s, "primary_behind") or 0
        unit = s.post("/api/v1/org-units", {"name": "Replica Lag Team",
                                            "parent_id": s.root_org(self.admin)}, self.admin)
        self.assertEqual(unit.status, 201, unit)
        names = [u["name"] for u in s.get("/api/v1/org-units", self.admin).json]
        self.assertIn("Replica Lag Team", names)
        s.create_user(self.admin, "lagging.user@example.com", name="Lagging User")
        found = s.get("/api/v1/users/search?q=lagging", self.admin).json
        self.assertEqual([u["email"] for u in found], ["lagging.user@example.com"])
        self.assertGreater(served_by(s, "primary_behind"), behind)
        # The replica really lags: it has neither yet.
        self.assertEqual(replica_sql("SELECT count(*) FROM org_units WHERE name = "
                                     "'Replica Lag Team'", db=s.db), "0")

        replica_sql("SELECT pg_wal_replay_resume()")
        self.wait_replayed()
        on_replica = served_by(s, "replica")
        names = [u["name"] for u in s.get("/api/v1/org-units", self.admin).json]
        self.assertIn("Replica Lag Team", names)
        self.assertGreater(served_by(s, "replica"), on_replica)

    def test_history_and_rooms_never_read_the_replica(self):
        s = self.server
        s.create_user(self.admin, "replica.alice@example.com")
        bob = s.create_user(self.admin, "replica.bob@example.com")
        token = s.login("replica.alice@example.com", "password-1")
        room = s.post("/api/v1/rooms", {"name": "lag", "member_ids": [bob]}, token)
        self.assertEqual(room.status, 201, room)
        replica_sql("SELECT pg_wal_replay_pause()")
        sent = s.post(f"/api/v1/rooms/{room.json['id']}/messages", {"body": "after pause"}, token)
        self.assertEqual(sent.status, 201, sent)
        history = s.get(f"/api/v1/rooms/{room.json['id']}/messages", token)
        self.assertEqual([m["body"] for m in history.json["items"]], ["after pause"])
        rooms = s.get("/api/v1/rooms", token).json["items"]
        self.assertIn(room.json["id"], [r["room_id"] for r in rooms])


if __name__ == "__main__":
    unittest.main()
