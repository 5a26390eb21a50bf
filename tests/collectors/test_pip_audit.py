"""pip-audit JSON reports: the 1.x array and 2.x object, skipped dependencies, error output."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest

from affidavit.errors import InputError
from affidavit.model import EvidenceKind
from tests.collectors.test_severity import (
    check_record,
    collect,
    scanner_registry,
)
from tests.conftest import CORPUS, corpus_index

__all__ = ["scanner_registry"]  # the fixture, used by name

FOLDER = "scan-pip-audit"
ENTRIES = corpus_index(FOLDER)

pytestmark = pytest.mark.usefixtures("scanner_registry")


def _raw(name: str) -> bytes:
    """The bytes of a corpus file of this folder."""
    return (CORPUS / FOLDER / name).read_bytes()


def _dependencies(report: Any) -> list[dict[str, Any]]:
    """The dependency entries of either report shape."""
    return report if isinstance(report, list) else report["dependencies"]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file"])
def test_corpus_file_normalises(entry: dict[str, Any]) -> None:
    raw = _raw(entry["file"])
    deps = _dependencies(json.loads(raw))
    evidence = collect(FOLDER, entry["file"])
    data = check_record(evidence)["data"]
    assert evidence.kind is EvidenceKind.VULNERABILITY_SCAN and evidence.format == "pip-audit-json"
    assert evidence.id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert evidence.tool is not None and evidence.tool.name == "pip-audit"
    expected = [
        (v["id"], d["name"], d["version"], v["fix_versions"]) for d in deps for v in d.get("vulns") or []
    ]
    got = [
        (f["id"], f["package"]["name"], f["package"]["version"], f["fixed_versions"])
        for f in data["findings"]
    ]
    assert got == expected
    for item in data["findings"]:
        name = re.sub(r"[-_.]+", "-", item["package"]["name"]).lower()
        assert item["package"]["purl"] == f"pkg:pypi/{name}@{item['package']['version']}"
        assert item["package"]["ecosystem"] == "pypi"
        assert item["severity"] == "unknown" and item["cvss_score"] is None  # pip-audit states neither
    assert data["summary"] == {
        "critical": 0,
        "high": 0,
        "medium": 0,
        "low": 0,
        "negligible": 0,
        "unknown": len(expected),
        "total": len(expected),
    }
    skipped = [d for d in deps if "skip_reason" in d]
    assert len(evidence.problems) == len(skipped)
    for dep, problem in zip(skipped, evidence.problems, strict=True):
        assert "the dependency was not audited (pip-audit's reason is its skip_reason)" in problem
        assert entry["file"] in problem
        assert dep["name"] not in problem and dep["skip_reason"] not in problem  # described, not quoted


def test_aliases_and_skipped_fixes() -> None:
    report = {
        "dependencies": [
            {
                "name": "jinja2",
                "version": "3.1.2",
                "vulns": [
                    {
                        "id": "GHSA-h5c8-rqwp-cp95",
                        "fix_versions": ["3.1.3"],
                        "aliases": ["CVE-2024-22195", "GHSA-h5c8-rqwp-cp95"],
                        "description": "xss",
                    }
                ],
            },
        ],
        "fixes": [
            {"name": "jinja2", "old_version": "3.1.2", "new_version": "3.1.3"},
            {"name": "pillow", "version": "9.0.0", "skip_reason": "no compatible version"},
        ],
    }
    evidence = collect(FOLDER, "new.json", raw=json.dumps(report).encode())
    [item] = evidence.data["findings"]
    assert item["aliases"] == ["CVE-2024-22195"]
    assert item["package"]["purl"] == "pkg:pypi/jinja2@3.1.2"
    [problem] = evidence.problems
    assert "$.fixes[1]: the package could not be fixed" in problem
    assert "pillow" not in problem and "no compatible version" not in problem


def test_error_output_is_refused_as_what_it_is() -> None:
    raw = b"ERROR:pip_audit._cli:package flask has no version in requirements.txt\n"
    with pytest.raises(InputError) as caught:
        collect(FOLDER, "audit.json", raw=raw)
    assert "scan-pip-audit/audit.json: is pip-audit's error output" in str(caught.value)
    assert "flask" not in str(caught.value)  # pip-audit's words stay in the file
