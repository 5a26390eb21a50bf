"""Read control matrices and the crosswalk from YAML, checking their structure.

The built-in matrices live in ``affidavit.resources.builtin_controls_dir()`` (the repository's
``controls/`` in a checkout, package data in a wheel); users add their own with ``--controls``.
A user's matrix for a framework that is already built in replaces the built-in one. A matrix
file is the one place that names a framework: its id, its label, where it is shown among the
others, its controls and which rules test each one. Adding a framework is adding a file.

The shape checked here is the one ``schemas/control-matrix.schema.json`` states for machines (a
test validates the built-in matrices with ``jsonschema`` too). It is checked in plain Python so
that ``jsonschema`` is not a runtime dependency, and so that every problem of a file is reported
at once, each naming the file, the control and the field.

Reading the YAML of the built-in matrices and the crosswalk costs about 0.1 s a run, so the parsed
document of each file is kept in the user cache (``affidavit.cache``) under the sha256 of
its bytes, PyYAML's version and affidavit's code, and every check above runs on it as on a freshly
parsed one. A file that does not parse is never stored (its error is raised each time).
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

import yaml

from affidavit.artefact import YamlError, load_yaml, read_user_file
from affidavit.cache import cached
from affidavit.controls.model import (
    CROSSWALK_SCHEMA,
    MATRIX_SCHEMA,
    Control,
    ControlMatrix,
    Coverage,
    Crosswalk,
    CrosswalkPair,
    Tier,
)
from affidavit.errors import ControlMatrixError, InputError
from affidavit.model import EvidenceKind
from affidavit.resources import builtin_controls_dir

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

CROSSWALK_FILE = "crosswalk.yaml"

FRAMEWORK_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
RULE_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
CONTROL_ID_RE = re.compile(r"^\S+$")
LABEL_MAX = 40
"""The longest label: it is printed beside control ids in tables and one-line summaries."""

_MATRIX_KEYS = frozenset({"schema", "framework", "label", "order", "version", "title", "source", "controls"})
_CONTROL_KEYS = frozenset(
    {"id", "title", "description", "coverage", "rules", "evidence", "manual", "note", "group"}
)
_EVIDENCE_KINDS = {k.value: k for k in EvidenceKind}
_COVERAGES = {c.value: c for c in Coverage}


# ---------------------------------------------------------------------------------------------
# Public entry points


def load_matrices(extra: Sequence[Path] = (), include_builtin: bool = True) -> tuple[ControlMatrix, ...]:
    """Every control matrix in force, one per framework, in display order (``display_key``).

    ``extra`` are the user's files (or folders of ``*.yaml`` files). A user matrix for a
    framework that is built in replaces it; two user matrices for one framework are an error,
    because which one wins would depend on argument order. Two frameworks with the same label
    are an error too: a report could not tell them apart.
    """
    builtin: dict[str, ControlMatrix] = {}
    if include_builtin:
        base = builtin_controls_dir()
        for path in _yaml_files(base):
            raw, doc = _read_yaml(path, str(path))
            if _schema_of(doc) == CROSSWALK_SCHEMA:
                continue
            matrix = _parse_matrix(doc, raw, shown=f"controls/{path.name}", where=str(path))
            if matrix.framework in builtin:
                raise ControlMatrixError(
                    f"{path}: a second built-in matrix for framework {matrix.framework!r} "
                    f"(the first is {builtin[matrix.framework].file})"
                )
            builtin[matrix.framework] = matrix

    user: dict[str, ControlMatrix] = {}
    for given in extra:
        explicit = not given.is_dir()
        for path in [given] if explicit else _yaml_files(given):
            raw, doc = _read_yaml(path, str(path))
            if not explicit and _schema_of(doc) == CROSSWALK_SCHEMA:
                continue
            matrix = _parse_matrix(doc, raw, shown=str(path), where=str(path))
            if matrix.framework in user:
                raise ControlMatrixError(
                    f"{path}: another matrix given for framework {matrix.framework!r} "
                    f"({user[matrix.framework].file})",
                    hint="give one matrix per framework with --controls",
                )
            user[matrix.framework] = matrix

    merged = {**builtin, **user}
    labels: dict[str, ControlMatrix] = {}
    kept = [m for name, m in sorted(builtin.items()) if name not in user]
    for matrix in kept + [user[name] for name in sorted(user)]:  # a clash is reported on a user file
        other = labels.setdefault(matrix.label.casefold(), matrix)
        if other is not matrix:
            raise ControlMatrixError(
                f"{matrix.file}: framework {matrix.framework!r} has the same label as framework "
                f"{other.framework!r} ({other.file})",
                hint="give each framework its own 'label', the short name reports show",
            )
    return tuple(sorted(merged.values(), key=lambda m: m.display_key))


def load_matrix(path: Path) -> ControlMatrix:
    """One control matrix file, checked (the file's path is its name in reports)."""
    raw, doc = _read_yaml(path, str(path))
    return _parse_matrix(doc, raw, shown=str(path), where=str(path))


def load_crosswalk(path: Path | None = None) -> Crosswalk:
    """The SOC 2 / ISO 27001 crosswalk (the built-in one unless a file is given)."""
    if path is None:
        path = builtin_controls_dir() / CROSSWALK_FILE
        shown = f"controls/{CROSSWALK_FILE}"
    else:
        shown = str(path)
    raw, doc = _read_yaml(path, str(path))
    return _parse_crosswalk(doc, raw, shown=shown, where=str(path))


def parse_matrix(text: str | bytes, name: str = "<matrix>") -> ControlMatrix:
    """A control matrix from YAML text (``name`` is used in messages and as its ``file``)."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    doc = _parse_yaml(raw, name)
    return _parse_matrix(doc, raw, shown=name, where=name)


# ---------------------------------------------------------------------------------------------
# Reading


def _yaml_files(folder: Path) -> list[Path]:
    """The ``*.yaml``/``*.yml`` files directly in ``folder``, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


def _read_yaml(path: Path, where: str) -> tuple[bytes, Any]:
    """A file's raw bytes and parsed YAML; unreadable files are ``ControlMatrixError``."""
    try:
        raw = read_user_file(path)  # a FIFO, a device or an oversized file is refused unread
    except InputError as exc:
        raise ControlMatrixError(f"{where}: {exc.detail}") from None
    return raw, _parse_yaml(raw, where)


def _parse_yaml(raw: bytes, where: str) -> Any:
    """Parsed YAML of UTF-8 bytes; a syntax error names the line and column. From the user cache
    when the same bytes were parsed before (see the module docstring)."""
    return cached(
        "yaml-document",
        [hashlib.sha256(raw).hexdigest(), yaml.__version__, yaml.__with_libyaml__],
        lambda: _parse_yaml_uncached(raw, where),
        lambda doc: {"document": doc},
        lambda entry: (
            entry["document"] if set(entry) == {"document"} and entry["document"] is not None else None
        ),
    )


def _parse_yaml_uncached(raw: bytes, where: str) -> Any:
    """``_parse_yaml`` without the cache."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ControlMatrixError(
            f"{where}: is not UTF-8 text (byte offset {exc.start})", hint="save the matrix as UTF-8"
        ) from None
    try:
        return load_yaml(text, where)
    except YamlError as exc:
        raise ControlMatrixError(f"{where}: is not valid YAML{exc.at}: {exc.problem}") from None


def _schema_of(doc: Any) -> Any:
    """The document's ``schema`` field, or ``None``."""
    return doc.get("schema") if isinstance(doc, dict) else None


# ---------------------------------------------------------------------------------------------
# Structure checks


class _Problems:
    """Every problem found in one file, reported together in one error."""

    def __init__(self, where: str) -> None:
        """Start an empty list of problems for the file named ``where``."""
        self.where = where
        self.items: list[str] = []

    def add(self, message: str) -> None:
        """Record one problem."""
        self.items.append(message)

    def raise_if_any(self, what: str, hint: str | None = None) -> None:
        """Raise one ``ControlMatrixError`` naming the file and every problem, if any."""
        if not self.items:
            return
        if len(self.items) == 1:
            raise ControlMatrixError(f"{self.where}: {self.items[0]}", hint=hint)
        lines = "\n".join(f"  - {item}" for item in self.items)
        raise ControlMatrixError(
            f"{self.where}: {len(self.items)} problems in the {what}:\n{lines}", hint=hint
        )


def _text(value: Any, field: str, where: str, problems: _Problems, *, required: bool) -> str | None:
    """A required or optional non-empty string field, recording a problem when it is not one."""
    if value is None:
        if required:
            problems.add(f"{where}field {field!r} is missing")
        return None
    if not isinstance(value, str):
        hint = " (quote it)" if isinstance(value, int | float | bool) else ""
        problems.add(f"{where}field {field!r} must be a string, not {_type_name(value)}{hint}")
        return None
    if not value.strip():
        problems.add(f"{where}field {field!r} is empty")
        return None
    return value.strip()


def _string_list(value: Any, field: str, where: str, problems: _Problems) -> list[str]:
    """A list of distinct non-empty strings (absent means empty), recording problems."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(f"{where}field {field!r} must be a list, not {_type_name(value)}")
        return []
    out: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            problems.add(f"{where}field {field!r} item {i + 1} must be a non-empty string")
            continue
        if item in out:
            problems.add(f"{where}field {field!r} lists {item!r} twice")
            continue
        out.append(item)
    return out


def _type_name(value: Any) -> str:
    """How a YAML value is named in messages ("a mapping", "a number", ...)."""
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _parse_matrix(doc: Any, raw: bytes, *, shown: str, where: str) -> ControlMatrix:
    """A checked ``ControlMatrix``, or one ``ControlMatrixError`` listing every problem."""
    problems = _Problems(where)
    if not isinstance(doc, dict):
        raise ControlMatrixError(f"{where}: a control matrix must be a YAML mapping, not {_type_name(doc)}")
    schema = doc.get("schema")
    if schema != MATRIX_SCHEMA:
        raise ControlMatrixError(
            f"{where}: field 'schema' is {schema!r}, not {MATRIX_SCHEMA!r}",
            hint=f"a control matrix starts with 'schema: {MATRIX_SCHEMA}'",
        )
    for key in sorted(set(doc) - _MATRIX_KEYS, key=str):
        problems.add(f"unknown field {key!r} (allowed: {', '.join(sorted(_MATRIX_KEYS))})")
    framework = _text(doc.get("framework"), "framework", "", problems, required=True)
    if framework is not None and not FRAMEWORK_RE.match(framework):
        problems.add(f"field 'framework' {framework!r} must be a lower-case name such as 'soc2'")
    label = _text(doc.get("label"), "label", "", problems, required=False)
    if label is not None and (len(label.splitlines()) > 1 or len(label) > LABEL_MAX):
        problems.add(f"field 'label' must be one line of at most {LABEL_MAX} characters, such as 'SOC 2'")
    order = doc.get("order")
    if order is not None and (isinstance(order, bool) or not isinstance(order, int)):
        what = "a fraction" if isinstance(order, float) else _type_name(order)
        problems.add(f"field 'order' must be a whole number, not {what}")
        order = None
    elif order is not None and order < 0:
        problems.add("field 'order' must be 0 or more")
        order = None
    version = _text(doc.get("version"), "version", "", problems, required=True)
    title = _text(doc.get("title"), "title", "", problems, required=True)
    source = _text(doc.get("source"), "source", "", problems, required=False)

    controls: list[Control] = []
    seen: dict[str, int] = {}
    items = doc.get("controls")
    if not isinstance(items, list) or not items:
        problems.add("field 'controls' must be a non-empty list of controls")
        items = []
    for position, item in enumerate(items, start=1):
        control = _parse_control(item, position, problems)
        if control is None:
            continue
        if control.id in seen:
            problems.add(
                f"control {control.id}: duplicate control id (controls {seen[control.id]} and {position})"
            )
            continue
        seen[control.id] = position
        controls.append(control)

    problems.raise_if_any("control matrix")
    return ControlMatrix(
        framework=framework or "",
        version=version or "",
        title=title or "",
        controls=tuple(controls),
        file=shown,
        sha256=hashlib.sha256(raw).hexdigest(),
        source=source,
        label=label or "",
        order=order,
    )


def _parse_control(item: Any, position: int, problems: _Problems) -> Control | None:
    """One checked control, or ``None`` when it has problems (they are recorded)."""
    if not isinstance(item, dict):
        problems.add(f"control {position}: must be a mapping, not {_type_name(item)}")
        return None
    raw_id = item.get("id")
    if not isinstance(raw_id, str) or not CONTROL_ID_RE.match(raw_id):
        problems.add(f"control {position}: field 'id' must be a string without spaces (got {raw_id!r})")
        return None
    cid = raw_id
    at = f"control {cid}: "
    for key in sorted(set(item) - _CONTROL_KEYS, key=str):
        problems.add(f"{at}unknown field {key!r} (allowed: {', '.join(sorted(_CONTROL_KEYS))})")
    count = len(problems.items)
    title = _text(item.get("title"), "title", at, problems, required=True)
    description = _text(item.get("description"), "description", at, problems, required=True)
    manual = _text(item.get("manual"), "manual", at, problems, required=False)
    note = _text(item.get("note"), "note", at, problems, required=False)
    group = _text(item.get("group"), "group", at, problems, required=False)

    coverage: Coverage | None = None
    raw_coverage = item.get("coverage")
    if raw_coverage is None:
        problems.add(f"{at}field 'coverage' is missing (one of {', '.join(_COVERAGES)})")
    elif not isinstance(raw_coverage, str) or raw_coverage not in _COVERAGES:
        problems.add(f"{at}field 'coverage' must be one of {', '.join(_COVERAGES)} (got {raw_coverage!r})")
    else:
        coverage = _COVERAGES[raw_coverage]

    rules = _string_list(item.get("rules"), "rules", at, problems)
    for rule in rules:
        if not RULE_ID_RE.match(rule):
            problems.add(f"{at}field 'rules': {rule!r} is not a rule id such as 'supply_chain.sbom_present'")
    evidence: list[EvidenceKind] = []
    for kind in _string_list(item.get("evidence"), "evidence", at, problems):
        if kind in _EVIDENCE_KINDS:
            evidence.append(_EVIDENCE_KINDS[kind])
        else:
            problems.add(
                f"{at}field 'evidence': {kind!r} is not an evidence kind ({', '.join(sorted(_EVIDENCE_KINDS))})"
            )

    if coverage is not None:
        _check_coverage(coverage, at, rules, evidence, manual, note, problems)
    if len(problems.items) > count or coverage is None or title is None or description is None:
        return None
    return Control(
        id=cid,
        title=title,
        description=description,
        coverage=coverage,
        rules=tuple(rules),
        evidence=tuple(evidence),
        manual=manual,
        note=note,
        group=group,
    )


def _check_coverage(
    coverage: Coverage,
    at: str,
    rules: list[str],
    evidence: list[EvidenceKind],
    manual: str | None,
    note: str | None,
    problems: _Problems,
) -> None:
    """The fields each coverage needs: coverage must say honestly who provides the evidence."""
    if coverage.tested:
        if not rules:
            problems.add(f"{at}coverage {coverage.value} needs field 'rules' (the rules that test it)")
        if coverage is Coverage.PARTIAL and manual is None:
            problems.add(f"{at}coverage partial needs field 'manual' (what a human must provide)")
        if coverage is Coverage.AUTOMATED and manual is not None:
            problems.add(
                f"{at}coverage automated cannot have field 'manual': if a human must provide "
                "something, the coverage is partial"
            )
        return
    if rules:
        problems.add(f"{at}coverage {coverage.value} cannot list 'rules' (use automated or partial)")
    if evidence:
        problems.add(f"{at}coverage {coverage.value} cannot list 'evidence' (no rule reads any)")
    if coverage is Coverage.MANUAL and manual is None:
        problems.add(f"{at}coverage manual needs field 'manual' (what an auditor expects a human to provide)")
    if coverage is Coverage.NOT_COVERED and note is None:
        problems.add(f"{at}coverage not_covered needs field 'note' (why, and who evidences it instead)")


# ---------------------------------------------------------------------------------------------
# Crosswalk


def _parse_crosswalk(doc: Any, raw: bytes, *, shown: str, where: str) -> Crosswalk:
    """A checked ``Crosswalk``, or one ``ControlMatrixError`` listing every problem."""
    problems = _Problems(where)
    if not isinstance(doc, dict) or doc.get("schema") != CROSSWALK_SCHEMA:
        raise ControlMatrixError(
            f"{where}: is not a crosswalk",
            hint=f"a crosswalk file starts with 'schema: {CROSSWALK_SCHEMA}'",
        )
    frameworks = _string_list(doc.get("frameworks"), "frameworks", "", problems)
    if len(frameworks) != 2:
        problems.add("field 'frameworks' must name exactly two frameworks, e.g. [soc2, iso27001-2022]")
        problems.raise_if_any("crosswalk")
    left_fw, right_fw = frameworks
    relationship = _text(doc.get("relationship"), "relationship", "", problems, required=True)
    pairs: list[CrosswalkPair] = []
    seen: set[tuple[str, str]] = set()
    mappings = doc.get("mappings")
    if not isinstance(mappings, list):
        problems.add("field 'mappings' must be a list")
        mappings = []
    for position, entry in enumerate(mappings, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get(left_fw), str):
            problems.add(f"mapping {position}: must be a mapping with a {left_fw!r} control id")
            continue
        left = entry[left_fw]
        targets = entry.get(right_fw) or []
        if not isinstance(targets, list):
            problems.add(f"mapping {left}: field {right_fw!r} must be a list")
            continue
        for target in _pair_items(targets, left, problems):
            key = (left, target.right)
            if key in seen:
                problems.add(f"mapping {left}: {target.right} is listed twice")
                continue
            seen.add(key)
            pairs.append(target)
    problems.raise_if_any("crosswalk")
    return Crosswalk(
        frameworks=(left_fw, right_fw),
        relationship=relationship or "",
        pairs=tuple(pairs),
        file=shown,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def _pair_items(targets: Iterable[Any], left: str, problems: _Problems) -> Iterable[CrosswalkPair]:
    """The checked counterparts of one left-hand control."""
    tiers = {t.value: t for t in Tier}
    for item in targets:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            problems.add(f"mapping {left}: every counterpart needs an 'id'")
            continue
        tier = item.get("tier")
        if tier not in tiers:
            problems.add(f"mapping {left} -> {item['id']}: field 'tier' must be one of {', '.join(tiers)}")
            continue
        via = item.get("via") or []
        primary = item.get("primary", False)
        if (
            not isinstance(via, list)
            or not all(isinstance(v, str) for v in via)
            or not isinstance(primary, bool)
        ):
            problems.add(
                f"mapping {left} -> {item['id']}: 'via' must be a list of source codes, 'primary' a boolean"
            )
            continue
        yield CrosswalkPair(left=left, right=item["id"], tier=tiers[tier], via=tuple(via), primary=primary)
