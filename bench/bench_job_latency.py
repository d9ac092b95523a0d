"""How long a background job waits for the worker: an XLSX export queued after the worker sat idle.

The real worker (`python -m audit.worker`, the SQLite queue of `make run`) is started on the demo
organisation; after it has been idle for a while, the Hungarian manager's XLSX export of the default
half year (about 900 rows, a second's work) is queued through the app, and the job's row is watched:
the time until the worker marks it running (the wait) and until it is done. An idle huey worker polls
the SQLite queue less and less often, up to its max_delay between looks. Baseline, in the same run:
the same worker with huey's default max_delay of 10 s; then the app's (audit.worker.IDLE_POLL_SECONDS).
Redis queues are not polled (huey waits on the list), so this is about the SQLite queue alone.

Run: .venv/bin/python bench/bench_job_latency.py [--idle 2,60] [--repeat 3] [--json PATH]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from audit import create_app  # noqa: E402
from audit.db import database  # noqa: E402
from audit.demo import load_demo  # noqa: E402
from audit.migrations import migrate_database  # noqa: E402
from audit.models import Job  # noqa: E402
from audit.worker import IDLE_POLL_SECONDS  # noqa: E402
from bench._setup import FAST_HASH, machine, signed_in, write_figures  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANAGER = "manager.hu@example.com"
HUEY_DEFAULT_MAX_DELAY = 10.0


def start_worker(folder, max_delay):
    """The worker as `make run` starts it, with the idle poll capped at max_delay seconds."""
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{folder}/bench.sqlite3", MEDIA_DIR=os.path.join(folder, "media"),
               SECRET_KEY="bench", AUDIT_INSTANCE=os.path.join(folder, "instance"))
    env.pop("REDIS_URL", None)
    code = f"import audit.worker as worker; worker.IDLE_POLL_SECONDS = {max_delay!r}; worker.main()"
    log = open(os.path.join(folder, "worker.log"), "ab")
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)


def one_export(app, client, token, idle):
    """(seconds until the job runs, seconds until it is done) of an export queued after `idle` seconds."""
    time.sleep(idle)
    queued = time.perf_counter()
    answer = client.post("/reports/export.xlsx", data={"csrf_token": token})
    assert answer.status_code == 302, answer.status_code
    job_uuid = answer.headers["Location"].rsplit("/", 1)[1]
    running = None
    while True:
        with app.app_context(), database.connection_context():
            status = Job.get(Job.uuid == job_uuid).status
        now = time.perf_counter() - queued
        if status != "queued" and running is None:
            running = now
        if status in ("done", "failed"):
            assert status == "done", "the export failed: see worker.log"
            return running, now
        if now > 120:
            raise RuntimeError("the export was not done within two minutes: see worker.log")
        time.sleep(0.02)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", default="2,60", help="seconds the worker sits idle before each export")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="write the headline figures here")
    args = parser.parse_args()
    idles = [float(value) for value in args.idle.split(",")]
    print(machine())
    folder = os.path.realpath(os.path.join("/tmp", f"audit-bench-latency-{os.getpid()}"))
    os.makedirs(folder)
    os.environ["AUDIT_INSTANCE"] = os.path.join(folder, "instance")  # the queue's file, shared with the worker
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
                      "MEDIA_DIR": os.path.join(folder, "media"), "SESSION_COOKIE_SECURE": False,
                      "RATELIMIT_ENABLED": False, "HUEY_IMMEDIATE": False, **FAST_HASH})
    figures = {}
    try:
        with app.app_context(), database.connection_context():
            migrate_database()
            load_demo()
        client, token = signed_in(app, MANAGER)
        print(f"An XLSX export of the demo's Hungarian region (half a year), queued after the worker sat idle; "
              f"median of {args.repeat}.")
        print(f"\n{'worker':<36} {'idle s':>7} {'wait s':>7} {'done s':>7}")
        for name, max_delay in ((f"huey's default (max_delay {HUEY_DEFAULT_MAX_DELAY:g} s)", HUEY_DEFAULT_MAX_DELAY),
                                (f"the app's (max_delay {IDLE_POLL_SECONDS:g} s)", IDLE_POLL_SECONDS)):
            worker = start_worker(folder, max_delay)
            try:
                one_export(app, client, token, 3)  # warm: the worker is up and has made one
                for idle in idles:
                    runs = [one_export(app, client, token, idle) for _ in range(args.repeat)]
                    wait = statistics.median(run[0] for run in runs)
                    done = statistics.median(run[1] for run in runs)
                    key = "default" if max_delay == HUEY_DEFAULT_MAX_DELAY else "app"
                    figures[f"{key}_idle_{idle:g}_wait_s"] = round(wait, 2)
                    figures[f"{key}_idle_{idle:g}_done_s"] = round(done, 2)
                    print(f"{name:<36} {idle:>7g} {wait:>7.2f} {done:>7.2f}")
            finally:
                worker.terminate()
                worker.wait(timeout=30)
        longest = max(idles)
        figures["done_s"] = figures[f"app_idle_{longest:g}_done_s"]  # the headline: after the longest idle
        figures["default_done_s"] = figures[f"default_idle_{longest:g}_done_s"]
        figures["done_ratio"] = round(figures["done_s"] / figures["default_done_s"], 2)
        print(f"\nAfter {longest:g} s idle, an export is done in x{figures['done_ratio']:.2f} the time it took with "
              f"huey's default polling.")
        if args.json:
            write_figures(args.json, figures)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
