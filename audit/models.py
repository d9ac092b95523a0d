"""The domain tables and the named queries that read them."""
import enum
import json
import uuid
from datetime import datetime, timedelta, timezone

from peewee import (
    JOIN,
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
    UUIDField,
    fn,
)

from .db import Prepared, database
from .scoring import read_only


def utcnow():
    """Naive UTC timestamp: both engines store it the same way."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


# One encoder for every value: json.dumps with options builds a new encoder per call, and answers
# are stored by the thousand.
_JSON_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


class JSONField(TextField):
    """JSON kept as text, so SQLite and PostgreSQL store it the same way."""

    def db_value(self, value):
        return None if value is None else _JSON_ENCODER.encode(value)

    def python_value(self, value):
        return None if value is None else json.loads(value)


# A checklist is kept as its author wrote it: its dimensions' order is the order its reports list them
# in (sorted by id, a translated list looked random: "accessibility, care, friendliness...").
_AUTHORED_JSON_ENCODER = json.JSONEncoder(ensure_ascii=False)


class AuthoredJSONField(JSONField):
    """JSON whose mappings keep their keys' order."""

    def db_value(self, value):
        return None if value is None else _AUTHORED_JSON_ENCODER.encode(value)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Role(str, enum.Enum):
    SHOPPER = "shopper"
    AUDITOR = "auditor"
    MANAGER = "manager"


class VisitState(str, enum.Enum):
    ASSIGNED = "assigned"
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"


OPEN_STATES = (VisitState.ASSIGNED.value, VisitState.DRAFT.value, VisitState.RETURNED.value)


class Brand(BaseModel):
    name = CharField(max_length=120, unique=True)
    logo_file = CharField(null=True)  # a file name under MEDIA_DIR/logos, never a URL
    primary_color = CharField(max_length=7, default="#1f4e79")
    accent_color = CharField(max_length=7, default="#b58500")
    default_language = CharField(max_length=5, default="en")
    created_at = DateTimeField(default=utcnow)

    @classmethod
    def ordered(cls):
        return cls.select().order_by(cls.name)


class Region(BaseModel):
    brand = ForeignKeyField(Brand, backref="regions", on_delete="RESTRICT")
    name = CharField(max_length=120)

    class Meta:
        indexes = ((("brand", "name"), True),)

    @classmethod
    def ordered(cls):
        return cls.select(cls, Brand).join(Brand).order_by(Brand.name, cls.name)


class Branch(BaseModel):
    region = ForeignKeyField(Region, backref="branches", on_delete="RESTRICT")
    code = CharField(max_length=32)
    name = CharField(max_length=160)
    address = CharField(max_length=255)
    city = CharField(max_length=120)
    country = CharField(max_length=2)  # ISO 3166-1 alpha-2
    latitude = FloatField(null=True)
    longitude = FloatField(null=True)
    is_active = BooleanField(default=True)

    class Meta:
        indexes = ((("region", "code"), True),)

    @classmethod
    def ordered(cls):
        return (
            cls.select(cls, Region, Brand)
            .join(Region)
            .join(Brand)
            .order_by(Brand.name, Region.name, cls.code)
        )

    @classmethod
    def in_regions(cls, region_ids):
        return cls.ordered().where(cls.region.in_(list(region_ids)))

    @property
    def brand(self):
        return self.region.brand


class User(BaseModel):
    email = CharField(max_length=254, unique=True)
    name = CharField(max_length=120)
    password_hash = CharField(max_length=255)
    role = CharField(max_length=16, index=True)
    language = CharField(max_length=5, null=True)
    # The language a shopper last picked to read checklists in (the fill page's own pick), where a
    # checklist has it; else checklists are shown in `language`.
    checklist_language = CharField(max_length=5, null=True)
    is_enabled = BooleanField(default=True)
    # Bumped to end every session of the account (logout everywhere, disabling).
    session_epoch = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    # When its owner (or an auditor, or the CLI) last set a password; None while a new account still
    # waits for its invitation link to be used (its hash is one nobody knows: password_links).
    password_set_at = DateTimeField(null=True)
    # The accounts one CSV import made share this id: the import's page lists those still invited.
    import_batch = CharField(max_length=36, null=True, index=True)

    # Flask-Login's protocol
    @property
    def is_active(self):
        return self.is_enabled

    @property
    def is_authenticated(self):
        return True

    @property
    def is_anonymous(self):
        return False

    def get_id(self):
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_auditor(self):
        return self.role == Role.AUDITOR.value

    @property
    def is_manager(self):
        return self.role == Role.MANAGER.value

    @property
    def is_shopper(self):
        return self.role == Role.SHOPPER.value

    def region_ids(self):
        """The regions a manager may see (empty for other roles)."""
        return {mr.region_id for mr in ManagerRegion.select().where(ManagerRegion.manager == self)}

    @classmethod
    def by_email(cls, email):
        return cls.get_or_none(cls.email == email.strip().lower())

    @classmethod
    def by_id(cls, user_id):
        """The account with this id, or None: read on every signed-in request, so prepared."""
        return _USER_BY_ID.first(user_id)

    @classmethod
    def shoppers(cls):
        return cls.select().where(cls.role == Role.SHOPPER.value).order_by(cls.name)

    @classmethod
    def awaiting_password(cls, import_batch=None):
        """The enabled accounts whose owner never set a password (their invitation not used yet), by
        name; only those one import made when `import_batch` is given."""
        query = cls.select().where(cls.is_enabled & cls.password_set_at.is_null())
        if import_batch is not None:
            query = query.where(cls.import_batch == import_batch)
        return query.order_by(cls.name, cls.email)


class ManagerRegion(BaseModel):
    manager = ForeignKeyField(User, backref="managed_regions", on_delete="CASCADE")
    region = ForeignKeyField(Region, backref="managers", on_delete="CASCADE")

    class Meta:
        indexes = ((("manager", "region"), True),)


class Checklist(BaseModel):
    slug = CharField(max_length=80, unique=True)
    # The client it is written for, whose branches alone it is used at (an agency's checklist for one
    # chain is a slip at another's); None: any client's.
    brand = ForeignKeyField(Brand, null=True, backref="checklists", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    def is_for(self, brand_id):
        """Whether visits at a branch of this brand may be made with the checklist."""
        return self.brand_id is None or self.brand_id == brand_id

    @classmethod
    def ordered(cls):
        return cls.select().order_by(cls.slug)

    def history(self):
        """Every version, newest first."""
        return (
            ChecklistVersion.select()
            .where(ChecklistVersion.checklist == self)
            .order_by(ChecklistVersion.number.desc())
        )

    def latest_published(self):
        return self.history().where(ChecklistVersion.is_published).first()

    def draft(self):
        """The one editable version, if there is one."""
        return self.history().where(~ChecklistVersion.is_published).first()

    def title(self, language):
        """Its newest version's title in `language` (its slug while it has no version): what a report
        or a job of this checklist is named with."""
        newest = self.history().first()
        return newest.title(language) if newest else self.slug


_SHARED_CONTENT = {}  # (version id, content hash) -> parsed content; see ChecklistVersion.shared_content
_SHARED_CONTENT_SIZE = 64


class ChecklistVersion(BaseModel):
    checklist = ForeignKeyField(Checklist, backref="versions", on_delete="CASCADE")
    number = IntegerField()
    is_published = BooleanField(default=False)
    content = AuthoredJSONField()  # the whole checklist as parsed from its file: frozen once published
    content_hash = CharField(max_length=64)
    published_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("checklist", "number"), True),)

    @classmethod
    def find(cls, slug, number=None):
        """Version `number` of a checklist, or its latest published version."""
        query = cls.select(cls, Checklist).join(Checklist).where(Checklist.slug == slug)
        if number is not None:
            return query.where(cls.number == number).first()
        return query.where(cls.is_published).order_by(cls.number.desc()).first()

    @classmethod
    def shared_content(cls, version_id):
        """A version's content, parsed once per process and content hash. Read-only: never change it.

        Submissions, fill pages and photo uploads need the checklist on every request; this saves
        reading and parsing it each time, and hands the scoring function the same object, so its
        compile cache hits. The hash (updated with every draft edit) keeps drafts current.
        """
        row = _CONTENT_HASH.first(version_id)
        content_hash = row[0] if row else None
        key = (version_id, content_hash)
        content = _SHARED_CONTENT.get(key)
        if content is None:
            content = read_only(cls.select(cls.content).where(cls.id == version_id).get().content)
            while len(_SHARED_CONTENT) >= _SHARED_CONTENT_SIZE:
                _SHARED_CONTENT.pop(next(iter(_SHARED_CONTENT)), None)
            _SHARED_CONTENT[key] = content
        return content

    @property
    def is_draft(self):
        return not self.is_published

    def title(self, language):
        titles = self.content.get("title", {})
        return titles.get(language) or titles.get(self.content["languages"][0], self.checklist.slug)


class Visit(BaseModel):
    uuid = UUIDField(unique=True, default=uuid.uuid4)  # the client's id: resends are idempotent
    branch = ForeignKeyField(Branch, backref="visits", on_delete="RESTRICT")
    checklist_version = ForeignKeyField(ChecklistVersion, backref="visits", on_delete="RESTRICT")
    shopper = ForeignKeyField(User, backref="visits", on_delete="RESTRICT")
    scenario = TextField(default="")
    planned_from = DateField()
    planned_to = DateField()
    state = CharField(max_length=16, default=VisitState.ASSIGNED.value)
    started_at = DateTimeField(null=True)
    ended_at = DateTimeField(null=True)
    submitted_at = DateTimeField(null=True)
    approved_at = DateTimeField(null=True)
    checkin_distance_m = FloatField(null=True)
    # Seconds the phone's start and end times were moved back (ahead: positive) or forward (behind:
    # negative) because its clock could not be right; see operations.on_server_clock.
    clock_shift_s = BigIntegerField(null=True)  # a clock off by a century passes 32 bits
    # The end time the phone gave with the last submission taken, as it gave it (ended_at keeps the
    # first one's, moved when the phone's clock was wrong): the phone's outbox sends it again with a
    # change made while the visit was on its way (operations.submit_visit).
    phone_ended_at = DateTimeField(null=True)
    # When the phone last changed that sending (its outbox entry's time): of two copies of a sending
    # that arrive out of order, the older one does not undo the newer (operations.amends_last_sending).
    phone_changed_at = DateTimeField(null=True)
    # The shopper's work before submission (the no-JavaScript form saves here): answers, comments, photos.
    draft = JSONField(null=True)
    # sha256 of the last accepted submission: a resend with the same content is the same submission.
    submission_hash = CharField(max_length=64, null=True)
    review_comment = TextField(default="")  # the reviewer's words when a visit is returned
    original_score = DecimalField(max_digits=7, decimal_places=4, null=True, auto_round=True)  # before corrections
    score = DecimalField(max_digits=7, decimal_places=4, null=True, auto_round=True)
    band = JSONField(null=True)  # the band's label in every language of the checklist
    has_critical_failure = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("branch", "state", "ended_at"), False),
            (("shopper", "state"), False),
            (("state", "submitted_at"), False),
        )

    @property
    def is_approved(self):
        return self.state == VisitState.APPROVED.value

    @property
    def is_open_for_shopper(self):
        """The shopper may still fill it in: not yet submitted, or returned to them."""
        return self.state in OPEN_STATES

    @classmethod
    def by_uuid(cls, value, with_region=True):
        """The visit with this uuid (any text; None when it is not a uuid or not found), with its
        branch; also its region and brand unless with_region=False. The shopper's pages and API
        need only the branch, and leaving the other two out halves the cost of the read."""
        try:
            key = uuid.UUID(str(value))
        except ValueError:
            return None
        return (_VISIT_BY_UUID if with_region else _VISIT_AND_BRANCH_BY_UUID).first(cls.uuid.db_value(key))

    @classmethod
    def open_for_shopper(cls, shopper):
        return cls.of_shopper(shopper).where(cls.state.in_(OPEN_STATES))

    @classmethod
    def recent_at_branch(cls, shopper, branch, planned_from, planned_to, days):
        """The shopper's visits at a branch that the no-repeat rule puts too close to a window: planned
        to start within `days` of its start, or with a window overlapping it."""
        window = timedelta(days=days)
        return cls.select().where(
            (cls.shopper == shopper) & (cls.branch == branch)
            & (((cls.planned_from > planned_from - window) & (cls.planned_from < planned_from + window))
               | ((cls.planned_from <= planned_to) & (cls.planned_to >= planned_from)))
        )

    @classmethod
    def planned_in_window(cls, branch, checklist, planned_from, planned_to):
        """Visits of a branch with a checklist (any version) whose planned window overlaps the given one."""
        return cls.select().join(ChecklistVersion).where(
            (cls.branch == branch) & (ChecklistVersion.checklist == checklist)
            & (cls.planned_from <= planned_to) & (cls.planned_to >= planned_from)
        )

    @classmethod
    def with_place(cls):
        return cls.select(cls, Branch, Region, Brand).join(Branch).join(Region).join(Brand)

    @classmethod
    def approved_for_branch(cls, branch, start=None, end=None):
        """Approved visits of a branch, newest first, optionally within [start, end)."""
        query = (
            cls.select(cls, ChecklistVersion)
            .join(ChecklistVersion)
            .where((cls.branch == branch) & (cls.state == VisitState.APPROVED.value))
        )
        if start is not None:
            query = query.where(cls.ended_at >= start)
        if end is not None:
            query = query.where(cls.ended_at < end)
        return query.order_by(cls.ended_at.desc())

    @classmethod
    def branch_summary(cls, branch_ids, since):
        """{branch id: (approved visits, mean score, last visit)} since a date, in one GROUP BY."""
        query = (
            cls.select(
                cls.branch,
                fn.COUNT(cls.id).alias("visits"),
                fn.AVG(cls.score).alias("mean_score"),
                fn.MAX(cls.ended_at).alias("last_visit"),
            )
            .where(
                cls.branch.in_(list(branch_ids))
                & (cls.state == VisitState.APPROVED.value)
                & (cls.ended_at >= since)
            )
            .group_by(cls.branch)
            .tuples()
        )
        return {branch_id: (count, mean, last) for branch_id, count, mean, last in query}

    @classmethod
    def of_shopper(cls, shopper):
        return cls.with_place().where(cls.shopper == shopper).order_by(cls.planned_from.desc())


class Answer(BaseModel):
    # No index of its own: the (visit, ...) indexes below serve every lookup by visit.
    visit = ForeignKeyField(Visit, backref="answers", on_delete="CASCADE", index=False)
    item_id = CharField(max_length=80)
    # Where the item sits, stored with the answer so that dashboards group in SQL.
    section_id = CharField(max_length=80, null=True)
    dimension = CharField(max_length=80, null=True)
    value = JSONField(null=True)
    comment = TextField(default="")
    earned = DecimalField(max_digits=9, decimal_places=4, null=True, auto_round=True)
    possible = DecimalField(max_digits=9, decimal_places=4, null=True, auto_round=True)
    # Earned less than the item's pass mark (scoring.ItemScore.passed); None where nothing is scored.
    failed = BooleanField(null=True)
    # A reviewer's correction keeps what the shopper answered, and why it was changed.
    original_value = JSONField(null=True)
    correction_reason = TextField(default="")

    class Meta:
        indexes = (
            (("visit", "item_id"), True),
            # Covering: the dashboards' per-item aggregates read the index alone, visit by visit.
            (("visit", "item_id", "earned", "possible", "failed"), False),
            # No index by item alone: see migrations._v8_no_answer_index_by_item.
        )

    @property
    def is_failed(self):
        return bool(self.failed)


class VisitScore(BaseModel):
    """A visit's score per section or dimension, as the scoring function gave it."""

    visit = ForeignKeyField(Visit, backref="scores", on_delete="CASCADE", index=False)
    kind = CharField(max_length=10)  # "section" or "dimension"
    key = CharField(max_length=80)
    percent = DecimalField(max_digits=7, decimal_places=4, null=True, auto_round=True)

    class Meta:
        # The unique index also serves lookups by visit; the covering one lets the section and
        # dimension aggregates read the index alone.
        indexes = ((("visit", "kind", "key"), True), (("visit", "kind", "key", "percent"), False))


class VisitEvent(BaseModel):
    """One change of a visit's state: who, when, and the comment that went with it."""

    visit = ForeignKeyField(Visit, backref="events", on_delete="CASCADE")
    from_state = CharField(max_length=16, null=True)
    to_state = CharField(max_length=16)
    actor = ForeignKeyField(User, backref="visit_events", null=True, on_delete="SET NULL")
    comment = TextField(default="")
    # What a reviewer's correction changed, for the review page's history: {"item", "was", "now"}
    # (the answers as stored; "was"/"now" absent when not known) or {"item", "comment": true} (the
    # comment's words are not kept: see review.correct_comment). None: no correction, or one made
    # before schema 17, which kept only "item: reason" in the comment.
    details = JSONField(null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("visit", "created_at"), False),)

    @classmethod
    def of_visit(cls, visit):
        """A visit's history, oldest first, with each entry's actor read in the same query."""
        return (cls.select(cls, User).join(User, JOIN.LEFT_OUTER, on=(cls.actor == User.id))
                .where(cls.visit == visit).order_by(cls.created_at, cls.id))

    @classmethod
    def returned_at(cls, visit_ids):
        """{visit id: when a reviewer last returned it to its shopper}, for the visits given."""
        if not visit_ids:
            return {}
        query = (cls.select(cls.visit, fn.MAX(cls.created_at).alias("at"))
                 .where(cls.visit.in_(list(visit_ids)) & (cls.to_state == VisitState.RETURNED.value))
                 .group_by(cls.visit).tuples())
        return {visit_id: at for visit_id, at in query}


# Prepared queries of the hot paths: every signed-in request, every fill page (see db.Prepared).
_USER_BY_ID = Prepared(lambda user_id: User.select().where(User.id == user_id))
_CONTENT_HASH = Prepared(
    lambda version_id: ChecklistVersion.select(ChecklistVersion.content_hash).where(ChecklistVersion.id == version_id)
    .tuples())
_VISIT_BY_UUID = Prepared(lambda key: Visit.with_place().where(Visit.uuid == key))
_VISIT_AND_BRANCH_BY_UUID = Prepared(lambda key: Visit.select(Visit, Branch).join(Branch).where(Visit.uuid == key))


class Evidence(BaseModel):
    visit = ForeignKeyField(Visit, backref="evidence", on_delete="CASCADE")
    item_id = CharField(max_length=80, null=True)
    client_id = CharField(max_length=64, unique=True)  # a photo's client id: uploads are idempotent
    file_name = CharField(max_length=128)  # random name under MEDIA_DIR/photos
    sha256 = CharField(max_length=64, index=True)
    width = IntegerField()
    height = IntegerField()
    captured_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    # Left out of the managers' reports by a reviewer (the shopper's reflection in a window, a face):
    # the reviewer still sees it, marked so.
    hidden_from_reports = BooleanField(default=False)

    @classmethod
    def of_visit(cls, visit):
        """The photos of the visit's sending: each a question's. One uploaded for a change of a sent
        visit has none until that change arrives (operations.add_photo), and is no one's to see."""
        return cls.select().where((cls.visit == visit) & cls.item_id.is_null(False))

    @classmethod
    def in_reports(cls):
        """The condition a photo meets to be shown in the managers' reports."""
        return cls.item_id.is_null(False) & ~cls.hidden_from_reports

    @classmethod
    def client_ids_by_item(cls, visit_id):
        """{item id: [photo client ids, oldest first]} of a visit: what its fill page shows."""
        photos = {}
        for item_id, client_id in _PHOTOS_OF_VISIT.rows(visit_id):
            photos.setdefault(item_id, []).append(client_id)
        return photos


_PHOTOS_OF_VISIT = Prepared(
    lambda visit_id: Evidence.select(Evidence.item_id, Evidence.client_id)
    .where((Evidence.visit == visit_id) & Evidence.item_id.is_null(False))
    .order_by(Evidence.created_at, Evidence.id).tuples())


class ActionStatus(str, enum.Enum):
    OPEN = "open"
    DONE = "done"


class Action(BaseModel):
    branch = ForeignKeyField(Branch, backref="actions", on_delete="CASCADE")
    visit = ForeignKeyField(Visit, backref="actions", null=True, on_delete="SET NULL")
    item_id = CharField(max_length=80, null=True)
    what = TextField()
    owner = CharField(max_length=120)
    due_date = DateField()
    status = CharField(max_length=8, default=ActionStatus.OPEN.value)
    created_by = ForeignKeyField(User, backref="actions", on_delete="RESTRICT")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("branch", "status", "due_date"), False),)

    @classmethod
    def open_for_branch(cls, branch):
        return (
            cls.select()
            .where((cls.branch == branch) & (cls.status == ActionStatus.OPEN.value))
            .order_by(cls.due_date)
        )


class Job(BaseModel):
    """A long job run outside the request (e.g. a region's ZIP of reports), with progress to watch."""

    uuid = UUIDField(unique=True, default=uuid.uuid4)
    kind = CharField(max_length=32)
    owner = ForeignKeyField(User, backref="jobs", on_delete="CASCADE")
    status = CharField(max_length=12, default="queued")  # queued, running, done, failed
    done = IntegerField(default=0)
    total = IntegerField(default=0)
    file_name = CharField(max_length=128, null=True)  # the result under MEDIA_DIR/exports
    title = CharField(max_length=200, default="")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(null=True)  # the worker's last sign of life: a status or progress change
    # What the file holds, to check against its owner's access when it is read: a manager moved to
    # another region, or an auditor made a manager, must not download what they may no longer see.
    branch_ids = JSONField(null=True)  # null: made before version 11, which did not record it
    with_shopper = BooleanField(default=False)  # shoppers' names: auditors' exports only

    # A worker picks a job up within seconds; one still queued after this long suggests no worker runs.
    START_EXPECTED_WITHIN = timedelta(minutes=1)
    # A running job reports progress every few seconds (a report, 5,000 rows); one silent this long
    # was stopped with its worker (a restart, a deployment) and will not finish.
    SILENT_AT_MOST = timedelta(minutes=10)

    @property
    def percent(self):
        return int(100 * self.done / self.total) if self.total else (100 if self.status == "done" else 0)

    @property
    def waiting_too_long(self):
        """Still queued well after a worker should have started it (the page then says so)."""
        return self.status == "queued" and utcnow() - self.created_at > self.START_EXPECTED_WITHIN

    @property
    def stopped(self):
        """Running, as far as the database knows, but silent too long: its worker was stopped."""
        return self.status == "running" and utcnow() - (self.updated_at or self.created_at) > self.SILENT_AT_MOST


class AuditEntry(BaseModel):
    """Who changed what: checklists, reviews, corrections, accounts and the organisation."""

    actor = ForeignKeyField(User, backref="audit_entries", null=True, on_delete="SET NULL")
    action = CharField(max_length=40, index=True)
    target = CharField(max_length=200)
    details = JSONField(null=True)
    created_at = DateTimeField(default=utcnow, index=True)

    @classmethod
    def newest_first(cls):
        return cls.select(cls, User).join(User, JOIN.LEFT_OUTER, on=(cls.actor == User.id)).order_by(cls.id.desc())


class SchemaVersion(BaseModel):
    version = IntegerField()


ALL_MODELS = [
    Brand,
    Region,
    Branch,
    User,
    ManagerRegion,
    Checklist,
    ChecklistVersion,
    Visit,
    Answer,
    VisitScore,
    VisitEvent,
    Evidence,
    Action,
    Job,
    AuditEntry,
    SchemaVersion,
]
