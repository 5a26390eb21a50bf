"""The demo evidence is what make_demo.py writes, and its signature really decides the gate."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from affidavit.cli import main
from tests.conftest import REPO

DEMO = REPO / "evidence" / "demo"
DIGEST = (DEMO / "SUBJECT_DIGEST").read_text().strip()
NOW = "2026-11-20T12:00:00Z"


def test_demo_files_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "evidence" / "make_demo.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def _gate(evidence: Path, out: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(
        main,
        [
            "gate",
            "--evidence",
            str(evidence),
            "--subject",
            f"ghcr.io/acme/shop@{DIGEST}",
            "--now",
            NOW,
            "--replay",
            "--out",
            str(out),
            "--commit",
            (DEMO / "COMMIT").read_text().strip(),
            "--params",
            str(DEMO / "params.yaml"),  # the demo organisation's rule data (whom it trusts)
            *extra,
        ],
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    bundle = next(p for p in out.iterdir() if p.is_dir())
    return result.exit_code, {r["id"]: r for r in json.loads((bundle / "results.json").read_text())["rules"]}


def test_go_demo_passes_only_with_the_signing_key(tmp_path: Path) -> None:
    code, rules = _gate(DEMO / "go", tmp_path / "with-key", "--key", str(DEMO / "cosign.pub"))
    assert code == 0
    assert rules["supply_chain.signature_verified"]["outcome"] == "pass"
    code, rules = _gate(DEMO / "go", tmp_path / "no-key")
    assert code == 1
    assert rules["supply_chain.signature_verified"]["outcome"] in ("fail", "insufficient_evidence")


def test_swapped_signature_is_no_go(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    shutil.copytree(DEMO / "go", evidence)
    envelope = json.loads((evidence / "provenance.intoto.json").read_text())
    other = json.loads((DEMO / "no-go" / "provenance.intoto.json").read_text())
    # a signature that is valid, but over another payload: take the DSSE signature of a statement
    # about another artefact, signed with the same key
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    sys.path.insert(0, str(REPO / "evidence"))
    try:
        import make_demo

        key = make_demo._demo_key()
    finally:
        sys.path.pop(0)
    payload = base64.b64decode(other["payload"]).replace(DIGEST.split(":")[1].encode(), b"0" * 64)
    sig = key.sign(make_demo._pae(envelope["payloadType"], payload), ec.ECDSA(hashes.SHA256()))
    envelope["signatures"] = [{"keyid": "", "sig": base64.b64encode(sig).decode()}]
    (evidence / "provenance.intoto.json").write_text(json.dumps(envelope))
    code, rules = _gate(evidence, tmp_path / "out", "--key", str(DEMO / "cosign.pub"))
    assert code == 1
    assert rules["supply_chain.signature_verified"]["outcome"] in ("fail", "insufficient_evidence")
    assert rules["supply_chain.provenance_trusted"]["outcome"] in ("fail", "insufficient_evidence")


def test_payload_changed_after_signing_is_no_go(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    shutil.copytree(DEMO / "go", evidence)
    envelope = json.loads((evidence / "provenance.intoto.json").read_text())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["runDetails"]["builder"]["id"] = "https://evil.example/builder"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    (evidence / "provenance.intoto.json").write_text(json.dumps(envelope))
    code, rules = _gate(evidence, tmp_path / "out", "--key", str(DEMO / "cosign.pub"))
    assert code == 1
    assert rules["supply_chain.signature_verified"]["outcome"] != "pass"
    assert rules["supply_chain.provenance_trusted"]["outcome"] != "pass"


def test_demo_sbom_is_valid_cyclonedx_by_the_official_schema() -> None:
    """cyclonedx-python-lib's strict validator (too slow for the gate's path, right for a small file)."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    for variant in ("go", "no-go"):
        text = (DEMO / variant / "sbom.cdx.json").read_text()
        assert JsonStrictValidator(SchemaVersion.V1_5).validate_str(text) is None
