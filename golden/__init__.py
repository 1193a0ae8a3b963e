"""A-PACE golden package."""
