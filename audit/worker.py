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

from . import create_app
from .config import ConfigError

# How long an idle worker waits at most between two looks at the queue. huey's default backs off to
# 10 s, fine for a region's ZIP of minutes, but a small XLSX export made in a second then waited up
# to ten for its start (bench/bench_job_latency.py). A look at the SQLite queue costs a query; Redis
# queues are not polled (huey waits on the list).
IDLE_POLL_SECONDS = 1.0


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(processName)s %(name)s %(levelname)s %(message)s")
    try:
        app = create_app()
    except ConfigError as error:
        sys.exit(f"Configuration error: {error}")  # a setting to correct: its message, not a traceback
    consumer = app.extensions["huey"].create_consumer(workers=1, periodic=True, worker_type="process", max_tasks=1,
                                                      health_check_interval=1, max_delay=IDLE_POLL_SECONDS)
    consumer.run()


if __name__ == "__main__":
    main()
