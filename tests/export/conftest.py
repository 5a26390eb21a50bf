"""Fixtures of the export tests: a run history filled by real gate runs over a simulated quarter.

The runs are the demo releases (``evidence/demo/go`` and ``no-go``) judged by ``affidavit gate``
itself (in-process through click), replayed (``--replay --now``) on days of 2026-Q4 after the demo
evidence was made (2026-11-20), one NO-GO release with a waiver, each bundle signed with the
demo's bundle key and recorded in a SQLite store. The PostgreSQL fixtures of the store tests (a
private real cluster) are reused for the PostgreSQL export.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from affidavit.cli import main
from tests.store.conftest import DEMO, pg_server, pg_url  # noqa: F401  (fixtures reused)

#: The simulated quarter's promotion moments (each: the GO and the NO-GO release).
DAYS = ("2026-11-20T12:00:00Z", "2026-11-21T09:00:00Z", "2026-11-24T15:30:00Z", "2026-12-02T11:00:00Z")
#: The waived run: the NO-GO release with its open admin port accepted for a while.
WAIVED_AT = "2026-11-22T10:00:00Z"
WAIVER = """\
- rule: iac.no_open_admin_ports
  reason: "Bastion migration | <script>alert(1)</script> **now**"
  owner: platform-team
  approver: ciso@acme.example
  ticket: SEC-1234
  expires: 2026-12-15
  subject: {digest}
"""


@dataclass(frozen=True)
class Quarter:
    """A store of real gate runs and what is needed to export and check it."""

    url: str
    reports: Path
    key: Path
    pub: Path
    runs: int


def gate(store_url: str, reports: Path, release: str, now: str, *extra: str) -> None:
    """One real gate run of a demo release, recorded in ``store_url``."""
    digest = (DEMO / "SUBJECT_DIGEST").read_text().strip()
    args = [
        "gate",
        "--evidence",
        str(DEMO / release),
        "--environment",
        "prod",
        "--subject",
        f"ghcr.io/acme/shop@{digest}",
        "--key",
        str(DEMO / "cosign.pub"),
        "--params",
        str(DEMO / "params.yaml"),
        "--commit",
        (DEMO / "COMMIT").read_text().strip(),
        "--now",
        now,
        "--replay",
        "--sign-key",
        str(DEMO / "demo-only-bundle-key.pem"),
        "--out",
        str(reports),
        "--store",
        store_url,
        "-q",
        *extra,
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output


def audit_keys(folder: Path) -> tuple[Path, Path]:
    """A fresh ECDSA P-256 key pair made by openssl (the auditor-facing export key)."""
    key, pub = folder / "audit.key", folder / "audit.pub"
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["openssl", "pkey", "-in", str(key), "-pubout", "-out", str(pub)], check=True, capture_output=True
    )
    return key, pub


@pytest.fixture(scope="session")
def quarter_master(tmp_path_factory: pytest.TempPathFactory) -> Quarter:
    """The quarter's store, filled once per session (tests copy it: see ``quarter``)."""
    folder = tmp_path_factory.mktemp("quarter")
    url = f"sqlite:///{folder / 'history.db'}"
    reports = folder / "reports"
    count = 0
    for now in DAYS:
        for release in ("go", "no-go"):
            gate(url, reports, release, now)
            count += 1
    waivers = folder / "waivers.yaml"
    waivers.write_text(WAIVER.format(digest=(DEMO / "SUBJECT_DIGEST").read_text().strip()))
    gate(url, reports, "no-go", WAIVED_AT, "--waivers", str(waivers))
    key, pub = audit_keys(folder)
    return Quarter(url, reports, key, pub, count + 1)


@pytest.fixture
def quarter(quarter_master: Quarter, tmp_path: Path) -> Quarter:
    """A private copy of the quarter's store (a test may tamper with it)."""
    source = Path(quarter_master.url.removeprefix("sqlite://"))
    target = tmp_path / "history.db"
    shutil.copyfile(source, target)
    for suffix in ("-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    return Quarter(
        f"sqlite:///{target}",
        quarter_master.reports,
        quarter_master.key,
        quarter_master.pub,
        quarter_master.runs,
    )
