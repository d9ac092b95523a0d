"""Benchmark: how fast visits are scored and checklists are loaded (prints figures; not a test).

(a) Scores 10,000 random but valid answer sets (seeded, so every run scores the same visits) against
    the 40-item retail checklist with `audit.scoring.score`, best of 3, and compares it with a plain
    loop over the same answers that sums float weight x share per item. The ratio is the price of
    what `score` does beyond that: exact Fraction arithmetic, checking each answer, show_if,
    sections, dimensions, critical items and bands. The target (from the issue) is under 2 s.
(b) Loads every checklist in checklists/ with `load_checklist_file`, best of 5, in ms per file.

Run from the repository root:  .venv/bin/python bench/bench_scoring.py [--json PATH]
"""

import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script without installing the package

from audit.checklist import load_checklist_file  # noqa: E402
from audit.scoring import SCORING_TYPES, score  # noqa: E402
from bench._setup import write_figures  # noqa: E402

CHECKLIST = ROOT / "checklists" / "retail-store-visit.yaml"
LIBRARY = ROOT / "checklists"
VISITS = 10_000
SEED = 20240501
TARGET_SECONDS = 2.0
SCORE_RUNS = 3
LOAD_RUNS = 5


# -- visits ----------------------------------------------------------------------------------------


def _items(checklist):
    return [item for section in checklist["sections"] for item in section["items"]]


def _random_answer(item, rng):
    """An answer a shopper could give: mostly usable, sometimes skipped or not applicable."""
    roll = rng.random()
    if roll < 0.05:
        return None
    if roll < 0.10 and item.get("na"):
        return "na"
    item_type = item["type"]
    if item_type == "yesno":
        return "yes" if rng.random() < 0.8 else "no"
    if item_type == "scale":
        return rng.randint(item["min"], item["max"])
    if item_type == "choice":
        return rng.choice(item["options"])["id"]
    if item_type == "timer":
        return rng.randint(0, 400)
    if item_type == "number":
        return rng.randint(0, 3)
    if item_type == "text":
        return "The shop assistant was busy but friendly."
    return [f"photo-{rng.randint(1, 10**6)}"]


def random_visits(checklist, count, seed):
    """`count` answer sets for the checklist, the same ones for the same seed."""
    rng = random.Random(seed)
    items = _items(checklist)
    visits = []
    for _ in range(count):
        answers = {}
        for item in items:
            answer = _random_answer(item, rng)
            if answer is not None:
                answers[item["id"]] = answer
        visits.append(answers)
    return visits


# -- the float baseline ----------------------------------------------------------------------------


def _float_share(item, value):
    item_type = item["type"]
    if item_type == "yesno":
        return 1.0 if value == "yes" else 0.0
    if item_type == "scale":
        return (value - item["min"]) / (item["max"] - item["min"])
    if item_type == "choice":
        points = {option["id"]: float(option["points"]) for option in item["options"]}
        return points[value] / max(points.values())
    for step in item["thresholds"]:
        if value <= step["max"]:
            return float(step["points"])
    return 0.0


def float_percent(items, answers):
    """Earned / possible x 100 in floats: the least any scorer must do, for comparison only."""
    earned = possible = 0.0
    for item in items:
        value = answers.get(item["id"])
        if item["type"] not in SCORING_TYPES or value is None or value == "na":
            continue
        weight = float(item["weight"])
        earned += weight * _float_share(item, value)
        possible += weight
    return earned / possible * 100 if possible else None


# -- timing ----------------------------------------------------------------------------------------


def best_seconds(work, runs):
    """The fastest of `runs` timings of work(), in seconds (the least disturbed by the machine)."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def print_table(headers, rows):
    """Rows under headers, the first column left-aligned and the others right-aligned."""
    table = [headers] + rows
    widths = [max(len(row[column]) for row in table) for column in range(len(headers))]

    def line(row):
        cells = [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
        return "  ".join(cells)

    print(line(headers))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line(row))


def bench_scoring():
    checklist = load_checklist_file(CHECKLIST)
    items = _items(checklist)
    visits = random_visits(checklist, VISITS, SEED)

    exact = best_seconds(lambda: [score(checklist, answers) for answers in visits], SCORE_RUNS)
    plain = best_seconds(lambda: [float_percent(items, answers) for answers in visits], SCORE_RUNS)

    print(f"Scoring {VISITS:,} visits of {CHECKLIST.name} ({len(items)} items), best of {SCORE_RUNS}:")
    print_table(
        ["scorer", "total s", "visits/s", "µs/visit", "x baseline"],
        [
            [name, f"{seconds:.3f}", f"{VISITS / seconds:,.0f}", f"{seconds / VISITS * 1e6:.1f}",
             f"{seconds / plain:.1f}"]
            for name, seconds in (("score() (Fraction)", exact), ("float loop baseline", plain))
        ],
    )
    verdict = "met" if exact < TARGET_SECONDS else "MISSED"
    print(f"Target: {VISITS:,} visits in under {TARGET_SECONDS:g} s: {verdict} ({exact:.3f} s).")
    return {"scoring_10k_s": exact, "scoring_x_float_loop": exact / plain}


def bench_loading():
    paths = sorted(LIBRARY.glob("*.yaml"))
    seconds = best_seconds(lambda: [load_checklist_file(path) for path in paths], LOAD_RUNS)
    print(f"Loading the checklist library ({len(paths)} files), best of {LOAD_RUNS}:")
    print_table(
        ["library", "files", "total ms", "ms/file"],
        [["checklists/*.yaml", str(len(paths)), f"{seconds * 1e3:.1f}", f"{seconds * 1e3 / len(paths):.1f}"]],
    )
    return {"checklist_load_ms_per_file": seconds * 1e3 / len(paths)}


def main():
    print(f"Python {sys.version.split()[0]}")
    print()
    figures = bench_scoring()
    print()
    figures.update(bench_loading())
    if "--json" in sys.argv:
        write_figures(sys.argv[sys.argv.index("--json") + 1], figures)


if __name__ == "__main__":
    main()
