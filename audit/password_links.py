"""Links that let a person set their account's password: an invitation to a new account, or a new
password for one who forgot theirs. The app sends no e-mail: the auditor passes the link on (e-mail,
a message app), as agencies pass shoppers their briefs.

A link names the account and a fingerprint of its password and sessions, signed with SECRET_KEY
(itsdangerous, as Flask's own session cookie): it works until LINK_DAYS have passed, the password is
set (by this link, another one or an auditor) or the account's sessions are ended; never twice.
"""
import hashlib
import secrets

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .models import User, utcnow
from .security import hash_password

LINK_DAYS = 7
_SALT = "audit.password-link"


def _serializer():
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def _fingerprint(user):
    return hashlib.sha256(f"{user.password_hash}|{user.session_epoch}".encode()).hexdigest()[:24]


def make_token(user):
    return _serializer().dumps([user.id, _fingerprint(user)])


def account_of(token):
    """(the enabled account the token may set the password of, None) or (None, "expired" | "invalid")."""
    try:
        user_id, fingerprint = _serializer().loads(token, max_age=LINK_DAYS * 24 * 3600)
    except SignatureExpired:
        return None, "expired"
    except (BadSignature, ValueError, TypeError):
        return None, "invalid"
    user = User.get_or_none(User.id == user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_enabled or not secrets.compare_digest(str(fingerprint), _fingerprint(user)):
        return None, "invalid"  # used, replaced by a newer password, signed out everywhere, or closed
    return user, None


def unusable_password():
    """A password hash no one can sign in with: a new account's until its invitation link is used."""
    return hash_password(secrets.token_urlsafe(32))


def set_password(user, password):
    """Set the password and end every session of the account (the link dies with the old hash); the
    account no longer waits for its invitation to be used. False when the link was used meanwhile
    (two sends of the form at once): only the first counts."""
    changed = User.update(password_hash=hash_password(password), session_epoch=User.session_epoch + 1,
                          password_set_at=utcnow()).where(
        (User.id == user.id) & (User.password_hash == user.password_hash)
        & (User.session_epoch == user.session_epoch) & User.is_enabled).execute()
    return changed == 1
