"""Helpers for the fault-injection test: the real app under gunicorn that can be SIGKILLed and
restarted, and a retrying HTTP client that behaves like the phone's outbox."""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date, timedelta

import requests

from audit.demo import best_answers
from audit.models import Branch, User, Visit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUNICORN = os.path.join(os.path.dirname(sys.executable), "gunicorn")
SHOPPER = "shopper1@example.com"
DEMO_PASSWORD = "demo-password"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')



def make_visits(count, email=SHOPPER):
    """`count` assigned visits of one shopper at one branch (as bench_submissions does): (uuids, answers)."""
    shopper = User.get(User.email == email)
    template = Visit.select().where(Visit.shopper == shopper).first()
    version = template.checklist_version
    branch = Branch.get_by_id(template.branch_id)
    rows = [Visit.create(branch=branch, checklist_version=version, shopper=shopper, planned_from=date.today(),
                         planned_to=date.today() + timedelta(days=3)) for _ in range(count)]
    return [str(v.uuid) for v in rows], best_answers(version.content)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _live_members(pgid):
    """Pids of the process group that are still running (a zombie nobody reaps counts as dead)."""
    live = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state not in ("Z", "X"):
            live.append(int(entry))
    return live


class Server:
    """gunicorn serving audit:create_app() on a fixed port, in a process group of its own."""

    def __init__(self, port, env, log_path, workers=2):
        self.port = port
        self.env = env
        self.log_path = log_path
        self.workers = workers
        self.process = None
        self.starts = 0

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=30):
        with open(self.log_path, "a") as log:
            log.write(f"\n=== start {self.starts + 1} ===\n")
            log.flush()
            self.process = subprocess.Popen(
                [GUNICORN, "--workers", str(self.workers), "--worker-class", "sync", "--bind",
                 f"127.0.0.1:{self.port}", "--timeout", "30", "--graceful-timeout", "2",
                 "audit:create_app()"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: one killpg takes master and workers
            )
        self.starts += 1
        self.wait_ready(timeout)

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                if requests.get(self.url + "/login", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not answer on {self.url} within {timeout}s; see {self.log_path}")

    def kill(self, timeout=10):
        """SIGKILL master and workers at once, and wait until none of them runs."""
        pgid = self.process.pid  # start_new_session: the master leads its group
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout)
        deadline = time.monotonic() + timeout
        while _live_members(pgid):
            if time.monotonic() > deadline:
                raise RuntimeError(f"process group {pgid} still runs after SIGKILL: {_live_members(pgid)}")
            time.sleep(0.02)


class Tally:
    """What the clients saw, counted under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.problems = []  # (visit, status, body) of answers that should never come

    def add(self, key, n=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def problem(self, visit, status, body):
        with self.lock:
            self.problems.append((visit, status, body[:300]))

    def __getitem__(self, key):
        with self.lock:
            return self.counts.get(key, 0)


class Outbox:
    """One phone: a signed-in session that sends visits, retrying each until the server has it."""

    RETRY_SLEEP = 0.05

    def __init__(self, base_url, tally, deadline, stop):
        self.base_url = base_url
        self.tally = tally
        self.deadline = deadline
        self.stop = stop  # a threading.Event: the test gave up, leave at once
        self.session = None
        self.token = None

    def _request(self, method, path, count=None, **kwargs):
        """One HTTP exchange, repeated while the server is unreachable; every body is checked.

        `count` names a tally that counts every try, including those the connection lost."""
        while True:
            if self.stop.is_set():
                raise RuntimeError("stopped by the test")
            if time.monotonic() > self.deadline:
                raise TimeoutError(f"{method} {path}: no usable answer before the deadline")
            if count:
                self.tally.add(count)
            try:
                response = self.session.request(method, self.base_url + path, timeout=(3, 20), **kwargs)
            except requests.RequestException:
                self.tally.add("connection_errors")
                time.sleep(self.RETRY_SLEEP)
                continue
            if "database is locked" in response.text:
                self.tally.add("database_locked")
            if response.status_code == 500:
                self.tally.add("http_500")
                self.tally.problem(path, 500, response.text)
            return response

    def sign_in(self):
        while True:
            self.session = requests.Session()
            page = self._request("GET", "/login")
            match = TOKEN.search(page.text)
            if page.status_code != 200 or not match:
                self._retry_later("login_page", page)
                continue
            signed = self._request("POST", "/login", data={
                "email": SHOPPER, "password": DEMO_PASSWORD, "csrf_token": match.group(1)}, allow_redirects=False)
            if signed.status_code != 302:
                self._retry_later("login_post", signed)
                continue
            # Signing in starts a new session with a new token: read it from a page fetched afterwards.
            page = self._request("GET", "/visits/")
            match = TOKEN.search(page.text)
            if page.status_code != 200 or not match:
                self._retry_later("token_page", page)
                continue
            self.token = match.group(1)
            self.tally.add("sign_ins")
            return

    def _retry_later(self, what, response):
        self.tally.add(f"{what}_{response.status_code}")
        if response.status_code >= 500 or response.status_code == 429:
            time.sleep(self.RETRY_SLEEP * 4)
        else:
            self.tally.problem(what, response.status_code, response.text)
            time.sleep(self.RETRY_SLEEP)

    def upload_photo(self, visit_id, item_id, photo):
        """Upload the visit's photo (its client id is the visit's) until stored; returns the client id."""
        client_id = f"photo-{visit_id}"
        path = f"/api/v1/visits/{visit_id}/photos"
        while True:
            response = self._request("POST", path, count="photo_attempts", headers={"X-CSRFToken": self.token},
                                     data={"client_id": client_id, "item_id": item_id},
                                     files={"file": ("shopfront.jpg", photo, "image/jpeg")})
            if response.status_code in (200, 201):
                self.tally.add(f"photo_{response.status_code}")
                return client_id
            code = None
            if response.headers.get("Content-Type", "").startswith("application/json"):
                code = (response.json().get("error") or {}).get("code")
            if response.status_code == 401 or (response.status_code == 400 and code == "csrf"):
                self.sign_in()
                continue
            if response.status_code < 500:
                self.tally.problem(path, response.status_code, response.text)
                return client_id
            time.sleep(self.RETRY_SLEEP)

    def send(self, visit_id, payload):
        """Post the visit until it answers 201 (received) or 200 (already received); returns the status."""
        path = f"/api/v1/visits/{visit_id}/submission"
        while True:
            response = self._request("POST", path, count="attempts", json=payload, headers={"X-CSRFToken": self.token})
            status = response.status_code
            if status in (200, 201):
                self.tally.add(f"status_{status}")
                return status
            code = None
            if response.headers.get("Content-Type", "").startswith("application/json"):
                code = (response.json().get("error") or {}).get("code")
            if status == 401 or (status == 400 and code == "csrf"):
                self.tally.add(f"reauth_{status}")
                self.sign_in()
                continue
            self.tally.add(f"status_{status}")
            if status < 500:  # 409, 422, 404...: the server refused the same content; retrying cannot help
                self.tally.problem(visit_id, status, response.text)
                return status
            time.sleep(self.RETRY_SLEEP)
