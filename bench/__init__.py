"""The CodySkool benchmark: run it with `.venv/bin/python bench/run.py` (see README.md here)."""

import sys
from pathlib import Path

# The live-server harness (tests/live.py) is the tests' and ours: its folder goes on sys.path, as
# pytest puts it there for the tests.
_TESTS = str(Path(__file__).resolve().parent.parent / "tests")
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
