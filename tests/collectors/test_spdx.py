"""SPDX SBOMs: every corpus file (2.2/2.3 JSON and tag-value, SPDX 3.0), damaged input.

The expected facts of each corpus file are computed here from the raw bytes: ``json`` for JSON
and a few regular expressions for tag-value, never copied from the collector's output. Goldens,
cut files and detection across folders are the collector contract's (``test_corpus_contract.py``).
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from typing import Any

import pytest

from affidavit.artefact import Artefact
from affidavit.collectors.formats.spdx import FORMATS, split_tool
from affidavit.collectors.interface import DEFINITE, LIKELY, NO
from affidavit.errors import InputError
from affidavit.model import EvidenceKind
from tests.collectors.test_cyclonedx import (
    check_record,
    collect,
    edge_count,
    same_instant,
    sbom_registry,
)
from tests.conftest import CORPUS, corpus_index

__all__ = ["sbom_registry"]  # the autouse fixture, imported to apply here too

FOLDER = "sbom-spdx"
ENTRIES = corpus_index(FOLDER)
EDGE_TYPES = {
    "DEPENDS_ON": True,
    "CONTAINS": True,
    "CONTAINED_BY": False,
    "DEPENDENCY_OF": False,
    "BUILD_DEPENDENCY_OF": False,
    "DEV_DEPENDENCY_OF": False,
    "OPTIONAL_DEPENDENCY_OF": False,
    "PROVIDED_DEPENDENCY_OF": False,
    "TEST_DEPENDENCY_OF": False,
    "RUNTIME_DEPENDENCY_OF": False,
}

# Files affidavit refuses, with the words the error must contain. The syft snapshots are here
# although their note does not say so: syft's test redacts their creation time ("redacted").
REJECTED = {
    "defectdojo-spdx_3_unsupported.json": r"SPDX 3\.0 is recognised but not yet normalised",
    "guac-invalid-spdx.json": r"\$\.spdxVersion: spdxVersion must be a string such as \"SPDX-2\.3\", found a number",
}


class Expected:
    """The facts of one SPDX 2.x document, read here from the raw bytes."""

    def __init__(self, raw: bytes) -> None:
        """Read the facts of ``raw`` (JSON or tag-value)."""
        self.is_json = raw.lstrip().startswith(b"{")
        if self.is_json:
            self._json(json.loads(raw))
        else:
            self._tag_value(raw.decode("utf-8"))
        self._finish()

    def _json(self, doc: dict[str, Any]) -> None:
        """Facts of a JSON document."""
        self.version = doc["spdxVersion"].removeprefix("SPDX-")
        self.namespace = doc.get("documentNamespace")
        self.created = doc["creationInfo"].get("created")
        self.creators = doc["creationInfo"].get("creators") or []
        self.doc_id = doc.get("SPDXID", "SPDXRef-DOCUMENT")
        self.describes = list(doc.get("documentDescribes") or [])
        self.packages: list[tuple[str, str | None, str | None]] = []  # (id, name, purl)
        for p in doc.get("packages") or []:
            purls = [
                r["referenceLocator"] for r in p.get("externalRefs") or [] if r["referenceType"] == "purl"
            ]
            self.packages.append((p["SPDXID"], p.get("name"), purls[0] if purls else None))
        self.relationships = [
            (r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"])
            for r in doc.get("relationships") or []
        ]

    def _tag_value(self, text: str) -> None:
        """Facts of a tag-value document, by regular expressions."""
        text = re.sub(r"<text>.*?</text>", "<text/>", text, flags=re.S)  # multi-line values out of the way
        self.version = re.search(r"^SPDXVersion: SPDX-(\S+)", text, re.M).group(1)  # type: ignore[union-attr]
        namespace = re.search(r"^DocumentNamespace: (\S+)", text, re.M)
        self.namespace = namespace.group(1) if namespace else None
        created = re.search(r"^Created: (\S+)", text, re.M)
        self.created = created.group(1) if created else None
        self.creators = re.findall(r"^Creator: (.+?)\s*$", text, re.M)
        self.doc_id = "SPDXRef-DOCUMENT"
        self.describes = []
        self.packages = []
        for block in re.split(r"^(?=PackageName:|FileName:|SnippetSPDXID:|LicenseID:)", text, flags=re.M):
            if not block.startswith("PackageName:"):
                continue
            name = re.match(r"PackageName: (.*?)\s*$", block, re.M).group(1)  # type: ignore[union-attr]
            spdx_id = re.search(r"^SPDXID: (\S+)", block, re.M).group(1)  # type: ignore[union-attr]
            purl = re.search(r"^ExternalRef: \S+ purl (\S+)", block, re.M)
            self.packages.append((spdx_id, name, purl.group(1) if purl else None))
        self.relationships = [
            (a, kind, b) for a, kind, b in re.findall(r"^Relationship:? (\S+) (\S+) (\S+)", text, re.M)
        ]

    def _finish(self) -> None:
        """Subject, components, purls, edges and tool from what was read."""
        ids = [p[0] for p in self.packages]
        described = list(self.describes)
        described += [b for a, kind, b in self.relationships if kind == "DESCRIBES" and a == self.doc_id]
        described_packages = [d for d in described if d in ids]
        self.subject = (
            next((p for p in self.packages if p[0] == described_packages[0]), None)
            if described_packages
            else None
        )
        self.components = [p for p in self.packages if p is not self.subject]
        self.purls = {p[2] for p in self.components if p[2]}
        pairs = []
        for a, kind, b in self.relationships:
            if kind in EDGE_TYPES and a in ids and b in ids:
                pairs.append((a, [b]) if EDGE_TYPES[kind] else (b, [a]))
        self.deps = edge_count(pairs)
        tools = [c.split(":", 1)[1].strip() for c in self.creators if c.startswith("Tool:")]
        self.tool = tools[0] if tools else None


def _raw(name: str) -> bytes:
    """The bytes of a corpus file of this folder."""
    return (CORPUS / FOLDER / name).read_bytes()


# ---------------------------------------------------------------------------------------------
# every corpus file


def test_every_invalid_note_is_expected_to_be_rejected() -> None:
    """Every file the corpus marks INVALID is in the rejection table."""
    invalid = {e["file"] for e in ENTRIES if "INVALID" in e["note"]}
    assert invalid and invalid <= set(REJECTED)
    assert set(REJECTED) <= {e["file"] for e in ENTRIES}


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file"])
def test_corpus_file(entry: dict[str, Any]) -> None:
    """Each corpus file normalises to facts read independently, or is refused as expected."""
    name = entry["file"]
    raw = _raw(name)
    assert hashlib.sha256(raw).hexdigest() == entry["sha256"]
    if name in REJECTED:
        with pytest.raises(InputError, match=REJECTED[name]) as info:
            collect(FOLDER, name)
        assert f"{FOLDER}/{name}" in info.value.diagnostics()
        return
    expected = Expected(raw)
    evidence = collect(FOLDER, name)
    data = check_record(evidence)["data"]
    assert evidence.kind is EvidenceKind.SBOM
    assert evidence.format == ("spdx-json" if expected.is_json else "spdx-tag-value")
    assert evidence.format_version == data["spec_version"] == expected.version
    assert data["spec"] == "spdx"
    assert data["serial_number"] == expected.namespace
    assert len(data["components"]) == data["completeness"]["components"] == len(expected.components)
    assert [c["bom_ref"] for c in data["components"]] == [p[0] for p in expected.components]
    assert [c["name"] for c in data["components"]] == [p[1] for p in expected.components]
    assert {c["purl"] for c in data["components"] if c["purl"]} == expected.purls
    assert data["subject"]["name"] == (expected.subject[1] if expected.subject else None)
    assert data["subject"]["purl"] == (expected.subject[2] if expected.subject else None)
    deps = data["dependencies"]
    assert (len(deps), sum(len(d["depends_on"]) for d in deps)) == expected.deps
    if expected.tool is None:
        assert evidence.tool is None
    else:
        assert evidence.tool is not None
        assert expected.tool.startswith(evidence.tool.name)
        assert expected.tool.endswith(evidence.tool.version or evidence.tool.name)
    assert same_instant(evidence.effective_at, expected.created)
    assert all(p.startswith(f"{FOLDER}/{name}: ") for p in evidence.problems)


def test_json_and_tag_value_of_the_same_document_agree() -> None:
    """The SPDX example in JSON and in tag-value reads the same."""
    from_json = collect(FOLDER, "spdx-tools-python-SPDXJSONExample-v2.3.spdx.json")
    from_tv = collect(FOLDER, "spdx-tools-python-SPDXTagExample-v2.3.spdx")
    assert from_json.data["subject"] == from_tv.data["subject"]
    key = {c["bom_ref"]: (c["name"], c["version"], c["hashes"]) for c in from_json.data["components"]}
    assert key == {c["bom_ref"]: (c["name"], c["version"], c["hashes"]) for c in from_tv.data["components"]}


# ---------------------------------------------------------------------------------------------
# what the normalised data says


def test_subject_is_the_described_package_not_the_described_file() -> None:
    """A document describing a file and a package has the package as subject."""
    evidence = collect(FOLDER, "spdx-tools-python-SPDXJSONExample-v2.2.spdx.json")
    doc = json.loads(_raw("spdx-tools-python-SPDXJSONExample-v2.2.spdx.json"))
    assert doc["documentDescribes"][0] == "SPDXRef-File"  # a file is described first
    package = next(p for p in doc["packages"] if p["SPDXID"] == "SPDXRef-Package")
    sha256 = next(c["checksumValue"] for c in package["checksums"] if c["algorithm"] == "SHA256")
    assert evidence.data["subject"]["name"] == package["name"]
    assert evidence.subject.digest == f"sha256:{sha256}"
    assert "SPDXRef-Package" not in {c["bom_ref"] for c in evidence.data["components"]}


def test_checksums_become_hashes_under_normal_names() -> None:
    """SPDX checksum names map onto the normal hash names."""
    names = {"SHA1": "sha-1", "SHA256": "sha-256", "MD5": "md5", "BLAKE2b-384": "blake2b-384"}
    evidence = collect(FOLDER, "spdx-tools-python-SPDXJSONExample-v2.3.spdx.json")
    doc = json.loads(_raw("spdx-tools-python-SPDXJSONExample-v2.3.spdx.json"))
    by_id = {c["bom_ref"]: c for c in evidence.data["components"]}
    checked = 0
    for package in doc["packages"]:
        if package["SPDXID"] in by_id:
            expected = {
                names[c["algorithm"]]: c["checksumValue"].lower() for c in package.get("checksums", [])
            }
            assert by_id[package["SPDXID"]]["hashes"] == expected
            checked += len(expected)
    assert checked > 0


def test_licences_concluded_then_declared_without_noassertion() -> None:
    """Licences: concluded then declared, NOASSERTION dropped."""
    evidence = collect(FOLDER, "witness-sbom.spdx.json")
    doc = json.loads(_raw("witness-sbom.spdx.json"))
    by_id = {c["bom_ref"]: c for c in evidence.data["components"]}
    for package in doc["packages"]:
        if package["SPDXID"] not in by_id:
            continue
        expected = [
            v
            for v in (package.get("licenseConcluded"), package.get("licenseDeclared"))
            if v not in (None, "NOASSERTION", "NONE")
        ]
        expected = list(dict.fromkeys(expected))
        assert by_id[package["SPDXID"]]["licenses"] == expected


def test_dependency_of_runs_from_the_dependant() -> None:
    """DEPENDENCY_OF makes an edge from the related element to the element."""
    evidence = collect(FOLDER, "witness-sbom.spdx.json")
    doc = json.loads(_raw("witness-sbom.spdx.json"))
    graph = {d["ref"]: set(d["depends_on"]) for d in evidence.data["dependencies"]}
    rel = next(r for r in doc["relationships"] if r["relationshipType"] == "DEPENDENCY_OF")
    assert rel["spdxElementId"] in graph[rel["relatedSpdxElement"]]


def test_container_subject_digest_from_purl_and_checksum() -> None:
    """A ko image index subject gets its digest."""
    evidence = collect(FOLDER, "guac-go-spdx-multi-arch_3.json")
    doc = json.loads(_raw("guac-go-spdx-multi-arch_3.json"))
    assert evidence.subject.digest == doc["packages"][0]["name"]  # ko names the index by its digest


def test_relationship_without_colon_is_read_with_a_problem() -> None:
    """'Relationship X TYPE Y' without a colon is read, with a problem."""
    evidence = collect(FOLDER, "cosign-bom-go-mod.spdx")
    text = _raw("cosign-bom-go-mod.spdx").decode()
    bare = len(re.findall(r"^Relationship (?!:)", text, re.M))
    assert bare > 100
    assert any(f"{bare} Relationship lines have no colon" in p for p in evidence.problems)
    assert evidence.data["subject"]["name"] == "github.com/sigstore/cosign"


@pytest.mark.parametrize(
    ("creator", "name", "version"),
    [
        ("syft-1.6.0", "syft", "1.6.0"),
        ("syft-v0.42.0-bogus", "syft", "v0.42.0-bogus"),
        ("ko 0.12.0", "ko", "0.12.0"),
        ("spdx-sbom-generator-0.0.1", "spdx-sbom-generator", "0.0.1"),
        ("trivy-dev", "trivy-dev", None),
        ("sigs.k8s.io/bom/pkg/spdx", "sigs.k8s.io/bom/pkg/spdx", None),
    ],
)
def test_split_tool(creator: str, name: str, version: str | None) -> None:
    """Tool creators split into name and version."""
    assert split_tool(creator) == {"name": name, "version": version}


# ---------------------------------------------------------------------------------------------
# damaged and hostile input


def test_unclosed_text_block_is_refused() -> None:
    """A <text> block that never closes is refused."""
    raw = _raw("spdx-tools-python-SPDXTagExample-v2.3.spdx")
    cut = raw[: raw.index(b"<text>") + 20] + b"\n"
    with pytest.raises(InputError, match=r"a <text> block is never closed"):
        collect(FOLDER, "cut.spdx", cut)


def test_text_blocks_hide_their_contents() -> None:
    """Tags inside a <text> block are text, not packages."""
    text = (
        "SPDXVersion: SPDX-2.3\nSPDXID: SPDXRef-DOCUMENT\nDocumentNamespace: https://example.com/x\n"
        "Creator: Tool: maker-1.0\nCreated: 2024-01-01T00:00:00Z\n"
        "PackageName: real\nSPDXID: SPDXRef-real\nPackageVersion: 1\n"
        "PackageComment: <text>not a package:\nPackageName: fake\nSPDXID: SPDXRef-fake</text>\n"
        "Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-real\n"
        "PackageName: dep\nSPDXID: SPDXRef-dep\nPackageVersion: 2\n"
        "PackageLicenseConcluded: NOASSERTION\nPackageLicenseDeclared: mit\n"
        "PackageChecksum: SHA1: 85ED0817AF83A24AD8DA68C2B5094DE69833983C\n"
        "ExternalRef: PACKAGE-MANAGER purl pkg:pypi/dep@2\n"
        "Relationship: SPDXRef-real DEPENDS_ON SPDXRef-dep\n"
    )
    evidence = collect(FOLDER, "made.spdx", text.encode())
    assert evidence.data["subject"]["name"] == "real"
    assert evidence.data["components"] == [
        {
            "name": "dep",
            "version": "2",
            "purl": "pkg:pypi/dep@2",
            "type": None,
            "licenses": ["MIT"],
            "license_choices": [["MIT"]],
            "license_unidentified": [],
            "hashes": {"sha-1": "85ed0817af83a24ad8da68c2b5094de69833983c"},
            "bom_ref": "SPDXRef-dep",
        }
    ]
    assert evidence.data["dependencies"] == [{"ref": "SPDXRef-real", "depends_on": ["SPDXRef-dep"]}]
    assert evidence.tool is not None and (evidence.tool.name, evidence.tool.version) == ("maker", "1.0")


def test_malformed_tag_value_line_is_refused_with_its_line() -> None:
    """A line that is not Tag: value is refused with its line number."""
    text = "SPDXVersion: SPDX-2.3\nCreated: 2024-01-01T00:00:00Z\nPackageName: a\nthis line is not a tag\n"
    with pytest.raises(InputError, match=r"line 4: is not a 'Tag: value' line"):
        collect(FOLDER, "bad.spdx", text.encode())


@pytest.mark.parametrize("name", ["witness-sbom.spdx.json", "spdx-tools-python-SPDXTagExample-v2.3.spdx"])
@pytest.mark.parametrize(
    "encode",
    [
        lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
        lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"),
        lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
    ],
    ids=["utf-8-bom", "utf-16-le", "utf-16-be"],
)
def test_reencoded_file_gives_the_same_data(name: str, encode: Any) -> None:
    """BOM and UTF-16 re-encodings of a corpus file give the same data."""
    original = collect(FOLDER, name)
    again = collect(FOLDER, name, encode(_raw(name).decode("utf-8")))
    assert (again.format, again.data) == (original.format, original.data)


def test_spdx3_json_ld_is_recognised_and_refused() -> None:
    """SPDX 3 JSON-LD is detected and refused by name."""
    doc = {
        "@context": ["https://spdx.org/rdf/3.0.1/spdx-context.jsonld"],
        "@graph": [{"type": "software_Package", "spdxId": "urn:p", "name": "p"}],
    }
    raw = json.dumps(doc).encode()
    assert [f.detect(Artefact("x", raw)) for f in FORMATS] == [DEFINITE, NO]
    with pytest.raises(InputError, match="SPDX 3.0 is recognised but not yet normalised") as info:
        collect(FOLDER, "v3.json", raw)
    assert "SPDX 2.3" in info.value.diagnostics()


def test_packages_not_a_list_is_refused_with_its_json_path() -> None:
    """Wrong containers and unknown checksum algorithms are refused with their path."""
    doc = json.loads(_raw("trivy-conda-spdx.json"))
    doc["packages"] = {"name": "x"}
    with pytest.raises(InputError, match=r"\$\.packages: expected an array, found an object"):
        collect(FOLDER, "x.json", json.dumps(doc).encode())
    doc = json.loads(_raw("trivy-conda-spdx.json"))
    doc["packages"][1]["checksums"] = [{"algorithm": "CRC32", "checksumValue": "abcd"}]
    with pytest.raises(
        InputError, match=r"\$\.packages\[1\]\.checksums\[0\]: the checksum algorithm is not an SPDX one"
    ):
        collect(FOLDER, "x.json", json.dumps(doc).encode())


def test_detection_scores() -> None:
    """Detection scores by content for each shape."""

    def scores(raw: bytes) -> list[int]:
        """The two SPDX detectors' scores for ``raw``."""
        return [f.detect(Artefact("x", raw)) for f in FORMATS]

    assert scores(_raw("witness-sbom.spdx.json")) == [DEFINITE, NO]
    assert scores(_raw("cosign-bom-go-mod.spdx")) == [NO, DEFINITE]
    assert scores(b'{"SPDXID": "SPDXRef-DOCUMENT", "creationInfo": {}}') == [LIKELY, NO]
    assert scores(b'{"spdxVersion": "SPDX-2.3", "packa') == [LIKELY, NO]
    assert scores(b"# comment\n\nSPDXVersion: SPDX-2.2\n") == [NO, DEFINITE]
    assert scores(b"Version: 1\nSPDXVersion: SPDX-2.2\n") == [NO, NO]


def _example() -> dict[str, Any]:
    """The spdx-tools SPDX 2.3 JSON example, parsed, to change one field of."""
    loaded: dict[str, Any] = json.loads(_raw("spdx-tools-python-SPDXJSONExample-v2.3.spdx.json"))
    return loaded


@pytest.mark.parametrize(
    ("value", "said"), [("", "is empty"), ("SPDXRef-DOC", "is not SPDXRef-DOCUMENT"), (None, "is missing")]
)
def test_document_spdxid_must_be_spdxref_document(value: str | None, said: str) -> None:
    """SPDX 2.3 6.3: the document's SPDXID is SPDXRef-DOCUMENT; without it relationships cannot be
    resolved, so the file is refused, not read as an SBOM with an unknown subject."""
    doc = _example()
    if value is None:
        del doc["SPDXID"]
    else:
        doc["SPDXID"] = value
    with pytest.raises(InputError, match=rf"\$\.SPDXID: the document's SPDXID {said}") as caught:
        collect(FOLDER, "bad-id.spdx.json", json.dumps(doc).encode())
    assert caught.value.hint is not None


def test_package_without_name_is_refused() -> None:
    """SPDX 2.3 7.1: PackageName is mandatory (cardinality 1..1)."""
    doc = _example()
    doc["packages"][1].pop("name")
    with pytest.raises(InputError, match=r"a package has no name"):
        collect(FOLDER, "no-name.spdx.json", json.dumps(doc).encode())


@pytest.mark.parametrize("bad", ["SPDXRef-pkg/npm/left-pad", "SPDXRef-a b", "Package-1", "SPDXRef-x:y"])
def test_package_id_that_is_no_element_id_is_refused(bad: str) -> None:
    """SPDX 2.3 7.2: 'SPDXRef-' then letters, digits, '.' and '-'; a '/' or ':' cannot be referenced.
    The id is described by its shape, never quoted."""
    doc = _example()
    doc["packages"][1]["SPDXID"] = bad
    with pytest.raises(InputError, match=r"a package's SPDXID is not an SPDX element id") as caught:
        collect(FOLDER, "slash.spdx.json", json.dumps(doc).encode())
    assert bad not in caught.value.diagnostics()


def test_package_id_with_plus_is_a_problem() -> None:
    """sigs.k8s.io/bom writes '+' from Go's '+incompatible' versions: read, with a problem."""
    doc = _example()
    doc["packages"][1]["SPDXID"] = "SPDXRef-Package-chi-v4.1.2+incompatible"
    evidence = collect(FOLDER, "plus.spdx.json", json.dumps(doc).encode())
    assert any("does not allow" in p for p in evidence.problems)


def test_tag_value_document_spdxid_checked() -> None:
    text = (
        "SPDXVersion: SPDX-2.3\nSPDXID: \nDocumentNamespace: https://example.com/x\n"
        "Creator: Tool: maker-1.0\nCreated: 2024-01-01T00:00:00Z\n"
        "PackageName: real\nSPDXID: SPDXRef-real\nPackageVersion: 1\n"
    )
    with pytest.raises(InputError, match=r"the document's SPDXID"):
        collect(FOLDER, "tv.spdx", text.encode())
