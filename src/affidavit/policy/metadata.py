"""``# METADATA`` annotation blocks, parsed and validated by affidavit itself.

No Rego engine available here implements ``rego.metadata.rule()``/``chain()``, so the annotations
are read from the source text, following OPA's annotation syntax: a comment line ``# METADATA``
starts a block, the comment lines right after it hold YAML, and the block belongs to the statement
directly below it. A block directly before ``package`` (or any block with ``scope: package``) is the
package's annotation; blocks before rules are checked for valid YAML and known keys only.

Rule packages are ``package affidavit.rules.<id>`` for the built-in library and
``package affidavit.org.<id>`` for an organisation's own rules (``--policies``): the rule id is the
package path after that prefix (``rule_prefix``). Every rule package must carry, in its package
annotation:

=======================  ===================================================================
``title``                one line
``description``          what the rule checks and why
``custom.id``            the rule id: the package path after the prefix (stable; the matrices use it)
``custom.severity``      ``critical``, ``high``, ``medium`` or ``low``
``custom.requires``      evidence kinds without which the rule is ``insufficient_evidence`` (may be ``[]``)
``custom.controls``      ``{soc2: [CC8.1, ...], iso27001-2022: [A.8.32, ...]}`` (at least one control)
``custom.remediation``   what to do when the rule fails
``custom.effective_on``  optional date; before it a ``deny`` only warns (grace period)
``custom.environments``  optional list; outside them the rule is ``not_applicable``
``custom.cites``         optional evidence kinds a rule that requires none stands on when its messages
                         cite nothing (a pass): the report cites those records, not every file
=======================  ===================================================================

Any problem is a ``PolicyError`` naming ``file:line``.

``custom.controls`` is checked here for its shape only (framework ids and control ids that could
exist). Which frameworks and controls do exist is the control matrices' business: the gate checks
the METADATA against them (``affidavit.controls.validate``) before anything is evaluated, so this
module names no framework.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from affidavit.artefact import YamlError, load_yaml
from affidavit.errors import PolicyError
from affidavit.model import EvidenceKind, Severity

if TYPE_CHECKING:
    from collections.abc import Mapping

#: The namespace of affidavit's own (built-in) rule packages, and of its built-in helpers.
RULES_PREFIX = "affidavit.rules."
LIB_PREFIX = "affidavit.lib."
#: The namespace of an organisation's own rule packages (``--policies``).
ORG_PREFIX = "affidavit.org."
#: The root package affidavit reserves: nothing of a user's may sit in it outside ``ORG_PREFIX``.
RESERVED_ROOT = "affidavit"

_METADATA = re.compile(r"^\s*#\s*METADATA\s*$")
_COMMENT = re.compile(r"^\s*#(?P<text>.*)$")
_PACKAGE = re.compile(r"^\s*package\s")
# OPA's annotation keys; anything else is a mistake OPA itself would reject.
_TOP_KEYS = frozenset(
    {
        "scope",
        "title",
        "description",
        "related_resources",
        "authors",
        "organizations",
        "schemas",
        "entrypoint",
        "custom",
    }
)
_SCOPES = frozenset({"package", "subpackages", "rule", "document"})
_CUSTOM_KEYS = (
    "id",
    "severity",
    "requires",
    "controls",
    "remediation",
    "effective_on",
    "environments",
    "cites",
)
#: The ``custom`` keys through which affidavit reads a rule's METADATA.
RULE_KEYS = _CUSTOM_KEYS
_REQUIRED_CUSTOM = ("id", "severity", "requires", "controls", "remediation")
RULE_SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
#: The shape of a framework id (a matrix's ``framework``) and of a control id. The control
#: matrix loader states the same shapes; a test keeps the two in step.
FRAMEWORK_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
CONTROL_ID_RE = re.compile(r"^\S+$")


@dataclass(frozen=True, slots=True)
class MetadataBlock:
    """One ``# METADATA`` block: where it is, the statement it annotates, and its parsed YAML."""

    file: str
    line: int
    lines: tuple[str, ...]
    data: Mapping[str, Any]
    target: str  # "package" or "rule"

    def key_line(self, *keys: str) -> int:
        """The file line where the innermost of ``keys`` is written (the block's line when not found)."""
        want = keys[-1]
        pattern = re.compile(rf"^\s*{re.escape(want)}\s*:")
        for offset, text in enumerate(self.lines, start=1):
            if pattern.match(text):
                return self.line + offset
        return self.line

    def error(self, message: str, *keys: str, hint: str | None = None) -> PolicyError:
        """A ``PolicyError`` located at ``file:line`` of the key (or of the block)."""
        line = self.key_line(*keys) if keys else self.line
        return PolicyError(f"{self.file}:{line}: METADATA: {message}", hint=hint)


@dataclass(frozen=True, slots=True)
class RuleAnnotations:
    """The validated package annotation of one rule package."""

    id: str
    title: str
    description: str
    severity: Severity
    requires: tuple[EvidenceKind, ...]
    controls: Mapping[str, tuple[str, ...]]
    remediation: str
    effective_on: dt.date | None = None
    environments: tuple[str, ...] | None = None
    line: int = 0
    cites: tuple[EvidenceKind, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


def parse_blocks(file: str, text: str) -> list[MetadataBlock]:
    """Every ``# METADATA`` block of a module, with its YAML parsed; malformed YAML is a ``PolicyError``."""
    lines = text.splitlines()
    blocks: list[MetadataBlock] = []
    i = 0
    while i < len(lines):
        if not _METADATA.match(lines[i]):
            i += 1
            continue
        start = i + 1  # 1-based line of "# METADATA"
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            match = _COMMENT.match(lines[j])
            if match is None:
                break
            body.append(match.group("text"))
            j += 1
        following = lines[j] if j < len(lines) else ""
        if not following.strip():
            raise PolicyError(
                f"{file}:{start}: METADATA block is not directly followed by a package or rule",
                hint="remove the blank line between the comment block and the statement it describes",
            )
        target = "package" if _PACKAGE.match(following) else "rule"
        block_text = textwrap.dedent("\n".join(body))
        try:
            data = load_yaml(block_text, file, first_line=start + 1) if block_text.strip() else {}
        except YamlError as exc:
            raise PolicyError(
                f"{file}:{exc.line or start + 1}: METADATA is not valid YAML: {exc.problem}",
                hint="each line of the block is a comment ('# key: value') holding YAML",
            ) from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise PolicyError(f"{file}:{start}: METADATA must be a YAML mapping, not {type(data).__name__}")
        block = MetadataBlock(file, start, tuple(body), data, target)
        _check_keys(block)
        blocks.append(block)
        i = j
    return blocks


def _check_keys(block: MetadataBlock) -> None:
    """Refuse keys OPA's annotation syntax does not have, and unknown scopes."""
    for key in block.data:
        if key not in _TOP_KEYS:
            raise block.error(
                f"unknown key {key!r}",
                str(key),
                hint=f"OPA annotation keys are {', '.join(sorted(_TOP_KEYS))}; put your own under 'custom'",
            )
    scope = block.data.get("scope")
    if scope is not None and scope not in _SCOPES:
        raise block.error(f"scope must be one of {', '.join(sorted(_SCOPES))}, not {scope!r}", "scope")


def package_block(blocks: list[MetadataBlock]) -> MetadataBlock | None:
    """The block annotating the package: directly before ``package``, or with ``scope: package``."""
    found = [b for b in blocks if b.target == "package" or b.data.get("scope") == "package"]
    if len(found) > 1:
        raise found[1].error(f"a second package annotation (the first is at line {found[0].line})")
    return found[0] if found else None


def _text(block: MetadataBlock, value: object, *keys: str) -> str:
    """A required non-empty string field."""
    if not isinstance(value, str) or not value.strip():
        raise block.error(f"{'.'.join(keys)} must be a non-empty string", *keys)
    return value.strip()


def _date(block: MetadataBlock, value: object) -> dt.date:
    """``custom.effective_on`` as a date (YAML gives a date for ``2026-01-31``, a string when quoted)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise block.error(
        f"custom.effective_on must be a date (YYYY-MM-DD), not {value!r}", "custom", "effective_on"
    )


def rule_prefix(package: str) -> str | None:
    """The rule namespace ``package`` is a rule package of (``RULES_PREFIX`` or ``ORG_PREFIX``), or None."""
    for prefix in (RULES_PREFIX, ORG_PREFIX):
        if package.startswith(prefix) and len(package) > len(prefix):
            return prefix
    return None


def rule_annotations(
    block: MetadataBlock | None, package: str, file: str, package_line: int
) -> RuleAnnotations:
    """Validate the package annotation of rule package ``package`` (``affidavit.rules.x.y``,
    ``affidavit.org.x.y``)."""
    prefix = rule_prefix(package)
    if prefix is None:
        raise ValueError(f"{package} is not a rule package")
    if block is None:
        raise PolicyError(
            f"{file}:{package_line}: rule package {package} has no METADATA block",
            hint="put a '# METADATA' comment block with title, description and custom fields directly above 'package'",
        )
    rule_id = package[len(prefix) :]
    data = block.data
    title = _text(block, data.get("title"), "title")
    description = _text(block, data.get("description"), "description")
    custom = data.get("custom")
    if not isinstance(custom, dict):
        raise block.error(
            "custom must be a mapping with id, severity, requires, controls and remediation", "custom"
        )
    for key in custom:
        if key in _CUSTOM_KEYS:
            continue
        close = difflib.get_close_matches(str(key), _CUSTOM_KEYS, n=1, cutoff=0.75)
        if close:
            raise block.error(
                f"unknown key custom.{key}; did you mean custom.{close[0]}?", "custom", str(key)
            )
    for key in _REQUIRED_CUSTOM:
        if key not in custom:
            raise block.error(f"custom.{key} is missing", "custom")

    declared = _text(block, custom["id"], "custom", "id")
    if declared != rule_id:
        raise block.error(
            f"custom.id is {declared!r} but the package makes the rule id {rule_id!r}",
            "custom",
            "id",
            hint=f"the id is the package path after '{prefix}'; rename one so they agree",
        )

    severity_raw = custom["severity"]
    allowed = [s.value for s in RULE_SEVERITIES]
    if severity_raw not in allowed:
        raise block.error(
            f"custom.severity must be one of {', '.join(allowed)}, not {severity_raw!r}", "custom", "severity"
        )
    severity = Severity(severity_raw)

    requires_raw = custom["requires"]
    if requires_raw is None:
        requires_raw = []
    if not isinstance(requires_raw, list):
        raise block.error(
            "custom.requires must be a list of evidence kinds (may be empty)", "custom", "requires"
        )
    requires = _kinds(block, requires_raw, "requires")
    cites_raw = custom.get("cites") or []
    if not isinstance(cites_raw, list):
        raise block.error("custom.cites must be a list of evidence kinds", "custom", "cites")
    cites = _kinds(block, cites_raw, "cites")

    controls_raw = custom["controls"]
    if not isinstance(controls_raw, dict) or not controls_raw:
        raise block.error(
            "custom.controls must map a framework to a list of control ids", "custom", "controls"
        )
    controls: dict[str, tuple[str, ...]] = {}
    for framework in sorted(controls_raw, key=str):
        ids = controls_raw[framework]
        if not isinstance(framework, str) or not FRAMEWORK_ID_RE.match(framework):
            raise block.error(
                "custom.controls has a key that is not a framework id",
                "custom",
                str(framework),
                hint="keys are the 'framework' ids of the control matrices: lower-case letters, digits, '.', '_' or '-'",
            )
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise block.error(
                f"custom.controls.{framework} must be a list of control ids", "custom", framework
            )
        for position, control in enumerate(ids, start=1):
            if not CONTROL_ID_RE.match(control):
                raise block.error(
                    f"custom.controls.{framework} item {position} is not a control id (empty or with spaces)",
                    "custom",
                    framework,
                )
        controls[framework] = tuple(dict.fromkeys(ids))
    if not any(controls.values()):
        raise block.error("custom.controls must name at least one control", "custom", "controls")

    remediation = _text(block, custom["remediation"], "custom", "remediation")

    effective_on = _date(block, custom["effective_on"]) if custom.get("effective_on") is not None else None

    environments: tuple[str, ...] | None = None
    if "environments" in custom:
        envs = custom["environments"]
        if not isinstance(envs, list) or not envs or not all(isinstance(e, str) and e for e in envs):
            raise block.error(
                "custom.environments must be a non-empty list of environment names", "custom", "environments"
            )
        environments = tuple(sorted(set(envs)))

    extra = {k: v for k, v in custom.items() if k not in _CUSTOM_KEYS}
    return RuleAnnotations(
        id=rule_id,
        title=title,
        description=description,
        severity=severity,
        requires=tuple(sorted(requires, key=lambda k: k.value)),
        controls=controls,
        remediation=remediation,
        effective_on=effective_on,
        environments=environments,
        line=block.line,
        extra=extra,
        cites=tuple(sorted(cites, key=lambda k: k.value)),
    )


def _kinds(block: MetadataBlock, raw: list[Any], key: str) -> list[EvidenceKind]:
    """The evidence kinds a ``custom.requires`` / ``custom.cites`` list names, each once, in order."""
    kinds = {k.value: k for k in EvidenceKind}
    found: list[EvidenceKind] = []
    for item in raw:
        if item not in kinds:
            raise block.error(
                f"custom.{key} names unknown evidence kind {item!r}",
                "custom",
                key,
                hint=f"evidence kinds are {', '.join(sorted(kinds))}",
            )
        if kinds[item] not in found:
            found.append(kinds[item])
    return found
