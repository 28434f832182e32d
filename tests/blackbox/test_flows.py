"""The seed README's curl flows, end to end: login, org units, users, status, search,
aliases + audit, tenants."""
import time
import unittest
import urllib.parse

from .harness import ADMIN_PASSWORD, ServerTestCase


class LoginTest(ServerTestCase):
    def test_admin_login_returns_token_and_identity(self):
        r = self.server.post("/api/v1/auth/login", {"tenant_id": "default",
                                                     "email": "admin@example.com",
                                                     "password": ADMIN_PASSWORD})
        self.assertStatus(r, 200)
        self.assertEqual(set(r.json), {"access_token", "user_id", "tenant_id", "role"})
        self.assertIsInstance(r.json["user_id"], int)
        self.assertEqual(r.json["tenant_id"], "default")
        self.assertEqual(r.json["role"], "admin")
        me = self.server.get("/api/v1/users/me", r.json["access_token"])
        self.assertStatus(me, 200)
        self.assertEqual(me.json["email"], "admin@example.com")
        self.assertNotIn("password_hash", me.body)

    def test_email_is_case_insensitive(self):
        self.assertTrue(self.server.login("Admin@Example.COM", ADMIN_PASSWORD))

    def test_bad_credentials(self):
        for body in ({"tenant_id": "default", "email": "admin@example.com", "password": "nope"},
                     {"tenant_id": "default", "email": "ghost@example.com", "password": "x"},
                     {"tenant_id": "no-such", "email": "admin@example.com",
                      "password": ADMIN_PASSWORD}):
            self.assertStatus(self.server.post("/api/v1/auth/login", body), 401,
                              "invalid credentials")

    def test_missing_fields(self):
        r = self.server.post("/api/v1/auth/login", {"tenant_id": "default", "email": "a@b.co"})
        self.assertStatus(r, 400, "password is required")


class LoginThrottleTest(ServerTestCase):
    server_env = {"LOGIN_RATE_PER_EMAIL": "3"}

    def test_per_email_limit_answers_429_with_retry_after(self):
        body = {"tenant_id": "default", "email": "victim@example.com", "password": "guess"}
        for _ in range(3):
            self.assertStatus(self.server.post("/api/v1/auth/login", body), 401)
        r = self.server.post("/api/v1/auth/login", body)
        self.assertStatus(r, 429, "too many requests")
        self.assertGreaterEqual(int(r.headers["retry-after"]), 1)
        # Another account is not affected.
        self.assertTrue(self.server.admin_token())

    def test_only_failures_count_per_account(self):
        """Before, every attempt spent the account's bucket: its owner, logging in correctly
        three times, locked themself out."""
        admin = self.server.admin_token()
        self.server.create_user(admin, "owner@example.com")
        for _ in range(6):
            self.server.login("owner@example.com", "password-1")
        wrong = {"tenant_id": "default", "email": "owner@example.com", "password": "guess"}
        for _ in range(3):
            self.assertStatus(self.server.post("/api/v1/auth/login", wrong), 401)
        # Three failures: now even the right password waits (no guessing around the limit).
        right = dict(wrong, password="password-1")
        self.assertStatus(self.server.post("/api/v1/auth/login", right), 429, "too many requests")


class OrgAndUsersTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.server.admin_token()

    def test_org_units_with_parent(self):
        root = self.server.root_org(self.admin)
        r = self.server.post("/api/v1/org-units", {"name": "개발팀", "parent_id": str(root)},
                             self.admin)
        self.assertStatus(r, 201)
        child = r.json["id"]
        units = self.server.get("/api/v1/org-units", self.admin).json
        by_id = {u["id"]: u for u in units}
        self.assertEqual(by_id[child]["parent_id"], root)
        self.assertEqual(by_id[child]["name"], "개발팀")
        self.assertNotIn("parent_id", by_id[root])
        self.assertEqual([u["id"] for u in units], sorted(u["id"] for u in units))
        bad = self.server.post("/api/v1/org-units", {"name": "x", "parent_id": 99999999},
                               self.admin)
        self.assertStatus(bad, 400, "parent_id is invalid")

    def test_create_user_then_login_and_duplicates(self):
        uid = self.server.create_user(self.admin, "lee@example.com", name="이영희")
        token = self.server.login("lee@example.com", "password-1")
        me = self.server.get("/api/v1/users/me", token).json
        self.assertEqual(me["id"], uid)
        self.assertEqual(me["role"], "user")
        self.assertEqual(me["status"], "offline")
        dup = self.server.post("/api/v1/users", {"org_id": me["org_id"], "email": "LEE@example.com",
                                                 "password": "password-1", "name": "Lee"},
                               self.admin)
        self.assertStatus(dup, 409, "email already exists")

    def test_user_validation(self):
        org = self.server.root_org(self.admin)
        base = {"org_id": org, "email": "v@example.com", "password": "password-1", "name": "V"}
        cases = [({"email": "not-an-email"}, "email is invalid"),
                 ({"password": "short"}, "password must be 8 to 128 bytes"),
                 ({"role": "root"}, "role must be admin, manager or user"),
                 ({"status": "sleeping"},
                  "status must be one of online, offline, busy, away, meeting"),
                 ({"org_id": 987654321}, "org_id is invalid"),
                 ({"org_id": "abc"}, "org_id must be an id")]
        for change, error in cases:
            body = dict(base, **change)
            self.assertStatus(self.server.post("/api/v1/users", body, self.admin), 400, error)

    def test_manager_cannot_create_admin(self):
        self.server.create_user(self.admin, "mgr@example.com", role="manager")
        mgr = self.server.login("mgr@example.com", "password-1")
        org = self.server.root_org(mgr)
        r = self.server.post("/api/v1/users", {"org_id": org, "email": "boss@example.com",
                                               "password": "password-1", "name": "B",
                                               "role": "admin"}, mgr)
        self.assertStatus(r, 403, "insufficient permissions")
        ok = self.server.post("/api/v1/users", {"org_id": org, "email": "staff@example.com",
                                                "password": "password-1", "name": "S"}, mgr)
        self.assertStatus(ok, 201)

    def test_status_changes(self):
        uid = self.server.create_user(self.admin, "park@example.com")
        other = self.server.create_user(self.admin, "choi@example.com")
        token = self.server.login("park@example.com", "password-1")
        r = self.server.patch(f"/api/v1/users/{uid}/status", {"status": "busy", "note": "회의 중"},
                              token)
        self.assertStatus(r, 200)
        self.assertEqual(r.json, {"ok": True})
        me = self.server.get("/api/v1/users/me", token).json
        self.assertEqual((me["status"], me["status_note"]), ("busy", "회의 중"))
        self.assertStatus(self.server.patch(f"/api/v1/users/{other}/status", {"status": "away"},
                                            token), 403, "cannot update another user's status")
        self.assertStatus(self.server.patch(f"/api/v1/users/{other}/status", {"status": "away"},
                                            self.admin), 200)
        self.assertStatus(self.server.patch(f"/api/v1/users/{uid}/status", {"status": "gone"},
                                            token), 400)
        self.assertStatus(self.server.patch("/api/v1/users/99999999/status", {"status": "away"},
                                            self.admin), 404, "user not found")

    def test_search(self):
        self.server.create_user(self.admin, "kim.cs@example.com", name="김철수",
                                title="Backend Lead")
        self.server.create_user(self.admin, "pct@example.com", name="Percent", title="100% sure")
        r = self.server.get("/api/v1/users/search?q=%EC%B2%A0%EC%88%98", self.admin)  # 철수
        self.assertStatus(r, 200)
        self.assertEqual([u["email"] for u in r.json], ["kim.cs@example.com"])
        self.assertEqual(r.json[0]["tenant_id"], "default")
        lead = self.server.get("/api/v1/users/search?q=backend&limit=5", self.admin).json
        self.assertEqual(len(lead), 1)
        pct = self.server.get("/api/v1/users/search?q=100%25", self.admin).json  # a literal %
        self.assertEqual([u["email"] for u in pct], ["pct@example.com"])
        # Punctuation alone has nothing to search for: no user, certainly not every user.
        self.assertEqual(self.server.get("/api/v1/users/search?q=%25", self.admin).json, [])
        # Tokenizer semantics: full width and case fold; every term must match; the email's
        # words are searchable, and a term never spans two fields.
        for q, want in (("ＫＩＭ.ＣＳ", ["kim.cs@example.com"]), ("철수 lead", ["kim.cs@example.com"]),
                        ("철수 designer", []), ("lead kim", ["kim.cs@example.com"]),
                        ("철수kim", [])):
            found = self.server.get("/api/v1/users/search?q=" + urllib.parse.quote(q),
                                    self.admin).json
            self.assertEqual([u["email"] for u in found], want, q)
        self.assertStatus(self.server.get("/api/v1/users/search?q=", self.admin), 400,
                          "q is required")
        self.assertStatus(self.server.get("/api/v1/users/search?q=" + "a" * 101, self.admin), 400,
                          "q is too long")


class AliasTest(ServerTestCase):
    def test_alias_lifecycle_and_audit(self):
        admin = self.server.admin_token()
        s = self.server
        ua = {"User-Agent": "alias-test/1.0"}
        self.assertStatus(s.post("/api/v1/users/me/aliases", {"alias": " DevLead "}, admin,
                                 headers=ua), 200)
        self.assertStatus(s.post("/api/v1/users/me/aliases", {"alias": "devlead"}, admin), 200)
        self.assertStatus(s.post("/api/v1/users/me/aliases", {"alias": "팀장"}, admin), 200)
        self.assertEqual(s.get("/api/v1/users/me/aliases", admin).json,
                         {"aliases": ["devlead", "팀장"]})
        self.assertStatus(s.post("/api/v1/users/me/aliases", {"alias": "a b"}, admin), 400,
                          "alias may only contain letters, digits, underscore, and Korean "
                          "characters")
        self.assertStatus(s.post("/api/v1/users/me/aliases", {"alias": "가" * 41}, admin), 400,
                          "alias is too long")
        self.assertStatus(s.post("/api/v1/users/me/aliases", {"alias": "가" * 40}, admin), 200)
        self.assertStatus(s.post("/api/v1/users/me/aliases", {"alias": ""}, admin), 400,
                          "alias is required")
        self.assertStatus(s.delete("/api/v1/users/me/aliases", {"alias": "a-b"}, admin), 400,
                          "alias format is invalid")
        self.assertStatus(s.delete("/api/v1/users/me/aliases", {"alias": "DEVLEAD"}, admin), 200)
        self.assertStatus(s.delete("/api/v1/users/me/aliases", {"alias": "absent"}, admin), 200)

        audit = s.get("/api/v1/users/me/aliases/audit", admin)
        self.assertStatus(audit, 200)
        items = audit.json["items"]
        self.assertNotIn("next_cursor", audit.json)
        self.assertEqual([(i["action"], i["alias"]) for i in items],
                         [("delete", "devlead"), ("add", "가" * 40), ("add", "팀장"),
                          ("add", "devlead")])
        self.assertEqual(items[-1]["user_agent"], "alias-test/1.0")
        self.assertEqual(items[-1]["ip"], "127.0.0.1")

        # Paging with limit=1 walks every row exactly once.
        seen, cursor = [], None
        for _ in range(10):
            path = "/api/v1/users/me/aliases/audit?limit=1" + (f"&cursor={cursor}" if cursor else "")
            page = s.get(path, admin).json
            seen += [i["id"] for i in page["items"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        self.assertEqual(seen, [i["id"] for i in items])

        adds = s.get("/api/v1/users/me/aliases/audit?action=ADD", admin).json["items"]
        self.assertEqual(len(adds), 3)
        future = s.get("/api/v1/users/me/aliases/audit?from=2999-01-01T00:00:00Z", admin).json
        self.assertEqual(future["items"], [])
        errors = [("from=yesterday", "from must use RFC3339 format"),
                  ("to=2026-01-01", "to must use RFC3339 format"),
                  ("action=rename", "action must be add or delete"),
                  ("from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from must be before to"),
                  ("cursor=!!", "cursor is invalid"),
                  ("cursor=MTIz", "cursor is invalid")]
        for query, error in errors:
            self.assertStatus(s.get("/api/v1/users/me/aliases/audit?" + query, admin), 400, error)


class TenantTest(ServerTestCase):
    def test_platform_admin_manages_tenants(self):
        s = self.server
        admin = s.admin_token()
        r = s.post("/api/v1/tenants", {"tenant_id": "acme", "name": "Acme",
                                       "deployment_mode": "shared",
                                       "dedicated_minio_secret_key": "s3cr3t"}, admin)
        self.assertStatus(r, 201)
        self.assertEqual(r.json["dedicated_minio_secret_key"], "")
        self.assertTrue(r.json["dedicated_minio_secret_key_configured"])
        self.assertEqual(r.json["user_count_threshold"], 200)
        self.assertTrue(r.json["is_active"])
        self.assertNotIn("s3cr3t", r.body)
        self.assertStatus(s.post("/api/v1/tenants", {"tenant_id": "acme", "name": "Acme",
                                                     "deployment_mode": "shared"}, admin),
                          409, "tenant already exists")
        listed = s.get("/api/v1/tenants", admin).json
        self.assertEqual([t["tenant_id"] for t in listed], ["acme", "default"])

        p = s.patch("/api/v1/tenants/acme", {"name": "Acme Corp"}, admin)
        self.assertStatus(p, 200)
        self.assertEqual(p.json["name"], "Acme Corp")
        self.assertTrue(p.json["is_active"])  # omitted → unchanged
        self.assertTrue(p.json["dedicated_minio_secret_key_configured"])
        self.assertStatus(s.patch("/api/v1/tenants/acme", {"deployment_mode": "dedicated"}, admin),
                          400, "dedicated_dsn is required for dedicated mode")
        self.assertStatus(s.patch("/api/v1/tenants/acme", {"user_count_threshold": 0}, admin),
                          400, "user_count_threshold must be greater than 0")
        self.assertStatus(s.patch("/api/v1/tenants/nope", {"name": "x"}, admin), 404,
                          "tenant not found")
        for body, error in [({"name": "x", "deployment_mode": "shared"}, "tenant_id is required"),
                            ({"tenant_id": "x y", "name": "x", "deployment_mode": "shared"},
                             "tenant_id is invalid"),
                            ({"tenant_id": "ok", "name": "x", "deployment_mode": "cloud"},
                             "deployment_mode must be shared or dedicated")]:
            self.assertStatus(s.post("/api/v1/tenants", body, admin), 400, error)

    def test_tenant_admin_sees_only_own_tenant_and_inactive_tenant_cannot_log_in(self):
        s = self.server
        platform = s.admin_token()
        s.create_tenant(platform, "globex")
        seeded = s.run_command("seed-admin", {"TENANT_ID": "globex",
                                              "ADMIN_EMAIL": "root@globex.example"})
        self.assertEqual(seeded.returncode, 0, seeded.stderr)
        globex = s.login("root@globex.example", "admin-pass-123", tenant="globex")
        listed = s.get("/api/v1/tenants", globex).json
        self.assertEqual([t["tenant_id"] for t in listed], ["globex"])
        self.assertStatus(s.patch("/api/v1/tenants/default", {"name": "pwned"}, globex), 403,
                          "insufficient permissions")
        self.assertStatus(s.post("/api/v1/tenants", {"tenant_id": "evil", "name": "e",
                                                     "deployment_mode": "shared"}, globex),
                          403, "insufficient permissions")
        self.assertStatus(s.patch("/api/v1/tenants/globex", {"name": "Globex"}, globex), 200)
        self.assertStatus(s.patch("/api/v1/tenants/globex", {"is_active": False}, platform), 200)
        r = s.post("/api/v1/auth/login", {"tenant_id": "globex", "email": "root@globex.example",
                                          "password": "admin-pass-123"})
        self.assertStatus(r, 401, "invalid credentials")
        self.assertStatus(s.patch("/api/v1/tenants/default", {"is_active": False}, platform), 400,
                          "the platform tenant cannot be deactivated")


if __name__ == "__main__":
    unittest.main()
