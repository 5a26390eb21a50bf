"""The explicit list of every format affidavit reads, and detection by content.

Nothing registers itself by being imported: a format exists because it is listed in ``_MODULES``
below, and ``tests/collectors/test_registry.py`` fails when an evidence kind has no format, a
format has no corpus test, or a module is listed twice.

A format whose raw bytes can carry a secret declares a ``redact`` hook; ``redactor`` gives it
for a record's format, so that the bundle decides what to scrub through this table and keeps no
list of its own (``tests/bundle/test_secret_scanner_bundles.py`` checks every secret-scan format
has one).

Detection never looks at the file name. Every format's detector scores the content; the highest
score wins, and a tie between two formats of different kinds is an error rather than a guess.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

from affidavit.collectors.interface import NO, CollectOptions, Format, Redactor
from affidavit.collectors.shape import describe
from affidavit.errors import InputError, UnknownFormatError

if TYPE_CHECKING:
    from affidavit.artefact import Artefact
    from affidavit.model import EvidenceKind

# Each module exposes ``FORMATS: tuple[Format, ...]``. Modules are imported on first use, so that
# ``affidavit --help`` does not pay for them.
_MODULES: tuple[str, ...] = (
    "affidavit.collectors.formats.cyclonedx",
    "affidavit.collectors.formats.spdx",
    "affidavit.collectors.formats.trivy",
    "affidavit.collectors.formats.grype",
    "affidavit.collectors.formats.osv_scanner",
    "affidavit.collectors.formats.pip_audit",
    "affidavit.collectors.formats.npm_audit",
    "affidavit.collectors.formats.gitleaks",
    "affidavit.collectors.formats.sarif",
    "affidavit.collectors.formats.checkov",
    "affidavit.collectors.formats.tfsec",
    "affidavit.collectors.formats.terraform_plan",
    "affidavit.collectors.formats.terraform_config",
    "affidavit.collectors.formats.branch_protection",
    "affidavit.collectors.formats.change_record",
    "affidavit.collectors.formats.cosign",
    "affidavit.collectors.formats.sigstore_bundle",
    "affidavit.collectors.formats.attestation",
)


@cache
def formats() -> tuple[Format, ...]:
    """Every known format, in registry order."""
    out: list[Format] = []
    for name in _MODULES:
        module = importlib.import_module(name)
        out.extend(module.FORMATS)
    names = [f.name for f in out]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:  # a programming error, caught by the registry test
        raise RuntimeError(f"format names registered twice: {', '.join(duplicates)}")
    return tuple(out)


def format_by_name(name: str) -> Format:
    """Look a format up by its name (``trivy-json``)."""
    for fmt in formats():
        if fmt.name == name:
            return fmt
    raise KeyError(name)


def redactor(format_name: str) -> Redactor | None:
    """The redaction hook of the format ``format_name`` (``None``: the format never carries a secret).

    The bundle writer asks this for every raw artefact it stores; an unknown format name is a
    ``KeyError``, never "nothing to redact".
    """
    return format_by_name(format_name).redact


def redactors() -> dict[str, Redactor]:
    """Every format that has a redaction hook, by name."""
    return {f.name: f.redact for f in formats() if f.redact is not None}


def detect(doc: Artefact, options: CollectOptions | None = None) -> Format:
    """Choose the format of ``doc`` from its content (``options.kind``/``format`` narrow the choice)."""
    candidates = formats()
    if options is not None and options.format is not None:
        try:
            return format_by_name(options.format)
        except KeyError:
            raise InputError(doc.source, f"unknown format {options.format!r}") from None
    if options is not None and options.kind is not None:
        candidates = tuple(f for f in candidates if f.kind == options.kind)

    scored = sorted(
        ((f.detect(doc), i, f) for i, f in enumerate(candidates)),
        key=lambda t: (-t[0], t[1]),
    )
    best_score, _, best = scored[0] if scored else (NO, 0, None)
    if best is None or best_score <= NO:
        raise _unknown(doc, options)
    if len(scored) > 1 and scored[1][0] == best_score and scored[1][2].kind != best.kind:
        raise InputError(
            doc.source,
            f"content matches both {best.name} and {scored[1][2].name} equally well",
            hint="pass --kind to say which it is",
        )
    return best


def _unknown(doc: Artefact, options: CollectOptions | None) -> InputError:
    """No format reads ``doc``: say what it is by its shape (``collectors.shape``), never by its
    content: no first line, no keys (a ``creds.env`` or a key named after a secret would leak)."""
    kind_note = f" of kind {options.kind.value}" if options is not None and options.kind is not None else ""
    shape = describe(doc)  # broken JSON raises its own error, which names the place, not the text
    return UnknownFormatError(
        doc.source,
        f"not a format affidavit knows{kind_note} ({shape.what})",
        hint="the README lists the tool outputs affidavit reads; leave out a file that is not "
        "evidence with --exclude",
    )


def kinds_with_formats() -> set[EvidenceKind]:
    """The evidence kinds at least one format produces."""
    return {f.kind for f in formats()}
