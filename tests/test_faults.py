"""Fault injection: submissions sent while the real server (gunicorn) is SIGKILLed and restarted are
each stored exactly once and whole, on SQLite and on PostgreSQL (AUDIT_TEST_PG_URL).

Run with -s to see the figures: .venv/bin/python -m pytest -q -p no:logging -s tests/test_faults.py
"""
import os
import queue
import random
import shlex
import subprocess
import threading
import time
import uuid

import pytest
from peewee import fn

from audit.db import database
from audit.demo import load_demo
from audit.models import Answer, Evidence, Visit, VisitEvent, VisitScore, VisitState

from conftest import engine
from faults_support import Outbox, Server, Tally, free_port, make_visits

VISITS = 200
CLIENTS = 4
KILLS = 3
LOAD_SECONDS = 60  # the whole send-and-kill phase must finish within this; the test fails otherwise


def _server_env(app_config, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("AUDIT_DEMO", "FLASK_DEBUG", "REDIS_URL")}
    env.update({
        "DATABASE_URL": app_config["DATABASE_URL"],
        "MEDIA_DIR": app_config["MEDIA_DIR"],
        "SECRET_KEY": "fault-test-secret",  # the same key for every start: sessions survive a restart
        "SESSION_COOKIE_SECURE": "0",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "1024",
        "AUDIT_INSTANCE": str(tmp_path / "instance"),
    })
    return env


def _kill_points(rng, total):
    """One random number of finished submissions in each third of 10%..85%: every kill lands mid-run."""
    low, high = int(total * 0.10), int(total * 0.85)
    width = (high - low) // KILLS
    return [rng.randint(low + i * width, low + (i + 1) * width - 1) for i in range(KILLS)]


def _stored_figures(uuids, answers):
    """What the database holds for the sent visits, counted per visit."""
    visits = list(Visit.select(Visit.id, Visit.state, Visit.score, Visit.submission_hash)
                  .where(Visit.uuid.in_([uuid.UUID(u) for u in uuids])))
    ids = [v.id for v in visits]
    items = {}
    for visit_id, item_id in Answer.select(Answer.visit, Answer.item_id).where(Answer.visit.in_(ids)).tuples():
        items.setdefault(visit_id, []).append(item_id)
    events = dict(VisitEvent.select(VisitEvent.visit, fn.COUNT(VisitEvent.id))
                  .where(VisitEvent.visit.in_(ids) & (VisitEvent.to_state == VisitState.SUBMITTED.value))
                  .group_by(VisitEvent.visit).tuples())
    scores = dict(VisitScore.select(VisitScore.visit, fn.COUNT(VisitScore.id))
                  .where(VisitScore.visit.in_(ids)).group_by(VisitScore.visit).tuples())
    expected = sorted(answers)
    lost, half_written, duplicates, wrong = [], [], [], []
    for visit in visits:
        stored = sorted(items.get(visit.id, []))
        if visit.state != VisitState.SUBMITTED.value:
            lost.append(visit.id)
            if stored or visit.score is not None or scores.get(visit.id) or events.get(visit.id):
                half_written.append(visit.id)  # open, yet some of the submission was kept
        elif stored != expected or visit.score is None or not scores.get(visit.id):
            half_written.append(visit.id)
        if events.get(visit.id, 0) > 1 or len(stored) != len(set(stored)):
            duplicates.append(visit.id)
        if visit.state == VisitState.SUBMITTED.value and not visit.submission_hash:
            wrong.append(visit.id)
    return {
        "found": len(visits),
        "submitted": sum(v.state == VisitState.SUBMITTED.value for v in visits),
        "still_open": sum(v.state in (VisitState.ASSIGNED.value, VisitState.DRAFT.value) for v in visits),
        "answers_total": sum(len(v) for v in items.values()),
        "distinct_hashes": len({v.submission_hash for v in visits}),
        "lost": lost, "half_written": half_written, "duplicates": duplicates, "without_hash": wrong,
    }


PHOTO_ITEM = "shop_front"


def _photo():
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), "#3a6ea5").save(buffer, "JPEG")
    return buffer.getvalue()


PHOTO = _photo()


@pytest.mark.restarts_postgresql
def test_submissions_survive_sigkill_of_the_server(app, app_config, tmp_path, record_property):
    started = time.monotonic()
    with app.app_context(), database.connection_context():
        load_demo()
        with database.atomic():
            uuids, answers = make_visits(VISITS)
    payload = {"answers": answers, "comments": {}, "photos": {}}
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)

    server = Server(free_port(), _server_env(app_config, tmp_path), tmp_path / "gunicorn.log")
    tally, stop, work = Tally(), threading.Event(), queue.Queue()
    for visit_id in uuids:
        work.put(visit_id)
    finished, failures, kills, database_restarts = [], [], 0, 0
    deadline = time.monotonic() + LOAD_SECONDS

    def phone():
        outbox = Outbox(server.url, tally, deadline, stop)
        try:
            outbox.sign_in()
            while True:
                try:
                    visit_id = work.get_nowait()
                except queue.Empty:
                    return
                # The photo first, one upload on its own (as the phone's outbox does), then the answers.
                photo_id = outbox.upload_photo(visit_id, PHOTO_ITEM, PHOTO)
                visit_payload = {**payload, "photos": {PHOTO_ITEM: [photo_id]}}
                finished.append((visit_id, outbox.send(visit_id, visit_payload)))  # list.append is atomic
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            failures.append(repr(error))

    load_started = time.monotonic()
    try:
        server.start()
        phones = [threading.Thread(target=phone, daemon=True) for _ in range(CLIENTS)]
        for thread in phones:
            thread.start()
        for point in _kill_points(rng, VISITS):
            while len(finished) < point and any(t.is_alive() for t in phones) and time.monotonic() < deadline:
                time.sleep(0.002)
            if len(finished) >= VISITS or not any(t.is_alive() for t in phones):
                break
            time.sleep(rng.uniform(0, 0.15))  # somewhere inside the next requests
            server.kill()
            kills += 1
            time.sleep(rng.uniform(0, 0.5))  # down for a moment: clients meet refused connections
            server.start()
            if engine() == "postgresql" and kills == 2:
                # Also drop every database connection under the running app: restart PostgreSQL.
                subprocess.run(shlex.split(os.environ["AUDIT_TEST_PG_RESTART"]), check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                database_restarts += 1
        for thread in phones:
            thread.join(max(0.0, deadline - time.monotonic()) + 5)
    finally:
        stop.set()
        if server.process is not None:
            server.kill()
    load_seconds = time.monotonic() - load_started

    with database.connection_context():
        stored = _stored_figures(uuids, answers)
    log = (tmp_path / "gunicorn.log").read_text()
    figures = {
        "engine": engine(), "seed": seed, "kills": kills, "database_restarts": database_restarts,
        "submissions": stored["submitted"],
        "attempts": tally["attempts"], "received_201": tally["status_201"], "already_200": tally["status_200"],
        "connection_errors": tally["connection_errors"], "reauth": tally["reauth_400"] + tally["reauth_401"],
        "http_500": tally["http_500"], "database_locked": tally["database_locked"],
        "duplicates": len(stored["duplicates"]), "lost": len(stored["lost"]),
        "half_written": len(stored["half_written"]), "answers_total": stored["answers_total"],
        "log_tracebacks": log.count("Traceback"), "load_seconds": round(load_seconds, 1),
        "total_seconds": round(time.monotonic() - started, 1),
    }
    for key, value in figures.items():
        record_property(f"faults_{key}", value)
    print(
        f"\nfaults[{figures['engine']}, seed {seed}]: {kills} kills, {database_restarts} database restarts, "
        f"{stored['submitted']} submissions, "
        f"{figures['attempts']} attempts ({figures['received_201']}x201, {figures['already_200']}x200), "
        f"{tally['photo_attempts']} photo uploads, "
        f"{figures['connection_errors']} connection errors, {figures['reauth']} re-auths, "
        f"{figures['duplicates']} duplicates, {figures['lost']} lost, {figures['half_written']} half-written, "
        f"{figures['answers_total']} answers, {figures['http_500']} HTTP 500, "
        f"{figures['database_locked']} 'database is locked', load {figures['load_seconds']}s, "
        f"total {figures['total_seconds']}s"
    )

    context = f"figures={figures} problems={tally.problems[:5]} failures={failures[:5]}"
    assert not failures, context
    assert kills == KILLS, context
    assert database_restarts == (1 if engine() == "postgresql" else 0), context
    assert len(finished) == VISITS and all(status in (200, 201) for _, status in finished), context
    assert not tally.problems, context
    assert tally["http_500"] == 0 and tally["database_locked"] == 0, context
    assert "database is locked" not in log and "Traceback" not in log, log[-3000:]
    assert stored["found"] == VISITS, context
    assert stored["submitted"] == VISITS and stored["still_open"] == 0, f"lost {stored['lost'][:10]}; {context}"
    assert not stored["half_written"], f"half-written {stored['half_written'][:10]}; {context}"
    assert not stored["duplicates"], f"duplicated {stored['duplicates'][:10]}; {context}"
    assert not stored["without_hash"] and stored["distinct_hashes"] == VISITS, context  # each has its own photo
    assert stored["answers_total"] == VISITS * len(answers), context
    with database.connection_context():
        photos = list(Evidence.select(Evidence.visit, Evidence.file_name))
    media = os.path.join(app_config["MEDIA_DIR"], "photos")
    assert len(photos) == VISITS and len({p.visit_id for p in photos}) == VISITS, context  # one each, none twice
    assert all(os.path.getsize(os.path.join(media, p.file_name)) > 0 for p in photos), context
    # Each 201 is one stored submission; more 201s than visits would mean a visit was taken twice.
    assert figures["received_201"] <= VISITS, context
