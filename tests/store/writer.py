"""A gate's recording step in its own process, for the concurrency and SIGKILL tests.

``python -m tests.store.writer URL ENTRIES START``: waits until the file START exists (so that
every writer starts at once), then records each pickled ``RunEntry`` of ENTRIES into the store at
URL, printing ``ok <run id> <seq>`` after each commit.
"""

from __future__ import annotations

import pickle
import sys
import time
from pathlib import Path

from affidavit.store import open_store


def main(url: str, entries: str, start: str) -> None:
    """Record the entries once START appears."""
    loaded = pickle.loads(Path(entries).read_bytes())
    while not Path(start).exists():
        time.sleep(0.002)
    store = open_store(url)
    try:
        for entry in loaded:
            done = store.record(entry)
            print(f"ok {entry.columns.run_id} {done.seq}", flush=True)
    finally:
        store.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
