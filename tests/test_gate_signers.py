"""Who may sign comes from the environment's rule data when --identity is not given."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from affidavit.cli import main
from affidavit.pipeline import allowed_signers
from tests.conftest import CORPUS

CASES = CORPUS / "sigstore" / "sigstore-conformance"
BEACON = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
ISSUER = "https://token.actions.githubusercontent.com"


def _run(tmp_path: Path, allowed: list[dict[str, str]], patterns: list[dict[str, str]]) -> dict[str, Any]:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    shutil.copy(CASES / "happy-path-v0.3" / "bundle.sigstore.json", evidence / "bundle.sigstore.json")
    digest = "sha256:" + hashlib.sha256((CASES / "a.txt").read_bytes()).hexdigest()
    params = tmp_path / "params.yaml"
    params.write_text(
        json.dumps(
            {
                "environments": {
                    "prod": {"supply_chain": {"allowed_identities": allowed, "identity_patterns": patterns}}
                }
            }
        )
    )
    result = CliRunner().invoke(
        main,
        [
            "gate",
            "--evidence",
            str(evidence),
            "--subject",
            digest,
            "--params",
            str(params),
            "--now",
            "2026-11-20T12:00:00Z",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    # everything else is missing: NO-GO (exit 1 by the gate's own decision, not by an exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, result.output + result.stderr
    bundle = next(p for p in (tmp_path / "out").iterdir() if p.is_dir())
    rules = json.loads((bundle / "results.json").read_text())["rules"]
    return next(r for r in rules if r["id"] == "supply_chain.signature_verified")


def test_keyless_signature_from_an_allowed_identity_passes(tmp_path: Path) -> None:
    rule = _run(tmp_path, [{"identity": BEACON, "issuer": ISSUER}], [])
    assert rule["outcome"] == "pass"


def test_identity_pattern_from_rule_data_passes(tmp_path: Path) -> None:
    rule = _run(tmp_path, [], [{"identity": "https://github.com/sigstore-conformance/.*", "issuer": ISSUER}])
    assert rule["outcome"] == "pass"


def test_signer_not_in_rule_data_fails_with_the_reason(tmp_path: Path) -> None:
    rule = _run(
        tmp_path,
        [
            {
                "identity": "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main",
                "issuer": ISSUER,
            }
        ],
        [],
    )
    assert rule["outcome"] == "fail"
    assert "match none of the 1 allowed signer(s)" in json.dumps(rule["violations"])


def test_allowed_signers_reads_exact_and_patterns() -> None:
    params = {
        "supply_chain": {
            "allowed_identities": [{"identity": "a", "issuer": "i"}, {"identity": 3}],
            "identity_patterns": [{"identity": "b.*", "issuer": "j"}],
        }
    }
    assert allowed_signers(params) == (("a", "i"), ("re:b.*", "j"))
    assert allowed_signers({}) == ()
