"""CycloneDX SBOMs: every corpus file (JSON and XML, 1.2-1.7), hostile and damaged input.

The expected facts of each corpus file are computed here from the raw bytes (``json`` and a plain
``ElementTree`` parse), never copied from the collector's output. Goldens, cut files and detection
across folders are the collector contract's (``test_corpus_contract.py``).
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
import time
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest

from affidavit.artefact import Artefact
from affidavit.collectors import collect_document, registry
from affidavit.collectors.formats.cyclonedx import FORMATS as CDX_FORMATS
from affidavit.collectors.interface import DEFINITE, LIKELY, NO, POSSIBLE, CollectOptions
from affidavit.errors import InputError
from affidavit.model import Evidence, EvidenceKind
from tests.conftest import CORPUS, NOW, corpus_index, validate_record

if TYPE_CHECKING:
    from collections.abc import Iterator

FOLDER = "sbom-cyclonedx"
ENTRIES = corpus_index(FOLDER)
SBOM_MODULES = ("affidavit.collectors.formats.cyclonedx", "affidavit.collectors.formats.spdx")
COMPONENT_KEYS = [
    "name",
    "version",
    "purl",
    "type",
    "licenses",
    "license_choices",
    "license_unidentified",
    "hashes",
    "bom_ref",
]
DATA_KEYS = [
    "spec",
    "spec_version",
    "serial_number",
    "subject",
    "tools",
    "components",
    "dependencies",
    "completeness",
]

# Files affidavit refuses, with the words the error must contain. Every file whose note says
# INVALID is here (a test checks that); the two syft snapshots are here too although their note
# does not say so: syft's test redacts their timestamp ("timestamp:redacted" / "redacted"), and a
# BOM whose production time is a placeholder cannot show that it is fresh.
REJECTED = {
    # (what the file holds is described by its shape, never quoted)
    "cdx-spec-invalid-bomformat-1.6.json": r"\$\.bomFormat: bomFormat is a string of 13 characters, not \"CycloneDX\"",
    "cdx-spec-invalid-component-type-1.6.xml": (
        r"component\[1\]/@type: the component type \(a string of 3 characters\) is not one CycloneDX 1\.6"
    ),
    "cdx-spec-invalid-hash-alg-1.5.json": (
        r"\$\.components\[0\]\.hashes\[0\]: the hash algorithm \(a string of 3 characters\) is not one"
    ),
    "cdx-spec-invalid-metadata-timestamp-1.6.json": (
        r"\$\.metadata\.timestamp: a string of 10 characters is not a date-time"
    ),
    "guac-invalid-cyclonedx.json": (
        r"bomFormat is a string of 3 characters.*specVersion is a string of 1 character, not a CycloneDX "
        r"version affidavit reads"
    ),
}


@pytest.fixture(autouse=True)
def sbom_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Detection among the SBOM formats only (the corpus contract test covers the full registry)."""
    monkeypatch.setattr(registry, "_MODULES", SBOM_MODULES)
    registry.formats.cache_clear()
    yield
    registry.formats.cache_clear()


def collect(folder: str, name: str, raw: bytes | None = None) -> Evidence:
    """Collect a corpus file (or ``raw`` bytes under its name) through ``collect_document``."""
    data = (CORPUS / folder / name).read_bytes() if raw is None else raw
    return collect_document(Artefact(f"{folder}/{name}", data), CollectOptions(now=NOW))


def check_record(evidence: Evidence) -> dict[str, Any]:
    """Validate a record against the public schema and the exact sbom shape; return its JSON."""
    document = validate_record(evidence)
    data = document["data"]
    assert list(data) == DATA_KEYS
    assert list(data["subject"]) == ["name", "version", "purl", "digest"]
    assert document["subject"] == {k: data["subject"][k] for k in ("name", "version", "digest")}
    for comp in data["components"]:
        assert list(comp) == COMPONENT_KEYS
        assert all(alg == alg.lower() and value == value.lower() for alg, value in comp["hashes"].items())
    refs = [d["ref"] for d in data["dependencies"]]
    assert refs == sorted(set(refs))
    assert all(d["depends_on"] == sorted(set(d["depends_on"])) for d in data["dependencies"])
    for tool in data["tools"]:
        assert list(tool) == ["name", "version"]
    if data["tools"]:
        assert document["tool"] == data["tools"][0]
    else:
        assert document["tool"] is None
    return document


def same_instant(effective_at: str | None, raw: str | None) -> bool:
    """True when the record's ``effective_at`` is the instant the raw timestamp names, to the second.

    The one timestamp rule (``model.time``) writes UTC to the second: a fraction is cut off.
    """
    if raw is None or not any(c.isdigit() for c in raw):
        # absent, or a placeholder such as "redacted": the time is unknown
        return effective_at is None
    assert effective_at is not None and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", effective_at)
    named = datetime.fromisoformat(raw).replace(microsecond=0)
    return datetime.fromisoformat(effective_at.replace("Z", "+00:00")) == named


def edge_count(pairs: list[tuple[str, list[str]]]) -> tuple[int, int]:
    """(distinct refs, distinct ref -> target edges) of a dependency list."""
    graph: dict[str, set[str]] = {}
    for ref, targets in pairs:
        graph.setdefault(ref, set()).update(targets)
    return len(graph), sum(len(t) for t in graph.values())


class Expected:
    """The facts of one CycloneDX BOM, read here from the raw bytes."""

    def __init__(self, raw: bytes) -> None:
        """Read the facts of ``raw`` (JSON or XML)."""
        self.is_xml = raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")
        if self.is_xml:
            self._xml(ET.fromstring(raw))
        else:
            self._json(json.loads(raw))

    def _json(self, bom: dict[str, Any]) -> None:
        """Facts of a JSON BOM."""
        self.spec_version = bom["specVersion"]
        self.serial = bom.get("serialNumber")
        metadata = bom.get("metadata") or {}
        self.timestamp = metadata.get("timestamp")
        subject = metadata.get("component") or {}
        self.subject_name = subject.get("name")
        comps: list[dict[str, Any]] = []

        def walk(items: list[dict[str, Any]]) -> None:
            """Collect components in pre-order."""
            for c in items:
                comps.append(c)
                walk(c.get("components") or [])

        walk(subject.get("components") or [])
        walk(bom.get("components") or [])
        self.count = len(comps)
        self.purls = {c["purl"] for c in comps if c.get("purl")}
        self.names = [c.get("name") for c in comps]
        self.without_version = sum(1 for c in comps if not c.get("version"))
        self.deps = edge_count([(d["ref"], d.get("dependsOn") or []) for d in bom.get("dependencies") or []])
        tools = metadata.get("tools")
        if isinstance(tools, dict):
            tools = (tools.get("components") or []) + (tools.get("services") or [])
        self.tool = tools[0]["name"] if tools else None
        self.vulnerabilities = len(bom.get("vulnerabilities") or [])

    def _xml(self, root: ET.Element) -> None:
        """Facts of an XML BOM."""
        ns = root.tag[1:].split("}")[0]
        q = "{" + ns + "}"
        self.spec_version = ns.rsplit("/", 1)[1]
        self.serial = root.get("serialNumber")
        stamp = root.find(f"{q}metadata/{q}timestamp")
        self.timestamp = stamp.text.strip() if stamp is not None and stamp.text else None
        subject = root.find(f"{q}metadata/{q}component")
        self.subject_name = subject.findtext(q + "name") if subject is not None else None
        comps: list[ET.Element] = []

        def walk(parent: ET.Element | None) -> None:
            """Collect components in pre-order."""
            if parent is None:
                return
            for c in parent.findall(f"{q}components/{q}component"):
                comps.append(c)
                walk(c)

        walk(subject)
        walk(root)
        self.count = len(comps)
        self.purls = {(c.findtext(q + "purl") or "").strip() for c in comps} - {""}
        self.names = [c.findtext(q + "name") for c in comps]
        self.without_version = sum(1 for c in comps if not (c.findtext(q + "version") or "").strip())
        self.deps = edge_count(
            [
                (d.get("ref", ""), [x.get("ref", "") for x in d.findall(q + "dependency")])
                for d in root.findall(f"{q}dependencies/{q}dependency")
            ]
        )
        tools = root.findall(f"{q}metadata/{q}tools/{q}tool") + root.findall(
            f"{q}metadata/{q}tools/{q}components/{q}component"
        )
        self.tool = tools[0].findtext(q + "name") if tools else None
        self.vulnerabilities = len(root.findall(f"{q}vulnerabilities/{q}vulnerability"))


# ---------------------------------------------------------------------------------------------
# every corpus file


def test_every_invalid_note_is_expected_to_be_rejected() -> None:
    """Every file the corpus marks INVALID is in the rejection table."""
    invalid = {e["file"] for e in ENTRIES if "INVALID" in e["note"]}
    assert invalid, "the corpus should hold invalid CycloneDX vectors"
    assert invalid <= set(REJECTED)
    assert set(REJECTED) <= {e["file"] for e in ENTRIES}


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file"])
def test_corpus_file(entry: dict[str, Any]) -> None:
    """Each corpus file normalises to facts read independently, or is refused as expected."""
    name = entry["file"]
    raw = (CORPUS / FOLDER / name).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == entry["sha256"]
    if name in REJECTED:
        with pytest.raises(InputError, match=REJECTED[name]) as info:
            collect(FOLDER, name)
        assert f"{FOLDER}/{name}" in info.value.diagnostics()
        return
    expected = Expected(raw)
    evidence = collect(FOLDER, name)
    record = check_record(evidence)
    data = record["data"]
    assert evidence.kind is EvidenceKind.SBOM
    assert evidence.format == ("cyclonedx-xml" if expected.is_xml else "cyclonedx-json")
    assert evidence.format_version == data["spec_version"] == expected.spec_version
    assert data["spec"] == "cyclonedx"
    assert data["serial_number"] == expected.serial
    assert len(data["components"]) == data["completeness"]["components"] == expected.count
    assert [c["name"] for c in data["components"]] == expected.names
    assert {c["purl"] for c in data["components"] if c["purl"]} == expected.purls
    assert data["completeness"]["without_version"] == expected.without_version
    assert data["completeness"]["without_purl"] == sum(1 for c in data["components"] if c["purl"] is None)
    assert data["completeness"]["without_license"] == sum(1 for c in data["components"] if not c["licenses"])
    assert data["subject"]["name"] == expected.subject_name
    deps = data["dependencies"]
    assert (len(deps), sum(len(d["depends_on"]) for d in deps)) == expected.deps
    assert (evidence.tool.name if evidence.tool else None) == expected.tool
    assert same_instant(evidence.effective_at, expected.timestamp)
    if expected.count == 0:
        assert any(("VEX" if expected.vulnerabilities else "no components") in p for p in evidence.problems)
    assert all(p.startswith(f"{FOLDER}/{name}: ") for p in evidence.problems)


def test_json_and_xml_of_the_same_bom_give_the_same_data() -> None:
    """One BOM serialised both ways reads the same."""
    stem = "cdx-pylib-get_bom_with_component_setuptools_complete-1.6"
    from_json = collect(FOLDER, stem + ".json")
    from_xml = collect(FOLDER, stem + ".xml")
    assert (from_json.format, from_xml.format) == ("cyclonedx-json", "cyclonedx-xml")
    assert from_json.data == from_xml.data
    assert from_json.data["completeness"]["components"] == 3  # one top-level, two nested


# ---------------------------------------------------------------------------------------------
# what the normalised data says


def test_subject_digest_from_the_container_version_and_the_image_purl() -> None:
    """Subject digests from syft's version and trivy's oci purl."""
    syft = collect(FOLDER, "mitre-saf-syft-scan-alpine-container.json")
    raw = json.loads((CORPUS / FOLDER / "mitre-saf-syft-scan-alpine-container.json").read_bytes())
    assert syft.subject.digest == raw["metadata"]["component"]["version"]  # syft writes the manifest digest
    trivy = collect(FOLDER, "defectdojo-cyclonedx-issue_9277.json")
    purl = json.loads((CORPUS / FOLDER / "defectdojo-cyclonedx-issue_9277.json").read_bytes())["metadata"][
        "component"
    ]["purl"]
    hexdigest = purl.split("sha256%3A", 1)[1][:64]
    assert trivy.subject.digest == f"sha256:{hexdigest}"
    assert trivy.data["subject"]["purl"] == purl


HEX = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def _subject_bom(component: dict[str, Any]) -> bytes:
    """A CycloneDX 1.6 BOM about ``component`` (the subject) with one library."""
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {"timestamp": "2024-05-01T12:00:00Z", "component": {"name": "shop", **component}},
        "components": [{"type": "library", "name": "a", "version": "1", "purl": "pkg:npm/a@1"}],
    }
    return json.dumps(bom).encode()


@pytest.mark.parametrize(
    ("component", "digest"),
    [
        # the SHA-256 hash, in either case
        ({"type": "application", "hashes": [{"alg": "SHA-256", "content": HEX.upper()}]}, f"sha256:{HEX}"),
        # 40 digits fit CycloneDX's hash pattern (that of SHA-1) but are no SHA-256: not a digest
        ({"type": "application", "hashes": [{"alg": "SHA-256", "content": HEX[:40]}]}, None),
        # ... and the image version is used instead
        (
            {
                "type": "container",
                "version": f"sha256:{HEX}",
                "hashes": [{"alg": "SHA-256", "content": HEX[:40]}],
            },
            f"sha256:{HEX}",
        ),
        ({"type": "container", "version": f"SHA256:{HEX.upper()}"}, f"sha256:{HEX}"),
        ({"type": "container", "version": f"sha512:{HEX * 2}"}, f"sha512:{HEX * 2}"),
        ({"type": "container", "version": f"sha256:{HEX[:63]}"}, None),
        ({"type": "container", "version": HEX}, None),  # bare hex: a version, not a digest
        ({"type": "application", "version": f"sha256:{HEX}"}, None),  # only an image's version is its digest
        ({"type": "container", "purl": f"pkg:oci/shop@sha256%3A{HEX}?arch=amd64"}, f"sha256:{HEX}"),
        (
            {"type": "container", "purl": f"pkg:docker/acme/shop@1.2?digest=sha256:{HEX.upper()}"},
            f"sha256:{HEX}",
        ),
        ({"type": "container", "purl": f"pkg:oci/shop@sha512%3A{HEX * 2}"}, f"sha512:{HEX * 2}"),
        ({"type": "container", "purl": f"pkg:oci/shop@sha256%3A{HEX[:40]}"}, None),
        ({"type": "container", "purl": f"pkg:oci/shop@sha256%3A{HEX}00"}, None),
        ({"type": "library", "purl": f"pkg:npm/shop@sha256:{HEX}"}, None),  # not an image purl
    ],
)
def test_subject_digest_follows_the_one_digest_rule(component: dict[str, Any], digest: str | None) -> None:
    """The subject's digest comes from its hash, image purl or image version, by the one digest rule."""
    evidence = collect(FOLDER, "made.json", _subject_bom(component))
    check_record(evidence)
    assert evidence.subject.digest == digest
    assert evidence.data["subject"]["digest"] == digest


def test_licences_and_hashes_are_normalised() -> None:
    """Licence ids, names, expressions and hash names take their normal forms."""
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {
            "timestamp": "2024-05-01T12:00:00+02:00",
            "component": {"type": "application", "name": "app"},
        },
        "components": [
            {
                "type": "library",
                "name": "a",
                "version": "1",
                "purl": "pkg:npm/a@1",
                "licenses": [
                    {"license": {"id": "apache-2.0"}},
                    {"license": {"name": "mit"}},
                    {"license": {"name": "BSD License"}},
                    {"license": {"name": "UNKNOWN"}},
                    {"expression": "MIT OR Apache-2.0"},
                    {"license": {"id": "MIT"}},
                ],
                "hashes": [
                    {"alg": "SHA-256", "content": "AB" * 32},
                    {"alg": "SHA3-512", "content": "cd" * 64},
                    {"alg": "BLAKE2b-256", "content": "ef" * 32},
                ],
            },
            {"type": "library", "name": "b", "licenses": [{"license": {"name": "NOASSERTION"}}]},
        ],
    }
    evidence = collect(FOLDER, "made.json", json.dumps(bom).encode())
    first, second = evidence.data["components"]
    assert first["licenses"] == ["Apache-2.0", "MIT", "BSD License", "MIT OR Apache-2.0"]
    assert first["hashes"] == {"sha-256": "ab" * 32, "sha3-512": "cd" * 64, "blake2b-256": "ef" * 32}
    assert second["licenses"] == [] and second["purl"] is None and second["version"] is None
    assert evidence.data["completeness"] == {
        "components": 2,
        "without_version": 1,
        "without_purl": 1,
        "without_license": 1,
    }
    assert evidence.effective_at == "2024-05-01T10:00:00Z"


def test_tools_in_both_shapes_are_all_listed() -> None:
    """metadata.tools as a list (1.4) and as an object (1.5+)."""
    legacy = collect(FOLDER, "defectdojo-cyclonedx-jake2.json")
    raw = json.loads((CORPUS / FOLDER / "defectdojo-cyclonedx-jake2.json").read_bytes())
    assert legacy.data["tools"] == [
        {"name": t["name"], "version": t.get("version")} for t in raw["metadata"]["tools"]
    ]
    modern = collect(FOLDER, "trivy-npm-cyclonedx-spec1.6.json")
    raw = json.loads((CORPUS / FOLDER / "trivy-npm-cyclonedx-spec1.6.json").read_bytes())
    assert modern.data["tools"] == [
        {"name": t["name"], "version": t.get("version")} for t in raw["metadata"]["tools"]["components"]
    ]


def test_vex_only_bom_is_kept_with_no_components_and_said_so() -> None:
    """A VEX-only BOM is an sbom record with no components and a problem."""
    evidence = collect(FOLDER, "guac-cyclonedx-vex-false-positive.json")
    assert evidence.data["components"] == [] and evidence.data["completeness"]["components"] == 0
    assert evidence.data["subject"]["name"] == "test-app-2"
    assert any(
        "is a VEX document (2 vulnerability statements and no components)" in p for p in evidence.problems
    )


def test_dependencies_without_depends_on_are_kept() -> None:
    """A dependency entry without dependsOn is kept with no targets."""
    evidence = collect(FOLDER, "guac-npm-cyclonedx-dependencies-missing-depends-on.json")
    assert evidence.data["dependencies"] == [{"ref": "bootstrap@4.0.0-beta.2", "depends_on": []}]


def test_a_bom_without_bom_format_is_read_as_likely_with_a_problem() -> None:
    """specVersion and components without bomFormat: LIKELY, read, with a problem."""
    raw = json.loads((CORPUS / FOLDER / "trivy-pom-cyclonedx.json").read_bytes())
    del raw["bomFormat"]
    doc = Artefact("no-format.json", json.dumps(raw).encode())
    assert [f.detect(doc) for f in CDX_FORMATS] == [LIKELY, NO]
    evidence = collect(FOLDER, "no-format.json", json.dumps(raw).encode())
    assert evidence.data["completeness"]["components"] == len(raw["components"])
    assert any("$.bomFormat: is missing" in p for p in evidence.problems)


def test_hash_algorithms_follow_the_document_version() -> None:
    """Streebog is valid in 1.7 only; hash values must be hexadecimal."""
    raw = json.loads((CORPUS / FOLDER / "guac-cyclonedx-1.7.json").read_bytes())
    assert collect(FOLDER, "x.json", json.dumps(raw).encode()).data["components"][0]["hashes"] == {
        "streebog-256": raw["components"][0]["hashes"][0]["content"]
    }
    raw["specVersion"] = "1.6"  # Streebog arrived in 1.7
    with pytest.raises(
        InputError,
        match=r"\$\.components\[0\]\.hashes\[0\]: the hash algorithm \(a string of 12 characters\)",
    ):
        collect(FOLDER, "x.json", json.dumps(raw).encode())
    raw["specVersion"] = "1.7"
    raw["components"][0]["hashes"][0]["content"] = "not-hex"
    with pytest.raises(
        InputError, match=r"hash value \(a string of 7 characters\) is not 32, 40, 64, 96 or 128 hexadecimal"
    ):
        collect(FOLDER, "x.json", json.dumps(raw).encode())


def test_component_types_follow_the_document_version() -> None:
    """The 'data' type exists from 1.5 on."""
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.4", "components": [{"type": "data", "name": "d"}]}
    with pytest.raises(
        InputError,
        match=r"\$\.components\[0\]\.type: the component type \(a string of 4 characters\) is not one CycloneDX 1\.4",
    ):
        collect(FOLDER, "x.json", json.dumps(bom).encode())
    bom["specVersion"] = "1.5"
    assert collect(FOLDER, "x.json", json.dumps(bom).encode()).data["components"][0]["type"] == "data"


def test_unknown_spec_version_is_refused_with_a_hint() -> None:
    """A version newer than 1.7 is refused with a hint."""
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.8", "components": []}
    with pytest.raises(
        InputError, match=r"specVersion is a string of 3 characters, not a CycloneDX version affidavit reads"
    ) as info:
        collect(FOLDER, "x.json", json.dumps(bom).encode())
    assert "newer affidavit" in info.value.diagnostics()


def test_timestamp_without_zone_is_read_as_utc_with_a_problem() -> None:
    """A zone-less timestamp is read as UTC and said so."""
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.5", "metadata": {"timestamp": "2024-01-02T03:04:05"}}
    evidence = collect(FOLDER, "x.json", json.dumps(bom).encode())
    assert evidence.effective_at == "2024-01-02T03:04:05Z"
    assert any("has no time zone; read as UTC" in p for p in evidence.problems)


# ---------------------------------------------------------------------------------------------
# damaged and hostile input


@pytest.mark.parametrize("name", ["witness-sbom.cdx.json", "guac-laravel-cyclonedx.xml"])
@pytest.mark.parametrize(
    ("label", "encode"),
    [
        ("utf-8-bom", lambda t: codecs.BOM_UTF8 + t.encode("utf-8")),
        ("utf-16-le-bom", lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le")),
        ("utf-16-be-bom", lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be")),
        ("utf-16-le", lambda t: t.encode("utf-16-le")),
        ("utf-16-be", lambda t: t.encode("utf-16-be")),
    ],
)
def test_reencoded_file_gives_the_same_data(name: str, label: str, encode: Any) -> None:
    """BOM and UTF-16 re-encodings of a corpus file give the same data."""
    text = (CORPUS / FOLDER / name).read_text(encoding="utf-8")
    original = collect(FOLDER, name)
    again = collect(FOLDER, name, encode(text))
    assert again.format == original.format
    assert again.data == original.data
    assert again.id != original.id  # the id is of the bytes as read


def test_xml_entity_expansion_bomb_is_refused_quickly() -> None:
    """A billion-laughs DOCTYPE is refused before any expansion."""
    entities = ['<!ENTITY lol0 "lollollollollollollollollollol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 12)
    ]
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE bom [\n' + "\n".join(entities) + "\n]>\n"
        '<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><components>'
        '<component type="library"><name>&lol11;</name></component></components></bom>\n'
    ).encode()
    started = time.monotonic()
    with pytest.raises(InputError, match=r"declares a DOCTYPE .* entity expansion") as info:
        collect(FOLDER, "bomb.xml", bomb)
    assert time.monotonic() - started < 1.0
    assert f"{FOLDER}/bomb.xml" in info.value.diagnostics()


def test_xml_external_entity_is_refused() -> None:
    """An external entity (XXE) is refused with its DOCTYPE, even after a comment."""
    xxe = (
        b'<?xml version="1.0"?><!-- a comment first --><!DOCTYPE bom [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<bom xmlns="http://cyclonedx.org/schema/bom/1.5"><components><component type="library">'
        b"<name>&x;</name></component></components></bom>"
    )
    with pytest.raises(InputError, match="DOCTYPE"):
        collect(FOLDER, "xxe.xml", xxe)


def test_xml_in_another_namespace_is_refused_by_name() -> None:
    """A <bom> outside the CycloneDX namespaces is refused, saying so without quoting the namespace."""
    doc = b'<?xml version="1.0"?><bom xmlns="http://example.com/not-cyclonedx"><components/></bom>'
    assert [f.detect(Artefact("x", doc)) for f in CDX_FORMATS] == [NO, POSSIBLE]
    with pytest.raises(InputError, match=r"the root element is <bom> in another namespace") as info:
        collect(FOLDER, "other.xml", doc)
    assert "example.com" not in info.value.diagnostics()


def test_components_not_a_list_is_refused_with_its_json_path() -> None:
    """Wrongly typed containers are refused with their JSON path."""
    bom: dict[str, Any] = {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": {"name": "a"}}
    with pytest.raises(InputError, match=r"\$\.components: expected an array, found an object"):
        collect(FOLDER, "x.json", json.dumps(bom).encode())
    bom["components"] = [
        {"type": "library", "name": "a", "components": [{"type": "library", "name": "b"}, 7]}
    ]
    with pytest.raises(
        InputError, match=r"\$\.components\[0\]\.components\[1\]: expected an object, found a number"
    ):
        collect(FOLDER, "x.json", json.dumps(bom).encode())
    bom["components"] = [{"type": "library", "name": "a", "hashes": {"alg": "MD5"}}]
    with pytest.raises(InputError, match=r"\$\.components\[0\]\.hashes: expected an array"):
        collect(FOLDER, "x.json", json.dumps(bom).encode())


def test_detection_scores() -> None:
    """Detection scores by content for each shape."""

    def scores(raw: bytes) -> list[int]:
        """The two CycloneDX detectors' scores for ``raw``."""
        return [f.detect(Artefact("x", raw)) for f in CDX_FORMATS]

    assert scores((CORPUS / FOLDER / "witness-sbom.cdx.json").read_bytes()) == [DEFINITE, NO]
    assert scores((CORPUS / FOLDER / "guac-laravel-cyclonedx.xml").read_bytes()) == [NO, DEFINITE]
    assert scores(b'{"specVersion": "1.5", "components": []}') == [LIKELY, NO]
    assert scores(b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "compo') == [LIKELY, NO]
    assert scores(b'{"name": "x"}') == [NO, NO]
    assert scores(b"<?xml version='1.0'?><project/>") == [NO, NO]


# ---------------------------------------------------------------------------------------------
# speed


def _big_bom(n: int) -> dict[str, Any]:
    """A synthetic BOM of ``n`` components, each with hashes, a licence and a dependency."""
    comps: list[dict[str, Any]] = [
        {
            "bom-ref": f"pkg:npm/p{i}@1.{i}.0",
            "type": "library",
            "name": f"p{i}",
            "version": f"1.{i}.0",
            "purl": f"pkg:npm/p{i}@1.{i}.0",
            "hashes": [{"alg": "SHA-256", "content": hashlib.sha256(str(i).encode()).hexdigest()}],
            "licenses": [{"license": {"id": "MIT"}}] if i % 3 else [{"expression": "MIT OR Apache-2.0"}],
            "properties": [{"name": "syft:package:foundBy", "value": "javascript-lock-cataloger"}],
        }
        for i in range(n)
    ]
    deps = [
        {"ref": c["bom-ref"], "dependsOn": [comps[(i * 7 + 1) % n]["bom-ref"]]} for i, c in enumerate(comps)
    ]
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "metadata": {"timestamp": "2025-06-02T09:10:03Z", "component": {"type": "container", "name": "img"}},
        "components": comps,
        "dependencies": deps,
    }


def test_twenty_thousand_components_read_in_seconds() -> None:
    """20,000 components are read in a few seconds of CPU."""
    raw = json.dumps(_big_bom(20_000)).encode()
    started = time.process_time()
    evidence = collect(FOLDER, "big.json", raw)
    spent = time.process_time() - started
    assert evidence.data["completeness"]["components"] == 20_000
    assert len(evidence.data["dependencies"]) == 20_000
    assert spent < 4.0, f"collecting 20,000 components took {spent:.2f} s of CPU"


def test_non_fatal_oddities_become_problems_naming_the_place() -> None:
    """Gaps that do not stop reading are told once per kind, with the first place and a count."""
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": "abc",
        "components": [
            {"type": "library", "name": "a", "bom-ref": "a"},
            {"type": "library", "purl": "notapurl"},
            {"name": "c"},
            {"name": "d"},
        ],
        "dependencies": [{"ref": "a", "dependsOn": ["zzz"]}],
    }
    evidence = collect(FOLDER, "odd.json", json.dumps(bom).encode())
    assert set(evidence.problems) == {
        f"{FOLDER}/odd.json: $.serialNumber: the serial number (a string of 3 characters) is not a urn:uuid",
        f"{FOLDER}/odd.json: $.metadata.component: the BOM does not name its subject (metadata.component)",
        f"{FOLDER}/odd.json: $.dependencies: 1 dependency ref(s) name no component of this BOM",
        f"{FOLDER}/odd.json: $.components[1]: component has no name",
        f"{FOLDER}/odd.json: $.components[1]: the purl is not a package URL (pkg:type/name@version)",
        f"{FOLDER}/odd.json: $.components[2].type: component has no type (and 1 more like it)",
    }
    assert [c["type"] for c in evidence.data["components"]] == ["library", "library", None, None]
