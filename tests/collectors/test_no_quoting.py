"""No error message or record problem quotes an artefact's content (issue 9: "describe the
shape, never the bytes").

For every corpus file, every golden's input (read with its own settings) and a fixed sample of
``tools/mutate_corpus.py``'s damaged copies, the ``InputError`` that refuses it, or the record's
``problems[]`` and signature ``reasons[]``, must hold no string of the document that is 12
characters or longer. The document's strings are found independently of the collectors: every
JSON string value and key (JSON Lines line by line, DSSE payloads decoded), every XML text and
attribute value, and every line and quoted literal of other text (SPDX tag-value, HCL, PEM).

Strings that are affidavit's own vocabulary are allowed: a value that occurs in affidavit's
source (a format's media type, a field name, a predicate type it names in its own messages).
The file's own name (the ``source`` every message starts with) is removed before the check.
"""

from __future__ import annotations

import base64
import binascii
import importlib.util
import json
import random
import re
import typing
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from pydantic import BaseModel

from affidavit.collectors import Artefact, CollectOptions, collect_document
from affidavit.errors import InputError
from tests.collectors.test_corpus_contract import GOLDENS, INDEXED
from tests.conftest import CORPUS, NOW, REPO

SHORTEST = 12  # a string of the document this long or longer may not appear in a message

# ---------------------------------------------------------------------------------------------
# The strings of a document, read without the collectors


def _json_strings(value: Any, found: set[str]) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.add(item)
            inner = _decoded_payload(item)
            if inner is not None:
                stack.append(inner)
        elif isinstance(item, dict):
            for key, child in item.items():
                found.add(key)
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)


def _decoded_payload(text: str) -> Any:
    """A base64 string holding a JSON document (a DSSE payload), parsed; else None."""
    if len(text) < 16 or not re.fullmatch(r"[A-Za-z0-9+/=_-]+", text):
        return None
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if "-" in text else None)
        return json.loads(raw)
    except (binascii.Error, ValueError):
        return None


def _xml_strings(raw: bytes, found: set[str]) -> bool:
    try:
        root = ElementTree.fromstring(raw)  # noqa: S314 - the shared corpus, not user input
    except ElementTree.ParseError:
        return False
    for element in root.iter():
        for text in (element.text, element.tail, *element.attrib.values()):
            if text:
                found.add(text)
                found.add(text.strip())
    return True


_QUOTED = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def _text_strings(text: str, found: set[str]) -> None:
    for line in text.splitlines():
        stripped = line.strip()
        found.add(stripped)
        if ":" in stripped:  # SPDX tag-value: "Tag: value"
            found.add(stripped.split(":", 1)[1].strip())
        found.update(match.group(1) for match in _QUOTED.finditer(line))


def document_strings(raw: bytes) -> frozenset[str]:
    """Every string of ``raw`` that is ``SHORTEST`` characters or longer."""
    found: set[str] = set()
    text = raw.decode("utf-8", "replace")
    try:
        _json_strings(json.loads(raw), found)
    except ValueError:
        parsed_lines = False
        for line in text.splitlines():
            try:
                _json_strings(json.loads(line), found)
                parsed_lines = True
            except ValueError:
                continue
        if not parsed_lines and not _xml_strings(raw, found):
            _text_strings(text, found)
    return frozenset(s for s in found if len(s) >= SHORTEST)


@cache
def _vocabulary() -> str:
    """affidavit's own text (every source, schema, policy and matrix file of the package), and
    the field names of the Sigstore models it checks bundles and trust roots with."""
    package = REPO / "src" / "affidavit"
    sources = [
        path.read_text(encoding="utf-8")
        for path in sorted(package.rglob("*"))
        if path.is_file() and path.suffix in {".py", ".json", ".yaml", ".rego"}
    ]
    return "\n".join([*sources, *sorted(_model_fields())])


def _model_fields() -> set[str]:
    """The JSON names of every field of sigstore's Bundle and TrustedRoot models, nested ones too."""
    from sigstore_models.bundle.v1 import Bundle
    from sigstore_models.trustroot.v1 import TrustedRoot

    names: set[str] = set()
    seen: set[type[BaseModel]] = set()
    stack: list[type[BaseModel]] = [Bundle, TrustedRoot]
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():
            names.add(info.alias or name)
            for outer in typing.get_args(info.annotation) or (info.annotation,):
                stack.extend(
                    inner
                    for inner in typing.get_args(outer) or (outer,)
                    if isinstance(inner, type) and issubclass(inner, BaseModel)
                )
    return names


def quoted(strings: frozenset[str], message: str, source: str) -> list[str]:
    """The strings of the document that ``message`` holds (outside its file name)."""
    said = message.replace(source, "<source>")
    vocabulary = _vocabulary()
    return sorted(s for s in strings if s in said and s not in vocabulary)


# ---------------------------------------------------------------------------------------------
# What a read says


def _reasons(value: Any) -> Iterator[str]:
    """Every string of a ``reasons`` list anywhere in record data (signature verification)."""
    if isinstance(value, dict):
        for key, child in value.items():
            if key == "reasons" and isinstance(child, list):
                yield from (r for r in child if isinstance(r, str))
            else:
                yield from _reasons(child)
    elif isinstance(value, list):
        for child in value:
            yield from _reasons(child)


def messages(doc: Artefact, options: CollectOptions) -> list[str]:
    """What reading ``doc`` says in words: the refusal, or the record's problems and reasons."""
    try:
        record = collect_document(doc, options)
    except InputError as exc:
        return [exc.diagnostics()]
    return [*record.problems, *_reasons(record.to_json()["data"])]


def _violations(name: str, raw: bytes, said: list[str], strings: frozenset[str]) -> list[str]:
    found = []
    for message in dict.fromkeys(said):
        values = quoted(strings, message, name)
        if values:
            lengths = ", ".join(str(len(v)) for v in values)
            found.append(f"{name}: quotes strings of the file ({lengths} characters): {message[:240]}")
    return found


# ---------------------------------------------------------------------------------------------
# The checks


def _mutation_module() -> Any:
    spec = importlib.util.spec_from_file_location("mutate_corpus", REPO / "tools" / "mutate_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_check_finds_a_quoted_value() -> None:
    """The check itself: a message quoting a JSON value, a key or an SPDX line is caught; one
    that names the place and the shape is not."""
    raw = json.dumps({"spdxVersion": "SPDX-9.9-hostile", "packages": {"evil-package-name": 1}}).encode()
    strings = document_strings(raw)
    assert quoted(strings, "f: $.spdxVersion: 'SPDX-9.9-hostile' is not one affidavit reads", "f")
    assert quoted(strings, "f: $.packages['evil-package-name']: odd", "f")
    assert not quoted(strings, "f: $.spdxVersion: a string of 16 characters, not a version", "f")
    tag_value = b"SPDXVersion: SPDX-2.3\nPackageName: some-long-package\n"
    assert quoted(document_strings(tag_value), "f: line 2: 'some-long-package' is odd", "f")


def test_no_message_quotes_the_corpus() -> None:
    """Every corpus file and every golden's input, read as the contract tests read them."""
    options = CollectOptions(now=NOW)
    violations: list[str] = []
    reads = 0
    for file in INDEXED:
        raw = file.raw
        said = messages(Artefact(file.rel, raw), options)
        violations += _violations(file.rel, raw, said, document_strings(raw))
        reads += 1
    for golden in GOLDENS.values():
        raw = golden.input_path.read_bytes()
        said = messages(Artefact(golden.source_name, raw), golden.options())
        violations += _violations(golden.source_name, raw, said, document_strings(raw))
        reads += 1
    assert reads > 300
    assert not violations, f"{len(violations)} message(s) quote their artefact:\n" + "\n".join(violations)


def test_no_message_quotes_a_mutated_file() -> None:
    """tools/mutate_corpus.py's fixed sample (as in test_mutations): damaged files are refused,
    or read with problems, in words that quote none of their strings."""
    module = _mutation_module()
    files: list[Path] = module.corpus_files(max_size=100_000)[::2]
    rng = random.Random(20261122)
    options = CollectOptions(now=NOW)
    violations: list[str] = []
    reads = 0
    for path in files:
        raw = path.read_bytes()
        original = document_strings(raw)
        name = f"mutated/{path.relative_to(CORPUS).as_posix()}"
        for data in (*module.shape_mutations(raw, rng, 10), *module.byte_mutations(raw, rng, 10)):
            said = messages(Artefact(name, data), options)
            violations += _violations(name, data, said, original | document_strings(data))
            reads += 1
    assert reads > 1500
    assert not violations, f"{len(violations)} message(s) quote their artefact:\n" + "\n".join(violations)
