"""Charts for the PDF reports and dashboards, drawn server-side as SVG strings.

Pure: plain data in, a string out; no Flask, no files, no fonts read. The SVG is written by hand so
that it works in both places it goes: WeasyPrint (inline <svg> or an <img> data URI) and browsers
under a strict CSP. Hence only presentation attributes (fill, stroke, font-size...), never a style
attribute, <style>, <script> or external reference; every piece of caller text goes through
`escape`. The caller passes every word already translated (titles, notes, labels, legend names) and
may pass `value_format` to print numbers the locale's way.

Text widths are estimated from the character count (DejaVu Sans is about 0.6 em a character), which
is enough to thin out crowded labels and wrap the legend.
"""

import base64
import math
import re
from xml.sax.saxutils import escape

DEFAULT_COLOUR = "#1f4e79"
DEFAULT_ACCENT = "#f2a900"
FONT_FAMILY = "DejaVu Sans, sans-serif"
NO_VALUE = "\u2014"  # em dash, shown where a score is missing
ELLIPSIS = "\u2026"
LABEL_MAX_CHARS = 38
BAR_ROW_HEIGHT = 26
BAR_KEY = "bar"  # legend style key of the value bar itself

TEXT_COLOUR = "#222222"
MUTED_COLOUR = "#6b7280"
GRID_COLOUR = "#d9dde3"
TRACK_COLOUR = "#e8ebef"

# Compare marker i (region average, brand average...) is drawn with style i; None stands for the
# accent colour, so the first marker stands out from the bar in brand colours.
MARKER_STYLES = (
    {"stroke": None, "dasharray": None},
    {"stroke": "#333333", "dasharray": "3 2"},
    {"stroke": "#777777", "dasharray": "1 1.5"},
    {"stroke": None, "dasharray": "3 2"},
)

_COLOUR_RE = re.compile(r"#[0-9a-fA-F]{6}")
# Characters XML 1.0 forbids even when escaped; a stray one in a label must not break the report.
_XML_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CHAR_EM = 0.62


def trend_chart(points, *, width=520, height=180, colour=DEFAULT_COLOUR, accent=DEFAULT_ACCENT,
                labels=None, y_min=0, y_max=100, title=None, value_format=None, empty_text=None):
    """Line chart of scores over time as an SVG string; None values leave a gap."""
    width, height = _size(width, "width"), _size(height, "height")
    colour = valid_colour(colour, DEFAULT_COLOUR)
    accent = valid_colour(accent, DEFAULT_ACCENT)
    fmt = value_format or _default_format
    y_min, y_max = float(y_min), float(y_max)
    if not y_max > y_min:
        raise ValueError(f"The trend chart needs y_max above y_min, got y_min={y_min} and y_max={y_max}.")

    points = [(str(label), _number(value)) for label, value in points]
    if labels is not None:
        labels = [str(label) for label in labels]
        if len(labels) != len(points):
            raise ValueError(
                f"The trend chart got {len(labels)} labels for {len(points)} points; pass one label a point."
            )
        points = [(label, value) for label, (_, value) in zip(labels, points)]

    top = 14 + (18 if title else 0)
    left, right, bottom = 30, 12, 20
    plot_w, plot_h = max(width - left - right, 1), max(height - top - bottom, 1)

    def y_of(value):
        clamped = min(max(value, y_min), y_max)
        return top + plot_h * (y_max - clamped) / (y_max - y_min)

    parts = []
    if title:
        parts.append(_text(left, 13, title, size=11, weight="bold"))

    for i in range(5):  # 0/25/50/75/100 for the default range
        tick = y_min + (y_max - y_min) * i / 4
        y = y_of(tick)
        parts.append(f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(left + plot_w)}" y2="{_n(y)}" '
                     f'stroke="{GRID_COLOUR}" stroke-width="1"/>')
        parts.append(_text(left - 4, y + 3, f"{tick:g}", size=8, anchor="end", fill=MUTED_COLOUR))

    count = len(points)
    step = plot_w / count if count else 0
    xs = [left + step * (i + 0.5) for i in range(count)]

    if not any(value is not None for _, value in points):
        if empty_text:
            parts.append(_text(left + plot_w / 2, top + plot_h / 2 + 4, empty_text, size=10,
                               anchor="middle", fill=MUTED_COLOUR))
    # A run of consecutive values is one polyline; None ends the run, which leaves the gap.
    run = []
    for x, (_, value) in [*zip(xs, points), (None, (None, None))]:
        if value is not None:
            run.append(f"{_n(x)},{_n(y_of(value))}")
            continue
        if len(run) > 1:
            parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                         f'stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>')
        run = []

    label_size = 9
    shown = _thinned_labels([label for label, _ in points], step, label_size)
    value_size = _fitting_size([fmt(v) for _, v in points if v is not None], step, largest=9, smallest=6)
    for i, (x, (label, value)) in enumerate(zip(xs, points)):
        if i in shown:
            half = _text_width(label, label_size) / 2
            lx = min(max(x, half + 1), width - half - 1)
            parts.append(_text(lx, height - 6, label, size=label_size, anchor="middle", fill=MUTED_COLOUR))
        if value is None:
            continue
        is_last = i == count - 1
        y = y_of(value)
        shown_value = fmt(value)
        parts.append(
            f'<g><title>{_escape(f"{label}: {shown_value}")}</title>'
            f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{4.5 if is_last else 3}" '
            f'fill="{accent if is_last else colour}" stroke="#ffffff" stroke-width="1"/></g>'
        )
        parts.append(_text(x, y - 7, shown_value, size=value_size, anchor="middle",
                           fill=TEXT_COLOUR, weight="bold" if is_last else None))

    summary = "; ".join(f"{label}: {NO_VALUE if v is None else fmt(v)}" for label, v in points)
    # Screen readers get the numbers too, not just the title.
    return _svg(width, height, ". ".join(filter(None, (title, summary or empty_text))), parts)


def bar_chart(rows, *, width=520, colour=DEFAULT_COLOUR, accent=DEFAULT_ACCENT, value_format=None,
              legend=None, empty_text=None):
    """Horizontal 0-100 bars with compare markers as an SVG string; height grows with the rows.

    rows: [{"label": str, "value": float|None, "compare": [(name, float|None), ...]}]; compare
    entry i is drawn in MARKER_STYLES[i]. legend: [(name, key)] where key is BAR_KEY ("bar") for
    the value bar or the int position of a compare entry.
    """
    width = _size(width, "width")
    colour = valid_colour(colour, DEFAULT_COLOUR)
    accent = valid_colour(accent, DEFAULT_ACCENT)
    fmt = value_format or _default_format
    legend = list(legend or [])
    for name, key in legend:
        if key != BAR_KEY and not (isinstance(key, int) and not isinstance(key, bool) and key >= 0):
            raise ValueError(
                f"Legend entry {name!r} has style key {key!r}; use {BAR_KEY!r} for the bar "
                f"or the position (0, 1, ...) of a compare entry."
            )

    label_size, value_size = 9.5, 9.5
    label_w = min(_text_width("M" * LABEL_MAX_CHARS, label_size * 0.9), width * 0.45)
    value_w = _text_width("100.0", value_size) + 10
    track_x = label_w + 8
    track_w = max(width - track_x - value_w, 1)
    bar_h = 12

    def x_of(value):
        return track_x + track_w * min(max(value, 0.0), 100.0) / 100

    rows = list(rows)
    parts, summary = [], []
    if not rows and empty_text:
        parts.append(_text(width / 2, BAR_ROW_HEIGHT / 2 + 4, empty_text, size=10,
                           anchor="middle", fill=MUTED_COLOUR))
    for i, row in enumerate(rows):
        label = str(row.get("label", ""))
        value = _number(row.get("value"))
        compare = [(str(name), _number(v)) for name, v in row.get("compare") or ()]
        top = 4 + i * BAR_ROW_HEIGHT
        mid = top + BAR_ROW_HEIGHT / 2
        bar_y = mid - bar_h / 2

        shown_label = label if len(label) <= LABEL_MAX_CHARS else label[:LABEL_MAX_CHARS - 1].rstrip() + ELLIPSIS
        parts.append(f"<g><title>{_escape(label)}</title>"
                     + _text(0, mid + 3.5, shown_label, size=label_size, fill=TEXT_COLOUR) + "</g>")
        parts.append(f'<rect x="{_n(track_x)}" y="{_n(bar_y)}" width="{_n(track_w)}" height="{bar_h}" '
                     f'fill="{TRACK_COLOUR}"/>')
        shown_value = NO_VALUE if value is None else fmt(value)
        if value is not None and value > 0:
            parts.append(f'<rect x="{_n(track_x)}" y="{_n(bar_y)}" width="{_n(x_of(value) - track_x)}" '
                         f'height="{bar_h}" fill="{colour}"/>')
        for position, (name, compare_value) in enumerate(compare):
            if compare_value is None:
                continue
            x = x_of(compare_value)
            parts.append(f"<g><title>{_escape(f'{name}: {fmt(compare_value)}')}</title>"
                         + _marker(x, bar_y - 4, bar_y + bar_h + 4, position, accent) + "</g>")
        parts.append(_text(width - 2, mid + 3.5, shown_value, size=value_size, anchor="end",
                           fill=TEXT_COLOUR if value is not None else MUTED_COLOUR))
        summary.append(f"{label}: {shown_value}")

    height = 4 + max(len(rows), 1) * BAR_ROW_HEIGHT
    if legend:
        height += 4
        x, line_h, legend_size = 0.0, 16, 9
        height += line_h
        for name, key in legend:
            item_w = 22 + _text_width(name, legend_size) + 14
            if x > 0 and x + item_w > width:
                x, height = 0.0, height + line_h
            mid = height - line_h / 2
            if key == BAR_KEY:
                parts.append(f'<rect x="{_n(x)}" y="{_n(mid - 5)}" width="16" height="10" fill="{colour}"/>')
            else:
                parts.append(f'<rect x="{_n(x)}" y="{_n(mid - 5)}" width="16" height="10" fill="{TRACK_COLOUR}"/>')
                parts.append(_marker(x + 8, mid - 7, mid + 7, key, accent))
            parts.append(_text(x + 22, mid + 3.5, name, size=legend_size, fill=TEXT_COLOUR))
            x += item_w
        height += 2
    return _svg(width, height, "; ".join(summary) or empty_text or "", parts)


def svg_data_uri(svg):
    """The SVG string as a data: URI for <img src=...>."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def valid_colour(value, default):
    """value when it is a #rrggbb colour, else default (brand settings are not trusted)."""
    return value if isinstance(value, str) and _COLOUR_RE.fullmatch(value) else default


def _svg(width, height, aria_label, parts):
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'width="{_n(width)}" height="{_n(height)}" role="img" aria-label="{_escape(aria_label)}" '
        f'font-family="{FONT_FAMILY}">' + "".join(parts) + "</svg>"
    )


def _text(x, y, content, *, size, anchor=None, fill=TEXT_COLOUR, weight=None):
    # font-family again on each text: not every SVG renderer inherits it from the root.
    attrs = f'x="{_n(x)}" y="{_n(y)}" font-family="{FONT_FAMILY}" font-size="{_n(size)}" fill="{fill}"'
    if anchor:
        attrs += f' text-anchor="{anchor}"'
    if weight:
        attrs += f' font-weight="{weight}"'
    return f"<text {attrs}>{_escape(content)}</text>"


def _marker(x, y1, y2, position, accent):
    style = MARKER_STYLES[position % len(MARKER_STYLES)]
    dash = f' stroke-dasharray="{style["dasharray"]}"' if style["dasharray"] else ""
    return (f'<line x1="{_n(x)}" y1="{_n(y1)}" x2="{_n(x)}" y2="{_n(y2)}" '
            f'stroke="{style["stroke"] or accent}" stroke-width="2"{dash}/>')


def _escape(text):
    return escape(_XML_INVALID_RE.sub("", str(text)), {'"': "&quot;"})


def _number(value):
    """float, or None for a missing or unplottable (NaN, infinite) value."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _size(value, name):
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"The chart {name} must be a positive number of pixels, got {value!r}.")
    return number


def _default_format(value):
    return f"{value:.1f}"


def _n(number):
    """A coordinate with at most two decimals and no trailing zeros: short, exact enough, never '1e-05'."""
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _text_width(text, size):
    return len(text) * size * _CHAR_EM


def _thinned_labels(labels, step, size):
    """Indexes of the x labels to show: every k-th so none overlap, always the last, keeping it clear."""
    if not labels:
        return set()
    widest = max(_text_width(label, size) for label in labels) + 6
    every = max(1, math.ceil(widest / step)) if step else 1
    last = len(labels) - 1
    shown = {i for i in range(0, last + 1, every) if last - i >= every or i == last}
    shown.add(last)
    return shown


def _fitting_size(texts, step, *, largest, smallest):
    """The largest font size at which the widest text fits in one step, but never below smallest."""
    if not texts or not step:
        return largest
    widest = max(len(text) for text in texts) * _CHAR_EM
    return max(smallest, min(largest, (step - 2) / widest))
