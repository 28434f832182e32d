"""A short oracle-checked fan-out run of msg_loadgen against the binary: every acked message
must reach every member of its room exactly once, in seq order (the tool exits non-zero
otherwise), and the JSON report must show real traffic."""
import json
import os
import subprocess
import tempfile
import unittest

from .harness import ServerTestCase

LOADGEN = os.environ.get("MSG_LOADGEN_BIN", "")


class LoadgenFanoutTest(ServerTestCase):
    server_env = {"MESSAGE_RATE_PER_USER": "100000", "WS_FRAMES_PER_SECOND": "0",
                  "WS_BYTES_PER_SECOND": "0"}

    def run_loadgen(self, *args):
        if not LOADGEN:
            raise RuntimeError("MSG_LOADGEN_BIN must be set (run through ctest)")
        s = self.server
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "report.json")
            html = os.path.join(tmp, "report.html")
            done = subprocess.run(
                [LOADGEN, *args, "--port", str(s.port), "--dsn", s.env["POSTGRES_DSN"],
                 "--jwt-secret", s.jwt_secret, "--server-pid", str(s.proc.pid),
                 "--json", out, "--html", html],
                capture_output=True, text=True, timeout=300)
            report = json.load(open(out)) if os.path.exists(out) else None
            page = open(html).read() if os.path.exists(html) else ""
        return done, report, page

    def test_fanout_10_rooms_x_10_members_passes_the_oracle(self):
        done, report, page = self.run_loadgen(
            "fanout", "--rooms", "10", "--members", "10", "--senders", "20", "--rate", "400",
            "--duration", "3", "--warmup", "1")
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("ORACLE: every acked message reached every member once", done.stdout)
        self.assertEqual(report["oracle"], {"lost": 0, "duplicated": 0, "reordered": 0,
                                            "examples": []})
        self.assertEqual(report["connected"], 100)
        # ~400 msgs/s for 4 s: well over a thousand persisted, each delivered to 10 members.
        self.assertGreater(report["persisted"], 1000)
        self.assertEqual(report["sent"], report["acked"])
        self.assertGreater(report["send_to_deliver"]["count"], 5000)
        self.assertIn("<svg", page)

    def test_history_reads(self):
        done, report, _ = self.run_loadgen(
            "history", "--rooms", "4", "--members", "5", "--history-messages", "60",
            "--workers", "4", "--duration", "2", "--warmup", "0.5")
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertGreater(report["request"]["count"], 50)
        self.assertEqual(report["errors"], {}, done.stdout)

    def test_connections_are_held(self):
        done, report, _ = self.run_loadgen(
            "connections", "--connections", "300", "--members", "10", "--duration", "1",
            "--warmup", "0")
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertEqual((report["connected"], report["still_open"]), (300, 300))

    def test_connections_spread_over_worker_processes(self):
        done, report, _ = self.run_loadgen(
            "connections", "--connections", "301", "--members", "10", "--duration", "1",
            "--warmup", "0", "--procs", "3", "--threads", "1")
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertEqual((report["connected"], report["still_open"]), (301, 301))
        self.assertIn("over 3 processes", done.stdout)


if __name__ == "__main__":
    unittest.main()
