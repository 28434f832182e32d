"""Korean-aware message search against the binary: particles, several terms, English case
and full-width folding, only the caller's rooms, cursor paging, bad input."""
import unittest
import urllib.parse

from .harness import ServerTestCase, psql


class SearchTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        admin = s.admin_token()
        cls.ids, cls.tokens = {}, {}
        for name in ("alice", "bob", "mallory"):
            cls.ids[name] = s.create_user(admin, f"{name}@example.com")
            cls.tokens[name] = s.login(f"{name}@example.com", "password-1")
        cls.room = s.post("/api/v1/rooms", {"name": "ops", "member_ids": [cls.ids["bob"]]},
                          cls.tokens["alice"]).json["id"]
        cls.secret_room = s.post("/api/v1/rooms", {"name": "m", "member_ids": []},
                                 cls.tokens["mallory"]).json["id"]
        cls.sent = {}
        for body in ("서버에서 배포를 시작합니다", "저장소를 정리했어요", "Deploy the API server",
                     "점심은 서버실 옆 식당", "ＳＥＲＶＥＲ 재부팅 완료"):
            r = s.post(f"/api/v1/rooms/{cls.room}/messages", {"body": body}, cls.tokens["alice"])
            assert r.status == 201, r
            cls.sent[body] = r.json["id"]
        s.post(f"/api/v1/rooms/{cls.secret_room}/messages", {"body": "서버 비밀번호"},
               cls.tokens["mallory"])

    def search(self, q, who="bob", **params):
        query = urllib.parse.urlencode(dict({"q": q}, **params))
        return self.server.get(f"/api/v1/messages/search?{query}", self.tokens[who])

    def bodies(self, r):
        self.assertStatus(r, 200)
        return [m["body"] for m in r.json["items"]]

    def test_korean_particles(self):
        self.assertEqual(self.bodies(self.search("서버")),
                         ["점심은 서버실 옆 식당", "서버에서 배포를 시작합니다"])
        self.assertEqual(self.bodies(self.search("저장소")), ["저장소를 정리했어요"])
        self.assertEqual(self.bodies(self.search("배포")), ["서버에서 배포를 시작합니다"])

    def test_every_term_must_occur(self):
        self.assertEqual(self.bodies(self.search("서버 배포")), ["서버에서 배포를 시작합니다"])
        self.assertEqual(self.bodies(self.search("서버 저장소")), [])

    def test_english_case_and_full_width(self):
        self.assertEqual(self.bodies(self.search("SERVER")),
                         ["ＳＥＲＶＥＲ 재부팅 완료", "Deploy the API server"])
        self.assertEqual(self.bodies(self.search("deplo")), ["Deploy the API server"])

    def test_only_the_callers_rooms(self):
        self.assertNotIn("서버 비밀번호", self.bodies(self.search("비밀번호")))
        self.assertEqual(self.bodies(self.search("비밀번호", who="mallory")), ["서버 비밀번호"])
        self.assertStatus(self.search("서버", room_id=self.secret_room), 403,
                          "room access denied")
        self.assertEqual(len(self.bodies(self.search("서버", room_id=self.room))), 2)

    def test_cursor_paging(self):
        first = self.search("서버", limit=1)
        self.assertEqual(self.bodies(first), ["점심은 서버실 옆 식당"])
        cursor = first.json["next_cursor"]
        second = self.search("서버", limit=1, cursor=cursor)
        self.assertEqual(self.bodies(second), ["서버에서 배포를 시작합니다"])
        self.assertNotIn("next_cursor", second.json)

    def test_reindex_fills_rows_written_before_search(self):
        s = self.server
        r = s.post(f"/api/v1/rooms/{self.room}/messages", {"body": "옛날 메시지 색인"},
                   self.tokens["alice"])
        self.assertStatus(r, 201)
        # As if written before migration 004: no tokens.
        psql(s.env["POSTGRES_DSN"],
             f"UPDATE messages SET search_tokens = NULL WHERE id = {r.json['id']}")
        self.assertEqual(self.bodies(self.search("색인")), [])
        done = s.run_command("reindex")
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("reindex done messages=1", done.stdout + done.stderr)
        self.assertEqual(self.bodies(self.search("색인")), ["옛날 메시지 색인"])
        again = s.run_command("reindex")  # resumable: nothing left
        self.assertIn("reindex done messages=0", again.stdout + again.stderr)

    def test_bad_input(self):
        self.assertStatus(self.search(""), 400, "q is required")
        self.assertStatus(self.search("  "), 400, "q is required")
        self.assertStatus(self.search("가" * 201), 400, "q is too long")
        self.assertStatus(self.search("서버", cursor="!!"), 400, "cursor is invalid")
        self.assertStatus(self.search("서버", room_id="abc"), 400, "room_id must be an id")
        self.assertEqual(self.bodies(self.search("%_")), [])  # literals, not wildcards
        self.assertStatus(self.server.get("/api/v1/messages/search?q=x"), 401)


if __name__ == "__main__":
    unittest.main()
