"""A national chain at full size, for benchmarks and trials: `flask demo --scale N`.

N visits of the retail checklist at a chain of (by default) 500 branches in ten regions, one visit
per branch a month going back as far as N needs: 30,000 visits are five years, over a million
answers. Answers are drawn so that branches, regions, sections and dimensions differ and trend
(some branches improve, some slip, December is busier), scored by the same function as a real
submission (`operations.scored_rows`) and written in bulk inserts, a few thousand rows a statement.
"""
import random
import uuid
from datetime import datetime, time, timedelta

from peewee import PostgresqlDatabase, chunked

from .db import bulk_insert, database
from .demo import DEMO_PASSWORD, _answer_for, _visible, load_library
from .models import (
    Answer,
    Brand,
    Branch,
    ManagerRegion,
    Region,
    Role,
    User,
    Visit,
    VisitEvent,
    VisitScore,
    VisitState,
    utcnow,
)
from .operations import scored_rows
from .security import hash_password

CHAIN = "Nordia Markets"
CHECKLIST = "retail-store-visit"
CHAIN_MANAGER = "manager.chain@example.com"
# (region, country, language, latitude, longitude): branches are scattered around the centre.
REGIONS = [
    ("Budapest", "HU", "hu", 47.50, 19.04),
    ("Alföld", "HU", "hu", 47.00, 20.50),
    ("Dunántúl", "HU", "hu", 46.90, 17.90),
    ("Transilvania", "RO", "ro", 46.77, 23.60),
    ("Muntenia", "RO", "ro", 44.43, 26.10),
    ("Moldova", "RO", "ro", 47.16, 27.59),
    ("Северна България", "BG", "bg", 43.21, 27.91),
    ("Южна България", "BG", "bg", 42.14, 24.75),
    ("Harjumaa", "EE", "et", 59.44, 24.75),
    ("Lõuna-Eesti", "EE", "et", 58.38, 26.72),
]
SHOPPERS = 40
BATCH = 500  # visits scored and written together


class ScaleError(ValueError):
    """The chain cannot be loaded (already there, or a size that makes no sense)."""


def _quality_model(rng, regions, branches):
    """Per branch: base quality, monthly trend, and an offset per region and per section."""
    region_offset = {region.id: rng.gauss(0, 0.05) for region in regions}
    return {
        branch.id: {
            "base": min(0.95, max(0.35, rng.gauss(0.74, 0.12) + region_offset[branch.region_id])),
            "trend": rng.uniform(-0.004, 0.006),  # per month: over five years a branch drifts a lot
            "sections": {},
        }
        for branch in branches
    }


def _answers(content, model, months_ago, month, rng):
    """One visit's answers: the branch's quality that month, varied per section."""
    answers = {}
    seasonal = -0.06 if month == 12 else 0.0  # the December rush shows in every branch
    quality_now = model["base"] + model["trend"] * -months_ago + seasonal
    for section in content["sections"]:
        offset = model["sections"].setdefault(section["id"], rng.gauss(0, 0.1))
        quality = min(0.99, max(0.05, quality_now + offset + rng.gauss(0, 0.05)))
        for item in section["items"]:
            if not _visible(item, answers) or item["type"] == "text":
                continue
            value = _answer_for(item, quality, rng)
            if value is not None:
                answers[item["id"]] = value
    return answers


def _day_in_month(today, months_ago, rng):
    """A day of the calendar month `months_ago` months before today's (one visit a branch a month)."""
    year, month = divmod(today.year * 12 + today.month - 1 - months_ago, 12)
    return today.replace(year=year, month=month + 1, day=1 + rng.randrange(0, 28))


def _create_chain(branch_count, region_count, rng):
    brand = Brand.create(name=CHAIN, primary_color="#7a1f3d", accent_color="#1b998b", default_language="en")
    regions = [Region.create(brand=brand, name=name) for name, *_rest in REGIONS[:region_count]]
    branches = []
    for index in range(branch_count):
        name, country, _language, lat, lon = REGIONS[index % region_count]
        region = regions[index % region_count]
        number = index // region_count + 1
        branches.append({
            "region": region.id, "code": f"{country}-{index + 1:04d}", "name": f"Nordia {name} {number}",
            "address": f"{number} Market Street", "city": name, "country": country,
            "latitude": round(lat + rng.uniform(-0.6, 0.6), 4), "longitude": round(lon + rng.uniform(-0.9, 0.9), 4),
        })
    for rows in chunked(branches, BATCH):
        Branch.insert_many(rows).execute()
    return brand, regions, list(Branch.select().join(Region).where(Region.brand == brand).order_by(Branch.id))


def _create_people(regions, rng):
    password_hash = hash_password(DEMO_PASSWORD)
    manager = User.create(email=CHAIN_MANAGER, name="Lena Varga", role=Role.MANAGER.value, language="en",
                          password_hash=password_hash, password_set_at=utcnow())
    ManagerRegion.insert_many([{"manager": manager.id, "region": r.id} for r in regions]).execute()
    languages = [language for _name, _country, language, _lat, _lon in REGIONS]
    User.insert_many([
        {"email": f"chain.shopper{n:03d}@example.com", "name": f"Shopper {n:03d}", "role": Role.SHOPPER.value,
         "language": rng.choice(languages), "password_hash": password_hash, "password_set_at": utcnow()}
        for n in range(1, SHOPPERS + 1)
    ]).execute()
    shoppers = list(User.select().where(User.email.startswith("chain.shopper")).order_by(User.id))
    auditor = User.select().where(User.role == Role.AUDITOR.value).order_by(User.id).first()
    return shoppers, auditor or manager


def _next_visit_id():
    return (Visit.select(Visit.id).order_by(Visit.id.desc()).scalar() or 0) + 1


def _fix_sequence():
    """Visit ids were given explicitly; PostgreSQL's sequence must continue after them."""
    if isinstance(database.obj, PostgresqlDatabase):
        database.execute_sql("SELECT setval(pg_get_serial_sequence('visit', 'id'), (SELECT MAX(id) FROM visit))")


# Every table load_scale writes to.
LOADED_TABLES = (Brand, Region, Branch, User, ManagerRegion, Visit, Answer, VisitScore, VisitEvent)


def load_scale(visits, branches=500, regions=len(REGIONS), seed=20261125):
    """Add the chain with `visits` scored visits; returns counts. The library must be loadable."""
    if visits < 1 or branches < 1:
        raise ScaleError("The number of visits and of branches must be at least 1.")
    if not 1 <= regions <= len(REGIONS):
        raise ScaleError(f"The chain has from 1 to {len(REGIONS)} regions.")
    if Brand.select().where(Brand.name == CHAIN).exists():
        raise ScaleError(f"The database already has the {CHAIN} chain.")
    rng = random.Random(seed)
    version = load_library()[CHECKLIST]
    content = version.content
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    counts = {"branches": 0, "visits": 0, "answers": 0}
    with database.atomic():
        _brand, region_rows, branch_rows = _create_chain(branches, regions, rng)
        shoppers, auditor = _create_people(region_rows, rng)
        models = _quality_model(rng, region_rows, branch_rows)
        next_id = _next_visit_id()
        months = -(-visits // len(branch_rows))  # one visit per branch a month, newest month first
        plan = [(months_ago, branch) for months_ago in range(1, months + 1) for branch in branch_rows][:visits]
        for part in chunked(plan, BATCH):
            visit_rows, answer_rows, score_rows, event_rows = [], [], [], []
            for months_ago, branch in part:
                day = _day_in_month(today, months_ago, rng)
                started = datetime.combine(day.date(), time(9 + rng.randrange(0, 9), rng.randrange(0, 60)))
                ended = started + timedelta(minutes=rng.randrange(12, 35))
                waiting = months_ago == 1 and branch.id % 10 == 0  # some wait for review
                shopper = shoppers[(branch.id + months_ago) % len(shoppers)]
                answers = _answers(content, models[branch.id], months_ago, day.month, rng)
                rows, scores, fields, _result = scored_rows(content, next_id, answers)
                visit_rows.append({
                    "id": next_id, "uuid": uuid.UUID(int=rng.getrandbits(128), version=4),
                    "branch": branch.id, "checklist_version": version.id, "shopper": shopper.id, "scenario": "",
                    "planned_from": day.date() - timedelta(days=3), "planned_to": day.date() + timedelta(days=4),
                    "state": VisitState.SUBMITTED.value if waiting else VisitState.APPROVED.value,
                    "started_at": started, "ended_at": ended, "submitted_at": ended + timedelta(hours=2),
                    "approved_at": None if waiting else ended + timedelta(days=1),
                    "checkin_distance_m": round(rng.uniform(3, 60), 1), "created_at": day - timedelta(days=5),
                    **fields,
                })
                answer_rows += rows
                score_rows += scores
                event_rows.append({"visit": next_id, "from_state": VisitState.ASSIGNED.value,
                                   "to_state": VisitState.SUBMITTED.value, "actor": shopper.id,
                                   "created_at": ended + timedelta(hours=2)})
                if not waiting:
                    event_rows.append({"visit": next_id, "from_state": VisitState.SUBMITTED.value,
                                       "to_state": VisitState.APPROVED.value, "actor": auditor.id,
                                       "created_at": ended + timedelta(days=1)})
                next_id += 1
            for model, rows in ((Visit, visit_rows), (Answer, answer_rows), (VisitScore, score_rows),
                                (VisitEvent, event_rows)):
                bulk_insert(model, rows)
            counts["visits"] += len(visit_rows)
            counts["answers"] += len(answer_rows)
        _fix_sequence()
    if isinstance(database.obj, PostgresqlDatabase):
        # What autovacuum would do only some time later: the planner's statistics for the new rows
        # (until then it guesses the tables are small) and the visibility map that lets the dashboards
        # read answers and results from their covering indexes alone. Every table filled here, the
        # small ones too: unanalysed, 500 branches and 10 regions were guessed as 60 and 270, and
        # those guesses decide how the dashboards join the period's visits to them.
        tables = ", ".join(f'"{model._meta.table_name}"' for model in LOADED_TABLES)  # "user" is a keyword
        database.execute_sql(f"VACUUM ANALYZE {tables}")
    counts["branches"] = len(branch_rows)
    return counts
