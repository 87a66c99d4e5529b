"""The clinical room's forms: assessment and session notes, amendments and signing (notes.py),
outcome surveys (outcome_surveys.py)."""
