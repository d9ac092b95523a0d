"""The domain tables on SQLite and PostgreSQL: constraints, named queries, migrations."""
import os
import sqlite3
from datetime import date, datetime, timedelta

import pytest
from peewee import IntegrityError

from audit import create_app
from audit.db import database
from audit.migrations import LATEST, current_version, migrate_database
from audit.models import (
    Action,
    Answer,
    Branch,
    Checklist,
    ChecklistVersion,
    Region,
    User,
    Visit,
    VisitState,
    utcnow,
)
from conftest import engine

HERE = os.path.dirname(__file__)


@pytest.fixture
def visit(db, org):
    checklist = Checklist.create(slug="mini")
    version = ChecklistVersion.create(
        checklist=checklist, number=1, is_published=True, content={"id": "mini"}, content_hash="x"
    )
    return Visit.create(
        branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
        planned_from=date.today(), planned_to=date.today() + timedelta(days=7),
    )


def test_database_engine_is_the_one_under_test(db):
    if engine() == "sqlite":
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 5000
    else:
        assert db.execute_sql("SHOW server_version").fetchone()[0].startswith(("15", "16", "17"))


def test_branch_codes_are_unique_within_a_region(db, org):
    with pytest.raises(IntegrityError):
        with db.atomic():
            Branch.create(region=org["regions"][0], code="BUD-01", name="Copy", address="x", city="y", country="HU")


def test_a_region_with_branches_cannot_be_deleted(db, org):
    with pytest.raises(IntegrityError):
        with db.atomic():
            Region.delete().where(Region.id == org["regions"][0].id).execute()
    assert Region.select().count() == 2


def test_one_answer_per_item_and_answers_go_with_their_visit(db, visit):
    Answer.create(visit=visit, item_id="greeted", value="yes")
    with pytest.raises(IntegrityError):
        with db.atomic():
            Answer.create(visit=visit, item_id="greeted", value="no")
    Visit.delete().where(Visit.id == visit.id).execute()
    assert Answer.select().count() == 0


def test_visit_uuid_is_unique(db, visit):
    with pytest.raises(IntegrityError):
        with db.atomic():
            Visit.create(uuid=visit.uuid, branch=visit.branch, checklist_version=visit.checklist_version,
                         shopper=visit.shopper, planned_from=date.today(), planned_to=date.today())


def test_json_content_round_trips_unicode(db, visit):
    text = {"en": "Greeting", "ru": "Приветствие", "ro": "Salutul și zâmbetul", "hu": "Köszöntés ő ű"}
    Answer.create(visit=visit, item_id="note", value=text)
    assert Answer.get(Answer.item_id == "note").value == text


def test_branch_summary_counts_only_approved_visits_in_the_period(db, visit, org):
    now = utcnow()
    visit.state, visit.ended_at, visit.score = VisitState.APPROVED.value, now, 80
    visit.save()
    for state, score, ended in [(VisitState.APPROVED.value, 60, now), (VisitState.SUBMITTED.value, 10, now),
                                (VisitState.APPROVED.value, 0, now - timedelta(days=400))]:
        Visit.create(branch=visit.branch, checklist_version=visit.checklist_version, shopper=visit.shopper,
                     planned_from=date.today(), planned_to=date.today(), state=state, score=score, ended_at=ended)
    summary = Visit.branch_summary([visit.branch.id], now - timedelta(days=30))
    count, mean, last = summary[visit.branch.id]
    assert count == 2
    assert float(mean) == pytest.approx(70.0)


def test_open_actions_of_a_branch_by_due_date(db, visit, org):
    manager = org["users"]["manager"]
    Action.create(branch=visit.branch, what="Train staff on greeting", owner="Store lead",
                  due_date=date.today() + timedelta(days=20), created_by=manager)
    Action.create(branch=visit.branch, what="Fix the queue sign", owner="Facilities",
                  due_date=date.today() + timedelta(days=5), created_by=manager)
    Action.create(branch=visit.branch, what="Done already", owner="x", status="done",
                  due_date=date.today(), created_by=manager)
    assert [a.what for a in Action.open_for_branch(visit.branch)] == ["Fix the queue sign", "Train staff on greeting"]


def test_migrating_a_current_database_changes_nothing(db):
    assert current_version() == LATEST
    assert migrate_database() == (LATEST, LATEST)


def test_old_schema_is_upgraded_in_place_keeping_its_rows(db, org):
    # Take the database back to schema version 1, then upgrade it.
    db.execute_sql('ALTER TABLE "user" DROP COLUMN session_epoch')
    for column in ("checkin_distance_m", "draft", "submission_hash", "review_comment", "original_score"):
        db.execute_sql(f"ALTER TABLE visit DROP COLUMN {column}")
    for column in ("section_id", "dimension", "original_value", "correction_reason"):
        db.execute_sql(f"ALTER TABLE answer DROP COLUMN {column}")
    db.execute_sql("DROP TABLE visit_score")
    db.execute_sql("DROP TABLE visit_event")
    db.execute_sql("DROP TABLE job")
    db.execute_sql("DROP TABLE audit_entry")
    db.execute_sql("UPDATE schema_version SET version = 1")
    assert migrate_database() == (1, LATEST)
    manager = User.get(User.email == "manager@example.com")
    assert manager.session_epoch == 0
    assert manager.region_ids() == {org["regions"][0].id}


def test_visits_sent_before_version_4_get_the_section_results_the_dashboards_read(db, org):
    # Version 4 began storing per-section and per-dimension results and each answer's section; the
    # visits a version 3 release had sent must show in the section figures and the export after the upgrade.
    from audit.models import VisitScore
    from audit.operations import publish_checklist_file, score_and_store_answers

    version, _ = publish_checklist_file(os.path.join(HERE, "data", "checklists", "full.yaml"))
    visit = Visit.create(branch=org["branches"][0], checklist_version=version, shopper=org["users"]["shopper"],
                         planned_from=date.today(), planned_to=date.today(), state="approved")
    score_and_store_answers(visit, {"greeted": "yes", "wait": "120", "offer": "asked", "knowledge": "4"})
    results = sorted((row.kind, row.key, row.percent) for row in VisitScore.select())
    sections = sorted((a.item_id, a.section_id, a.dimension, a.earned) for a in Answer.select())
    score = Visit.get_by_id(visit.id).score
    assert ("section", "advice") in {(kind, key) for kind, key, _ in results}
    # Back to version 3: no stored results, no section on the answers.
    for column in ("section_id", "dimension", "original_value", "correction_reason"):
        db.execute_sql(f"ALTER TABLE answer DROP COLUMN {column}")
    db.execute_sql("ALTER TABLE visit DROP COLUMN original_score")
    for table in ("visit_score", "visit_event", "job", "audit_entry"):
        db.execute_sql(f"DROP TABLE {table}")
    db.execute_sql("UPDATE schema_version SET version = 3")
    assert migrate_database() == (3, LATEST)
    assert sorted((row.kind, row.key, row.percent) for row in VisitScore.select()) == results
    assert sorted((a.item_id, a.section_id, a.dimension, a.earned) for a in Answer.select()) == sections
    assert Visit.get_by_id(visit.id).score == score


def test_a_version_8_database_gets_the_jobs_sign_of_life(db, org):
    from audit.models import Job

    Job.create(kind="region_zip", owner=org["users"]["manager"], total=3, title="Hungary")
    db.execute_sql("ALTER TABLE job DROP COLUMN updated_at")
    db.execute_sql("UPDATE schema_version SET version = 8")
    assert migrate_database() == (8, LATEST)
    assert "updated_at" in {column.name for column in db.get_columns("job")}
    assert [(job.title, job.updated_at, job.stopped) for job in Job.select()] == [("Hungary", None, False)]


def test_a_version_9_database_gets_the_visits_clock_shift(db, visit):
    db.execute_sql("ALTER TABLE visit DROP COLUMN clock_shift_s")
    db.execute_sql("UPDATE schema_version SET version = 9")
    assert migrate_database() == (9, LATEST)
    assert [(v.id, v.branch_id, v.clock_shift_s) for v in Visit.select()] == [(visit.id, visit.branch_id, None)]


def test_a_version_16_database_keeps_its_history_and_gets_room_for_the_corrected_answers(db, visit):
    from audit.models import VisitEvent

    VisitEvent.create(visit=visit, from_state="submitted", to_state="submitted", comment="greeted: Seen on CCTV.")
    db.execute_sql("ALTER TABLE visit_event DROP COLUMN details")
    db.execute_sql("UPDATE schema_version SET version = 16")
    assert migrate_database() == (16, LATEST)
    assert [(event.comment, event.details) for event in VisitEvent.select()] == [("greeted: Seen on CCTV.", None)]


def test_an_old_sqlite_file_is_upgraded_by_init_db(tmp_path):
    path = tmp_path / "old.sqlite3"
    with open(os.path.join(HERE, "data", "audit-schema-v1.sql"), encoding="utf-8") as f:
        con = sqlite3.connect(path)
        con.executescript(f.read())
        con.close()
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{path}",
                      "MEDIA_DIR": str(tmp_path / "media")})
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert f"Upgraded the database from schema version 1 to {LATEST}." in result.output
    with database.connection_context():
        user = User.get(User.email == "old.manager@example.com")
        assert (user.name, user.session_epoch) == ("Régi Menedzser", 0)
        assert Branch.get(Branch.code == "BUD-01").name == "Aurora Váci utca"
        columns = {c.name for c in database.get_columns("visit")}
        assert {"checkin_distance_m", "draft", "submission_hash", "review_comment", "original_score"} <= columns
        assert "visit_event" in database.get_tables() and "visit_score" in database.get_tables()
    again = app.test_cli_runner().invoke(args=["init-db"])
    assert f"The database is up to date (schema version {LATEST})." in again.output


def test_id_in_writes_the_sql_and_parameters_peewee_writes_and_finds_the_same_rows(db, org, visit):
    from audit.db import id_in

    branch_ids = [b.id for b in org["branches"]]
    ours = Visit.select().where(id_in(Visit.branch, branch_ids + [10**6]) & (Visit.state == "assigned"))
    peewees = Visit.select().where(Visit.branch.in_(branch_ids + [10**6]) & (Visit.state == "assigned"))
    assert ours.sql() == peewees.sql()
    assert [v.id for v in ours] == [v.id for v in peewees] == [visit.id]
    assert list(Visit.select().where(id_in(Visit.branch, []))) == []  # never true, as peewee's empty IN
    assert Branch.select().where(id_in(Branch.id, (str(b.id) for b in org["branches"]))).count() == len(branch_ids)


def test_a_prepared_query_returns_what_the_peewee_query_returns(db, org, visit):
    from audit.db import Prepared

    by_email = Prepared(lambda email: User.select().where(User.email == email))
    shopper = org["users"]["shopper"]
    found = by_email.first("shopper@example.com")
    assert (found.id, found.name, found.created_at) == (shopper.id, shopper.name, User.get_by_id(shopper.id).created_at)
    # Later runs reuse the first run's matching of columns to fields, and still build the right rows.
    manager = by_email.first("manager@example.com")
    assert (manager.id, manager.role, manager.created_at) == (org["users"]["manager"].id, "manager",
                                                               User.get_by_id(manager.id).created_at)
    # Joined models come back as peewee builds them, with values converted from the column types.
    loaded = Visit.by_uuid(visit.uuid)
    assert loaded.id == visit.id and loaded.branch.name == "Aurora Váci utca"
    assert "region" in loaded.branch.__rel__  # joined, not loaded lazily
    assert loaded.branch.region.brand.name == "Aurora Electronics" and loaded.planned_from == date.today()
    assert Visit.by_uuid("8d7c1e0a-0000-4000-8000-000000000000") is None
    assert Visit.by_uuid("not a uuid") is None
    # The shopper's read joins the branch only; its region still loads when asked for.
    lean = Visit.by_uuid(str(visit.uuid), with_region=False)
    assert (lean.id, lean.branch.name, lean.planned_from) == (visit.id, "Aurora Váci utca", date.today())
    assert "region" not in lean.branch.__rel__
    assert lean.branch.region.brand.name == "Aurora Electronics"
    again = Visit.by_uuid(str(visit.uuid), with_region=False)
    assert (again.id, again.branch.city, again.planned_to, again.state) == (visit.id, lean.branch.city, lean.planned_to,
                                                                            "assigned")
    assert Visit.by_uuid("not a uuid", with_region=False) is None


def test_a_prepared_query_binds_values_as_parameters_and_is_compiled_once(db, org):
    from audit.db import Prepared

    built = []

    def build(email, role):
        built.append(1)
        return User.select(User.name).where((User.email == email) & (User.role == role)).tuples()

    query = Prepared(build)
    assert query.first("shopper@example.com", "shopper") == ("Sara Shopper",)
    # A value is data, never SQL: a quote cannot widen the match.
    assert query.first("x' OR '1'='1", "shopper") is None
    assert list(query.rows("manager@example.com", "shopper")) == []
    assert len(built) == 1
    with pytest.raises(TypeError):
        query.first("shopper@example.com")


def test_a_version_10_database_records_which_jobs_files_may_hold_shoppers_names(db, org):
    """Before version 11 a job did not record what its file holds: an export made by someone who is
    an auditor is taken to hold shoppers' names, so that it does not reach them as a manager later."""
    from audit.models import Job

    Job.create(kind="xlsx_export", owner=org["users"]["auditor"], title="All")
    Job.create(kind="xlsx_export", owner=org["users"]["manager"], title="Hungary")
    Job.create(kind="region_zip", owner=org["users"]["auditor"], total=3, title="Hungary")
    db.execute_sql("ALTER TABLE job DROP COLUMN branch_ids")
    db.execute_sql("ALTER TABLE job DROP COLUMN with_shopper")
    db.execute_sql("UPDATE schema_version SET version = 10")
    assert migrate_database() == (10, LATEST)
    assert [(job.kind, job.owner_id, job.with_shopper, job.branch_ids) for job in Job.select().order_by(Job.id)] == [
        ("xlsx_export", org["users"]["auditor"].id, True, None),
        ("xlsx_export", org["users"]["manager"].id, False, None),
        ("region_zip", org["users"]["auditor"].id, False, None)]


def test_a_version_12_database_gets_the_phones_sending_times(db, org, visit):
    """Visits sent before keep their phone's end time, taken from their times as stored and back on
    the phone's clock where it was moved; visits not sent have none."""
    sent_at = datetime(2026, 11, 2, 10, 5)
    Visit.update(ended_at=datetime(2026, 11, 2, 10, 0), clock_shift_s=-3600, state="submitted",
                 submitted_at=sent_at).where(Visit.id == visit.id).execute()
    other = Visit.create(branch=visit.branch, checklist_version=visit.checklist_version, shopper=visit.shopper,
                         planned_from=visit.planned_from, planned_to=visit.planned_to, state="returned",
                         ended_at=datetime(2026, 11, 3, 8, 0), submitted_at=sent_at)
    unsent = Visit.create(branch=visit.branch, checklist_version=visit.checklist_version, shopper=visit.shopper,
                          planned_from=visit.planned_from, planned_to=visit.planned_to)
    for column in ("phone_ended_at", "phone_changed_at"):
        db.execute_sql(f"ALTER TABLE visit DROP COLUMN {column}")
    db.execute_sql('ALTER TABLE "user" DROP COLUMN checklist_language')
    db.execute_sql("UPDATE schema_version SET version = 12")
    assert migrate_database() == (12, LATEST)
    assert {v.id: (v.phone_ended_at, v.phone_changed_at) for v in Visit.select()} == {
        visit.id: (datetime(2026, 11, 2, 9, 0), None), other.id: (datetime(2026, 11, 3, 8, 0), None),
        unsent.id: (None, None)}
    assert User.get_by_id(org["users"]["shopper"].id).checklist_language is None


def test_a_version_13_database_gets_the_checklists_client(db, visit):
    from peewee import SqliteDatabase

    db.execute_sql("DROP INDEX IF EXISTS checklist_brand_id")
    if isinstance(db.obj, SqliteDatabase):  # SQLite drops no column a foreign key names: the table as v13 had it
        db.execute_sql("PRAGMA foreign_keys = OFF")
        db.execute_sql("CREATE TABLE checklist_v13 AS SELECT id, slug, created_at FROM checklist")
        db.execute_sql("DROP TABLE checklist")
        db.execute_sql("ALTER TABLE checklist_v13 RENAME TO checklist")
        db.execute_sql("PRAGMA foreign_keys = ON")
    else:
        db.execute_sql("ALTER TABLE checklist DROP COLUMN brand_id")
    db.execute_sql("UPDATE schema_version SET version = 13")
    assert migrate_database() == (13, LATEST)
    assert [(c.slug, c.brand_id) for c in Checklist.select()] == [("mini", None)]
    assert Checklist.get(Checklist.slug == "mini").is_for(visit.branch.region.brand_id)


def test_a_version_14_database_counts_every_account_as_having_its_password(db, org):
    """The hash does not tell an invitation's unknown password from a chosen one: no account of an
    older database is listed as invited (nor offered a link it does not need)."""
    from audit import password_links

    invited = User.create(email="invited@example.com", name="Invited", role="shopper",
                          password_hash=password_links.unusable_password())
    db.execute_sql("DROP INDEX IF EXISTS user_import_batch")
    for column in ("password_set_at", "import_batch"):
        db.execute_sql(f'ALTER TABLE "user" DROP COLUMN {column}')
    db.execute_sql("UPDATE schema_version SET version = 14")
    assert migrate_database() == (14, LATEST)
    accounts = list(User.select().order_by(User.id))
    assert len(accounts) == 6 and all(u.password_set_at == u.created_at and u.import_batch is None for u in accounts)
    assert list(User.awaiting_password()) == []
    assert "user_import_batch" in {index.name for index in db.get_indexes("user")}
    # The new accounts after it wait as they should.
    User.update(password_set_at=None, import_batch="b1").where(User.id == invited.id).execute()
    assert [u.email for u in User.awaiting_password("b1")] == ["invited@example.com"]


def test_a_checklist_keeps_its_dimensions_in_the_order_its_author_wrote_them(db, org):
    """Stored with its keys sorted, the retail checklist's care, politeness, honesty... came back as
    accessibility, care, friendliness...: the order every report and the file export then listed."""
    import yaml

    from audit import ROOT
    from audit.checklist import dump_checklist_yaml
    from audit.operations import publish_checklist_file

    path = f"{ROOT}/checklists/retail-store-visit.yaml"
    with open(path, encoding="utf-8") as file:
        written = list(yaml.safe_load(file)["dimensions"])
    assert written != sorted(written)
    version, _created = publish_checklist_file(path)
    stored = ChecklistVersion.get_by_id(version.id).content  # read back from the database
    assert list(stored["dimensions"]) == written
    assert list(yaml.safe_load(dump_checklist_yaml(stored))["dimensions"]) == written


def test_a_version_15_database_shows_every_photo_in_the_reports(db, visit):
    """No reviewer had left any photo out before: every photo of an older database stays in the reports."""
    from audit.models import Evidence

    Evidence.create(visit=visit, item_id="greeted", client_id="old-photo", file_name="old.png", sha256="0" * 64,
                    width=4, height=4)
    db.execute_sql("ALTER TABLE evidence DROP COLUMN hidden_from_reports")
    db.execute_sql("UPDATE schema_version SET version = 15")
    assert migrate_database() == (15, LATEST)
    assert [(e.client_id, e.hidden_from_reports) for e in Evidence.select()] == [("old-photo", False)]
    assert Evidence.select().where(Evidence.in_reports()).count() == 1
