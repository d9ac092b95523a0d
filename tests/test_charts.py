"""SVG charts for reports and dashboards: well-formed, escaped, CSP-safe, and readable in a WeasyPrint PDF."""
import base64
import functools
import io
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader
from weasyprint import HTML

from audit.reports import charts
from audit.reports.charts import (
    BAR_ROW_HEIGHT,
    DEFAULT_ACCENT,
    DEFAULT_COLOUR,
    ELLIPSIS,
    LABEL_GAP,
    TRACK_COLOUR,
    bar_chart,
    fit_text,
    svg_data_uri,
    text_width,
    trend_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
MONTHS_24 = [f"{2025 + i // 12}-{i % 12 + 1:02d}" for i in range(24)]
POINTS_24 = [(month, 60 + i * 1.5) for i, month in enumerate(MONTHS_24)]
ROWS = [
    {"label": "Welcome", "value": 87.5, "compare": [("Region", 80.0), ("Brand", 92.3)]},
    {"label": "Checkout", "value": None, "compare": [("Region", 61.0), ("Brand", None)]},
    {"label": "Cleanliness", "value": 100, "compare": []},
]
LEGEND = [("This branch", "bar"), ("Region average", 0), ("Brand average", 1)]


def _parse(svg):
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def _texts(root):
    """The drawn text of every <text> element (not the <title> tooltips)."""
    return ["".join(element.itertext()) for element in root.iter(f"{SVG}text")]


def _all_charts():
    nasty = "<script>&"
    return [
        trend_chart([], empty_text="No visits yet"),
        trend_chart([("2026-06", 87.5)], title="Trend"),
        trend_chart(POINTS_24, title=nasty),
        trend_chart([("a", 50), ("b", None), ("c", 70)]),
        bar_chart(ROWS, legend=LEGEND),
        bar_chart([{"label": nasty, "value": None, "compare": [(nasty, 50)]}], legend=[(nasty, 0)]),
        bar_chart([], empty_text="No sections"),
    ]


@pytest.mark.parametrize(
    "points",
    [[], [("2026-06", 87.5)], POINTS_24, [("a", None), ("b", None)], [("a", 10), ("b", None), ("c", 30)]],
    ids=["empty", "one-point", "24-points", "all-none", "gap"],
)
def test_trend_chart_is_a_complete_svg(points):
    root = _parse(trend_chart(points, empty_text="No visits yet"))
    assert root.get("role") == "img"
    assert root.get("aria-label")
    assert root.get("viewBox") == "0 0 520 180"
    assert (root.get("width"), root.get("height")) == ("520", "180")
    assert root.get("font-family") == "DejaVu Sans, sans-serif"


def test_aria_label_reads_the_title_and_the_values():
    root = _parse(trend_chart([("May", 80), ("June", None)], title="Overall score"))
    assert root.get("aria-label") == "Overall score. May: 80.0; June: \u2014"
    assert _parse(bar_chart(ROWS[:2])).get("aria-label") == "Welcome: 87.5; Checkout: \u2014"


def test_empty_trend_chart_draws_the_grid_and_the_note():
    root = _parse(trend_chart([], empty_text="No visits yet"))
    assert len(root.findall(f"{SVG}line")) == 5
    assert _texts(root) == ["0", "25", "50", "75", "100", "No visits yet"]
    assert root.find(f".//{SVG}circle") is None
    # The note sits on a white band across the 50 line (it read as struck out), drawn under it.
    [band] = root.findall(f"{SVG}rect")
    [fifty] = [line for line in root.findall(f"{SVG}line") if line.get("y1") == line.get("y2")][2:3]
    top, bottom = float(band.get("y")), float(band.get("y")) + float(band.get("height"))
    assert band.get("fill") == "#ffffff" and top < float(fifty.get("y1")) < bottom
    children = list(root)
    note = next(child for child in children if child.tag == f"{SVG}text" and child.text == "No visits yet")
    assert children.index(band) < children.index(note)


def test_trend_chart_writes_each_value_above_its_dot():
    root = _parse(trend_chart(POINTS_24))
    assert len(root.findall(f".//{SVG}circle")) == 24
    texts = _texts(root)
    for _, value in POINTS_24:
        assert f"{value:.1f}" in texts


def test_a_narrow_trend_writes_every_other_value_at_a_legible_size_and_always_the_latest():
    """A year on a phone's branch page: 13 months in 300 units shrank every value to 6 units, about
    5 px on the phone. Asked for 9 at least, the chart writes them at 9 where they do not collide,
    counted back from the latest month with a value (the last month here has none yet), never two
    side by side; every value stays in the chart's description."""
    points = [(f"m{i}", None if i in (0, 1, 12) else 70 + (i % 4) * 5.25) for i in range(13)]
    root = _parse(trend_chart(points, width=300, smallest_value_size=9, value_format=lambda v: f"{v:.1f}%"))
    values = [(float(t.get("x")), float(t.get("font-size")), "".join(t.itertext()))
              for t in root.iter(f"{SVG}text") if "".join(t.itertext()).endswith("%")]
    assert values and all(size >= 9 for _x, size, _t in values)
    assert values[-1][2] == f"{points[11][1]:.1f}%"  # the latest month with a value
    written = {text for _x, _s, text in values}
    assert len(written) < len([v for _, v in points if v is not None])  # not all: they would collide
    xs = sorted(x for x, _s, _t in values)
    widest = max(charts.text_width(text, 9, bold=True) for _x, _s, text in values)
    assert all(b - a > widest for a, b in zip(xs, xs[1:]))
    description = root.get("aria-label") or "".join(root.find(f"{SVG}title").itertext())
    assert all(f"{v:.1f}%" in description for _, v in points if v is not None)
    # On paper (wider, the default floor) every value is written, as before.
    paper = _parse(trend_chart(points, width=520, value_format=lambda v: f"{v:.1f}%"))
    assert len([t for t in _texts(paper) if t.endswith("%")]) == 10


def test_trend_chart_uses_the_callers_value_format():
    root = _parse(trend_chart([("jún.", 87.5)], value_format=lambda v: f"{v:.1f}".replace(".", ",")))
    assert "87,5" in _texts(root)
    assert "87.5" not in _texts(root)
    assert "jún." in _texts(root)


def test_labels_replace_the_point_labels():
    root = _parse(trend_chart([("2026-05", 80), ("2026-06", 90)], labels=["May", "June"]))
    assert {"May", "June"} <= set(_texts(root))
    assert "2026-05" not in _texts(root)


def test_labels_must_match_the_points():
    with pytest.raises(ValueError, match="got 1 labels for 2 points"):
        trend_chart([("a", 1), ("b", 2)], labels=["only one"])


def test_none_value_leaves_a_gap_in_the_line():
    root = _parse(trend_chart([("a", 10), ("b", 20), ("c", None), ("d", 30), ("e", 40)]))
    assert len(root.findall(f"{SVG}polyline")) == 2
    assert len(root.findall(f".//{SVG}circle")) == 4


def test_last_point_is_highlighted_with_the_accent():
    root = _parse(trend_chart([("a", 10), ("b", 20), ("c", 30)], accent="#cc0000"))
    fills = [circle.get("fill") for circle in root.iter(f"{SVG}circle")]
    assert fills == [DEFAULT_COLOUR, DEFAULT_COLOUR, "#cc0000"]


def test_values_outside_the_range_stay_inside_the_chart():
    root = _parse(trend_chart([("a", -20), ("b", 250)], height=180))
    for circle in root.iter(f"{SVG}circle"):
        assert 0 <= float(circle.get("cy")) <= 180
    assert {"-20.0", "250.0"} <= set(_texts(root))


def test_bar_chart_with_none_values_shows_an_empty_track_and_a_dash():
    root = _parse(bar_chart(ROWS))
    texts = _texts(root)
    assert texts == ["Welcome", "87.5", "Checkout", "\u2014", "Cleanliness", "100.0"]
    bars = [rect for rect in root.iter(f"{SVG}rect") if rect.get("fill") == DEFAULT_COLOUR]
    assert len(bars) == 2  # Welcome and Cleanliness; Checkout has only its track
    # Compare markers: Welcome's region and brand, Checkout's region (its brand is None).
    assert len(_marks(root)) == 3


def _marks(root):
    """The compare marks of a bar chart, without the white halos drawn under them."""
    return [line for line in root.findall(f".//{SVG}line") if line.get("stroke") != "#ffffff"]


def test_bar_chart_draws_compare_markers_in_different_styles():
    root = _parse(bar_chart(ROWS[:1], accent="#00aa00"))
    region, brand = _marks(root)
    assert region.get("stroke") == "#00aa00"
    assert region.get("stroke-dasharray") is None
    assert brand.get("stroke-dasharray")
    assert float(region.get("x1")) < float(brand.get("x1"))  # 80.0 left of 92.3


def test_a_compare_mark_stands_out_of_a_bar_of_its_own_colour():
    """An accent the same as the main colour hid the region average inside the bars: each mark lies on
    a wider white halo, right under it."""
    lines = _parse(bar_chart(ROWS[:1], colour="#1f4e79", accent="#1f4e79")).findall(f".//{SVG}line")
    halos, marks = lines[0::2], lines[1::2]
    assert len(marks) == 2 and all(halo.get("stroke") == "#ffffff" for halo in halos)
    for halo, mark in zip(halos, marks):
        assert [halo.get(end) for end in ("x1", "y1", "x2", "y2")] == [mark.get(end) for end in ("x1", "y1", "x2", "y2")]
        assert float(halo.get("stroke-width")) > float(mark.get("stroke-width"))


def test_bar_chart_grows_about_one_row_height_per_row():
    one = float(_parse(bar_chart(ROWS[:1])).get("height"))
    three = float(_parse(bar_chart(ROWS)).get("height"))
    assert three - one == 2 * BAR_ROW_HEIGHT
    assert float(_parse(bar_chart(ROWS, legend=LEGEND)).get("height")) > three


def test_long_label_takes_two_lines_and_is_kept_whole_in_a_title():
    label = "Greeting at the entrance within ten seconds of arrival, with eye contact"
    root = _parse(bar_chart([{"label": label, "value": 50, "compare": []}]))
    assert _texts(root)[:2] == ["Greeting at the entrance within ten", "seconds of arrival, with eye contact"]
    assert label in [title.text for title in root.iter(f"{SVG}title")]
    longer = label + " and a smile that reached the eyes of the customer"
    lines = _texts(_parse(bar_chart([{"label": longer, "value": 50, "compare": []}])))[:2]
    assert lines[0] == "Greeting at the entrance within ten" and lines[1].endswith("\u2026")  # two lines at most


def test_legend_names_each_style():
    root = _parse(bar_chart(ROWS, legend=LEGEND))
    assert {"This branch", "Region average", "Brand average"} <= set(_texts(root))


def test_legend_with_an_unknown_style_key_is_refused():
    with pytest.raises(ValueError, match="'Region' has style key 'dashed'"):
        bar_chart(ROWS, legend=[("Region", "dashed")])


def test_bar_chart_uses_the_callers_value_format():
    root = _parse(bar_chart(ROWS, value_format=lambda v: f"{v:.0f} %"))
    assert {"88 %", "100 %"} <= set(_texts(root))


def test_text_is_escaped():
    nasty = "<script>&"
    svgs = [
        trend_chart([(nasty, 50)], title=nasty),
        trend_chart([(nasty, 50)], empty_text=nasty, labels=[nasty]),
        bar_chart([{"label": nasty, "value": 40, "compare": [(nasty, 30)]}], legend=[(nasty, "bar")]),
    ]
    for svg in svgs:
        assert "&lt;script&gt;&amp;" in svg
        assert "<script" not in svg
        root = _parse(svg)
        assert nasty in _texts(root)
        assert root.find(f".//{SVG}script") is None


def test_quotes_cannot_break_out_of_an_attribute():
    svg = trend_chart([('x" onload="alert(1)', 50)])
    root = _parse(svg)
    assert all(not name.startswith("on") for element in root.iter() for name in element.attrib)


def test_charts_have_no_style_script_or_external_reference():
    for svg in _all_charts():
        root = _parse(svg)
        for element in root.iter():
            assert element.tag not in (f"{SVG}style", f"{SVG}script", f"{SVG}image", f"{SVG}use")
            assert "style" not in element.attrib
            assert not any(name.endswith("href") for name in element.attrib)
        assert "url(" not in svg


@pytest.mark.parametrize("bad", ["red", "#fff", "#12345g", "#1234567", "#123456\n", '#123456" x="', None, 123])
def test_bad_colour_falls_back_to_the_default(bad):
    svgs = [
        trend_chart([("a", 10), ("b", 20)], colour=bad, accent=bad),
        bar_chart(ROWS, colour=bad, accent=bad),
    ]
    for svg in svgs:
        root = _parse(svg)
        assert DEFAULT_COLOUR in svg and DEFAULT_ACCENT in svg
        if isinstance(bad, str):
            assert not any(value == bad for element in root.iter() for value in element.attrib.values())


def test_brand_colours_are_used_when_valid():
    svg = bar_chart(ROWS, colour="#AA3300", accent="#00aa11")
    assert 'fill="#AA3300"' in svg
    assert 'stroke="#00aa11"' in svg
    assert DEFAULT_COLOUR not in svg and DEFAULT_ACCENT not in svg


def test_invalid_xml_characters_are_dropped():
    root = _parse(trend_chart([("a\x00b\x1f", 50)], title="t\x0bitle"))
    assert "ab" in _texts(root)


def test_svg_data_uri_holds_the_svg():
    svg = trend_chart([("2026-06", 87.5)])
    uri = svg_data_uri(svg)
    assert uri.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).decode("utf-8") == svg


def _pdf(html):
    pdf = HTML(string=html).write_pdf()
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_weasyprint_renders_inline_charts_with_their_values():
    trend = trend_chart([("2026-04", 72.0), ("2026-05", None), ("2026-06", 87.5)], title="Overall score")
    bars = bar_chart(ROWS, legend=LEGEND)
    reader, text = _pdf(f"<!doctype html><html><body><h1>Report</h1>{trend}{bars}</body></html>")
    assert len(reader.pages) == 1
    for shown in ("Overall score", "72.0", "87.5", "2026-06", "Welcome", "100.0", "\u2014", "Brand average"):
        assert shown in text
    assert "Region:" not in text  # tooltips are not printed


def test_weasyprint_renders_charts_from_data_uris():
    trend = svg_data_uri(trend_chart(POINTS_24))
    bars = svg_data_uri(bar_chart(ROWS))
    reader, text = _pdf(f'<!doctype html><html><body><img src="{trend}"><img src="{bars}"></body></html>')
    assert len(reader.pages) == 1
    assert "94.5" in text and "92.3" not in text and "87.5" in text


# Bar labels are measured with DejaVu Sans' own advance widths and shortened to their column.

DEJAVU_DIR = "/usr/share/fonts/truetype/dejavu"
OLD_CHAR_EM, OLD_MAX_CHARS = 0.62, 38  # the character-count estimate the labels used to be cut by
LONG_LABELS = {
    "en": "Greeting at the entrance within ten seconds of arrival, with eye contact",
    "hu": "Az ajánlat és az elvárásokon felüli figyelmesség",
    "bg": "Предложението и екстрите отвъд очакванията",
    "et": "Tervitamine ja vajaduste väljaselgitamine ning ootusi ületav teenindus",
    "ro": "Gestionarea unei probleme sau reclamații și compensarea clientului",
    "ru": "Решение проблемы или работа с жалобой",
}
SHORT_LABELS = ["Welcome", "Érkezés és első benyomás", "Помещения и оборудване", "Знания",
                "Ruumid ja sisseseade", "Spațiul și dotările", "Прибытие и первое впечатление"]
# Every letter of the six languages, digits and the punctuation the labels and values use.
ALPHABETS = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    "ÁÉÍÓÖŐÚÜŰáéíóöőúüű" "ÄÕÖÜŠŽäõöüšž" "ĂÂÎȘȚăâîșțŞŢşţ"
    "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюяѝЍ"
    " \u00a0\u202f.,;:!?%()/-–—…«»„“”‘’'\"№"
)


@functools.lru_cache(maxsize=None)
def _dejavu_advances(bold=False):
    """{code point: advance in font units}, units per em, read here with fontTools independently of charts.py."""
    from fontTools.ttLib import TTFont

    with TTFont(os.path.join(DEJAVU_DIR, "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")) as font:
        metrics = font["hmtx"].metrics
        return {code: metrics[glyph][0] for code, glyph in font.getBestCmap().items()}, font["head"].unitsPerEm


def _dejavu_width(text, size, bold=False):
    """What the text really takes in DejaVu Sans at font-size `size` (the sum of its advance widths)."""
    advances, per_em = _dejavu_advances(bold)
    return sum(advances[ord(char)] for char in text) * size / per_em


def _label_row(svg):
    """(drawn label's lines, their x, their font-size, x where the bar track starts) of a one-row bar chart."""
    root = _parse(svg)
    texts = next(root.iter(f"{SVG}g")).findall(f"{SVG}text")
    track = next(rect for rect in root.iter(f"{SVG}rect") if rect.get("fill") == TRACK_COLOUR)
    return (["".join(text.itertext()) for text in texts], float(texts[0].get("x")), float(texts[0].get("font-size")),
            float(track.get("x")))


def _shows_the_label(lines, label):
    """The lines are the label, or its start and then "…"."""
    joined = " ".join(lines)
    return joined == label or (joined.endswith(ELLIPSIS) and label.startswith(joined[:-1]))


def _one_bar(label, **kwargs):
    return bar_chart([{"label": label, "value": 50, "compare": [("Region", 40.0)]}], **kwargs)


@pytest.fixture
def without_dejavu(monkeypatch, tmp_path):
    """charts.py as on a machine without the font: it must fall back to its built-in estimate."""
    monkeypatch.setattr(charts, "FONT_DIRS", (str(tmp_path),))
    charts._font_advances.cache_clear()
    yield tmp_path
    charts._font_advances.cache_clear()


@pytest.mark.parametrize("language", sorted(LONG_LABELS))
def test_long_label_takes_two_lines_each_within_its_column(language):
    label = LONG_LABELS[language]
    lines, x, size, track_x = _label_row(_one_bar(label))
    column = track_x - LABEL_GAP
    assert _dejavu_width(label, size) > column  # the whole label on one line would run into the bar
    assert len(lines) == 2 and _shows_the_label(lines, label) and len(lines[0]) > 10
    assert all(x + _dejavu_width(line, size) <= column for line in lines)


@pytest.mark.parametrize("language", ["bg", "ru"])
def test_cyrillic_labels_the_character_count_let_overflow_now_fit(language):
    label = LONG_LABELS[language]
    lines, x, size, track_x = _label_row(_one_bar(label))
    old = label if len(label) <= OLD_MAX_CHARS else label[:OLD_MAX_CHARS - 1].rstrip() + ELLIPSIS
    assert x + _dejavu_width(old, size) > track_x  # what QA saw: the old label ran into the bar
    assert all(x + _dejavu_width(line, size) <= track_x - LABEL_GAP for line in lines)
    assert lines in (["Предложението и екстрите отвъд", "очакванията"], ["Решение проблемы или работа с", "жалобой"])


@pytest.mark.parametrize("label", SHORT_LABELS)
def test_short_label_is_kept_whole(label):
    lines, _x, _size, _track_x = _label_row(_one_bar(label))
    assert lines == [label]


def test_label_too_long_for_a_word_break_is_cut_inside_the_word_keeping_accents():
    word = "Kliendikogemusejuhtimissüsteemikvaliteedihindamine"
    shown = fit_text(word, 150, 9.5)
    assert shown.endswith(ELLIPSIS) and word.startswith(shown[:-1]) and len(shown) > 15
    decomposed = "e\u0301" * 80  # é as a letter and a combining accent: never split apart
    shown = fit_text(decomposed, 120, 9.5)
    assert shown.endswith("e\u0301" + ELLIPSIS) and text_width(shown, 9.5) <= 120


def test_label_white_space_is_measured_as_drawn_and_dangling_punctuation_dropped():
    lines, _x, _size, _track_x = _label_row(_one_bar("  Welcome \n\t back  "))
    assert lines == ["Welcome back"]
    assert fit_text("Приветствие, выявление, потребностей", text_width("Приветствие, выявление, потр", 9.5),
                    9.5) == "Приветствие, выявление\u2026"
    assert fit_text("Anything", 3, 9.5) == ""  # not even the ellipsis fits


def test_text_width_is_the_sum_of_dejavu_advance_widths():
    for text in [*LONG_LABELS.values(), *SHORT_LABELS, "100,0\u00a0%"]:
        assert text_width(text, 9.5) == pytest.approx(_dejavu_width(text, 9.5))
        assert text_width(text, 9, bold=True) == pytest.approx(_dejavu_width(text, 9, bold=True))


def test_cyrillic_is_measured_wider_than_the_old_character_estimate():
    # DejaVu's Cyrillic glyphs are wider than the 0.62 em a character the labels used to be cut by.
    for char in "ЖШЩЮМжшщюымд":
        assert text_width(char, 1) > OLD_CHAR_EM
    for word in ["Прибытие", "Предложението", "жалобой", "Помещения", "Ожидание"]:
        assert text_width(word, 10) > len(word) * OLD_CHAR_EM * 10, word
    assert text_width("Greeting", 10) < len("Greeting") * OLD_CHAR_EM * 10  # Latin is narrower


def test_the_font_is_read_once_per_process(monkeypatch):
    import fontTools.ttLib

    opened = []

    class CountingTTFont(fontTools.ttLib.TTFont):
        def __init__(self, *args, **kwargs):
            opened.append(args[0] if args else kwargs.get("file"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(fontTools.ttLib, "TTFont", CountingTTFont)
    charts._font_advances.cache_clear()
    try:
        for _ in range(3):
            bar_chart(ROWS, legend=LEGEND)
            _one_bar(LONG_LABELS["bg"])
        assert len(opened) == 1 and opened[0].endswith("DejaVuSans.ttf")
        trend_chart(POINTS_24)
        trend_chart(POINTS_24)
        assert len(opened) == 2 and opened[1].endswith("DejaVuSans-Bold.ttf")  # its last value is bold
    finally:
        charts._font_advances.cache_clear()


def test_without_the_font_the_estimate_is_never_narrower_than_dejavu(without_dejavu):
    assert charts._font_advances(False) is None and charts._font_advances(True) is None
    for char in ALPHABETS:
        real = max(_dejavu_width(char, 1), _dejavu_width(char, 1, bold=True))
        assert text_width(char, 1) >= real, char
    for text in [*LONG_LABELS.values(), *SHORT_LABELS]:
        assert text_width(text, 9.5) >= _dejavu_width(text, 9.5)


@pytest.mark.parametrize("language", sorted(LONG_LABELS))
def test_without_the_font_long_labels_still_fit(without_dejavu, language):
    assert charts._font_advances(False) is None
    label = LONG_LABELS[language]
    lines, x, size, track_x = _label_row(_one_bar(label))
    assert _shows_the_label(lines, label)
    assert all(x + _dejavu_width(line, size) <= track_x - LABEL_GAP for line in lines)


def test_an_unreadable_font_file_falls_back_to_the_estimate(without_dejavu):
    (without_dejavu / "DejaVuSans.ttf").write_bytes(b"not a font")
    lines, x, size, track_x = _label_row(_one_bar(LONG_LABELS["ru"]))
    assert charts._font_advances(False) is None
    assert _shows_the_label(lines, LONG_LABELS["ru"]) and len(lines) == 2
    assert all(x + text_width(line, size) <= track_x - LABEL_GAP for line in lines)


_LETTERS = st.sampled_from(ALPHABETS.replace("\u00a0", "").replace("\u202f", "") + "     ")


@settings(max_examples=300, deadline=None)
@given(text=st.text(_LETTERS, max_size=80), max_width=st.floats(0, 320), size=st.sampled_from([8, 9.5, 12]))
def test_fit_text_always_fits_and_only_shortens(text, max_width, size):
    shown = fit_text(text, max_width, size)
    if text_width(text, size) <= max_width:
        assert shown == text
    else:
        assert shown == "" or (shown.endswith(ELLIPSIS) and text.startswith(shown[:-1]))
        assert text_width(shown, size) <= max_width


def test_printed_labels_do_not_touch_the_bars(tmp_path):
    # Value 0 and no markers: the track is the only thing right of the labels, so any dark pixel on it is
    # a label running into the bar.
    rows = [{"label": label, "value": 0, "compare": []} for label in [*LONG_LABELS.values(), *SHORT_LABELS]]
    pdf = tmp_path / "chart.pdf"
    pdf.write_bytes(HTML(string=f"<!doctype html><html><body>{bar_chart(rows)}</body></html>").write_pdf())
    subprocess.run(["pdftoppm", "-png", "-r", "192", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True)
    png = next(p for p in os.listdir(tmp_path) if p.startswith("page") and p.endswith(".png"))
    with Image.open(tmp_path / png) as page:
        rgb = page.convert("RGB")
    track = tuple(int(TRACK_COLOUR[i:i + 2], 16) for i in (1, 3, 5))
    pixels = rgb.load()
    track_xs = [x for y in range(rgb.height) for x in range(rgb.width)
                if all(abs(a - b) <= 3 for a, b in zip(pixels[x, y], track))]
    track_left, track_right = min(track_xs), max(track_xs)
    dark = [(x, y) for y in range(rgb.height) for x in range(track_right) if max(pixels[x, y]) < 128]
    assert any(x < track_left for x, _ in dark)  # the labels are printed
    assert [p for p in dark if p[0] >= track_left - 2] == []


def test_a_dips_value_is_written_below_its_point_where_the_line_does_not_run(app):
    """At a dip the line comes down to the point from both sides: a value written above it was crossed
    by the line. It goes below; a peak's and the others' stay above."""
    import re

    svg = trend_chart([("Jan", 80), ("Feb", 50), ("Mar", 82), ("Apr", 86)])
    circles = [float(cy) for cy in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', svg)]
    values = {text: float(y) for y, text in re.findall(r'<text x="[\d.]+" y="([\d.]+)"[^>]*>(\d+\.\d)%?</text>', svg)}
    assert len(circles) == 4 and set(values) == {"80.0", "50.0", "82.0", "86.0"}, (circles, values)
    assert values["50.0"] > circles[1]  # the dip: below its point
    assert values["80.0"] < circles[0] and values["82.0"] < circles[2] and values["86.0"] < circles[3]


def test_a_legend_name_wider_than_the_chart_wraps_within_it_and_the_next_starts_below():
    """A branch may be named in 160 characters: the legend printed it on one line, off the chart's edge."""
    name = ("Aurora Szeged Árkád Bevásárlóközpont – Elektronikai Szaküzlet és Szervizpont "
            "(Kereskedelmi-Szolgáltató Egység, második emelet, a mozi melletti üzlethelyiség)")
    width = 520
    root = _parse(bar_chart(ROWS, width=width, legend=[(name, "bar"), ("Region average", 0)]))
    texts = [(float(t.get("x")), float(t.get("y")), float(t.get("font-size")), "".join(t.itertext()))
             for t in root.iter(f"{SVG}text")]
    legend = [t for t in texts if t[3] in name or t[3].endswith("\u2026") or t[3] == "Region average"]
    lines = [t for t in legend if t[3] != "Region average"]
    assert len(lines) == 2 and all(x + _dejavu_width(text, size) <= width for x, _y, size, text in lines)
    assert name in [title.text for title in root.iter(f"{SVG}title")]  # whole, for a reader that asks
    region = next(t for t in legend if t[3] == "Region average")
    assert region[1] > max(y for _x, y, _s, _t in lines) and region[0] < 30  # on a line of its own, below
    assert float(root.get("height")) >= region[1]


def test_a_dip_to_the_floor_is_written_beside_its_point_under_the_rising_line():
    """A month at 0%: below its point there is no room, and above it the line from both neighbours ran
    through the value. It is written beside the point, on the side of the higher neighbour (the
    line rises most there), or inside the chart for the first and last points."""
    import re

    def placed(points, value):
        svg = trend_chart(points)
        circles = [float(cx) for cx in re.findall(r'<circle cx="([\d.]+)"', svg)]
        [(x, anchor)] = [(float(x), anchor) for x, anchor, text in re.findall(
            r'<text x="([\d.]+)" y="[\d.]+"[^>]*?text-anchor="(\w+)"[^>]*>([\d.]+)</text>', svg) if text == value]
        return x, anchor, circles

    x, anchor, circles = placed([("Jan", 80), ("Feb", 0), ("Mar", 60)], "0.0")
    assert anchor == "end" and x < circles[1]  # toward January, the higher
    x, anchor, circles = placed([("Jan", 30), ("Feb", 0), ("Mar", 90)], "0.0")
    assert anchor == "start" and x > circles[1]
    x, anchor, circles = placed([("Jan", 80), ("Feb", 0)], "0.0")
    assert anchor == "end" and x < circles[1]  # the last point: not past the chart's edge
    x, anchor, circles = placed([("Jan", 0), ("Feb", 80)], "0.0")
    assert anchor == "start" and x > circles[0]
