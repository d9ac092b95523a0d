"""Plain functions that change stored data, each in one transaction."""
from .checklist import content_hash, load_checklist_file
from .db import database
from .models import (
    Answer,
    Brand,
    Branch,
    Checklist,
    ChecklistVersion,
    ManagerRegion,
    Region,
    Role,
    User,
    utcnow,
)
from .scoring import display_percent, score
from .security import hash_password


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


def save_branch(branch, form):
    branch = branch or Branch()
    for field in ("region", "name", "address", "city", "country", "latitude", "longitude", "is_active"):
        value = getattr(form, field).data
        setattr(branch, field, value.strip() if isinstance(value, str) else value)
    branch.code = form.code.data.strip().upper()
    branch.save()
    return branch


def save_user(user, form):
    """Create or update an account; disabling it or changing its password ends its sessions."""
    with database.atomic():
        is_new = user is None
        user = user or User()
        ends_sessions = not is_new and (
            (user.is_enabled and not form.is_enabled.data) or bool(form.password.data)
        )
        user.email = form.email.data.strip().lower()
        user.name = form.name.data.strip()
        user.role = form.role.data
        user.language = form.language.data or None
        user.is_enabled = form.is_enabled.data
        if form.password.data:
            user.password_hash = hash_password(form.password.data)
        if ends_sessions:
            user.session_epoch += 1
        user.save()
        ManagerRegion.delete().where(ManagerRegion.manager == user).execute()
        if user.role == Role.MANAGER.value:
            for region_id in form.regions.data:
                ManagerRegion.create(manager=user, region=region_id)
    return user


def publish_checklist(data, content_hash):
    """Store a checklist file's content as a new published version, unless the latest is the same.

    Returns (version, created): an unchanged file creates nothing.
    """
    with database.atomic():
        checklist, _ = Checklist.get_or_create(slug=data["id"])
        latest = (
            ChecklistVersion.select()
            .where(ChecklistVersion.checklist == checklist)
            .order_by(ChecklistVersion.number.desc())
            .first()
        )
        if latest is not None and latest.content_hash == content_hash:
            return latest, False
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
    return display_percent(fraction, 4)


def score_and_store_answers(visit, answers, comments=None):
    """Replace a visit's answers, scored by the scoring function, and store its overall result."""
    comments = comments or {}
    result = score(visit.checklist_version.content, answers)
    with database.atomic():
        Answer.delete().where(Answer.visit == visit).execute()
        rows = []
        for item_id, value in answers.items():
            item_score = result.items.get(item_id)
            rows.append(
                {
                    "visit": visit.id,
                    "item_id": item_id,
                    "value": value,
                    "comment": comments.get(item_id, ""),
                    "earned": _stored(item_score.earned) if item_score else None,
                    "possible": _stored(item_score.possible) if item_score else None,
                }
            )
        if rows:
            Answer.insert_many(rows).execute()
        visit.score = _stored(result.overall)
        visit.band = result.band
        visit.has_critical_failure = result.is_flagged
        visit.save()
    return result


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


def publish_draft(version, problems):
    """Freeze a complete draft as the new published version; `problems` from check_complete."""
    if problems:
        raise DraftError("incomplete", problems=problems)
    latest = version.checklist.latest_published()
    if latest is not None and latest.content_hash == version.content_hash:
        raise DraftError("unchanged", number=latest.number)
    version.is_published = True
    version.published_at = utcnow()
    version.save()
    return version


def discard_draft(version):
    if version.is_published:
        raise DraftError("published_is_frozen")
    version.delete_instance()
