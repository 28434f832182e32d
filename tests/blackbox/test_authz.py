"""Authorization matrix: every protected route of every route table × (no token, malformed
header, bad token, expired token, alg none, other algorithm, revoked token, suspended tenant,
wrong role, non-member, other tenant). The route list comes from the server itself (its route
table at debug level), so a route added without a matrix entry fails here."""
import asyncio
import re
import time
import unittest
import websockets

from .harness import ADMIN_PASSWORD, ServerTestCase

# pattern → (concrete path, body, who may call): "any" authenticated role, "staff" =
# admin|manager, "admin", "platform" (admins of the platform tenant), "member" (members of
# the room: the matrix's user and manager are not, so they get 403 `room access denied`),
# "revokes" (succeeds by revoking the caller's own tokens: test_roles leaves it out).
# {me}: the caller's id; {room}: a room of the admin alone; {msg}: a message in it.
ROUTES = {
    ("POST", "/api/v1/org-units"): ("/api/v1/org-units", {"name": "x"}, "staff"),
    ("GET", "/api/v1/org-units"): ("/api/v1/org-units", None, "staff"),
    ("POST", "/api/v1/users"): ("/api/v1/users", {"org_id": 1, "email": "z@example.com",
                                                 "password": "password-1", "name": "z"}, "staff"),
    ("GET", "/api/v1/users/me"): ("/api/v1/users/me", None, "any"),
    ("PATCH", "/api/v1/users/:id/status"): ("/api/v1/users/{me}/status", {"status": "online"},
                                            "any"),
    # Bodies that change nothing (one's own account: 400), so the callers' tokens survive.
    ("POST", "/api/v1/users/:id/deactivate"): ("/api/v1/users/{me}/deactivate", None, "staff"),
    ("POST", "/api/v1/users/:id/reactivate"): ("/api/v1/users/{me}/reactivate", None, "staff"),
    ("PATCH", "/api/v1/users/:id/role"): ("/api/v1/users/{me}/role", {"role": "user"}, "admin"),
    ("POST", "/api/v1/users/:id/password"): ("/api/v1/users/{me}/password",
                                             {"password": "short"}, "staff"),
    ("GET", "/api/v1/users/search"): ("/api/v1/users/search?q=a", None, "any"),
    ("GET", "/api/v1/users/me/aliases"): ("/api/v1/users/me/aliases", None, "any"),
    ("POST", "/api/v1/users/me/aliases"): ("/api/v1/users/me/aliases", {"alias": "x"}, "any"),
    ("DELETE", "/api/v1/users/me/aliases"): ("/api/v1/users/me/aliases", {"alias": "x"}, "any"),
    ("GET", "/api/v1/users/me/aliases/audit"): ("/api/v1/users/me/aliases/audit", None, "any"),
    ("GET", "/api/v1/tenants"): ("/api/v1/tenants", None, "admin"),
    ("POST", "/api/v1/tenants"): ("/api/v1/tenants", {"tenant_id": "t9", "name": "t",
                                                     "deployment_mode": "shared"}, "platform"),
    ("PATCH", "/api/v1/tenants/:id"): ("/api/v1/tenants/default", {"name": "Default Tenant"},
                                       "platform"),
    ("POST", "/api/v1/session/login"): ("/api/v1/session/login", {"device_id": "authz-device"},
                                        "any"),
    ("POST", "/api/v1/session/logout"): ("/api/v1/session/logout",
                                         {"device_id": "no-such-device"}, "any"),
    ("POST", "/api/v1/session/logout-all"): ("/api/v1/session/logout-all", None, "revokes"),
    ("PATCH", "/api/v1/session/status"): ("/api/v1/session/status", {"status": "online"}, "any"),
    ("POST", "/api/v1/notes"): ("/api/v1/notes", {"title": "t"}, "any"),
    ("GET", "/api/v1/notes/inbox"): ("/api/v1/notes/inbox", None, "any"),
    ("GET", "/api/v1/notes/:id"): ("/api/v1/notes/1", None, "any"),
    ("POST", "/api/v1/notes/:id/read"): ("/api/v1/notes/1/read", None, "any"),
    ("POST", "/api/v1/chat/notify"): ("/api/v1/chat/notify", {"room_id": "{room}",
                                                            "recipient_ids": [1]}, "member"),
    ("POST", "/api/v1/files/presign-upload"): ("/api/v1/files/presign-upload",
                                               {"object_key": "users/{me}/authz.bin"}, "any"),
    ("POST", "/api/v1/files/presign-download"): ("/api/v1/files/presign-download",
                                                 {"object_key": "notes/authz.bin"}, "any"),
    ("POST", "/api/v1/files/register"): ("/api/v1/files/register",
                                         {"room_id": "{room}", "object_key": "rooms/{room}/a.bin",
                                          "content_type": "x/y", "original_name": "a",
                                          "size_bytes": 1}, "member"),
    ("GET", "/api/v1/rooms/:id/files"): ("/api/v1/rooms/{room}/files", None, "member"),
    ("POST", "/api/v1/rooms"): ("/api/v1/rooms", {"name": "authz"}, "any"),
    ("GET", "/api/v1/rooms"): ("/api/v1/rooms", None, "any"),
    ("GET", "/api/v1/rooms/unread-counts"): ("/api/v1/rooms/unread-counts", None, "any"),
    ("GET", "/api/v1/messages/search"): ("/api/v1/messages/search?q=hello", None, "any"),
    ("POST", "/api/v1/rooms/:id/members"): ("/api/v1/rooms/{room}/members", {"user_id": "{me}"},
                                            "member"),
    # Someone not in the room (404 for a member): the admin must stay in it.
    ("DELETE", "/api/v1/rooms/:id/members/:user_id"): ("/api/v1/rooms/{room}/members/999999",
                                                       None, "member"),
    ("POST", "/api/v1/rooms/:id/messages"): ("/api/v1/rooms/{room}/messages", {"body": "hi"},
                                             "member"),
    ("GET", "/api/v1/rooms/:id/messages"): ("/api/v1/rooms/{room}/messages", None, "member"),
    ("GET", "/api/v1/rooms/:id/unread-count"): ("/api/v1/rooms/{room}/unread-count", None,
                                                "member"),
    ("POST", "/api/v1/rooms/:id/read"): ("/api/v1/rooms/{room}/read", {"message_id": "{msg}"},
                                         "member"),
    ("GET", "/api/v1/rooms/:id/read"): ("/api/v1/rooms/{room}/read", None, "member"),
    ("GET", "/api/v1/rooms/:id/messages/:messageId/readers"): (
        "/api/v1/rooms/{room}/messages/{msg}/readers", None, "member"),
}
# Sockets are checked by their handshake (test_socket_handshakes); the internal API by its
# own token (test_vectors); these need no JWT at all.
OPEN = {"open", "internal"}


class AuthMatrixTest(ServerTestCase):
    server_env = {"LOG_LEVEL": "debug"}  # the route table is logged at start-up

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
        cls.room = s.post("/api/v1/rooms", {"name": "admins only"}, cls.admin).json["id"]
        cls.msg = s.post(f"/api/v1/rooms/{cls.room}/messages", {"body": "x"}, cls.admin).json["id"]
        # A revoked token (its user logged out everywhere) and a suspended tenant's token.
        s.create_user(cls.admin, "gone@example.com")
        cls.revoked = s.login("gone@example.com", "password-1")
        assert s.post("/api/v1/session/logout-all", None, cls.revoked).status == 200
        s.create_tenant(cls.admin, "frozen")
        seeded = s.run_command("seed-admin", {"TENANT_ID": "frozen",
                                              "ADMIN_EMAIL": "admin@frozen.example"})
        assert seeded.returncode == 0, seeded.stderr
        cls.frozen = s.login("admin@frozen.example", ADMIN_PASSWORD, tenant="frozen")
        assert s.patch("/api/v1/tenants/frozen", {"is_active": False}, cls.admin).status == 200

    def served_routes(self):
        """(method, pattern, access) of every route the server mounted, from its log."""
        found = []
        for line in self.server.lines:
            m = re.search(r"route method=(\S+) path=(\S+) access=(\S+)", line)
            if m:
                found.append(m.groups())
        self.assertTrue(found, "no route table in the server log")
        return found

    def protected(self):
        return [(method, ROUTES[(method, pattern)]) for method, pattern, access in
                self.served_routes() if access not in OPEN and method != "WS"]

    def call(self, method, path, body, token=None, headers=None):
        me = str(self.ids.get(token, 1))
        fill = {"{me}": me, "{room}": str(self.room), "{msg}": str(self.msg)}

        def put(v):
            if isinstance(v, str):
                if v in fill:  # a placeholder alone stands for an id
                    return int(fill[v])
                for k, x in fill.items():
                    v = v.replace(k, x)
                return v
            if isinstance(v, dict):
                return {k: put(x) for k, x in v.items()}
            if isinstance(v, list):
                return [put(x) for x in v]
            return v
        return self.server.request(method, put(path), body=put(body), token=token,
                                   headers=headers)

    def test_every_served_route_has_a_matrix_entry(self):
        for method, pattern, access in self.served_routes():
            if access in OPEN or method == "WS":
                continue
            with self.subTest(route=f"{method} {pattern}"):
                self.assertTrue((method, pattern) in ROUTES,
                                f"{method} {pattern}: a new route needs its matrix entry")
        served = {(m, p) for m, p, _ in self.served_routes()}
        for key in ROUTES:
            with self.subTest(entry=key):
                self.assertTrue(key in served, f"{key}: a matrix entry for a route nobody serves")

    def test_no_token(self):
        for method, (path, body, _) in self.protected():
            with self.subTest(route=f"{method} {path}"):
                self.assertStatus(self.call(method, path, body), 401, "bearer token is required")

    def test_not_a_bearer_header(self):
        for header in ("Basic YWRtaW46cGFzcw==", "bearer " + self.admin, "Bearer" + self.admin):
            for method, (path, body, _) in self.protected():
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
            for method, (path, body, _) in self.protected():
                with self.subTest(token=name, route=f"{method} {path}"):
                    self.assertStatus(self.call(method, path, body, token), 401, "invalid token")
        # Sanity: the same claims correctly signed are accepted.
        self.assertStatus(s.get("/api/v1/users/me", s.make_jwt(claims)), 200)

    def test_revoked_and_suspended_tokens(self):
        for name, token, error in (("revoked", self.revoked, "token revoked"),
                                   ("suspended", self.frozen, "tenant suspended")):
            for method, (path, body, _) in self.protected():
                with self.subTest(token=name, route=f"{method} {path}"):
                    self.assertStatus(self.call(method, path, body, token), 401, error)

    def test_roles(self):
        for method, (path, body, who) in self.protected():
            if who == "revokes":
                continue
            with self.subTest(route=f"{method} {path}"):
                for token, allowed in ((self.user, who == "any"),
                                       (self.manager, who in ("any", "staff"))):
                    r = self.call(method, path, body, token)
                    if allowed:
                        self.assertNotIn(r.status, (401, 403), r)
                    elif who == "member":
                        self.assertStatus(r, 403, "room access denied")
                    else:
                        self.assertStatus(r, 403, "insufficient permissions")
                if who == "member":  # and a member gets in
                    self.assertNotIn(self.call(method, path, body, self.admin).status,
                                     (401, 403))

    def test_socket_handshakes(self):
        sockets = [(m, p, a) for m, p, a in self.served_routes() if m == "WS"]
        self.assertEqual({p for _, p, _ in sockets}, {"/ws", "/ws/session"})
        base = f"ws://127.0.0.1:{self.server.port}/ws?room_id={self.room}"

        async def status(url):
            try:
                async with websockets.connect(url):
                    return 101
            except websockets.exceptions.InvalidStatusCode as e:
                return e.status_code
        cases = {"no token": (base, 401), "bad token": (base + "&access_token=x.y.z", 401),
                 "revoked": (base + "&access_token=" + self.revoked, 401),
                 "suspended": (base + "&access_token=" + self.frozen, 401),
                 "non-member": (base + "&access_token=" + self.user, 403),
                 "member": (base + "&access_token=" + self.admin, 101)}
        for name, (url, expected) in cases.items():
            with self.subTest(case=name):
                self.assertEqual(asyncio.run(status(url)), expected)

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
