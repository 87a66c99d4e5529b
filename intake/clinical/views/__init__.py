"""The clinical room's pages: assessment and session notes (notes.py), outcome check-ins
(outcome_surveys.py) and the patient chart (chart.py)."""
