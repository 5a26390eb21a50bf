"""Gitleaks JSON reports -> ``secret-scan`` evidence.

Two shapes exist, both a top-level JSON array with one object per leak:

* v8 (``gitleaks detect --report-format json``): capitalised keys ``RuleID``, ``Description``,
  ``StartLine``, ``EndLine``, ``Match``, ``Secret``, ``File``, ``Commit``, ``Fingerprint``, ...
* v6/v7: camelCase keys ``rule``, ``line``, ``lineNumber`` (v7 only), ``offender``, ``commit``,
  ``file``, ``repo``, ``commitMessage``, ... (reported as ``format_version`` ``"7"``).

``[]`` and ``null`` are valid empty reports (a scan that found nothing). Gitleaks' own log output
(the banner and ``INF``/``WRN``/``ERR`` lines that go to stderr) is recognised and rejected with a
clear error, since it is what ends up in the report file when stderr is redirected into it.

The secret never leaves this module. Each finding keeps ``secret_hmac``, a commitment to the secret
(v8 ``Secret``, else ``Match``; v6/v7 ``offender``) that only the holder of the organisation key can
check: HMAC-SHA256 hex under the key in ``AFFIDAVIT_SECRET_KEY`` (``kinds.secrets.commitment``),
and the data's ``secret_key_id`` names that key (the first 8 hex digits of its sha256), so two runs
can be compared. Without a key ``secret_hmac`` and ``secret_key_id`` are ``null`` and one problem
says so: a plain hash would let anyone holding a bundle confirm a guessed secret offline. When the
report carries no secret, the commitment is to what it carries instead, ``""`` or the ``REDACTED``
placeholder of ``gitleaks --redact``, and a problem says so. Each finding also keeps a
``fingerprint``: the tool's own (v8 ``Fingerprint`` is ``commit:file:rule:line``), or
``<commit>:<file>:<rule_id>:<line>`` built here when the tool gave none. The match text, the
offender and the source line are read only to be committed to or dropped; no
problem sentence or error message quotes any value of the report, and problems and error messages
are scrubbed of the report's secrets as a last line of defence.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

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
)
from affidavit.collectors.kinds.secrets import (
    SECRET_KEY_ENV,
    SecretIndex,
    commitment,
    commitment_key,
    key_id,
    redact_secret_scan,
    scrub,
)
from affidavit.errors import InputError
from affidavit.model import EvidenceKind, Tool

if TYPE_CHECKING:
    from affidavit.artefact import Artefact

FORMAT_NAME = "gitleaks-json"

_V8_KEYS = frozenset({"Secret", "Match", "StartLine", "File", "Fingerprint", "Commit"})
_V7_KEYS = frozenset({"rule", "line", "lineNumber", "commit", "file", "leakURL", "repo"})

# gitleaks v8 log lines (zerolog console writer) and v7 log lines (logrus text formatter)
_LOG_LINE = re.compile(
    r"^\s*(?:\d{1,2}:\d{2}(?:AM|PM) (?:INF|WRN|ERR|FTL|DBG|TRC) |(?:INFO|WARN|ERRO|FATA)\[[^\]]*\] )",
    re.MULTILINE,
)
_LOG_ERROR = re.compile(
    r"^\s*(?:\d{1,2}:\d{2}(?:AM|PM) (?:ERR|FTL) |(?:ERRO|FATA)\[[^\]]*\] )(.*)$", re.MULTILINE
)
_REDACTED = "REDACTED"
_MIN_SECRET_IN_FINGERPRINT = 4  # shorter values occur in any path by chance


def detect(doc: Artefact) -> int:
    """Score a document as a Gitleaks JSON report (or as Gitleaks log output, to reject it clearly)."""
    if not doc.looks_like_json:
        return LIKELY if _looks_like_log(doc.head) else NO
    if doc.head.rstrip() == "null":
        return POSSIBLE  # an empty report: content alone cannot say which tool wrote it
    value = doc.try_json()
    if not isinstance(value, list):
        return NO
    if not value:
        return POSSIBLE
    # the first finding decides; parse then names any later item that is not a finding
    first = value[0]
    return DEFINITE if isinstance(first, dict) and _shape(first) is not None else NO


def _looks_like_log(head: str) -> bool:
    """True when text looks like gitleaks' console log (banner or its log-line format)."""
    lowered = head.lower()
    return bool(_LOG_LINE.search(head)) and (
        "gitleaks" in lowered or "leaks" in lowered or "commits scanned" in lowered
    )


def _shape(item: dict[str, Any]) -> str | None:
    """``"8"`` for a v8 finding, ``"7"`` for a v6/v7 finding, ``None`` for neither."""
    if "RuleID" in item and _V8_KEYS.intersection(item):
        return "8"
    if "offender" in item and _V7_KEYS.intersection(item):
        return "7"
    return None


def parse(doc: Artefact, options: CollectOptions) -> Parsed:
    """Normalise a Gitleaks report; the secrets are committed to by a keyed hash, never copied."""
    secrets: set[str] = set()
    org_key = commitment_key()
    try:
        parsed = _parse(doc, secrets, org_key)
    except InputError as exc:
        if not secrets:
            raise
        raise InputError(
            doc.source,
            scrub(exc.detail, secrets),
            path=exc.path,
            hint=None if exc.hint is None else scrub(exc.hint, secrets),
        ) from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        # never let a Python exception's text (which may quote a value) carry a secret out
        raise InputError(
            doc.source, f"could not be read as a Gitleaks report ({type(exc).__name__})"
        ) from None
    if parsed.problems:
        index = SecretIndex(secrets)
        parsed.problems = [index.scrub(p) for p in parsed.problems]
    return parsed


def _parse(doc: Artefact, secrets: set[str], org_key: bytes | None) -> Parsed:
    """The parser proper; ``secrets`` collects every secret value met, for scrubbing; ``org_key`` is
    the organisation key the commitments are made with (``None``: no commitments)."""
    if not doc.looks_like_json:
        raise _log_error(doc)
    value = doc.json()
    problems = Problems(doc.source)
    if value is None or value == []:
        # The bytes say nothing about their tool: Gitleaks writes them for a clean scan, and so
        # does a pre-2021 Trivy. Read as the common case, but say so in the record.
        problems.add(
            "$",
            "an empty report names no tool or version; it is read as a Gitleaks scan that found "
            "nothing (if a legacy Trivy report wrote it, pass --kind vulnerability-scan)",
        )
        return _parsed([], None, problems, org_key)
    if not isinstance(value, list):
        raise InputError(
            doc.source,
            f"expected a JSON array of Gitleaks findings, found {json_type(value)}",
            path="$",
            hint="pass the file gitleaks wrote with --report-format json (or --report-path)",
        )
    findings: list[dict[str, Any]] = []
    shapes: set[str] = set()
    odd: dict[str, list[str]] = {}  # oddity -> JSON paths where it was seen
    for i, item in enumerate(value):
        path = f"$[{i}]"
        if not isinstance(item, dict):
            raise InputError(
                doc.source, f"expected a Gitleaks finding object, found {json_type(item)}", path=path
            )
        shape = _shape(item)
        if shape is None:
            raise InputError(
                doc.source,
                "is neither a Gitleaks v8 finding (RuleID, Secret, StartLine, ...) "
                "nor a v6/v7 one (rule, offender, lineNumber, ...)",
                path=path,
            )
        shapes.add(shape)
        finding, oddities = _finding(item, shape, secrets, org_key)
        for oddity in oddities:
            odd.setdefault(oddity, []).append(path)
        findings.append(finding)
    if len(shapes) > 1:
        problems.add("$", "mixes Gitleaks v8 and v6/v7 findings in one report")
    for key, sentence in _ODDITIES.items():
        paths = odd.get(key)
        if paths:
            problems.add("$", f"{len(paths)} finding(s) {sentence} (first: {paths[0]})")
    if findings and org_key is None:
        problems.add(
            "$",
            f"{SECRET_KEY_ENV} is not set: no commitment to the secrets is recorded (secret_hmac is "
            f"null); set it to the organisation key to let two runs' findings be compared",
        )
    version = "8" if "8" in shapes else ("7" if shapes else None)
    return _parsed(findings, version, problems, org_key)


_ODDITIES = {
    "no_rule": "have no rule id; recorded as rule 'unknown'",
    "no_secret": "have no secret value; their secret_hmac commits to the empty string",
    "redacted": (
        "carry the placeholder gitleaks writes with --redact instead of the secret; "
        "their secret_hmac commits to that placeholder and identifies nothing"
    ),
    "fingerprint": "have a Fingerprint that quotes the secret; a fingerprint without it was built",
}


def _finding(
    item: dict[str, Any], shape: str, secrets: set[str], org_key: bytes | None
) -> tuple[dict[str, Any], list[str]]:
    """One normalised finding and the oddities met in it (keys of ``_ODDITIES``)."""
    own_secrets: set[str] = set()
    if shape == "8":
        rule_id = opt_str(item.get("RuleID"))
        secret = _text(item.get("Secret")) or _text(item.get("Match"))
        file = opt_str(item.get("File"))
        line = _line(item.get("StartLine"))
        commit = opt_str(item.get("Commit"))
        tool_fingerprint = opt_str(item.get("Fingerprint"))
        for key in ("Secret", "Match", "Line"):
            _remember(item.get(key), own_secrets)
    else:
        rule_id = opt_str(item.get("rule"))
        secret = _text(item.get("offender"))
        file = opt_str(item.get("file"))
        line = _line(item.get("lineNumber"))
        commit = opt_str(item.get("commit"))
        tool_fingerprint = None
        for key in ("offender", "line"):
            _remember(item.get(key), own_secrets)
    secrets.update(own_secrets)
    oddities: list[str] = []
    if rule_id is None:
        oddities.append("no_rule")
        rule_id = "unknown"
    if secret is None:
        oddities.append("no_secret")
        secret = ""
    elif secret == _REDACTED:
        oddities.append("redacted")
    digest = None if org_key is None else commitment(secret, org_key)
    fingerprint = f"{commit or ''}:{file or ''}:{rule_id}:{'' if line is None else line}"
    if tool_fingerprint is not None:
        if any(s in tool_fingerprint for s in own_secrets if len(s) >= _MIN_SECRET_IN_FINGERPRINT):
            oddities.append("fingerprint")
        else:
            fingerprint = tool_fingerprint
    finding = {
        "rule_id": rule_id,
        "file": file,
        "line": line,
        "commit": commit,
        "fingerprint": fingerprint,
        "secret_hmac": digest,
    }
    return finding, oddities


def _text(value: Any) -> str | None:
    """A non-empty string, else ``None`` (secrets are never converted from other types)."""
    return value if isinstance(value, str) and value != "" else None


def _remember(value: Any, secrets: set[str]) -> None:
    """Add a secret-bearing string to the set used to scrub problems and errors."""
    if isinstance(value, str) and value and value != _REDACTED:
        secrets.add(value)


def _line(value: Any) -> int | None:
    """A 1-based line number, or ``None`` when absent, zero or not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.isdigit():
        number = int(value)
        return number if number > 0 else None
    return None


def _parsed(
    findings: list[dict[str, Any]], version: str | None, problems: Problems, org_key: bytes | None
) -> Parsed:
    """Wrap findings into the secret-scan data shape."""
    commits = sorted({f["commit"] for f in findings if f["commit"]})
    return Parsed(
        data={
            "findings": findings,
            "summary": {"total": len(findings)},
            "commits": commits,
            "secret_key_id": None if org_key is None else key_id(org_key),
        },
        format_version=version,
        tool=Tool(name="gitleaks"),
        problems=problems.items,
    )


def _log_error(doc: Artefact) -> InputError:
    """The error for a file holding gitleaks' console log instead of its JSON report."""
    text = doc.head
    if _looks_like_log(text):
        # the console log can print findings (with --verbose) and secrets in its errors: the
        # error line is pointed at by its number, never repeated
        start = (
            doc.raw[:4096].decode("utf-8", errors="replace") if doc.encoding == "utf-8" else doc.text[:4096]
        )
        first = _LOG_ERROR.search(start)
        said = ""
        if first is not None:
            said = f"; its line {start.count(chr(10), 0, first.start(1)) + 1} says what went wrong"
        return InputError(
            doc.source,
            f"is gitleaks' console log, not its JSON report{said}",
            hint="run gitleaks with --report-format json --report-path <file> and pass that file",
        )
    return InputError(doc.source, "is not a Gitleaks JSON report (not JSON)")


FORMATS: tuple[Format, ...] = (
    Format(
        name=FORMAT_NAME,
        kind=EvidenceKind.SECRET_SCAN,
        detect=detect,
        parse=parse,
        description="Gitleaks JSON report (v8 and v6/v7 shapes); secrets are never kept, only a keyed commitment",
        redact=redact_secret_scan,
    ),
)
