"""Collectors: read artefacts as their tools wrote them and normalise them into evidence records.

Public entry points: ``collect_document`` (one artefact), ``collect_paths`` (files and folders,
every error gathered, nothing lost) and ``iter_files``.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from affidavit.artefact import Artefact
from affidavit.collectors.interface import CollectOptions
from affidavit.collectors.registry import detect
from affidavit.errors import InputError
from affidavit.model import Evidence

__all__ = ["CollectOptions", "Collection", "Artefact", "collect_document", "collect_paths", "iter_files"]


def collect_document(doc: Artefact, options: CollectOptions) -> Evidence:
    """Detect the format of ``doc`` and normalise it; raises ``InputError`` on bad input."""
    try:
        fmt = detect(doc, options)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise InputError(doc.source, f"could not be recognised ({_where(exc)})") from None
    try:
        parsed = fmt.parse(doc, options)
    except InputError as exc:
        if exc.kind is None:
            exc.kind = fmt.kind.value
        raise
    except RecursionError:
        raise InputError(doc.source, "is nested too deeply to be read safely", kind=fmt.kind.value) from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        # A shape the collector did not expect (a number where a list belongs, ...). Each
        # collector checks the shapes it relies on; this is the net under those checks, so that
        # a malformed artefact is still an error naming the file (exit 3), never a crash.
        raise InputError(
            doc.source,
            f"has a shape the {fmt.name} reader does not understand ({_where(exc)})",
            hint="check that the file is the tool's unmodified output; if it is, please report it",
            kind=fmt.kind.value,
        ) from None
    finally:
        doc.release()
    return Evidence(
        id=doc.id,
        kind=parsed.kind or fmt.kind,
        format=fmt.name,
        format_version=parsed.format_version,
        tool=parsed.tool,
        subject=parsed.subject,
        source=doc.source,
        collected_at=options.now,
        effective_at=parsed.effective_at,
        data=parsed.data,
        problems=tuple(parsed.problems),
    )


def _where(exc: BaseException) -> str:
    """The exception's type and the collector line that raised it; never its message, which
    could quote a value of the artefact (a secret, a sensitive plan value)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    last = frames[-1]
    return f"{type(exc).__name__} at {Path(last.filename).name}:{last.lineno}"


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Every regular file under ``paths`` in a stable order, skipping hidden files and folders."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if child.is_file():
                    yield child
        else:
            yield path


@dataclass(slots=True)
class Collection:
    """The records read and the errors met; a non-empty ``errors`` means the run cannot complete."""

    evidence: list[Evidence] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    documents: dict[str, Path] = field(default_factory=dict)


def collect_paths(paths: Iterable[Path], options: CollectOptions) -> Collection:
    """Collect every file under ``paths``; one bad file never stops the others."""
    result = Collection()
    for path in iter_files(paths):
        try:
            doc = Artefact.from_path(path)
            evidence = collect_document(doc, options)
        except InputError as exc:
            result.errors.append(exc)
            continue
        result.evidence.append(evidence)
        result.documents[evidence.id] = path
    return result
