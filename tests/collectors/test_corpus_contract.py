"""Every file of every corpus folder, through the public entry point, against the public schema.

The per-format tests assert each file's facts; this one asserts the contract they all share:
a file either becomes a record valid against ``evidence.v1.schema.json`` whose id is the sha256
of its bytes, or is refused with an ``InputError`` that names it. Never another exception, and
never a secret in the output.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from affidavit.collectors import Artefact, CollectOptions, collect_document
from affidavit.errors import InputError
from tests.conftest import CORPUS, NOW, validate_record


def _all_corpus_files() -> list[Path]:
    return [
        index.parent / entry["file"]
        for index in sorted(CORPUS.glob("*/INDEX.json"))
        for entry in json.loads(index.read_text(encoding="utf-8"))
    ]


@cache
def _gitleaks_secrets() -> frozenset[str]:
    """Every secret, match and offender string of the gitleaks corpus, read independently."""
    values: set[str] = set()
    for path in (CORPUS / "scan-gitleaks").glob("*.json"):
        if path.name == "INDEX.json":
            continue
        doc = json.loads(path.read_text(encoding="utf-8"))
        for item in doc or []:
            for key in ("Secret", "Match", "offender", "secret", "match", "line", "Line"):
                value = item.get(key)
                if isinstance(value, str) and len(value.strip()) >= 6:
                    values.add(value.strip())
    return frozenset(values)


def _collect(path: Path) -> Any:
    options = CollectOptions(now=NOW)
    doc = Artefact.from_path(path, source=str(path.relative_to(CORPUS.parent)))
    return collect_document(doc, options)


CORPUS_FILES = _all_corpus_files()


def test_corpus_is_there() -> None:
    assert len(CORPUS_FILES) > 200, "the shared corpus should list a few hundred files"


@pytest.mark.parametrize(
    "path",
    CORPUS_FILES,
    ids=lambda p: (
        f"{p.parent.name}/{p.name}"
        if p.parent.parent == CORPUS
        else f"{p.parent.parent.name}/{p.parent.name}/{p.name}"
    ),
)
def test_file_normalises_to_schema_or_is_refused_by_name(path: Path) -> None:
    source = str(path.relative_to(CORPUS.parent))
    try:
        record = _collect(path)
    except InputError as exc:
        text = exc.diagnostics()
        assert source in text, f"the error must name the file: {text}"
        assert len(text) < 2000
        for secret in _gitleaks_secrets():
            assert secret not in text
        return
    document = record.to_json()
    validate_record(document)
    assert record.id == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert record.source == source
    text = json.dumps(document)
    raw_text = path.read_bytes().decode("utf-8", "replace")
    for secret in _gitleaks_secrets():
        if path.parent.name != "scan-gitleaks" and secret in raw_text:
            continue  # ordinary words in another tool's file ("a secret" in a rule's help text)
        assert secret not in text, f"a gitleaks secret leaked into the record of {source}"
    # deterministic: a second read gives the same record
    assert json.dumps(_collect(path).to_json(), sort_keys=True) == json.dumps(document, sort_keys=True)


def test_detection_never_uses_the_file_name(tmp_path: Path) -> None:
    """The same bytes under a misleading name get the same kind and format."""
    checked = 0
    for path in CORPUS_FILES[::7]:
        try:
            original = _collect(path)
        except InputError:
            continue
        renamed = tmp_path / re.sub(r"[^a-z]", "", "renamed")
        renamed.write_bytes(path.read_bytes())
        doc = Artefact.from_path(renamed, source="renamed")
        other = collect_document(doc, CollectOptions(now=NOW))
        assert (other.kind, other.format) == (original.kind, original.format), path.name
        checked += 1
    assert checked > 10


@pytest.mark.parametrize(
    ("folder", "name", "path", "value"),
    [
        (
            "branch-protection",
            "github3py-branch_protection_example.json",
            ("required_status_checks", "contexts"),
            True,
        ),
        ("scan-npm-audit", "defectdojo-npm_audit-one_vuln.json", ("advisories", "146", "cves"), -1),
        (
            "scan-grype",
            "defectdojo-grype-check_all_fields.json",
            ("matches", 0, "vulnerability", "fix", "versions"),
            7,
        ),
        (
            "terraform-plan",
            "opentofu-show-json-moved.json",
            ("prior_state", "values", "root_module", "resources"),
            7,
        ),
        ("scan-gitleaks", "gitleaks-json_simple.json", (0, "StartLine"), {"a": [1]}),
    ],
)
def test_a_value_of_the_wrong_type_is_an_error_naming_the_file(
    folder: str, name: str, path: tuple[Any, ...], value: Any
) -> None:
    """Found by mutating corpus files: every such shape must end as an InputError, never a crash."""
    doc = json.loads((CORPUS / folder / name).read_bytes())
    cursor = doc
    for key in path[:-1]:
        cursor = cursor[key]
    cursor[path[-1]] = value
    try:
        collect_document(Artefact(f"mutated/{name}", json.dumps(doc).encode()), CollectOptions(now=NOW))
    except InputError as exc:
        assert f"mutated/{name}" in exc.diagnostics()


def test_damaged_utf8_is_an_error_naming_the_file() -> None:
    raw = bytearray((CORPUS / "scan-trivy" / "trivy-npm.json").read_bytes())
    raw[len(raw) // 2] = 0xF0
    raw[len(raw) // 2 + 1] = 0x28
    with pytest.raises(InputError, match=r"damaged/trivy-npm\.json: .*not valid utf-8"):
        collect_document(Artefact("damaged/trivy-npm.json", bytes(raw)), CollectOptions(now=NOW))
