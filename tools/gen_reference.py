"""Write ``docs/reference.md`` from the rules' METADATA and the control matrices.

``python tools/gen_reference.py`` rewrites it; ``--check`` exits 1 when it is stale (the test
``tests/test_reference.py`` does the same comparison).
"""

from __future__ import annotations

import sys
from pathlib import Path

from affidavit.controls.loader import load_matrices
from affidavit.explain import reference_markdown
from affidavit.policy.loader import load_policy_set

TARGET = Path(__file__).resolve().parents[1] / "docs" / "reference.md"


def render() -> str:
    """The reference as it should be now."""
    return reference_markdown(load_policy_set(), load_matrices()) + "\n"


def main(argv: list[str]) -> int:
    """Rewrite docs/reference.md, or with --check report whether it is current."""
    text = render()
    if "--check" in argv:
        return 0 if TARGET.is_file() and TARGET.read_text(encoding="utf-8") == text else 1
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
