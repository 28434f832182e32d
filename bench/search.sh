#!/usr/bin/env bash
# Message search at scale: MESSAGES (1,000,000) messages of mixed Korean/English text in one
# tenant (100 rooms, one user in all of them), indexed by `msg_server reindex`, then
# GET /api/v1/messages/search latency (p50/p95 over REQUESTS requests) for a rare, a medium and
# a very frequent term, newest first — and the seed's predicate (`to_tsvector('simple') @@
# plainto_tsquery` OR `ILIKE`) on the same rows in the same run, timed in psql.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
messages=${MESSAGES:-1000000}
requests=${REQUESTS:-100}
scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release >/dev/null
bin=$(dirname "$repo")/build-$(basename "$repo")/release/src/app/msg_server
work=$(mktemp -d)
cleanup() {
    [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
    scripts/pg-local.sh stop "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
dsn=$(scripts/pg-local.sh start "$work/pg")
secret=$(head -c 32 /dev/urandom | base64 | tr -d '\n/+=')
export APP_ENV=test JWT_SECRET=$secret POSTGRES_DSN=$dsn PORT=18290 BIND_ADDRESS=127.0.0.1 \
    LOG_LEVEL=warn
"$bin" migrate >/dev/null

echo "== generating $messages messages"
SECONDS=0
psql "$dsn" -q -v ON_ERROR_STOP=1 <<SQL
INSERT INTO tenants (tenant_id, name) VALUES ('bench', 'bench');
INSERT INTO org_units (tenant_id, name) VALUES ('bench', 'HQ');
INSERT INTO users (tenant_id, org_id, email, name, password_hash)
SELECT 'bench', id, 'reader@bench.invalid', 'reader', '!' FROM org_units WHERE tenant_id = 'bench';
INSERT INTO chat_rooms (tenant_id, name, created_by)
SELECT 'bench', 'room ' || r, (SELECT id FROM users WHERE tenant_id = 'bench') FROM generate_series(1, 100) r;
INSERT INTO room_members (tenant_id, room_id, user_id)
SELECT 'bench', id, created_by FROM chat_rooms WHERE tenant_id = 'bench';
-- Frequent: 배포 (every 2nd message). Medium: 데이터베이스 (every 97th). Uncommon: 성능회귀
-- (every 487th: too sparse to fill a page from the newest 10k, so the index phase runs).
-- Rare: 장애보고서 (every 99,991st).
INSERT INTO messages (tenant_id, room_id, seq, sender_id, body)
SELECT 'bench', r.id, i, r.created_by,
       (ARRAY['오늘 회의에서','내일까지','서버를','저장소에','The build','Please review','고객 요청으로','릴리스 노트를'])[1 + i % 8]
       || ' ' || CASE WHEN i % 2 = 0 THEN '배포했습니다' ELSE '확인했어요' END
       || ' ' || CASE WHEN i % 97 = 0 THEN '데이터베이스 마이그레이션' ELSE 'thanks team' END
       || CASE WHEN i % 487 = 0 THEN ' 성능회귀 분석' ELSE '' END
       || CASE WHEN i % 99991 = 0 THEN ' 장애보고서 첨부' ELSE '' END
       || ' #' || i
FROM generate_series(1, $messages) i
JOIN chat_rooms r ON r.tenant_id = 'bench' AND r.name = 'room ' || (1 + i % 100);
UPDATE chat_rooms SET last_seq = $messages WHERE tenant_id = 'bench';
SQL
echo "   ${SECONDS}s"
echo "== msg_server reindex"
SECONDS=0
"$bin" reindex 2>&1 | tail -1
echo "   ${SECONDS}s"
psql "$dsn" -qc "VACUUM ANALYZE messages"
psql "$dsn" -Atc "SELECT 'index messages_search_tokens: ' || pg_size_pretty(pg_relation_size('messages_search_tokens'))
                   || ', table messages: ' || pg_size_pretty(pg_relation_size('messages'))"

"$bin" all >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.1; done
user_id=$(psql "$dsn" -Atc "SELECT id FROM users WHERE tenant_id = 'bench'")

/usr/bin/python3 - "$secret" "$user_id" "$PORT" "$requests" "$dsn" <<'PY'
import base64, hashlib, hmac, http.client, json, subprocess, sys, time, urllib.parse
secret, user_id, port, n, dsn = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
now = int(time.time())
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"user_id": user_id, "tenant_id": "bench", "role": "user",
                       "iat": now, "exp": now + 3600}).encode())
sig = b64(hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
token = f"{head}.{body}.{sig}"
conn = http.client.HTTPConnection("127.0.0.1", port)

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * (len(xs) - 1) + 0.5))]

print(f"{'term':<16}{'class':<10}{'hits':>8}{'ours p50':>10}{'p95 ms':>9}{'seed p50':>10}{'p95 ms':>9}")
for term, klass in (("장애보고서", "rare"), ("성능회귀", "uncommon"), ("데이터베이스", "medium"),
                    ("배포", "frequent"), ("review", "frequent")):
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        conn.request("GET", "/api/v1/messages/search?" + urllib.parse.urlencode({"q": term, "limit": 30}),
                     headers={"Authorization": f"Bearer {token}"})
        r = conn.getresponse()
        data = json.loads(r.read())
        lat.append((time.perf_counter() - t) * 1000)
        assert r.status == 200, data
    hits = len(data["items"])
    # The seed's predicate on the same rows (membership join omitted, as the seed had none).
    q = term.replace("'", "''")
    sql = (f"SELECT id FROM messages WHERE tenant_id = 'bench' AND (to_tsvector('simple', "
           f"coalesce(body,'')) @@ plainto_tsquery('simple', '{q}') OR body ILIKE '%{q}%') "
           f"ORDER BY id DESC LIMIT 31")
    seed = []
    for _ in range(max(3, n // 20)):
        out = subprocess.run(["psql", dsn, "-Atc", "\\timing on", "-c", sql], capture_output=True,
                             text=True).stdout
        ms = [float(l.split()[1]) for l in out.splitlines() if l.startswith("Time:")]
        seed.append(ms[-1])
    print(f"{term:<16}{klass:<10}{hits:>8}{pct(lat, .5):>10.1f}{pct(lat, .95):>9.1f}"
          f"{pct(seed, .5):>10.1f}{pct(seed, .95):>9.1f}")
PY
