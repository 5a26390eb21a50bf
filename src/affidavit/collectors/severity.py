"""The shared vocabulary of vulnerability scans: severity, CVSS, fix state, ecosystem, time.

Every scanner speaks its own words. This module maps them onto one scale so that a policy can say
"no critical findings" once, whichever tool wrote the report, and it builds the
``vulnerability-scan`` data shape that every scanner collector returns (``FindingSet``).

Severity words (``severity_of``), case-insensitive:

* ``critical``: CRITICAL, Critical, critical (Trivy, Grype, npm, GitHub/OSV).
* ``high``: HIGH, High, high (every tool); Important (Red Hat, seen through Grype).
* ``medium``: MEDIUM, Medium (Trivy, Grype); MODERATE, moderate (npm, GitHub/OSV, Red Hat).
* ``low``: LOW, Low, low (every tool).
* ``negligible``: Negligible (Grype, Ubuntu); info, informational (npm); None (the CVSS rating of
  a 0.0 score); unimportant (Debian).
* ``unknown``: UNKNOWN, Unknown (Trivy, Grype); unspecified, untriaged (Ubuntu); empty or absent.

By tool:

* Trivy writes ``CRITICAL``, ``HIGH``, ``MEDIUM``, ``LOW`` or ``UNKNOWN`` (its ``Severity`` field,
  already chosen by Trivy from the vendor it trusts most).
* Grype writes ``Critical``, ``High``, ``Medium``, ``Low``, ``Negligible`` or ``Unknown``.
* npm audit writes ``critical``, ``high``, ``moderate``, ``low`` or ``info``: ``moderate`` is our
  ``medium`` and ``info`` (advisories npm itself calls informational) is ``negligible``.
* OSV records from GitHub carry ``database_specific.severity`` ``LOW``/``MODERATE``/``HIGH``/
  ``CRITICAL``; Ubuntu records carry words such as ``medium`` or ``negligible``.
* pip-audit gives no severity at all: its findings are ``unknown``.

A word that says nothing (``UNKNOWN``, ``unspecified``, empty, absent) is treated as no word: when the
report also gives a CVSS base score, the score decides (fail closed: an "unknown" 9.8 is a critical).
A word we do not know maps to ``unknown``; collectors note it in the record's problems.

CVSS base scores map by the qualitative rating bands that CVSS v3.x and v4.0 share
(``severity_of_score``): 9.0-10.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low, 0.0 ("None")
negligible.

``cvss_score`` in a finding is the highest CVSS v3.x/v4.0 base score the report gives for it, over
every vendor; only when it gives no v3/v4 score does a CVSS v2 score count (v2 scores run higher on
the same flaw and the bands above are v3/v4 bands). OSV records carry vectors, not scores: the score
is computed from the vector with the ``cvss`` library (Red Hat Product Security's implementation of
the FIRST specifications for v2, v3.0, v3.1 and v4.0).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from affidavit.model import Severity

if TYPE_CHECKING:
    from collections.abc import Iterable

# ---------------------------------------------------------------------------------------------
# Severity

_WORDS: dict[str, Severity] = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "important": Severity.HIGH,  # Red Hat
    "medium": Severity.MEDIUM,
    "moderate": Severity.MEDIUM,  # npm, GitHub advisories, Red Hat
    "low": Severity.LOW,
    "negligible": Severity.NEGLIGIBLE,  # Grype, Ubuntu
    "info": Severity.NEGLIGIBLE,  # npm
    "informational": Severity.NEGLIGIBLE,
    "none": Severity.NEGLIGIBLE,  # CVSS rating "None" (score 0.0)
    "unimportant": Severity.NEGLIGIBLE,  # Debian
}

# Words that mean "the tool does not know": a CVSS score, when given, decides instead.
_NO_WORD = frozenset({"", "unknown", "unspecified", "untriaged", "not yet assigned", "n/a"})


def is_known_severity_word(word: str | None) -> bool:
    """True when ``word`` is one of the words ``severity_of`` understands (or says "unknown")."""
    if word is None:
        return True
    key = word.strip().lower()
    return key in _WORDS or key in _NO_WORD


def severity_of(word: str | None, score: float | None = None) -> Severity:
    """Map a tool's severity word, or when it has none a CVSS base score, onto ``Severity``.

    See the module docstring for each tool's words. ``word`` wins over ``score`` whenever it says
    something; a word we do not know gives ``unknown`` rather than a guess.
    """
    key = word.strip().lower() if isinstance(word, str) else ""
    if key in _WORDS:
        return _WORDS[key]
    if key in _NO_WORD:
        return severity_of_score(score)
    return Severity.UNKNOWN


def severity_of_score(score: float | None) -> Severity:
    """The CVSS v3.x/v4.0 qualitative rating of a base score (``None`` or out of range: unknown)."""
    if score is None or score < 0.0 or score > 10.0:
        return Severity.UNKNOWN
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.NEGLIGIBLE


def worst_severity(values: Iterable[Severity]) -> Severity:
    """The most severe of ``values`` (``unknown`` ranks below ``negligible``; empty: unknown)."""
    best = Severity.UNKNOWN
    for value in values:
        if _RANK[value] > _RANK[best]:
            best = value
    return best


_RANK = {
    Severity.UNKNOWN: 0,
    Severity.NEGLIGIBLE: 1,
    Severity.LOW: 2,
    Severity.MEDIUM: 3,
    Severity.HIGH: 4,
    Severity.CRITICAL: 5,
}


# ---------------------------------------------------------------------------------------------
# CVSS


def score(value: Any) -> float | None:
    """A CVSS score as the report wrote it (number or numeric string), or ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    if result != result or result < 0.0 or result > 10.0:  # NaN or out of range
        return None
    return result


def cvss_version(vector: str) -> str | None:
    """``"4"``, ``"3"`` or ``"2"`` for a CVSS vector string, ``None`` when it is not one."""
    text = vector.strip()
    if text.startswith("CVSS:4."):
        return "4"
    if text.startswith("CVSS:3."):
        return "3"
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    if text.startswith("AV:") and "/Au:" in text:
        return "2"
    return None


def cvss_vector_score(vector: str) -> float | None:
    """The base score of a CVSS v2, v3.x or v4.0 vector, or ``None`` if it cannot be read.

    Computed with the ``cvss`` library (imported here so that importing collectors stays cheap).
    """
    version = cvss_version(vector)
    if version is None:
        return None
    import cvss  # type: ignore[import-untyped]  # no type information shipped

    text = vector.strip()
    try:
        if version == "4":
            value = cvss.CVSS4(text).base_score
        elif version == "3":
            value = cvss.CVSS3(text).base_score
        else:
            value = cvss.CVSS2(text.strip("()")).base_score
    except (cvss.CVSSError, ValueError, KeyError, IndexError):
        return None
    return score(float(value))


def highest_score(modern: Iterable[float | None], legacy: Iterable[float | None] = ()) -> float | None:
    """The highest of the CVSS v3/v4 scores ``modern``; the highest v2 score only if there is none."""
    best: float | None = None
    for value in modern:
        if value is not None and (best is None or value > best):
            best = value
    if best is None:
        for value in legacy:
            if value is not None and (best is None or value > best):
                best = value
    return best


# ---------------------------------------------------------------------------------------------
# Fix state

_STATUS = {
    # Trivy (pkg/types: Status)
    "fixed": "fixed",
    "affected": "not_fixed",
    "fix_deferred": "not_fixed",
    "under_investigation": "not_fixed",
    "will_not_fix": "will_not_fix",
    "end_of_life": "will_not_fix",
    "unknown": "unknown",
    # Grype (fix.state)
    "not-fixed": "not_fixed",
    "wont-fix": "will_not_fix",
    # our own words, and close spellings
    "not_fixed": "not_fixed",
    "notfixed": "not_fixed",
    "won't fix": "will_not_fix",
    "wont_fix": "will_not_fix",
}


def status_of(word: Any) -> str | None:
    """Normalise a tool's fix state to ``fixed|not_fixed|will_not_fix|unknown`` (``None``: not given).

    Trivy: ``fixed``; ``affected``, ``fix_deferred``, ``under_investigation`` (no fix yet) are
    ``not_fixed``; ``will_not_fix`` and ``end_of_life`` are ``will_not_fix``. Grype: ``fixed``,
    ``not-fixed``, ``wont-fix``, ``unknown``. Any other word is ``unknown``.
    """
    if not isinstance(word, str) or not word.strip():
        return None
    return _STATUS.get(word.strip().lower(), "unknown")


# ---------------------------------------------------------------------------------------------
# Time

_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$"
)


def iso_time(value: Any) -> str | None:
    """An ISO 8601 timestamp in UTC (``2021-08-25T12:20:30.000000005Z``), a date, or ``None``.

    Offsets are converted to UTC; a time without an offset is taken as UTC; fractional seconds are
    kept to the digit the tool wrote (Go writes nanoseconds). Go's zero time (year 1) and anything
    that is not a date are ``None``.
    """
    if not isinstance(value, str):
        return None
    m = _TIME.match(value.strip())
    if m is None:
        return None
    year, month, day, hour, minute, second, frac, zone = m.groups()
    if int(year) <= 1:
        return None
    try:
        if hour is None:
            return datetime(int(year), int(month), int(day)).date().isoformat()
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), tzinfo=UTC
        )
    except ValueError:
        return None
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        moment = moment.replace(tzinfo=timezone(sign * offset)).astimezone(UTC)
        text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    else:  # already UTC: the digits as written (strftime is the slow part on 5,000 findings)
        text = f"{year}-{month}-{day}T{hour}:{minute}:{second or '00'}"
    fraction = (frac or "").rstrip("0")
    if fraction:
        text += "." + fraction
    return text + "Z"


# ---------------------------------------------------------------------------------------------
# Packages

# The tools' ecosystem or package-type words, as package-URL types.
_ECOSYSTEMS = {
    # OS package families (Trivy result Type, Grype artifact type, OSV ecosystem)
    "alpine": "apk",
    "apk": "apk",
    "wolfi": "apk",
    "chainguard": "apk",
    "debian": "deb",
    "ubuntu": "deb",
    "deb": "deb",
    "dpkg": "deb",
    "redhat": "rpm",
    "centos": "rpm",
    "rocky": "rpm",
    "alma": "rpm",
    "almalinux": "rpm",
    "amazon": "rpm",
    "oracle": "rpm",
    "fedora": "rpm",
    "photon": "rpm",
    "suse": "rpm",
    "opensuse": "rpm",
    "sles": "rpm",
    "cbl-mariner": "rpm",
    "azurelinux": "rpm",
    "rpm": "rpm",
    # language ecosystems
    "npm": "npm",
    "yarn": "npm",
    "pnpm": "npm",
    "node-pkg": "npm",
    "javascript": "npm",
    "pip": "pypi",
    "pipenv": "pypi",
    "poetry": "pypi",
    "uv": "pypi",
    "python-pkg": "pypi",
    "python": "pypi",
    "pypi": "pypi",
    "jar": "maven",
    "pom": "maven",
    "gradle": "maven",
    "sbt": "maven",
    "java-archive": "maven",
    "maven": "maven",
    "gomod": "golang",
    "gobinary": "golang",
    "go": "golang",
    "go-module": "golang",
    "golang": "golang",
    "cargo": "cargo",
    "rustbinary": "cargo",
    "rust-crate": "cargo",
    "crates.io": "cargo",
    "composer": "composer",
    "php-composer": "composer",
    "packagist": "composer",
    "bundler": "gem",
    "gemspec": "gem",
    "gem": "gem",
    "rubygems": "gem",
    "nuget": "nuget",
    "dotnet-core": "nuget",
    "dotnet": "nuget",
    "packages-props": "nuget",
    "conan": "conan",
    "swift": "swift",
    "swifturl": "swift",
    "cocoapods": "cocoapods",
    "pub": "pub",
    "hex": "hex",
    "mix-lock": "hex",
    "conda-pkg": "conda",
    "conda": "conda",
    "hackage": "hackage",
    "cran": "cran",
}


def ecosystem_of(purl: str | None, word: str | None = None) -> str | None:
    """The package ecosystem as a package-URL type (``pypi``, ``npm``, ``deb`` ...).

    Taken from ``purl`` when there is one, else from the tool's ecosystem word (Trivy result
    ``Type``, Grype artifact ``type``, OSV ``ecosystem`` such as ``Debian:11``); a word we do not know
    is kept, lower-cased.
    """
    if purl and purl.startswith("pkg:"):
        kind = purl[4:].lstrip("/").split("/", 1)[0].lower()
        if kind:
            return kind
    if not word:
        return None
    key = word.strip().split(":", 1)[0].strip().lower()
    if not key:
        return None
    return _ECOSYSTEMS.get(key, key)


def _purl_part(text: str) -> str:
    """Percent-encode one package-URL path segment or version."""
    return quote(text, safe=".-_~+")


def language_purl(ecosystem: str | None, name: str | None, version: str | None) -> str | None:
    """A package URL for a PyPI or npm package (the two whose purl needs nothing but name/version).

    PyPI names are normalised as PEP 503 and the purl spec ask; npm scopes become the namespace.
    Other ecosystems need a namespace or qualifiers the reports do not give: ``None``.
    """
    if not name or ecosystem not in ("pypi", "npm"):
        return None
    if ecosystem == "pypi":
        path = _purl_part(re.sub(r"[-_.]+", "-", name).lower())
    elif name.startswith("@") and "/" in name:
        scope, _, bare = name.partition("/")
        path = _purl_part(scope) + "/" + _purl_part(bare)
    else:
        path = _purl_part(name)
    out = f"pkg:{ecosystem}/{path}"
    if version:
        out += "@" + _purl_part(version)
    return out


def clean_ids(values: Iterable[Any], exclude: str | None = None) -> list[str]:
    """Sorted unique non-empty string ids, without ``exclude`` (a finding's own id)."""
    out = {v.strip() for v in values if isinstance(v, str) and v.strip()}
    out.discard(exclude or "")
    return sorted(out)


def unique_strings(values: Iterable[Any]) -> list[str]:
    """Non-empty strings from ``values`` with duplicates dropped, in their first order."""
    seen: dict[str, None] = {}
    for value in values:
        if isinstance(value, str) and value.strip():
            seen.setdefault(value.strip(), None)
    return list(seen)


# ---------------------------------------------------------------------------------------------
# Image references


def pick_repo_digest(repo_digests: list[Any], name: str | None) -> tuple[str | None, str | None]:
    """The ``sha256:`` digest of the ``repo@sha256:...`` entry for the scanned image, and a note.

    One distinct digest is taken as is; several are narrowed to the one whose repository is the
    image's (``alpine:3.11`` matches ``alpine@sha256:...``, Docker Hub names expanded). When none
    matches, the first is taken and the note (a problem sentence) says so.
    """
    pairs = [d.split("@", 1) for d in repo_digests if isinstance(d, str) and "@sha256:" in d]
    if not pairs:
        return None, None
    digests = sorted({digest for _, digest in pairs})
    if len(digests) == 1:
        return digests[0], None
    repo = image_repository(name) if name else None
    for candidate, digest in pairs:
        if repo is not None and image_repository(candidate) == repo:
            return digest, None
    note = (
        f"{len(digests)} different repository digests and none for {name!r}: the first, "
        f"{pairs[0][1]}, is used as the subject digest"
    )
    return pairs[0][1], note


def image_repository(reference: str) -> str:
    """``registry/repository`` of an image reference without tag or digest (Docker Hub expanded)."""
    ref = reference.split("@", 1)[0]
    if ref.rfind(":") > ref.rfind("/"):
        ref = ref[: ref.rfind(":")]
    parts = ref.split("/")
    if len(parts) == 1 or not ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = ["docker.io", *parts]
    if parts[0] == "docker.io" and len(parts) == 2:
        parts = ["docker.io", "library", parts[1]]
    return "/".join(parts)


# ---------------------------------------------------------------------------------------------
# The vulnerability-scan data shape


def finding(
    *,
    id: str,
    aliases: list[str],
    severity: Severity,
    cvss_score: float | None,
    name: str | None,
    version: str | None,
    purl: str | None,
    ecosystem: str | None,
    fixed_versions: list[str],
    target: str | None,
    title: str | None,
    status: str | None,
    published_at: str | None,
    data_source: str | None,
) -> dict[str, Any]:
    """One finding in the public ``vulnerability-scan`` shape (keys in a fixed order)."""
    return {
        "id": id,
        "aliases": aliases,
        "severity": severity.value,
        "cvss_score": cvss_score,
        "package": {"name": name, "version": version, "purl": purl, "ecosystem": ecosystem},
        "fixed_versions": fixed_versions,
        "target": target,
        "title": title,
        "status": status,
        "published_at": published_at,
        "data_source": data_source,
    }


class FindingSet:
    """Findings in the tool's order, one per (vulnerability, package, target), and the targets."""

    def __init__(self) -> None:
        """Start with no findings and no targets."""
        self.findings: list[dict[str, Any]] = []
        self.targets: set[str] = set()
        self.duplicates = 0
        self._seen: set[tuple[Any, ...]] = set()

    def add(self, item: dict[str, Any]) -> bool:
        """Add ``item`` unless the same vulnerability, package and target is already there."""
        package = item["package"]
        key = (item["id"], package["name"], package["version"], package["purl"], item["target"])
        if key in self._seen:
            self.duplicates += 1
            return False
        self._seen.add(key)
        self.findings.append(item)
        return True

    def add_target(self, target: str | None) -> None:
        """Record a scanned target (a file, image, lockfile or Kubernetes resource)."""
        if target:
            self.targets.add(target)

    def data(
        self, database: dict[str, Any] | None = None, other: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The ``vulnerability-scan`` data mapping: findings, summary, targets (+ database, other)."""
        summary = {level.value: 0 for level in Severity}  # the Summary keys, in their order
        for item in self.findings:
            summary[item["severity"]] += 1
        summary["total"] = len(self.findings)
        out: dict[str, Any] = {
            "findings": self.findings,
            "summary": summary,
            "targets": sorted(self.targets),
        }
        if database is not None:
            out["database"] = database
        if other is not None:
            out["other"] = other
        return out
