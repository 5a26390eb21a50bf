"""``python -m affidavit``."""

from affidavit.cli import run

run()
