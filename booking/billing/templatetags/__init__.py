"""Template tags of the billing room."""
