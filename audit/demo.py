"""Realistic demo data: two brands, three regions, twelve branches, accounts, six months of visits
(at the branches, and a phone or online enquiry a month to a third of them)."""
import glob
import os
import random
from datetime import datetime, time, timedelta

from flask import current_app

from .db import database
from .models import Brand, Branch, ManagerRegion, Region, Role, User, Visit, VisitEvent, VisitState, utcnow
from .operations import publish_checklist_file, score_and_store_answers, set_checklist_client
from .security import hash_password

DEMO_PASSWORD = "demo-password"

BRANDS = [
    {
        "name": "Aurora Electronics",
        "primary_color": "#1f4e79",
        "accent_color": "#b58500",
        "default_language": "hu",
        "checklist": "retail-store-visit",
        "regions": {
            "Hungary": [
                ("BUD-01", "Aurora Váci utca", "Váci utca 19.", "Budapest", "HU", 47.4936, 19.0530),
                ("BUD-02", "Aurora Allee", "Október huszonharmadika u. 8-10.", "Budapest", "HU", 47.4755, 19.0485),
                ("DEB-01", "Aurora Debrecen Fórum", "Csapó utca 30.", "Debrecen", "HU", 47.5296, 21.6292),
                ("SZE-01", "Aurora Szeged Árkád", "Londoni körút 3.", "Szeged", "HU", 46.2440, 20.1480),
            ],
            "Romania and Bulgaria": [
                ("CLJ-01", "Aurora Cluj Iulius", "Strada Alexandru Vaida Voevod 53B", "Cluj-Napoca", "RO", 46.7712, 23.6266),
                ("BUC-01", "Aurora București Unirii", "Bulevardul Unirii 1", "București", "RO", 44.4268, 26.1025),
                ("SOF-01", "Aurora София Витоша", "бул. „Витоша“ 48", "София", "BG", 42.6915, 23.3196),
                ("PDV-01", "Aurora Пловдив Главна", "ул. „Княз Александър I“ 12", "Пловдив", "BG", 42.1447, 24.7488),
            ],
        },
    },
    {
        "name": "Baltia Bank",
        "primary_color": "#0b6e4f",
        "accent_color": "#a08600",
        "default_language": "et",
        "checklist": "bank-branch-visit",
        "checklist_is_theirs": True,  # written for this client alone (the retail one serves two chains)
        "regions": {
            "Estonia": [
                ("TLN-01", "Baltia Viru väljak", "Viru väljak 4", "Tallinn", "EE", 59.4370, 24.7536),
                ("TLN-02", "Baltia Kristiine", "Endla 45", "Tallinn", "EE", 59.4270, 24.7240),
                ("TRT-01", "Baltia Tartu Kesklinn", "Küüni 7", "Tartu", "EE", 58.3780, 26.7290),
                ("NRV-01", "Baltia Нарва", "Tallinna mnt 6", "Narva", "EE", 59.3772, 28.1900),
            ],
        },
    },
]

ACCOUNTS = [
    ("auditor@example.com", "Anna Kovács", Role.AUDITOR, "en", []),
    ("manager.hu@example.com", "Gábor Nagy", Role.MANAGER, "hu", ["Hungary"]),
    ("manager.ee@example.com", "Kristjan Tamm", Role.MANAGER, "et", ["Estonia", "Romania and Bulgaria"]),
    ("shopper1@example.com", "Eszter Varga", Role.SHOPPER, "hu", []),
    ("shopper2@example.com", "Ioana Popescu", Role.SHOPPER, "ro", []),
    ("shopper3@example.com", "Мария Иванова", Role.SHOPPER, "ru", []),
]
DEMO_LOGINS = [(role.value, email) for email, _name, role, _lang, _regions in ACCOUNTS]

# The contact at a distance (a mystery call, a chat, an e-mail) that a third of the branches, of both
# clients, also get once a month: a manager then reads branches audited with two checklists, and the
# dashboards and reports with three, as an organisation running a shop, a bank and an enquiry visit does.
ENQUIRY = "phone-and-online-enquiry"

COMMENTS = {
    "en": ["The consultant was friendly but had to ask a colleague.", "Clean and well lit; queue moved quickly."],
    "hu": ["Az eladó kedves volt, de meg kellett kérdeznie egy kollégáját.", "Tiszta, világos üzlet, gyorsan haladt a sor."],
    "ro": ["Consultantul a fost amabil, dar a trebuit să întrebe un coleg.", "Curat și bine luminat; coada a avansat repede."],
    "ru": ["Консультант был вежлив, но ему пришлось спросить коллегу.", "Чисто и светло, очередь двигалась быстро."],
}


def _answer_for(item, quality, rng):
    """A plausible answer: better branches (higher quality, 0..1) answer better more often."""
    kind = item["type"]
    if item.get("na") and rng.random() < 0.12:
        return "na"
    if item.get("critical"):
        quality = 0.80 + 0.20 * quality  # critical failures are the exception, and the weaker branches' more
    if kind == "yesno":
        return "yes" if rng.random() < quality else "no"
    if kind == "scale":
        low, high = item["min"], item["max"]
        value = low + (high - low) * min(1.0, max(0.0, rng.gauss(quality, 0.2)))
        return int(round(value))
    if kind == "choice":
        options = sorted(item["options"], key=lambda o: o["points"], reverse=True)
        index = 0 if rng.random() < quality else rng.randrange(len(options))
        return options[index]["id"]
    if kind in ("timer", "number"):
        limits = [t["max"] for t in item["thresholds"]]
        top = limits[-1] * 1.6
        return int(round(top * min(1.0, max(0.02, rng.gauss(1.0 - quality, 0.25)))))
    return None  # text and photo: left to the comment


def best_answers(content):
    """The answer that earns most for every item a shopper answers (photo items take photos instead)."""
    answers = {}
    for section in content["sections"]:
        for item in section["items"]:
            kind = item["type"]
            if kind == "yesno":
                answers[item["id"]] = "yes"
            elif kind == "scale":
                answers[item["id"]] = item["max"]
            elif kind == "choice":
                answers[item["id"]] = max(item["options"], key=lambda o: o["points"])["id"]
            elif kind in ("timer", "number"):
                answers[item["id"]] = 0
            elif kind == "text":
                answers[item["id"]] = "Calm and helpful."
    return answers


def _visible(item, answers):
    condition = item.get("show_if")
    return not condition or answers.get(condition["item"]) in condition["in"]


def _fill(content, quality, visit_key, language):
    """A visit's answers, each drawn from a generator of its own, seeded by the visit and the item id:
    a question added to a checklist or taken out of it changes the demo by its own answers only. One
    generator for the whole organisation reshuffled every branch (its quality, its critical failures)
    when the retail checklist gained a question."""
    answers, comments = {}, {}
    for section in content["sections"]:
        for item in section["items"]:
            if not _visible(item, answers):
                continue
            rng = random.Random(f"{visit_key}:{item['id']}")
            if item["type"] == "text":
                answers[item["id"]] = rng.choice(COMMENTS.get(language, COMMENTS["en"]))
                continue
            value = _answer_for(item, quality, rng)
            if value is None:
                continue
            answers[item["id"]] = value
    return answers, comments


def _scenario(checklist_id, language):
    briefs = SCENARIOS[checklist_id]
    return briefs.get(language) or briefs["en"]


def load_library():
    """Publish every checklist file of the library; returns {checklist id: version}."""
    versions = {}
    for path in sorted(glob.glob(os.path.join(current_app.config["CHECKLIST_DIR"], "*.yaml"))):
        version, _created = publish_checklist_file(path)
        versions[version.checklist.slug] = version
    return versions


def load_demo(seed=20261125, months=6):
    """Fill an empty database with the demo organisation and its visit history."""
    rng = random.Random(seed)
    versions = load_library()
    with database.atomic():
        password_hash = hash_password(DEMO_PASSWORD)
        regions, branches = {}, []
        for spec in BRANDS:
            brand = Brand.create(
                name=spec["name"],
                primary_color=spec["primary_color"],
                accent_color=spec["accent_color"],
                default_language=spec["default_language"],
            )
            if spec.get("checklist_is_theirs"):
                set_checklist_client(versions[spec["checklist"]].checklist, brand.id)
            for region_name, rows in spec["regions"].items():
                region = Region.create(brand=brand, name=region_name)
                regions[region_name] = region
                for code, name, address, city, country, lat, lon in rows:
                    branch = Branch.create(
                        region=region, code=code, name=name, address=address, city=city,
                        country=country, latitude=lat, longitude=lon,
                    )
                    branches.append((branch, versions[spec["checklist"]]))
        users = {}
        for email, name, role, language, region_names in ACCOUNTS:
            user = User.create(
                email=email, name=name, role=role.value, language=language, password_hash=password_hash,
                password_set_at=utcnow(),
            )
            for region_name in region_names:
                ManagerRegion.create(manager=user, region=regions[region_name])
            users[email] = user
        shoppers = [u for u in users.values() if u.is_shopper]
        auditor = next(u for u in users.values() if u.is_auditor)

        today = utcnow().date()
        visits = 0
        for index, (branch, version) in enumerate(branches):
            base_quality = 0.55 + 0.4 * rng.random()
            trend = rng.uniform(-0.04, 0.05)  # some branches improve month by month, some slip
            for month_back in range(months, 0, -1):
                day = today - timedelta(days=30 * month_back - rng.randrange(0, 20))
                shopper = shoppers[(index + month_back) % len(shoppers)]
                started = datetime.combine(day, time(10 + rng.randrange(0, 7), rng.randrange(0, 60)))
                ended = started + timedelta(minutes=rng.randrange(12, 35))
                # The latest visit of every third branch still waits for the auditor's review.
                waiting = month_back == 1 and index % 3 == 0
                visit = Visit.create(
                    branch=branch, checklist_version=version, shopper=shopper,
                    planned_from=day - timedelta(days=3), planned_to=day + timedelta(days=4),
                    state=VisitState.SUBMITTED.value if waiting else VisitState.APPROVED.value,
                    started_at=started, ended_at=ended, submitted_at=ended + timedelta(hours=2),
                    approved_at=None if waiting else ended + timedelta(days=1),
                    checkin_distance_m=round(rng.uniform(3, 60), 1),
                    scenario="",
                )
                quality = min(0.98, max(0.2, base_quality + trend * (months - month_back)))
                answers, comments = _fill(version.content, quality, f"{seed}:{branch.code}:{month_back}",
                                          shopper.language)
                score_and_store_answers(visit, answers, comments)
                VisitEvent.create(visit=visit, from_state=VisitState.ASSIGNED.value,
                                  to_state=VisitState.SUBMITTED.value, actor=shopper, created_at=visit.submitted_at)
                if not waiting:
                    VisitEvent.create(visit=visit, from_state=VisitState.SUBMITTED.value,
                                      to_state=VisitState.APPROVED.value, actor=auditor, created_at=visit.approved_at)
                visits += 1
            if index % 3 == 1:
                visits += _enquiries(branch, versions[ENQUIRY], index, months, seed, base_quality, trend,
                                     shoppers, auditor, today)
            # Work ahead for the shoppers: the next visit of every branch is assigned.
            shopper = shoppers[index % len(shoppers)]
            Visit.create(
                branch=branch, checklist_version=version, shopper=shopper,
                planned_from=today + timedelta(days=1), planned_to=today + timedelta(days=10),
                state=VisitState.ASSIGNED.value,
                scenario=_scenario(version.checklist.slug, shopper.language),
            )
    return {
        "brands": len(BRANDS),
        "regions": len(regions),
        "branches": len(branches),
        "accounts": len(ACCOUNTS),
        "visits sent": visits,
        "assigned visits": len(branches),
    }


def _enquiries(branch, version, index, months, seed, base_quality, trend, shoppers, auditor, today):
    """A branch's approved enquiries, one a month; returns how many. Drawn from a generator of their
    own: the branch visits' generator draws every branch after this one, which stay as they were.
    Made away from the branch (the checklist's on_site is false): no distance to it is recorded."""
    rng = random.Random(f"{seed}:{ENQUIRY}:{branch.code}")
    for month_back in range(months, 0, -1):
        day = today - timedelta(days=30 * month_back - rng.randrange(0, 25))
        shopper = shoppers[(index + month_back + 1) % len(shoppers)]
        started = datetime.combine(day, time(9 + rng.randrange(0, 8), rng.randrange(0, 60)))
        ended = started + timedelta(minutes=rng.randrange(4, 15))  # a call or a chat, not a visit
        visit = Visit.create(
            branch=branch, checklist_version=version, shopper=shopper,
            planned_from=day - timedelta(days=3), planned_to=day + timedelta(days=4),
            state=VisitState.APPROVED.value, started_at=started, ended_at=ended,
            submitted_at=ended + timedelta(hours=1), approved_at=ended + timedelta(days=1), scenario="",
        )
        # The same branch answers the phone a little worse than it serves at the counter, or better.
        quality = min(0.98, max(0.2, base_quality + rng.uniform(-0.1, 0.05) + trend * (months - month_back)))
        answers, comments = _fill(version.content, quality, f"{seed}:{ENQUIRY}:{branch.code}:{month_back}",
                                  shopper.language)
        score_and_store_answers(visit, answers, comments)
        VisitEvent.create(visit=visit, from_state=VisitState.ASSIGNED.value, to_state=VisitState.SUBMITTED.value,
                          actor=shopper, created_at=visit.submitted_at)
        VisitEvent.create(visit=visit, from_state=VisitState.SUBMITTED.value, to_state=VisitState.APPROVED.value,
                          actor=auditor, created_at=visit.approved_at)
    return months


# The scenario brief, in the language of the shopper who will make the visit.
SCENARIOS = {
    "retail-store-visit": {
        "en": "Ask for a mid-range phone for your mother; say you are unsure which to choose and pay by card.",
        "hu": "Kérjen egy középkategóriás telefont az édesanyjának; mondja, hogy bizonytalan, melyiket válassza, és kártyával fizessen.",
        "ro": "Cereți un telefon de gamă medie pentru mama dumneavoastră; spuneți că nu știți sigur pe care să-l alegeți și plătiți cu cardul.",
        "ru": "Попросите телефон среднего класса для мамы; скажите, что не знаете, какой выбрать, и оплатите картой.",
    },
    "bank-branch-visit": {
        "en": "Ask how to open a savings account for your child and what it costs; ask for the terms in writing.",
        "hu": "Kérdezze meg, hogyan nyithat megtakarítási számlát a gyermekének, és mennyibe kerül; kérje írásban a feltételeket.",
        "ro": "Întrebați cum puteți deschide un cont de economii pentru copilul dumneavoastră și cât costă; cereți condițiile în scris.",
        "ru": "Спросите, как открыть сберегательный счёт для ребёнка и сколько это стоит; попросите условия в письменном виде.",
    },
}
