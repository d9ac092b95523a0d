"""The background worker: `python -m audit.worker` runs the huey consumer for the configured app.

Each job runs in a child process forked for it, which ends with the job (huey's process workers with
max_tasks=1). WeasyPrint keeps about 20 KB of native memory per PDF that no garbage collection gives
back (2 MB per 100 reports, bench/bench_zip_memory.py): a long-lived worker would grow by a region's
worth with every ZIP, month after month. The consumer process itself never renders a report, so it
stays the size it started at, and the next child is forked within a second (health_check_interval).
The consumer also runs the periodic task that removes expired job files (tasks.py), once an hour.
The price: a child's first report sets up its fonts again, about 2 s a job, against minutes for a
region (bench/bench_worker_memory.py).
"""
import logging
import sys
import time

from . import create_app
from .config import ConfigError

# How long an idle worker waits at most between two looks at the queue. huey's default backs off to
# 10 s, fine for a region's ZIP of minutes, but a small XLSX export made in a second then waited up
# to ten for its start (bench/bench_job_latency.py). A look at the SQLite queue costs a query; Redis
# queues are not polled (huey waits on the list).
IDLE_POLL_SECONDS = 1.0


# The same error again within this many seconds is counted, not written: with Redis away, huey's
# consumer logged a traceback a second (1,300 lines in 7 s), and the one line that says so got lost.
REPEATS_HELD_SECONDS = 60


class WorkerLog(logging.Filter):
    """The worker's log as an operator reads it: a job's process ending is news only as INFO (one per
    job, by design: see above), and an error repeated every second is written once a minute, with how
    many times it came meanwhile."""

    ENDED = "Worker %d died, restarting."

    def __init__(self):
        super().__init__()
        self.held = {}  # (logger, message) -> [when last written, repeats since]

    def filter(self, record):
        if record.msg == self.ENDED:
            record.msg = "Job process %d ended with its job; a new one takes the next."
            record.levelno, record.levelname = logging.INFO, "INFO"
            return True
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.msg)
        now = time.monotonic()
        written = self.held.get(key)
        if written and now - written[0] < REPEATS_HELD_SECONDS:
            written[1] += 1
            return False
        if written and written[1]:
            record.msg = f"{record.msg} (and {written[1]} times more in the last {REPEATS_HELD_SECONDS} s)"
        self.held[key] = [now, 0]
        return True


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(processName)s %(name)s %(levelname)s %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(WorkerLog())
    # WeasyPrint says each font and stylesheet it reads: seven lines a report, 3,500 a region's ZIP.
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    try:
        app = create_app()
    except ConfigError as error:
        sys.exit(f"Configuration error: {error}")  # a setting to correct: its message, not a traceback
    consumer = app.extensions["huey"].create_consumer(workers=1, periodic=True, worker_type="process", max_tasks=1,
                                                      health_check_interval=1, max_delay=IDLE_POLL_SECONDS)
    consumer.run()


if __name__ == "__main__":
    main()
