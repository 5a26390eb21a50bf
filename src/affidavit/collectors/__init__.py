"""Collectors: read artefacts as their tools wrote them and normalise them into evidence records.

Public entry points: ``collect_document`` (one artefact) and ``collect_paths`` (files and folders,
every error gathered, nothing lost, every file left out listed with the reason). How a folder is
walked (links, special files, hidden files, ``--exclude``) is ``collectors.folder``; what is
ignored as clearly not evidence is ``collectors.shape``.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from affidavit.artefact import Artefact
from affidavit.collectors.folder import Action, FoundFile, IgnoreList, Skipped, walk
from affidavit.collectors.interface import CollectOptions
from affidavit.collectors.kinds.secrets import mask_parsed, unchanged_copy
from affidavit.collectors.registry import detect
from affidavit.collectors.shape import by_magic, describe
from affidavit.errors import InputError, UnknownFormatError
from affidavit.model import Evidence
from affidavit.spool import SpooledCopy, spooled

__all__ = [
    "Action",
    "Artefact",
    "CollectOptions",
    "Collection",
    "Skipped",
    "collect_document",
    "collect_paths",
]


def collect_document(doc: Artefact, options: CollectOptions) -> Evidence:
    """Detect the format of ``doc`` and normalise it; raises ``InputError`` on bad input."""
    return _collect(doc, options)[0]


def _collect(doc: Artefact, options: CollectOptions) -> tuple[Evidence, bytes | SpooledCopy | None]:
    """``collect_document``, and the raw copy for a bundle its format made while it parsed
    (``CollectOptions.stored_copies``; ``None`` when it made none)."""
    try:
        fmt = detect(doc, options)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise InputError(doc.source, f"could not be recognised ({_where(exc)})") from None
    try:
        # every credential masked in what becomes the record (kinds.secrets.mask_parsed)
        parsed = mask_parsed(fmt.parse(doc, options))
        if options.stored_copies and parsed.stored is None:
            parsed.stored = unchanged_copy(doc, fmt.redact)  # from this parse, not another one
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
    record = Evidence(
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
    return record, parsed.stored


def _where(exc: BaseException) -> str:
    """The exception's type and the collector line that raised it; never its message, which
    could quote a value of the artefact (a secret, a sensitive plan value)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    last = frames[-1]
    return f"{type(exc).__name__} at {Path(last.filename).name}:{last.lineno}"


@dataclass(slots=True)
class Collection:
    """What collecting gave: the records read and the errors met (a non-empty ``errors`` means the
    run cannot complete), the file each record was read from, and every file or folder that was
    not read as evidence with the reason (``skipped``, in walking order). A ``REFUSED`` entry of
    ``skipped`` is also one of ``errors``.

    ``stored``: the raw copies for a bundle that formats made while they parsed (by record id, so
    each serves only the bytes it was made from; ``CollectOptions.stored_copies``), at most
    ``STORED_LIMIT`` bytes in all: past that a copy is left out and the bundle writer makes it
    from the raw bytes again, so an evidence folder of many large plans is never held whole. A copy
    of ``spool.SPOOL_FROM`` bytes or more waits in an unnamed temporary file (``SpooledCopy``), not
    in memory, while the evidence is judged (in memory when the temporary folder cannot take it)."""

    evidence: list[Evidence] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    documents: dict[str, Path] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    stored: dict[str, bytes | SpooledCopy] = field(default_factory=dict)
    ignore_lists: list[IgnoreList] = field(default_factory=list)  # each folder's .affidavitignore as read


STORED_LIMIT = 1 << 30


_REFUSED_HINT = (
    "affidavit reads only regular files inside the evidence folder: copy the file in, or leave it "
    "out with --exclude"
)


def collect_paths(
    paths: Iterable[Path], options: CollectOptions, *, exclude: Sequence[str] = ()
) -> Collection:
    """Collect every file under ``paths`` (see ``collectors.folder``); one bad file never stops
    the others. ``exclude``: ``--exclude`` patterns (an empty one is a ``UsageError``)."""
    result = Collection()
    for item in walk(paths, exclude):
        if isinstance(item, Skipped):
            result.skipped.append(item)
            if item.action is Action.REFUSED:
                result.errors.append(InputError(item.path, f"is {item.reason}", hint=_REFUSED_HINT))
        elif isinstance(item, InputError):
            result.errors.append(item)
        elif isinstance(item, IgnoreList):
            result.ignore_lists.append(item)
        else:
            _collect_file(item, options, result)
    return result


def _collect_file(found: FoundFile, options: CollectOptions, result: Collection) -> None:
    try:
        doc = Artefact.from_path(Path(found.name), source=found.source, dir_fd=found.dir_fd)
    except InputError as exc:
        result.errors.append(exc)
        return
    # An image or PDF found in a folder is left out before any format looks at it; text and HTML
    # once no format claims them. A file the caller named is always evidence (or an error).
    shape = None if found.named else by_magic(doc.raw)
    if shape is not None:
        result.skipped.append(Skipped(found.source, Action.IGNORED, shape.ignored_because))
        return
    try:
        evidence, stored = _collect(doc, options)
    except UnknownFormatError as exc:
        shape = None if found.named else describe(doc)
        if shape is not None and shape.not_evidence:
            result.skipped.append(Skipped(found.source, Action.IGNORED, shape.ignored_because))
        else:
            result.errors.append(exc)
        return
    except InputError as exc:
        result.errors.append(exc)
        return
    result.evidence.append(evidence)
    result.documents[evidence.id] = found.location
    if stored is not None and sum(map(len, result.stored.values())) + len(stored) <= STORED_LIMIT:
        result.stored[evidence.id] = spooled(stored)
