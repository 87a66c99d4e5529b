"""The dashboard's drawing functions (booking.reports.charts): numbers in, escaped SVG out."""

from __future__ import annotations

import re

from booking.reports.charts import Reference, Series, bar_chart, nice_ticks, spread_chart


def _bars(**overrides):
    arguments = {
        "chart_id": "c",
        "title": "Title",
        "description": "Description",
        "categories": ["Jan", "Feb"],
        "series": [Series("Share", "series-1", [50, None])],
        "unit": "%",
        "top": 100,
    }
    return bar_chart(**(arguments | overrides))


def test_a_chart_is_an_image_named_by_its_title_and_description():
    svg = _bars()
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert 'role="img" aria-labelledby="c-title c-desc"' in svg
    assert '<title id="c-title">Title</title><desc id="c-desc">Description</desc>' in svg


def test_a_bar_is_as_tall_as_its_share_of_the_scale():
    svg = _bars(series=[Series("Share", "series-1", [50, 100])])
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
    assert heights[1] == 2 * heights[0]
    assert "<title>Jan, Share: 50%</title>" in svg


def test_a_missing_value_is_a_dash_not_a_bar_of_zero():
    svg = _bars()
    assert svg.count("<rect ") == 1
    assert 'class="missing-mark"><title>Feb, Share: not shown</title>' in svg


def test_every_text_is_escaped_and_nothing_is_styled_inline():
    svg = _bars(
        title="<script>alert(1)</script>",
        categories=['"><b>', "Feb"],
        series=[Series("A & B", "series-1", [1, 2])],
        references=[Reference(70, "<i>70</i>")],
    )
    assert "<script>" not in svg and "<b>" not in svg and "<i>" not in svg
    assert "&lt;script&gt;" in svg and "A &amp; B" in svg
    assert "style=" not in svg


def test_a_reference_line_sits_at_its_value():
    svg = _bars(references=[Reference(70, "Articles")])
    top, bottom = 16, 240 - 36
    y = float(re.search(r'<line [^>]*y1="([\d.]+)"[^>]*class="reference-line"', svg).group(1))
    assert y == round(bottom - 0.7 * (bottom - top), 1)


def test_a_spread_chart_draws_a_point_and_a_whisker_either_side():
    svg = spread_chart(
        chart_id="s",
        title="T",
        description="D",
        categories=["Jan", "Feb", "Mar"],
        means=[-2.0, None, -3.5],
        spreads=[1.5, None, None],
    )
    assert svg.count("<circle ") == 2
    assert svg.count('class="whisker series-1"') == 1
    assert "<title>Jan: -2, spread ±1.5</title>" in svg
    assert "Feb: not shown" in svg


def test_ticks_are_round_and_cover_the_values():
    assert nice_ticks(0, 100) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(0, 4) == [0, 1, 2, 3, 4]
    assert nice_ticks(-5, 1) == [-5, -4, -3, -2, -1, 0, 1]
    ticks = nice_ticks(0, 37)
    assert ticks[0] == 0 and ticks[-1] >= 37 and len(ticks) <= 7


def test_a_label_too_wide_for_its_band_is_written_on_two_lines():
    names = [f"Practitioner Number{n}" for n in range(9)]
    svg = _bars(categories=names, series=[Series("S", "series-1", [1] * 9)])
    assert '<tspan x="' in svg and ">Practitioner</tspan>" in svg and ">Number0</tspan>" in svg
    assert "<tspan" not in _bars()  # months fit on one line
