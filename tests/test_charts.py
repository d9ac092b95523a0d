"""SVG charts for reports and dashboards: well-formed, escaped, CSP-safe, and readable in a WeasyPrint PDF."""
import base64
import io
import xml.etree.ElementTree as ET

import pytest
from pypdf import PdfReader
from weasyprint import HTML

from audit.reports.charts import (
    BAR_ROW_HEIGHT,
    DEFAULT_ACCENT,
    DEFAULT_COLOUR,
    bar_chart,
    svg_data_uri,
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


def test_trend_chart_writes_each_value_above_its_dot():
    root = _parse(trend_chart(POINTS_24))
    assert len(root.findall(f".//{SVG}circle")) == 24
    texts = _texts(root)
    for _, value in POINTS_24:
        assert f"{value:.1f}" in texts


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
    assert len(root.findall(f".//{SVG}line")) == 3


def test_bar_chart_draws_compare_markers_in_different_styles():
    root = _parse(bar_chart(ROWS[:1], accent="#00aa00"))
    region, brand = root.findall(f".//{SVG}line")
    assert region.get("stroke") == "#00aa00"
    assert region.get("stroke-dasharray") is None
    assert brand.get("stroke-dasharray")
    assert float(region.get("x1")) < float(brand.get("x1"))  # 80.0 left of 92.3


def test_bar_chart_grows_about_one_row_height_per_row():
    one = float(_parse(bar_chart(ROWS[:1])).get("height"))
    three = float(_parse(bar_chart(ROWS)).get("height"))
    assert three - one == 2 * BAR_ROW_HEIGHT
    assert float(_parse(bar_chart(ROWS, legend=LEGEND)).get("height")) > three


def test_long_label_is_truncated_but_kept_whole_in_a_title():
    label = "Greeting at the entrance within ten seconds of arrival, with eye contact"
    root = _parse(bar_chart([{"label": label, "value": 50, "compare": []}]))
    shown = _texts(root)[0]
    assert len(shown) == 38
    assert shown.endswith("\u2026")
    assert label.startswith(shown[:-1])
    assert label in [title.text for title in root.iter(f"{SVG}title")]


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
