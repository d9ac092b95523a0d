"""Peak memory of building a region's ZIP of branch reports: is it streamed, flat as reports are added?

The parent loads the demo organisation and the scale chain with all N branches (default 500) in one
region, a visit a month for a year each, into a SQLite file. Each build then runs in a fresh child
process (this script with --child), so what is measured is the one process that builds the ZIP:
it creates the app on that file, renders one branch report to load imports, fonts and caches, and
takes its RSS then as the baseline; then it starts the region's ZIP job over the last 365 days the
way the region_zip route does (tasks.start_region_zip; huey is immediate under TESTING, so the task
runs inline). A thread reads VmRSS from /proc/self/status every 50 ms, RSS is also read at the start
of every report (= after k reports went into the archive), and VmHWM, reset after the baseline, gives
the peak. The same is done for a smaller count (default N/10, the first branches of the same region,
so each report does the same work and only the count differs). The parent checks each ZIP: N
distinct entries, every one a PDF.

Streamed, the peak over the baseline is about the same for both counts and RSS stops rising; the
verdict line fits RSS against reports done over the second half of the big build and calls it flat
when that slope is under a tenth of what holding the PDFs in memory would add (their uncompressed
size per report), and under 1 MB per 100 reports. MB here are MiB.

Run: .venv/bin/python bench/bench_zip_memory.py [--branches N] [--small M] [--json PATH]
"""
import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from audit import create_app, tasks  # noqa: E402
from audit.db import database  # noqa: E402
from audit.models import Branch, Brand, Region, User, utcnow  # noqa: E402
from audit.reports import branch as branch_module  # noqa: E402
from audit.scale import CHAIN, CHAIN_MANAGER, load_scale  # noqa: E402
from bench._setup import FAST_HASH, demo_app, write_figures  # noqa: E402
from bench._setup import machine as base_machine  # noqa: E402

LANGUAGE = "en"
DAYS = 365
SAMPLE_SECONDS = 0.05


def status_kib(field):
    """A VmRSS/VmHWM-style line of /proc/self/status, in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def mib(kib):
    return kib / 1024


def reset_peak():
    """Reset VmHWM to the current RSS (Linux 4.0+); False when the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


class Sampler(threading.Thread):
    """VmRSS every SAMPLE_SECONDS, as (seconds since start, KiB)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples = []
        self.started = time.perf_counter()
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            self.samples.append((time.perf_counter() - self.started, status_kib("VmRSS")))
            self.stopping.wait(SAMPLE_SECONDS)

    def stop(self):
        self.stopping.set()
        self.join()
        self.samples.append((time.perf_counter() - self.started, status_kib("VmRSS")))


# -- the child: one process that builds one ZIP ------------------------------------------------------

def child(db_url, media_dir, count, out_path):
    started_kib = status_kib("VmRSS")
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": db_url, "MEDIA_DIR": media_dir,
                      "SESSION_COOKIE_SECURE": False, "RATELIMIT_ENABLED": False, **FAST_HASH})
    end = utcnow()
    start = end - timedelta(days=DAYS)
    with app.app_context(), database.connection_context():
        owner = User.get(User.email == CHAIN_MANAGER)
        branches = list(Branch.select().join(Region).join(Brand).where(Brand.name == CHAIN)
                        .order_by(Branch.code).limit(count))
        region = branches[0].region
        assert region.brand.name == CHAIN and all(b.region_id == region.id for b in branches)
        assert len(branches) == count, f"the region has {len(branches)} branches, not {count}"
        app_kib = status_kib("VmRSS")
        warm_start = time.perf_counter()
        warm_pdf = branch_module.branch_report_pdf(branches[0], LANGUAGE, start, end)
        warm_seconds = time.perf_counter() - warm_start
        assert warm_pdf.startswith(b"%PDF")
        del warm_pdf
    gc.collect()
    baseline_kib = status_kib("VmRSS")
    peak_reset = reset_peak()

    # Progress: the task looks branch_report_pdf up on its module each run; RSS at the start of
    # report k+1 is the memory after k reports went into the archive (and into the Job row).
    checkpoints = []
    real_report = branch_module.branch_report_pdf

    def counted_report(*args, **kwargs):
        checkpoints.append((len(checkpoints), time.perf_counter() - sampler.started, status_kib("VmRSS")))
        return real_report(*args, **kwargs)

    branch_module.branch_report_pdf = counted_report
    sampler = Sampler()
    sampler.start()
    build_start = time.perf_counter()
    try:
        with app.app_context(), database.connection_context():
            job = tasks.start_region_zip(owner.id, region, [b.id for b in branches], LANGUAGE, start, end,
                                         title=f"{region.brand.name} · {region.name}")
    finally:
        seconds = time.perf_counter() - build_start
        sampler.stop()
        branch_module.branch_report_pdf = real_report
    checkpoints.append((len(checkpoints), sampler.samples[-1][0], sampler.samples[-1][1]))
    hwm_kib = status_kib("VmHWM")
    with app.app_context(), database.connection_context():
        job = type(job).get_by_id(job.id)
        result = {
            "branches": count, "job_status": job.status, "job_done": job.done, "job_total": job.total,
            "zip_path": os.path.join(media_dir, "exports", job.file_name or ""),
            "start_kib": started_kib, "app_kib": app_kib, "baseline_kib": baseline_kib, "hwm_kib": hwm_kib,
            "hwm_reset": peak_reset, "warm_seconds": warm_seconds, "seconds": seconds,
            "checkpoints": checkpoints, "samples": sampler.samples,
        }
    with open(out_path, "w") as out:
        json.dump(result, out)


# -- the parent: data, two children, checks, table ---------------------------------------------------

def machine():
    import weasyprint

    return f"{base_machine()}, WeasyPrint {weasyprint.__version__}, {len(os.sched_getaffinity(0))} CPUs usable"


def run_child(app, folder, count):
    out_path = os.path.join(folder, f"child-{count}.json")
    command = [sys.executable, os.path.abspath(__file__), "--child", "--db-url", app.config["DATABASE_URL"],
               "--media-dir", app.config["MEDIA_DIR"], "--branches", str(count), "--out", out_path]
    subprocess.run(command, check=True)
    with open(out_path) as result:
        return json.load(result)


def check_zip(path, count):
    """The archive holds `count` distinct .pdf entries, each starting with %PDF.

    Returns (ZIP size, the PDFs' size uncompressed): the latter is what holding them would cost."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert len(names) == count, f"{len(names)} entries in the ZIP, expected {count}"
        assert len(set(names)) == count and all(name.endswith(".pdf") for name in names), names[:5]
        for name in names:
            with archive.open(name) as entry:
                assert entry.read(5) == b"%PDF-", f"{name} is not a PDF"
        assert archive.testzip() is None
        return os.path.getsize(path), sum(info.file_size for info in archive.infolist())


def slope_mb_per_100(run):
    """Least-squares slope of RSS against reports done over the second half of the build."""
    half = [(done, kib) for done, _t, kib in run["checkpoints"] if done >= run["branches"] / 2]
    if len(half) < 3:
        return None
    return statistics.linear_regression([d for d, _k in half], [mib(k) for _d, k in half]).slope * 100


def summary(run):
    slope = slope_mb_per_100(run)
    samples_peak = max(kib for _t, kib in run["samples"])
    peak = max(samples_peak, run["hwm_kib"]) if run["hwm_reset"] else samples_peak
    return {
        "branches": run["branches"], "baseline_rss_mb": round(mib(run["baseline_kib"]), 1),
        "peak_rss_mb": round(mib(peak), 1), "growth_mb": round(mib(peak - run["baseline_kib"]), 1),
        "zip_mb": round(run["zip_bytes"] / 2**20, 2), "seconds": round(run["seconds"], 1),
        "seconds_per_report": round(run["seconds"] / run["branches"], 3),
        "rss_slope_mb_per_100_reports": None if slope is None else round(slope, 2),
        "pdfs_mb": round(run["pdf_bytes"] / 2**20, 2),
    }


def print_run(run, step):
    head = summary(run)
    print(f"\n{run['branches']} branch reports in one ZIP ({run['seconds']:.1f} s, "
          f"{run['seconds'] / run['branches']:.3f} s a report):")
    print(f"  RSS at process start {mib(run['start_kib']):.1f} MB, with the app {mib(run['app_kib']):.1f} MB, "
          f"after one warm-up report ({run['warm_seconds']:.2f} s) = baseline {mib(run['baseline_kib']):.1f} MB")
    print(f"  {'reports done':>12} {'RSS MB':>8} {'max RSS MB since previous row':>30}")
    checkpoints, samples = run["checkpoints"], run["samples"]
    previous_t = 0.0
    for done, t, kib in checkpoints:
        if done % step and done != len(checkpoints) - 1:
            continue
        window = [k for st, k in samples if previous_t <= st <= t] + [kib]
        print(f"  {done:>12} {mib(kib):>8.1f} {mib(max(window)):>30.1f}")
        previous_t = t
    hwm = f"{mib(run['hwm_kib']):.1f} MB" if run["hwm_reset"] else "n/a (could not reset)"
    print(f"  peak: sampled {mib(max(k for _t, k in samples)):.1f} MB, VmHWM since baseline {hwm}; "
          f"peak - baseline {head['growth_mb']:.1f} MB; {len(samples)} samples")
    print(f"  ZIP {head['zip_mb']:.2f} MB ({head['pdfs_mb']:.2f} MB of PDFs uncompressed), {run['branches']} PDFs "
          f"checked; job {run['job_status']} {run['job_done']}/{run['job_total']}")
    if head["rss_slope_mb_per_100_reports"] is not None:
        print(f"  RSS slope over the second half: {head['rss_slope_mb_per_100_reports']:+.2f} MB per 100 reports "
              f"(holding every PDF would be {100 * head['pdfs_mb'] / run['branches']:.2f} MB per 100)")
    return head


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--branches", type=int, default=500)
    parser.add_argument("--small", type=int, help="the smaller count to compare with (default branches/10)")
    parser.add_argument("--json", help="write the headline figures here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db-url", help=argparse.SUPPRESS)
    parser.add_argument("--media-dir", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.db_url, args.media_dir, args.branches, args.out)
        return
    count = args.branches
    small = args.small or max(1, count // 10)
    if not 1 <= small <= count:
        parser.error("--small must be from 1 to --branches")

    print(machine())
    load_start = time.perf_counter()
    app, folder = demo_app()
    try:
        with app.app_context(), database.connection_context():
            counts = load_scale(count * 12, branches=count, regions=1)
        print(f"Data: {counts['branches']} branches in one region, {counts['visits']} visits, "
              f"{counts['answers']} answers ({time.perf_counter() - load_start:.0f} s to load); "
              f"ZIP over the last {DAYS} days, language {LANGUAGE!r}")
        runs = {}
        for size in (small, count):  # one after the other: on 2 cores the children must not compete
            run = run_child(app, folder, size)
            assert run["job_status"] == "done" and run["job_done"] == size, run["job_status"]
            assert len(run["checkpoints"]) == size + 1
            run["zip_bytes"], run["pdf_bytes"] = check_zip(run["zip_path"], size)
            runs[size] = run
        step = max(1, round(count / 10))
        heads = {size: print_run(runs[size], step if size == count else max(1, round(small / 5)))
                 for size in (small, count)}
        big, little = heads[count], heads[small]
        print(f"\nPeak RSS with {count} reports / with {small}: {big['peak_rss_mb']:.1f} / "
              f"{little['peak_rss_mb']:.1f} MB = {big['peak_rss_mb'] / little['peak_rss_mb']:.2f}x "
              f"for {count / small:.0f}x the reports; "
              f"growth over the baseline {big['growth_mb']:.1f} vs {little['growth_mb']:.1f} MB; "
              f"the ZIP itself is {big['zip_mb']:.1f} MB")
        slope = big["rss_slope_mb_per_100_reports"]
        if slope is not None:
            # Flat: over the second half RSS rises by under 10% of what holding the PDFs would add.
            limit = min(1.0, 0.1 * 100 * big["pdfs_mb"] / count)
            big["memory_flat"] = slope < limit
            print(f"Memory {'flat' if big['memory_flat'] else 'GROWS'} as reports are added: {slope:+.2f} MB per "
                  f"100 reports over the second half (flat means < {limit:.2f}); {count} reports would add "
                  f"{slope * count / 100:.0f} MB at that rate")
        if args.json:
            headline = dict(big, compare=little, peak_ratio=round(big["peak_rss_mb"] / little["peak_rss_mb"], 3))
            write_figures(args.json, headline)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
