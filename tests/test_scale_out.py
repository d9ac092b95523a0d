"""Several app processes: what they must share lives in Redis (the job queue, the sign-in counts);
region ZIPs and XLSX exports are made by a separate worker process, from the SQLite queue of `make run`
or from Redis."""
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

import openpyxl
import pytest
import redis
from pypdf import PdfReader

from audit import create_app
from audit.db import database
from audit.demo import DEMO_PASSWORD, load_demo
from audit.models import Branch, Job
from conftest import csrf_from, login

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def redis_socket():
    """A throw-away Redis server on a unix socket (no TCP port to collide with), stopped afterwards."""
    server = shutil.which("redis-server")
    assert server, "redis-server is missing: `make test` installs it (.ci/install-system-deps)"
    folder = tempfile.mkdtemp(prefix="redis-")  # short: a socket path may not exceed 107 bytes
    socket_path = os.path.join(folder, "redis.sock")
    process = subprocess.Popen([server, "--port", "0", "--unixsocket", socket_path, "--unixsocketperm", "700",
                                "--save", "", "--appendonly", "no", "--dir", folder],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if redis.Redis(unix_socket_path=socket_path).ping():
                    break
            except redis.ConnectionError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield socket_path
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def _sign_in_attempt(app):
    client = app.test_client()
    token = csrf_from(client.get("/login"))
    return client.post("/login", data={"email": "manager@example.com", "password": "bad", "csrf_token": token}).status_code


def test_app_processes_share_the_sign_in_count_through_redis(app_config, org, redis_socket):
    config = dict(app_config, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=f"redis+unix://{redis_socket}")
    first, second = create_app(config), create_app(config)  # two processes behind one load balancer
    codes = [_sign_in_attempt(app) for app in (first, second) * 5]
    assert codes == [200] * 10  # ten attempts of one address, spread over both
    assert _sign_in_attempt(first) == 429 and _sign_in_attempt(second) == 429
    # Without the shared storage, each process would have let five more through.
    alone = create_app(dict(app_config, RATELIMIT_ENABLED=True))
    assert _sign_in_attempt(alone) == 200


@pytest.mark.parametrize("queue", ["sqlite", "redis"])
def test_a_worker_process_makes_each_job_from_the_queue_in_a_child_that_ends_with_it(
        app_config, tmp_path, monkeypatch, request, queue):
    """`make run`'s worker beside the web server (SQLite queue in the shared instance folder), and a
    worker on another machine (Redis queue): the web process only queues the jobs (two region ZIPs and
    an XLSX export). WeasyPrint keeps a little native memory per report, so each job runs in a child
    process of its own that ends with it, and what a job leaves behind goes with it."""
    instance = str(tmp_path / "instance")
    monkeypatch.setenv("AUDIT_INSTANCE", instance)  # the web process's instance folder, shared with the worker
    redis_url = f"unix://{request.getfixturevalue('redis_socket')}" if queue == "redis" else None
    app = create_app(dict(app_config, HUEY_IMMEDIATE=False, REDIS_URL=redis_url))
    with app.app_context(), database.connection_context():
        from audit.migrations import migrate_database

        migrate_database()
        load_demo()
        region = Branch.get(Branch.code == "BUD-01").region_id
    client = app.test_client()
    assert login(client, "manager.hu@example.com", DEMO_PASSWORD).status_code == 302
    token = csrf_from(client.get("/dashboard/"))
    started = [client.post(f"/reports/regions/{region}/reports.zip?lang={language}", data={"csrf_token": token})
               for language in ("hu", "en")]
    export = client.post("/reports/export.xlsx?lang=ro", data={"csrf_token": token})
    assert [answer.status_code for answer in started + [export]] == [302, 302, 302]
    with app.app_context(), database.connection_context():
        assert [job.status for job in Job.select()] == ["queued"] * 3  # the web process does not make them
    assert app.extensions["huey"].pending_count() == 3

    # The worker is another process with the same settings, as `python -m audit.worker`.
    env = dict(os.environ, DATABASE_URL=app_config["DATABASE_URL"], MEDIA_DIR=app_config["MEDIA_DIR"],
               SECRET_KEY=app_config["SECRET_KEY"], AUDIT_INSTANCE=instance)
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen([sys.executable, "-m", "audit.worker"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 180
        while True:
            with app.app_context(), database.connection_context():
                jobs = list(Job.select().order_by(Job.id))
            if all(job.status in ("done", "failed") for job in jobs) or worker.poll() is not None \
                    or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert worker.poll() is None, "the worker stopped"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    output = log_path.read_text(errors="replace")
    rows = jobs[2].total
    # Each ZIP: the region report, then its 4 branches' reports.
    assert [(job.status, job.done, job.total) for job in jobs] == [("done", 5, 5)] * 2 + [("done", rows, rows)], \
        output[-2000:]
    assert rows > 500
    assert app.extensions["huey"].pending_count() == 0
    # Each job was made by a process of its own, not by the worker process that was started.
    makers = [int(pid) for pid in re.findall(r"Region ZIP [0-9a-f-]+: 5 reports in [0-9.]+ s, by process (\d+)", output)]
    makers += [int(pid) for pid in re.findall(rf"XLSX export [0-9a-f-]+: {rows} rows in [0-9.]+ s, by process (\d+)", output)]
    assert len(makers) == 3 and len(set(makers)) == 3 and worker.pid not in makers, output[-2000:]
    # A log an operator reads: a job's process ending is no warning, WeasyPrint does not list its fonts.
    assert " WARNING " not in output and " ERROR " not in output, output[-2000:]
    assert "weasyprint INFO" not in output and output.count("ended with its job") >= 2  # the last: after the stop
    book = openpyxl.load_workbook(io.BytesIO(client.get(export.headers["Location"] + "/download").data))
    assert book.sheetnames == ["Vizite", "Răspunsuri"]  # in the language asked for, by another process
    assert sum(book[name].max_row - 1 for name in book.sheetnames) == rows

    for answer, language in zip(started, ("hu", "en")):
        page = client.get(answer.headers["Location"]).get_data(as_text=True)
        assert "/download" in page
        archive = zipfile.ZipFile(io.BytesIO(client.get(answer.headers["Location"] + "/download").data))
        assert archive.namelist()[0].startswith("region-")  # the region report first
        names = sorted(archive.namelist()[1:])
        assert [name.split("-report-")[0] for name in names] == ["BUD-01", "BUD-02", "DEB-01", "SZE-01"]
        assert all(re.fullmatch(rf"[A-Z]+-\d+-report-\d{{8}}-\d{{8}}-{language}\.pdf", name) for name in names), names
        assert "Aurora Debrecen Fórum" in PdfReader(io.BytesIO(archive.read(names[2]))).pages[0].extract_text()


def test_the_health_check_tells_the_load_balancer_whether_the_database_answers(client, app_config):
    answer = client.get("/healthz")
    assert (answer.status_code, answer.get_json()) == (200, {"status": "ok"})
    # A process whose database is away answers 503: the balancer stops sending it phones.
    cut_off = create_app(dict(app_config, DATABASE_URL="postgresql://audit@127.0.0.1:1/audit"))
    answer = cut_off.test_client().get("/healthz")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    # A monitor reads why, as for every other problem (it was the visitors' HTML page).
    assert answer.get_json() == {"status": "unavailable",
                                 "problems": ["the database (DATABASE_URL) does not answer, or is not a database"]}


def test_a_job_that_no_worker_starts_says_so_after_a_minute(app, org, login_as):
    from datetime import timedelta

    from audit.models import utcnow

    manager = org["users"]["manager"]
    with app.app_context(), database.connection_context():
        fresh = Job.create(kind="region_zip", owner=manager, total=3, title="Region A")
        stuck = Job.create(kind="region_zip", owner=manager, total=3, title="Region A",
                           created_at=utcnow() - timedelta(minutes=5))
    client = login_as("manager")
    hint = "the background worker that makes the reports may not be running"
    assert hint not in client.get(f"/reports/jobs/{fresh.uuid}").get_data(as_text=True)
    assert hint in client.get(f"/reports/jobs/{stuck.uuid}").get_data(as_text=True)


def test_a_worker_whose_redis_is_away_says_so_once_a_minute_not_every_second(app_config, tmp_path):
    """With REDIS_URL at an address where nothing listens, huey's consumer wrote a traceback a second
    (1,300 lines in 7 s), and the line that says what is wrong got lost among them."""
    env = dict(os.environ, DATABASE_URL=app_config["DATABASE_URL"], MEDIA_DIR=app_config["MEDIA_DIR"],
               SECRET_KEY=app_config["SECRET_KEY"], AUDIT_INSTANCE=str(tmp_path), REDIS_URL="redis://127.0.0.1:1/0")
    worker = subprocess.Popen([sys.executable, "-m", "audit.worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(8)
        assert worker.poll() is None, "the worker stopped"
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[1].decode(errors="replace")
    assert output.count("Error reading from queue") == 1, output[-3000:]
    assert "ConnectionError" in output or "Connection refused" in output
