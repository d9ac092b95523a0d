"""Long jobs outside the request, with huey: a region's ZIP of branch reports, an XLSX export.

Storage: SQLite beside the app database (nothing to install), Redis when REDIS_URL is set (several
machines), and immediate mode in tests. The worker is `python -m audit.worker`; `make run` starts it.
A job's file goes to MEDIA_DIR/exports and is removed JOB_FILES_KEEP_DAYS after it was made (an
hourly periodic task): region ZIPs are tens of megabytes, and the folder would otherwise grow with
every click, and every backup with it.
"""
import gc
import logging
import os
import threading
import time
import zipfile
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask_babel import force_locale
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab

from peewee import InterfaceError, OperationalError

from .db import database
from .errors import ServiceUnavailable
from .models import Branch, Job, utcnow

log = logging.getLogger(__name__)

_huey = {"instance": None, "app": None, "region_zip": None, "xlsx_export": None}

# Rows an export writes between two progress updates of its job (a few a second).
PROGRESS_ROWS = 5000
# The file each kind of job makes, under MEDIA_DIR/exports/<job uuid>.<extension>; written under the
# name + PARTIAL_SUFFIX and renamed when done (backups leave such files out).
JOB_FILE_EXTENSIONS = {"region_zip": "zip", "xlsx_export": "xlsx"}
PARTIAL_SUFFIX = ".part"


def init_app(app):
    """Create the queue for this app's configuration and register the tasks on it."""
    # Tests run jobs at once, unless one sets HUEY_IMMEDIATE=False to go through a real queue.
    if app.config.get("HUEY_IMMEDIATE", app.config.get("TESTING")):
        huey = MemoryHuey("audit", immediate=True)
    elif app.config.get("REDIS_URL"):
        huey = RedisHuey("audit", url=app.config["REDIS_URL"])
    else:
        huey = SqliteHuey("audit", filename=os.path.join(app.instance_path, "huey.sqlite3"))
    _huey["instance"], _huey["app"] = huey, app
    app.extensions["huey"] = huey
    _huey["region_zip"] = huey.task(name="region_zip")(_run_region_zip)
    _huey["xlsx_export"] = huey.task(name="xlsx_export")(_run_xlsx_export)
    huey.periodic_task(crontab(minute="17"), name="remove_expired_job_files")(_remove_expired_job_files)
    return huey


def queue():
    return _huey["instance"]


def queue_problem():
    """Why jobs cannot be queued now (the Redis of REDIS_URL does not answer), or None. The SQLite
    queue is a file beside the app's own: nothing to reach."""
    huey = queue()
    if not isinstance(huey, RedisHuey):
        return None
    try:
        huey.storage.conn.ping()
    except Exception:  # noqa: BLE001 - any failure to answer (refused, timeout, auth) is the answer
        return "the job queue (REDIS_URL) does not answer"
    return None


def _start(kind, job, *arguments):
    """Hand a recorded job to the queue. If the queue cannot take it (Redis away), the job's row goes
    too, since no worker would ever start it, and the visitor gets a 503 to try again in a moment."""
    # The row is committed before the job is queued, not in one transaction with it: a worker may
    # start the job at once, and reads its row.
    try:
        _huey[kind](str(job.uuid), *arguments)
    except Exception as error:  # noqa: BLE001 - whatever the queue's storage raised, the job cannot run
        Job.delete().where(Job.id == job.id).execute()
        raise ServiceUnavailable("the job queue", error) from error
    return job


def start_region_zip(owner, region, branch_ids, language, start, end, title, period_name=None, file_dates=None,
                     checklist=None, previous_start=None):
    """Record the job and hand it to the queue; the page shows its progress. `period_name`: a calendar
    period's name ("October 2026"), which its reports carry; `file_dates`: the period in the reports'
    file names ("20261001-20261031", see reports.branch.branch_report_file_name); `checklist`: the
    reports.branch.ChosenChecklist whose visits alone the reports count (None: every visit);
    `previous_start`: where the period before begins, for the region report that opens the ZIP (its
    change against that period); without it, the ZIP holds the branch reports only."""
    # Cut to the column's size: a checklist's title in it made a long brand's and region's too long for
    # PostgreSQL (the file's name is cut shorter still, see views.reports.job_download).
    job = Job.create(kind="region_zip", owner=owner, total=len(branch_ids) + (previous_start is not None),
                     title=title[:Job.title.max_length], branch_ids=list(branch_ids))
    # The checklist goes to the queue as plain data, as the export's version ids do.
    return _start("region_zip", job, list(branch_ids), language, start.isoformat(), end.isoformat(), period_name,
                  file_dates, checklist._asdict() if checklist else None,
                  previous_start.isoformat() if previous_start is not None else None)


def start_xlsx_export(owner, branch_ids, language, start, end, with_shopper, title, version_ids=None):
    """Record an XLSX export of visits and answers and hand it to the queue.

    Two years of a 500-branch chain take about half a minute (XlsxWriter, bench/bench_exports.py):
    made in the request, the manager stared at a loading page, and a proxy or gunicorn's timeout
    could cut it off."""
    job = Job.create(kind="xlsx_export", owner=owner, title=title, branch_ids=list(branch_ids), with_shopper=with_shopper)
    return _start("xlsx_export", job, list(branch_ids), language, start.isoformat(), end.isoformat(), with_shopper,
                  version_ids)


def _mark(job_id, **fields):
    """Change a job's row; every change is also the worker's sign of life (Job.stopped)."""
    Job.update(updated_at=utcnow(), **fields).where(Job.id == job_id).execute()


# How long a failed job tries to say so while its database is away (a restart), in waits of seconds.
FAILED_MARK_WAITS = (0, 1, 2, 5, 10, 20, 30)


def _on_a_connection_of_its_own(change):
    """Run change() in a short thread with a connection and a transaction of its own: apart from the
    job's connection, which may be in a long read (an export's server-side cursor) or broken (the
    database restarted). Returns the database error it met, or None."""
    met = []

    def run():
        try:
            with database.connection_context():
                change()
        except (OperationalError, InterfaceError) as error:
            met.append(error)

    thread = threading.Thread(target=run, name="job-state")
    thread.start()
    thread.join()
    return met[0] if met else None


def _mark_failed(job_id):
    """Mark a job failed. The database may be what failed (a restart while the job ran): a new
    connection is tried until it answers, for a minute, so that the job's page says it failed as soon
    as the database is back, not after Job.stopped's ten silent minutes."""
    for wait in FAILED_MARK_WAITS:
        time.sleep(wait)
        error = _on_a_connection_of_its_own(lambda: _mark(job_id, status="failed"))
        if error is None:
            return
    log.error("Job %s failed, and the database did not answer to record it: %s", job_id, error)


@contextmanager
def _job_file(job):
    """The path a job writes its result to; the job is done when the block ends, failed if it raises.

    The file is written under a temporary name and renamed at the end, so a download never gets a
    half-written one, and a failed job leaves nothing behind."""
    app = _huey["app"]
    _mark(job.id, status="running")
    folder = os.path.join(app.config["MEDIA_DIR"], "exports")
    os.makedirs(folder, exist_ok=True)
    name = f"{job.uuid}.{JOB_FILE_EXTENSIONS[job.kind]}"
    partial = os.path.join(folder, name + PARTIAL_SUFFIX)
    try:
        yield partial
        os.replace(partial, os.path.join(folder, name))
    except Exception:
        if os.path.exists(partial):  # first: nothing half-made stays, whatever happens next
            os.remove(partial)
        _mark_failed(job.id)
        raise
    _mark(job.id, status="done", file_name=name, done=Job.total)


def _run_region_zip(job_uuid, branch_ids, language, start, end, period_name=None, file_dates=None, checklist=None,
                    previous_start=None):
    from .reports.branch import ChosenChecklist, branch_report_file_name, branch_report_pdf
    from .reports.region import ReportPeriod, region_report_file_name, region_report_pdf

    app = _huey["app"]
    checklist = ChosenChecklist(**checklist) if checklist else None
    slug = checklist and checklist.slug
    with app.app_context(), database.connection_context():
        started = time.monotonic()
        job = Job.get(Job.uuid == job_uuid)
        with _job_file(job) as path:
            # Each report goes into the archive as soon as it is made: memory stays one report deep.
            shared = {}  # what every report of the region has in common (the brand's averages)
            # The branches read whole first: a cursor left open over them kept SQLite's read snapshot,
            # and the progress written below then failed ("database is locked") as soon as anyone
            # else had saved anything meanwhile.
            branches = list(Branch.select().where(Branch.id.in_(branch_ids)).order_by(Branch.code))
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
                first = 0
                if previous_start is not None and branches:
                    # The region report first: the whole region and its ranking, then each branch's.
                    region = branches[0].region
                    period = ReportPeriod(datetime.fromisoformat(start), datetime.fromisoformat(end),
                                          datetime.fromisoformat(previous_start))
                    archive.writestr(region_report_file_name(region.id, file_dates, language, slug),
                                     region_report_pdf(region, branches, language, period, period_name, checklist))
                    first = 1
                    _mark(job.id, done=first)
                for done, branch in enumerate(branches, first + 1):
                    pdf = branch_report_pdf(branch, language, datetime.fromisoformat(start),
                                            datetime.fromisoformat(end), shared, period_name, checklist)
                    archive.writestr(branch_report_file_name(branch.code, file_dates, language, slug), pdf)
                    del pdf
                    # A WeasyPrint document is a web of reference cycles (boxes and their parents) that
                    # the generational collector reaches only now and then: collected after each
                    # report, the worker holds one report's garbage instead of dozens (-10 MB at 300).
                    gc.collect()
                    _mark(job.id, done=done)
        log.info("Region ZIP %s: %d reports in %.1f s, by process %d.", job_uuid, len(branch_ids) + first,
                 time.monotonic() - started, os.getpid())


def _run_xlsx_export(job_uuid, branch_ids, language, start, end, with_shopper, version_ids=None):
    from . import exports

    app = _huey["app"]
    start, end = datetime.fromisoformat(start), datetime.fromisoformat(end)
    with app.app_context(), database.connection_context():
        started = time.monotonic()
        job = Job.get(Job.uuid == job_uuid)
        total = exports.count_rows(branch_ids, start, end, version_ids)
        _mark(job.id, total=total)
        with _job_file(job) as path, open(path, "wb") as workbook, force_locale(language):
            visits, answers = exports.sheet_titles()
            exports.write_xlsx([
                (visits, exports.visit_rows(branch_ids, start, end, language, with_shopper, version_ids, for_people=True)),
                (answers, exports.answer_rows(branch_ids, start, end, language, version_ids, for_people=True,
                                             with_shopper=with_shopper)),
            ], workbook, progress=lambda done: _record_progress(job.id, done), every=PROGRESS_ROWS)
        log.info("XLSX export %s: %d rows in %.1f s, by process %d.", job_uuid, total, time.monotonic() - started,
                 os.getpid())


def _record_progress(job_id, done):
    # On PostgreSQL the rows are read inside one transaction (a server-side cursor), where an update
    # would stay unseen by the job's page until the export ends.
    error = _on_a_connection_of_its_own(lambda: _mark(job_id, done=done))
    if error is not None:
        raise error


def remove_expired_job_files():
    """Remove the files of jobs made more than JOB_FILES_KEEP_DAYS ago (their pages say so), and end
    the jobs whose worker was stopped (Job.stopped) with their half-written files. Returns how many
    jobs were expired or ended."""
    folder = os.path.join(_huey["app"].config["MEDIA_DIR"], "exports")
    now = utcnow()
    cutoff = now - timedelta(days=_huey["app"].config["JOB_FILES_KEEP_DAYS"])
    changed = 0
    for job in Job.select().where((Job.status == "done") & (Job.created_at < cutoff)):
        _remove(os.path.join(folder, job.file_name))
        Job.update(status="expired", file_name=None).where(Job.id == job.id).execute()
        changed += 1
    for job in Job.select().where(Job.status == "running"):
        if job.stopped:
            for extension in JOB_FILE_EXTENSIONS.values():
                _remove(os.path.join(folder, f"{job.uuid}.{extension}{PARTIAL_SUFFIX}"))
            Job.update(status="failed").where((Job.id == job.id) & (Job.status == "running")).execute()
            changed += 1
    return changed


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass  # removed by hand, or never written: the job ends all the same


def _remove_expired_job_files():
    with _huey["app"].app_context(), database.connection_context():
        changed = remove_expired_job_files()
    if changed:
        log.info("Expired or ended %d jobs and removed their files.", changed)
