"""The background worker's memory over many region ZIPs in a row: does it grow from job to job?

WeasyPrint keeps about 20 KB of native memory per PDF that no garbage collection returns
(bench_zip_memory.py measures one build). A worker that makes the region ZIPs of an agency's brands
month after month would carry that from one job to the next. This bench makes JOBS region ZIPs of
N branch reports each (default 5 x 100, a year of visits per branch) in a row, two ways, one after
the other on the same SQLite file:

  - one long-lived process that makes every job itself, as the worker did before (huey's thread
    worker): a child process of this script with the queue in immediate mode, which runs each job
    inline; its memory after each job;
  - the real worker, `python -m audit.worker`, on the SQLite queue of `make run`: the consumer forks
    a child for each job that ends with the job (huey's process workers, max_tasks=1). Its memory
    after each job, once the job's child has gone and the next idle one is up, is the sum over the
    consumer and its children (the scheduler, the idle worker).

Memory is PSS (proportional set size, /proc/<pid>/smaps_rollup): a page shared by the consumer and
the children it forked counts once in the sum, not once per process; RSS of the main process is
printed beside it. The growth per job is the least-squares slope of PSS over the jobs after the
first (the first loads fonts and caches).

Run: .venv/bin/python bench/bench_worker_memory.py [--branches N] [--jobs K] [--json PATH]
"""
import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from audit import create_app, tasks  # noqa: E402
from audit.db import database  # noqa: E402
from audit.models import Branch, Brand, Job, Region, User, utcnow  # noqa: E402
from audit.scale import CHAIN, CHAIN_MANAGER, load_scale  # noqa: E402
from bench._setup import FAST_HASH, demo_app, machine, write_figures  # noqa: E402

LANGUAGE = "en"
DAYS = 365
SETTLE_SECONDS = 2.5  # the job's child exits and the consumer forks the next within a second


def proc_kib(pid, file_name, field):
    """A 'Field:   123 kB' line of /proc/<pid>/<file_name>, in KiB (0 when the process is gone)."""
    try:
        with open(f"/proc/{pid}/{file_name}") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return 0
    raise RuntimeError(f"{field} not in /proc/{pid}/{file_name}")


def children(pid):
    pids = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as listed:
            pids += [int(child) for child in listed.read().split()]
    return pids


def memory(pid, with_children):
    """(PSS of the process and, if asked, its children, in MiB; RSS of the process itself in MiB)."""
    pids = [pid] + (children(pid) if with_children else [])
    return sum(proc_kib(p, "smaps_rollup", "Pss") for p in pids) / 1024, proc_kib(pid, "status", "VmRSS") / 1024


def slope(values):
    """MiB per job over the jobs after the first (None with fewer than three of them)."""
    later = values[1:]
    if len(later) < 3:
        return None
    return statistics.linear_regression(range(len(later)), later).slope


def _config(folder):
    return {"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
            "MEDIA_DIR": os.path.join(folder, "media"), "SESSION_COOKIE_SECURE": False,
            "RATELIMIT_ENABLED": False, **FAST_HASH}


def start_job(app, end):
    """Queue the region ZIP of the chain's one region over the DAYS before `end`, as the route does;
    in immediate mode (TESTING) it is made before this returns. Returns the Job's id."""
    with app.app_context(), database.connection_context():
        owner = User.get(User.email == CHAIN_MANAGER)
        branches = list(Branch.select().join(Region).join(Brand).where(Brand.name == CHAIN).order_by(Branch.code))
        job = tasks.start_region_zip(owner.id, branches[0].region, [b.id for b in branches], LANGUAGE,
                                     end - timedelta(days=DAYS), end, title="bench")
        return job.id


def job_status(app, job_id):
    with app.app_context(), database.connection_context():
        return Job.get_by_id(job_id).status


# -- one long-lived process making every job itself (the child of this script) -----------------------

def one_process(folder, jobs, out_path):
    app = create_app(_config(folder))  # TESTING: the queue is immediate, the job runs inline
    end = utcnow()
    rows = []
    for _ in range(jobs):
        started = time.perf_counter()
        status = job_status(app, start_job(app, end))
        gc.collect()
        rows.append({"seconds": time.perf_counter() - started, "status": status,
                     "memory": memory(os.getpid(), with_children=False)})
    with open(out_path, "w") as out:
        json.dump(rows, out)


def run_one_process(folder, jobs):
    out_path = os.path.join(folder, "one-process.json")
    subprocess.run([sys.executable, os.path.abspath(__file__), "--one-process", "--folder", folder,
                    "--jobs", str(jobs), "--out", out_path], check=True)
    with open(out_path) as result:
        return json.load(result)


# -- the real worker ------------------------------------------------------------------------------------

def run_worker(folder, jobs):
    instance = os.path.join(folder, "instance")
    os.environ["AUDIT_INSTANCE"] = instance  # the queue's file lives there, for this process and the worker
    app = create_app(dict(_config(folder), HUEY_IMMEDIATE=False))
    env = dict(os.environ, DATABASE_URL=app.config["DATABASE_URL"], MEDIA_DIR=app.config["MEDIA_DIR"],
               SECRET_KEY="bench", AUDIT_INSTANCE=instance)
    env.pop("REDIS_URL", None)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    log_path = os.path.join(folder, "worker.log")
    with open(log_path, "wb") as log:
        worker = subprocess.Popen([sys.executable, "-m", "audit.worker"], cwd=root, env=env,
                                  stdout=subprocess.DEVNULL, stderr=log)
    rows = []
    try:
        time.sleep(SETTLE_SECONDS)
        started_with = memory(worker.pid, with_children=True)
        end = utcnow()
        for _ in range(jobs):
            started = time.perf_counter()
            job_id = start_job(app, end)
            while True:
                status = job_status(app, job_id)
                if status in ("done", "failed"):
                    break
                if worker.poll() is not None:
                    raise RuntimeError(f"the worker stopped:\n{open(log_path).read()[-2000:]}")
                time.sleep(0.1)
            seconds = time.perf_counter() - started
            time.sleep(SETTLE_SECONDS)
            rows.append({"seconds": seconds, "status": status, "memory": memory(worker.pid, with_children=True)})
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    return started_with, rows


def print_rows(title, rows, first=None):
    print(f"\n{title}")
    print(f"  {'after job':>9} {'seconds':>8} {'PSS MB':>8} {'RSS MB of the main process':>27}")
    if first:
        print(f"  {'(start)':>9} {'':>8} {first[0]:>8.1f} {first[1]:>27.1f}")
    for number, row in enumerate(rows, 1):
        assert row["status"] == "done", row
        print(f"  {number:>9} {row['seconds']:>8.1f} {row['memory'][0]:>8.1f} {row['memory'][1]:>27.1f}")
    growth = slope([row["memory"][0] for row in rows])
    if growth is not None:
        print(f"  growth after the first job: {growth:+.2f} MB per job")
    return growth


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--branches", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=5)
    parser.add_argument("--json", help="write the headline figures here")
    parser.add_argument("--one-process", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_process:
        one_process(args.folder, args.jobs, args.out)
        return
    if args.branches < 1 or args.jobs < 1:
        parser.error("--branches and --jobs must be at least 1")

    print(machine())
    app, folder = demo_app()
    try:
        with app.app_context(), database.connection_context():
            counts = load_scale(args.branches * 12, branches=args.branches, regions=1)
        print(f"Data: {counts['branches']} branches in one region, {counts['visits']} visits; {args.jobs} region "
              f"ZIPs of {args.branches} reports in a row, each way")
        database.close_all()
        before = run_one_process(folder, args.jobs)  # one at a time: on 2 cores they must not compete
        started_with, after = run_worker(folder, args.jobs)
        old = print_rows("One long-lived process making every job (the worker before):", before)
        new = print_rows("`python -m audit.worker`: each job in a child that ends with it (consumer + children):",
                         after, started_with)
        per_report = lambda growth: None if growth is None else 1024 * growth / args.branches  # noqa: E731
        if old is not None and new is not None:
            print(f"\nGrowth per job of {args.branches} reports: {old:+.2f} MB in one long-lived process "
                  f"({per_report(old):+.1f} KB a report), {new:+.2f} MB with a child per job "
                  f"({per_report(new):+.1f} KB a report)")
        if args.json:
            write_figures(args.json, {
                    "branches": args.branches, "jobs": args.jobs,
                    "one_process_pss_mb": [round(row["memory"][0], 1) for row in before],
                    "worker_pss_mb": [round(row["memory"][0], 1) for row in after],
                    "one_process_growth_mb_per_job": None if old is None else round(old, 2),
                    "worker_growth_mb_per_job": None if new is None else round(new, 2),
                    "seconds_per_report": round(statistics.mean(r["seconds"] for r in after) / args.branches, 3),
                })
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
