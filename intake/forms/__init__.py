"""Intake's forms: the questionnaire and consent (questionnaire.py), clinical notes (notes.py)."""
