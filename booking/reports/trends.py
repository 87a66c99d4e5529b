"""The dashboard's charts, from the report's month lines and its total (no query of their
own): outcomes beside the articles' figures, the mean change of pain with its spread, the
courses started, completed and abandoned, no-shows and late cancellations, and adverse
events by type. Drawn by `charts`.
"""

from __future__ import annotations

from booking.reports.charts import Chart, Reference, Series, bar_chart, spread_chart
from booking.reports.figures import REFERENCES, SMALL_NUMBERS, Figure, Line, Report


def _cell(figure: Figure) -> str:
    if not figure.patients:
        return "—"
    if figure.too_few:
        return f"fewer than {SMALL_NUMBERS} patients"
    return f"{figure.share}% ({figure.count} of {figure.base})"


def _month_names(months: list[Line]) -> list[str]:
    """Short labels under the axis: 'Mar', with the year at January and at the start."""
    names = []
    for index, month in enumerate(months):
        short, year = month.name.split(" ")
        names.append(f"{short} {year[2:]}" if index == 0 or short == "Jan" else short)
    return names


# What both outcome charts compare: the articles' nearest figure, drawn as a line.
REFERENCE, REFERENCE_WORDS = REFERENCES["improved_pain_mobility"]
OUTCOME_LEGEND = [
    ("First-step pain fell by 2 points or more", "series-1"),
    ("Answered that pain and mobility improved", "series-2"),
    (f"Articles: {REFERENCE_WORDS}", "reference"),
]


def _outcome_bars(
    lines: list[Line], *, chart_id: str, title: str, description: str, categories: list[str]
) -> str:
    """Two bars for each of `lines` (months, or locations and practitioners): first-step pain
    fell by 2 points or more, and pain and mobility improved; the articles' figure a line."""
    return bar_chart(
        chart_id=chart_id,
        title=title,
        description=description,
        categories=categories,
        series=[
            Series("Pain fell by 2 or more", "series-1", [m.pain_fell_2.share for m in lines]),
            Series(
                "Improved pain and mobility",
                "series-2",
                [m.improved_pain_mobility.share for m in lines],
            ),
        ],
        unit="%",
        top=100,
        references=[Reference(REFERENCE, f"Articles: {REFERENCE}% improved pain and mobility")],
    )


def outcomes_chart(months: list[Line]) -> Chart:
    shown = sum(
        figure.share is not None
        for m in months
        for figure in (m.pain_fell_2, m.improved_pain_mobility)
    )
    return Chart(
        id="chart-outcomes",
        title="Outcomes by the month the course started",
        svg=_outcome_bars(
            months,
            chart_id="chart-outcomes",
            title="Outcomes at the course's end, by the month the course started (%)",
            description=(
                f"Share of courses whose first-step pain fell by 2 points or more, and share "
                f"answering that pain and mobility improved, for {len(months)} months; "
                f"{shown} of {2 * len(months)} bars rest on {SMALL_NUMBERS} patients or more "
                f"and are drawn. The line at {REFERENCE}% is the articles' figure: "
                f"{REFERENCE_WORDS}."
            ),
            categories=_month_names(months),
        ),
        legend=OUTCOME_LEGEND,
        columns=[
            "Month",
            "First-step pain fell by 2 or more",
            "Improved pain and mobility",
            "Mean change of first-step pain (SD)",
        ],
        rows=[
            [
                m.name,
                _cell(m.pain_fell_2),
                _cell(m.improved_pain_mobility),
                _change_cell(m),
            ]
            for m in months
        ],
        notes=[
            f"Months whose figure rests on fewer than {SMALL_NUMBERS} patients show a dash, "
            "not a bar.",
            "The articles give no figure for a 2-point fall in first-step pain; their nearest, "
            f"{REFERENCE_WORDS}, is drawn as a line.",
        ],
    )


def _change_cell(month: Line) -> str:
    change = month.change
    if not change.patients:
        return "—"
    if change.too_few or change.mean is None:
        return f"fewer than {SMALL_NUMBERS} patients"
    sd = "—" if change.sd is None else f"{change.sd:.1f}"
    return f"{change.mean:.1f} points (SD {sd}, {change.patients} patients)"


def change_chart(months: list[Line]) -> Chart:
    means = [None if m.change.too_few else m.change.mean for m in months]
    spreads = [None if m.change.too_few else m.change.sd for m in months]
    return Chart(
        id="chart-change",
        title="Mean change of first-step pain, with its spread",
        svg=spread_chart(
            chart_id="chart-change",
            title="Mean change of first-step pain at the course's end (points, 0–10 scale)",
            description=(
                "For each month the courses started in: the mean change of first-step pain "
                "from the intake questionnaire to the course's end (negative is better), "
                "with a whisker one standard deviation either side; months resting on fewer "
                f"than {SMALL_NUMBERS} patients are not drawn."
            ),
            categories=_month_names(months),
            means=means,
            spreads=spreads,
            unit="",
        ),
        legend=[("Mean change, whisker ± one standard deviation", "series-1")],
        columns=["Month", "Mean change of first-step pain (SD)"],
        rows=[[m.name, _change_cell(m)] for m in months],
        notes=["Below zero: less pain than at the start. The articles give no mean change."],
    )


def courses_chart(months: list[Line]) -> Chart:
    started = [m.courses_started for m in months]
    completed = [m.completed for m in months]
    abandoned = [m.abandoned for m in months]
    return Chart(
        id="chart-courses",
        title="Courses started, completed and abandoned",
        svg=bar_chart(
            chart_id="chart-courses",
            title="Courses by the month they started: started, completed, abandoned",
            description=(
                f"{sum(started)} courses started over {len(months)} months; of them "
                f"{sum(completed)} completed and {sum(abandoned)} abandoned so far."
            ),
            categories=_month_names(months),
            series=[
                Series("Started", "series-1", started),
                Series("Completed", "series-2", completed),
                Series("Abandoned", "series-3", abandoned),
            ],
        ),
        legend=[("Started", "series-1"), ("Completed", "series-2"), ("Abandoned", "series-3")],
        columns=["Month", "Started", "Completed", "Abandoned", "Still going on"],
        rows=[
            [m.name, str(m.courses_started), str(m.completed), str(m.abandoned), str(m.ongoing)]
            for m in months
        ],
        notes=[
            "A course counts in the month its first session falls (in that location's time); "
            "completed and abandoned are what those courses have become since."
        ],
    )


def attendance_chart(months: list[Line]) -> Chart:
    no_shows = [m.no_show.share for m in months]
    late = [m.late_cancel.share for m in months]
    highest = max([v for v in no_shows + late if v is not None], default=0)
    return Chart(
        id="chart-attendance",
        title="No-shows and late cancellations",
        svg=bar_chart(
            chart_id="chart-attendance",
            title="No-shows and late cancellations by month (%)",
            description=(
                f"For each of {len(months)} months: no-shows among the appointments attended "
                "or missed, and late cancellations among all appointments; months resting on "
                f"fewer than {SMALL_NUMBERS} patients are not drawn."
            ),
            categories=_month_names(months),
            series=[
                Series("No-shows", "series-1", no_shows),
                Series("Late cancellations", "series-3", late),
            ],
            unit="%",
            top=max(10, highest),
        ),
        legend=[("No-shows", "series-1"), ("Late cancellations", "series-3")],
        columns=["Month", "Appointments", "No-shows", "Late cancellations"],
        rows=[
            [m.name, str(m.appointments), _cell(m.no_show), _cell(m.late_cancel)] for m in months
        ],
        notes=[
            "An appointment counts in the month it was for (in its location's time). "
            f"Months resting on fewer than {SMALL_NUMBERS} patients show a dash, not a bar."
        ],
    )


def adverse_chart(line: Line) -> Chart:
    shares = [figure.share for _, figure in line.adverse]
    highest = max([v for v in shares if v is not None], default=0)
    return Chart(
        id="chart-adverse",
        title="Adverse events by type",
        svg=bar_chart(
            chart_id="chart-adverse",
            title="Sessions with each adverse event (%)",
            description=(
                f"Share of the {line.sessions_recorded} signed session notes of the period "
                "recording each adverse event (amendments included)."
            ),
            categories=[label for label, _ in line.adverse],
            series=[Series("Sessions with it", "series-2", shares)],
            unit="%",
            top=max(10, highest),
        ),
        legend=[("Sessions with the event", "series-2")],
        columns=["Event", "Sessions with it"],
        rows=[[label, _cell(figure)] for label, figure in line.adverse],
        notes=["One session may record several events."],
    )


def comparison_chart(lines: list[Line]) -> Chart:
    return Chart(
        id="chart-lines",
        title="Outcomes by location and by practitioner",
        svg=_outcome_bars(
            lines,
            chart_id="chart-lines",
            title="Outcomes at the course's end, by location and by practitioner (%)",
            description=(
                "Share of courses whose first-step pain fell by 2 points or more, and share "
                f"answering that pain and mobility improved, for {len(lines)} locations and "
                f"practitioners; lines resting on fewer than {SMALL_NUMBERS} patients are not "
                f"drawn. The line at {REFERENCE}% is the articles' figure: {REFERENCE_WORDS}."
            ),
            categories=[line.name for line in lines],
        ),
        legend=OUTCOME_LEGEND,
        columns=["Line", "First-step pain fell by 2 or more", "Improved pain and mobility"],
        rows=[
            [
                f"{'Location' if line.kind == 'location' else 'Practitioner'} {line.name}",
                _cell(line.pain_fell_2),
                _cell(line.improved_pain_mobility),
            ]
            for line in lines
        ],
        notes=[
            "Locations first, then practitioners: a course counts at the location of its "
            "first session and for the practitioner who prescribed it.",
        ],
    )


def dashboard_charts(report: Report, *, breakdown: bool = False) -> list[Chart]:
    """The charts under the dashboard's figures, oldest month first, then adverse events,
    then (with `breakdown`, for managers) each location and practitioner side by side."""
    if not report.months:
        return []
    charts = [
        outcomes_chart(report.months),
        change_chart(report.months),
        courses_chart(report.months),
        attendance_chart(report.months),
    ]
    if report.total.sessions_recorded:
        charts.append(adverse_chart(report.total))
    lines = [*report.locations, *report.practitioners]
    if breakdown and (len(report.locations) > 1 or len(report.practitioners) > 1):
        charts.append(comparison_chart(lines))
    return charts
