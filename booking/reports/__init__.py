"""The clinic's results: courses, attendance, outcomes, adverse events and utilisation for a
period, for the whole clinic, each location and each practitioner, computed in PostgreSQL.

Each figure says how many patients it rests on; a figure resting on fewer than
`SMALL_NUMBERS` patients is shown as such, never as a percentage. No figure divides by zero:
shares are computed here from counts, and are None when there is nothing to divide.

Why SQL rather than the ORM for the aggregations: a course's figures need a first level of
aggregation (its sessions: first one, attended, still booked) and then a second (over the
courses), and the page needs the total, each location and each practitioner at once.
PostgreSQL does both in one pass with a CTE and `GROUPING SETS`, whatever the number of
courses; the ORM can express neither. The queries are fixed text with parameters; table names
come from the models. Definitions (also written on the page):

- a course counts in the period in which its first session falls (in that location's time),
  at the location of its session 1, for the practitioner who prescribed it;
- completed: as many sessions attended as planned; abandoned: fewer attended than planned and
  none left booked (the rest cancelled or missed); the others are still going on;
- pain at course end: the end-of-course questionnaire's first-step pain, compared with the
  baseline, the questionnaire the course was prescribed from;
- no-show rate: no-shows among appointments that were due and reached an outcome (attended or
  missed); late-cancellation rate: late cancellations among all appointments of the period;
- utilisation: minutes booked (appointments requested, confirmed, checked in or completed:
  the active statuses; not no-shows or cancellations) over the minutes practitioners were
  available at the location(s) in the period: their weekly hours within opening hours, plus
  extra hours, less holidays and time off. Both sides count only practitioners who are active
  and still work at that (active) location, as the availability engine does.

One module a part: `figures`, `queries`, `tallies` (folding the visits' and sessions'
tallies, which the worker does every pass), `utilisation`, `dashboard` and `outcomes`; the charts
by month are drawn by `charts` (numbers to SVG) from `trends` (which charts, from the report's
month lines); the pages are in `views`. A patient's record on request (`patient_record`,
`record_views`) lives here too: it is the other thing the clinic exports. Callers use this package's names
(`reports.clinic_report`).
"""

from booking.reports.dashboard import (
    clinic_report,
    cohort_patient_ids,
)
from booking.reports.figures import (
    ADVERSE_TYPES,
    REFERENCES,
    SMALL_NUMBERS,
    Change,
    Figure,
    Line,
    Period,
    Report,
    Scope,
    Utilisation,
)
from booking.reports.outcomes import (
    OUTCOME_COLUMNS,
    OUTCOMES_SQL,
    course_outcomes,
    course_rows,
)
from booking.reports.tallies import fold as fold_tallies
from booking.reports.trends import (
    dashboard_charts,
)
from booking.reports.utilisation import (
    working_minutes,
)

__all__ = [
    "ADVERSE_TYPES",
    "Change",
    "Figure",
    "Line",
    "Period",
    "REFERENCES",
    "Report",
    "SMALL_NUMBERS",
    "Scope",
    "Utilisation",
    "working_minutes",
    "clinic_report",
    "dashboard_charts",
    "cohort_patient_ids",
    "OUTCOMES_SQL",
    "OUTCOME_COLUMNS",
    "course_outcomes",
    "course_rows",
    "fold_tallies",
]
