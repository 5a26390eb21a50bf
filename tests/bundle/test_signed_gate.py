"""The gate signs the bundle it writes (``--sign-key``), as ``make demo`` does with the demo's
DEMO-ONLY key, and a signed record is never taken for another's.

A gate re-run over a record of the same run that is unsigned, or signed by another key, must not
call it "already recorded": the record would then not carry the signature this run promises.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from affidavit.bundle.verify import VERIFIED, verify_bundle
from affidavit.cli import main
from affidavit.errors import BundleError
from affidavit.signatures.keys import load_public_key
from tests.attacks.support import gate, release
from tests.bundle.support import signer_and_key, write
from tests.conftest import REPO

DEMO_KEY = REPO / "evidence" / "demo" / "demo-only-bundle-key.pem"
DEMO_PUB = REPO / "evidence" / "demo" / "demo-only-bundle-key.pub"


def test_the_demo_gate_signs_and_verify_accepts_only_with_the_demo_key(tmp_path: Path) -> None:
    evidence = release(tmp_path)
    signed = gate(tmp_path, evidence, "--sign-key", str(DEMO_KEY), "--format", "json", out="signed")
    unsigned = gate(tmp_path, evidence, out="unsigned")
    assert signed.exit_code == 1 and unsigned.exit_code == 1, signed.stderr  # NO-GO either way
    (folder,) = signed.bundles
    assert folder.name == unsigned.bundles[0].name  # signing does not change the run id
    public = load_public_key(DEMO_PUB)
    assert not isinstance(public, str)
    doc = json.loads(signed.stdout)
    assert doc["signed_by"] == public.key_id
    for where in (folder, folder.parent / f"{folder.name}.tar.gz"):
        report = verify_bundle(where, public)
        assert report.ok and report.signature == VERIFIED, report.problems
    ok = CliRunner().invoke(main, ["verify", str(folder), "--key", str(DEMO_PUB)])
    assert ok.exit_code == 0 and ok.stdout.startswith("OK ")
    assert CliRunner().invoke(main, ["verify", str(folder)]).exit_code == 1  # no key, no flag


def test_makefile_signs_the_demo_with_the_committed_demo_key() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "--sign-key evidence/demo/demo-only-bundle-key.pem" in makefile
    assert b"DEMO ONLY" in DEMO_KEY.read_bytes()


def test_a_signed_rerun_over_the_same_run_signed_by_the_same_key_is_already_recorded(tmp_path: Path) -> None:
    signer, _, _ = signer_and_key(tmp_path / "keys")
    first = write(tmp_path, signer)
    again = write(tmp_path, signer)
    assert again.already_recorded and again.created == ()
    assert first.path == again.path


@pytest.mark.parametrize("existing", ["unsigned", "another key"])
def test_a_signed_rerun_refuses_a_record_not_signed_by_its_key(tmp_path: Path, existing: str) -> None:
    signer, _, _ = signer_and_key(tmp_path / "keys")
    other = signer_and_key(tmp_path / "keys", name="other")[0] if existing == "another key" else None
    first = write(tmp_path, other)
    before = {p: p.read_bytes() for p in first.path.rglob("*") if p.is_file()}
    with pytest.raises(BundleError, match="already exists and is not signed by the --sign-key of this run"):
        write(tmp_path, signer)
    assert {p: p.read_bytes() for p in first.path.rglob("*") if p.is_file()} == before


def test_an_unsigned_rerun_over_a_signed_record_of_the_same_run_is_already_recorded(tmp_path: Path) -> None:
    """Without a key nothing is promised about authorship: the signed record stays as it is."""
    signer, _, _ = signer_and_key(tmp_path / "keys")
    write(tmp_path, signer)
    again = write(tmp_path)
    assert again.already_recorded and (again.path / "SHA256SUMS.sig").exists()
