"""The clinical room's pages: assessment and session notes (notes.py), outcome surveys
(outcome_surveys.py) and the patient chart (chart.py)."""
