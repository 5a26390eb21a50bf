"""Secrets: the one list of secret scanners, what a secret looks like, and redaction of reports.

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
* SARIF whose run was written by a secret scanner (``is_secret_scanner``, the one list
  ``SECRET_SCANNERS``): every ``snippet`` under a result (``text``, ``markdown``, ``rendered``) and
  the result properties ``offender``, ``secret``, ``match`` and ``line`` (any case).

Other tools quote code too, and the code they flag may be a hard-coded credential (Trivy's
misconfiguration checks, CodeQL's and Semgrep's hard-coded credential rules). In the code they
quote (Trivy ``Misconfigurations[].CauseMetadata.Code.Lines[]``, the snippets of SARIF runs of
other tools) each line that ``quotes_secret`` is replaced: a well-known credential format
(``looks_secret``: an AWS access key id, a private key, a GitHub or Slack token, ``SECRET=...``)
or a literal assigned to a name that says secret (``secret_name``: ``password = "..."``). The rest
of the code is kept. The same look decides what the Terraform collectors mask in their records
and which lines of Checkov's ``code_block`` its redactor replaces.

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
import re
from collections.abc import Callable
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
    return redact_json(raw, source, _redact_fields)


def redact_json(raw: bytes, source: str, redact_fields: Callable[[Any], set[str]]) -> bytes:
    """Rewrite a JSON report: ``redact_fields`` replaces its secret fields in place and returns
    the secret strings it replaced; every other string is then scrubbed of them.

    ``raw`` itself is returned when nothing was replaced. Raises ``InputError`` naming ``source``
    when ``raw`` is not JSON.
    """
    try:
        value = Artefact(source, raw).json()
    except InputError as exc:
        raise InputError(source, f"cannot be redacted: {exc.detail}") from None
    secrets = redact_fields(value)
    if not secrets:
        return raw
    _scrub_strings(value, secrets)
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8", "surrogatepass")


def secret_values(raw: bytes, source: str = "<report>") -> set[str]:
    """The secret strings a report carries (every non-empty value of a secret-bearing field)."""
    return _redact_fields(Artefact(source, raw).json())


# ---------------------------------------------------------------------------------------------
# What a secret looks like (where no scanner says so)

# Byte strings whose absence from a whole document shows that no token below can be in it (a few
# `bytes in` searches cost little; a regex over tens of MB would not).
_TOKEN_HINTS = (b"AKIA", b"ASIA", b"PRIVATE KEY", b"ghp_", b"github_pat_", b"xox")
_CREDENTIAL = (
    r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"  # AWS access key id
    r"|-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"
    r"|\bgh[pousr]_[A-Za-z0-9]{36,}|\bgithub_pat_[A-Za-z0-9_]{22,}"
    r"|\bxox[abposr]-[A-Za-z0-9-]{10,}"
)
_TOKEN = re.compile(
    _CREDENTIAL
    # NAME=value inside a value (shell scripts in user_data, .env content)
    + r"|\b[A-Za-z0-9_]*(?:PASSWORD|SECRET|TOKEN|API_KEY|ACCESS_KEY|password|secret|token|api_key|access_key)"
    r"[A-Za-z0-9_]*[ \t]*=[ \t]*[\"']?[A-Za-z0-9/+_.!@#%^&*-]{8,}"
)
_CREDENTIAL_FORMAT = re.compile(_CREDENTIAL)
_MARKER = re.compile(re.escape(REDACTED_PREFIX) + r"[0-9a-f]{12}")
_SECRET_NAME = re.compile(
    r"password|passwd|passphrase|secret|token|api_?key|access_?key|private_?key|credential"
)
_NOT_A_SECRET_NAME = re.compile(
    r"(?:_arn|_arns|_id|_ids|_name|_names|_type|_version|_path|_length|_enabled|_policy|_rotation|_count"
    r"|_ttl|_mode|_url|_uri|_location|_prevention|_age|_days|_period|_duration)$"
    r"|^(?:require|minimum|max|min|allow)_|^creation_token$"
)


def secret_name(key: str) -> bool:
    """True when an attribute, map key or variable name says that its value is a secret."""
    lowered = key.lower().replace("-", "_")
    return bool(_SECRET_NAME.search(lowered)) and not _NOT_A_SECRET_NAME.search(lowered)


def looks_secret(text: str) -> bool:
    """True when ``text`` holds a well-known credential format (an AWS key id, a private key, ...)."""
    return len(text) >= 16 and _TOKEN.search(text) is not None


def may_hold_tokens(doc: Artefact) -> bool:
    """False when no credential format can occur anywhere in the document (cheap byte search)."""
    if doc.encoding in ("utf-8", "utf-8-sig"):
        return any(hint in doc.raw for hint in _TOKEN_HINTS)
    text = doc.text
    return any(hint.decode() in text for hint in _TOKEN_HINTS)


# ``key = value``, ``key: value``, ``"key": "value"``, ``KEY=value`` in a quoted line of code.
_ASSIGNMENT = re.compile(
    r"""(?P<key>[A-Za-z_][\w.-]*)["']?[ \t]*(?::|=(?!=))[ \t]*(?P<value>"[^"\n]*"|'[^'\n]*'|[^\s"'#,;]+)"""
)
_BARE_LITERAL = re.compile(r"[A-Za-z0-9_+/=!@#%^&*~-]+")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NOT_A_VALUE = frozenset({"true", "false", "null", "none", "nil", "yes", "no", "required", "optional"})


def quotes_secret(line: str) -> bool:
    """True when a line of code a tool quotes holds a credential: a well-known credential format
    (an AWS access key id, a private key, a GitHub or Slack token), or a literal assigned to a name
    that says secret (``secret_name``: ``password = "..."``, ``api_key: ...``,
    ``"client_secret": "..."``, ``export AWS_SECRET_ACCESS_KEY=...``).

    A reference is not a literal: ``password = var.db_password``, ``${{ secrets.TOKEN }}``,
    ``password: !Ref DbPassword``, ``{ password: newPassword }`` (a variable named after the secret)
    and ``token = null`` are code, not secrets; nor is a redaction marker, nor a value the tool
    already masked (``*****``).
    """
    line = _MARKER.sub("", line)
    if _CREDENTIAL_FORMAT.search(line):
        return True
    for match in _ASSIGNMENT.finditer(line):
        key = match.group("key").rsplit(".", 1)[-1]
        if not secret_name(key):
            continue
        value = match.group("value")
        if value[:1] in "\"'":
            literal = value[1:-1]
            if (
                len(literal) >= MIN_SCRUB_LENGTH
                and "${" not in literal
                and "{{" not in literal
                and not literal.startswith(REDACTED_PREFIX)
            ):
                return True
        elif (
            len(value) >= MIN_SCRUB_LENGTH
            and _BARE_LITERAL.fullmatch(value)
            and value.lower() not in _NOT_A_VALUE
            and not (_IDENTIFIER.fullmatch(value) and secret_name(value))  # password: newPassword
            and value.strip("*")  # already masked by the tool: GITHUB_PAT=*****
        ):
            return True
    return False


def redact_secret_values(root: Any, secrets: set[str]) -> None:
    """Replace, in place, every string of a parsed configuration that is a secret by its marker.

    A string is a secret when it sits under a name that says secret (``secret_name``; also every
    string of a list there) or holds a well-known credential format (``looks_secret``); a value
    that is an expression (``${...}``) is not. The values replaced are added to ``secrets``.
    """
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                named = isinstance(key, str) and secret_name(key)
                if isinstance(child, str):
                    node[key] = _redact_value(child, named, secrets)
                elif named and isinstance(child, list):
                    node[key] = [_redact_value(x, True, secrets) if isinstance(x, str) else x for x in child]
                    stack.extend(x for x in child if isinstance(x, dict | list))
                elif isinstance(child, dict | list):
                    stack.append(child)
        elif isinstance(node, list):
            for i, child in enumerate(node):
                if isinstance(child, str):
                    node[i] = _redact_value(child, False, secrets)
                elif isinstance(child, dict | list):
                    stack.append(child)


def _redact_value(value: str, named: bool, secrets: set[str]) -> str:
    """``value`` or its marker (see ``redact_secret_values``)."""
    if not value.strip() or value.startswith(("${", REDACTED_PREFIX)):
        return value
    if named or looks_secret(value):
        secrets.add(value)
        return redaction_marker(value)
    return value


def mask_quoted_code(text: str, secrets: set[str]) -> str:
    """``text`` (code a tool quotes) with every line that ``quotes_secret`` replaced by its marker.

    Each masked line (without its line break) is added to ``secrets``, so that a copy of it
    elsewhere in the report is scrubbed too. ``text`` itself is returned when nothing was masked.
    """
    if not text or text.startswith(REDACTED_PREFIX):
        return text
    lines = text.splitlines(keepends=True)
    changed = False
    for i, line in enumerate(lines):
        body = line.rstrip("\r\n")
        if body.strip() and quotes_secret(body):
            secrets.add(body)
            lines[i] = redaction_marker(body) + line[len(body) :]
            changed = True
    return "".join(lines) if changed else text


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
    """One Trivy result's ``Secrets[]`` (the match and the code lines around it) and the code lines
    its ``Misconfigurations[]`` quote that hold a credential."""
    _redact_trivy_misconfigurations(result, secrets)
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


def _redact_trivy_misconfigurations(result: dict[str, Any], secrets: set[str]) -> None:
    """``Misconfigurations[].CauseMetadata.Code.Lines[]``: the lines that quote a credential."""
    found = result.get("Misconfigurations")
    if not isinstance(found, list):
        return
    for misconfiguration in found:
        cause = misconfiguration.get("CauseMetadata") if isinstance(misconfiguration, dict) else None
        code = cause.get("Code") if isinstance(cause, dict) else None
        lines = code.get("Lines") if isinstance(code, dict) else None
        if not isinstance(lines, list):
            continue
        for line in lines:
            if isinstance(line, dict):
                for key in ("Content", "Highlighted"):
                    text = line.get(key)
                    if isinstance(text, str):
                        line[key] = mask_quoted_code(text, secrets)


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
    scanner = is_secret_scanner(name if isinstance(name, str) else None)
    results = run.get("results")
    if not isinstance(results, list):
        return
    for result in results:
        if not isinstance(result, dict):
            continue
        if not scanner:  # another tool quoting code: only the lines that hold a credential
            _redact_snippets(result, secrets, whole=False)
            continue
        props = result.get("properties")
        if isinstance(props, dict):
            keys = tuple(k for k in props if k.lower() in _SARIF_PROPERTY_FIELDS)
            _redact_keys(props, keys, secrets)
        _redact_snippets(result, secrets)


def _redact_snippets(root: dict[str, Any], secrets: set[str], *, whole: bool = True) -> None:
    """Every ``snippet`` object anywhere under ``root`` (iterative: results may nest deeply).

    ``whole``: a secret scanner's snippet is replaced whole; another tool's keeps every line but
    those that quote a credential (``mask_quoted_code``).
    """
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                if key == "snippet" and isinstance(child, dict):
                    if whole:
                        _redact_keys(child, _SNIPPET_FIELDS, secrets)
                    else:
                        for field in _SNIPPET_FIELDS:
                            text = child.get(field)
                            if isinstance(text, str):
                                child[field] = mask_quoted_code(text, secrets)
                elif key == "snippet" and isinstance(child, str) and child:
                    # SARIF 1.0.0 puts the snippet as a plain string
                    if whole:
                        secrets.add(child)
                        node[key] = redaction_marker(child)
                    else:
                        node[key] = mask_quoted_code(child, secrets)
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
