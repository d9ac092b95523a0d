"""Plain functions that change stored data, each in one transaction."""
import functools
import hashlib
import json
import logging
import math
import os
import time
from datetime import timedelta
from fractions import Fraction

from peewee import Case, IntegrityError, fn

from .answers import SubmissionProblem, check_submission
from .checklist import content_hash, load_checklist_file
from .db import bulk_insert, database, write_transaction
from .localtime import utc_of_local
from .models import (
    Answer,
    Brand,
    Branch,
    Checklist,
    ChecklistVersion,
    Evidence,
    ManagerRegion,
    Region,
    Role,
    OPEN_STATES,
    User,
    Visit,
    VisitEvent,
    VisitScore,
    VisitState,
    utcnow,
)
from .media import store_photo
from .scoring import display_percent, score
from . import password_links
from .security import hash_password

log = logging.getLogger(__name__)


def save_brand(brand, form, logo_file=None):
    brand = brand or Brand()
    brand.name = form.name.data.strip()
    brand.primary_color = form.primary_color.data.lower()
    brand.accent_color = form.accent_color.data.lower()
    brand.default_language = form.default_language.data
    if logo_file:
        brand.logo_file = logo_file
    brand.save()
    return brand


def save_region(region, form):
    region = region or Region()
    region.brand = form.brand.data
    region.name = form.name.data.strip()
    region.save()
    return region


class RegionInUse(Exception):
    """The region still holds branches, or is a manager's: `code` says which ("branches", "managers")."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def delete_region(region):
    """Delete a region made by mistake: one with no branch and no manager. Checked inside the write, so
    a branch added to it meanwhile (another auditor, an import) keeps its region."""
    with write_transaction():
        if Branch.select().where(Branch.region == region.id).exists():
            raise RegionInUse("branches")
        if ManagerRegion.select().where(ManagerRegion.region == region.id).exists():
            raise RegionInUse("managers")
        Region.delete().where(Region.id == region.id).execute()


def save_branch(branch, form):
    branch = branch or Branch()
    for field in ("region", "name", "address", "city", "country", "latitude", "longitude", "is_active"):
        value = getattr(form, field).data
        setattr(branch, field, value.strip() if isinstance(value, str) else value)
    branch.code = form.code.data.strip().upper()
    branch.save()
    return branch


class LastAuditorRefused(Exception):
    """The change would leave no enabled auditor: nobody could manage the accounts any more."""


def _enabled_auditors():
    return User.select(User.id).where((User.role == Role.AUDITOR.value) & User.is_enabled)


def save_user(user, form, unusable_password=None):
    """Create or update an account; disabling it, changing its password or its e-mail address ends its
    sessions and the password links made for it.
    `unusable_password`: the hash a new account without a password gets (one made for it if None).

    The form refuses to demote or disable the last enabled auditor; two auditors doing that to each
    other at the same moment would both pass it, so the rule is checked again inside the write, after
    the change: PostgreSQL locks the auditors' rows first, SQLite lets one writer in at a time.
    """
    # Slow (argon2): before the lock. A new account without a password gets one nobody knows, until
    # its invitation link is used (password_links).
    if form.password.data:
        password_hash = hash_password(form.password.data)
    else:
        password_hash = (unusable_password or password_links.unusable_password()) if user is None else None
    with database.atomic():
        if database.obj.for_update:
            list(_enabled_auditors().for_update())
        is_new = user is None
        user = user or User()
        email = form.email.data.strip().lower()
        # A new address: the password links made for the old one die with the sessions (an invitation
        # sent to a mistyped address set the password of the account at its right address).
        ends_sessions = not is_new and (
            (user.is_enabled and not form.is_enabled.data) or bool(form.password.data) or email != user.email
        )
        user.email = email
        user.name = form.name.data.strip()
        user.role = form.role.data
        user.language = form.language.data or None
        user.is_enabled = form.is_enabled.data
        written = [User.email, User.name, User.role, User.language, User.is_enabled]
        if password_hash:
            user.password_hash = password_hash
            written.append(User.password_hash)
        if form.password.data:
            user.password_set_at = utcnow()  # typed by the auditor: no invitation waits to be used
            written.append(User.password_set_at)
        if is_new:
            user.save()
        else:
            # Only what the form changes: the whole row, as read when the request began, put back a
            # password set meanwhile with a link (the old one worked again) and the sessions it ended.
            user.save(only=written)
            if ends_sessions:
                User.update(session_epoch=User.session_epoch + 1).where(User.id == user.id).execute()
        ManagerRegion.delete().where(ManagerRegion.manager == user).execute()
        if user.role == Role.MANAGER.value:
            for region_id in form.regions.data:
                ManagerRegion.create(manager=user, region=region_id)
        if not _enabled_auditors().exists():
            raise LastAuditorRefused()  # leaves the transaction: nothing is written
    return user


class DraftOpen(Exception):
    """A checklist file cannot be published while the checklist has a draft open in the editor."""

    def __init__(self, slug, number):
        super().__init__(f"{slug} has a draft (version {number}) open in the editor: publish or discard it there "
                         "first, so that neither change silently replaces the other.")
        self.number = number


def publish_checklist(data, content_hash):
    """Store a checklist file's content as a new published version, unless the published one is the
    same. Returns (version, created): an unchanged file creates nothing. Refused (DraftOpen) while
    an auditor has a draft open: the file would be published under the draft's feet, and publishing
    the draft afterwards would not make it the latest version.
    """
    with database.atomic():
        checklist, _ = Checklist.get_or_create(slug=data["id"])
        versions = ChecklistVersion.select().where(ChecklistVersion.checklist == checklist)
        published = versions.where(ChecklistVersion.is_published).order_by(ChecklistVersion.number.desc()).first()
        if published is not None and published.content_hash == content_hash:
            return published, False
        draft = checklist.draft()
        if draft is not None:
            raise DraftOpen(checklist.slug, draft.number)
        latest = versions.order_by(ChecklistVersion.number.desc()).first()
        version = ChecklistVersion.create(
            checklist=checklist,
            number=(latest.number + 1) if latest else 1,
            is_published=True,
            content=data,
            content_hash=content_hash,
            published_at=utcnow(),
        )
        return version, True


def publish_checklist_file(path):
    """Validate a checklist file and publish it when its content changed; see publish_checklist."""
    data = load_checklist_file(path)
    return publish_checklist(data, content_hash(data))


def _stored(fraction):
    """A Fraction as the Decimal the database keeps: 4 places, half up, for SQL aggregates."""
    if fraction is None:
        return None
    return _stored_ratio(fraction.numerator, fraction.denominator)


@functools.lru_cache(maxsize=4096)
def _stored_ratio(numerator, denominator):
    # Item scores take few distinct values (0, 1, 2 of 2...): a submission stores hundreds of them.
    # Decimals are immutable, so one may be shared.
    return display_percent(Fraction(numerator, denominator), 4)


def scored_rows(content, visit_id, answers, comments=None, result=None):
    """What the scoring function gives for a visit's answers, as the rows the database keeps.

    Returns (answer rows, VisitScore rows, Visit fields). Every score a dashboard or report shows is
    read from these: per answer (with its section and dimension), per section and dimension, and the
    visit's overall score and band. The bulk loader (`scale`) writes the same rows as a submission.
    `result`: the ScoreResult of these answers when the caller has it already.
    """
    comments = comments or {}
    result = result or score(content, answers)
    place = {item["id"]: (section["id"], item.get("dimension")) for section in content["sections"]
             for item in section["items"]}
    answer_rows = []
    # Kept in the checklist's order, whatever order the phone sent them in (an export lists them so).
    for item_id in [item_id for item_id in place if item_id in answers] + [i for i in answers if i not in place]:
        value = answers[item_id]
        item_score = result.items.get(item_id)
        section_id, dimension = place.get(item_id, (None, None))
        answer_rows.append({
            "visit": visit_id, "item_id": item_id, "section_id": section_id, "dimension": dimension,
            "value": value, "comment": comments.get(item_id, ""),
            "earned": _stored(item_score.earned) if item_score else None,
            "possible": _stored(item_score.possible) if item_score else None,
            "failed": (not item_score.passed) if item_score else None,
        })
    score_rows = [{"visit": visit_id, "kind": "section", "key": key, "percent": _stored(value)}
                  for key, value in result.sections.items()]
    score_rows += [{"visit": visit_id, "kind": "dimension", "key": key, "percent": _stored(value)}
                   for key, value in result.dimensions.items()]
    visit_fields = {"score": _stored(result.overall), "band": result.band, "has_critical_failure": result.is_flagged}
    return answer_rows, score_rows, visit_fields, result


def score_and_store_answers(visit, answers, comments=None):
    """Replace a visit's answers and stored results with what the scoring function gives for them."""
    answer_rows, score_rows, visit_fields, result = scored_rows(
        ChecklistVersion.shared_content(visit.checklist_version_id), visit.id, answers, comments)
    with database.atomic():
        _replace_results(visit.id, answer_rows, score_rows)
        Visit.update(**visit_fields).where(Visit.id == visit.id).execute()
    for name, value in visit_fields.items():
        setattr(visit, name, value)
    return result


def _replace_results(visit_id, answer_rows, score_rows):
    """Swap a visit's stored answers and section/dimension results for new rows (inside a transaction)."""
    Answer.delete().where(Answer.visit == visit_id).execute()
    VisitScore.delete().where(VisitScore.visit == visit_id).execute()
    bulk_insert(Answer, answer_rows)
    bulk_insert(VisitScore, score_rows)


class DraftError(ValueError):
    """A draft operation that cannot be done; `code` names it for a translated message."""

    def __init__(self, code, **details):
        super().__init__(code)
        self.code = code
        self.details = details


def start_draft(checklist, source):
    """A new editable version copied from `source`; a checklist has at most one draft."""
    with database.atomic():
        if checklist.draft() is not None:
            raise DraftError("draft_exists")
        latest = checklist.history().first()
        return ChecklistVersion.create(
            checklist=checklist,
            number=latest.number + 1,
            is_published=False,
            content=source.content,
            content_hash=source.content_hash,
        )


def save_draft(version, content):
    """Store edited content in a draft; a published version is frozen."""
    if version.is_published:
        raise DraftError("published_is_frozen")
    version.content = content
    version.content_hash = content_hash(content)
    version.save()
    return version


def _locked_draft(version_id):
    """The draft as stored now, held to the end of the transaction (PostgreSQL; SQLite's transaction
    holds the write lock already); DraftError("gone") when it was published or discarded since."""
    query = ChecklistVersion.select().where(ChecklistVersion.id == version_id)
    draft = (query.for_update() if database.obj.for_update else query).first()
    if draft is None or draft.is_published:
        raise DraftError("gone")
    return draft


def edit_draft(version_id, change):
    """Apply change(content) to the draft as stored now and store the result, one editor at a time.

    Two auditors saving at once each changed the content they had read, and the later save undid the
    earlier (a section's new title gone, with "Section saved." said to both). The change runs on the
    content under the lock; its errors (EditError, ChecklistError) leave the draft as it was."""
    with write_transaction():
        draft = _locked_draft(version_id)
        return save_draft(draft, change(draft.content))


def set_checklist_client(checklist, brand_id):
    """Tie the checklist to a client (brand id), or to none (None). Visits assigned already keep it
    (see open_visits_at_other_clients)."""
    Checklist.update(brand=brand_id).where(Checklist.id == checklist.id).execute()
    checklist.brand_id = brand_id


def open_visits_at_other_clients(checklist):
    """How many visits not yet sent use the checklist at branches of clients it is not for: assigned
    before it was tied to its client, each a visit that would be wasted."""
    if checklist.brand_id is None:
        return 0
    return (Visit.select().join(ChecklistVersion).switch(Visit).join(Branch).join(Region)
            .where((ChecklistVersion.checklist == checklist.id) & Visit.state.in_(CHANGEABLE_STATES)
                   & (Region.brand != checklist.brand_id)).count())


def import_draft(data):
    """A validated checklist file becomes the draft of its checklist (replacing an existing draft)."""
    with database.atomic():
        checklist, created = Checklist.get_or_create(slug=data["id"])
        draft = None if created else checklist.draft()
        if draft is not None:
            return save_draft(draft, data), True
        latest = None if created else checklist.history().first()
        version = ChecklistVersion.create(
            checklist=checklist,
            number=(latest.number + 1) if latest else 1,
            is_published=False,
            content=data,
            content_hash=content_hash(data),
        )
        return version, False


def publish_draft(version_id, check_complete):
    """Freeze a complete draft as the new published version; check_complete(content) lists what is
    missing. The draft is read under its lock: a save of another auditor at the same moment is either
    published with it or refused after it (it was undone, or the publishing itself was)."""
    with write_transaction():
        version = _locked_draft(version_id)
        problems = check_complete(version.content)
        if problems:
            raise DraftError("incomplete", problems=problems)
        latest = version.checklist.latest_published()
        if latest is not None and latest.content_hash == version.content_hash:
            raise DraftError("unchanged", number=latest.number)
        version.published_at = utcnow()
        version.is_published = True
        ChecklistVersion.update(is_published=True, published_at=version.published_at).where(
            ChecklistVersion.id == version.id).execute()
    return version


def discard_draft(version):
    """Delete a draft; a checklist that was only this draft (never published) goes with it, so that
    its id is free again. Returns True when the checklist went too."""
    if version.is_published:
        raise DraftError("published_is_frozen")
    with database.atomic():
        checklist = version.checklist
        version.delete_instance()
        if ChecklistVersion.select().where(ChecklistVersion.checklist == checklist).exists():
            return False
        # A version-less checklist showed as a broken list entry (the title is its versions').
        checklist.delete_instance()
        return True


# -- the shopper's visits ---------------------------------------------------------------------------


class SubmissionRefused(ValueError):
    """A submission that cannot be stored: `status` is the HTTP answer (409 or 422), `problems` why."""

    def __init__(self, status, code, problems=()):
        super().__init__(code)
        self.status = status
        self.code = code
        self.problems = list(problems)


def _submission_hash(answers, comments, photos):
    canonical = json.dumps({"answers": answers, "comments": comments, "photos": photos},
                           sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def is_its_last_sending(visit, answers, comments, photos):
    """True when a sent visit was sent with exactly these answers, comments and photos (a Send pressed
    twice, the first of which went)."""
    return visit.submission_hash is not None and visit.submission_hash == _submission_hash(answers, comments, photos)


def save_visit_draft(visit, answers, comments, photos):
    """Keep the shopper's unfinished work on the server (the no-JavaScript path).

    A visit sent meanwhile by another request is left as it is; submit_visit then reports it.
    """
    if not visit.is_open_for_shopper:
        raise SubmissionRefused(409, "not_open")
    draft = {"answers": answers, "comments": comments, "photos": photos}
    now = utcnow()
    # One conditional UPDATE rather than visit.save(): saving the whole row read before a concurrent
    # submission would put the sent visit back into draft and let a second, different submission in.
    saved = (
        Visit.update(
            draft=draft,
            state=Case(None, [(Visit.state == VisitState.ASSIGNED.value, VisitState.DRAFT.value)], Visit.state),
            started_at=fn.COALESCE(Visit.started_at, now),
        )
        .where((Visit.id == visit.id) & (Visit.state.in_(OPEN_STATES)) & (Visit.shopper == visit.shopper_id))
        .execute()
    )
    if not saved:
        current = Visit.get_or_none(Visit.id == visit.id)
        if current is None or current.shopper_id != visit.shopper_id:
            raise SubmissionRefused(404, "not_yours")  # withdrawn, or given to another shopper meanwhile
    if saved:
        visit.draft = draft
        if visit.state == VisitState.ASSIGNED.value:
            visit.state = VisitState.DRAFT.value
        visit.started_at = visit.started_at or now
    return visit


def distance_m(lat1, lon1, lat2, lon2):
    """Great-circle distance in metres (haversine): how far from the branch the shopper checked in."""
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


CLOCK_SLACK = timedelta(minutes=10)
MAX_VISIT = timedelta(days=1)  # longer, the start the phone gave cannot be the start of a mystery shop


def on_server_clock(started_at, ended_at, assigned_at, now):
    """(started_at, ended_at, shift in seconds or None): the phone's times of a visit, moved when its
    clock cannot have been right.

    A visit cannot end after the server received it, nor before it was assigned. A phone whose clock
    is off by a year would otherwise file the visit under a month no report of this year shows. Both
    times move by the same amount, so the visit keeps its length; it then ends when it arrived (the
    best the server knows), and the reviewer is told (review.integrity_warnings). A clock a few
    minutes slow (CLOCK_SLACK) on a visit made as soon as it was assigned is left alone."""
    if ended_at is None or assigned_at - CLOCK_SLACK <= ended_at <= now:
        return started_at, ended_at, None
    shift = ended_at - now
    if started_at is not None and not timedelta(0) <= ended_at - started_at <= MAX_VISIT:
        started_at = None  # a start after the end, or days before it: no length worth keeping
    return (now - (ended_at - started_at) if started_at else None), now, round(shift.total_seconds())


def submit_visit(visit, answers, comments, photos, started_at=None, ended_at=None, location=None, changed_at=None,
                 media_dir=None):
    """Store a finished visit exactly once; returns "received" or "already_received".

    A resend of the same content is the same submission. Different content is accepted while the
    visit is open (assigned, draft, or returned to the shopper), and as a change of the sending that
    arrived, made on the phone while it was on its way, until the review begins (amends_last_sending;
    `changed_at`: when the phone last changed the sending); otherwise SubmissionRefused(409), with
    the code "returned" for that sending (or its change) once the reviewer returned it. Invalid
    answers give SubmissionRefused(422) with the problems, and store nothing. `photos` lists every
    photo the visit keeps (the others are removed, with their files under `media_dir` when given);
    None: the photos uploaded stay as they are.
    """
    keep_unlisted = photos is None
    photos = photos or {}
    digest = _submission_hash(answers, comments, photos)
    phone_ended_at = ended_at  # as the phone gave it, before any moving (on_server_clock)
    if _sent_again_after_return(visit, digest, ended_at):
        return "already_received"
    if visit.state == VisitState.RETURNED.value and _same_sending(visit, ended_at):
        # The returned sending itself, changed on the phone before the shopper saw the return (or a
        # copy read before a change): taken as new, it undid the return and its comment unread.
        raise SubmissionRefused(409, "returned")
    amending = False
    if not visit.is_open_for_shopper:
        if visit.submission_hash == digest:
            return "already_received"
        if changed_at is None or not amends_last_sending(visit, ended_at, changed_at):
            current = Visit.get_or_none(Visit.id == visit.id)  # returned since this request read it?
            if current is not None and current.state == VisitState.RETURNED.value and _same_sending(current, ended_at):
                raise SubmissionRefused(409, "returned")
            raise SubmissionRefused(409, "already_submitted")
        amending = True
    content = ChecklistVersion.shared_content(visit.checklist_version_id)
    problems, result = check_submission(content, answers, comments, photos)
    if photos:
        known_photos = {e.client_id for e in Evidence.select(Evidence.client_id).where(Evidence.visit == visit)}
        problems += [
            SubmissionProblem(item_id, "unknown_photo", photo_id)
            for item_id, photo_ids in photos.items() for photo_id in photo_ids if photo_id not in known_photos
        ]
    if problems:
        raise SubmissionRefused(422, "invalid", problems)
    now = utcnow()
    started_at, ended_at, clock_shift = on_server_clock(started_at, ended_at, visit.created_at, now)
    distance = None
    branch = visit.branch
    # A contact made away from the branch (a call, a chat) has no distance to it worth keeping.
    if location and branch.latitude is not None and content.get("on_site", True):
        distance = round(distance_m(location[0], location[1], branch.latitude, branch.longitude), 1)
    # Scored before the transaction (it is pure), so the transaction holds the write lock briefly.
    answer_rows, score_rows, scored_fields, _result = scored_rows(content, visit.id, answers, comments, result)
    if amending:
        outcome, removed = _store_amendment(visit, digest, phone_ended_at, changed_at, answer_rows, score_rows,
                                            scored_fields, photos, keep_unlisted)
        _remove_photo_files(media_dir, removed)
        return outcome
    with database.atomic():
        # The state check and the change are one statement, so two concurrent resends cannot both win.
        claimed = (
            Visit.update(
                state=VisitState.SUBMITTED.value, submission_hash=digest, submitted_at=now,
                # A returned visit sent again keeps when and where it was made, as first sent: its
                # sending time and the phone's place at home said nothing of the visit, and the
                # warnings they had raised (a far check-in, a short visit) were gone.
                started_at=fn.COALESCE(Visit.started_at, started_at or now),
                ended_at=fn.COALESCE(Visit.ended_at, ended_at or now),
                phone_ended_at=phone_ended_at, phone_changed_at=changed_at,
                checkin_distance_m=Case(None, [(Visit.ended_at.is_null(), distance)], Visit.checkin_distance_m),
                clock_shift_s=Case(None, [(Visit.ended_at.is_null(), clock_shift)], Visit.clock_shift_s),
                # A new submission (a returned visit sent again) has no corrections yet: the score
                # "before corrections" of the last review no longer describes it.
                draft=None, original_score=None,
                **scored_fields,
            )
            .where((Visit.id == visit.id) & (Visit.state.in_(OPEN_STATES)) & (Visit.shopper == visit.shopper_id))
            .execute()
        )
        if not claimed:
            current = Visit.get_or_none(Visit.id == visit.id)
            if current is None or current.shopper_id != visit.shopper_id:
                raise SubmissionRefused(404, "not_yours")  # withdrawn, or given to another shopper meanwhile
            if current.submission_hash == digest:
                return "already_received"
            raise SubmissionRefused(409, "already_submitted")
        removed = _store_sending(visit, visit.state, answer_rows, score_rows, photos, keep_unlisted)
    _remove_photo_files(media_dir, removed)
    return "received"


def _remove_photo_files(media_dir, file_names):
    """The files of photos whose rows a committed transaction deleted: a photo the shopper took back
    (a customer's face) is gone at once, not at the next `flask media prune`. Each row has a file of
    its own; one that cannot be removed now is left to the prune."""
    for name in file_names if media_dir else ():
        try:
            os.remove(os.path.join(media_dir, "photos", name))
        except OSError:
            pass


def _store_sending(visit, from_state, answer_rows, score_rows, photos, keep_unlisted=False):
    """A sending's answers, results, history entry and photos' questions (inside its transaction)."""
    _replace_results(visit.id, answer_rows, score_rows)
    VisitEvent.create(visit=visit.id, from_state=from_state, to_state=VisitState.SUBMITTED.value,
                      actor=visit.shopper_id)
    for item_id, photo_ids in photos.items():
        Evidence.update(item_id=item_id).where(
            (Evidence.visit == visit) & Evidence.client_id.in_(photo_ids)
        ).execute()
    if keep_unlisted:
        return []
    # A sending lists every photo of the visit: one it leaves out was removed on the phone (or came
    # with an earlier sending and is no longer wanted), and must not reach the reviewer or a report.
    # Returns their files' names, removed once the transaction is committed.
    listed = [photo_id for photo_ids in photos.values() for photo_id in photo_ids]
    unlisted = (Evidence.visit == visit) & Evidence.client_id.not_in(listed)
    files = [name for (name,) in Evidence.select(Evidence.file_name).where(unlisted).tuples()]
    Evidence.delete().where(unlisted).execute()
    return files


def _store_amendment(visit, digest, phone_ended_at, changed_at, answer_rows, score_rows, scored_fields, photos,
                     keep_unlisted=False):
    """The sending that arrived replaced by its change (see amends_last_sending), if the review has
    still not begun once the visit's row is held: a reviewer's correction made meanwhile would be
    written over. It keeps when it arrived and where and when it was made."""
    with write_transaction():
        current = Visit.select().where(Visit.id == visit.id)
        current = (current.for_update() if database.obj.for_update else current).first()
        if current is None or current.shopper_id != visit.shopper_id:
            raise SubmissionRefused(404, "not_yours")
        if current.submission_hash == digest:
            return "already_received", []  # the same change, sent twice at once
        if current.state == VisitState.RETURNED.value:
            raise SubmissionRefused(409, "returned")  # returned while this change was being checked
        if current.submission_hash != visit.submission_hash or not amends_last_sending(current, phone_ended_at,
                                                                                        changed_at):
            raise SubmissionRefused(409, "already_submitted")
        Visit.update(submission_hash=digest, phone_changed_at=changed_at, **scored_fields).where(
            Visit.id == visit.id).execute()
        removed = _store_sending(visit, VisitState.SUBMITTED.value, answer_rows, score_rows, photos, keep_unlisted)
    return "received", removed


def _same_sending(visit, ended_at):
    """Whether a phone's end time is the one of the visit's last sending taken (phone_ended_at; none
    when it came without one, from the plain form): the outbox sends an entry with the time the
    shopper tapped Send, and keeps that time when the entry changes."""
    known = visit.phone_ended_at
    return ended_at is not None and known is not None and abs(known - ended_at) <= timedelta(seconds=1)


def amends_last_sending(visit, ended_at, changed_at=None):
    """Whether different content for a sent visit is its sending changed on the phone while it was
    on its way (the shopper put an answer right as the outbox sent it: the change joins the entry,
    which the phone sends again after the first copy arrived), and may still replace it: the visit
    waits for review and no reviewer has touched it (the last of its history is the shopper's). A
    second phone's old draft, or a change made after the phone heard that the visit arrived, has
    another end time, and is refused. With `changed_at` (a sending, not a photo), the change must be
    newer than the one taken: the page and the service worker send at once, and a copy read before
    the change, arriving after it, undid it.
    """
    if visit.state != VisitState.SUBMITTED.value or not _same_sending(visit, ended_at):
        return False
    if changed_at is not None and visit.phone_changed_at is not None and changed_at <= visit.phone_changed_at:
        return False
    last = (VisitEvent.select(VisitEvent.actor).where(VisitEvent.visit == visit.id)
            .order_by(VisitEvent.id.desc()).first())
    return last is not None and last.actor_id == visit.shopper_id


def _sent_again_after_return(visit, digest, ended_at):
    """Whether this is the returned visit's last sending, sent again by a phone that never heard it
    had arrived: its outbox keeps an entry, with the time the shopper tapped Send, until an answer
    reaches it. Taken as new, it undid the return that the shopper had not seen yet. A sending the
    shopper makes after the return, even with the same answers, has a later time of its own (and the
    plain form none: it is answered at once)."""
    return visit.state == VisitState.RETURNED.value and visit.submission_hash == digest and _same_sending(
        visit, ended_at)


def add_photo(visit, client_id, item_id, data, media_dir, max_bytes, max_pixels, taken=None, ended_at=None):
    """Store a photo of a visit once per client id; returns (evidence, created). `taken`: when the
    camera took it, as the phone read it (see media.store_photo). `ended_at`: the end time of the
    sending the photo goes with; a sent visit takes the photo of a change of that sending, made while
    it was on its way, until the review begins (amends_last_sending)."""
    existing = Evidence.get_or_none(Evidence.client_id == client_id)
    if existing is not None:
        if existing.visit_id != visit.id:
            raise SubmissionRefused(409, "photo_elsewhere")
        return existing, False
    _check_still_open_for(visit, Visit.get_or_none(Visit.id == visit.id), ended_at)  # before the costly re-encoding
    try:
        stored = store_photo(data, media_dir, max_bytes, max_pixels, taken)
    except OSError as error:
        # A full disk or an unwritable MEDIA_DIR: the phone keeps the photo and sends it again later;
        # the operator is the one to act.
        log.error("A visit photo could not be stored under MEDIA_DIR: %s", error)
        raise SubmissionRefused(503, "storage_unavailable") from error
    try:
        with write_transaction():
            # Again, holding the visit's row: given to another shopper meanwhile, its photos went with
            # the change (change_visit), and this one must not arrive after them.
            locked = Visit.select().where(Visit.id == visit.id)
            current = (locked.for_update() if database.obj.for_update else locked).first()
            _check_still_open_for(visit, current, ended_at)
            evidence = Evidence.create(
                # A sent visit's photo, for a change of its sending: no question's until that change
                # arrives and lists it (_store_sending). One that comes after the change that left it
                # out (removed on the phone while it was on its way) then never reaches the reviewer.
                visit=visit, item_id=item_id if current.is_open_for_shopper else None, client_id=client_id,
                file_name=stored.file_name,
                sha256=stored.sha256, width=stored.width, height=stored.height, captured_at=_in_utc(stored),
            )
    except IntegrityError:
        # The same photo arrived twice at once: keep the first, drop this copy.
        os.remove(os.path.join(media_dir, "photos", stored.file_name))
        return Evidence.get(Evidence.client_id == client_id), False
    except SubmissionRefused:
        os.remove(os.path.join(media_dir, "photos", stored.file_name))
        raise
    return evidence, True


def remove_photo(visit, client_id, media_dir=None):
    """Take a photo out of a visit the shopper is still filling in (the form without JavaScript;
    the phone's page leaves it out of the sending instead), with its file under `media_dir` if given.
    Returns the question it answered, or None when the visit has no such photo (removed already);
    SubmissionRefused once the visit is no longer the shopper's to change."""
    with write_transaction():
        locked = Visit.select().where(Visit.id == visit.id)
        _check_still_open_for(visit, (locked.for_update() if database.obj.for_update else locked).first())
        evidence = Evidence.get_or_none((Evidence.visit == visit) & (Evidence.client_id == client_id))
        if evidence is None:
            return None
        evidence.delete_instance()
    _remove_photo_files(media_dir, [evidence.file_name])
    return evidence.item_id


def _in_utc(stored):
    """When the photo was taken, stored in UTC as every time is: the camera writes its local clock,
    with its zone's offset when it knows it, else it is taken as on the organisation's clocks. Read as
    UTC, every photo of a visit in Budapest was "taken outside the time of the visit"."""
    if stored.captured_at is None:
        return None
    if stored.captured_offset is not None:
        return stored.captured_at - stored.captured_offset
    return utc_of_local(stored.captured_at)


def _check_still_open_for(visit, current, ended_at=None):
    """SubmissionRefused unless the visit as stored now is still the same shopper's and open, or its
    sending that ended at `ended_at` may still be changed (amends_last_sending)."""
    if current is None or current.shopper_id != visit.shopper_id:
        raise SubmissionRefused(404, "not_yours")  # withdrawn, or given to another shopper meanwhile
    if not (current.is_open_for_shopper or amends_last_sending(current, ended_at)):
        raise SubmissionRefused(409, "not_open")  # a sent visit's evidence is what the reviewer saw



# A photo's file is written before its row, so the file of an upload still in progress has no row
# yet: only files older than this are taken for leftovers.
LEFTOVER_MIN_AGE_SECONDS = 3600


def leftover_media(media_dir, min_age_seconds=LEFTOVER_MIN_AGE_SECONDS, now=None):
    """Files under media_dir/photos and media_dir/logos that no row refers to, older than min_age_seconds,
    as (folder/name, bytes). They are left by a process killed between writing a photo and recording
    it (the phone sends the photo again, under a new name), and by logos that were replaced."""
    referenced = {
        "photos": {name for (name,) in Evidence.select(Evidence.file_name).tuples()},
        "logos": {name for (name,) in Brand.select(Brand.logo_file).where(Brand.logo_file.is_null(False)).tuples()},
    }
    cutoff = (now or time.time()) - min_age_seconds
    leftovers = []
    for folder, names in referenced.items():
        path = os.path.join(media_dir, folder)
        if not os.path.isdir(path):
            continue
        with os.scandir(path) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False) and entry.name not in names:
                    stat = entry.stat(follow_symlinks=False)
                    if stat.st_mtime < cutoff:
                        leftovers.append((f"{folder}/{entry.name}", stat.st_size))
    return sorted(leftovers)


class AssignmentRefused(ValueError):
    """An assignment that breaks a rule; `code` names it for a translated message."""

    def __init__(self, code, **details):
        super().__init__(code)
        self.code = code
        self.details = details


def _eligible(shopper, branch, planned_from, planned_to, min_days, apart_from=None):
    recent = Visit.recent_at_branch(shopper, branch, planned_from, planned_to, min_days)
    if apart_from is not None:  # the visit being changed does not stand in its own way
        recent = recent.where(Visit.id != apart_from.id)
    return not recent.exists()


# An assigned visit can be changed or withdrawn until it is sent; after that it belongs to the review.
CHANGEABLE_STATES = (VisitState.ASSIGNED.value, VisitState.DRAFT.value)


def row_fingerprint(row, *more, leave_out=()):
    """What an auditor's page of a row (an account, a branch) was made from, with `more` that the
    page also shows (an account's regions): a change saved since makes the page out of date. Columns
    the page neither shows nor saves (`leave_out`) do not count."""
    seen = "|".join(f"{name}={row.__data__.get(name)}" for name in sorted(row.__data__) if name not in leave_out)
    seen += "|" + repr(more)
    return hashlib.sha256(seen.encode("utf-8")).hexdigest()[:16]


def visit_fingerprint(visit):
    """What an auditor's change page was made from: a change saved since makes the page out of date."""
    seen = f"{visit.shopper_id}|{visit.planned_from}|{visit.planned_to}|{visit.scenario}|{visit.state}"
    return hashlib.sha256(seen.encode("utf-8")).hexdigest()[:16]


def _moved_onto(visit, planned_from, planned_to):
    """The first visit of the branch with the same checklist that the new window overlaps and the
    visit's own window did not: moving a window onto it pays for the shop twice, as assigning a second
    visit would (a re-visit its old window already overlapped was made so on purpose)."""
    if (planned_from, planned_to) == (visit.planned_from, visit.planned_to):
        return None
    checklist = visit.checklist_version.checklist_id
    overlapped = Visit.planned_in_window(visit.branch, checklist, visit.planned_from, visit.planned_to).select(Visit.id)
    return (Visit.planned_in_window(visit.branch, checklist, planned_from, planned_to)
            .where((Visit.id != visit.id) & Visit.id.not_in(overlapped)).order_by(Visit.planned_from).first())


def change_visit(visit, shopper, planned_from, planned_to, scenario, min_days, revisit=False):
    """Give a visit not yet sent to another shopper, or move its window, or reword its brief.

    A new shopper starts afresh: the previous one's unsent answers kept on the server go with the
    change (they describe a visit the new shopper did not make). One conditional UPDATE, so a
    visit sent meanwhile is not changed: AssignmentRefused("not_changeable"). A window moved onto
    another visit of the branch with the checklist is refused as in assign_visit, unless `revisit`."""
    if not _eligible(shopper, visit.branch, planned_from, planned_to, min_days, apart_from=visit):
        raise AssignmentRefused("too_soon", days=min_days)
    planned = None if revisit else _moved_onto(visit, planned_from, planned_to)
    if planned is not None:
        raise AssignmentRefused("planned_in_window", start=planned.planned_from, end=planned.planned_to,
                                shopper=planned.shopper.name)
    changes = {"planned_from": planned_from, "planned_to": planned_to, "scenario": scenario.strip()}
    new_shopper = shopper.id != visit.shopper_id
    if new_shopper:
        changes.update(shopper=shopper, draft=None, started_at=None, state=VisitState.ASSIGNED.value)
    with database.atomic():
        # Only the visit as it was read: a change saved meanwhile (another tab, another auditor) is
        # not silently undone by this one.
        changed = (Visit.update(**changes)
                   .where((Visit.id == visit.id) & Visit.state.in_(CHANGEABLE_STATES)
                          & (Visit.shopper == visit.shopper_id) & (Visit.planned_from == visit.planned_from)
                          & (Visit.planned_to == visit.planned_to) & (Visit.scenario == visit.scenario))
                   .execute())
        if not changed:
            current = Visit.get_or_none(Visit.id == visit.id)
            raise AssignmentRefused("changed_meanwhile" if current and current.state in CHANGEABLE_STATES
                                    else "not_changeable")
        if new_shopper:
            # The photos the previous shopper sent are theirs, of a visit the new one did not make; the
            # files go with `flask media prune`.
            Evidence.delete().where(Evidence.visit == visit.id).execute()
    return Visit.get_by_id(visit.id)


def withdraw_visit(visit):
    """Delete a visit not yet sent (assigned by mistake, or no longer wanted), with its unsent photos'
    rows; their files go with `flask media prune`. AssignmentRefused("not_changeable") once it is sent."""
    with write_transaction():
        current = Visit.select().where((Visit.id == visit.id) & Visit.state.in_(CHANGEABLE_STATES))
        current = (current.for_update() if database.obj.for_update else current).first()
        if current is None:
            raise AssignmentRefused("not_changeable")
        current.delete_instance(recursive=True)


def assign_visit(branch, checklist, shopper, planned_from, planned_to, scenario, min_days, revisit=False):
    """One visit, pinned to the checklist's latest published version.

    A branch that already has a visit with this checklist in an overlapping window gets no second
    one, as a region's assignment skips it (AssignmentRefused("planned_in_window"), with that visit's
    window and shopper): a double click or an assignment made twice paid for the shop twice. Unless
    `revisit`: the auditor asks for a second visit on purpose (the first one could not be used)."""
    version = checklist.latest_published()
    if version is None:
        raise AssignmentRefused("no_published_version")
    with write_transaction():
        # The lock a region's assignment takes: the two do not both read "no visit yet" at once.
        if database.obj.for_update:
            Region.select(Region.id).where(Region.id == branch.region_id).for_update().execute()
        if not _eligible(shopper, branch, planned_from, planned_to, min_days):
            raise AssignmentRefused("too_soon", days=min_days)
        planned = None if revisit else (Visit.planned_in_window(branch, checklist, planned_from, planned_to)
                                        .order_by(Visit.planned_from).first())
        if planned is not None:
            raise AssignmentRefused("planned_in_window", start=planned.planned_from, end=planned.planned_to,
                                    shopper=planned.shopper.name)
        return Visit.create(branch=branch, checklist_version=version, shopper=shopper, planned_from=planned_from,
                            planned_to=planned_to, scenario=scenario.strip())


def assign_region(region, checklist, shoppers, planned_from, planned_to, scenarios, min_days):
    """A visit to every active branch of a region, shoppers taking turns; returns (visits, branches
    skipped because no chosen shopper may go yet, branches skipped because they already have one).

    `scenarios`: the briefs, given in turn too (one for all, or a chain's rotation), shifted by one
    each round of shoppers so that each shopper gets each brief rather than always the same one.

    A branch goes to the next shopper in turn who has not visited it recently; a branch that no
    chosen shopper may visit is skipped and reported. A branch that already has a visit with this
    checklist in an overlapping window is skipped too: running the same assignment twice (a double
    click, a second try) would otherwise pay for every branch's shop twice.
    """
    version = checklist.latest_published()
    if version is None:
        raise AssignmentRefused("no_published_version")
    created, skipped, planned = [], [], []
    turn = 0
    with write_transaction():
        # Two assignments of one region at once (a double click on two app servers, two auditors): one
        # waits for the other, then finds its visits. Without the lock, both read "no visit yet" and
        # each made one (PostgreSQL); SQLite refused the second at once.
        if database.obj.for_update:
            Region.select(Region.id).where(Region.id == getattr(region, "id", region)).for_update().execute()
        for branch in Branch.select().where((Branch.region == region) & Branch.is_active).order_by(Branch.code):
            if Visit.planned_in_window(branch, checklist, planned_from, planned_to).exists():
                planned.append(branch)
                continue
            for offset in range(len(shoppers)):
                shopper = shoppers[(turn + offset) % len(shoppers)]
                if _eligible(shopper, branch, planned_from, planned_to, min_days):
                    made = len(created)
                    brief = scenarios[(made + made // max(len(shoppers), len(scenarios))) % len(scenarios)]
                    created.append(Visit.create(
                        branch=branch, checklist_version=version, shopper=shopper, planned_from=planned_from,
                        planned_to=planned_to, scenario=brief.strip(),
                    ))
                    turn = (turn + offset + 1) % len(shoppers)
                    break
            else:
                skipped.append(branch)
    return created, skipped, planned
