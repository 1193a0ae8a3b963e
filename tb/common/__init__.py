"""Shared cocotb infrastructure for every testbench in tb/ (see tb/common/runner.py, tb/common/scoreboard.py)."""
