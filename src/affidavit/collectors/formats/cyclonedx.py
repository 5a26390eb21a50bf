"""CycloneDX SBOMs, JSON and XML, specification 1.0 to 1.7 -> ``sbom`` evidence.

What is read
    ``specVersion`` (JSON) or the namespace ``http://cyclonedx.org/schema/bom/1.x`` (XML);
    ``serialNumber``; ``metadata.timestamp`` (``effective_at``); ``metadata.tools`` in both its
    shapes (1.2-1.4: a list of tools; 1.5+: an object with ``components`` and ``services``: the
    first tool is the envelope's ``tool``, all of them are in ``data.tools``);
    ``metadata.component`` (the subject); every component, nested ``components`` flattened in
    document order (pre-order: a component, then its sub-components, then its next sibling;
    sub-components of ``metadata.component`` come first); ``dependencies``. Pedigree ancestors,
    descendants and variants are history, not inventory, and are not components.

    The subject's ``digest`` is ``sha256:<hex>`` from its SHA-256 hash; else from a container
    image purl (``pkg:oci``/``pkg:docker`` with ``@sha256:...`` or ``?digest=sha256:...``);
    else, for a ``container`` subject whose version is itself ``sha256:<64 hex>`` (what syft and
    grype write: the image's manifest digest), from that version.

What is checked on the gate's path (an ``InputError`` naming the file and the place)
    ``bomFormat`` is ``CycloneDX`` (a JSON BOM without ``bomFormat`` is read, with a problem);
    the specification version is one of 1.0-1.7; ``metadata.timestamp`` is a date-time with a
    time (RFC 3339; a missing zone is read as UTC, with a problem); every component ``type`` is
    one the document's version defines; every hash algorithm is one the document's version
    defines and every hash value is hexadecimal of a length the specification allows; the
    containers the rules walk (``components``, ``hashes``, ``licenses``, ``dependencies``) have
    the right JSON types. In XML, a DOCTYPE (and so any entity declaration) is refused before
    parsing, so that entity expansion cannot exhaust memory. Nothing else of the schema is
    validated: the full validator of cyclonedx-python-lib does not finish on a 20,000-component
    BOM, and its model objects cost 20 s there; this module reads ``doc.json()`` and a streaming
    XML reader directly.

Non-fatal oddities become ``problems``: components without a type or name, purls that are not
package URLs, a BOM that lists no components, a VEX-only BOM (vulnerabilities but no
components: kept as an ``sbom`` record with no components, and said so), a serial number that is
not a ``urn:uuid``, dependencies on refs the BOM does not define.

What this reader shares with the SPDX one (the data shape, subject digests, the creation time,
``Tally``) is the ``sbom`` vocabulary, ``kinds.sbom``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any, cast

from affidavit.artefact import Artefact, gc_paused
from affidavit.collectors.interface import (
    DEFINITE,
    LIKELY,
    NO,
    POSSIBLE,
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

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

KNOWN_VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7")
XML_NAMESPACE = "http://cyclonedx.org/schema/bom/"

_TYPES_1_2 = frozenset(
    {"application", "framework", "library", "container", "operating-system", "device", "firmware", "file"}
)
_TYPES_1_5 = _TYPES_1_2 | {"platform", "device-driver", "machine-learning-model", "data"}
_TYPES_1_6 = _TYPES_1_5 | {"cryptographic-asset"}

# Hex lengths the CycloneDX ``hash-content`` pattern allows (MD5 ... SHA-512).
_HASH_LENGTHS = frozenset({32, 40, 64, 96, 128})
_SERIAL = re.compile(
    r"^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def component_types(spec_version: str) -> frozenset[str]:
    """The component types a CycloneDX version defines (1.0-1.2 share the 1.2 list)."""
    if spec_version in ("1.0", "1.1", "1.2", "1.3", "1.4"):
        return _TYPES_1_2
    if spec_version == "1.5":
        return _TYPES_1_5
    return _TYPES_1_6


# ---------------------------------------------------------------------------------------------
# Reading one BOM (shared by JSON and XML)


class _Reader:
    """State of one BOM being read: its version's vocabularies, problems and dependency graph."""

    def __init__(self, doc: Artefact, spec_version: str) -> None:
        """Prepare to read ``doc`` with the vocabularies of ``spec_version``."""
        self.doc = doc
        self.spec_version = spec_version
        self.types = component_types(spec_version)
        self.algorithms = lic.cyclonedx_hash_algorithms(spec_version)
        self.hash_names = {alg: lic.hash_name(alg) for alg in self.algorithms}
        self.problems = Problems(doc.source)
        self.tally = Tally(self.problems)
        self.components: list[dict[str, Any]] = []
        self.dependencies: dict[str, set[str]] = {}

    def check_type(self, value: Any, path: str) -> str | None:
        """The component type, which must be one this version defines."""
        if value is None:
            self.tally.add("no-type", path, "component has no type")
            return None
        if not isinstance(value, str) or value not in self.types:
            raise InputError(
                self.doc.source,
                f"the component type ({shape_of(value)}) is not one CycloneDX {self.spec_version} defines "
                f"({', '.join(sorted(self.types))})",
                path=path,
            )
        return value

    def add_hash(self, hashes: dict[str, str], alg: Any, content: Any, path: str) -> None:
        """Check one hash and add it to ``hashes`` under its normal name."""
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise InputError(
                self.doc.source,
                f"the hash algorithm ({shape_of(alg)}) is not one CycloneDX {self.spec_version} defines "
                f"({', '.join(sorted(self.algorithms))})",
                path=path,
            )
        if not isinstance(content, str) or not lic.is_hex(content) or len(content) not in _HASH_LENGTHS:
            raise InputError(
                self.doc.source,
                f"the {alg} hash value ({shape_of(content)}) is not 32, 40, 64, 96 or 128 hexadecimal digits",
                path=path,
            )
        hashes.setdefault(lic.hash_name(alg), content.lower())

    def add_dependency(self, ref: str, depends_on: Iterable[str]) -> None:
        """Merge one dependency entry (entries for the same ref are united)."""
        targets = self.dependencies.setdefault(ref, set())
        targets.update(depends_on)

    def finish(
        self,
        *,
        serial: str | None,
        serial_path: str,
        subject: dict[str, Any] | None,
        subject_path: str,
        tools: list[dict[str, str | None]],
        effective_at: str | None,
        vulnerabilities: int,
        dependencies_path: str,
    ) -> Parsed:
        """Build the ``Parsed`` record once every part has been read."""
        problems = self.problems
        if serial is not None and not _SERIAL.match(serial):
            problems.add(serial_path, f"the serial number ({shape_of(serial)}) is not a urn:uuid")
        if subject is None:
            problems.add(subject_path, "the BOM does not name its subject (metadata.component)")
            subject = empty_subject()
        if not self.components:
            if vulnerabilities:
                problems.add(
                    "$",
                    f"is a VEX document ({vulnerabilities} vulnerability statements and no components): "
                    "it is kept as an SBOM with no components, and its vulnerability statements are not read",
                )
            else:
                problems.add("$", "the BOM lists no components")
        known = {c["bom_ref"] for c in self.components if c["bom_ref"]}
        if subject.get("_ref"):
            known.add(subject["_ref"])
        subject.pop("_ref", None)
        if known:
            dangling = sorted(
                {t for ref, deps in self.dependencies.items() for t in (ref, *deps) if t not in known}
            )
            if dangling:
                problems.add(
                    dependencies_path,
                    f"{len(dangling)} dependency ref(s) name no component of this BOM",
                )
        self.tally.flush()
        data = sbom_data(
            spec="cyclonedx",
            spec_version=self.spec_version,
            serial_number=serial,
            subject=subject,
            tools=tools,
            components=self.components,
            dependencies=self.dependencies,
        )
        return Parsed(
            data=data,
            format_version=self.spec_version,
            tool=first_tool(tools),
            subject=envelope_subject(subject),
            effective_at=effective_at,
            problems=problems.items,
        )


def _check_version(doc: Artefact, value: Any, path: str) -> str:
    """The CycloneDX version named by ``value``, which must be a known one."""
    if not isinstance(value, str):
        raise InputError(
            doc.source,
            f'specVersion must be a string such as "1.6", found {json_type(value)}',
            path=path,
        )
    if value not in KNOWN_VERSIONS:
        raise InputError(
            doc.source,
            f"specVersion is {shape_of(value)}, not a CycloneDX version affidavit reads "
            f"({', '.join(KNOWN_VERSIONS)})",
            path=path,
            hint="a newer CycloneDX version needs a newer affidavit",
        )
    return value


# ---------------------------------------------------------------------------------------------
# JSON


def _detect_json(doc: Artefact) -> int:
    """Score a document as CycloneDX JSON (``bomFormat``, or ``specVersion`` with components)."""
    if not doc.looks_like_json:
        return NO
    value = doc.try_json()
    if value is None and broken_json_mentions(doc, '"bomFormat"', '"CycloneDX"'):
        return LIKELY  # a damaged CycloneDX file: its parser says what is wrong with it
    if not isinstance(value, dict):
        return NO
    if value.get("bomFormat") == "CycloneDX":
        return DEFINITE
    if "specVersion" in value and ("bomFormat" in value or "components" in value):
        return LIKELY
    return NO


def _json_licenses(reader: _Reader, value: Any, path: str) -> list[str]:
    """The licences of one component (``$..licenses``), normalised (see ``_licenses``)."""
    out: list[str] = []
    if type(value) is not list:
        require_list(reader.doc, value, path)
    for i, entry in enumerate(value):
        if type(entry) is not dict:
            require_mapping(reader.doc, entry, f"{path}[{i}]")
        expression = entry.get("expression")
        lic_obj = entry.get("license")
        if type(expression) is str:
            lic.add_unique(out, lic.from_expression(expression))
            if lic_obj is None:
                continue
            # CycloneDX 1.6 allows one of the two per entry; both are kept (neither is dropped)
            reader.tally.add(
                "license-and-expression",
                f"{path}[{i}]",
                "licence entry holds both 'license' and 'expression' (CycloneDX allows one): both are judged",
            )
        if lic_obj is None:
            continue
        if type(lic_obj) is not dict:
            require_mapping(reader.doc, lic_obj, f"{path}[{i}].license")
        lid = lic_obj.get("id")
        if type(lid) is str:
            lic.add_unique(out, lic.from_id(lid))
            continue
        name = lic_obj.get("name")
        if type(name) is str:
            lic.add_unique(out, lic.from_name(name))
    return out


def _json_hashes(reader: _Reader, value: Any, path: str) -> dict[str, str]:
    """The hashes of one component, checked, under their normal names."""
    hashes: dict[str, str] = {}
    if type(value) is not list:
        require_list(reader.doc, value, path)
    names = reader.hash_names
    for i, entry in enumerate(value):
        if type(entry) is not dict:
            require_mapping(reader.doc, entry, f"{path}[{i}]")
        alg = entry.get("alg")
        content = entry.get("content")
        if (
            type(alg) is str
            and alg in names
            and type(content) is str
            and len(content) in _HASH_LENGTHS
            and lic.is_hex(content)
        ):
            name = names[alg]
            if name not in hashes:
                hashes[name] = content.lower()
        else:  # the slow path names what is wrong
            reader.add_hash(hashes, alg, content, f"{path}[{i}]")
    return hashes


def _json_component(reader: _Reader, comp: Any, path: str) -> dict[str, Any]:
    """One component object (without its sub-components); ``path`` is its JSON path."""
    if type(comp) is not dict:
        require_mapping(reader.doc, comp, path)
    ctype = comp.get("type")
    if type(ctype) is not str or ctype not in reader.types:
        ctype = reader.check_type(ctype, f"{path}.type")
    licenses = comp.get("licenses")
    hashes = comp.get("hashes")
    return make_component(
        opt_str(comp.get("name")),
        opt_str(comp.get("version")),
        opt_str(comp.get("purl")),
        ctype,
        [] if licenses is None else _json_licenses(reader, licenses, f"{path}.licenses"),
        {} if hashes is None else _json_hashes(reader, hashes, f"{path}.hashes"),
        opt_str(comp.get("bom-ref")),
    )


def _json_walk(reader: _Reader, items: list[Any], path: str) -> None:
    """Read ``items`` and their nested components, in pre-order, into ``reader.components``."""
    out = reader.components
    tally = reader.tally
    for i, raw in enumerate(items):
        here = f"{path}[{i}]"
        comp = _json_component(reader, raw, here)
        if comp["name"] is None or (comp["purl"] is not None and not comp["purl"].startswith("pkg:")):
            check_component(tally, comp, here)
        out.append(comp)
        nested = raw.get("components")
        if nested is not None:
            _json_walk(reader, require_list(reader.doc, nested, f"{here}.components"), f"{here}.components")


def _json_tools(doc: Artefact, value: Any, problems: Problems) -> list[dict[str, str | None]]:
    """Tools from ``metadata.tools``: a list (1.2-1.4) or ``{components, services}`` (1.5+)."""
    entries: list[tuple[str, Any]] = []
    if value is None:
        return []
    if isinstance(value, list):
        entries = [(f"$.metadata.tools[{i}]", t) for i, t in enumerate(value)]
    elif isinstance(value, dict):
        for key in ("components", "services"):
            group = value.get(key)
            if isinstance(group, list):
                entries.extend((f"$.metadata.tools.{key}[{i}]", t) for i, t in enumerate(group))
            elif group is not None:
                problems.add(f"$.metadata.tools.{key}", f"expected an array, found {json_type(group)}")
    else:
        problems.add("$.metadata.tools", f"expected an array or an object, found {json_type(value)}")
        return []
    tools: list[dict[str, str | None]] = []
    for path, tool in entries:
        if not isinstance(tool, dict):
            problems.add(path, f"a tool should be an object, found {json_type(tool)}")
            continue
        name = opt_str(tool.get("name"))
        if name is None:
            problems.add(path, "tool has no name")
            continue
        tools.append({"name": name, "version": opt_str(tool.get("version"))})
    return tools


def _json_subject(reader: _Reader, value: Any) -> dict[str, Any] | None:
    """The subject from ``metadata.component`` (its nested components join the list)."""
    if value is None:
        return None
    path = "$.metadata.component"
    comp = _json_component(reader, value, path)
    nested = value.get("components")
    if nested is not None:
        _json_walk(reader, require_list(reader.doc, nested, f"{path}.components"), f"{path}.components")
    return {
        "name": comp["name"],
        "version": comp["version"],
        "purl": comp["purl"],
        "digest": subject_digest(comp["hashes"], comp["purl"], comp["version"], comp["type"]),
        "_ref": comp["bom_ref"],
    }


def _parse_json(doc: Artefact, options: CollectOptions) -> Parsed:
    """Read a CycloneDX JSON BOM (the cyclic GC is paused: the tree has no cycles to find)."""
    bom = require_mapping(doc, load_json(doc, "CycloneDX"), "$")
    with gc_paused():
        return _read_json(doc, bom)


def _read_json(doc: Artefact, bom: dict[str, Any]) -> Parsed:
    """Read the parsed BOM ``bom`` into a record."""
    bom_format = bom.get("bomFormat")
    errors: list[tuple[str, str]] = []
    hint: str | None = None
    if bom_format is not None and bom_format != "CycloneDX":
        errors.append(
            (
                "$.bomFormat",
                f'bomFormat is {shape_of(bom_format)}, not "CycloneDX": this is not a CycloneDX BOM',
            )
        )
    try:
        spec_version = _check_version(doc, bom.get("specVersion"), "$.specVersion")
    except InputError as exc:
        errors.append(("$.specVersion", exc.detail))
        hint = exc.hint
        spec_version = ""
    if errors:  # both header problems are told at once
        raise InputError(
            doc.source,
            "; ".join(msg if i == 0 else f"{p}: {msg}" for i, (p, msg) in enumerate(errors)),
            path=errors[0][0],
            hint=hint,
        )
    reader = _Reader(doc, spec_version)
    if bom_format is None:
        reader.problems.add(
            "$.bomFormat", "is missing; read as CycloneDX because the document has specVersion and components"
        )
    metadata_raw = bom.get("metadata")
    metadata = {} if metadata_raw is None else require_mapping(doc, metadata_raw, "$.metadata")
    effective_at = sbom_timestamp(doc, metadata.get("timestamp"), "$.metadata.timestamp", reader.problems)
    tools = _json_tools(doc, metadata.get("tools"), reader.problems)
    subject = _json_subject(reader, metadata.get("component"))

    components = bom.get("components")
    if components is not None:
        _json_walk(reader, require_list(doc, components, "$.components"), "$.components")

    deps = bom.get("dependencies")
    if deps is not None:
        for i, raw in enumerate(require_list(doc, deps, "$.dependencies")):
            entry = require_mapping(doc, raw, f"$.dependencies[{i}]")
            ref = entry.get("ref")
            if not isinstance(ref, str) or not ref:
                raise InputError(
                    doc.source,
                    f"dependency ref must be a string, found {json_type(ref)}",
                    path=f"$.dependencies[{i}].ref",
                )
            on = entry.get("dependsOn")
            targets: list[str] = []
            if on is not None:
                for j, target in enumerate(require_list(doc, on, f"$.dependencies[{i}].dependsOn")):
                    # 1.2 JSON allowed objects {"ref": ...} in some generators; accept both shapes
                    if isinstance(target, dict):
                        target = target.get("ref")
                    if not isinstance(target, str):
                        raise InputError(
                            doc.source,
                            f"expected a ref string, found {json_type(target)}",
                            path=f"$.dependencies[{i}].dependsOn[{j}]",
                        )
                    targets.append(target)
            reader.add_dependency(ref, targets)

    vulns = bom.get("vulnerabilities")
    return reader.finish(
        serial=opt_str(bom.get("serialNumber")),
        serial_path="$.serialNumber",
        subject=subject,
        subject_path="$.metadata.component",
        tools=tools,
        effective_at=effective_at,
        vulnerabilities=len(vulns) if isinstance(vulns, list) else 0,
        dependencies_path="$.dependencies",
    )


# ---------------------------------------------------------------------------------------------
# XML


def xml_prolog(text: str) -> tuple[str, int]:
    """Walk past the XML declaration, comments, processing instructions and blanks.

    Returns ``("root", i)`` at the root element's ``<``, ``("doctype", i)`` at a ``<!DOCTYPE``
    (or any other markup declaration), ``("eof", i)`` when ``text`` ends first, or ``("text", i)``
    when something that is not markup comes first.
    """
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n\ufeff":
            i += 1
            continue
        if text.startswith("<?", i):
            end = text.find("?>", i + 2)
            if end < 0:
                return ("eof", i)
            i = end + 2
            continue
        if text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            if end < 0:
                return ("eof", i)
            i = end + 3
            continue
        if text.startswith("<!", i):
            return ("doctype", i)
        if ch == "<":
            return ("root", i)
        return ("text", i)
    return ("eof", i)


_ROOT_BOM = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?bom[\s/>]")


def _detect_xml(doc: Artefact) -> int:
    """Score a document as CycloneDX XML: root ``<bom>`` in a CycloneDX namespace."""
    head = doc.head
    if not head.startswith("<"):
        return NO
    state, pos = xml_prolog(head)
    if state == "doctype":
        # a DOCTYPE can hide the root element beyond the sniffed head: look for the namespace
        if doc.encoding == "utf-8":
            found = XML_NAMESPACE.encode() in doc.raw
        else:
            found = XML_NAMESPACE in doc.text
        return LIKELY if found else NO
    if state != "root" or not _ROOT_BOM.match(head, pos):
        return NO
    end = head.find(">", pos)
    start_tag = head[pos:] if end < 0 else head[pos : end + 1]
    return DEFINITE if XML_NAMESPACE in start_tag else POSSIBLE


def _refuse_dtd(doc: Artefact) -> None:
    """Raise an ``InputError`` when the XML prolog declares a DOCTYPE."""
    state, _ = xml_prolog(doc.head)
    if state == "eof":  # the prolog is longer than the sniffed head
        state, _ = xml_prolog(doc.text)
    if state == "doctype":
        raise InputError(
            doc.source,
            "the XML declares a DOCTYPE (a document type definition, where entities are declared): "
            "affidavit refuses DTDs so that entity expansion cannot exhaust memory",
            hint="CycloneDX XML needs no DOCTYPE; remove it (or have the tool write JSON)",
        )


def _text(el: ET.Element | None) -> str | None:
    """The trimmed text of an element, ``None`` when absent or empty."""
    if el is None or el.text is None:
        return None
    value = el.text.strip()
    return value or None


class _XmlBom:
    """Streaming reader of one CycloneDX XML BOM: each top-level component is freed once read.

    Children are visited by a loop over each element (``find``/``iterfind`` with paths go through
    the pure-Python ``ElementPath`` and cost more than the parse on a 20,000-component BOM).
    """

    def __init__(self, doc: Artefact) -> None:
        """Start reading; nothing is parsed until asked."""
        self.doc = doc
        self.reader: _Reader | None = None
        self.q = ""
        self.serial: str | None = None
        self.effective_at: str | None = None
        self.tools: list[dict[str, str | None]] = []
        self.subject: dict[str, Any] | None = None
        self.vulnerabilities = 0
        self.top = 0

    # -- the event loop -------------------------------------------------------------------

    def read(self) -> Parsed:
        """Parse the document in 1 MiB chunks, reading and freeing each part as it completes."""
        parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
        data: bytes | str = self.doc.raw if self.doc.encoding == "utf-8" else self.doc.text
        step = 1 << 20
        depth = 0
        root: ET.Element | None = None
        section: ET.Element | None = None
        offset = 0
        try:
            while True:
                if offset < len(data):
                    parser.feed(data[offset : offset + step])
                    offset += step
                    last = False
                else:
                    parser.close()
                    last = True
                # only start/end events were asked for: each carries an element
                for event, el in cast("Iterator[tuple[str, ET.Element]]", parser.read_events()):
                    if event == "start":
                        if depth == 0:
                            self.root(el)
                            root = el
                        elif depth == 1:
                            section = el
                        depth += 1
                        continue
                    depth -= 1
                    if depth == 2 and section is not None:
                        self.child_of_section(section, el)
                    elif depth == 1 and root is not None:
                        if el.tag == self.q + "metadata":
                            self.metadata(el)
                        root.remove(el)
                if last:
                    break
        except ET.ParseError as exc:
            line, column = exc.position
            truncated = "no element found" in str(exc) or "unclosed token" in str(exc)
            message = (
                f"CycloneDX XML ends early at line {line} column {column}: the file looks truncated; "
                "re-run the tool that wrote it"
                if truncated
                else f"is not well-formed XML: {exc}"
            )
            raise InputError(self.doc.source, message) from None
        reader = self.reader
        assert reader is not None  # root() always runs first
        return reader.finish(
            serial=self.serial,
            serial_path="/bom/@serialNumber",
            subject=self.subject,
            subject_path="/bom/metadata/component",
            tools=self.tools,
            effective_at=self.effective_at,
            vulnerabilities=self.vulnerabilities,
            dependencies_path="/bom/dependencies",
        )

    def root(self, el: ET.Element) -> None:
        """Check the root element and learn the version from its namespace."""
        tag = el.tag
        ns, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
        if local != "bom" or not ns.startswith(XML_NAMESPACE):
            element = "<bom>" if local == "bom" else "another element"
            where = "in another namespace" if ns else "in no namespace"
            raise InputError(
                self.doc.source,
                f"the root element is {element} {where}, not a CycloneDX BOM "
                f"(expected <bom> in {XML_NAMESPACE}1.x)",
                path="/",
            )
        version = ns[len(XML_NAMESPACE) :]
        if version not in KNOWN_VERSIONS:
            raise InputError(
                self.doc.source,
                f"the CycloneDX XML namespace names a version ({shape_of(version)}) affidavit does "
                f"not read ({', '.join(KNOWN_VERSIONS)})",
                path="/bom",
            )
        q = "{" + ns + "}"
        self.q = q
        self.t_component = q + "component"
        self.t_components = q + "components"
        self.t_name = q + "name"
        self.t_version = q + "version"
        self.t_purl = q + "purl"
        self.t_hashes = q + "hashes"
        self.t_hash = q + "hash"
        self.t_licenses = q + "licenses"
        self.t_license = q + "license"
        self.t_id = q + "id"
        self.t_expression = q + "expression"
        self.t_dependency = q + "dependency"
        self.reader = _Reader(self.doc, version)
        self.serial = opt_str(el.get("serialNumber"))

    def child_of_section(self, parent: ET.Element, el: ET.Element) -> None:
        """A complete element two levels down: a component or dependency is read and freed."""
        q = self.q
        reader = self.reader
        assert reader is not None
        ptag = parent.tag
        if ptag == self.t_components:
            if el.tag == self.t_component:
                self.top += 1
                self.walk(el, f"/bom/components/component[{self.top}]")
            parent.remove(el)
        elif ptag == q + "dependencies":
            if el.tag == self.t_dependency:
                ref = el.get("ref")
                if not ref:
                    raise InputError(
                        self.doc.source, "dependency has no ref", path="/bom/dependencies/dependency"
                    )
                t_dep = self.t_dependency
                reader.add_dependency(ref, [r for d in el if d.tag == t_dep and (r := d.get("ref"))])
            parent.remove(el)
        elif ptag == q + "vulnerabilities":
            if el.tag == q + "vulnerability":
                self.vulnerabilities += 1
            parent.remove(el)
        elif ptag != q + "metadata":
            parent.remove(el)

    # -- parts ----------------------------------------------------------------------------

    def metadata(self, el: ET.Element) -> None:
        """Timestamp, tools and subject from ``<metadata>``."""
        q = self.q
        reader = self.reader
        assert reader is not None
        stamp = el.find(q + "timestamp")
        if stamp is not None:
            self.effective_at = sbom_timestamp(
                self.doc, (stamp.text or "").strip(), "/bom/metadata/timestamp", reader.problems
            )
        tools = el.find(q + "tools")
        if tools is not None:
            for path, tool in self._tool_elements(tools):
                name = _text(tool.find(self.t_name))
                if name is None:
                    reader.problems.add(path, "tool has no name")
                    continue
                self.tools.append({"name": name, "version": _text(tool.find(self.t_version))})
        subject = el.find(self.t_component)
        if subject is not None:
            path = "/bom/metadata/component"
            comp, nested = self.component(subject, path)
            self.subject = {
                "name": comp["name"],
                "version": comp["version"],
                "purl": comp["purl"],
                "digest": subject_digest(comp["hashes"], comp["purl"], comp["version"], comp["type"]),
                "_ref": comp["bom_ref"],
            }
            self.nested(nested, path)

    def _tool_elements(self, tools: ET.Element) -> Iterator[tuple[str, ET.Element]]:
        """Every tool element with its path: legacy ``<tool>`` and 1.5+ components and services."""
        q = self.q
        for i, tool in enumerate(tools.findall(q + "tool"), 1):
            yield f"/bom/metadata/tools/tool[{i}]", tool
        for key, item in (("components", "component"), ("services", "service")):
            group = tools.find(q + key)
            if group is not None:
                for i, tool in enumerate(group.findall(q + item), 1):
                    yield f"/bom/metadata/tools/{key}/{item}[{i}]", tool

    def component(self, el: ET.Element, path: str) -> tuple[dict[str, Any], ET.Element | None]:
        """One ``<component>`` and its ``<components>`` element (read by the caller)."""
        reader = self.reader
        assert reader is not None
        ctype = el.get("type")
        if ctype not in reader.types:
            ctype = reader.check_type(ctype, f"{path}/@type")
        name = version = purl = None
        licenses: list[str] = []
        hashes: dict[str, str] = {}
        nested: ET.Element | None = None
        for child in el:
            tag = child.tag
            if tag == self.t_name:
                name = _text(child)
            elif tag == self.t_version:
                version = _text(child)
            elif tag == self.t_purl:
                purl = _text(child)
            elif tag == self.t_hashes:
                i = 0
                for h in child:
                    if h.tag == self.t_hash:
                        i += 1
                        reader.add_hash(
                            hashes, h.get("alg"), (h.text or "").strip(), f"{path}/hashes/hash[{i}]"
                        )
            elif tag == self.t_licenses:
                self._licenses(child, licenses)
            elif tag == self.t_components:
                nested = child
        comp = make_component(name, version, purl, ctype, licenses, hashes, opt_str(el.get("bom-ref")))
        return comp, nested

    def _licenses(self, el: ET.Element, out: list[str]) -> None:
        """Append the normalised licences of a ``<licenses>`` element to ``out``."""
        for child in el:
            if child.tag == self.t_license:
                lid = _text(child.find(self.t_id))
                if lid is not None:
                    lic.add_unique(out, lic.from_id(lid))
                    continue
                name = _text(child.find(self.t_name))
                if name is not None:
                    lic.add_unique(out, lic.from_name(name))
            elif child.tag == self.t_expression:
                expression = _text(child)
                if expression is not None:
                    lic.add_unique(out, lic.from_expression(expression))

    def walk(self, el: ET.Element, path: str) -> None:
        """A component and, after it, its nested components (pre-order)."""
        reader = self.reader
        assert reader is not None
        comp, nested = self.component(el, path)
        if comp["name"] is None or (comp["purl"] is not None and not comp["purl"].startswith("pkg:")):
            check_component(reader.tally, comp, path)
        reader.components.append(comp)
        self.nested(nested, path)

    def nested(self, components: ET.Element | None, path: str) -> None:
        """The sub-components held in ``components`` (a ``<components>`` element), if any."""
        if components is None:
            return
        i = 0
        for child in components:
            if child.tag == self.t_component:
                i += 1
                self.walk(child, f"{path}/components/component[{i}]")


def _parse_xml(doc: Artefact, options: CollectOptions) -> Parsed:
    """Read a CycloneDX XML BOM, refusing DTDs before the parser sees the document."""
    _refuse_dtd(doc)
    with gc_paused():
        return _XmlBom(doc).read()


FORMATS: tuple[Format, ...] = (
    Format(
        name="cyclonedx-json",
        kind=EvidenceKind.SBOM,
        detect=_detect_json,
        parse=_parse_json,
        description="CycloneDX SBOM, JSON, specification 1.2-1.7",
    ),
    Format(
        name="cyclonedx-xml",
        kind=EvidenceKind.SBOM,
        detect=_detect_xml,
        parse=_parse_xml,
        description="CycloneDX SBOM, XML, specification 1.0-1.7",
    ),
)
