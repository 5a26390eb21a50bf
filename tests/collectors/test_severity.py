"""The shared vocabulary of the scanner collectors: severity words and bands, CVSS, fix state, packages.

Also home of the helpers the five scanner test modules share (``collect``, ``scanner_registry``,
``check_record``): they read corpus files through the public ``collect_document`` with the registry
narrowed to the scanner collectors, so that these tests do not depend on collectors other engineers
are writing at the same time (the collector contract, ``test_corpus_contract.py``, runs the full
registry and holds the scanners' goldens, cut files and detection across folders).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from affidavit.artefact import Artefact
from affidavit.collectors import collect_document, registry
from affidavit.collectors.interface import CollectOptions
from affidavit.collectors.kinds.severity import (
    is_known_severity_word,
    score,
    severity_of,
    severity_of_score,
    worst_severity,
)
from affidavit.collectors.kinds.vulnerability import (
    FindingSet,
    clean_ids,
    cvss_vector_score,
    cvss_version,
    ecosystem_of,
    finding,
    highest_score,
    image_repository,
    language_purl,
    pick_repo_digest,
    status_of,
)
from affidavit.model import Evidence, EvidenceKind, Severity
from tests.conftest import CORPUS, NOW, validate_record

if TYPE_CHECKING:
    from collections.abc import Iterator

SCANNER_MODULES = (
    "affidavit.collectors.formats.trivy",
    "affidavit.collectors.formats.grype",
    "affidavit.collectors.formats.osv_scanner",
    "affidavit.collectors.formats.pip_audit",
    "affidavit.collectors.formats.npm_audit",
)
FINDING_KEYS = [
    "id",
    "aliases",
    "severity",
    "cvss_score",
    "package",
    "fixed_versions",
    "target",
    "title",
    "status",
    "published_at",
    "data_source",
    "fixes",
    "fix_available",
]


# ---------------------------------------------------------------------------------------------
# Shared helpers for the scanner test modules


@pytest.fixture
def scanner_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Detection among the five scanner formats only (the registry's own test covers the rest)."""
    monkeypatch.setattr(registry, "_MODULES", SCANNER_MODULES)
    registry.formats.cache_clear()
    yield
    registry.formats.cache_clear()


def collect(folder: str, name: str, raw: bytes | None = None, kind: EvidenceKind | None = None) -> Evidence:
    """Collect a corpus file (or ``raw`` bytes under its name) through ``collect_document``."""
    data = (CORPUS / folder / name).read_bytes() if raw is None else raw
    return collect_document(Artefact(f"{folder}/{name}", data), CollectOptions(now=NOW, kind=kind))


def check_record(evidence: Evidence) -> dict[str, Any]:
    """Validate the record against the public schema and the exact finding shape; return its JSON."""
    document = validate_record(evidence)
    data = document["data"]
    for item in data["findings"]:
        extra = [k for k in item if k not in FINDING_KEYS]
        assert list(item)[: len(FINDING_KEYS)] == FINDING_KEYS
        assert set(extra) <= {"epss", "risk"}, extra
        assert set(item["package"]) == {"name", "version", "purl", "ecosystem"}
        assert item["id"] not in item["aliases"]
        assert item["aliases"] == sorted(set(item["aliases"]))
        assert item["status"] in (None, "fixed", "not_fixed", "will_not_fix", "not_affected", "unknown")
        assert item["fix_available"] in (True, False, None)
        assert set(item["fixes"]) <= set(item["fixed_versions"])
        if item["fix_available"] is None:
            assert item["fixes"] == item["fixed_versions"]
        else:
            assert item["fix_available"] == bool(item["fixes"])
    counts = {s.value: sum(1 for f in data["findings"] if f["severity"] == s.value) for s in Severity}
    assert data["summary"] == {**counts, "total": len(data["findings"])}
    assert data["targets"] == sorted(set(data["targets"]))
    return document


def is_empty_json(raw: bytes) -> bool:
    """``null`` or ``[]``: an empty report that Trivy (and Gitleaks) write; content cannot tell them apart."""
    try:
        return json.loads(raw) in (None, [])
    except ValueError:
        return False


# ---------------------------------------------------------------------------------------------
# Severity words


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        # Trivy
        ("CRITICAL", Severity.CRITICAL),
        ("HIGH", Severity.HIGH),
        ("MEDIUM", Severity.MEDIUM),
        ("LOW", Severity.LOW),
        ("UNKNOWN", Severity.UNKNOWN),
        # Grype
        ("Critical", Severity.CRITICAL),
        ("High", Severity.HIGH),
        ("Medium", Severity.MEDIUM),
        ("Low", Severity.LOW),
        ("Negligible", Severity.NEGLIGIBLE),
        ("Unknown", Severity.UNKNOWN),
        # npm
        ("critical", Severity.CRITICAL),
        ("high", Severity.HIGH),
        ("moderate", Severity.MEDIUM),
        ("low", Severity.LOW),
        ("info", Severity.NEGLIGIBLE),
        # GitHub advisories in OSV (database_specific.severity), Red Hat, Debian
        ("MODERATE", Severity.MEDIUM),
        ("Important", Severity.HIGH),
        ("unimportant", Severity.NEGLIGIBLE),
        (" High ", Severity.HIGH),
        # nothing said
        ("", Severity.UNKNOWN),
        (None, Severity.UNKNOWN),
        ("bogus", Severity.UNKNOWN),
    ],
)
def test_severity_words(word: str | None, expected: Severity) -> None:
    assert severity_of(word) is expected


def test_word_wins_over_score_and_unknown_words_fall_back_to_the_score() -> None:
    assert severity_of("Negligible", 7.2) is Severity.NEGLIGIBLE  # Grype on a v2 7.2 (bash CVE-2019-18276)
    assert severity_of("LOW", 9.8) is Severity.LOW
    assert severity_of("UNKNOWN", 9.8) is Severity.CRITICAL
    assert severity_of(None, 5.3) is Severity.MEDIUM
    assert severity_of("", 0.0) is Severity.NEGLIGIBLE
    assert severity_of("bogus", 9.8) is Severity.UNKNOWN  # an unknown word is not silence: no guess


def test_known_words() -> None:
    assert is_known_severity_word("MODERATE")
    assert is_known_severity_word("Unknown")
    assert is_known_severity_word(None)
    assert not is_known_severity_word("severe")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (10.0, Severity.CRITICAL),
        (9.0, Severity.CRITICAL),
        (8.9, Severity.HIGH),
        (7.0, Severity.HIGH),
        (6.9, Severity.MEDIUM),
        (4.0, Severity.MEDIUM),
        (3.9, Severity.LOW),
        (0.1, Severity.LOW),
        (0.0, Severity.NEGLIGIBLE),
        (None, Severity.UNKNOWN),
        (-1.0, Severity.UNKNOWN),
        (10.5, Severity.UNKNOWN),
    ],
)
def test_cvss_bands(value: float | None, expected: Severity) -> None:
    assert severity_of_score(value) is expected


def test_worst_severity_ranks_unknown_lowest() -> None:
    assert worst_severity([Severity.LOW, Severity.UNKNOWN, Severity.HIGH]) is Severity.HIGH
    assert worst_severity([Severity.UNKNOWN, Severity.NEGLIGIBLE]) is Severity.NEGLIGIBLE
    assert worst_severity([]) is Severity.UNKNOWN


# ---------------------------------------------------------------------------------------------
# CVSS


@pytest.mark.parametrize(
    ("vector", "expected"),
    [
        # Scores as the vendors publish them next to these vectors in the Trivy corpus
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3),
        ("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N", 4.8),
        ("CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:C/C:L/I:L/A:L", 5.7),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N", 6.3),
        ("CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N/E:U", 2.3),
        ("AV:N/AC:L/Au:N/C:P/I:N/A:N", 5.0),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:N", 6.4),
        ("(AV:L/AC:L/Au:N/C:C/I:C/A:C)", 7.2),
    ],
)
def test_cvss_vector_scores(vector: str, expected: float) -> None:
    assert cvss_vector_score(vector) == expected


def test_cvss_vectors_that_cannot_be_scored() -> None:
    assert cvss_vector_score("CVSS:3.1/AV:N") is None
    assert cvss_vector_score("not a vector") is None
    assert cvss_vector_score("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") is None
    assert cvss_version("CVSS:4.0/AV:N") == "4"
    assert cvss_version("AV:N/AC:L/Au:N/C:P/I:P/A:N") == "2"
    assert cvss_version("medium") is None


def test_highest_score_prefers_v3_and_v4_over_v2() -> None:
    assert highest_score([5.3, 4.8], [5.0]) == 5.3
    assert highest_score([4.8], [5.0]) == 4.8
    assert highest_score([None], [7.2, 5.0]) == 7.2
    assert highest_score([], []) is None
    assert score("6.9") == 6.9
    assert score(True) is None
    assert score(11) is None


# ---------------------------------------------------------------------------------------------
# Fix state, packages


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("fixed", "fixed"),
        ("affected", "not_fixed"),
        ("fix_deferred", "not_fixed"),
        ("under_investigation", "not_fixed"),
        ("will_not_fix", "will_not_fix"),
        ("end_of_life", "will_not_fix"),
        ("not-fixed", "not_fixed"),
        ("wont-fix", "will_not_fix"),
        ("unknown", "unknown"),
        ("something new", "unknown"),
        ("", None),
        (None, None),
    ],
)
def test_fix_states(word: str | None, expected: str | None) -> None:
    assert status_of(word) == expected


def test_ecosystems_are_purl_types() -> None:
    assert ecosystem_of("pkg:apk/alpine/musl@1.2", "whatever") == "apk"
    assert ecosystem_of(None, "PyPI") == "pypi"
    assert ecosystem_of(None, "Debian:11") == "deb"
    assert ecosystem_of(None, "java-archive") == "maven"
    assert ecosystem_of(None, "Hex") == "hex"
    assert ecosystem_of(None, "SomethingNew") == "somethingnew"
    assert ecosystem_of(None, None) is None


def test_language_purls() -> None:
    assert language_purl("pypi", "Django_Rest.Framework", "3.2") == "pkg:pypi/django-rest-framework@3.2"
    assert language_purl("npm", "@vercel/fun", "1.0.0") == "pkg:npm/%40vercel/fun@1.0.0"
    assert language_purl("npm", "debug", None) == "pkg:npm/debug"
    assert language_purl("deb", "bash", "5.0") is None


def test_repo_digest_choice() -> None:
    a = "sha256:" + "a" * 64
    b = "sha256:" + "b" * 64
    assert pick_repo_digest([f"alpine@{a}"], "alpine:3.11") == (a, None)
    assert pick_repo_digest([f"ghcr.io/x/y@{b}", f"alpine@{a}"], "docker.io/library/alpine:3.11") == (a, None)
    digest, note = pick_repo_digest([f"ghcr.io/x/y@{b}", f"quay.io/z@{a}"], "alpine")
    assert digest == b and note is not None and "none of the scanned image's repository" in note
    assert "alpine" not in note and b not in note
    assert pick_repo_digest([], "alpine") == (None, None)
    assert image_repository("localhost:5000/app:1@sha256:00") == "localhost:5000/app"


def test_finding_set_keeps_order_dedupes_and_summarises() -> None:
    def item(vid: str, sev: Severity, target: str) -> dict[str, Any]:
        """A finding of package p@1 with a messy alias list."""
        return finding(
            id=vid,
            aliases=clean_ids(["X", vid, "A", "A", ""], exclude=vid),
            severity=sev,
            cvss_score=None,
            name="p",
            version="1",
            purl=None,
            ecosystem=None,
            fixed_versions=[],
            target=target,
            title=None,
            status=None,
            published_at=None,
            data_source=None,
        )

    found = FindingSet()
    assert found.add(item("CVE-2", Severity.HIGH, "t1"))
    assert found.add(item("CVE-1", Severity.LOW, "t1"))
    assert not found.add(item("CVE-2", Severity.HIGH, "t1"))
    assert found.add(item("CVE-2", Severity.HIGH, "t2"))
    found.add_target("t2")
    found.add_target("t1")
    found.add_target(None)
    data = found.data(database={"updated_at": None, "version": None, "schema": "5"})
    assert [f["id"] for f in data["findings"]] == ["CVE-2", "CVE-1", "CVE-2"]
    assert data["findings"][0]["aliases"] == ["A", "X"]
    assert found.duplicates == 1
    assert data["summary"] == {
        "critical": 0,
        "high": 2,
        "medium": 0,
        "low": 1,
        "negligible": 0,
        "unknown": 0,
        "total": 3,
    }
    assert data["targets"] == ["t1", "t2"]
    assert data["database"]["schema"] == "5"
    assert "other" not in data


# ---------------------------------------------------------------------------------------------
# Is a listed fix newer than what is installed (kinds.vulnerability.newer_fixes)


@pytest.mark.parametrize(
    ("ecosystem", "installed", "fixed", "newer"),
    [
        # a runtime's other release lines: 11.0.22 is older than 17.0.10, 17.0.11 and 21.0.2 newer
        ("maven", "17.0.10", ["11.0.22", "17.0.11", "21.0.2"], ["17.0.11", "21.0.2"]),
        ("maven", "17.0.10", ["1.2.3"], []),  # a "fix" lower than the installed version is none
        ("pypi", "2.2.3", ["2.2.4"], ["2.2.4"]),
        ("pypi", "2.10.1", ["2.9.0"], []),  # string order would call 2.9.0 newer
        ("pypi", "1.0.0rc1", ["1.0.0"], ["1.0.0"]),  # PEP 440 pre-release
        ("deb", "2.36-9+deb12u9", ["2.36-9+deb12u10"], ["2.36-9+deb12u10"]),  # Debian policy order
        ("deb", "1:2.0-1", ["3.0-1"], []),  # the epoch wins
        ("npm", "4.17.21", ["4.17.9"], []),
        ("npm", "1.2.3", ["v1.2.4"], ["v1.2.4"]),
        ("rpm", "1:2.3-4.el9", ["1:2.3-5.el9"], ["1:2.3-5.el9"]),
        ("apk", "1.2.3-r0", ["1.2.3-r1"], ["1.2.3-r1"]),
        ("golang", "v1.20.1", ["1.20.12", "1.21.5"], ["1.20.12", "1.21.5"]),
        ("pypi", "2.2.3", [], []),
        ("hex", "1.0.0", ["1.0.1"], None),  # an order univers does not implement: unknown
        ("pypi", None, ["1.0.1"], None),  # no installed version: unknown
        ("pypi", "1.0.0", ["not a version!"], None),  # a version that does not parse: unknown
    ],
)
def test_newer_fixes_follow_each_ecosystems_order(
    ecosystem: str, installed: str | None, fixed: list[str], newer: list[str] | None
) -> None:
    """Fixed versions count only when newer in the package's own ecosystem (univers: PEP 440,
    Debian policy 5.6.12, RPM, Alpine, Maven ComparableVersion, semver, Go module versions)."""
    from affidavit.collectors.kinds.vulnerability import newer_fixes

    assert newer_fixes(ecosystem, installed, fixed) == newer
