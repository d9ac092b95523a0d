"""Servers for the load benchmark: gunicorn processes, a throw-away PostgreSQL, the prepared database,
and the bare Flask app that serves as the baseline (gunicorn loads it as `bench._servers:bare_app()`)."""
import functools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta

from flask import Flask

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUNICORN = os.path.join(os.path.dirname(sys.executable), "gunicorn")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


BARE_PAGE = "<!doctype html><html lang=en><title>Bare</title><h1>Bare route</h1><p>Nothing else.</p></html>"
# A copy of a real fill page, written by the load bench before it starts the servers that serve it.
PAGE_COPY_ENV = "BENCH_PAGE_COPY"


def _page_copy():
    with open(os.environ[PAGE_COPY_ENV], "rb") as page:
        return page.read()


def bare_app():
    """One route with a small HTML page: what gunicorn and Flask cost without the app's own work.
    With BENCH_PAGE_COPY set, /page also answers that file's bytes: what the bytes of a fill page
    cost by themselves (the server writing them, the client reading them)."""
    bare = Flask("bare")

    @bare.get("/")
    def page():
        return BARE_PAGE

    if os.environ.get(PAGE_COPY_ENV):
        copy = _page_copy()
        bare.add_url_rule("/page", "page_copy", lambda: copy)
    return bare


def app_with_probes():
    """The app, plus routes that only the load bench adds, to take the fill page's cost apart:
      /bench/bare         a bare route inside the app: its hooks (security headers, rate limiter,
                          database pool, Babel, the session check) on a page that needs nothing;
      /bench/signed-in    the same small page behind the shopper role check: the session cookie,
                          the account read and the role check that every shopper page pays;
      /bench/signed-in-page  (with BENCH_PAGE_COPY) a copy of a fill page, behind the same check: the
                          cheapest any signed-in page of that size can be, with no visit read and no
                          rendering at all;
      /bench/checked-page/<visit uuid>  (with BENCH_PAGE_COPY) the same copy after the fill page's own
                          reads and checks (the visit and its owner, the checklist, its language, the
                          photos, the CSRF token), rendering nothing: the best a fill page cached whole
                          per visit could do.
    """
    from audit import create_app
    from audit.access import role_required
    from audit.models import Role

    app = create_app()
    app.add_url_rule("/bench/bare", "bench_bare", lambda: BARE_PAGE)
    app.add_url_rule("/bench/signed-in", "bench_signed_in", role_required(Role.SHOPPER)(lambda: BARE_PAGE))
    if os.environ.get(PAGE_COPY_ENV):
        # Read at the first request: the bench writes the copy from this very app once it runs.
        page_copy = functools.cache(_page_copy)
        app.add_url_rule("/bench/signed-in-page", "bench_signed_in_page",
                         role_required(Role.SHOPPER)(page_copy))

        def checked_page(visit_uuid):
            from flask_wtf.csrf import generate_csrf

            from audit.models import ChecklistVersion, Evidence
            from audit.views.shopper import checklist_language, own_visit_or_404

            visit = own_visit_or_404(visit_uuid)
            checklist_language(ChecklistVersion.shared_content(visit.checklist_version_id))
            Evidence.client_ids_by_item(visit.id)
            generate_csrf()
            return page_copy()

        app.add_url_rule("/bench/checked-page/<visit_uuid>", "bench_checked_page",
                         role_required(Role.SHOPPER)(checked_page))
    return app


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_database(url, media_dir, visits, shopper_email, wide_visits=0, wide_items=250):
    """Migrate an empty database, load the demo organisation, and add `visits` assigned visits of one
    shopper at one branch, and `wide_visits` more of a `wide_items`-item checklist.
    Returns (visit uuids, best answers of their checklist, wide visit uuids, best answers of those,
    the first question of their checklist that takes photos)."""
    from audit import create_app
    from audit.answers import photo_item_ids
    from audit.db import database
    from audit.demo import best_answers, load_demo
    from audit.migrations import migrate_database
    from audit.models import User, Visit
    from audit.checklist import content_hash
    from audit.operations import publish_checklist
    from bench._setup import FAST_HASH, wide_checklist

    # TESTING keeps huey in memory, so nothing is written beside the repository's instance folder.
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url, "MEDIA_DIR": media_dir,
                      **FAST_HASH})
    with app.app_context(), database.connection_context():
        migrate_database()
        load_demo()  # the password hashes get FAST_HASH's cost, so the bench's sign-ins are cheap
        with database.atomic():
            shopper = User.get(User.email == shopper_email)
            template = Visit.select().where(Visit.shopper == shopper).first()
            version = template.checklist_version
            data = wide_checklist(version.content, wide_items)
            wide, _created = publish_checklist(data, content_hash(data))
            rows = {
                kind: [str(Visit.create(branch=template.branch_id, checklist_version=kind_version, shopper=shopper,
                                        planned_from=date.today(), planned_to=date.today() + timedelta(days=3)).uuid)
                       for _ in range(count)]
                for kind, kind_version, count in (("usual", version, visits), ("wide", wide, wide_visits))
            }
        return (rows["usual"], best_answers(version.content), rows["wide"], best_answers(wide.content),
                photo_item_ids(version.content)[0])


def _processes():
    """(pid, parent pid, process group, CPU ticks) of every live process; the ticks include those of
    children it has already reaped, so a process that forks short-lived children accounts for them."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        if fields[0] not in ("Z", "X"):
            yield int(entry), int(fields[1]), int(fields[2]), sum(int(v) for v in fields[11:15])


class Gunicorn:
    """One gunicorn master and its workers, in a process group of their own (one killpg ends them all)."""

    def __init__(self, app_spec, env, log_path, workers, worker_class, threads):
        self.app_spec, self.env, self.log_path = app_spec, env, log_path
        self.options = ["--workers", str(workers), "--worker-class", worker_class, "--threads", str(threads)]
        self.process = None
        self.port = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path, timeout=60):
        """Start on a port the system picks, read it from the log, and wait until ready_path answers 200.

        Port 0 rather than a port found free beforehand: other servers start on this machine too, and one
        of them could take that port in between and answer the readiness check in this server's place."""
        log_start = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                # No control socket: its default path is shared by every gunicorn run by the same user.
                [GUNICORN, *self.options, "--bind", "127.0.0.1:0", "--no-control-socket",
                 "--timeout", "60", "--graceful-timeout", "2", self.app_spec],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        listening = re.compile(rf"Listening at: http://127\.0\.0\.1:(\d+) \({self.process.pid}\)")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            if self.port is None:
                with open(self.log_path, errors="replace") as log:
                    log.seek(log_start)
                    found = listening.search(log.read())
                self.port = found and int(found.group(1))
            else:
                try:
                    with urllib.request.urlopen(self.url + ready_path, timeout=2) as response:
                        if response.status == 200:
                            return
                except OSError:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn was not ready within {timeout}s; see {self.log_path}")

    def _members(self):
        return [ticks for _pid, _parent, group, ticks in _processes() if group == self.process.pid]

    def cpu_seconds(self):
        """CPU time used so far by the master and its workers."""
        return sum(self._members()) / CLOCK_TICKS

    def stop(self, timeout=10):
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # start_new_session: the master leads the group
        except ProcessLookupError:
            pass
        self.process.wait(timeout)
        deadline = time.monotonic() + timeout
        while self._members() and time.monotonic() < deadline:
            time.sleep(0.02)  # workers are re-parented to init, which reaps them a moment later


RANDOM_PAGE_COST = 1.1


class PostgreSQL:
    """A PostgreSQL server of its own in a temp folder, on a free loopback port. fsync stays on."""

    DATABASE = "audit_bench"

    def __init__(self):
        newest = max(os.listdir("/usr/lib/postgresql"), key=lambda v: [int(p) for p in v.split(".")])
        self.version, self.bin = newest, f"/usr/lib/postgresql/{newest}/bin"
        self.folder = tempfile.mkdtemp(prefix="audit-bench-pg-")
        self.port = free_port()
        self.started = False

    @property
    def url(self):
        return self.database_url(self.DATABASE)

    def database_url(self, name):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, *command):
        # PostgreSQL refuses to run as root; as root the commands run as the postgres account.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run(prefix + list(command), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode:
            raise RuntimeError(f"{os.path.basename(command[0])} failed ({done.returncode}): {done.stderr.strip()}")

    def start(self):
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        data = os.path.join(self.folder, "data")
        self._run(f"{self.bin}/initdb", "-D", data, "-A", "trust", "-U", "postgres")
        log = os.path.join(self.folder, "server.log")
        self.started = True  # from here on stop() asks pg_ctl too: even a failed start may leave a server
        try:
            # random_page_cost 1.1 as the README advises for SSD storage (the default, 4, assumes a
            # spinning disk, and with it the dashboards scan every answer instead of the period's).
            self._run(f"{self.bin}/pg_ctl", "-D", data, "-l", log, "-w",
                      "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                      f"-c random_page_cost={RANDOM_PAGE_COST}", "start")
        except RuntimeError as failure:
            with open(log) as server_log:
                raise RuntimeError(f"{failure}\n{server_log.read()}") from None
        self.create_database(self.DATABASE)

    def create_database(self, name):
        """A new empty database on this server; returns its URL."""
        self._run(f"{self.bin}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.database_url(name)

    def cpu_seconds(self):
        """CPU time used so far by the server: the postmaster and its backends, one per connection."""
        with open(os.path.join(self.folder, "data", "postmaster.pid")) as pid_file:
            postmaster = int(pid_file.readline())
        return sum(ticks for pid, parent, _group, ticks in _processes() if postmaster in (pid, parent)) / CLOCK_TICKS

    def stop(self):
        if self.started:
            try:
                self._run(f"{self.bin}/pg_ctl", "-D", os.path.join(self.folder, "data"), "-m", "immediate", "stop")
            except RuntimeError:
                pass  # not running; the folder is removed all the same
        shutil.rmtree(self.folder, ignore_errors=True)
