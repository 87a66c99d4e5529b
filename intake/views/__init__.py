"""Intake's pages: the questionnaire and consent (questionnaire.py), the patient chart
(chart.py) and clinical notes (notes.py)."""
