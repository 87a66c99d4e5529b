"""The clinical room's forms: assessment and session notes, amendments and signing (notes.py),
outcome check-ins (outcome_surveys.py)."""
