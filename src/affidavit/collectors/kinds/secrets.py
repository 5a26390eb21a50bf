"""Secrets: the one list of secret scanners, what a secret looks like, commitments, and masking.

Three jobs live here, shared by every format:

**Masking well-known credentials everywhere.** ``mask_credentials`` replaces, in any text, each
credential whose shape its provider documents (AWS access key ids and secret keys written beside
their name, GitHub, GitLab and Slack tokens, Google API keys, Stripe keys, private key blocks,
JWTs, the password of a ``scheme://user:password@host`` URL, and a literal assigned to a name
that says secret: ``password=...``, ``"client_secret": "..."``). ``mask_tree`` does it to every
string (and key) of a parsed document, and to the strings under a name that says secret.
``collectors.collect_document`` passes every record through ``mask_parsed`` (its data, problems,
tool and subject: rule messages quote record fields, so the report and the terminal are clean
too), and every format's ``redact`` hook ends with the same masking of the raw copy a bundle
stores (``mask_document``; ``with_masking`` adds it to a format's own hook). A JSON document in
which ``mask_tree`` of the collector's own parse changes nothing is stored as it is, without a
second parse: the gate's collection tells the bundle so (``unchanged_copy``). Settings that only
look like secrets are kept: ``secret_name`` knows ``http_tokens`` (AWS IMDSv2's
``"required"``), ``token_endpoint``, ``password_policy``, ``secret_name``, ``kms_key_id`` and the
other names that describe a secret rather than hold one, and a value that is a setting word
(``required``, ``enabled``) or a reference (``${var.x}``) is never a secret.

**Redacting secret scanners' reports.** A secret scanner's report is itself a leak: Gitleaks
writes the secret, the matched text and the whole source line; Trivy writes the matched line and
the code around it; Gitleaks' SARIF writes the line as a region snippet. Those fields are replaced
before the copy (``redact_secret_scan``); ``secret_values`` lists the secret strings a report
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
other tools) each line that ``quotes_secret`` is replaced; the rest of the code is kept. The same
look decides what the Terraform collectors mask in their records and which lines of Checkov's
``code_block`` its redactor replaces. Once those fields are replaced, every other string of the
document is searched for the secret values found and each occurrence is replaced too, so a secret
quoted elsewhere does not survive either. Values shorter than ``MIN_SCRUB_LENGTH`` characters are
replaced where they are a whole field but not searched for inside other text (a one-letter
"secret" would otherwise shred the report).

**Commitments.** A hash of a secret lets anyone holding a bundle confirm a guess offline (a short
password falls to a dictionary in seconds), so no plain hash of a secret is ever written. With an
organisation key in the environment variable ``AFFIDAVIT_SECRET_KEY`` (``SECRET_KEY_ENV``; at
least ``MIN_KEY_BYTES`` bytes, kept in the CI secret store) a secret is committed to by
HMAC-SHA256 under that key (``commitment``), and the replacement marker carries the first 12 hex
digits of that HMAC, so two bundles made with one key can be compared::

    "REDACTED:hmac-sha256:<first 12 hex digits of HMAC-SHA256(key, value)>"

Without a key the marker is the bare word ``REDACTED`` and there is no commitment at all. The key
itself is never written; ``key_id`` (the first 8 hex digits of its sha256) names it in records.

Every rewrite is deterministic for a given key: the same input always gives the same bytes. Key
order and structure are kept. A document in which nothing needed masking is returned byte for
byte unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from affidavit.artefact import Artefact
from affidavit.errors import InputError, UsageError
from affidavit.model import Subject, Tool

if TYPE_CHECKING:
    from affidavit.collectors.interface import Parsed

REDACTED = "REDACTED"
# Every marker starts with this word (``is_marker`` tells a marker from a value that merely
# starts with it, which is never taken for one).
REDACTED_PREFIX = REDACTED
KEYED_MARKER_PREFIX = "REDACTED:hmac-sha256:"
MIN_SCRUB_LENGTH = 4
SECRET_KEY_ENV = "AFFIDAVIT_SECRET_KEY"
MIN_KEY_BYTES = 16

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


# ---------------------------------------------------------------------------------------------
# The organisation key, commitments and markers


def commitment_key() -> bytes | None:
    """The organisation key from ``AFFIDAVIT_SECRET_KEY`` (``None`` when it is unset or empty).

    Read at each use, never stored. A key shorter than ``MIN_KEY_BYTES`` bytes is a
    ``UsageError``: a guessable key would make every commitment a plain hash again.
    """
    value = os.environ.get(SECRET_KEY_ENV)
    if not value:
        return None
    key = os.fsencode(value)
    if len(key) < MIN_KEY_BYTES:
        raise UsageError(
            f"{SECRET_KEY_ENV} is set but shorter than {MIN_KEY_BYTES} bytes",
            hint=f"set {SECRET_KEY_ENV} to a random value of at least 32 bytes kept in the CI "
            "secret store (e.g. openssl rand -hex 32), or unset it to record no commitments",
        )
    return key


def key_id(key: bytes) -> str:
    """The name of a key in records: the first 8 hex digits of its sha256 (never the key)."""
    return hashlib.sha256(key).hexdigest()[:8]


def commitment(value: str, key: bytes) -> str:
    """HMAC-SHA256 hex of a string's UTF-8 bytes under ``key`` (lone surrogates kept)."""
    return hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def redaction_marker(value: str) -> str:
    """The marker that replaces ``value``: a short keyed commitment, or ``REDACTED`` without a key."""
    key = commitment_key()
    if key is None:
        return REDACTED
    return KEYED_MARKER_PREFIX + commitment(value, key)[:12]


# A marker as written now, or by an earlier version (a plain sha256 prefix), as a whole token.
_MARKER = re.compile(r"REDACTED(?::(?:hmac-sha256|sha256):[0-9a-f]{12})?(?![A-Za-z0-9_])")


def is_marker(value: str) -> bool:
    """True when ``value`` is a redaction marker and nothing else."""
    return _MARKER.fullmatch(value) is not None


def starts_with_marker(value: str) -> bool:
    """True when ``value`` begins with a whole redaction marker (``REDACTED`` then no letter)."""
    return _MARKER.match(value) is not None


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
    the secret strings it replaced; every other string is then scrubbed of them, and every
    well-known credential left anywhere is masked (``mask_tree``).

    ``raw`` itself is returned when nothing was replaced. Raises ``InputError`` naming ``source``
    when ``raw`` is not JSON.
    """
    try:
        value = Artefact(source, raw).json()
    except InputError as exc:
        raise InputError(source, f"cannot be redacted: {exc.detail}") from None
    secrets = redact_fields(value)
    if secrets:
        _scrub_strings(value, secrets)
    masked = mask_tree(value)
    if not secrets and masked is value:
        return raw
    return _dump(masked)


def _dump(value: Any) -> bytes:
    """A rewritten JSON document as a bundle stores it (two-space indent, UTF-8, final newline)."""
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8", "surrogatepass")


def secret_values(raw: bytes, source: str = "<report>") -> set[str]:
    """The secret strings a report carries (every non-empty value of a secret-bearing field)."""
    return _redact_fields(Artefact(source, raw).json())


# ---------------------------------------------------------------------------------------------
# What a credential looks like (where no scanner says so)
#
# Each shape is the one its provider documents; the group ``s``, where there is one, is the part
# that is replaced (the password of a URL, the value after a name), else the whole match. Bounds
# on both sides keep a shape from matching inside a longer word.

_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        # PEM private keys (RFC 7468 section 10, PKCS #8 "PRIVATE KEY", "ENCRYPTED PRIVATE KEY",
        # "RSA/EC/DSA PRIVATE KEY"), OpenSSH ("OPENSSH PRIVATE KEY") and OpenPGP ("PGP PRIVATE KEY
        # BLOCK", RFC 9580 section 6.2): the whole block, or to the end of a text cut short.
        (
            "private key",
            r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----"
            r"(?s:.*?)(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
        ),
        # A password in a URL's userinfo, scheme://user:password@host (RFC 3986 section 3.2.1;
        # libpq, JDBC, Redis and AMQP connection URIs use it): only the password.
        (
            "url password",
            r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*+://[^\s:/?#@\"'<>\[\]\\]*+:(?P<s>[^\s/?#@\"'<>\\]++)@",
        ),
        # AWS access key ids: AKIA (long-term), ASIA (temporary, STS), ABIA (STS service bearer
        # token), ACCA (context-specific credential) + 16 upper-case letters and digits
        # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids).
        # The other prefixes of that table name users, roles and policies (AIDA, AROA, ANPA): ids, not keys.
        (
            "AWS access key id",
            r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])",
        ),
        # AWS secret access keys: 40 characters of base64, recognisable only beside their name
        # (aws_secret_access_key, AWS_SECRET_ACCESS_KEY, SecretAccessKey;
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html).
        (
            "AWS secret access key",
            r"(?i:aws_?secret_?(?:access_?)?key|secret_?access_?key)[\"']?[ \t]*(?:=>|:=|=|:)[ \t]*[\"']?"
            r"(?P<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
        ),
        # GitHub tokens: ghp_ (classic personal), gho_ (OAuth), ghu_ (user-to-server), ghs_
        # (server-to-server), ghr_ (refresh), github_pat_ (fine-grained personal)
        # (https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/about-authentication-to-github#githubs-token-formats).
        (
            "GitHub token",
            r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244})(?![A-Za-z0-9_])",
        ),
        # GitLab tokens by prefix: glpat- (personal/project/group access), glptt- (pipeline
        # trigger), gldt- (deploy), glrt- (runner), gloas- (OAuth application secret), glcbt- (CI/CD
        # job), glft- (feed), glsoat- (SCIM), glimt- (incoming mail), glagent- (agent), glffct-
        # (feature flags client) (https://docs.gitlab.com/ee/security/tokens/#token-prefixes).
        (
            "GitLab token",
            r"(?<![A-Za-z0-9_-])gl(?:pat|ptt|dt|rt|oas|cbt|ft|soat|imt|agent|ffct)-[0-9A-Za-z_-]{20,}(?:\.[0-9A-Za-z_-]+)*",
        ),
        # Slack tokens: xoxb- (bot), xoxp- (user), xoxa- / xoxr- (app and refresh), xoxe- (config),
        # xoxs- (legacy) (https://api.slack.com/authentication/token-types), and incoming webhook
        # URLs, whose path is the secret (https://api.slack.com/messaging/webhooks).
        ("Slack token", r"(?<![A-Za-z0-9])xox[abeprs]-[0-9A-Za-z-]{10,}"),
        (
            "Slack webhook",
            r"https://hooks\.slack\.com/(?P<s>(?:services|workflows|triggers)/[A-Za-z0-9/_-]{20,})",
        ),
        # Google API keys: AIza + 35 characters (https://cloud.google.com/docs/authentication/api-keys;
        # the shape is the one gitleaks' gcp-api-key rule matches).
        ("Google API key", r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"),
        # Stripe secret and restricted keys, live and test (https://docs.stripe.com/keys).
        ("Stripe key", r"(?<![A-Za-z0-9])(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}"),
        # JSON Web Tokens in compact serialisation (RFC 7519 section 3, RFC 7515 section 7.1): a
        # JSON header and payload, each base64url of "{...", so both start with eyJ.
        (
            "JSON Web Token",
            r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}+\.eyJ[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]*+",
        ),
    )
)

# NAME = value, NAME: "value", "name": "value", NAME => value in free text (a message, a title,
# a script): the value is a secret when the name says so (``secret_name``) and the value is a
# literal, not a reference, a setting word or a placeholder. A bare value after ':' is prose more
# often than code ("secret: none found"), so ':' counts only before a quoted value.
_NAMED_VALUE = re.compile(
    r"""(?<![A-Za-z0-9_.-])(?P<name>[A-Za-z_][A-Za-z0-9_.-]*+)["']?[ \t]*"""
    r"""(?:=>|:=|=(?![=~])|:(?=[ \t]*["']))[ \t]*"""
    r"""(?P<value>"(?:[^"\\\n]|\\.)*+"|'[^'\n]*+'|[^\s"'`,;&|(){}\[\]<>]++)(?P<call>\()?"""
)
_REFERENCE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")  # var.db, request.form.x
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Words that are a setting, not a secret (AWS IMDSv2's http_tokens = "required", a boolean, ...).
_NOT_A_VALUE = frozenset(
    {
        "true", "false", "null", "none", "nil", "yes", "no", "on", "off", "required", "optional",
        "enabled", "disabled", "enable", "disable", "inherit", "default", "empty", "unset", "redacted",
        "sensitive", "(sensitive)", "hidden", "masked",
    }
)  # fmt: skip

# Names that say their value is a secret ...
_SECRET_NAME = re.compile(
    r"password|passwd|passphrase|secret|token|api_?key|access_?key|private_?key|credential"
    r"|client_?key|app_?key|application_?key|signing_?key|shared_?key|account_?key|master_?key"
    r"|raw_?key|key_?raw|auth_?key"
)
# ... unless they name something about a secret: its id, name, ARN, type, length, policy,
# endpoint, a time, a count, a switch (password_policy, secret_name, kms_key_id, token_endpoint,
# minimum_password_length, require_*), or AWS IMDSv2's http_tokens ("required" or "optional",
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html).
_NOT_A_SECRET_NAME = re.compile(
    r"(?:_arn|_arns|_id|_ids|_name|_names|_type|_types|_version|_versions|_path|_paths|_file|_length"
    r"|_enabled|_policy|_policies|_rotation|_count|_ttl|_mode|_url|_urls|_uri|_uris|_endpoint|_endpoints"
    r"|_location|_prevention|_age|_days|_period|_duration|_source|_ref|_refs|_reference|_spec|_size"
    r"|_bits|_algorithm|_format|_required|_expiry|_expiration|_expires|_lifetime|_timeout|_validity"
    r"|_units|_at|_date|_time|_timestamp|_header|_parameter|_selector|_usage|_hmac|_sha256|_digest"
    r"|_fingerprint|_store|_vault|_manager|_provider|_field|_env|_variable|_strength|_reuse)$"
    r"|^(?:require|requires|minimum|maximum|max|min|allow|enable|disable|use|is|has|rotate|generate)_"
    r"|^creation_token$|^http_tokens$|^secrets$|^tokens$"
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def secret_name(key: str) -> bool:
    """True when an attribute, map key or variable name says that its value is a secret.

    ``password``, ``db_password``, ``AWS_SECRET_ACCESS_KEY``, ``clientSecret``, ``api_key`` are;
    ``password_policy``, ``secret_name``, ``kms_key_id``, ``token_endpoint``, ``http_tokens``,
    ``minimum_password_length``, ``secretKeyRef`` are not (they describe a secret or a setting).
    """
    lowered = _CAMEL.sub("_", key).lower().replace("-", "_").replace(".", "_")
    return bool(_SECRET_NAME.search(lowered)) and not _NOT_A_SECRET_NAME.search(lowered)


def secret_setting(key: str, value: str) -> bool:
    """True when ``value``, assigned to the name ``key``, is a secret by its name: the name says
    secret and the value is a literal (not blank, not a setting word such as ``required``, not an
    expression or reference such as ``${var.x}``, not a marker or an already masked value)."""
    return secret_name(key) and _literal_value(value)


def _literal_value(value: str) -> bool:
    """True for a value that can be a secret: not blank, not a setting word, not an expression."""
    stripped = value.strip()
    return (
        bool(stripped)
        and stripped.lower() not in _NOT_A_VALUE
        and not stripped.startswith(("${", "{{", "$(", "%{"))  # an expression, not a literal
        and not is_marker(stripped)
        and bool(stripped.strip("*"))  # already masked by the tool: *****
    )


def literal_value(value: str) -> bool:
    """True for a value that can be a secret (see ``secret_setting``): not blank, not a setting
    word, not an expression or reference, not a marker or an already masked value."""
    return _literal_value(value)


# Substrings one of which each shape cannot be without (``str`` searches, far cheaper than running
# every pattern over every string of a large plan), and the words every secret name contains.
_SHAPE_HINTS: dict[str, tuple[str, ...]] = {
    "private key": ("PRIVATE KEY",),
    "url password": ("://",),
    "AWS access key id": ("AKIA", "ASIA", "ABIA", "ACCA"),
    "AWS secret access key": ("ecret", "ECRET"),
    "GitHub token": ("gh", "github_pat_"),
    "GitLab token": ("gl",),
    "Slack token": ("xox",),
    "Slack webhook": ("hooks.slack.com/",),
    "Google API key": ("AIza",),
    "Stripe key": ("k_live_", "k_test_"),
    "JSON Web Token": ("eyJ",),
}
_SECRET_WORDS = ("pass", "secret", "token", "key", "cred", "pwd", "auth", "priv")


def _shapes_in(text: str) -> list[re.Pattern[str]]:
    """The shape patterns whose hints occur in ``text`` (only those can match)."""
    if not (  # the common case, in one chain of substring tests
        "://" in text
        or "gh" in text
        or "github_pat_" in text
        or "gl" in text
        or "eyJ" in text
        or "ecret" in text
        or "ECRET" in text
        or "AKIA" in text
        or "ASIA" in text
        or "ABIA" in text
        or "ACCA" in text
        or "AIza" in text
        or "xox" in text
        or "k_live_" in text
        or "k_test_" in text
        or "PRIVATE KEY" in text
        or "hooks.slack.com/" in text
    ):
        return []
    return [pattern for name, pattern in _SHAPES if any(hint in text for hint in _SHAPE_HINTS[name])]


def _may_name_a_secret(text: str) -> bool:
    """False when ``text`` has no assignment or no word of a secret name (cheap test)."""
    if "=" not in text and ":" not in text:
        return False
    lowered = text.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _find(text: str) -> tuple[int, int] | None:
    """The span of the first credential in ``text`` (``None`` when it holds none)."""
    first: tuple[int, int] | None = None
    for pattern in _shapes_in(text):
        for match in pattern.finditer(text):
            part = "s" if "s" in pattern.groupindex and match.group("s") is not None else 0
            if part and is_marker(match.group(part)):
                continue  # already masked: scheme://user:REDACTED@host
            span = match.span(part)
            if first is None or span[0] < first[0]:
                first = span
            break
    for span in _named_secrets(text) if _may_name_a_secret(text) else ():
        if first is None or span[0] < first[0]:
            first = span
        break
    return first


def _named_secrets(text: str) -> Iterator[tuple[int, int]]:
    """The spans of the secret values after names that say secret, left to right.

    A match whose name says nothing is scanned again from its value, which may itself be the next
    name (``settings: "api_key": "..."``); so no match hides the one after it.
    """
    pos = 0
    while True:
        match = _NAMED_VALUE.search(text, pos)
        if match is None:
            return
        span = _named_secret(match)
        if span is None:
            pos = match.start("value")
            continue
        yield span
        pos = span[1]


def _named_secret(match: re.Match[str]) -> tuple[int, int] | None:
    """The span of the secret in one ``name = value`` match, or ``None`` when it is not one."""
    name = match.group("name").rsplit(".", 1)[-1]
    if not secret_name(name) or match.group("call"):
        return None
    value = match.group("value")
    start, end = match.span("value")
    if value[:1] in "\"'":
        value, start, end = value[1:-1], start + 1, end - 1
    elif (
        _REFERENCE.fullmatch(value)  # password = var.db_password, token=request.args.token
        or (_IDENTIFIER.fullmatch(value) and secret_name(value))  # password: newPassword
        or value.startswith("$")  # TOKEN=$GITHUB_TOKEN
    ):
        return None
    if len(value) < MIN_SCRUB_LENGTH or not _literal_value(value):
        return None
    return start, end


def looks_secret(text: str) -> bool:
    """True when ``text`` holds a well-known credential (an AWS key id, a private key, a GitHub
    token, a URL with a password, ``password=...``; see ``mask_credentials``)."""
    return _find(text) is not None


def mask_credentials(text: str) -> str:
    """``text`` with every well-known credential replaced by its marker (``text`` itself if none).

    The shapes are those of ``_SHAPES`` (each cited to its provider's documentation) and a
    literal after a name that says secret (``password=hunter2!``). Only the secret part is
    replaced: ``postgres://shop:<marker>@db/shop``, ``password="<marker>"``.
    """
    if len(text) < MIN_SCRUB_LENGTH:
        return text
    out = text
    for pattern in _shapes_in(text):
        if pattern.search(out) is not None:
            out = pattern.sub(_replace_shape, out)
    if _may_name_a_secret(out):
        parts: list[str] = []
        last = 0
        for start, end in _named_secrets(out):
            parts += (out[last:start], redaction_marker(out[start:end]))
            last = end
        if parts:
            out = "".join(parts) + out[last:]
    return text if out == text else out


def _replace_shape(match: re.Match[str]) -> str:
    if "s" in match.re.groupindex and match.group("s") is not None:
        start, end = match.span("s")
        offset = match.start()
        whole = match.group(0)
        secret = match.group("s")
        if is_marker(secret):
            return whole
        return whole[: start - offset] + redaction_marker(secret) + whole[end - offset :]
    return redaction_marker(match.group(0))


# A superset of every credential shape and of every ``name = value`` whose name says secret, as
# patterns that each start with a literal (so that each is one fast scan in C): run over all the
# strings of a document joined by line breaks (no pattern matches across one), they find the few
# strings worth the full look, where a dozen searches per string would cost seconds on a large
# plan. The names are looked for in the lower-cased text.
_SHAPE_TRIGGERS = tuple(
    re.compile(pattern)
    for pattern in (
        r"A(?:KIA|SIA|BIA|CCA|Iza)",
        r"PRIVATE KEY",
        r"gh[pousr]_",
        r"github_pat_",
        r"gl(?:pat|ptt|dt|rt|oas|cbt|ft|soat|imt|agent|ffct)-",
        r"xox[abeprs]-",
        r"hooks\.slack\.com/",
        r"k_(?:live|test)_",
        r"eyJ",
        r"://[^\s:/?#@]*+:[^\s/?#@]*+@",
    )
)
_NAME_TRIGGERS = (
    *(
        re.compile(word + r"[a-z0-9_.-]*+[\"']?[ \t]*(?:=|:=|:[ \t]*[\"'])")
        for word in ("pass", "secret", "token", "key", "cred", "pwd", "auth", "priv")
    ),
    re.compile(r"secret_?(?:access_?)?key[\"']?[ \t]*[:=]"),
)


def _triggered(text: str) -> set[int]:
    """Start offsets in ``text`` where a credential or a secret name may begin."""
    found = {m.start() for pattern in _SHAPE_TRIGGERS for m in pattern.finditer(text)}
    lowered = text.lower()
    if len(lowered) != len(text):  # a few letters lower-case to two characters: keep offsets
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    found.update(m.start() for pattern in _NAME_TRIGGERS for m in pattern.finditer(lowered))
    return found


# The escapes of raw JSON, rewritten as ``json.dumps(ensure_ascii=False)`` writes what they stand for
# before a scan of the text looks for a key name (``unchanged_copy``).
_JSON_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}(?:\\u[0-9a-fA-F]{4})*|.)", re.DOTALL)


def _as_dumped(match: re.Match[str]) -> str:
    """One escape of raw JSON (a run of ``\\u`` escapes, to keep surrogate pairs whole) as
    ``json.dumps(ensure_ascii=False)`` writes what it stands for."""
    escape = match.group()
    if escape[1] not in "u/":
        return escape  # \" \\ \n \t ...: written so by json.dumps too
    return json.dumps(json.loads(f'"{escape}"'), ensure_ascii=False)[1:-1]


def _as_dumped_text(text: str) -> str:
    """JSON text with its ``\\u`` and ``\\/`` escapes written as ``json.dumps(ensure_ascii=False)``
    writes what they stand for (the same document, with every letter and slash as itself)."""
    if "\\u" in text or "\\/" in text:
        return _JSON_ESCAPE.sub(_as_dumped, text)
    return text


def credential_candidates(strings: list[str]) -> set[str]:
    """The strings of ``strings`` in which a credential shape or a secret ``name = value`` may
    begin: a superset of those ``looks_secret`` is true for and ``mask_credentials`` changes, found
    by one scan of them all joined by line breaks (``_SHAPE_TRIGGERS``, ``_NAME_TRIGGERS``), so that
    only these few need the full look.

    Each distinct string is scanned once: a Terraform plan holds every value several times over
    (``before`` and ``prior_state``, ``after`` and ``planned_values``, the same tags on every
    resource), and no trigger matches across a line break, so the order they are joined in
    changes nothing."""
    distinct = list(set(strings))
    starts = _triggered("\n".join(distinct))
    if not starts:
        return set()
    ends = list(accumulate(len(item) + 1 for item in distinct))
    return {distinct[bisect_right(ends, start)] for start in starts}


def mask_tree_known(root: Any, candidates: set[str], named: set[str]) -> Any:
    """``mask_tree(root)`` for a caller that already walked ``root``: ``candidates`` is a superset
    of the strings and keys of ``root`` that ``credential_candidates`` finds, and ``named`` the
    strings ``root`` holds under a name that says secret (``MIN_SCRUB_LENGTH`` or longer, literal).
    Only when one of them is masked is ``root`` rebuilt; otherwise it is returned as it is."""
    replace = {value: redaction_marker(value) for value in named}
    for candidate in candidates:
        if candidate not in replace:
            masked = mask_credentials(candidate)
            if masked is not candidate:
                replace[candidate] = masked
    if not replace or not isinstance(root, dict | list):
        return root
    return _rebuild(root, replace)


def mask_tree(value: Any) -> Any:
    """``value`` (parsed JSON or YAML) with every credential masked: in each string and key
    (``mask_credentials``), and each string under a name that says secret (``secret_setting``).

    Copy-on-write: an unchanged value is returned as the very same object, and only the
    containers along a changed path are copied. Iterative, so deep documents cannot overflow.
    One pass gathers the strings and finds the few that need masking (``_TRIGGER`` over all of
    them at once); only when there is one is the value rebuilt.
    """
    if isinstance(value, str):
        return mask_credentials(value)
    if not isinstance(value, dict | list):
        return value
    replace = _replacements(value)
    return _rebuild(value, replace) if replace else value


def _replacements(root: dict[str, Any] | list[Any]) -> dict[str, str]:
    """Every string (value or key) of ``root`` that changes when masked, with what replaces it."""
    strings: list[str] = []
    named: set[str] = set()  # literals under a name that says secret: replaced whole
    says_secret: dict[Any, bool] = {}  # per distinct key (also: each key is looked at once)
    stack: list[tuple[Any, Any]] = [(root, None)]
    add, push, pop = strings.append, stack.append, stack.pop
    while stack:
        node, name = pop()
        if type(node) is dict:
            for key, child in node.items():
                secret = says_secret.get(key)
                if secret is None:
                    secret = says_secret[key] = isinstance(key, str) and secret_name(key)
                    if isinstance(key, str):
                        add(key)
                kind = type(child)
                if kind is str:
                    add(child)
                    if secret and len(child) >= MIN_SCRUB_LENGTH and _literal_value(child):
                        named.add(child)
                elif kind is dict or kind is list:
                    push((child, key))
                elif isinstance(child, str):  # a str subclass: looked at like any string
                    add(str(child))
        else:
            secret = says_secret.get(name, False)
            for child in node:
                kind = type(child)
                if kind is str:
                    add(child)
                    if secret and len(child) >= MIN_SCRUB_LENGTH and _literal_value(child):
                        named.add(child)
                elif kind is dict or kind is list:
                    push((child, name))
                elif isinstance(child, str):
                    add(str(child))
    replace = {value: redaction_marker(value) for value in named}
    for candidate in sorted(credential_candidates(strings)):
        if candidate not in replace:
            masked = mask_credentials(candidate)
            if masked is not candidate:
                replace[candidate] = masked
    return replace


def _rebuild(root: dict[str, Any] | list[Any], replace: dict[str, str]) -> Any:
    """``root`` with every string in ``replace`` replaced (post-order over an explicit stack: a
    container is copied only when a child changed)."""
    results: dict[int, Any] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if not done:
            stack.append((node, True))
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, False) for child in children if isinstance(child, dict | list))
            continue
        if id(node) in results:
            continue
        if isinstance(node, dict):
            changed: dict[Any, Any] | None = None
            for i, (key, child) in enumerate(node.items()):
                new_child = _replaced(child, replace, results)
                new_key = replace.get(key, key) if isinstance(key, str) else key
                if new_child is not child or new_key is not key:
                    if changed is None:
                        changed = dict(list(node.items())[:i])
                    while new_key in changed:  # two keys masked alike: keep both
                        new_key = f"{new_key}#"
                elif changed is None:
                    continue
                changed[new_key] = new_child
            results[id(node)] = node if changed is None else changed
        else:
            items: list[Any] | None = None
            for i, child in enumerate(node):
                new_child = _replaced(child, replace, results)
                if new_child is not child:
                    if items is None:
                        items = list(node)
                    items[i] = new_child
            results[id(node)] = node if items is None else items
    return results[id(root)]


def _replaced(child: Any, replace: dict[str, str], results: dict[int, Any]) -> Any:
    if isinstance(child, dict | list):
        return results[id(child)]
    if isinstance(child, str):
        return replace.get(child, child)
    return child


def mask_parsed(parsed: Parsed) -> Parsed:
    """A collector's result with every credential masked in what becomes the record: ``data``,
    ``problems``, the tool's name and version and the subject's name and version (in place)."""
    parsed.data = mask_tree(parsed.data)
    parsed.problems = [mask_credentials(p) for p in parsed.problems]
    if parsed.tool is not None:
        name, version = parsed.tool.name, parsed.tool.version
        masked_name = mask_credentials(name)
        masked_version = None if version is None else mask_credentials(version)
        if masked_name is not name or masked_version is not version:
            parsed.tool = Tool(name=masked_name, version=masked_version)
    subject = parsed.subject
    masked_subject_name = None if subject.name is None else mask_credentials(subject.name)
    masked_subject_version = None if subject.version is None else mask_credentials(subject.version)
    if masked_subject_name is not subject.name or masked_subject_version is not subject.version:
        parsed.subject = Subject(masked_subject_name, masked_subject_version, subject.digest)
    return parsed


def mask_document(raw: bytes, source: str) -> bytes:
    """The raw artefact as a bundle may store it: every credential masked (``raw`` if none).

    JSON is parsed and rewritten by ``mask_tree`` (so a JSON escape cannot hide a token); any
    other text (HCL, XML, tag-value, JSON Lines) is masked as text and written as UTF-8; bytes
    that are not text are returned as they are. The redaction hook of a format with nothing else
    to redact, and the last step of the others.
    """
    doc = Artefact(source, raw)
    if doc.looks_like_json:
        try:
            value = doc.json()
        except InputError:
            value = None  # JSON Lines, or broken: masked as text below
        else:
            masked = mask_tree(value)
            return raw if masked is value else _dump(masked)
    try:
        text = doc.text
    except InputError:
        return raw  # not text (a DER signature, ...): no credential can be read from it as text
    masked_text = mask_credentials(text)
    return raw if masked_text is text else masked_text.encode("utf-8", "surrogatepass")


def with_masking(redact: Callable[[bytes, str], bytes]) -> Callable[[bytes, str], bytes]:
    """A format's own redaction hook followed by ``mask_document``."""

    def hook(raw: bytes, source: str) -> bytes:
        return mask_document(redact(raw, source), source)

    return hook


# The keys under which ``_redact_fields`` finds what a secret scanner's report quotes (Trivy's
# ``Secrets`` and ``Misconfigurations``, SARIF's ``runs``, gitleaks' fields): a report that names
# none of them has no field to redact.
_SCAN_FIELD_KEYS = re.compile(r'"(?:Secrets?|Misconfigurations|runs|Match|[Ll]ine|offender)"')


#: The copy ``unchanged_copy`` makes of an artefact the bundle stores exactly as it is: no bytes (an
#: artefact is never empty, so no copy is ever these), so that the raw bytes are not held from
#: collection to the bundle; ``bundle.redact.redacted_copy`` stores the raw bytes it read for it.
AS_IS = b""


def unchanged_copy(doc: Artefact, redact: Callable[[bytes, str], bytes] | None) -> bytes | None:
    """``AS_IS`` when the bundle would store the artefact exactly as it is, proven from the parse
    its collector made; ``None`` when that is not proven (the bundle then applies the format's
    hook to the raw bytes, as it always did).

    For a format without a ``redact`` hook (``mask_document``) or with ``redact_secret_scan``: a
    JSON document the collector parsed, in which ``mask_tree`` masks nothing (and, for a scan
    report, whose text names no key under which ``_redact_fields`` looks), is stored as it is:
    exactly when ``mask_document`` would give the raw bytes back. So an SBOM is not parsed again
    to be copied into a bundle, and its strings are scanned once for each distinct one
    (``credential_candidates``). Any other hook: ``None``.
    """
    if redact is not None and redact is not redact_secret_scan:
        return None
    if not doc.looks_like_json:
        return None
    try:
        value = doc.json()  # the collector's parse (cached): only a document that is one JSON value
        if redact is not None and _SCAN_FIELD_KEYS.search(_as_dumped_text(doc.text)) is not None:
            return None
    except InputError:
        return None
    return AS_IS if mask_tree(value) is value else None


# ``key = value``, ``key: value``, ``"key": "value"``, ``KEY=value`` in a quoted line of code.
_ASSIGNMENT = re.compile(
    r"""(?<![\w.-])(?P<key>[A-Za-z_][\w.-]*+)["']?[ \t]*(?::|=(?!=))[ \t]*"""
    r"""(?P<value>"[^"\n]*+"|'[^'\n]*+'|[^\s"'#,;]++)"""
)
_BARE_LITERAL = re.compile(r"[A-Za-z0-9_+/=!@#%^&*~-]+")


def quotes_secret(line: str) -> bool:
    """True when a line of code a tool quotes holds a credential: a well-known credential shape
    (``_SHAPES``: an AWS access key id, a private key, a GitHub or Slack token, a URL with a
    password), or a literal assigned to a name that says secret (``secret_name``:
    ``password = "..."``, ``api_key: ...``, ``"client_secret": "..."``,
    ``export AWS_SECRET_ACCESS_KEY=...``).

    A reference is not a literal: ``password = var.db_password``, ``${{ secrets.TOKEN }}``,
    ``password: !Ref DbPassword``, ``{ password: newPassword }`` (a variable named after the secret)
    and ``token = null`` are code, not secrets; nor is a redaction marker, nor a value the tool
    already masked (``*****``), nor a setting word (``http_tokens = "required"``).
    """
    line = _MARKER.sub("", line)
    if any(pattern.search(line) for pattern in _shapes_in(line)):
        return True
    for match in _ASSIGNMENT.finditer(line):
        key = match.group("key").rsplit(".", 1)[-1]
        if not secret_name(key):
            continue
        value = match.group("value")
        if value[:1] in "\"'":
            literal = value[1:-1]
            if len(literal) >= MIN_SCRUB_LENGTH and _literal_value(literal):
                return True
        elif (
            len(value) >= MIN_SCRUB_LENGTH
            and _BARE_LITERAL.fullmatch(value)
            and _literal_value(value)
            and not (_IDENTIFIER.fullmatch(value) and secret_name(value))  # password: newPassword
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
    if not value.strip() or value.startswith("${") or is_marker(value):
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
    if not text or is_marker(text):
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
        if isinstance(field, str) and field and not is_marker(field):
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
                    if not is_marker(child):
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
