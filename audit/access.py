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


# What a reviewer takes out of a sent visit because it may tell who made it (the shopper's reflection
# in a photo, their name in a comment or a free-text answer); see taken_out_since.
TAKEN_OUT = ("photo.hidden", "comment.corrected", "answer.corrected")


def may_read_job(user, job):
    """Whether the owner may still see the job's page: their role or regions may have changed since
    they started it (an auditor's export has shoppers' names; a manager moved to another region no
    longer sees the old one's branches). Its file is theirs only if, besides, it is not
    overtaken_by_review."""
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


def overtaken_by_review(user, job):
    """Whether a manager's file may hold what a reviewer took out since it was made (taken_out_since):
    its page says so, and the file is no longer handed out. Auditors' files are not: they see it all."""
    return not user.is_auditor and taken_out_since(job)


def taken_out_since(job):
    """Whether a reviewer left a photo out of the managers' reports, or corrected a comment or a
    free-text answer, of a visit of the job's branches after the job began: its file may still hold
    what was taken out (a face, a name), and was handed out for days after the reviewer was told it
    was gone. A corrected yes/no, scale, choice or number holds no name: a score fixed after the file
    was made does not take it away (the manager had to make every region's ZIP again for one)."""
    import uuid

    from .db import id_in
    from .models import AuditEntry, ChecklistVersion, Visit

    visits, answers = set(), {}  # visits with a photo or comment taken out; {visit: corrected item ids}
    for target, action, details in (AuditEntry.select(AuditEntry.target, AuditEntry.action, AuditEntry.details)
                                    .where(AuditEntry.action.in_(TAKEN_OUT)
                                           & (AuditEntry.created_at >= job.created_at)).tuples()):
        try:
            visit = uuid.UUID(target)
        except ValueError:
            continue
        item = details.get("item") if action == "answer.corrected" and isinstance(details, dict) else None
        if item is None:
            visits.add(visit)
        else:
            answers.setdefault(visit, set()).add(item)
    if not visits and not answers:
        return False
    query = (Visit.select(Visit.uuid, ChecklistVersion.content).join(ChecklistVersion)
             .where(Visit.uuid.in_(list(visits | set(answers)))))
    if job.branch_ids is not None:
        query = query.where(id_in(Visit.branch, job.branch_ids))
    for visit_uuid, content in query.tuples():
        if visit_uuid in visits:
            return True
        corrected = answers.get(visit_uuid, ())
        if any(item["id"] in corrected and item["type"] == "text"
               for section in content["sections"] for item in section["items"]):
            return True
    return False
