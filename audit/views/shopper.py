"""The shopper's own visits."""
from flask import Blueprint, render_template
from flask_login import current_user

from ..access import role_required
from ..models import Role, Visit

bp = Blueprint("shopper", __name__, url_prefix="/visits")


@bp.route("/")
@role_required(Role.SHOPPER)
def visits():
    return render_template("shopper/visits.html", visits=Visit.of_shopper(current_user))
