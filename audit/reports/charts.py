"""Charts for the PDF reports and dashboards, drawn server-side as SVG strings.

Pure: plain data in, a string out; no Flask, and no file read but the font's widths (below). The
SVG is written by hand so that it works in both places it goes: WeasyPrint (inline <svg> or an <img>
data URI) and browsers under a strict CSP. Hence only presentation attributes (fill, stroke,
font-size...), never a style attribute, <style>, <script> or external reference; every piece of
caller text goes through `escape`. The caller passes every word already translated (titles, notes,
labels, legend names) and may pass `value_format` to print numbers the locale's way.

Text widths are measured, not guessed from the character count: `text_width` adds up the advance
widths of DejaVu Sans, the font the PDFs are set in, read from the font's own hmtx and cmap tables
(DejaVuSans.ttf, or DejaVuSans-Bold.ttf for bold text) with fontTools, once per process and weight.
That width thins out crowded x labels, sizes the value column, wraps the legend and, through
`fit_text`, shortens a bar label that is too wide for its column with "…" (at a word boundary when
that keeps WORD_BREAK_KEEPS of the room, else between two characters), so no label runs into the
bars in any language: a Cyrillic letter is often wider than a Latin one. Kerning is ignored; DejaVu's few
widening pairs add well under a pixel, inside the gap before the bars. Without the font file
(no fonts-dejavu-core) or fontTools, a built-in table stands in: the wider of the regular and bold
DejaVu Sans advance of each ASCII, Latin-1, Cyrillic and common punctuation character, an accented
letter counted as its base letter and any other character as 1 em, so the estimate is never narrower
than the real text of the app's languages and the chart still never overlaps, only shortens sooner.
"""

import base64
import functools
import logging
import math
import os
import re
import unicodedata
from xml.sax.saxutils import escape

logger = logging.getLogger(__name__)

DEFAULT_COLOUR = "#1f4e79"
DEFAULT_ACCENT = "#b58500"
FONT_FAMILY = "DejaVu Sans, sans-serif"
NO_VALUE = "\u2014"  # em dash, shown where a score is missing
ELLIPSIS = "\u2026"
# The bar labels' column: at most this many em of the label font (about 34 average Latin or 32
# Cyrillic characters of DejaVu Sans) and at most 45% of the chart; longer labels are shortened.
LABEL_WIDTH_EM = 21.2
LABEL_GAP = 8  # px between the label column and the bars
LABEL_LINES = 2  # a bar's label may take two lines of its row
# A shortened label ends at a word when that keeps this share of the room, else inside the word.
WORD_BREAK_KEEPS = 0.8
BAR_ROW_HEIGHT = 26
BAR_KEY = "bar"  # legend style key of the value bar itself
LEGEND_LINES = 2  # a legend name wider than the chart wraps into at most this many lines

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
_XML_SPACE_RE = re.compile("[ \t\r\n]+")

# Where DejaVu Sans is found: Debian/Ubuntu (fonts-dejavu-core) first, then Arch and Fedora.
FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/share/fonts/dejavu-sans-fonts",
    "/usr/share/fonts/dejavu",
)
FONT_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}

# Stand-in advance widths when the font cannot be read, in DejaVu's units (2048 an em): for each
# character the wider of DejaVu Sans and DejaVu Sans Bold, so never narrower than either weight.
# Consecutive code points from the key: ASCII, Latin-1, Cyrillic (U+0400-U+045F), punctuation
# (U+2010-U+2026: dashes, quotes, bullet, ellipsis).
_FALLBACK_UNITS = 2048
_FALLBACK_WIDTHS = {
    0x0020: (
        713, 934, 1067, 1716, 1425, 2052, 1786, 627, 936, 936, 1071, 1716, 778, 850, 778, 748, 1425,
        1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 1425, 819, 819, 1716, 1716, 1716, 1188,
        2048, 1585, 1561, 1503, 1700, 1399, 1399, 1681, 1714, 762, 762, 1587, 1305, 2038, 1714,
        1741, 1501, 1741, 1577, 1475, 1397, 1663, 1585, 2259, 1579, 1483, 1485, 936, 748, 936, 1716,
        1024, 1024, 1382, 1466, 1214, 1466, 1389, 891, 1466, 1458, 702, 702, 1362, 702, 2134, 1458,
        1407, 1466, 1466, 1010, 1219, 979, 1458, 1335, 1892, 1321, 1335, 1192, 1458, 748, 1458, 1716,
    ),
    0x00A0: (
        713, 934, 1425, 1425, 1303, 1425, 748, 1024, 1024, 2048, 1155, 1323, 1716, 850, 2048, 1024,
        1024, 1716, 897, 897, 1024, 1507, 1303, 778, 1024, 897, 1155, 1323, 2120, 2120, 2120, 1188,
        1585, 1585, 1585, 1585, 1585, 1585, 2222, 1503, 1399, 1399, 1399, 1399, 762, 762, 762, 762,
        1716, 1714, 1741, 1741, 1741, 1741, 1741, 1716, 1741, 1663, 1663, 1663, 1663, 1483, 1511,
        1473, 1382, 1382, 1382, 1382, 1382, 1382, 2146, 1214, 1389, 1389, 1389, 1389, 702, 702, 702,
        702, 1407, 1458, 1407, 1407, 1407, 1407, 1407, 1716, 1407, 1458, 1458, 1458, 1458, 1335,
        1466, 1335,
    ),
    0x0400: (
        1399, 1399, 1799, 1305, 1503, 1475, 762, 762, 762, 2364, 2314, 1799, 1674, 1714, 1579, 1714,
        1585, 1561, 1561, 1305, 1824, 1399, 2507, 1455, 1714, 1714, 1674, 1701, 2038, 1714, 1741,
        1714, 1501, 1503, 1397, 1579, 2031, 1579, 1900, 1655, 2530, 2715, 1924, 2122, 1561, 1503,
        2404, 1577, 1382, 1430, 1296, 1076, 1654, 1389, 2038, 1190, 1435, 1435, 1390, 1500, 1674,
        1415, 1407, 1415, 1466, 1214, 1193, 1335, 2032, 1321, 1518, 1406, 2175, 2264, 1539, 1852,
        1295, 1214, 1991, 1315, 1389, 1389, 1462, 1076, 1214, 1219, 702, 702, 702, 2030, 1958, 1504,
        1390, 1435, 1335, 1415,
    ),
    0x2010: (
        850, 850, 1425, 1024, 2048, 2048, 1024, 1024, 778, 778, 778, 778, 1346, 1346, 1346, 1346,
        1024, 1024, 1309, 1309, 685, 1367, 2048,
    ),
}
# Accented letters wider than their base letter, and signs wider than 1 em.
_FALLBACK_EXTRA = {0x013E: 982, 0x01A0: 1870, 0x01AF: 1757, 0x2030: 2949, 0x2116: 2464}
_FALLBACK_OTHER_EM = 1.0
# Trailing characters dropped before the ellipsis: spaces and punctuation that would dangle.
_DANGLING_RE = re.compile(r"[\s,;:\-\u2010-\u2015/(\[{\u00ab\u201e\u201c\u2018\u201a]+$")
# Spaces a label may be broken at (not the no-break ones).
_BREAK_SPACE_RE = re.compile(r"[^\S\u00a0\u2007\u202f]")


def trend_chart(points, *, width=520, height=180, colour=DEFAULT_COLOUR, accent=DEFAULT_ACCENT,
                labels=None, y_min=0, y_max=100, title=None, value_format=None, empty_text=None,
                smallest_value_size=6):
    """Line chart of scores over time as an SVG string; None values leave a gap. The values are written
    at the largest size that fits a point's step, down to smallest_value_size; past it only every k-th
    point's value is written (the last always; the others are in the chart's title and description)."""
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
            # On a white band: the 50 line ran through the words, which read as struck out.
            band_w = text_width(empty_text, 10) + 16
            parts.append(f'<rect x="{_n(left + (plot_w - band_w) / 2)}" y="{_n(top + plot_h / 2 - 9)}" '
                         f'width="{_n(band_w)}" height="18" fill="#ffffff"/>')
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
    values = [fmt(v) for _, v in points if v is not None]
    value_size = _fitting_size(values, step, largest=9, smallest=smallest_value_size)
    # Counted back from the last point with a value, which is always written: the latest month is the
    # one asked about.
    value_every = (max(1, math.ceil((max(text_width(v, value_size, bold=True) for v in values) + 2) / step))
                   if values and step else 1)
    latest = max((i for i, (_, v) in enumerate(points) if v is not None), default=0)
    for i, (x, (label, value)) in enumerate(zip(xs, points)):
        if i in shown:
            half = text_width(label, label_size) / 2
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
        if (latest - i) % value_every:
            continue
        label_x, label_y, label_anchor = _value_label_place(points, i, x, y, value_size, top, top + plot_h)
        parts.append(_text(label_x, label_y, shown_value,
                           size=value_size, anchor=label_anchor, fill=TEXT_COLOUR, weight="bold" if is_last else None))

    summary = "; ".join(f"{label}: {NO_VALUE if v is None else fmt(v)}" for label, v in points)
    # Screen readers get the numbers too, not just the title.
    return _svg(width, height, ". ".join(filter(None, (title, summary or empty_text))), parts)


def _value_label_place(points, index, x, y, size, plot_top, plot_bottom):
    """Where a point's value is written: (x, baseline, anchor). Above the point, unless the line comes
    down to it (below its neighbours' average, a dip), where the line would run through the text; then
    below it. A dip at the floor of the plot (a month at 0%) has no room below it, and above it the line
    crossed the text: it is written beside the point, under the line rising from it (on the side of the
    higher neighbour, where it rises most), or where no line leaves it, inside the chart."""
    value = points[index][1]
    before = points[index - 1][1] if index > 0 else None
    after = points[index + 1][1] if index + 1 < len(points) else None
    neighbours = [v for v in (before, after) if v is not None]
    below = bool(neighbours) and value < sum(neighbours) / len(neighbours)
    if below and y + 7 + size > plot_bottom:
        last = index == len(points) - 1
        if after is None and not last:
            right = True  # no line leaves it to the right
        elif before is None and index > 0:
            right = False  # none comes to it from the left
        elif last or index == 0:
            right = index == 0  # the side inside the chart
        else:
            right = after >= before
        return (x + 6, y + size / 3, "start") if right else (x - 6, y + size / 3, "end")
    if not below and y - 7 - size < plot_top:
        below = True
    return x, (y + 7 + size if below else y - 7), "middle"


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

    rows = [(str(row.get("label", "")), _number(row.get("value")),
             [(str(name), _number(v)) for name, v in row.get("compare") or ()]) for row in rows]

    label_size, value_size = 9.5, 9.5
    label_w = min(LABEL_WIDTH_EM * label_size, width * 0.45)
    # The value column fits the widest value as the caller formats it ("100,0 %"...), 100 at least,
    # so the two charts of a report line up.
    shown_values = [fmt(100.0), NO_VALUE] + [fmt(value) for _, value, _ in rows if value is not None]
    value_w = max(text_width(text, value_size) for text in shown_values) + 10
    track_x = label_w + LABEL_GAP
    track_w = max(width - track_x - value_w, 1)
    bar_h = 12

    def x_of(value):
        return track_x + track_w * min(max(value, 0.0), 100.0) / 100

    parts, summary = [], []
    if not rows and empty_text:
        parts.append(_text(width / 2, BAR_ROW_HEIGHT / 2 + 4, empty_text, size=10,
                           anchor="middle", fill=MUTED_COLOUR))
    for i, (label, value, compare) in enumerate(rows):
        top = 4 + i * BAR_ROW_HEIGHT
        mid = top + BAR_ROW_HEIGHT / 2
        bar_y = mid - bar_h / 2

        # SVG draws a run of spaces, tabs and newlines as one space: measure the label as it is drawn.
        drawn = _XML_SPACE_RE.sub(" ", _XML_INVALID_RE.sub("", label)).strip(" ")
        # Two lines where one is not enough: a board reads the section's whole name (a cut one was
        # guessed at); past two lines the rest is shortened with "…".
        lines = wrap_text(drawn, label_w, label_size, LABEL_LINES)
        baselines = [mid + 3.5] if len(lines) == 1 else [mid - 1.5, mid + 9]
        parts.append(f"<g><title>{_escape(label)}</title>"
                     + "".join(_text(0, y, line, size=label_size, fill=TEXT_COLOUR) for y, line in zip(baselines, lines))
                     + "</g>")
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
            # A name wider than the chart (a branch's 160 characters) wraps under itself, in two lines
            # at most; it ran off the chart's edge.
            lines = wrap_text(name, width - 22, legend_size, LEGEND_LINES)
            item_w = 22 + max(text_width(line, legend_size) for line in lines) + 14
            if x > 0 and x + item_w > width:
                x, height = 0.0, height + line_h
            mid = height - line_h / 2
            if key == BAR_KEY:
                parts.append(f'<rect x="{_n(x)}" y="{_n(mid - 5)}" width="16" height="10" fill="{colour}"/>')
            else:
                parts.append(f'<rect x="{_n(x)}" y="{_n(mid - 5)}" width="16" height="10" fill="{TRACK_COLOUR}"/>')
                parts.append(_marker(x + 8, mid - 7, mid + 7, key, accent))
            parts.append(f"<g><title>{_escape(name)}</title>" + "".join(
                _text(x + 22, mid + 3.5 + n * line_h, line, size=legend_size, fill=TEXT_COLOUR)
                for n, line in enumerate(lines)) + "</g>")
            x += item_w
            if len(lines) > 1:  # the next name starts below it
                x, height = width, height + (len(lines) - 1) * line_h
        height += 2
    return _svg(width, height, "; ".join(summary) or empty_text or "", parts)


def svg_data_uri(svg):
    """The SVG string as a data: URI for <img src=...>."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def valid_colour(value, default):
    """value when it is a #rrggbb colour, else default (brand settings are not trusted)."""
    return value if isinstance(value, str) and _COLOUR_RE.fullmatch(value) else default


# The contrast with white paper a brand colour needs in a report: the main colour is text (headings,
# the big score) and the background of white table headings, WCAG's 4.5:1 for normal text; the
# accent marks chart values, 3:1 for graphical objects. The brand form asks for both, but a brand
# saved before it did (or restored from such a backup) printed a pale yellow board report.
MAIN_CONTRAST = 4.5
ACCENT_CONTRAST = 3


def contrast_with_white(colour):
    """WCAG 2.x contrast ratio of a #rrggbb colour against white (1 to 21)."""
    def linear(value):
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4
    red, green, blue = (linear(int(colour[i:i + 2], 16)) for i in (1, 3, 5))
    return 1.05 / (0.2126 * red + 0.7152 * green + 0.0722 * blue + 0.05)


def readable_colour(value, default, needed):
    """value (else default, when it is no #rrggbb colour) darkened in its own hue, as little as it
    takes, to `needed` contrast with white paper: a brand's pale colour stays recognisably its own."""
    colour = valid_colour(value, default).lower()
    channels = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    step = 0
    while contrast_with_white(colour) < needed:
        step += 1
        colour = "#" + "".join(f"{round(c * (1 - step / 100)):02x}" for c in channels)
    return colour


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
    """A compare mark across a bar, on a white halo: a brand whose accent is its main colour (or near
    it) had its region average hidden inside the bars."""
    style = MARKER_STYLES[position % len(MARKER_STYLES)]
    dash = f' stroke-dasharray="{style["dasharray"]}"' if style["dasharray"] else ""
    ends = f'x1="{_n(x)}" y1="{_n(y1)}" x2="{_n(x)}" y2="{_n(y2)}"'
    return (f'<line {ends} stroke="#ffffff" stroke-width="4"/>'
            f'<line {ends} stroke="{style["stroke"] or accent}" stroke-width="2"{dash}/>')


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


def text_width(text, size, *, bold=False):
    """Width in px of `text` drawn in DejaVu Sans (Bold when `bold`) at font-size `size`: the sum of
    the font's advance widths (kerning aside), or of the conservative stand-ins without the font."""
    advances = _font_advances(bool(bold))
    total = 0.0
    for char in str(text):
        em = advances.get(ord(char)) if advances is not None else None
        total += _fallback_em(char) if em is None else em
    return total * size


def wrap_text(text, max_width, size, lines=2, *, bold=False):
    """`text` in at most `lines` lines, each fitting `max_width` px: broken at spaces, the last line
    shortened with "…" (fit_text) when what is left does not fit it."""
    words, out = str(text).split(" "), []
    while words and len(out) < lines - 1:
        taken = 0
        while taken < len(words) and text_width(" ".join(words[:taken + 1]), size, bold=bold) <= max_width:
            taken += 1
        if taken == len(words) or taken == 0:  # the rest fits, or its first word alone does not
            break
        out.append(" ".join(words[:taken]))
        words = words[taken:]
    rest = " ".join(words)
    return out + [fit_text(rest, max_width, size, bold=bold)] if rest or not out else out


def fit_text(text, max_width, size, *, bold=False):
    """`text` when its measured width fits `max_width` px, else shortened so that it fits with "…":
    at the last space when that keeps WORD_BREAK_KEEPS of the room, else between two characters (an
    accent stays with its letter), dangling spaces and punctuation dropped; "" when not even "…"
    fits."""
    text = str(text)
    if text_width(text, size, bold=bold) <= max_width:
        return text
    room = max_width - text_width(ELLIPSIS, size, bold=bold)
    if room < 0:
        return ""
    used, cut = 0.0, 0
    for char in text:
        used += text_width(char, size, bold=bold)
        if used > room:
            break
        cut += 1
    while 0 < cut < len(text) and unicodedata.combining(text[cut]):
        cut -= 1
    head = text[:cut]
    if cut < len(text) and _BREAK_SPACE_RE.fullmatch(text[cut]) is None:
        # The cut falls inside a word: end at the word before it unless that wastes too much room.
        spaces = [match.start() for match in _BREAK_SPACE_RE.finditer(head)]
        if spaces and text_width(head[:spaces[-1]], size, bold=bold) >= room * WORD_BREAK_KEEPS:
            head = head[:spaces[-1]]
    head = _DANGLING_RE.sub("", head)
    while head and text_width(head + ELLIPSIS, size, bold=bold) > max_width:  # rounding, at most
        head = _DANGLING_RE.sub("", head[:-1])
    return head + ELLIPSIS


@functools.lru_cache(maxsize=None)
def _font_advances(bold):
    """{code point: advance width in em} of DejaVu Sans (Bold), read once per process and weight;
    None when the font file or fontTools is missing or the file cannot be read."""
    name = FONT_FILES[bold]
    path = next((os.path.join(folder, name) for folder in FONT_DIRS
                 if os.path.isfile(os.path.join(folder, name))), None)
    if path is None:
        logger.info("%s not found in %s; chart text widths use the built-in estimate.", name, FONT_DIRS)
        return None
    try:
        from fontTools.ttLib import TTFont

        with TTFont(path, lazy=True) as font:
            per_em = font["head"].unitsPerEm
            metrics = font["hmtx"].metrics
            return {code: metrics[glyph][0] / per_em for code, glyph in font.getBestCmap().items()}
    except Exception:  # a report must not fail over a font: the estimate is conservative
        logger.warning("Could not read the advance widths of %s; chart text widths use the built-in "
                       "estimate.", path, exc_info=True)
        return None


@functools.lru_cache(maxsize=4096)
def _fallback_em(char):
    """A conservative advance width in em of one character when the font cannot tell."""
    code = ord(char)
    if code in _FALLBACK_EXTRA:
        return _FALLBACK_EXTRA[code] / _FALLBACK_UNITS
    for start, widths in _FALLBACK_WIDTHS.items():
        if 0 <= code - start < len(widths):
            return widths[code - start] / _FALLBACK_UNITS
    if unicodedata.combining(char):
        return 0.0
    decomposed = unicodedata.normalize("NFD", char)
    if decomposed != char:  # an accented letter: its base letter, accents take no room of their own
        return sum(_fallback_em(part) for part in decomposed)
    return _FALLBACK_OTHER_EM


def _thinned_labels(labels, step, size):
    """Indexes of the x labels to show: every k-th so none overlap, always the last, keeping it clear."""
    if not labels:
        return set()
    widest = max(text_width(label, size) for label in labels) + 6
    every = max(1, math.ceil(widest / step)) if step else 1
    last = len(labels) - 1
    shown = {i for i in range(0, last + 1, every) if last - i >= every or i == last}
    shown.add(last)
    return shown


def _fitting_size(texts, step, *, largest, smallest):
    """The largest font size at which the widest text fits in one step, but never below smallest."""
    if not texts or not step:
        return largest
    widest = max(text_width(text, 1, bold=True) for text in texts)  # bold, as the last value is drawn
    if not widest:
        return largest
    return max(smallest, min(largest, (step - 2) / widest))
