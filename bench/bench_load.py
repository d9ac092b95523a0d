"""Throughput and latency under load: the real app under gunicorn on loopback, many clients at once.

Part 1, SQLite (WAL): scenarios in turn, under the same gunicorn settings, each a fixed number of
requests from CLIENTS client processes, each sending its share back to back (a new request as soon
as the last one answered):
  - bare route: a bare Flask app (bench._servers:bare_app) with one small HTML page: the baseline of
    what gunicorn, Flask and the client cost by themselves;
  - fill page: GET /visits/<id>/fill of a 40-item visit by a signed-in shopper (session, role and
    ownership checks, the visit and checklist read, the whole form rendered); each answer must be
    200 and contain the form. Target from the issue: at least half the bare route's requests per
    second, with no errors;
  - the steps between the two, each served by the same gunicorn (the app is loaded as
    bench._servers:app_with_probes, the app plus routes only the bench adds): the bare app answering
    a copy of the fill page's bytes (what the bytes cost); a static file through the app; a bare route
    inside the app (the hooks every request passes: security headers, rate limiter, database pool,
    Babel, the session check); that route behind the shopper sign-in and role check; the copy of
    the fill page behind that check (the cheapest any signed-in page of its size can be); and the
    copy after the fill page's own reads and checks (the best a page cached whole per visit could
    do). They show what bounds the fill page's figure;
  - sync API submissions: POST /api/v1/visits/<id>/submission of a whole 40-answer visit, one
    distinct assigned visit per request (validation, scoring, one write transaction); each must be 201;
    then the same with a 250-item checklist (ODK Central's anchor: about 41/s on a small server);
  - sync API photo uploads: POST /api/v1/visits/<id>/photos of a 1600 x 1200 JPEG, the size the
    phone shrinks a photo to (fill.js), each with a new client id (one open visit per client); the
    server verifies it, turns it upright, strips its metadata and encodes it again (audit.media), so
    this figure is Pillow's. Each must be 201. Then the same with a 4000 x 3000 photo as the camera
    took it, which is what the form sends from a phone without JavaScript.
Part 2, PostgreSQL (a throw-away server of its own, fsync on): the same submissions against one
gunicorn process with one worker, then against two such processes on two ports with the clients
spread round-robin over both (two app processes behind a load balancer). The gain is how much the
second process adds. Each app process keeps its own pool of database connections, as in production.

Why 4 sync workers (WORKERS, WORKER_CLASS): the app's requests are CPU-bound Python, and a sync
worker takes a new connection whenever it is free, so the load spreads evenly over both cores; 2 per
core cover a worker's waits (the database, the socket). 3 and 5 sync workers measured the same within
noise. gthread (2 workers x 4 threads) measured worse on an idle machine (20-40% fewer fill pages
per second, a p99 of submissions 3-8 times higher): a kept-alive connection stays with the worker
that accepted it, and one worker got three quarters of the requests, held to one core by its GIL
while the other core idled. The price of sync workers, a TCP connect per request, is small
on loopback. Part 2 uses the same class: one app process then serves one request at a time.

Every request is timed by the client from sending to the last byte; latencies include the time spent
waiting for a free worker. Client and server share the machine's cores, so each table also
gives the CPU time per request of the app, of PostgreSQL and of the client (what bounds the figure),
and the share of the cores that other jobs on the machine used meanwhile (a run that competed with
them has lower req/s; its CPU per request is hardly affected, so compare those between machines).

Run: .venv/bin/python bench/bench_load.py [--quick] [--json PATH]
     (PostgreSQL needs its binaries under /usr/lib/postgresql; run as root, they run as `postgres`.)
"""
import argparse
import http.client
import io
import json
import multiprocessing
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._servers import PAGE_COPY_ENV, Gunicorn, PostgreSQL, prepare_database  # noqa: E402
from bench._setup import machine, write_figures  # noqa: E402

SHOPPER = "shopper1@example.com"
PASSWORD = "demo-password"
TOKEN = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')
COOKIE = "audit_session"
FILL_FORM_MARK = b'class="fill-form"'
BARE_MARK = b"Bare route"
STATIC_PATH, STATIC_MARK = "/static/app.js", b"serviceWorker"  # a small file every page loads

WORKERS, WORKER_CLASS, THREADS = 4, "sync", 1
CLIENTS = 8
WARMUP = 5  # requests per client before the clock starts: every worker has loaded its templates
SIZES = {  # measured requests per scenario, multiples of CLIENTS
    "full": {"bare": 40_000, "fill": 12_000, "submit": 4_800, "photo": 800, "camera_photo": 160, "pg_submit": 3_200},
    "quick": {"bare": 1_000, "fill": 480, "submit": 320, "photo": 80, "camera_photo": 16, "pg_submit": 200},
}
SHRUNK_PHOTO = ((1600, 1200), 82)  # what fill.js sends: long side 1600 px, JPEG at 0.82
CAMERA_PHOTO = ((4000, 3000), 92)  # a 12-megapixel photo as taken: what the form without JavaScript sends


def phone_photo(size, quality):
    """A JPEG with the detail of a photo (noise over gradients), rather than a flat image that
    would compress to nothing: 1600 x 1200 at 0.82 is about 500 KB, 4000 x 3000 at 92 about 6 MB."""
    from PIL import Image

    light = Image.linear_gradient("L").resize(size)
    grain = Image.effect_noise(size, 40)
    shade = Image.radial_gradient("L").resize(size)
    picture = Image.merge("RGB", (light, Image.blend(grain, shade, 0.6), Image.blend(shade, grain, 0.3)))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _multipart(fields, file_name, file_bytes):
    """A multipart/form-data body, as a browser's FormData sends it: (content type, body)."""
    boundary = "----bench" + os.urandom(8).hex()
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
                 "Content-Type: image/jpeg\r\n\r\n".encode() + file_bytes + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


class Connection:
    """One client's HTTP connection and its session cookie: one phone, to the server. The connection
    is kept open when the server allows it; gunicorn's sync workers close it after each answer."""

    def __init__(self, port):
        self.http = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = None

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        try:
            self.http.request(method, path, body, headers)
            response = self.http.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.http.close()  # the next request opens a new connection
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            if header.startswith(COOKIE + "="):
                self.cookie = header.split(";", 1)[0]
        return response.status, data

    def sign_in(self, fill_path):
        """Sign in as the shopper; returns the CSRF token of the signed-in session (from the fill page)."""
        status, page = self.request("GET", "/login")
        token = TOKEN.search(page)
        if status != 200 or not token:
            raise RuntimeError(f"login page: {status} {page[:300]!r}")
        form = urlencode({"email": SHOPPER, "password": PASSWORD, "csrf_token": token.group(1).decode()})
        status, page = self.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise RuntimeError(f"sign-in: {status} {page[:300]!r}")
        # Signing in starts a new session with a new token: read it from a page fetched afterwards.
        status, page = self.request("GET", fill_path)
        token = TOKEN.search(page)
        if status != 200 or not token:
            raise RuntimeError(f"fill page after sign-in: {status} {page[:300]!r}")
        return token.group(1).decode()


# The GET scenarios: (path, mark the body must hold, whether the client signs in first); {visit} is
# the fill page's visit. The probes under /bench/ exist only in bench._servers:app_with_probes.
GETS = {
    "bare": ("/", BARE_MARK, False),
    "bare_page": ("/page", FILL_FORM_MARK, False),
    "static": (STATIC_PATH, STATIC_MARK, False),
    "app_bare": ("/bench/bare", BARE_MARK, False),
    "signed_in": ("/bench/signed-in", BARE_MARK, True),
    "signed_in_page": ("/bench/signed-in-page", FILL_FORM_MARK, True),
    "checked_page": ("/bench/checked-page/{visit}", FILL_FORM_MARK, True),
    "fill": ("/visits/{visit}/fill", FILL_FORM_MARK, True),
}


def _requests(job, token):
    """The client's requests as (method, path, body, headers, expected status, mark the body must hold)."""
    if job["kind"] in GETS:
        path, mark, _signed_in = GETS[job["kind"]]
        visit = job["fill_path"].split("/")[2] if job["fill_path"] else None
        return [("GET", path.format(visit=visit), None, {}, 200, mark)] * job["count"]
    if job["kind"] == "photo":  # many photos of the client's one open visit, each a new one
        visit, photo = job["visits"][0], job["payload"]
        requests = []
        for number in range(job["count"]):
            content_type, body = _multipart({"client_id": f"bench-{os.getpid()}-{number}",
                                             "item_id": photo["item_id"]}, "photo.jpg", photo["jpeg"])
            requests.append(("POST", f"/api/v1/visits/{visit}/photos", body,
                             {"Content-Type": content_type, "X-CSRFToken": token}, 201, b'"received"'))
        return requests
    body = json.dumps(job["payload"])
    headers = {"Content-Type": "application/json", "X-CSRFToken": token}
    return [("POST", f"/api/v1/visits/{visit}/submission", body, headers, 201, b'"received"')
            for visit in job["visits"]]


def _client(job, barrier, results):
    """One client process: sign in if the scenario needs it, warm up, wait for the others, then send."""
    connection = Connection(job["port"])
    signs_in = job["kind"] not in GETS or GETS[job["kind"]][2]
    token = connection.sign_in(job["fill_path"]) if signs_in else None
    planned = _requests(job, token)
    warmup, measured = planned[:WARMUP], planned[WARMUP:]
    for method, path, body, headers, _status, _mark in warmup:
        connection.request(method, path, body, headers)
    latencies, errors, samples = [], 0, []
    barrier.wait()
    cpu_before = sum(os.times()[:2])
    started = time.perf_counter()
    for method, path, body, headers, expected, mark in measured:
        sent = time.perf_counter()
        try:
            status, data = connection.request(method, path, body, headers)
        except (OSError, http.client.HTTPException) as error:
            status, data = None, repr(error).encode()
        latencies.append(time.perf_counter() - sent)
        if status != expected or mark not in data:
            errors += 1
            if len(samples) < 3:
                samples.append((path, status, data[:400].decode(errors="replace")))
    # perf_counter is the system's monotonic clock: the parent compares it across processes.
    results.put({"started": started, "ended": time.perf_counter(), "latencies": latencies, "errors": errors,
                 "samples": samples, "cpu": sum(os.times()[:2]) - cpu_before})


def _machine_busy_seconds():
    """CPU seconds that all cores spent working since boot: user, nice, system and interrupt time (a
    process's system time includes network interrupts handled on its behalf; idle, I/O wait and time
    taken by the hypervisor are left out)."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in stat.readline().split()[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def _cpu_snapshot(servers, database):
    """CPU seconds so far of the app processes, of PostgreSQL (0 without), and of the whole machine."""
    return (sum(s.cpu_seconds() for s in servers), database.cpu_seconds() if database else 0.0,
            _machine_busy_seconds())


def _percentile(ordered, share):
    """Nearest-rank percentile of an ascending list."""
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def run_load(name, kind, servers, count, fill_path=None, visits=None, payload=None, database=None):
    """Send `count` measured requests from CLIENTS processes (client i to servers[i % len(servers)]).
    `database` is the PostgreSQL server whose CPU time is counted apart, if any."""
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(CLIENTS + 1), context.Queue()
    share = count // CLIENTS
    jobs = []
    for index in range(CLIENTS):
        job = {"kind": kind, "port": servers[index % len(servers)].port, "count": WARMUP + share,
               "fill_path": fill_path, "payload": payload}
        if kind == "photo":  # each client one open visit, which gets all of its photos
            job["visits"] = [visits[index]]
        elif visits is not None:  # each client its own visits: every submission is of a distinct visit
            job["visits"] = visits[index * (WARMUP + share):(index + 1) * (WARMUP + share)]
        jobs.append(job)
    clients = [context.Process(target=_client, args=(job, barrier, results), daemon=True) for job in jobs]
    for process in clients:
        process.start()
    try:
        try:
            barrier.wait(timeout=60)  # the clients have signed in and warmed up
        except threading.BrokenBarrierError:
            raise RuntimeError(f"{name}: a client did not reach the start; see its traceback above") from None
        before = _cpu_snapshot(servers, database)
        outcomes = [results.get(timeout=600) for _ in clients]
        app_cpu, db_cpu, machine_cpu = (a - b for a, b in zip(_cpu_snapshot(servers, database), before))
    finally:
        for process in clients:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    seconds = max(o["ended"] for o in outcomes) - min(o["started"] for o in outcomes)
    latencies = sorted(lat for o in outcomes for lat in o["latencies"])
    client_cpu = sum(o["cpu"] for o in outcomes)
    per_request = 1000 / len(latencies)
    return {
        "name": name, "requests": len(latencies), "seconds": seconds, "rps": len(latencies) / seconds,
        "p50": 1000 * _percentile(latencies, 0.50), "p95": 1000 * _percentile(latencies, 0.95),
        "p99": 1000 * _percentile(latencies, 0.99), "errors": sum(o["errors"] for o in outcomes),
        "samples": [s for o in outcomes for s in o["samples"]][:5],
        "app_ms": app_cpu * per_request, "db_ms": db_cpu * per_request if database else None,
        "client_ms": client_cpu * per_request,
        # What the rest of the machine used, as a share of all its cores: other jobs competing with the run.
        "other_share": 100 * (machine_cpu - app_cpu - db_cpu - client_cpu) / (seconds * os.cpu_count()),
    }


def print_table(rows):
    print(f"{'':<30} {'':>8} {'':>7} {'':>7} {'':>7} {'':>7} {'':>7} {'':>6}  {'cpu ms per request':^20}  {'other':>6}")
    print(f"{'scenario':<30} {'requests':>8} {'seconds':>7} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
          f"{'errors':>6}  {'app':>6} {'db':>6} {'client':>6}  {'jobs':>6}")
    print(f"{'-' * 30} {'-' * 8} {'-' * 7} {'-' * 7} {'-' * 7} {'-' * 7} {'-' * 7} {'-' * 6}  {'-' * 6} {'-' * 6} "
          f"{'-' * 6}  {'-' * 6}")
    for r in rows:
        db = "-" if r["db_ms"] is None else f"{r['db_ms']:.2f}"
        print(f"{r['name']:<30} {r['requests']:>8} {r['seconds']:>7.1f} {r['rps']:>7.0f} {r['p50']:>7.1f} "
              f"{r['p95']:>7.1f} {r['p99']:>7.1f} {r['errors']:>6}  {r['app_ms']:>6.2f} {db:>6} "
              f"{r['client_ms']:>6.2f}  {r['other_share']:>5.0f}%")
    for r in rows:
        for path, status, body in r["samples"]:
            print(f"  error in {r['name']}: {path} -> {status}: {body}")


def print_log_problems(path):
    """Lines of a gunicorn log that tell of failures (tracebacks, timeouts, locked database)."""
    with open(path, errors="replace") as log:
        bad = [line.rstrip() for line in log if re.search(r"Traceback|Error|locked|TIMEOUT|Exception", line)]
    for line in bad[:10]:
        print(f"  {os.path.basename(path)}: {line}")
    if len(bad) > 10:
        print(f"  {os.path.basename(path)}: ... {len(bad) - 10} more such lines")


def app_env(folder, url):
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_DEBUG", "REDIS_URL", "SESSION_COOKIE_SECURE")}
    env.update({
        "DATABASE_URL": url, "MEDIA_DIR": os.path.join(folder, "media"), "SECRET_KEY": "bench",
        "AUDIT_DEMO": "1",  # cookies without Secure: the bench speaks plain http
        "AUDIT_INSTANCE": os.path.join(folder, "instance"),  # huey's queue file goes to the temp folder
        "LOGIN_RATE_LIMIT": "10000 per minute", "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "1024",
    })
    return env


def start_server(cleanup, folder, app_spec, env, workers, log_name, ready_path):
    server = Gunicorn(app_spec, env, os.path.join(folder, log_name), workers, WORKER_CLASS, THREADS)
    cleanup.callback(server.stop)
    server.start(ready_path)
    return server


def _save_fill_page(port, fill_path, copy_path):
    """Write the fill page, as the bench's shopper gets it, to copy_path (the probes serve its bytes)."""
    connection = Connection(port)
    connection.sign_in(fill_path)
    status, page = connection.request("GET", fill_path)
    if status != 200 or FILL_FORM_MARK not in page:
        raise RuntimeError(f"fill page: {status} {page[:300]!r}")
    with open(copy_path, "wb") as copy:
        copy.write(page)


def sqlite_part(cleanup, size, fill_only=False):
    folder = tempfile.mkdtemp(prefix="audit-bench-load-")
    cleanup.callback(shutil.rmtree, folder, ignore_errors=True)
    url = f"sqlite:///{folder}/bench.sqlite3"
    needed = CLIENTS * (WARMUP + size["submit"] // CLIENTS)
    visits, answers, wide_visits, wide_answers, photo_item = prepare_database(
        url, os.path.join(folder, "media"), needed + 1 + CLIENTS, SHOPPER, wide_visits=needed)
    fill_path = f"/visits/{visits.pop()}/fill"  # never submitted: the form stays fillable
    photo_visits = [visits.pop() for _ in range(CLIENTS)]
    # The sync API takes a photo only on a question that asks for photos (others: 422).
    photo, camera_photo = ({"item_id": photo_item, "jpeg": phone_photo(*kind)}
                           for kind in (SHRUNK_PHOTO, CAMERA_PHOTO))
    payload = {"answers": answers, "comments": {}, "photos": {}}
    wide_payload = {"answers": wide_answers, "comments": {}, "photos": {}}
    env = app_env(folder, url)
    env[PAGE_COPY_ENV] = page_copy = os.path.join(folder, "fill-page-copy.html")

    app = start_server(cleanup, folder, "bench._servers:app_with_probes()", env, WORKERS, "app.log", "/login")
    _save_fill_page(app.port, fill_path, page_copy)  # before any server reads it
    bare = start_server(cleanup, folder, "bench._servers:bare_app()", env, WORKERS, "bare.log", "/")
    rows = [run_load("bare Flask route (baseline)", "bare", [bare], size["bare"]),
            run_load("bare Flask app, fill page's bytes", "bare_page", [bare], size["fill"])]
    bare.stop()
    # From the app's cheapest answers to the fill page: what each step adds.
    rows.append(run_load("static file through the app", "static", [app], size["fill"]))
    rows.append(run_load("bare route inside the app", "app_bare", [app], size["fill"]))
    rows.append(run_load("same, signed in as a shopper", "signed_in", [app], size["fill"], fill_path))
    rows.append(run_load("fill page's bytes, signed in", "signed_in_page", [app], size["fill"], fill_path))
    rows.append(run_load("same, after the page's checks", "checked_page", [app], size["fill"], fill_path))
    rows.append(run_load("fill page (GET, signed in)", "fill", [app], size["fill"], fill_path))
    if fill_only:
        print_table(rows)
        return rows
    rows.append(run_load("sync API submission (POST)", "submit", [app], size["submit"], fill_path, visits, payload))
    rows.append(run_load("same, 250-item checklist", "submit", [app], size["submit"], fill_path, wide_visits,
                         wide_payload))
    rows.append(run_load(f"photo upload, 1600 px {len(photo['jpeg']) // 1024} KB", "photo", [app],
                         size["photo"], fill_path, photo_visits, photo))
    rows.append(run_load(f"same, 4000 px {len(camera_photo['jpeg']) / 2 ** 20:.1f} MB as taken", "photo", [app],
                         size["camera_photo"], fill_path, photo_visits, camera_photo))
    print(f"\nPart 1: SQLite (WAL), gunicorn -w {WORKERS} -k {WORKER_CLASS} --threads {THREADS}, "
          f"{CLIENTS} client processes")
    print_table(rows)
    print_log_problems(os.path.join(folder, "bare.log"))
    print_log_problems(os.path.join(folder, "app.log"))
    return rows


def postgres_part(cleanup, size):
    database = PostgreSQL()
    cleanup.callback(database.stop)
    database.start()
    folder = tempfile.mkdtemp(prefix="audit-bench-load-pg-")
    cleanup.callback(shutil.rmtree, folder, ignore_errors=True)
    per_run = CLIENTS * (WARMUP + size["pg_submit"] // CLIENTS)
    visits, answers, _wide, _wide_answers, _photo_item = prepare_database(
        database.url, os.path.join(folder, "media"), 2 * per_run + 1, SHOPPER)
    fill_path = f"/visits/{visits.pop()}/fill"
    payload = {"answers": answers, "comments": {}, "photos": {}}
    env = app_env(folder, database.url)

    one = start_server(cleanup, folder, "audit:create_app()", env, 1, "pg-one.log", "/login")
    rows = [run_load("one app process (-w 1)", "submit", [one], size["pg_submit"], fill_path,
                     visits[:per_run], payload, database)]
    one.stop()  # gone before the pair starts: both of the pair are fresh processes alike
    pair = [start_server(cleanup, folder, "audit:create_app()", env, 1, f"pg-pair-{n}.log", "/login") for n in (1, 2)]
    rows.append(run_load("two app processes (-w 1 each)", "submit", pair, size["pg_submit"], fill_path,
                         visits[per_run:], payload, database))
    print(f"\nPart 2: PostgreSQL {database.version} (fsync on), sync API "
          f"submissions, gunicorn -w 1 -k {WORKER_CLASS} --threads {THREADS} per app process, "
          f"{CLIENTS} client processes, round-robin over the app processes")
    print_table(rows)
    for name in ("pg-one.log", "pg-pair-1.log", "pg-pair-2.log"):
        print_log_problems(os.path.join(folder, name))
    return rows


def _cpu_per_request(row):
    return row["app_ms"] + (row["db_ms"] or 0) + row["client_ms"]


def print_machine():
    print(f"{machine()}; clients and servers share the cores, loopback only.")
    print("cpu ms per request: CPU time of the app (gunicorn master and workers), of PostgreSQL (server and "
          "backends) and of the client processes, divided by the requests. other jobs: the share of all cores "
          "that anything else used meanwhile (a few % either way is accounting noise; more means the run competed "
          "with other work and its req/s is low).")


def print_fill_steps(rows):
    """The fill page against the bare route, then each step between them as a share of the bare route."""
    bare, bare_page, static, app_bare, signed_in, signed_in_page, checked_page, fill = rows
    verdict = "met" if fill["rps"] >= 0.5 * bare["rps"] and not fill["errors"] else "MISSED"
    print(f"\nFill page / bare route: {fill['rps'] / bare['rps']:.2f} in req/s, "
          f"{_cpu_per_request(bare) / _cpu_per_request(fill):.2f} in CPU per request (app and client) "
          f"(target: at least 0.5 with no errors: {verdict})")
    print("From the bare route to the fill page, each in req/s as a share of the bare route:")
    for row, meaning in (
        (bare_page, "the bare app answering the fill page's bytes (the bytes alone)"),
        (static, "a static file through the app"),
        (app_bare, "a bare route inside the app (its hooks on every request)"),
        (signed_in, "that route behind the shopper sign-in and role check"),
        (signed_in_page, "the fill page's bytes behind that check: no visit read, no rendering"),
        (checked_page, "the same after the fill page's reads and checks: a page cached whole per visit, at best"),
        (fill, "the fill page"),
    ):
        print(f"  {row['rps'] / bare['rps']:5.2f}  {meaning} ({row['rps']:.0f} req/s, {row['app_ms']:.2f} ms app CPU)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small request counts: a smoke run in under a minute")
    parser.add_argument("--json", metavar="PATH", help="write the headline figures to this file as JSON")
    parser.add_argument("--sqlite-only", action="store_true", help="part 1 only (SQLite), without PostgreSQL")
    parser.add_argument("--fill-only", action="store_true",
                        help="only the bare route, the fill page and the steps between them (when working on the fill page)")
    args = parser.parse_args()
    size = SIZES["quick" if args.quick else "full"]
    # A SIGTERM ends the run through the same clean-up as an exception: servers stopped, folders removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print_machine()
    if args.fill_only:
        with ExitStack() as cleanup:
            print_fill_steps(sqlite_part(cleanup, size, fill_only=True))
        return
    with ExitStack() as cleanup:
        sqlite_rows = sqlite_part(cleanup, size)
    (bare, bare_page, static, app_bare, signed_in, signed_in_page, checked_page, fill, submit, wide, photos,
     camera_photos) = sqlite_rows
    if args.sqlite_only:
        print_fill_steps(sqlite_rows[:8])
        return
    with ExitStack() as cleanup:
        one, two = postgres_part(cleanup, size)
    rows = (*sqlite_rows, one, two)
    figures = {
        "fill_rps": round(fill["rps"], 1), "bare_rps": round(bare["rps"], 1),
        "static_vs_bare": round(static["rps"] / bare["rps"], 3),
        "fill_vs_bare": round(fill["rps"] / bare["rps"], 3),
        # The same ratio from the CPU each request costs (app and client): hardly moved by other jobs.
        "fill_vs_bare_by_cpu": round(_cpu_per_request(bare) / _cpu_per_request(fill), 3),
        # The steps from the bare route to the fill page (print_fill_steps).
        "bare_page_vs_bare": round(bare_page["rps"] / bare["rps"], 3),
        "app_bare_vs_bare": round(app_bare["rps"] / bare["rps"], 3),
        "signed_in_vs_bare": round(signed_in["rps"] / bare["rps"], 3),
        "signed_in_page_vs_bare": round(signed_in_page["rps"] / bare["rps"], 3),
        "checked_page_vs_bare": round(checked_page["rps"] / bare["rps"], 3),
        "sync_rps": round(submit["rps"], 1), "sync_p95_ms": round(submit["p95"], 1),
        "sync_250_rps": round(wide["rps"], 1), "sync_250_p95_ms": round(wide["p95"], 1),
        "photo_rps": round(photos["rps"], 1), "photo_p95_ms": round(photos["p95"], 1),
        "camera_photo_rps": round(camera_photos["rps"], 1),
        "pg_one_process_rps": round(one["rps"], 1), "pg_two_processes_rps": round(two["rps"], 1),
        "pg_gain": round(two["rps"] / one["rps"], 3),
        "errors": sum(r["errors"] for r in rows),
        "other_jobs_max_share": round(max(r["other_share"] for r in rows), 1),
    }
    print_fill_steps(sqlite_rows[:8])
    wide_verdict = "met" if wide["rps"] >= 5 * 41 and not wide["errors"] else "MISSED"
    print(f"250-item submissions: {wide['rps']:.0f}/s (target: five times ODK Central's ~41/s = 205/s: "
          f"{wide_verdict})")
    print(f"Photo uploads (each verified, turned upright, stripped of metadata and encoded again by Pillow): "
          f"shrunk by the phone {photos['rps']:.0f}/s ({photos['app_ms']:.0f} ms of app CPU each), as taken "
          f"{camera_photos['rps']:.1f}/s ({camera_photos['app_ms']:.0f} ms each)")
    print(f"PostgreSQL, two app processes / one: {figures['pg_gain']:.2f}")
    print(f"Errors in all scenarios: {figures['errors']}")
    if figures["other_jobs_max_share"] > 10:
        print(f"Warning: other jobs used up to {figures['other_jobs_max_share']:.0f}% of the cores during the run: "
              "req/s and latencies are worse than on an idle machine (CPU per request is hardly affected).")
    if args.json:
        write_figures(args.json, figures)


if __name__ == "__main__":
    main()
