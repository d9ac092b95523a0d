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
- A counted answer passes when it earns at least the item's pass_mark % of its points (100 when the
  checklist sets none: all of them), and fails otherwise ("items failed most often", a comment or a
  photo required when failed). A failed critical item is a critical failure: it flags the visit and
  caps the overall % at critical_cap when the checklist sets one.
- The band is the one with the highest min <= overall %.

For speed, a checklist is compiled once and kept while it stays unchanged (see "compiling a checklist"
and "the compiled-checklist cache" below). So a checklist the validator rejects (say, a scale without
a max) fails to score as a whole, where it used to fail only once its broken item was answered.
"""

import copy
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

SCORING_TYPES = ("yesno", "scale", "choice", "timer", "number")
NOT_APPLICABLE = "na"


@dataclass(frozen=True)
class ItemScore:
    """Points one counted item earned out of the points it could earn."""

    earned: Fraction
    possible: Fraction
    section_id: str
    dimension: str | None
    passed: bool = True  # earned at least the item's pass mark (see the module's rules)


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
    exact = fraction if isinstance(fraction, Fraction) else Fraction(fraction)
    # Round the exact value, not a binary or Decimal approximation of it, so 87.45 never becomes 87.4:
    # floor(|n/d| * 10^places + 1/2) in whole numbers (this runs for every stored answer).
    numerator, denominator = abs(exact.numerator) * 10**places, exact.denominator
    whole = (2 * numerator + denominator) // (2 * denominator)
    return Decimal(-whole if exact.numerator < 0 else whole).scaleb(-places)


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
    out_of_range (allowed = (min, max)), negative, too_large (allowed = (largest,)), not_text, not_photos.
    `allowed` lists the values
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
    "too_large": "Item '{item}': {value} is larger than {allowed}.",
    "not_text": "Item '{item}': {value} is not text.",
    "not_photos": "Item '{item}': {value} is not a list of photo ids.",
}


def _shown(value):
    return repr(value) if isinstance(value, str) else str(value)


# The largest answer a timer (seconds) or a number item takes. A wait longer than a day, or a count
# past a billion, is a slip of the finger or a broken client, and such a value in the database only
# breaks the reports that show it (a number of 10^25 did).
LARGEST_ANSWER = {"timer": 24 * 60 * 60, "number": 10**9}


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
        if number < 0:
            return AnswerProblem(item_id, "negative", value)
        largest = LARGEST_ANSWER[item_type]
        return AnswerProblem(item_id, "too_large", value, (largest,)) if number > largest else None
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


# -- compiling a checklist -------------------------------------------------------------------------
#
# Dashboards and reports score thousands of visits against one checklist, so what depends only on
# the checklist is worked out once: weights, points and thresholds as Fractions, which section and
# dimension each item adds to, and one denominator common to every point value in the checklist.
# Each item's outcomes (its ItemScore, and the same points as whole multiples of 1/denominator) are
# made the first time an answer needs them. Adding up a visit is then integer addition, and each
# percentage costs a single Fraction.


@dataclass(frozen=True, slots=True)
class _Outcome:
    """A counted answer: its ItemScore, the same points in units of 1/denominator, and where they go."""

    item_score: ItemScore
    earned: int
    possible: int
    section: int  # index into _Compiled.section_ids
    dimension: int | None  # index into _Compiled.dimension_tags, None for an item without a tag
    falls_short: bool  # earned less than the pass mark: a critical failure when the item is critical


def _in_units(points, denominator):
    """points x denominator as an int; _compile makes the denominator a multiple of the points' own."""
    units, remainder = divmod(points.numerator * denominator, points.denominator)
    assert not remainder, (points, denominator)
    return units


def _as_bound(number):
    """A bound to compare answers with: an int when whole, because int answers compare faster with it."""
    return number.numerator if number.denominator == 1 else number


def _whole_number(value):
    """A scale answer as an int when check_answers would take it as a whole number, else None."""
    if type(value) is int:  # the usual answer, read without making a Fraction (bool is not int here)
        return value
    number = _exact(value)
    return number.numerator if number is not None and number.denominator == 1 else None


class _Scorer:
    """Turns an answer to one scoring item into its _Outcome, or None when the answer is not usable.

    The constructor reads the item's numbers as Fractions; `finish` then gets the common denominator,
    known only once every item has been read. Each kind of item maps a usable answer to a key (the
    answer itself, a whole number, a threshold) and says what that key earns. The outcome of a key is
    made when an answer first needs it, then remembered: a checklist the web app scores only once
    does not pay for outcomes no answer reaches.
    """

    REMEMBERED = 1000  # outcomes kept per item; only a long scale can have more keys than this

    def __init__(self, item, section_id, section_slot, dimension_slot):
        self.id = item["id"]
        self.has_condition = bool(item.get("show_if"))
        self.possible = _weight(item)
        # The points an answer must earn to pass: all of them unless the checklist sets a pass mark.
        mark = _exact(item.get("pass_mark", 100))
        self.passing = self.possible * (mark if mark is not None else 100) / 100
        self._placement = (section_id, item.get("dimension"), section_slot, dimension_slot)
        self._denominator = self._possible_units = None
        self._outcomes = {}

    def key(self, value):
        """What decides the points of a usable answer; None when check_answers would reject it."""
        raise NotImplementedError

    def earned(self, key):
        """The points an answer with this key earns."""
        raise NotImplementedError

    def denominators(self):
        """Denominators of the points this item gives; the common denominator is a multiple of each."""
        return [self.possible.denominator]

    def finish(self, denominator):
        self._denominator = denominator
        self._possible_units = _in_units(self.possible, denominator)

    def outcome(self, value):
        """The _Outcome of an answer that is neither None nor N/A, or None when it cannot be used."""
        key = self.key(value)
        if key is None:
            return None
        outcome = self._outcomes.get(key)
        if outcome is None:
            outcome = self._outcome(self.earned(key))
            if len(self._outcomes) < self.REMEMBERED:
                self._outcomes[key] = outcome
        return outcome

    def _outcome(self, earned):
        section_id, dimension, section_slot, dimension_slot = self._placement
        falls_short = earned < self.passing
        return _Outcome(
            item_score=ItemScore(earned=earned, possible=self.possible, section_id=section_id, dimension=dimension,
                                 passed=not falls_short),
            earned=_in_units(earned, self._denominator),
            possible=self._possible_units,
            section=section_slot,
            dimension=dimension_slot,
            falls_short=falls_short,
        )


class _AnswerScorer(_Scorer):
    """yesno and choice items: fixed points for each accepted answer."""

    def __init__(self, item, *placement):
        super().__init__(item, *placement)
        self._earned = _earned_by_answer(item, self.possible)

    def key(self, value):
        # Only a string is an answer here, as in _answer_problem; the dict alone would take True for 1.
        return value if isinstance(value, str) and value in self._earned else None

    def earned(self, key):
        return self._earned[key]

    def denominators(self):
        return super().denominators() + [earned.denominator for earned in self._earned.values()]


def _earned_by_answer(item, possible):
    """Points each accepted answer earns: yes all, no none; an option its share of the best option's points.

    A choice whose options all give 0 accepts nothing: it never counts.
    """
    if item["type"] == "yesno":
        return {"yes": possible, "no": Fraction(0)}
    options = item.get("options", [])
    if not any(_exact(option["points"]) for option in options):
        return {}
    points = {option["id"]: _exact(option["points"]) for option in options}
    best = max(points.values())
    return {option_id: possible * (value / best) for option_id, value in points.items()}


class _ScaleScorer(_Scorer):
    """scale items: (value - min) / (max - min) of the points for a whole number from min to max."""

    def __init__(self, item, *placement):
        super().__init__(item, *placement)
        self._low, self._high = _exact(item["min"]), _exact(item["max"])
        self._bounds = (_as_bound(self._low), _as_bound(self._high))

    def key(self, value):
        number = _whole_number(value)
        low, high = self._bounds
        return number if number is not None and low <= number <= high else None

    def earned(self, key):
        return self.possible * ((key - self._low) / (self._high - self._low))

    def denominators(self):
        span = self._high - self._low
        if not span:
            return super().denominators()  # answering it divides by zero, as it always did
        # Earned points are possible / span x (value - min) for a whole value: this denominator covers them.
        return super().denominators() + [(self.possible / span).denominator * self._low.denominator]


class _ThresholdScorer(_Scorer):
    """timer and number items: the points of the first threshold, by ascending max, the value is within."""

    def __init__(self, item, *placement):
        super().__init__(item, *placement)
        steps = sorted(item["thresholds"], key=lambda step: _exact(step["max"]))
        self._limits = [_as_bound(_exact(step["max"])) for step in steps]
        # Above the last threshold an answer earns nothing: that is the key after the last one.
        self._earned = [self.possible * _exact(step["points"]) for step in steps] + [Fraction(0)]
        self._largest = LARGEST_ANSWER[item["type"]]

    def key(self, value):
        number = value if type(value) is int else _exact(value)  # an int compares exactly as it is
        if number is None or number < 0 or number > self._largest:
            return None
        for index, limit in enumerate(self._limits):
            if number <= limit:
                return index
        return len(self._limits)

    def earned(self, key):
        return self._earned[key]

    def denominators(self):
        return super().denominators() + [earned.denominator for earned in self._earned]


_SCORERS = {
    "yesno": _AnswerScorer,
    "choice": _AnswerScorer,
    "scale": _ScaleScorer,
    "timer": _ThresholdScorer,
    "number": _ThresholdScorer,
}


def failing_answers(item):
    """The answers of a yes/no, scale or single choice item that fall short of its pass mark, in the
    order the fill page offers them; [] for other items (a typed answer can be any number). The page
    asks for the comment or photo such an answer needs when it is chosen, not after the visit is sent."""
    if item.get("type") not in ("yesno", "scale", "choice"):
        return []
    scorer = _SCORERS[item["type"]](item, None, None, None)
    if item["type"] == "yesno":
        offered = ["yes", "no"]
    elif item["type"] == "scale":
        offered = list(range(item["min"], item["max"] + 1))
    else:
        offered = [option["id"] for option in item.get("options", [])]
    return [value for value in offered
            if (key := scorer.key(value)) is not None and scorer.earned(key) < scorer.passing]


def failing_ranges(item):
    """The typed answers of a timer or number item that fall short of its pass mark, as [above, up to]
    pairs of numbers (None: no bound), one per threshold step: an answer fails when it is greater than
    `above` and at most `up to`, as the scorer compares it. [] for other items."""
    if item.get("type") not in ("timer", "number"):
        return []
    scorer = _ThresholdScorer(item, None, None, None)
    bounds = [None] + [float(limit) for limit in scorer._limits] + [None]
    return [[bounds[key], bounds[key + 1]] for key in range(len(bounds) - 1)
            if scorer.earned(key) < scorer.passing]


@dataclass(frozen=True)
class _Compiled:
    """A checklist read once for scoring; made by _compile."""

    conditions: tuple  # see _conditions
    has_conditions: bool  # whether any item has a show_if, else every item is visible
    scorers: tuple  # a _Scorer per scoring item, in file order
    section_ids: tuple  # distinct section ids in file order: the keys of ScoreResult.sections
    dimension_tags: tuple  # the keys of ScoreResult.dimensions
    section_weights: tuple | None  # (section slot, whole-number weight) per section; None when unweighted
    critical_ids: tuple  # ids of the critical items, in file order
    has_critical_cap: bool
    critical_cap: Fraction | None
    band_minimums: tuple  # each band's min, in the checklist's order of bands
    language: str | None


def _conditions(checklist):
    """(item id, (show_if item, accepted answers) or None) for every item, in file order."""
    conditions = []
    for _section_id, item in _items_in_order(checklist):
        condition = item.get("show_if")
        conditions.append((item["id"], (condition.get("item"), condition.get("in", [])) if condition else None))
    return tuple(conditions)


def _dimension_tags(checklist):
    """Declared dimension tags first, then any other tag used by a scoring item, in file order."""
    tags = list(checklist.get("dimensions") or {})
    for _section_id, item in _items_in_order(checklist):
        tag = item.get("dimension")
        if tag is not None and item.get("type") in SCORING_TYPES and tag not in tags:
            tags.append(tag)
    return tags


def _section_weights(checklist, section_slots):
    """(section slot, weight) per section when sections are weighted, else None.

    Only the ratios of the weights matter in a weighted mean, so they are scaled to whole numbers.
    A section without a weight among weighted ones counts with weight 1 (the validator forbids it).
    """
    sections = checklist.get("sections", [])
    if not any("weight" in section for section in sections):
        return None
    weights = [_weight(section) for section in sections]
    common = math.lcm(*(weight.denominator for weight in weights))
    return tuple(
        (section_slots[section["id"]], weight.numerator * (common // weight.denominator))
        for section, weight in zip(sections, weights)
    )


def _compile(checklist):
    """Read a checklist once for scoring: see _Compiled and the scorers."""
    section_ids = tuple(dict.fromkeys(section["id"] for section in checklist.get("sections", [])))
    dimension_tags = tuple(dict.fromkeys(_dimension_tags(checklist)))
    section_slots = {section_id: slot for slot, section_id in enumerate(section_ids)}
    dimension_slots = {tag: slot for slot, tag in enumerate(dimension_tags)}
    scorers = tuple(
        _SCORERS[item["type"]](item, section_id, section_slots[section_id], dimension_slots.get(item.get("dimension")))
        for section_id, item in _items_in_order(checklist)
        if item.get("type") in SCORING_TYPES
    )
    denominator = math.lcm(*(number for scorer in scorers for number in scorer.denominators()))
    for scorer in scorers:
        scorer.finish(denominator)
    items = [item for _section_id, item in _items_in_order(checklist)]
    conditions = _conditions(checklist)
    cap = checklist.get("critical_cap")
    return _Compiled(
        conditions=conditions,
        has_conditions=any(condition is not None for _item_id, condition in conditions),
        scorers=scorers,
        section_ids=section_ids,
        dimension_tags=dimension_tags,
        section_weights=_section_weights(checklist, section_slots),
        critical_ids=tuple(item["id"] for item in items if item.get("critical")),
        has_critical_cap=cap is not None,
        critical_cap=_exact(cap),
        band_minimums=tuple(_exact(band["min"]) for band in checklist.get("bands") or []),
        language=(checklist.get("languages") or [None])[0],
    )


# -- the compiled-checklist cache ------------------------------------------------------------------
#
# Checklists are plain dicts: mutable, unhashable, and the web editor makes a new one on every change.
# So compiled checklists are kept by id(), and an entry is used only when
# (1) it holds that very dict; it keeps the dict alive, so no other dict can take over the id, and
# (2) the dict still equals a deep copy taken when it was compiled, so a change made in place (a
#     weight edited, an item added) is compiled afresh rather than scored with stale points.
# Comparing costs a fraction of scoring one visit. == has two blind spots. It ignores the order of a
# mapping's keys: the only such order a score shows is that of `dimensions`, compared on its own. And
# it does not tell 1 from True: only a checklist the validator rejects (a bool for a number) differs.
# (2) is skipped for a dict its owner declared read-only (`read_only`): the database's shared copies.

_CACHE_SIZE = 8  # a few checklist versions in use at once; the oldest entry goes first
_cache = {}
_cache_lock = threading.Lock()
# Checklists their owner promised never to change (see `read_only`), by id. The entry holds the
# object itself, so its id cannot be reused by another object while it is listed.
_read_only = {}


def read_only(checklist):
    """Promise that `checklist` will not change from now on; returns it.

    Scoring then trusts its cached compilation without comparing the checklist with the copy it
    was compiled from, which for a 250-item checklist in six languages costs more than scoring.
    """
    with _cache_lock:
        _read_only.pop(id(checklist), None)
        while len(_read_only) >= 4 * _CACHE_SIZE:
            del _read_only[next(iter(_read_only))]
        _read_only[id(checklist)] = checklist
    return checklist


_IMMUTABLE_TYPES = frozenset({str, int, float, bool, type(None), Decimal, Fraction})


def _plain_copy(data):
    """A deep copy of checklist data that shares only immutable values with it (so == is quick)."""
    kind = type(data)
    # Exact types: an isinstance test against Mapping costs more than copying. Leaves are tested inline,
    # as they are most of a checklist (its translations).
    if kind is dict:
        return {key: value if type(value) in _IMMUTABLE_TYPES else _plain_copy(value) for key, value in data.items()}
    if kind is list:
        return [value if type(value) in _IMMUTABLE_TYPES else _plain_copy(value) for value in data]
    if kind in _IMMUTABLE_TYPES:
        return data
    return copy.deepcopy(data)  # anything else (a tuple, another mapping type) the slow, sure way


def _declared_dimensions(checklist):
    return list(checklist.get("dimensions") or {})


@dataclass(frozen=True)
class _CacheEntry:
    checklist: Mapping
    snapshot: dict
    declared_dimensions: list
    compiled: _Compiled

    def is_current_for(self, checklist):
        if self.checklist is not checklist:
            return False
        if _read_only.get(id(checklist)) is checklist:
            return True  # promised never to change: comparing it again would cost more than scoring
        return checklist == self.snapshot and _declared_dimensions(checklist) == self.declared_dimensions


def _compiled(checklist):
    """The checklist compiled, from the cache when it has not changed since it was compiled."""
    entry = _cache.get(id(checklist))
    if entry is not None and entry.is_current_for(checklist):
        return entry.compiled
    # Copy before compiling: a copy taken later might already include a change the compiled data lacks.
    snapshot = _plain_copy(checklist)
    entry = _CacheEntry(checklist, snapshot, _declared_dimensions(snapshot), _compile(checklist))
    with _cache_lock:
        _cache.pop(id(checklist), None)
        while len(_cache) >= _CACHE_SIZE:
            del _cache[next(iter(_cache))]
        _cache[id(checklist)] = entry
    return entry.compiled


# -- scoring ---------------------------------------------------------------------------------------


def _visible_ids(conditions, answers):
    visible = set()
    for item_id, condition in conditions:
        if condition is None:
            visible.add(item_id)
            continue
        # Hidden items hide their dependants too, whatever answer was left behind on them.
        target, accepted = condition
        target_answer = answers.get(target) if target in visible else None
        if target_answer is not None and target_answer in accepted:
            visible.add(item_id)
    return visible


def visible_item_ids(checklist, answers):
    """Ids of the items shown for these answers: no show_if, or the referenced answer is in its list."""
    return _visible_ids(_conditions(checklist), answers)


def _counted_outcomes(compiled, answers):
    """The _Outcome of every item that counts, by item id, in file order.

    Answers check_answers would reject count as unanswered (the scorer gives no outcome), so a bad
    value stored somewhere can never crash a dashboard or invent points; callers check answers
    before saving them.
    """
    visible = _visible_ids(compiled.conditions, answers) if compiled.has_conditions else None
    outcomes = {}
    for scorer in compiled.scorers:
        if scorer.has_condition and scorer.id not in visible:
            continue
        value = answers.get(scorer.id)
        if value is None or value == NOT_APPLICABLE:
            continue
        outcome = scorer.outcome(value)
        if outcome is not None:
            outcomes[scorer.id] = outcome
    return outcomes


def score_items(checklist, answers):
    """ItemScore of every item that counts, by item id, in file order."""
    outcomes = _counted_outcomes(_compiled(checklist), answers)
    return {item_id: outcome.item_score for item_id, outcome in outcomes.items()}


@dataclass
class _Totals:
    """Earned and possible points of a visit per section and per dimension slot, in compiled units."""

    section_earned: list
    section_possible: list
    dimension_earned: list
    dimension_possible: list

    @classmethod
    def add_up(cls, compiled, outcomes):
        """The totals of some outcomes."""
        sections, dimensions = len(compiled.section_ids), len(compiled.dimension_tags)
        totals = cls([0] * sections, [0] * sections, [0] * dimensions, [0] * dimensions)
        for outcome in outcomes:
            totals.section_earned[outcome.section] += outcome.earned
            totals.section_possible[outcome.section] += outcome.possible
            if outcome.dimension is not None:
                totals.dimension_earned[outcome.dimension] += outcome.earned
                totals.dimension_possible[outcome.dimension] += outcome.possible
        return totals


def _percent(earned, possible):
    """earned / possible x 100, both in the same units; None when nothing was possible."""
    return Fraction(100 * earned, possible) if possible else None


def _overall_percent(compiled, totals):
    """Weighted mean of the section percentages when sections are weighted, else all earned / possible."""
    if compiled.section_weights is None:
        return _percent(sum(totals.section_earned), sum(totals.section_possible))
    # Sum weight x earned / possible as one integer fraction, to make a single Fraction at the end.
    numerator, denominator, total_weight = 0, 1, 0
    for slot, weight in compiled.section_weights:
        earned, possible = totals.section_earned[slot], totals.section_possible[slot]
        if not possible:
            continue  # an unscored section drops out together with its weight
        numerator = numerator * possible + denominator * weight * earned
        denominator *= possible
        total_weight += weight
    return Fraction(100 * numerator, denominator * total_weight) if total_weight else None


def _critical_failures(compiled, outcomes):
    return [item_id for item_id in compiled.critical_ids if item_id in outcomes and outcomes[item_id].falls_short]


def _band(checklist, compiled, overall):
    """Label of the band with the highest min not above the overall percentage, or None."""
    if overall is None:
        return None
    minimums = compiled.band_minimums
    reached = [index for index, minimum in enumerate(minimums) if minimum <= overall]
    if not reached:
        return None
    # The label comes from the checklist itself, as the band a caller sees is the checklist's own.
    return checklist["bands"][max(reached, key=minimums.__getitem__)]["label"]


def score(checklist, answers: Mapping) -> ScoreResult:
    """Score a visit's answers against a checklist, following the rules in the module docstring."""
    compiled = _compiled(checklist)
    outcomes = _counted_outcomes(compiled, answers)
    totals = _Totals.add_up(compiled, outcomes.values())
    overall = _overall_percent(compiled, totals)
    critical_failures = _critical_failures(compiled, outcomes)
    if critical_failures and compiled.has_critical_cap and overall is not None:
        overall = min(overall, compiled.critical_cap)
    return ScoreResult(
        overall=overall,
        sections=dict(zip(compiled.section_ids, map(_percent, totals.section_earned, totals.section_possible))),
        dimensions=dict(
            zip(compiled.dimension_tags, map(_percent, totals.dimension_earned, totals.dimension_possible))
        ),
        critical_failures=critical_failures,
        band=_band(checklist, compiled, overall),
        is_flagged=bool(critical_failures),
        items={item_id: outcome.item_score for item_id, outcome in outcomes.items()},
        language=compiled.language,
    )


def band_for(checklist, percent):
    """The band label mapping a percentage reaches in a checklist (for averages over many visits)."""
    if percent is None:
        return None
    return _band(checklist, _compiled(checklist), _exact(percent))
