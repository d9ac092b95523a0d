"""Scores of a visit: checklist + answers -> overall, section and dimension percentages.

The single source of truth for every score in the product: reports, dashboards and exports all read
what `score` returns. Pure (plain data in, plain data out) and exact: points are fractions.Fraction,
YAML floats enter as Fraction(str(x)) so 0.5 stays 1/2, and rounding happens once, for display.

The checklist is the normalised dict from `audit.checklist.format` (raw dicts with defaults left out
work too). Answers map item id to: "yes"/"no" (yesno), a number (scale, timer, number), an option id
(choice), a string (text), a list of photo ids (photo), or "na" for not applicable.

Rules:
- An item can earn its weight (default 1): yesno yes = all, no = 0; scale weight x (value - min) /
  (max - min); choice weight x option points / highest option points; timer/number weight x the
  `points` of the first threshold (by ascending max) with value <= max, 0 above the last.
- Left out of both earned and possible: "na" answers, unanswered items (missing or None), unusable
  answers (see check_answers), items hidden by show_if, text and photo items.
- Section and dimension % = earned / possible x 100 (None when nothing possible). Overall % = the
  weighted mean of the scored sections' % when sections have weights, else all earned / all possible.
- A counted critical item earning less than its possible points is a critical failure: it flags the
  visit and caps the overall % at critical_cap when the checklist sets one.
- The band is the one with the highest min <= overall %.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

SCORING_TYPES = ("yesno", "scale", "choice", "timer", "number")
NOT_APPLICABLE = "na"
HUNDRED = Fraction(100)


@dataclass(frozen=True)
class ItemScore:
    """Points one counted item earned out of the points it could earn."""

    earned: Fraction
    possible: Fraction
    section_id: str
    dimension: str | None


@dataclass(frozen=True)
class ScoreResult:
    """A visit's score breakdown; percentages are exact Fractions in 0..100, None where nothing counted.

    Treat the dicts and the list as read-only. `language` is the checklist's first (source) language,
    the default for the band text in `to_json`.
    """

    overall: Fraction | None
    sections: dict
    dimensions: dict
    critical_failures: list
    band: dict | None
    is_flagged: bool
    items: dict
    language: str | None = None

    def to_json(self, places=2, language=None):
        """The breakdown as JSON-ready data: percentages rounded once (half up) to `places` decimals."""
        return {
            "overall": _json_percent(self.overall, places),
            "sections": {key: _json_percent(value, places) for key, value in self.sections.items()},
            "dimensions": {key: _json_percent(value, places) for key, value in self.dimensions.items()},
            "critical_failures": list(self.critical_failures),
            "band": self.band_text(language),
        }

    def band_text(self, language=None):
        """The band label in `language` (default: the checklist's first language), or None."""
        if not self.band:
            return None
        for wanted in (language, self.language):
            if wanted in self.band:
                return self.band[wanted]
        return next(iter(self.band.values()))


def display_percent(fraction, places=1):
    """A percentage rounded half up to `places` decimals as a Decimal (for the UI), or None."""
    if fraction is None:
        return None
    exact = Fraction(fraction)
    # Round the exact value, not a binary or Decimal approximation of it, so 87.45 never becomes 87.4.
    scaled = abs(exact) * 10**places
    whole = math.floor(scaled + Fraction(1, 2))
    return Decimal(-whole if exact < 0 else whole).scaleb(-places)


def _json_percent(fraction, places):
    rounded = display_percent(fraction, places)
    return None if rounded is None else float(rounded)


# -- reading the checklist -------------------------------------------------------------------------


def _exact(number):
    """A YAML/JSON number (int, float, Decimal, Fraction) as an exact Fraction, or None."""
    if isinstance(number, bool):
        return None
    if isinstance(number, (int, Fraction)):
        return Fraction(number)
    if isinstance(number, float):
        return Fraction(str(number)) if math.isfinite(number) else None
    if isinstance(number, Decimal):
        return Fraction(number) if number.is_finite() else None
    return None


def _items_in_order(checklist):
    """(section id, item) pairs in file order."""
    for section in checklist.get("sections", []):
        for item in section.get("items", []):
            yield section["id"], item


def _weight(entry):
    return _exact(entry.get("weight", 1))


# -- answers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerProblem:
    """Why an answer cannot be used, as data (`code`, `item_id`, `value`, `allowed`) and as a sentence.

    Codes: unknown_item, na_not_allowed, not_yes_no, not_an_option, not_a_number, not_whole,
    out_of_range (allowed = (min, max)), negative, not_text, not_photos. `allowed` lists the values
    the item takes, for the web layer to fill a translated message.
    """

    item_id: str
    code: str
    value: object
    allowed: tuple = ()

    @property
    def message(self):
        """The problem as a short English sentence naming the item and the value."""
        template = _ANSWER_SENTENCES.get(self.code, "Item '{item}': {value} cannot be used.")
        allowed = [str(value) for value in self.allowed]
        return template.format(
            item=self.item_id,
            value=_shown(self.value),
            allowed=", ".join(allowed),
            range=" to ".join(allowed),
        )

    def __str__(self):
        return self.message


_ANSWER_SENTENCES = {
    "unknown_item": "Item '{item}' is not in this checklist.",
    "na_not_allowed": "Item '{item}': N/A is not allowed.",
    "not_yes_no": "Item '{item}': {value} is not one of {allowed}.",
    "not_an_option": "Item '{item}': {value} is not one of {allowed}.",
    "not_a_number": "Item '{item}': {value} is not a number.",
    "not_whole": "Item '{item}': {value} is not a whole number.",
    "out_of_range": "Item '{item}': {value} is outside {range}.",
    "negative": "Item '{item}': {value} is negative.",
    "not_text": "Item '{item}': {value} is not text.",
    "not_photos": "Item '{item}': {value} is not a list of photo ids.",
}


def _shown(value):
    return repr(value) if isinstance(value, str) else str(value)


def _answer_problem(item, value):
    """The AnswerProblem with a given (not None) answer to a known item, or None when it is usable."""
    item_id = item["id"]
    item_type = item.get("type")
    allows_na = bool(item.get("na", False))
    if value == NOT_APPLICABLE and item_type != "text":
        return None if allows_na else AnswerProblem(item_id, "na_not_allowed", value)
    if item_type == "yesno":
        if value in ("yes", "no") and isinstance(value, str):
            return None
        allowed = ("yes", "no", NOT_APPLICABLE) if allows_na else ("yes", "no")
        return AnswerProblem(item_id, "not_yes_no", value, allowed)
    if item_type == "choice":
        option_ids = tuple(option["id"] for option in item.get("options", []))
        if isinstance(value, str) and value in option_ids:
            return None
        return AnswerProblem(item_id, "not_an_option", value, option_ids)
    if item_type == "scale":
        number = _exact(value)
        if number is None:
            return AnswerProblem(item_id, "not_a_number", value)
        if number.denominator != 1:
            return AnswerProblem(item_id, "not_whole", value)
        low, high = _exact(item["min"]), _exact(item["max"])
        if not low <= number <= high:
            return AnswerProblem(item_id, "out_of_range", value, (item["min"], item["max"]))
        return None
    if item_type in ("timer", "number"):
        number = _exact(value)
        if number is None:
            return AnswerProblem(item_id, "not_a_number", value)
        return AnswerProblem(item_id, "negative", value) if number < 0 else None
    if item_type == "text":
        return None if isinstance(value, str) else AnswerProblem(item_id, "not_text", value)
    if item_type == "photo":
        if isinstance(value, (list, tuple)) and all(isinstance(photo, str) for photo in value):
            return None
        return AnswerProblem(item_id, "not_photos", value)
    return None


def find_answer_problems(checklist, answers):
    """Every AnswerProblem in `answers`: known items in file order, then unknown item ids."""
    problems = []
    known = set()
    for _section_id, item in _items_in_order(checklist):
        known.add(item["id"])
        value = answers.get(item["id"])
        if value is not None:
            problem = _answer_problem(item, value)
            if problem is not None:
                problems.append(problem)
    for item_id, value in answers.items():
        if item_id not in known:
            problems.append(AnswerProblem(str(item_id), "unknown_item", value))
    return problems


def check_answers(checklist, answers):
    """English sentences for every answer that names an unknown item or has an impossible value."""
    return [problem.message for problem in find_answer_problems(checklist, answers)]


# -- scoring ---------------------------------------------------------------------------------------


def visible_item_ids(checklist, answers):
    """Ids of the items shown for these answers: no show_if, or the referenced answer is in its list."""
    visible = set()
    for _section_id, item in _items_in_order(checklist):
        condition = item.get("show_if")
        if not condition:
            visible.add(item["id"])
            continue
        # Hidden items hide their dependants too, whatever answer was left behind on them.
        target = condition.get("item")
        target_answer = answers.get(target) if target in visible else None
        if target_answer is not None and target_answer in condition.get("in", []):
            visible.add(item["id"])
    return visible


def _earned_share(item, value):
    """The share (0..1) of the item's points that a usable, applicable answer earns."""
    item_type = item["type"]
    if item_type == "yesno":
        return Fraction(1) if value == "yes" else Fraction(0)
    if item_type == "scale":
        low, high = _exact(item["min"]), _exact(item["max"])
        return (_exact(value) - low) / (high - low)
    if item_type == "choice":
        points = {option["id"]: _exact(option["points"]) for option in item["options"]}
        return points[value] / max(points.values())
    thresholds = sorted(item["thresholds"], key=lambda step: _exact(step["max"]))
    number = _exact(value)
    for step in thresholds:
        if number <= _exact(step["max"]):
            return _exact(step["points"])
    return Fraction(0)


def _is_counted(item, value):
    """Whether an answer enters the score: a scoring item, answered, applicable and usable.

    Answers check_answers would reject count as unanswered, so a bad value stored somewhere can
    never crash a dashboard or invent points; callers check answers before saving them.
    """
    if item.get("type") not in SCORING_TYPES or value is None or value == NOT_APPLICABLE:
        return False
    if _answer_problem(item, value) is not None:
        return False
    if item["type"] == "choice" and not any(_exact(option["points"]) for option in item["options"]):
        return False
    return True


def score_items(checklist, answers):
    """ItemScore of every item that counts, by item id, in file order."""
    visible = visible_item_ids(checklist, answers)
    scores = {}
    for section_id, item in _items_in_order(checklist):
        value = answers.get(item["id"])
        if item["id"] not in visible or not _is_counted(item, value):
            continue
        possible = _weight(item)
        scores[item["id"]] = ItemScore(
            earned=possible * _earned_share(item, value),
            possible=possible,
            section_id=section_id,
            dimension=item.get("dimension"),
        )
    return scores


def _percent(item_scores):
    """earned / possible x 100 over some item scores; None when nothing was possible."""
    possible = sum((score.possible for score in item_scores), Fraction(0))
    if not possible:
        return None
    return sum((score.earned for score in item_scores), Fraction(0)) / possible * HUNDRED


def _section_percents(checklist, item_scores):
    return {
        section["id"]: _percent([s for s in item_scores.values() if s.section_id == section["id"]])
        for section in checklist.get("sections", [])
    }


def _dimension_tags(checklist):
    """Declared dimension tags first, then any other tag used by a scoring item, in file order."""
    tags = list(checklist.get("dimensions") or {})
    for _section_id, item in _items_in_order(checklist):
        tag = item.get("dimension")
        if tag is not None and item.get("type") in SCORING_TYPES and tag not in tags:
            tags.append(tag)
    return tags


def _dimension_percents(checklist, item_scores):
    return {
        tag: _percent([s for s in item_scores.values() if s.dimension == tag])
        for tag in _dimension_tags(checklist)
    }


def _overall_percent(checklist, item_scores, section_percents):
    """Weighted mean of the section percentages when sections are weighted, else all earned / possible.

    A section without a weight among weighted ones counts with weight 1 (the validator forbids it).
    """
    sections = checklist.get("sections", [])
    if not any("weight" in section for section in sections):
        return _percent(list(item_scores.values()))
    weighted_sum = Fraction(0)
    total_weight = Fraction(0)
    for section in sections:
        percent = section_percents.get(section["id"])
        if percent is None:
            continue  # an unscored section drops out together with its weight
        weight = _weight(section)
        weighted_sum += weight * percent
        total_weight += weight
    return weighted_sum / total_weight if total_weight else None


def _critical_failures(checklist, item_scores):
    return [
        item["id"]
        for _section_id, item in _items_in_order(checklist)
        if item.get("critical") and item["id"] in item_scores
        and item_scores[item["id"]].earned < item_scores[item["id"]].possible
    ]


def _band(checklist, overall):
    """Label of the band with the highest min not above the overall percentage, or None."""
    if overall is None:
        return None
    reached = [band for band in checklist.get("bands") or [] if _exact(band["min"]) <= overall]
    if not reached:
        return None
    return max(reached, key=lambda band: _exact(band["min"]))["label"]


def score(checklist, answers: Mapping) -> ScoreResult:
    """Score a visit's answers against a checklist, following the rules in the module docstring."""
    item_scores = score_items(checklist, answers)
    sections = _section_percents(checklist, item_scores)
    overall = _overall_percent(checklist, item_scores, sections)
    critical_failures = _critical_failures(checklist, item_scores)
    cap = checklist.get("critical_cap")
    if critical_failures and cap is not None and overall is not None:
        overall = min(overall, _exact(cap))
    languages = checklist.get("languages") or [None]
    return ScoreResult(
        overall=overall,
        sections=sections,
        dimensions=_dimension_percents(checklist, item_scores),
        critical_failures=critical_failures,
        band=_band(checklist, overall),
        is_flagged=bool(critical_failures),
        items=item_scores,
        language=languages[0],
    )
