"""A-PACE apace package."""
