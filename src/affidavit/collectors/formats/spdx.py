"""SPDX SBOMs: 2.x JSON and tag-value -> ``sbom`` evidence; SPDX 3.0 JSON-LD is recognised only.

What is read
    ``spdxVersion`` (``SPDX-2.2`` -> ``2.2``); ``documentNamespace`` (the serial number);
    ``creationInfo.created`` (``effective_at``); ``creationInfo.creators`` of the form
    ``Tool: name-version`` (every one is in ``data.tools``, the first is the envelope's tool);
    every package; ``documentDescribes`` and the relationships.

    The subject is the first *package* the document DESCRIBES (``documentDescribes``, then
    ``DESCRIBES`` / ``DESCRIBED_BY`` relationships of the document), else the first described
    file; its digest is its SHA-256 checksum, else the digest of its container image purl, else a
    ``sha256:`` version of a ``CONTAINER`` package. The components are every other package, in
    document order; files and snippets are not components. A component's ``type`` is its
    ``primaryPackagePurpose`` in lower case (2.3; ``null`` in 2.2), its ``purl`` the first
    external reference of type ``purl``, its ``bom_ref`` its SPDXID, its ``licenses`` the
    concluded then the declared licence (``NOASSERTION`` and ``NONE`` mean none), its ``hashes``
    the checksums under the normal names of ``_licenses`` (``SHA256`` -> ``sha-256``).

    ``dependencies`` are the package-to-package edges of the relationships ``DEPENDS_ON`` and
    ``CONTAINS`` (from -> to) and ``DEPENDENCY_OF``, ``*_DEPENDENCY_OF`` and ``CONTAINED_BY``
    (to -> from), the way CycloneDX tools express containment in their dependency graph. Edges
    to files are dropped (files are not components); references into other documents
    (``DocumentRef-...:SPDXRef-...``) are kept as written.

What is checked on the gate's path (an ``InputError`` naming the file and the place)
    ``spdxVersion`` is a string ``SPDX-2.0`` to ``SPDX-2.3``; ``created`` is a date-time with a
    time; checksum algorithms are SPDX ones and checksum values hexadecimal; ``packages``,
    ``relationships``, ``checksums`` and ``externalRefs`` have the right JSON types; in tag-value,
    every line is ``Tag: value`` (or inside a ``<text>`` block). A tag-value ``Relationship``
    written without its colon (sigs.k8s.io/bom and spdx-sbom-generator do this) is read, with a
    problem.

SPDX 3.0 (JSON-LD with an ``@context`` under ``spdx.org/rdf/3``) is recognised and refused with
an ``InputError`` saying so: its graph model (elements, relationships and licences as separate
nodes) needs its own reader, which is future work.

The tag-value reader is a small line-by-line parser: spdx-tools 0.8.5 (ply grammar) takes 0.5 s
to import and 1.4 s on its own 18 KB example, and it fails on the cosign corpus file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from affidavit.artefact import Artefact, gc_paused
from affidavit.collectors.interface import (
    DEFINITE,
    LIKELY,
    NO,
    CollectOptions,
    Format,
    Parsed,
    Problems,
    json_type,
    opt_str,
    require_list,
    require_mapping,
    shape_of,
)
from affidavit.collectors.kinds import licenses as lic
from affidavit.collectors.kinds.sbom import (
    Tally,
    broken_json_mentions,
    check_component,
    empty_subject,
    envelope_subject,
    first_tool,
    load_json,
    make_component,
    sbom_data,
    sbom_timestamp,
    subject_digest,
)
from affidavit.errors import InputError
from affidavit.model import EvidenceKind

_VERSION = re.compile(r"^SPDX-(2\.[0-3])$")
_TOOL = re.compile(r"^(?P<name>.+?)[-\s@](?P<version>v?\d[\w.+~-]*)$")
_TAG_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):\s?(.*)$")
_RELATIONSHIP_NO_COLON = re.compile(r"^Relationship\s+(\S+)\s+(\S+)\s+(\S+)\s*$")

# relationship type -> True when the edge runs from the element to the related one
_EDGES: dict[str, bool] = {
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
SPDX3_MESSAGE = "SPDX 3.0 is recognised but not yet normalised"


@dataclass(slots=True)
class _Package:
    """One package as read from either serialisation, before normalisation."""

    path: str
    spdx_id: str | None = None
    name: str | None = None
    version: str | None = None
    purl: str | None = None
    purpose: str | None = None
    concluded: str | None = None
    declared: str | None = None
    checksums: list[tuple[str, Any, str]] = field(default_factory=list)  # (alg, value, path)


@dataclass(slots=True)
class _File:
    """A file, kept only in case the document describes a file rather than a package."""

    path: str
    spdx_id: str | None = None
    name: str | None = None
    checksums: list[tuple[str, Any, str]] = field(default_factory=list)


@dataclass(slots=True)
class _SpdxDoc:
    """What both serialisations have in common once read."""

    version: str
    version_path: str
    namespace: str | None = None
    created: Any = None
    created_path: str = "$.creationInfo.created"
    creators: list[str] = field(default_factory=list)
    document_id: str = "SPDXRef-DOCUMENT"
    document_id_given: str | None = None  # as written (None: absent); checked by _check_ids
    describes: list[str] = field(default_factory=list)
    packages: list[_Package] = field(default_factory=list)
    files: list[_File] = field(default_factory=list)
    other_ids: set[str] = field(default_factory=set)  # snippets and extracted licences
    relationships: list[tuple[str, str, str]] = field(default_factory=list)


def _is_spdx3(value: dict[str, Any]) -> bool:
    """True when a JSON document is SPDX 3 (JSON-LD ``@context`` or ``spdxVersion`` SPDX-3.x)."""
    context = value.get("@context")
    contexts = context if isinstance(context, list) else [context]
    if any(isinstance(c, str) and "spdx.org/rdf/3" in c for c in contexts):
        return True
    version = value.get("spdxVersion")
    return isinstance(version, str) and version.startswith("SPDX-3")


def _refuse_spdx3(doc: Artefact) -> InputError:
    """The error for an SPDX 3 document: recognised, not yet normalised."""
    return InputError(
        doc.source,
        f"{SPDX3_MESSAGE} (JSON-LD with an spdx.org/rdf/3 @context)",
        hint="have the tool write SPDX 2.3 JSON or CycloneDX for now",
    )


def _check_version(doc: Artefact, value: Any, path: str) -> str:
    """The SPDX version (``2.3``) of an ``spdxVersion`` value, which must be SPDX-2.0 to 2.3."""
    if isinstance(value, str):
        match = _VERSION.match(value.strip())
        if match:
            return match.group(1)
        if value.startswith("SPDX-3"):
            raise _refuse_spdx3(doc)
        raise InputError(
            doc.source,
            f"spdxVersion is {shape_of(value)}, not a version affidavit reads (SPDX-2.0 to SPDX-2.3)",
            path=path,
        )
    raise InputError(
        doc.source,
        f'spdxVersion must be a string such as "SPDX-2.3", found {json_type(value)}',
        path=path,
    )


def split_tool(creator: str) -> dict[str, str | None]:
    """``name-version`` (or ``name version``) of an SPDX ``Tool:`` creator, split."""
    text = creator.strip()
    match = _TOOL.match(text)
    if match:
        return {"name": match.group("name"), "version": match.group("version")}
    return {"name": text, "version": None}


# ---------------------------------------------------------------------------------------------
# JSON


def _detect_json(doc: Artefact) -> int:
    """Score a document as SPDX JSON (``spdxVersion``, or an SPDX 3 ``@context``)."""
    if not doc.looks_like_json:
        return NO
    value = doc.try_json()
    if value is None and broken_json_mentions(doc, '"spdxVersion"'):
        return LIKELY  # a damaged SPDX file: its parser says what is wrong with it
    if not isinstance(value, dict):
        return NO
    if "spdxVersion" in value or _is_spdx3(value):
        return DEFINITE
    if "SPDXID" in value and "creationInfo" in value:
        return LIKELY
    return NO


def _json_checksums(doc: Artefact, value: Any, path: str) -> list[tuple[str, Any, str]]:
    """The checksums of a package or file as (algorithm, value, path), checked later."""
    out: list[tuple[str, Any, str]] = []
    if value is None:
        return out
    for i, raw in enumerate(require_list(doc, value, path)):
        entry = require_mapping(doc, raw, f"{path}[{i}]")
        alg = entry.get("algorithm")
        content = entry.get("checksumValue")
        out.append((alg if isinstance(alg, str) else json_type(alg), content, f"{path}[{i}]"))
    return out


def _json_package(doc: Artefact, raw: Any, path: str) -> _Package:
    """One package of ``$.packages`` as read (purl: the first ``purl`` external reference)."""
    pkg = require_mapping(doc, raw, path)
    purl: str | None = None
    refs = pkg.get("externalRefs")
    if refs is not None:
        for i, ref_raw in enumerate(require_list(doc, refs, f"{path}.externalRefs")):
            ref = require_mapping(doc, ref_raw, f"{path}.externalRefs[{i}]")
            if ref.get("referenceType") == "purl":
                purl = opt_str(ref.get("referenceLocator"))
                if purl is not None:
                    break
    return _Package(
        path=path,
        spdx_id=opt_str(pkg.get("SPDXID")),
        name=opt_str(pkg.get("name")),
        version=opt_str(pkg.get("versionInfo")),
        purl=purl,
        purpose=opt_str(pkg.get("primaryPackagePurpose")),
        concluded=opt_str(pkg.get("licenseConcluded")),
        declared=opt_str(pkg.get("licenseDeclared")),
        checksums=_json_checksums(doc, pkg.get("checksums"), f"{path}.checksums"),
    )


def _read_json(doc: Artefact, value: dict[str, Any]) -> _SpdxDoc:
    """Read an SPDX 2.x JSON document into the common shape."""
    version = _check_version(doc, value.get("spdxVersion"), "$.spdxVersion")
    sd = _SpdxDoc(version=version, version_path="$.spdxVersion")
    sd.namespace = opt_str(value.get("documentNamespace"))
    given = value.get("SPDXID")
    sd.document_id_given = given if isinstance(given, str) else None
    sd.document_id = opt_str(given) or sd.document_id
    info_raw = value.get("creationInfo")
    if info_raw is not None:
        info = require_mapping(doc, info_raw, "$.creationInfo")
        sd.created = info.get("created")
        creators = info.get("creators")
        if creators is not None:
            for creator in require_list(doc, creators, "$.creationInfo.creators"):
                if isinstance(creator, str):
                    sd.creators.append(creator)
    describes = value.get("documentDescribes")
    if describes is not None:
        sd.describes = [d for d in require_list(doc, describes, "$.documentDescribes") if isinstance(d, str)]
    packages = value.get("packages")
    if packages is not None:
        for i, raw in enumerate(require_list(doc, packages, "$.packages")):
            sd.packages.append(_json_package(doc, raw, f"$.packages[{i}]"))
    files = value.get("files")
    if files is not None:
        for i, raw in enumerate(require_list(doc, files, "$.files")):
            entry = require_mapping(doc, raw, f"$.files[{i}]")
            sd.files.append(
                _File(
                    path=f"$.files[{i}]",
                    spdx_id=opt_str(entry.get("SPDXID")),
                    name=opt_str(entry.get("fileName")),
                    checksums=_json_checksums(doc, entry.get("checksums"), f"$.files[{i}].checksums"),
                )
            )
    snippets = value.get("snippets")
    if isinstance(snippets, list):
        sd.other_ids.update(
            s["SPDXID"] for s in snippets if isinstance(s, dict) and isinstance(s.get("SPDXID"), str)
        )
    relationships = value.get("relationships")
    if relationships is not None:
        for i, raw in enumerate(require_list(doc, relationships, "$.relationships")):
            rel = require_mapping(doc, raw, f"$.relationships[{i}]")
            a, kind, b = rel.get("spdxElementId"), rel.get("relationshipType"), rel.get("relatedSpdxElement")
            if not (isinstance(a, str) and isinstance(kind, str) and isinstance(b, str)):
                raise InputError(
                    doc.source,
                    "a relationship needs spdxElementId, relationshipType and relatedSpdxElement strings",
                    path=f"$.relationships[{i}]",
                )
            sd.relationships.append((a, kind, b))
    return sd


def _parse_json(doc: Artefact, options: CollectOptions) -> Parsed:
    """Read an SPDX JSON document (SPDX 3 is refused by name)."""
    value = require_mapping(doc, load_json(doc, "SPDX"), "$")
    if _is_spdx3(value):
        raise _refuse_spdx3(doc)
    with gc_paused():
        sd = _read_json(doc, value)
        return _normalise(doc, sd)


# ---------------------------------------------------------------------------------------------
# tag-value


def _detect_tag_value(doc: Artefact) -> int:
    """Score a document as SPDX tag-value: its first tag is ``SPDXVersion:``."""
    if doc.looks_like_json:
        return NO
    for line in doc.head.splitlines()[:50]:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        return DEFINITE if stripped.startswith("SPDXVersion:") else NO
    return NO


def _read_tag_value(doc: Artefact, problems: Problems) -> _SpdxDoc:
    """Read a tag-value document line by line (``<text>`` blocks may span lines)."""
    sd: _SpdxDoc | None = None
    section = "document"  # document | package | file | snippet | license
    package: _Package | None = None
    file: _File | None = None
    no_colon_first: str | None = None
    no_colon = 0
    text = doc.text
    if not text.endswith(("\n", "\r")):
        raise InputError(
            doc.source,
            "does not end with a line break: the file looks truncated (tag-value has no end marker, "
            "so a cut file would silently lose packages); re-run the tool that wrote it",
            hint="if the file is complete, add the final line break",
        )
    lines = text.splitlines()
    n = len(lines)
    i = 0
    while i < n:
        line = lines[i]
        i += 1
        where = f"line {i}"
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _TAG_LINE.match(stripped)
        if match is None:
            rel = _RELATIONSHIP_NO_COLON.match(stripped)
            if rel is not None:
                if sd is not None:
                    sd.relationships.append((rel.group(1), rel.group(2), rel.group(3)))
                no_colon += 1
                no_colon_first = no_colon_first or where
                continue
            raise InputError(
                doc.source, f"is not a 'Tag: value' line (a line of {len(stripped)} characters)", path=where
            )
        tag, value = match.group(1), match.group(2).strip()
        if value.startswith("<text>"):
            body = value[len("<text>") :]
            while "</text>" not in body and i < n:
                body += "\n" + lines[i]
                i += 1
            if "</text>" not in body:
                raise InputError(
                    doc.source, "a <text> block is never closed: the file looks truncated", path=where
                )
            value = body[: body.index("</text>")]
        if tag == "SPDXVersion":
            sd = _SpdxDoc(version=_check_version(doc, value, where), version_path=where)
            continue
        if sd is None:
            raise InputError(doc.source, "the first tag must be SPDXVersion", path=where)
        if tag == "PackageName":
            section = "package"
            package = _Package(path=where, name=value or None)
            sd.packages.append(package)
        elif tag == "FileName":
            section = "file"
            file = _File(path=where, name=value or None)
            sd.files.append(file)
        elif tag == "SnippetSPDXID":
            section = "snippet"
            sd.other_ids.add(value)
        elif tag == "LicenseID":
            section = "license"
        elif tag == "SPDXID":
            if section == "document":
                sd.document_id = value
                sd.document_id_given = value
            elif section == "package" and package is not None:
                package.spdx_id = value
            elif section == "file" and file is not None:
                file.spdx_id = value
        elif tag == "Relationship":
            parts = value.split()
            if len(parts) < 3:
                raise InputError(
                    doc.source,
                    f"the relationship has {len(parts)} word(s), not 'ELEMENT TYPE ELEMENT'",
                    path=where,
                )
            sd.relationships.append((parts[0], parts[1], parts[2]))
        elif section == "document":
            if tag == "DocumentNamespace":
                sd.namespace = value or None
            elif tag == "Creator":
                sd.creators.append(value)
            elif tag == "Created":
                sd.created = value
                sd.created_path = where
        elif section == "package" and package is not None:
            if tag == "PackageVersion":
                package.version = value or None
            elif tag == "PackageChecksum":
                alg, _, content = value.partition(":")
                package.checksums.append((alg.strip(), content.strip(), where))
            elif tag == "PackageLicenseConcluded":
                package.concluded = value or None
            elif tag == "PackageLicenseDeclared":
                package.declared = value or None
            elif tag == "PrimaryPackagePurpose":
                package.purpose = value or None
            elif tag == "ExternalRef":
                parts = value.split(None, 2)
                if len(parts) == 3 and parts[1] == "purl" and package.purl is None:
                    package.purl = parts[2].strip() or None
        elif section == "file" and file is not None and tag == "FileChecksum":
            alg, _, content = value.partition(":")
            file.checksums.append((alg.strip(), content.strip(), where))
    if sd is None:
        raise InputError(doc.source, "has no SPDXVersion line: not an SPDX tag-value document")
    if no_colon and no_colon_first is not None:
        problems.add(
            no_colon_first,
            f"{no_colon} Relationship lines have no colon after the tag ('Relationship X TYPE Y'); "
            "they are read as relationships",
        )
    return sd


def _parse_tag_value(doc: Artefact, options: CollectOptions) -> Parsed:
    """Read an SPDX tag-value document."""
    problems = Problems(doc.source)
    sd = _read_tag_value(doc, problems)
    return _normalise(doc, sd, problems)


# ---------------------------------------------------------------------------------------------
# Normalisation shared by both serialisations


def _hashes(doc: Artefact, checksums: list[tuple[str, Any, str]]) -> dict[str, str]:
    """Check checksums and key them by the normal hash names of ``_licenses``."""
    out: dict[str, str] = {}
    for alg, content, path in checksums:
        if alg not in lic.SPDX_HASH_ALGORITHMS:
            raise InputError(
                doc.source,
                f"the checksum algorithm is not an SPDX one ({', '.join(sorted(lic.SPDX_HASH_ALGORITHMS))})",
                path=path,
            )
        if not isinstance(content, str) or not lic.is_hex(content):
            raise InputError(
                doc.source, f"the {alg} checksum value ({shape_of(content)}) is not hexadecimal", path=path
            )
        out.setdefault(lic.hash_name(alg), content.lower())
    return out


def _licenses(pkg: _Package) -> list[str]:
    """A package's licences: concluded then declared, without NOASSERTION/NONE, once each."""
    out: list[str] = []
    for value in (pkg.concluded, pkg.declared):
        if value is not None:
            lic.add_unique(out, lic.from_expression(value))
    return out


# SPDX 2.3 3.2 / 7.2: an element id is "SPDXRef-" and letters, digits, "." and "-". Real tools
# also write "+" (sigs.k8s.io/bom: "...-v2.7.1+incompatible"), which is a problem, not a refusal; a
# "/", a ":" or white space makes the id unusable as a reference (DocumentRef-x:SPDXRef-y).
_ID = re.compile(r"^SPDXRef-[A-Za-z0-9.\-]+$")
_ID_UNUSABLE = re.compile(r"[/:\s#]")
_SPDX_HINT = (
    "generate the SBOM again with a tool that writes valid SPDX 2.3 (syft, trivy, spdx-tools) or CycloneDX"
)


def _check_ids(doc: Artefact, sd: _SpdxDoc, tally: Tally) -> None:
    """Refuse what SPDX 2.3 makes mandatory and the rules rely on: the document's SPDXID
    (``SPDXRef-DOCUMENT``, 6.3), each package's name (7.1) and usable element ids (7.2)."""
    if sd.document_id_given != "SPDXRef-DOCUMENT":
        what = (
            "is missing"
            if sd.document_id_given is None
            else ("is empty" if not sd.document_id_given.strip() else "is not SPDXRef-DOCUMENT")
        )
        raise InputError(
            doc.source,
            f"the document's SPDXID {what}: SPDX 2.3 (6.3) requires SPDXRef-DOCUMENT, so its "
            "relationships cannot be resolved and it is no SBOM evidence",
            path="$.SPDXID",
            hint=_SPDX_HINT,
        )
    for pkg in sd.packages:
        if pkg.name is None:
            raise InputError(
                doc.source,
                "a package has no name, which SPDX 2.3 (7.1 PackageName) requires: it is no SBOM evidence",
                path=pkg.path,
                hint=_SPDX_HINT,
            )
        if pkg.spdx_id is not None and not _ID.match(pkg.spdx_id):
            if _ID_UNUSABLE.search(pkg.spdx_id) or not pkg.spdx_id.startswith("SPDXRef-"):
                raise InputError(
                    doc.source,
                    "a package's SPDXID is not an SPDX element id (SPDX 2.3 7.2: 'SPDXRef-' then letters, "
                    f"digits, '.' and '-'; this one is {shape_of(pkg.spdx_id)}): it is no SBOM evidence",
                    path=pkg.path,
                    hint=_SPDX_HINT,
                )
            tally.add(
                "bad-id",
                pkg.path,
                "package SPDXID has characters SPDX 2.3 (7.2) does not allow (letters, digits, '.' and '-' only)",
            )


def _normalise(doc: Artefact, sd: _SpdxDoc, problems: Problems | None = None) -> Parsed:
    """Turn the common shape of either serialisation into the ``sbom`` record."""
    problems = problems if problems is not None else Problems(doc.source)
    tally = Tally(problems)
    _check_ids(doc, sd, tally)
    effective_at = sbom_timestamp(doc, sd.created, sd.created_path, problems)
    if sd.created is None:
        problems.add(sd.created_path, "the document does not say when it was created")

    tools = [split_tool(c.split(":", 1)[1]) for c in sd.creators if c.startswith("Tool:")]

    by_id = {p.spdx_id: p for p in sd.packages if p.spdx_id}
    files = {f.spdx_id: f for f in sd.files if f.spdx_id}
    described: list[str] = []
    for element in sd.describes:
        if element not in described:
            described.append(element)
    for a, kind, b in sd.relationships:
        target = b if kind == "DESCRIBES" and a == sd.document_id else None
        if kind == "DESCRIBED_BY" and b == sd.document_id:
            target = a
        if target is not None and target not in described:
            described.append(target)

    described_packages = [d for d in described if d in by_id]
    subject_pkg = by_id[described_packages[0]] if described_packages else None
    subject: dict[str, Any]
    if subject_pkg is not None:
        hashes = _hashes(doc, subject_pkg.checksums)
        purpose = subject_pkg.purpose.lower() if subject_pkg.purpose else None
        subject = {
            "name": subject_pkg.name,
            "version": subject_pkg.version,
            "purl": subject_pkg.purl,
            "digest": subject_digest(hashes, subject_pkg.purl, subject_pkg.version, purpose),
        }
        if len(described_packages) > 1:
            problems.add(
                "$",
                f"describes {len(described_packages)} packages; the first one it names is taken as "
                "the subject and the others are listed as components",
            )
    elif described and described[0] in files:
        described_file = files[described[0]]
        hashes = _hashes(doc, described_file.checksums)
        subject = {
            "name": described_file.name,
            "version": None,
            "purl": None,
            "digest": subject_digest(hashes, None, None, None),
        }
    else:
        subject = empty_subject()
        if described:
            problems.add("$", "describes an element that is neither a package nor a file of the document")
        else:
            problems.add(
                "$",
                "does not say what it describes (no documentDescribes and no DESCRIBES relationship): "
                "the subject is unknown",
            )

    components: list[dict[str, Any]] = []
    for pkg in sd.packages:
        if pkg is subject_pkg:
            continue
        comp = make_component(
            pkg.name,
            pkg.version,
            pkg.purl,
            pkg.purpose.lower() if pkg.purpose else None,
            _licenses(pkg),
            _hashes(doc, pkg.checksums),
            pkg.spdx_id,
        )
        check_component(tally, comp, pkg.path)
        if pkg.spdx_id is None:
            tally.add("no-id", pkg.path, "package has no SPDXID")
        components.append(comp)
    if not components:
        problems.add("$", "the document lists no packages besides its subject")

    defined = {sd.document_id, *by_id, *files, *sd.other_ids}
    undefined = sorted(
        {
            ref
            for a, _, b in sd.relationships
            for ref in (a, b)
            if ref not in defined
            and ref not in ("NOASSERTION", "NONE")
            and not ref.startswith("DocumentRef-")
        }
    )
    if undefined:
        problems.add(
            "relationships",
            f"{len(undefined)} element(s) named in relationships are not defined in the document",
        )

    def is_package(ref: str) -> bool:
        """True for a package of this document or an element of another document."""
        return ref in by_id or ref.startswith("DocumentRef-")

    dependencies: dict[str, set[str]] = {}
    for a, kind, b in sd.relationships:
        forward = _EDGES.get(kind)
        if forward is None:
            continue
        src, dst = (a, b) if forward else (b, a)
        if is_package(src) and is_package(dst):
            dependencies.setdefault(src, set()).add(dst)

    tally.flush()
    data = sbom_data(
        spec="spdx",
        spec_version=sd.version,
        serial_number=sd.namespace,
        subject=subject,
        tools=tools,
        components=components,
        dependencies=dependencies,
    )
    return Parsed(
        data=data,
        format_version=sd.version,
        tool=first_tool(tools),
        subject=envelope_subject(subject),
        effective_at=effective_at,
        problems=problems.items,
    )


FORMATS: tuple[Format, ...] = (
    Format(
        name="spdx-json",
        kind=EvidenceKind.SBOM,
        detect=_detect_json,
        parse=_parse_json,
        description="SPDX 2.2/2.3 JSON SBOM (SPDX 3.0 JSON-LD is recognised and refused)",
    ),
    Format(
        name="spdx-tag-value",
        kind=EvidenceKind.SBOM,
        detect=_detect_tag_value,
        parse=_parse_tag_value,
        description="SPDX 2.x tag-value SBOM",
    ),
)
