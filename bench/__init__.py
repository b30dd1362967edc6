"""The CodySkool benchmark: run it with `.venv/bin/python bench/run.py` (see README.md here)."""
