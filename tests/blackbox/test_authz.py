"""Authorization matrix: every protected route × (no token, malformed header, bad token,
expired token, alg none, other algorithm, wrong role, other tenant)."""
import time
import unittest

from .harness import ServerTestCase

# (method, path, body, who may call: "any" authenticated role, or "staff" = admin|manager)
ROUTES = [
    ("POST", "/api/v1/org-units", {"name": "x"}, "staff"),
    ("GET", "/api/v1/org-units", None, "staff"),
    ("POST", "/api/v1/users", {"org_id": 1, "email": "z@example.com", "password": "password-1",
                               "name": "z"}, "staff"),
    ("GET", "/api/v1/users/me", None, "any"),
    ("PATCH", "/api/v1/users/{me}/status", {"status": "online"}, "any"),  # {me}: caller's id
    ("GET", "/api/v1/users/search?q=a", None, "any"),
    # Bodies that change nothing (one's own account: 400), so the callers' tokens survive.
    ("POST", "/api/v1/users/{me}/deactivate", None, "staff"),
    ("POST", "/api/v1/users/{me}/reactivate", None, "staff"),
    ("PATCH", "/api/v1/users/{me}/role", {"role": "user"}, "admin"),
    ("POST", "/api/v1/users/{me}/password", {"password": "short"}, "staff"),
    ("GET", "/api/v1/users/me/aliases", None, "any"),
    ("POST", "/api/v1/users/me/aliases", {"alias": "x"}, "any"),
    ("DELETE", "/api/v1/users/me/aliases", {"alias": "x"}, "any"),
    ("GET", "/api/v1/users/me/aliases/audit", None, "any"),
    ("GET", "/api/v1/tenants", None, "admin"),
    ("POST", "/api/v1/tenants", {"tenant_id": "t9", "name": "t", "deployment_mode": "shared"},
     "platform"),
    ("PATCH", "/api/v1/tenants/default", {"name": "Default Tenant"}, "platform"),
    ("POST", "/api/v1/session/login", {"device_id": "authz-device"}, "any"),
    ("POST", "/api/v1/session/logout", {"device_id": "no-such-device"}, "any"),
    ("PATCH", "/api/v1/session/status", {"status": "online"}, "any"),
    # Revokes the caller's tokens when it succeeds: test_roles leaves it out (test_security
    # covers it), every refusal case here includes it.
    ("POST", "/api/v1/session/logout-all", None, "revokes"),
    ("POST", "/api/v1/notes", {"title": "t"}, "any"),
    ("GET", "/api/v1/notes/inbox", None, "any"),
    ("GET", "/api/v1/notes/1", None, "any"),
    ("POST", "/api/v1/notes/1/read", None, "any"),
    ("POST", "/api/v1/chat/notify", {"room_id": 1}, "any"),
    ("POST", "/api/v1/files/presign-upload", {"object_key": "notes/authz.bin"}, "any"),
    ("POST", "/api/v1/files/presign-download", {"object_key": "notes/authz.bin"}, "any"),
    ("POST", "/api/v1/files/register", {"room_id": 1, "object_key": "notes/authz.bin",
                                        "content_type": "x/y", "original_name": "a",
                                        "size_bytes": 1}, "any"),
]


class AuthMatrixTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.admin = s.admin_token()
        cls.admin_id = s.get("/api/v1/users/me", cls.admin).json["id"]
        s.create_user(cls.admin, "user@example.com", role="user")
        s.create_user(cls.admin, "manager@example.com", role="manager")
        cls.user = s.login("user@example.com", "password-1")
        cls.manager = s.login("manager@example.com", "password-1")
        s.create_tenant(cls.admin, "other")
        seeded = s.run_command("seed-admin", {"TENANT_ID": "other",
                                              "ADMIN_EMAIL": "admin@other.example"})
        assert seeded.returncode == 0, seeded.stderr
        cls.other_admin = s.login("admin@other.example", "admin-pass-123", tenant="other")
        cls.ids = {t: s.get("/api/v1/users/me", t).json["id"]
                   for t in (cls.admin, cls.user, cls.manager)}

    def call(self, method, path, body, token=None, headers=None):
        me = self.ids.get(token, 1)
        return self.server.request(method, path.replace("{me}", str(me)), body=body, token=token,
                                   headers=headers)

    def test_no_token(self):
        for method, path, body, _ in ROUTES:
            with self.subTest(route=f"{method} {path}"):
                self.assertStatus(self.call(method, path, body), 401, "bearer token is required")

    def test_not_a_bearer_header(self):
        for header in ("Basic YWRtaW46cGFzcw==", "bearer " + self.admin, "Bearer" + self.admin):
            for method, path, body, _ in ROUTES:
                with self.subTest(route=f"{method} {path}", header=header[:10]):
                    r = self.call(method, path, body, headers={"Authorization": header})
                    self.assertStatus(r, 401, "bearer token is required")

    def test_invalid_tokens(self):
        s = self.server
        now = int(time.time())
        claims = {"user_id": str(self.admin_id), "tenant_id": "default", "role": "admin",
                  "iat": now, "exp": now + 600}
        bad = {
            "garbage": "not.a.jwt",
            "wrong secret": s.make_jwt(claims, secret="another-secret-another-secret-xx"),
            "expired": s.make_jwt(dict(claims, iat=now - 7200, exp=now - 3600)),
            "no exp": s.make_jwt({k: v for k, v in claims.items() if k != "exp"}),
            "alg none": s.make_jwt(claims, alg="none"),
            "HS512": s.make_jwt(claims, alg="HS512"),
            "tampered": self.admin[:-4] + ("AAAA" if not self.admin.endswith("AAAA") else "BBBB"),
        }
        for name, token in bad.items():
            for method, path, body, _ in ROUTES:
                with self.subTest(token=name, route=f"{method} {path}"):
                    self.assertStatus(self.call(method, path, body, token), 401, "invalid token")
        # Sanity: the same claims correctly signed are accepted.
        self.assertStatus(s.get("/api/v1/users/me", s.make_jwt(claims)), 200)

    def test_roles(self):
        for method, path, body, who in ROUTES:
            if who == "revokes":
                continue
            with self.subTest(route=f"{method} {path}"):
                r = self.call(method, path, body, self.user)
                if who == "any":
                    self.assertNotIn(r.status, (401, 403), r)
                else:
                    self.assertStatus(r, 403, "insufficient permissions")
                r = self.call(method, path, body, self.manager)
                if who in ("any", "staff"):
                    self.assertNotIn(r.status, (401, 403), r)
                else:
                    self.assertStatus(r, 403, "insufficient permissions")

    def test_other_tenant_sees_nothing_of_ours(self):
        s = self.server
        other = self.other_admin
        units = s.get("/api/v1/org-units", other).json
        ours = {u["id"] for u in s.get("/api/v1/org-units", self.admin).json}
        self.assertTrue(units)
        self.assertFalse(ours & {u["id"] for u in units})
        theirs = s.get("/api/v1/users/search?q=example", other).json
        self.assertTrue(theirs)  # their own admin matches
        self.assertEqual({u["tenant_id"] for u in theirs}, {"other"})
        found = s.get("/api/v1/users/search?q=user%40example.com", other).json
        self.assertEqual(found, [])
        # Our user id means nothing in their tenant.
        self.assertStatus(s.patch(f"/api/v1/users/{self.admin_id}/status", {"status": "away"},
                                  other), 404, "user not found")
        # Creating a user in our org unit from their tenant fails.
        our_org = s.root_org(self.admin)
        r = s.post("/api/v1/users", {"org_id": our_org, "email": "x@other.example",
                                     "password": "password-1", "name": "x"}, other)
        self.assertStatus(r, 400, "org_id is invalid")
        r = s.post("/api/v1/org-units", {"name": "x", "parent_id": our_org}, other)
        self.assertStatus(r, 400, "parent_id is invalid")
        self.assertEqual([t["tenant_id"] for t in s.get("/api/v1/tenants", other).json], ["other"])
        self.assertStatus(s.patch("/api/v1/tenants/default", {"name": "x"}, other), 403)

    def test_forged_tenant_claim_needs_the_secret(self):
        s = self.server
        now = int(time.time())
        forged = s.make_jwt({"user_id": str(self.admin_id), "tenant_id": "other", "role": "admin",
                             "iat": now, "exp": now + 600},
                            secret="guessed-secret-guessed-secret-xx")
        self.assertStatus(s.get("/api/v1/users/me", forged), 401, "invalid token")


if __name__ == "__main__":
    unittest.main()
