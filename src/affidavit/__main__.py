"""``python -m affidavit``."""

from affidavit.cli import run

if __name__ == "__main__":  # not when a process started from this one imports it again
    run()
