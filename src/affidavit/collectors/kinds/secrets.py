"""Redaction of secret-bearing reports before their raw bytes are copied anywhere.

A secret scanner's report is itself a leak: Gitleaks writes the secret, the matched text and the
whole source line; Trivy writes the matched line and the code around it; Gitleaks' SARIF writes the
line as a region snippet. The evidence bundle keeps raw artefacts next to their normalised records,
so those fields are replaced before the copy with a marker that still lets two reports be compared::

    "REDACTED:sha256:<first 12 hex digits of sha256(value)>"

``redact_secret_scan`` rewrites one report; ``secret_values`` lists the secret strings a report
carries (the tests search every output of the collectors for them). Which fields carry secrets:

* Gitleaks v8 JSON (an array of capitalised objects): ``Secret``, ``Match``, ``Line``.
* Gitleaks v6/v7 JSON (an array of camelCase objects): ``offender``, ``line``.
* Trivy JSON (``Results[].Secrets[]``, also inside the legacy top-level array and ``trivy k8s``
  resources): ``Match`` and every ``Code.Lines[].Content`` / ``Highlighted``.
* SARIF whose run was written by a secret scanner (``is_secret_scanner``): every ``snippet`` under a
  result (``text``, ``markdown``, ``rendered``) and the result properties ``offender``, ``secret``,
  ``match`` and ``line`` (any case).

Once those fields are replaced, every other string of the document (commit messages, SARIF
messages, ...) is searched for the secret values found and each occurrence is replaced by the same
marker, so a secret quoted elsewhere does not survive either. Values shorter than
``MIN_SCRUB_LENGTH`` characters are replaced where they are a whole field but not searched for
inside other text (a one-letter "secret" would otherwise shred the report).

The rewrite is deterministic: the same input always gives the same bytes. Key order and structure
are kept. A report in which nothing needed redacting is returned byte for byte unchanged.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from affidavit.artefact import Artefact
from affidavit.errors import InputError

REDACTED_PREFIX = "REDACTED:sha256:"
MIN_SCRUB_LENGTH = 4

# Tool names (lower case, matched as substrings of the SARIF driver name) of secret scanners: their
# SARIF snippets and messages are treated as secret-bearing.
SECRET_SCANNERS: tuple[str, ...] = (
    "gitleaks",
    "trufflehog",
    "detect-secrets",
    "ggshield",
    "gitguardian",
    "secretlint",
    "talisman",
    "noseyparker",
    "nosey parker",
    "kingfisher",
)

_GITLEAKS_FIELDS = ("Secret", "Match", "Line", "offender", "line")
_SARIF_PROPERTY_FIELDS = frozenset({"offender", "secret", "match", "line"})
_SNIPPET_FIELDS = ("text", "markdown", "rendered")


def redaction_marker(value: str) -> str:
    """The marker that replaces ``value``: a short hash prefix, enough to compare, too short to search."""
    return REDACTED_PREFIX + sha256_text(value)[:12]


def sha256_text(value: str) -> str:
    """sha256 hex of a string's UTF-8 bytes (lone surrogates from JSON escapes are kept, not lost)."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def is_secret_scanner(tool_name: str | None) -> bool:
    """True when a tool name (a SARIF driver name) is one of the known secret scanners."""
    if not tool_name:
        return False
    lowered = tool_name.lower()
    return any(name in lowered for name in SECRET_SCANNERS)


def scrub(text: str, secrets: set[str] | frozenset[str]) -> str:
    """``text`` with every occurrence of a secret value replaced by its marker."""
    return SecretIndex(secrets).scrub(text)


class SecretIndex:
    """Finds secrets inside arbitrary text in one left-to-right pass (longest match first).

    Secrets are indexed by their first ``MIN_SCRUB_LENGTH`` characters, so scanning a string costs
    one dictionary lookup per character whatever the number of secrets: linear in the text, where
    one regular expression of 50,000 alternatives takes many seconds just to compile. Secrets
    shorter than ``MIN_SCRUB_LENGTH`` are not searched for.
    """

    def __init__(self, secrets: set[str] | frozenset[str]) -> None:
        """Index ``secrets`` by prefix, longest first within a prefix."""
        by_prefix: dict[str, list[str]] = {}
        for secret in secrets:
            if len(secret) >= MIN_SCRUB_LENGTH:
                by_prefix.setdefault(secret[:MIN_SCRUB_LENGTH], []).append(secret)
        for candidates in by_prefix.values():
            candidates.sort(key=lambda c: (-len(c), c))
        self._by_prefix = by_prefix

    def __bool__(self) -> bool:
        """True when there is at least one secret long enough to search for."""
        return bool(self._by_prefix)

    def scrub(self, text: str) -> str:
        """``text`` with each secret occurrence replaced by its marker (``text`` itself if none)."""
        by_prefix = self._by_prefix
        width = MIN_SCRUB_LENGTH
        n = len(text)
        if not by_prefix or n < width:
            return text
        parts: list[str] = []
        last = i = 0
        while i <= n - width:
            candidates = by_prefix.get(text[i : i + width])
            if candidates is not None:
                for secret in candidates:
                    if text.startswith(secret, i):
                        parts.append(text[last:i])
                        parts.append(redaction_marker(secret))
                        i += len(secret)
                        last = i
                        break
                else:
                    i += 1
            else:
                i += 1
        if not parts:
            return text
        parts.append(text[last:])
        return "".join(parts)


def redact_secret_scan(raw: bytes, source: str = "<report>") -> bytes:
    """Rewrite a secret-bearing report with every secret field replaced by its redaction marker.

    Raises ``InputError`` naming ``source`` when ``raw`` is not JSON: a report that cannot be read
    cannot be redacted, and it is never copied as it is.
    """
    try:
        value = Artefact(source, raw).json()
    except InputError as exc:
        raise InputError(source, f"cannot be redacted: {exc.detail}") from None
    secrets = _redact_fields(value)
    if not secrets:
        return raw
    _scrub_strings(value, secrets)
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8", "surrogatepass")


def secret_values(raw: bytes, source: str = "<report>") -> set[str]:
    """The secret strings a report carries (every non-empty value of a secret-bearing field)."""
    return _redact_fields(Artefact(source, raw).json())


# ---------------------------------------------------------------------------------------------
# Field redaction by report shape


def _redact_fields(value: Any) -> set[str]:
    """Replace the secret fields of ``value`` in place; return the secret strings replaced."""
    secrets: set[str] = set()
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                _redact_keys(item, _GITLEAKS_FIELDS, secrets)
                _redact_trivy_result(item, secrets)
                _redact_trivy_container(item, secrets)
    elif isinstance(value, dict):
        _redact_trivy_container(value, secrets)
        runs = value.get("runs")
        if isinstance(runs, list):
            for run in runs:
                if isinstance(run, dict):
                    _redact_sarif_run(run, secrets)
    return secrets


def _redact_keys(obj: dict[str, Any], keys: tuple[str, ...], secrets: set[str]) -> None:
    """Replace ``obj[key]`` for each of ``keys`` holding a non-empty string."""
    for key in keys:
        field = obj.get(key)
        if isinstance(field, str) and field and not field.startswith(REDACTED_PREFIX):
            secrets.add(field)
            obj[key] = redaction_marker(field)


def _redact_trivy_container(obj: dict[str, Any], secrets: set[str]) -> None:
    """Trivy's ``Results`` (image/fs report) and ``Resources[].Results`` (``trivy k8s``)."""
    for holder in _trivy_result_holders(obj):
        results = holder.get("Results")
        if isinstance(results, list):
            for result in results:
                if isinstance(result, dict):
                    _redact_trivy_result(result, secrets)


def _trivy_result_holders(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The objects that may hold a Trivy ``Results`` array: the report and its k8s resources."""
    holders = [obj]
    for key in ("Resources", "Misconfigurations", "Vulnerabilities"):
        items = obj.get(key)
        if isinstance(items, list):
            holders.extend(item for item in items if isinstance(item, dict))
    return holders


def _redact_trivy_result(result: dict[str, Any], secrets: set[str]) -> None:
    """One Trivy result's ``Secrets[]``: the match and the code lines around it."""
    found = result.get("Secrets")
    if not isinstance(found, list):
        return
    for secret in found:
        if not isinstance(secret, dict):
            continue
        _redact_keys(secret, ("Match", "Secret"), secrets)
        code = secret.get("Code")
        lines = code.get("Lines") if isinstance(code, dict) else None
        if isinstance(lines, list):
            for line in lines:
                if isinstance(line, dict):
                    _redact_keys(line, ("Content", "Highlighted"), secrets)


def _redact_sarif_run(run: dict[str, Any], secrets: set[str]) -> None:
    """A SARIF run written by a secret scanner: result snippets and secret-named properties."""
    tool = run.get("tool")
    driver = tool.get("driver") if isinstance(tool, dict) else None
    name = (
        driver.get("name")
        if isinstance(driver, dict)
        else tool.get("name")
        if isinstance(tool, dict)
        else None
    )
    if not is_secret_scanner(name if isinstance(name, str) else None):
        return
    results = run.get("results")
    if not isinstance(results, list):
        return
    for result in results:
        if not isinstance(result, dict):
            continue
        props = result.get("properties")
        if isinstance(props, dict):
            keys = tuple(k for k in props if k.lower() in _SARIF_PROPERTY_FIELDS)
            _redact_keys(props, keys, secrets)
        _redact_snippets(result, secrets)


def _redact_snippets(root: dict[str, Any], secrets: set[str]) -> None:
    """Every ``snippet`` object anywhere under ``root`` (iterative: results may nest deeply)."""
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                if key == "snippet" and isinstance(child, dict):
                    _redact_keys(child, _SNIPPET_FIELDS, secrets)
                elif key == "snippet" and isinstance(child, str) and child:
                    secrets.add(child)  # SARIF 1.0.0 puts the snippet as a plain string
                    node[key] = redaction_marker(child)
                elif isinstance(child, dict | list):
                    stack.append(child)
        elif isinstance(node, list):
            stack.extend(child for child in node if isinstance(child, dict | list))


def _scrub_strings(root: Any, secrets: set[str]) -> None:
    """Replace secrets quoted inside any other string value of the document (iteratively)."""
    index = SecretIndex(secrets)
    if not index:
        return
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                if isinstance(child, str):
                    if not child.startswith(REDACTED_PREFIX):
                        cleaned = index.scrub(child)
                        if cleaned is not child:
                            node[key] = cleaned
                elif isinstance(child, dict | list):
                    stack.append(child)
        elif isinstance(node, list):
            for i, child in enumerate(node):
                if isinstance(child, str):
                    node[i] = index.scrub(child)
                elif isinstance(child, dict | list):
                    stack.append(child)
