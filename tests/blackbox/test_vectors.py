"""vectorman against the binary: internal-token auth, index/search/delete per tenant, bounded
input, the index surviving a restart; in `all`, message.created indexed from the outbox and
`rank=relevance` on message search."""
import secrets
import time
import unittest
import urllib.parse

from .harness import Server, ServerTestCase

TOKEN = secrets.token_hex(24)  # 48 bytes


class VectormanTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(role="vectorman", env={"INTERNAL_API_TOKEN": TOKEN}).start()

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        log = cls.server.log()
        cls.server.drop()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            assert marker not in log, log[log.index(marker):][:3000]
        assert code in (0, None), f"vectorman exited with {code}:\n{log[-3000:]}"

    def call(self, op, body, token=TOKEN, raw=None):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return self.server.request("POST", f"/api/v1/vectors/messages/{op}", body, raw=raw,
                                   headers=headers)

    def index(self, tenant, message_id, room_id, text):
        r = self.call("index", {"tenant_id": tenant, "message_id": message_id,
                                "room_id": room_id, "text": text})
        self.assertEqual((r.status, r.json), (200, {"ok": True}), r)

    def search(self, tenant, query, **extra):
        r = self.call("search", dict({"tenant_id": tenant, "query": query}, **extra))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.json["ids"]), len(r.json["scores"]))
        return r.json["ids"]

    def test_internal_token_is_required(self):
        body = {"tenant_id": "t", "query": "x"}
        for token in (None, "", "wrong" * 10, TOKEN[:-1], TOKEN + "x"):
            r = self.call("search", body, token=token)
            self.assertEqual(r.status, 401, (token, r))
        # A user's JWT is not an internal token.
        jwt = self.server.make_jwt({"user_id": 1, "tenant_id": "t", "role": "admin",
                                    "exp": int(time.time()) + 60})
        self.assertEqual(self.call("search", body, token=jwt).status, 401)
        # The token never appears in the log.
        self.assertNotIn(TOKEN, self.server.log())

    def test_index_search_delete_per_tenant(self):
        self.index("acme", 101, 1, "서버에서 배포를 시작합니다")
        self.index("acme", 102, 1, "점심 메뉴는 뭐예요")
        self.index("acme", 103, 2, "배포 서버 점검 공지")
        self.index("globex", 101, 9, "서버에서 배포를 시작합니다")
        ids = self.search("acme", "서버 배포")
        self.assertEqual(sorted(ids), [101, 102, 103])
        self.assertEqual(ids[-1], 102)  # lunch is the farthest
        self.assertEqual(self.search("acme", "서버 배포", room_id=2), [103])
        self.assertEqual(self.search("acme", "서버 배포", message_ids=[102, 103]), [103, 102])
        self.assertEqual(self.search("acme", "서버 배포", limit=1)[0], ids[0])
        self.assertEqual(self.search("globex", "서버 배포"), [101])  # its own 101 only
        self.assertEqual(self.search("initech", "서버 배포"), [])
        # Re-indexing an id replaces it.
        self.index("acme", 102, 3, "완전히 다른 내용")
        self.assertEqual(self.search("acme", "내용", room_id=3), [102])
        r = self.call("delete", {"tenant_id": "acme", "message_ids": [101, 999]})
        self.assertEqual((r.status, r.json), (200, {"ok": True}))
        self.assertEqual(sorted(self.search("acme", "서버 배포")), [102, 103])
        self.assertEqual(self.search("globex", "서버 배포"), [101])

    def test_bad_input(self):
        cases = [
            ("index", {"message_id": 1, "room_id": 1, "text": "x"}),  # no tenant
            ("index", {"tenant_id": "t", "room_id": 1, "text": "x"}),  # no message id
            ("index", {"tenant_id": "t", "message_id": "abc", "room_id": 1}),
            ("index", {"tenant_id": "t", "message_id": 1, "room_id": 1, "text": "x" * 20000}),
            ("index", {"tenant_id": "t" * 65, "message_id": 1, "room_id": 1}),
            ("search", {"tenant_id": "t"}),  # no query
            ("search", {"tenant_id": "t", "query": "q" * 2000}),
            ("search", {"tenant_id": "t", "query": "q", "message_ids": list(range(201))}),
            ("delete", {"tenant_id": "t"}),
            ("delete", {"tenant_id": "t", "message_ids": "1"}),
        ]
        for op, body in cases:
            r = self.call(op, body)
            self.assertEqual(r.status, 400, (op, body, r))
            self.assertIn("error", r.json)
        r = self.call("index", None, raw=b"{not json")
        self.assertEqual(r.status, 400)

    def test_index_survives_a_restart(self):
        self.index("persist", 7, 1, "재시작 후에도 남아 있어야 합니다")
        self.server.stop()  # SIGTERM: the index is flushed at shutdown
        self.server.start()
        self.assertEqual(self.search("persist", "재시작"), [7])

    def test_refuses_to_start_without_a_token(self):
        done = self.server.run_command("vectorman", {"INTERNAL_API_TOKEN": ""})
        self.assertEqual(done.returncode, 2)
        self.assertIn("INTERNAL_API_TOKEN must be set", done.stderr)
        short = self.server.run_command("vectorman", {"INTERNAL_API_TOKEN": "short"})
        self.assertEqual(short.returncode, 2)


class RelevanceTest(ServerTestCase):
    """Role `all`: the vector index is in process and fed by the outbox."""

    server_env = {"INTERNAL_API_TOKEN": TOKEN}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        admin = s.admin_token()
        s.create_user(admin, "vera@example.com")
        cls.token = s.login("vera@example.com", "password-1")
        cls.room = s.post("/api/v1/rooms", {"name": "ops", "member_ids": []}, cls.token).json["id"]
        cls.ids = {}
        # Oldest first: the dense one is older, so newest-first puts it last.
        for key, body in (("dense", "배포 배포 배포"),
                          ("filler", "배포 일정은 다음 주 회의에서 다시 정하기로 했고 오늘은 점심 메뉴 이야기만 했습니다"),
                          ("sparse", "오늘 오후에는 문서 정리와 코드 리뷰를 하고 나서 배포 체크리스트도 한번 훑어볼 예정입니다")):
            r = s.post(f"/api/v1/rooms/{cls.room}/messages", {"body": body}, cls.token)
            assert r.status == 201, r
            cls.ids[key] = r.json["id"]

    def search(self, **params):
        query = urllib.parse.urlencode(dict({"q": "배포"}, **params))
        return self.server.get(f"/api/v1/messages/search?{query}", self.token)

    def test_messages_are_indexed_from_the_outbox(self):
        wanted = sorted(self.ids.values())
        deadline = time.monotonic() + 20
        while True:
            r = self.server.post("/api/v1/vectors/messages/search",
                                 {"tenant_id": "default", "query": "배포", "message_ids": wanted},
                                 headers={"Authorization": f"Bearer {TOKEN}"})
            self.assertEqual(r.status, 200, r)
            if sorted(r.json["ids"]) == wanted:
                break
            self.assertLess(time.monotonic(), deadline, f"not indexed: {r.json}")
            time.sleep(0.1)
        # The user-facing API is not reachable with the internal token, nor vectorman's with a JWT.
        self.assertEqual(self.server.post("/api/v1/vectors/messages/search",
                                          {"tenant_id": "default", "query": "x"},
                                          self.token).status, 401)

    def test_rank_relevance_reorders_the_first_page(self):
        recent = self.search(limit=10)
        self.assertEqual(recent.status, 200)
        recent_ids = [m["id"] for m in recent.json["items"]]
        self.assertEqual(recent_ids, [self.ids["sparse"], self.ids["filler"], self.ids["dense"]])
        relevant = self.search(limit=10, rank="relevance")
        self.assertEqual(relevant.status, 200)
        relevant_ids = [m["id"] for m in relevant.json["items"]]
        self.assertEqual(sorted(relevant_ids), sorted(recent_ids))  # same page, reordered
        self.assertEqual(relevant_ids[0], self.ids["dense"])
        # Later pages keep newest first; the cursor is the newest-first one.
        page = self.search(limit=1, rank="relevance")
        self.assertIn("next_cursor", page.json)
        second = self.search(limit=1, rank="relevance", cursor=page.json["next_cursor"])
        self.assertEqual([m["id"] for m in second.json["items"]], [self.ids["filler"]])

    def test_bad_rank(self):
        r = self.search(rank="best")
        self.assertStatus(r, 400, "rank must be recent or relevance")


if __name__ == "__main__":
    unittest.main()
