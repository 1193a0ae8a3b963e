"""A-PACE quant package."""
