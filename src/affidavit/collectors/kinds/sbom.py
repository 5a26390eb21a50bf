"""The shared vocabulary of ``sbom`` evidence: the data shape, subjects, tools, times, oddities.

The CycloneDX and SPDX collectors read different documents into one ``sbom`` record. What they
share lives here (licence identifiers and hash names live beside it, in ``kinds.licenses``):

* the record's shape: ``sbom_data`` (components, dependencies sorted, completeness counted),
  ``make_component`` (a component's public key order), ``empty_subject``;
* the envelope: ``envelope_subject`` and ``first_tool`` (the first tool the document names);
* the subject's digest (``subject_digest``): its SHA-256 hash, else the digest in a container
  image purl (``pkg:oci``/``pkg:docker`` with ``@sha256:...`` or ``?digest=sha256:...``), else,
  for a ``container`` subject whose version is ``sha256:<64 hex>`` (what syft and grype write),
  that version;
* the creation time (``sbom_timestamp``): read and written by the one timestamp rule of
  ``model.time``, with the SBOM specifications' own requirement of a date *and* a time;
* per-component oddities counted once with their first place (``Tally``, ``check_component``);
* reading the JSON with a truncated file told as such (``load_json``), and recognising a damaged
  file by its markers (``broken_json_mentions``).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from affidavit.collectors.interface import Problems, shape_of
from affidavit.collectors.kinds.licenses import reading
from affidavit.errors import InputError
from affidavit.model import Subject, Tool
from affidavit.model.digest import normalise_digest
from affidavit.model.time import format_utc, parse_timestamp

if TYPE_CHECKING:
    from affidavit.artefact import Artefact

_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(?P<zone>[Zz]|[+-]\d{2}(:?\d{2})?)?$"
)
# Where an image purl names its digest: the version (``@sha256:...``) or a ``digest`` qualifier.
_PURL_DIGEST = re.compile(r"(?:@|[?&]digest=)([^?&#@]*)")


class Tally:
    """Counts one kind of per-component oddity and reports it once, with its first place."""

    def __init__(self, problems: Problems) -> None:
        """Report into ``problems``."""
        self.problems = problems
        self._seen: dict[str, list[Any]] = {}

    def add(self, key: str, path: str, message: str) -> None:
        """Note that the item at ``path`` has the oddity ``key`` (described by ``message``)."""
        entry = self._seen.get(key)
        if entry is None:
            self._seen[key] = [1, path, message]
        else:
            entry[0] += 1

    def flush(self) -> None:
        """Write one problem sentence per kind of oddity seen."""
        for count, path, message in self._seen.values():
            more = f" (and {count - 1} more like it)" if count > 1 else ""
            self.problems.add(path, message + more)
        self._seen.clear()


def sbom_timestamp(doc: Artefact, value: Any, path: str, problems: Problems) -> str | None:
    """An SBOM's creation time in the one written form (``model.time``); a bad one is an ``InputError``.

    CycloneDX (``metadata.timestamp``) and SPDX (``creationInfo.created``) both require an RFC 3339
    date-time: a bare date is refused, a time without a zone is read as UTC with a problem, and a
    placeholder with no digit in it (``redacted``) is an unknown time with a problem.
    """
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else None
    if text is not None and not any(c.isdigit() for c in text):
        # A placeholder with no date in it at all ("redacted", as syft's own test snapshots
        # write): not an attempt at a time, so the record stays readable and the freshness
        # rule gets no time (insufficient evidence) instead of the whole SBOM being refused.
        problems.add(path, "holds a placeholder with no digit, not a time: when the SBOM was made is unknown")
        return None
    match = _TIMESTAMP.match(text) if text else None
    if text is None or match is None:
        raise InputError(
            doc.source,
            f"{shape_of(value)} is not a date-time (RFC 3339 with a time, e.g. 2024-05-01T12:00:00Z)",
            path=path,
            hint="re-generate the SBOM with its tool: affidavit needs the time the SBOM was made "
            "to judge its freshness, and a placeholder or a bare date cannot be trusted",
        )
    moment = parse_timestamp(text, time_required=True)
    if moment is None:
        raise InputError(
            doc.source, "a date-time that does not exist in the calendar (or out of range)", path=path
        )
    if match.group("zone") is None:
        problems.add(path, "the date-time has no time zone; read as UTC")
    return format_utc(moment)


def _named_digest(text: str) -> str | None:
    """``text`` in the written form when it is ``<algorithm>:<hex>`` by the one digest rule, else ``None``.

    The algorithm must be named: bare hex in a version or purl is a version, not a digest.
    """
    if ":" not in text:
        return None
    try:
        return normalise_digest(text)
    except ValueError:
        return None


def purl_digest(purl: str | None) -> str | None:
    """The digest a container image purl (``pkg:oci``/``pkg:docker``) names, else ``None``."""
    if purl is None or not (purl.startswith("pkg:oci/") or purl.startswith("pkg:docker/")):
        return None
    for match in _PURL_DIGEST.finditer(unquote(purl)):
        if digest := _named_digest(match.group(1)):
            return digest
    return None


def subject_digest(
    hashes: dict[str, str], purl: str | None, version: str | None, ctype: str | None
) -> str | None:
    """The subject's digest: its SHA-256 hash, else its image purl's digest, else an image version.

    Each is read by the one digest rule (``model.digest``): a "SHA-256" hash that is not 64 hex
    digits (CycloneDX's pattern allows any of five lengths for any algorithm) is no digest.
    """
    sha = hashes.get("sha-256")
    if sha and (digest := _named_digest(f"sha256:{sha}")):
        return digest
    from_purl = purl_digest(purl)
    if from_purl:
        return from_purl
    if ctype == "container" and version:
        return _named_digest(version)
    return None


def sbom_data(
    *,
    spec: str,
    spec_version: str,
    serial_number: str | None,
    subject: dict[str, Any],
    tools: list[dict[str, str | None]],
    components: list[dict[str, Any]],
    dependencies: dict[str, set[str]],
) -> dict[str, Any]:
    """Assemble the ``sbom`` data mapping (dependencies sorted, completeness counted)."""
    without_version = without_purl = without_license = 0
    for comp in components:
        if comp["version"] is None:
            without_version += 1
        if comp["purl"] is None:
            without_purl += 1
        if not comp["licenses"]:
            without_license += 1
    return {
        "spec": spec,
        "spec_version": spec_version,
        "serial_number": serial_number,
        "subject": subject,
        "tools": tools,
        "components": components,
        "dependencies": [
            {"ref": ref, "depends_on": sorted(dependencies[ref])} for ref in sorted(dependencies)
        ],
        "completeness": {
            "components": len(components),
            "without_version": without_version,
            "without_purl": without_purl,
            "without_license": without_license,
        },
    }


def make_component(
    name: str | None,
    version: str | None,
    purl: str | None,
    ctype: str | None,
    licenses: list[str],
    hashes: dict[str, str],
    bom_ref: str | None,
) -> dict[str, Any]:
    """One component of ``data.components`` (the key order is the public one).

    ``license_choices`` and ``license_unidentified`` are what the licences allow
    (``kinds.licenses.reading``): the sets of ids the licensee can end up under, and the entries
    that are no SPDX id or expression (free-text names).
    """
    choices, unidentified = reading(licenses) if licenses else ([], [])
    return {
        "name": name,
        "version": version,
        "purl": purl,
        "type": ctype,
        "licenses": licenses,
        "license_choices": choices,
        "license_unidentified": unidentified,
        "hashes": hashes,
        "bom_ref": bom_ref,
    }


def check_component(tally: Tally, comp: dict[str, Any], path: str) -> None:
    """Note the non-fatal gaps of one component (no name, a purl that is not a package URL)."""
    if comp["name"] is None:
        tally.add("no-name", path, "component has no name")
    purl = comp["purl"]
    if purl is not None and not purl.startswith("pkg:"):
        tally.add("bad-purl", path, "the purl is not a package URL (pkg:type/name@version)")


def empty_subject() -> dict[str, Any]:
    """A subject the document did not name."""
    return {"name": None, "version": None, "purl": None, "digest": None}


def envelope_subject(subject: dict[str, Any]) -> Subject:
    """The envelope's subject from ``data.subject``."""
    return Subject(name=subject["name"], version=subject["version"], digest=subject["digest"])


def first_tool(tools: list[dict[str, str | None]]) -> Tool | None:
    """The envelope's tool: the first one the document names."""
    for tool in tools:
        if tool["name"]:
            return Tool(name=tool["name"], version=tool["version"])
    return None


def load_json(doc: Artefact, label: str) -> Any:
    """``doc.json()``, with a JSON error at the end of the file reported as a truncated ``label``.

    ``Artefact.json`` calls a file truncated only when the parser stops within a few bytes of the
    end; a file cut inside a string ("Unterminated string starting at ...") is also cut short,
    and says so here.
    """
    try:
        return doc.json()
    except InputError as exc:
        try:
            json.loads(doc.text)
        except json.JSONDecodeError as err:
            rest = doc.text[err.pos :].strip()
            if err.msg.startswith("Unterminated string") or not rest:
                raise InputError(
                    doc.source,
                    f"{label} JSON ends early at line {err.lineno} column {err.colno} ({err.msg}): "
                    "the file looks truncated; re-run the tool that wrote it",
                ) from None
        except (InputError, RecursionError, ValueError):
            pass
        raise exc from None


def broken_json_mentions(doc: Artefact, *markers: str) -> bool:
    """True when ``doc`` starts like JSON, does not parse, and its head has every marker."""
    if not doc.looks_like_json or doc.try_json() is not None:
        return False
    head = doc.head
    return all(m in head for m in markers)
