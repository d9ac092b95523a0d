"""The audit log: one line per change of checklists, reviews, corrections, accounts and the organisation."""
from flask_login import current_user

from .models import AuditEntry


def record(action, target, **details):
    """Note that the signed-in user did `action` to `target` (e.g. "checklist.published", "retail v3")."""
    actor = current_user.id if current_user and current_user.is_authenticated else None
    AuditEntry.create(actor=actor, action=action, target=str(target)[:200], details=details or None)
