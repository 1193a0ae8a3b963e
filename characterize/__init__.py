"""A-PACE characterize package."""
