"""Gitleaks JSON reports: every corpus file, secrets never leaking, hostile input."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from affidavit.artefact import Artefact
from affidavit.collectors import collect_document
from affidavit.collectors.formats.gitleaks import detect
from affidavit.collectors.interface import NO, CollectOptions
from affidavit.collectors.kinds.secrets import redact_secret_scan, secret_values
from affidavit.errors import InputError
from affidavit.model import Evidence, EvidenceKind
from tests.conftest import CORPUS, NOW, corpus_index, validate_record

FOLDER = "scan-gitleaks"
ENTRIES = corpus_index(FOLDER)
# An organisation key for the keyed commitments (kinds.secrets: AFFIDAVIT_SECRET_KEY)
ORG_KEY = "test-organisation-key-7d1e0c"


def _commitment(secret: str) -> str:
    return hmac.new(ORG_KEY.encode(), secret.encode(), hashlib.sha256).hexdigest()


def _raw(name: str) -> bytes:
    return (CORPUS / FOLDER / name).read_bytes()


def _is_empty_report(raw: bytes) -> bool:
    """``[]`` and ``null``: valid empty reports that Trivy also writes, so detection needs --kind."""
    return json.loads(raw) in (None, [])


def _collect(name: str, raw: bytes | None = None) -> Evidence:
    raw = _raw(name) if raw is None else raw
    kind = EvidenceKind.SECRET_SCAN if _is_empty_report(raw) else None
    return collect_document(Artefact(f"{FOLDER}/{name}", raw), CollectOptions(now=NOW, kind=kind))


def _raw_secret_strings(raw: bytes) -> set[str]:
    """Every secret-bearing string of a gitleaks report, read here independently of the collector."""
    items = json.loads(raw) or []
    found: set[str] = set()
    for item in items:
        for key in ("Secret", "Match", "Line", "offender", "line"):
            value = item.get(key)
            if isinstance(value, str) and value:
                found.add(value)
    return found


def _leaks(text: str, secrets: set[str]) -> list[str]:
    """The secrets that appear in ``text``, as they are or JSON-escaped."""
    return sorted(s for s in secrets if s in text or json.dumps(s)[1:-1] in text)


def _line(item: dict[str, Any]) -> int | None:
    value = item.get("StartLine", item.get("lineNumber"))
    return value if isinstance(value, int) and value > 0 else None


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file"])
def test_corpus_file_normalises(entry: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFFIDAVIT_SECRET_KEY", ORG_KEY)
    raw = _raw(entry["file"])
    items = json.loads(raw) or []
    evidence = _collect(entry["file"])
    data = evidence.data
    validate_record(evidence)

    assert evidence.kind is EvidenceKind.SECRET_SCAN
    assert evidence.format == "gitleaks-json"
    assert evidence.id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert evidence.tool is not None and evidence.tool.name == "gitleaks"
    findings = data["findings"]
    assert data["summary"] == {"total": len(items)}
    assert len(findings) == len(items)
    v8 = bool(items) and "RuleID" in items[0]
    assert evidence.format_version == (None if not items else "8" if v8 else "7")
    for item, finding in zip(items, findings, strict=True):
        rule = item["RuleID"] if v8 else item["rule"]
        secret = (item.get("Secret") or item.get("Match")) if v8 else item["offender"]
        commit: str | None = (item.get("Commit") if v8 else item.get("commit")) or None
        file: str | None = (item.get("File") if v8 else item.get("file")) or None
        assert finding["rule_id"] == rule
        assert finding["file"] == file
        assert finding["commit"] == commit
        assert finding["line"] == _line(item)
        assert finding["secret_hmac"] == _commitment(secret)
        tool_fp = item.get("Fingerprint") or None
        line = _line(item)
        own = f"{commit or ''}:{file or ''}:{rule}:{'' if line is None else line}"
        assert finding["fingerprint"] == (tool_fp or own)
    expected_commits = sorted({(i.get("Commit") if v8 else i.get("commit")) for i in items} - {None, ""})
    assert data["commits"] == expected_commits


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file"])
def test_no_secret_leaves_the_collector(entry: dict[str, Any]) -> None:
    raw = _raw(entry["file"])
    secrets = _raw_secret_strings(raw)
    assert secrets <= secret_values(raw)  # the helper the bundle writer relies on finds them all
    evidence = _collect(entry["file"])
    record = json.dumps(evidence.to_json(), ensure_ascii=False)
    assert _leaks(record, secrets) == []
    assert _leaks("\n".join(evidence.problems), secrets) == []
    redacted = redact_secret_scan(raw).decode("utf-8")
    assert _leaks(redacted, secrets) == []
    if secrets:
        assert redacted != raw.decode("utf-8")
        assert len(json.loads(redacted)) == len(json.loads(raw))


def _v8(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "RuleID": "generic-api-key",
        "StartLine": 3,
        "Match": "token = 'hunter2hunter2hunter2'",
        "Secret": "hunter2hunter2hunter2",
        "File": "app/settings.py",
        "Commit": "abc123",
        "Fingerprint": "abc123:app/settings.py:generic-api-key:3",
    }
    item.update(overrides)
    return item


def _collect_items(items: Any) -> Evidence:
    raw = json.dumps(items).encode()
    return collect_document(Artefact("t.json", raw), CollectOptions(now=NOW, kind=EvidenceKind.SECRET_SCAN))


def test_fingerprint_quoting_the_secret_is_rebuilt() -> None:
    evidence = _collect_items([_v8(Fingerprint="abc123:hunter2hunter2hunter2")])
    finding = evidence.data["findings"][0]
    assert finding["fingerprint"] == "abc123:app/settings.py:generic-api-key:3"
    assert any("quotes the secret" in p for p in evidence.problems)
    assert "hunter2" not in json.dumps(evidence.to_json())


def test_report_written_with_redact_hashes_the_placeholder_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AFFIDAVIT_SECRET_KEY", ORG_KEY)
    evidence = _collect_items([_v8(Secret="REDACTED", Match="token = 'REDACTED'")])
    assert evidence.data["findings"][0]["secret_hmac"] == _commitment("REDACTED")
    assert any("--redact" in p and "identifies nothing" in p for p in evidence.problems)


def test_missing_rule_and_secret_are_problems_not_guesses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFFIDAVIT_SECRET_KEY", ORG_KEY)
    evidence = _collect_items([{"offender": "", "file": "x", "commit": "c1"}])
    finding = evidence.data["findings"][0]
    assert finding["rule_id"] == "unknown"
    assert finding["secret_hmac"] == _commitment("")
    assert finding["fingerprint"] == "c1:x:unknown:"
    assert len(evidence.problems) == 2


def test_not_an_array_is_rejected_with_a_hint() -> None:
    doc = Artefact("t.json", b'{"leaks": []}')
    with pytest.raises(
        InputError, match=r"t\.json: \$: expected a JSON array of Gitleaks findings"
    ) as caught:
        collect_document(doc, CollectOptions(now=NOW, format="gitleaks-json"))
    assert caught.value.hint is not None and "--report-format json" in caught.value.hint


def test_unknown_finding_shape_names_its_path() -> None:
    with pytest.raises(InputError, match=r"\$\[1\]: is neither a Gitleaks v8 finding"):
        _collect_items([_v8(), {"name": "x"}])


def test_errors_never_quote_a_secret() -> None:
    # a second finding that is not an object: the error must not carry the first one's secret
    with pytest.raises(InputError) as caught:
        _collect_items([_v8(), "hunter2hunter2hunter2"])
    assert "hunter2" not in caught.value.diagnostics()
    assert caught.value.path == "$[1]"


def test_console_log_instead_of_report_is_rejected() -> None:
    log = (
        "\n    \u25cb\n    \u2502\u2572\n    \u2502 \u25cb\n    \u25cb \u2591\n    \u2591    gitleaks\n\n"
        "1:16PM INF 1 commits scanned.\n"
        '1:16PM ERR failed to scan Git repository error="fatal: not a git repository"\n'
        "1:16PM WRN leaks found: 1\n"
    )
    doc = Artefact("gitleaks.log", log.encode())
    assert detect(doc) > NO
    with pytest.raises(InputError, match="gitleaks' console log, not its JSON report") as caught:
        collect_document(doc, CollectOptions(now=NOW))
    assert "its line 9 says what went wrong" in str(caught.value)
    assert "not a git repository" not in caught.value.diagnostics()
    assert caught.value.hint is not None and "--report-format json" in caught.value.hint


def test_console_log_quoting_a_secret_is_not_echoed() -> None:
    log = "1:16PM ERR leak Secret: hunter2hunter2hunter2 in gitleaks scan\n"
    with pytest.raises(InputError) as caught:
        collect_document(
            Artefact("g.log", log.encode()), CollectOptions(now=NOW, kind=EvidenceKind.SECRET_SCAN)
        )
    assert "hunter2" not in caught.value.diagnostics()
