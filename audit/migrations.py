"""Schema versions: a new database gets the current tables; an older one is upgraded in place."""
from datetime import timedelta

import click
from peewee import SqliteDatabase, fn

from .db import database, write_transaction
from .models import ALL_MODELS, SchemaVersion


def _v2_session_epoch_and_checkin_distance():
    # v2: ending every session of an account, and the check-in distance the reviewer sees.
    # Plain DDL that SQLite and PostgreSQL both accept; SQLite needs no table rebuild for it.
    database.execute_sql('ALTER TABLE "user" ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0')
    database.execute_sql("ALTER TABLE visit ADD COLUMN checkin_distance_m REAL")


def _v3_shopper_drafts_and_submissions():
    # v3: the shopper's server-side draft, the hash of the accepted submission, the reviewer's comment.
    database.execute_sql("ALTER TABLE visit ADD COLUMN draft TEXT")
    database.execute_sql("ALTER TABLE visit ADD COLUMN submission_hash VARCHAR(64)")
    database.execute_sql("ALTER TABLE visit ADD COLUMN review_comment TEXT NOT NULL DEFAULT ''")


def _v4_review_and_stored_results():
    # v4: per-section/dimension results stored for SQL aggregates, review history, corrections.
    from .models import VisitEvent, VisitScore

    database.execute_sql("ALTER TABLE answer ADD COLUMN section_id VARCHAR(80)")
    database.execute_sql("ALTER TABLE answer ADD COLUMN dimension VARCHAR(80)")
    database.execute_sql("ALTER TABLE answer ADD COLUMN original_value TEXT")
    database.execute_sql("ALTER TABLE answer ADD COLUMN correction_reason TEXT NOT NULL DEFAULT ''")
    database.execute_sql("ALTER TABLE visit ADD COLUMN original_score NUMERIC(7, 4)")
    # New tables as they are at version 4; later changes to them get their own steps.
    database.create_tables([VisitScore, VisitEvent])


def _v5_jobs():
    # v5: background jobs with progress.
    from .models import Job

    database.create_tables([Job])


def _v6_audit_log():
    # v6: the audit log of who changed what.
    from .models import AuditEntry

    database.create_tables([AuditEntry])


def _v7_covering_indexes():
    # v7: dashboards at tens of thousands of visits. The aggregates are driven by the visit index and
    # read answers and section/dimension results from covering indexes; the single-column visit
    # indexes were redundant with the (visit, ...) ones, and nothing filters results by kind alone.
    for statement in (
        "DROP INDEX IF EXISTS answer_visit_id",
        "DROP INDEX IF EXISTS visit_score_visit_id",
        "DROP INDEX IF EXISTS visit_score_kind_key",
        "CREATE INDEX IF NOT EXISTS answer_visit_id_item_id_earned_possible"
        " ON answer (visit_id, item_id, earned, possible)",
        "CREATE INDEX IF NOT EXISTS visit_score_visit_id_kind_key_percent ON visit_score (visit_id, kind, key, percent)",
    ):
        database.execute_sql(statement)


def _v8_no_answer_index_by_item():
    # v8: nothing looks answers up by item alone, and that index cost half of a 250-item submission:
    # its 250 new entries land all over it, so each commit wrote ~a hundred scattered pages to the WAL
    # (and checkpoints copied them back). Every index left on answer leads with the visit.
    database.execute_sql("DROP INDEX IF EXISTS answer_item_id")


def _v9_job_heartbeat():
    # v9: when a job last changed, to tell one still running from one whose worker was stopped.
    # Step 5 creates the job table from the current model, so on a database older than 5 the
    # column is there already.
    if "updated_at" not in {column.name for column in database.get_columns("job")}:
        database.execute_sql("ALTER TABLE job ADD COLUMN updated_at TIMESTAMP")


def _v10_visit_clock_shift():
    # v10: how far a visit's times were moved because the shopper's phone clock was wrong.
    if "clock_shift_s" not in {column.name for column in database.get_columns("visit")}:
        database.execute_sql("ALTER TABLE visit ADD COLUMN clock_shift_s BIGINT")


def _v11_job_scope():
    # v11: what a job's file holds (its branches, shoppers' names or not), checked when it is read.
    # An export made before by someone who is an auditor now may hold names: said so, to be safe.
    columns = {column.name for column in database.get_columns("job")}
    if "branch_ids" not in columns:
        database.execute_sql("ALTER TABLE job ADD COLUMN branch_ids TEXT")
    if "with_shopper" not in columns:
        database.execute_sql("ALTER TABLE job ADD COLUMN with_shopper BOOLEAN NOT NULL DEFAULT FALSE")
        database.execute_sql("UPDATE job SET with_shopper = TRUE WHERE kind = 'xlsx_export'"
                             " AND owner_id IN (SELECT id FROM \"user\" WHERE role = 'auditor')")


def _v12_answer_failed():
    # v12: a checklist item may set a pass mark (scoring), so whether an answer failed is stored with
    # it. Every answer before had the one rule, "earned less than possible"; the covering index holds
    # the new column, which the dashboards' "failed most often" reads.
    columns = {column.name for column in database.get_columns("answer")}
    if "failed" not in columns:
        database.execute_sql("ALTER TABLE answer ADD COLUMN failed BOOLEAN")
        database.execute_sql("UPDATE answer SET failed = (earned < possible) WHERE possible IS NOT NULL")
    for statement in (
        "DROP INDEX IF EXISTS answer_visit_id_item_id_earned_possible",
        "CREATE INDEX IF NOT EXISTS answer_visit_id_item_id_earned_possible_failed"
        " ON answer (visit_id, item_id, earned, possible, failed)",
    ):
        database.execute_sql(statement)


def _v13_phone_sending_and_checklist_language():
    # v13: the phone's end time of a visit's last sending, and when the phone last changed it; and the
    # language a shopper picked to read checklists in. Visits sent before take the end they have,
    # back on the phone's clock where it was moved (operations.on_server_clock): a phone that never
    # heard of its sending's arrival sends it again with that time.
    from .models import Visit

    columns = {column.name for column in database.get_columns("visit")}
    for column in ("phone_ended_at", "phone_changed_at"):
        if column not in columns:
            database.execute_sql(f"ALTER TABLE visit ADD COLUMN {column} TIMESTAMP")
    sent = Visit.submitted_at.is_null(False) & Visit.ended_at.is_null(False) & Visit.phone_ended_at.is_null()
    Visit.update(phone_ended_at=Visit.ended_at).where(sent & Visit.clock_shift_s.is_null()).execute()
    for visit in Visit.select(Visit.id, Visit.ended_at, Visit.clock_shift_s).where(
            sent & Visit.clock_shift_s.is_null(False)):  # the few phones whose clock was wrong
        Visit.update(phone_ended_at=visit.ended_at + timedelta(seconds=visit.clock_shift_s)).where(
            Visit.id == visit.id).execute()
    if "checklist_language" not in {column.name for column in database.get_columns("user")}:
        database.execute_sql('ALTER TABLE "user" ADD COLUMN checklist_language VARCHAR(5)')


def _v14_checklist_client():
    # v14: a checklist may be tied to the client (brand) it is written for.
    if "brand_id" not in {column.name for column in database.get_columns("checklist")}:
        database.execute_sql("ALTER TABLE checklist ADD COLUMN brand_id INTEGER REFERENCES brand (id) ON DELETE SET NULL")
    database.execute_sql("CREATE INDEX IF NOT EXISTS checklist_brand_id ON checklist (brand_id)")


def _v15_invitations_waiting():
    # v15: whether an account's owner has set a password (an invitation not used yet is listed, with a
    # new link), and which CSV import made it. The hash does not tell an invitation's unknown password
    # from a chosen one, so every account there is counts as having one: none is offered a link it
    # does not need (an invitation made before is still made again on the account's page).
    columns = {column.name for column in database.get_columns("user")}
    if "password_set_at" not in columns:
        database.execute_sql('ALTER TABLE "user" ADD COLUMN password_set_at TIMESTAMP')
        database.execute_sql('UPDATE "user" SET password_set_at = created_at')
    if "import_batch" not in columns:
        database.execute_sql('ALTER TABLE "user" ADD COLUMN import_batch VARCHAR(36)')
    database.execute_sql('CREATE INDEX IF NOT EXISTS user_import_batch ON "user" (import_batch)')


def _v16_photos_hidden_from_reports():
    # v16: a reviewer may leave a photo out of the managers' reports (it shows the shopper, a face).
    if "hidden_from_reports" not in {column.name for column in database.get_columns("evidence")}:
        database.execute_sql("ALTER TABLE evidence ADD COLUMN hidden_from_reports BOOLEAN NOT NULL DEFAULT FALSE")


def _v17_correction_values_in_history():
    # v17: a correction's history entry keeps the answer before and after it (the history named only
    # the question and the reason); the entries of earlier corrections stay without them.
    if "details" not in {column.name for column in database.get_columns("visit_event")}:
        database.execute_sql("ALTER TABLE visit_event ADD COLUMN details TEXT")


def _results_of_visits_sent_before_v4():
    # Version 4 began storing each sent visit's per-section and per-dimension results (VisitScore) and
    # each answer's section and dimension, which the dashboards, the branch, region and brand PDFs and
    # the XLSX export read. Visits sent before it had none, so those figures left them out: they are
    # written from the stored answers. Run after every step, when the tables are as the models are;
    # the visits' scores and each answer's points stay as the release that sent them stored them.
    from .db import bulk_insert
    from .models import Answer, ChecklistVersion, Visit, VisitScore, VisitState
    from .operations import scored_rows

    sent = (VisitState.SUBMITTED.value, VisitState.RETURNED.value, VisitState.APPROVED.value)
    without = (Visit.select(Visit.id, Visit.checklist_version)
               .where(Visit.state.in_(sent) & ~fn.EXISTS(VisitScore.select().where(VisitScore.visit == Visit.id)))
               .order_by(Visit.id))
    versions = set()
    for visit in list(without):
        versions.add(visit.checklist_version_id)
        content = ChecklistVersion.shared_content(visit.checklist_version_id)
        values = {row.item_id: row.value for row in Answer.select(Answer.item_id, Answer.value)
                  .where(Answer.visit == visit.id)}
        bulk_insert(VisitScore, scored_rows(content, visit.id, values)[1])
    # An item's section and dimension are the checklist version's: one statement per item, not per answer.
    for version_id in versions:
        of_version = Visit.select(Visit.id).where(Visit.checklist_version == version_id)
        for section in ChecklistVersion.shared_content(version_id)["sections"]:
            for item in section["items"]:
                Answer.update(section_id=section["id"], dimension=item.get("dimension")).where(
                    (Answer.item_id == item["id"]) & Answer.section_id.is_null()
                    & Answer.visit.in_(of_version)).execute()


# version -> step that upgrades a database from version - 1.
STEPS = {
    2: _v2_session_epoch_and_checkin_distance,
    3: _v3_shopper_drafts_and_submissions,
    4: _v4_review_and_stored_results,
    5: _v5_jobs,
    6: _v6_audit_log,
    7: _v7_covering_indexes,
    8: _v8_no_answer_index_by_item,
    9: _v9_job_heartbeat,
    10: _v10_visit_clock_shift,
    11: _v11_job_scope,
    12: _v12_answer_failed,
    13: _v13_phone_sending_and_checklist_language,
    14: _v14_checklist_client,
    15: _v15_invitations_waiting,
    16: _v16_photos_hidden_from_reports,
    17: _v17_correction_values_in_history,
}
LATEST = max(STEPS, default=1)


class NewerSchema(click.ClickException):
    """The database was made or upgraded by a newer release than this one: nothing here may touch it."""

    def __init__(self, version):
        super().__init__(
            f"This database is from a newer release: it is at schema version {version}, and this release "
            f"knows versions up to {LATEST}. Upgrade the app; nothing was changed."
        )


# PostgreSQL advisory lock key of schema changes (any number no other lock of the database uses).
MIGRATION_LOCK = 7_2026_11


def current_version():
    if not SchemaVersion.table_exists():
        return None
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else None


def schema_problem():
    """Why this release cannot use the database's schema (`flask init-db` not run, or a newer
    release's database), or None when the schema is the one this release expects."""
    version = current_version()
    if version is None:
        return f"the database has no schema, the app needs schema version {LATEST}: run `flask init-db`"
    if version < LATEST:
        return f"database schema version {version}, the app needs {LATEST}: run `flask init-db`"
    if version > LATEST:
        return (f"database schema version {version} is from a newer release (this one knows up to {LATEST}): "
                f"upgrade the app")
    return None


def migrate_database():
    """Create or upgrade the schema; returns (version before, version after). A database from a newer
    release is refused (NewerSchema): this release's steps know nothing of its changes.

    Several machines may run `flask init-db` at one deployment: one at a time creates or upgrades, and
    the others then find the schema current (SQLite: the write lock from the start; PostgreSQL: an
    advisory lock held to the end of the transaction)."""
    with write_transaction():
        if not isinstance(database.obj, SqliteDatabase):
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        before = current_version()
        if before is None:
            database.create_tables(ALL_MODELS)
            SchemaVersion.create(version=LATEST)
            return None, LATEST
        if before > LATEST:
            raise NewerSchema(before)
        for version in range(before + 1, LATEST + 1):
            STEPS[version]()
            SchemaVersion.update(version=version).execute()
        if before < 4:
            _results_of_visits_sent_before_v4()
        return before, LATEST
