"""pytest configuration for tb/: make `tb.common` and `golden` importable from every testbench folder."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
