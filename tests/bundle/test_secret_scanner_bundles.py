"""A secret scanner's SARIF never reaches a bundle with its secret, whichever scanner wrote it.

The collector scrubs a secret scanner's snippets from its record; the bundle stores the raw log
beside the record, so the bundle must scrub the same runs. Both decide through the one list of
secret scanners (``kinds.secrets.SECRET_SCANNERS``) and the registry's redactor for the format:
this test writes one SARIF 2.1.0 log per scanner in the shape the specification documents
(``runs[].tool.driver.name``, ``results[].locations[].physicalLocation.region.snippet.text``,
result ``properties``), runs the real gate through the CLI and searches every file of the bundle
folder and every member of its ``.tar.gz`` for each secret's bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from affidavit.cli import main
from affidavit.collectors import registry
from affidavit.collectors.kinds.secrets import SECRET_SCANNERS, secret_values
from affidavit.model import EvidenceKind
from tests.bundle.test_redaction import SYNTHETIC as PLAN
from tests.collectors.test_checkov import _provider_check
from tests.collectors.test_terraform_config import CHECKOV_EXAMPLE_SECRETS
from tests.conftest import CORPUS, NOW


def _secret(scanner: str) -> str:
    """A distinct, realistic-looking credential per scanner (an AWS secret access key's shape)."""
    digest = hashlib.sha256(scanner.encode()).hexdigest()
    return "wJalr" + digest[:35]


def _key_id(scanner: str) -> str:
    """A distinct AWS access key id per scanner (20 upper-case characters after AKIA)."""
    digest = hashlib.sha256(("id:" + scanner).encode()).hexdigest().upper()
    return "AKIA" + digest[:16]


def _sarif(scanner: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log of one secret found by ``scanner``, quoting it the ways scanners do."""
    secret = _secret(scanner)
    key_id = _key_id(scanner)
    line = f'aws_secret_access_key = "{secret}"'
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": scanner.title() if " " in scanner else scanner,
                        "version": "3.1.4",
                        "informationUri": "https://example.org/" + scanner.replace(" ", "-"),
                        "rules": [
                            {
                                "id": "aws-secret-access-key",
                                "name": "AWSSecretAccessKey",
                                "shortDescription": {"text": "AWS secret access key"},
                            },
                            {
                                "id": "aws-access-key-id",
                                "name": "AWSAccessKeyId",
                                "shortDescription": {"text": "AWS access key id"},
                            },
                        ],
                    }
                },
                "results": [
                    {
                        "ruleId": "aws-secret-access-key",
                        "ruleIndex": 0,
                        "level": "error",
                        "message": {"text": f"AWS secret access key found: {line}"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "deploy/terraform.tfvars"},
                                    "region": {
                                        "startLine": 12,
                                        "startColumn": 1,
                                        "endColumn": len(line) + 1,
                                        "snippet": {"text": line},
                                    },
                                    "contextRegion": {
                                        "startLine": 11,
                                        "endLine": 13,
                                        "snippet": {"text": f'region = "eu-west-1"\n{line}\n'},
                                    },
                                }
                            }
                        ],
                        "partialFingerprints": {"commitSha": "9f2c1e0", "email": "dev@example.org"},
                        "properties": {"secret": secret, "match": line, "commit": "9f2c1e0"},
                    },
                    {
                        "ruleId": "aws-access-key-id",
                        "ruleIndex": 1,
                        "level": "error",
                        "message": {"text": "AWS access key id found"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "deploy/terraform.tfvars"},
                                    "region": {
                                        "startLine": 11,
                                        "snippet": {"text": f'aws_access_key_id = "{key_id}"'},
                                    },
                                }
                            }
                        ],
                    },
                ],
            }
        ],
    }


def _tar_members(archive: Path) -> dict[str, bytes]:
    """Every regular member of a ``.tar.gz``, decompressed, by name."""
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(archive.read_bytes())), mode="r:") as tar:
        for member in tar.getmembers():
            if member.isfile():
                handle = tar.extractfile(member)
                assert handle is not None
                out[member.name] = handle.read()
    return out


def test_no_scanner_in_the_list_leaves_its_secret_in_the_bundle(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for scanner in SECRET_SCANNERS:
        name = scanner.replace(" ", "-") + ".sarif"
        (evidence / name).write_text(json.dumps(_sarif(scanner), indent=2), encoding="utf-8")
    output, files, members = _gate_bundle(tmp_path, evidence)
    raw_copies = [name for name in files if name.startswith("evidence/") and name.endswith(".sarif")]
    assert len(raw_copies) == len(SECRET_SCANNERS), "every log must be in the bundle, redacted"
    assert len(members) == len(files)

    leaks: list[str] = []
    for scanner in SECRET_SCANNERS:
        for needle in (_secret(scanner), _key_id(scanner)):
            data = needle.encode()
            for name, blob in files.items():
                if data in blob:
                    leaks.append(f"{scanner}: folder {name}")
            for name, blob in members.items():
                if data in blob:
                    leaks.append(f"{scanner}: archive {name}")
            if needle in output:
                leaks.append(f"{scanner}: console output")
    assert leaks == []
    # the stored copies are still SARIF logs naming their scanner: redaction kept the structure
    for name in raw_copies:
        log = json.loads(files[name])
        assert log["runs"][0]["results"][0]["ruleId"] == "aws-secret-access-key"


def _gate_bundle(tmp_path: Path, evidence: Path) -> tuple[str, dict[str, bytes], dict[str, bytes]]:
    """Run the real gate on ``evidence``; the console output, the bundle's files and archive members."""
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "gate",
            "--evidence",
            str(evidence),
            "--environment",
            "prod",
            "--now",
            NOW,
            "--replay",
            "--out",
            str(out),
        ],
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    folders = [p for p in out.iterdir() if p.is_dir()]
    archives = list(out.glob("*.tar.gz"))
    assert len(folders) == 1 and len(archives) == 1, result.output
    files = {
        p.relative_to(folders[0]).as_posix(): p.read_bytes() for p in folders[0].rglob("*") if p.is_file()
    }
    return result.output, files, _tar_members(archives[0])


def test_no_format_with_a_redactor_leaves_a_secret_in_the_bundle(tmp_path: Path) -> None:
    """One artefact per format that declares a redactor, each holding secrets, through the gate."""
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    secrets: dict[str, set[str]] = {}

    def add(name: str, raw: bytes, fmt: str, found: set[str]) -> None:
        (evidence / name).write_bytes(raw)
        assert found and all(s.encode() in raw for s in found), name
        secrets[fmt] = found

    def long_values(raw: bytes) -> set[str]:
        return {v for v in secret_values(raw) if len(v) >= 8 and not any(c.isspace() for c in v)}

    raw = (CORPUS / "scan-gitleaks" / "defectdojo-gitleaks8_many.json").read_bytes()
    add("leaks.json", raw, "gitleaks-json", long_values(raw))
    raw = (CORPUS / "scan-trivy" / "trivy-secrets.json").read_bytes()
    add("trivy.json", raw, "trivy-json", long_values(raw))
    add("ggshield.sarif", json.dumps(_sarif("ggshield")).encode(), "sarif", {_secret("ggshield")})
    add("plan.json", PLAN, "terraform-plan-json", {"hunter2-correct-horse", "old-secret-value"})
    raw = (CORPUS / "terraform-hcl" / "checkov-example.tf").read_bytes()
    add("main.tf", raw, "terraform-hcl", set(CHECKOV_EXAMPLE_SECRETS))
    key_id, key = "AKIAJ7Q2EXAMPLE4ZZZZ", "Zm9vYmFyYmF6cXV4cXV1eA/EXAMPLE+secret"
    checkov = {
        "check_type": "terraform",
        "results": {
            "failed_checks": [_provider_check(key_id, key)],
            "passed_checks": [],
            "skipped_checks": [],
        },
        "summary": {"passed": 0, "failed": 1, "skipped": 0, "parsing_errors": 0, "checkov_version": "3.2.0"},
    }
    add("checkov.json", json.dumps(checkov).encode(), "checkov-json", {key_id, key})
    # every format that has a redactor is exercised here
    assert set(secrets) == set(registry.redactors())

    output, files, members = _gate_bundle(tmp_path, evidence)
    records = [json.loads(b) for n, b in files.items() if n.endswith(".record.json")]
    assert {r["format"] for r in records} == set(secrets)
    leaks = [
        f"{fmt}: {where} {name}"
        for fmt, found in secrets.items()
        for secret in found
        for where, blobs in (("folder", files), ("archive", members))
        for name, blob in blobs.items()
        if secret.encode() in blob
    ]
    leaks += [f"{fmt}: console" for fmt, found in secrets.items() for secret in found if secret in output]
    assert leaks == []


def test_every_secret_scan_format_has_a_redactor() -> None:
    secret_formats = [f for f in registry.formats() if f.kind is EvidenceKind.SECRET_SCAN]
    assert secret_formats
    missing = [f.name for f in secret_formats if registry.redactor(f.name) is None]
    assert missing == []


def test_sarif_has_a_redactor() -> None:
    # SARIF is a sast format, yet secret scanners write it: its raw log must go through redaction
    assert registry.redactor("sarif") is not None
