"""Who may see what: role checks for views and the scope of each role."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from .models import Branch, Role


def role_required(*roles):
    """Allow the view only to signed-in users holding one of `roles` (403 otherwise)."""
    allowed = {Role(r).value for r in roles}

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def visible_branches(user):
    """The branches a user may report on: all for auditors, their regions' for managers."""
    if user.is_auditor:
        return Branch.ordered()
    if user.is_manager:
        return Branch.in_regions(user.region_ids())
    return Branch.ordered().where(Branch.id.is_null())  # shoppers see no branch reports


def may_read_job(user, job):
    """Whether the owner may still see all that the job's file holds: their role or regions may have
    changed since they started it (an auditor's export has shoppers' names; a manager moved to another
    region no longer sees the old one's branches)."""
    if user.is_auditor:
        return True
    if job.with_shopper:
        return False
    if job.branch_ids is None:
        return True  # made before the branches were recorded (see migrations._v11_job_scope)
    wanted = set(job.branch_ids)
    if not wanted:
        return True
    visible = {branch_id for (branch_id,) in visible_branches(user).select(Branch.id).tuples()}
    return wanted <= visible


def branch_or_404(user, branch_id):
    """The branch if the user may see it; 404 otherwise, so ids outside the scope reveal nothing."""
    branch = visible_branches(user).where(Branch.id == branch_id).first()
    if branch is None:
        abort(404)
    return branch
