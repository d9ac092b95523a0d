"""Long jobs outside the request, with huey: a region's ZIP of branch reports.

Storage: SQLite beside the app database (nothing to install), Redis when REDIS_URL is set (several
machines), and immediate mode in tests. The worker is `python -m audit.worker`; `make run` starts it.
"""
import gc
import logging
import os
import time
import zipfile

from huey import MemoryHuey, RedisHuey, SqliteHuey

from .db import database
from .models import Branch, Job

log = logging.getLogger(__name__)

_huey = {"instance": None, "app": None, "region_zip": None}


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
    return huey


def queue():
    return _huey["instance"]


def start_region_zip(owner, region, branch_ids, language, start, end, days, title):
    """Record the job and hand it to the queue; the page shows its progress."""
    job = Job.create(kind="region_zip", owner=owner, total=len(branch_ids), title=title)
    _huey["region_zip"](str(job.uuid), list(branch_ids), language, start.isoformat(), end.isoformat(), days)
    return job


def _run_region_zip(job_uuid, branch_ids, language, start, end, days):
    from datetime import datetime

    from .reports.branch import branch_report_pdf

    app = _huey["app"]
    with app.app_context(), database.connection_context():
        started = time.monotonic()
        job = Job.get(Job.uuid == job_uuid)
        Job.update(status="running").where(Job.id == job.id).execute()
        folder = os.path.join(app.config["MEDIA_DIR"], "exports")
        os.makedirs(folder, exist_ok=True)
        name = f"{job_uuid}.zip"
        try:
            # Each report goes into the archive as soon as it is made: memory stays one report deep.
            shared = {}  # what every report of the region has in common (the brand's averages)
            with zipfile.ZipFile(os.path.join(folder, name), "w", zipfile.ZIP_DEFLATED) as archive:
                for done, branch in enumerate(Branch.select().where(Branch.id.in_(branch_ids)).order_by(Branch.code), 1):
                    pdf = branch_report_pdf(branch, language, datetime.fromisoformat(start),
                                            datetime.fromisoformat(end), days, shared)
                    archive.writestr(f"{branch.code}-{language}.pdf", pdf)
                    del pdf
                    # A WeasyPrint document is a web of reference cycles (boxes and their parents) that
                    # the generational collector reaches only now and then: collected after each
                    # report, the worker holds one report's garbage instead of dozens (-10 MB at 300).
                    gc.collect()
                    Job.update(done=done).where(Job.id == job.id).execute()
        except Exception:
            Job.update(status="failed").where(Job.id == job.id).execute()
            raise
        Job.update(status="done", file_name=name).where(Job.id == job.id).execute()
        log.info("Region ZIP %s: %d reports in %.1f s, by process %d.", job_uuid, len(branch_ids),
                 time.monotonic() - started, os.getpid())
