"""Terraform configuration sources (``.tf`` files in HCL native syntax).

One format, ``terraform-hcl``, read with python-hcl2 (imported inside the parser: importing it
costs about 0.15 s, which ``affidavit --help`` must not pay). Detection is by content only: a
top-level Terraform block (``resource "t" "n" {``, ``data``, ``terraform {``, ``provider "p" {``,
``module "m" {``, ``variable``, ``output``, ``locals``) at the start of a line. JSON (including
``.tf.json``), YAML and SPDX tag-value documents are never claimed.

The record (kind ``terraform-config``) keeps:

- ``backend``: ``{type, config}`` from ``terraform { backend "s3" { ... } }`` (HCP Terraform's
  ``cloud { ... }`` block reads as type ``cloud``), or ``null`` when the file declares none; a
  setting that looks like a secret (``access_key``, ``token``) is ``"(sensitive)"``, as below;
- ``required_version``: the ``terraform { required_version = ... }`` constraint, or ``null``;
- ``providers[]``: ``{name, source, version_constraint}`` from ``required_providers`` (the object
  form ``aws = { source = ..., version = ... }`` and the old string form ``aws = "~> 3.0"``), plus
  every ``provider "x" {}`` block not listed there (``source: null``; ``version_constraint`` from
  the pre-0.13 ``version`` argument of the block when present, else ``null``), sorted by name;
- ``resources[]``: ``{address, mode, type, name, arguments}`` for ``resource`` (mode ``managed``)
  and ``data`` (mode ``data``, address ``data.<type>.<name>``) blocks, in file order;
  ``arguments`` are the block's attributes as python-hcl2 reads them: literals as JSON values,
  expressions as their source text wrapped in ``${...}`` (``"${var.region}"``), nested blocks
  as lists of objects (as in a plan's ``after``), ``dynamic`` blocks as written; literal values
  that look like secrets (``admin_password = "..."``, an AWS key in ``user_data``) are replaced
  by ``"(sensitive)"`` as in plan records, and ``problems`` lists where;
- ``modules[]``: ``{name, source, version}``.

Values are not evaluated: a ``.tf`` file says what was written, a plan says what will happen.

The file itself holds its secrets in clear (provider credentials, variable defaults, heredocs):
its ``redact`` hook replaces them before an evidence bundle stores the file (see ``redact``).

Building python-hcl2's parser and reading a file with it costs about 0.15 s a run, so the record
and the bundle's copy of a file are kept in the user cache (``affidavit.cache``) under the sha256
of the file's bytes, its name, python-hcl2's and lark's files, the organisation key of the
redaction markers (``AFFIDAVIT_SECRET_KEY``) and affidavit's code. Only what a bundle holds anyway
is stored: the record's data once no credential is left in it, and the redacted copy; never the
file's own text, and never a failure (a syntax error is raised each time).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import textwrap
from typing import Any

from affidavit.artefact import Artefact
from affidavit.cache import cached, package_digest
from affidavit.collectors.interface import LIKELY, NO, POSSIBLE, CollectOptions, Format, Parsed, Problems
from affidavit.collectors.kinds.secrets import (
    SECRET_KEY_ENV,
    is_marker,
    looks_secret,
    mask_credentials,
    mask_tree,
    quotes_secret,
    redaction_marker,
    secret_name,
    secret_setting,
    starts_with_marker,
)
from affidavit.collectors.kinds.terraform import scrub_secrets
from affidavit.errors import InputError
from affidavit.model import EvidenceKind, Subject

# A block label: quoted, or (HCL allows it) a bare identifier.
_L = r'(?:"[^"\n]+"|[A-Za-z_][\w-]*)'
# Blocks only Terraform (and OpenTofu) write at the top level of a file.
_STRONG = re.compile(
    rf"^(?:resource|data)[ \t]+{_L}[ \t]+{_L}[ \t]*\{{"
    rf"|^terraform[ \t]*\{{"
    rf"|^(?:provider|module)[ \t]+{_L}[ \t]*\{{",
    re.MULTILINE,
)
# Blocks that other HCL dialects (Packer, for instance) share with Terraform.
_WEAK = re.compile(rf"^(?:variable|output)[ \t]+{_L}[ \t]*\{{|^locals[ \t]*\{{", re.MULTILINE)
_SPDX = re.compile(r"^SPDXVersion:", re.MULTILINE)
_SNIFF_BYTES = 65536
_META_KEY = re.compile(r"^__\w+__$")


def _detect(doc: Artefact) -> int:
    """Score ``doc`` as a Terraform ``.tf`` source from its first 64 KiB."""
    if doc.looks_like_json or doc.head.startswith(("---", "%YAML")):
        return NO
    if doc.encoding == "utf-8" or doc.encoding == "utf-8-sig":
        sample = doc.raw[:_SNIFF_BYTES].decode("utf-8", errors="replace")
    else:
        try:
            sample = doc.text[:_SNIFF_BYTES]
        except InputError:
            return NO
    if "\x00" in sample or _SPDX.search(sample):
        return NO
    if _STRONG.search(sample):
        return LIKELY
    if _WEAK.search(sample):
        return POSSIBLE
    return NO


def _load_hcl(doc: Artefact) -> dict[str, Any]:
    """Parse ``doc`` with python-hcl2; a syntax error is an ``InputError`` naming line and column."""
    import hcl2
    from lark.exceptions import (
        LarkError,
        UnexpectedCharacters,
        UnexpectedEOF,
        UnexpectedInput,
        UnexpectedToken,
    )

    options = hcl2.SerializationOptions(
        with_comments=False, strip_string_quotes=True, preserve_heredocs=False
    )
    try:
        value = hcl2.loads(doc.text, serialization_options=options)
    except UnexpectedInput as exc:
        if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
            what = "the file ends before a block or expression is closed"
        elif isinstance(exc, UnexpectedToken):
            token = (str(exc.token).strip().splitlines() or [""])[0]
            what = (
                f"an unexpected token of {len(token)} character{'' if len(token) == 1 else 's'}"
                if token
                else "unexpected end of line"
            )
        elif isinstance(exc, UnexpectedCharacters):
            what = "an unexpected character"
        else:
            what = "unexpected input"
        raise InputError(
            doc.source,
            f"is not valid HCL: {what} at line {exc.line}, column {exc.column}",
            hint="run `terraform fmt` or `terraform validate` on it to see the error in context",
        ) from None
    except (LarkError, ValueError, TypeError) as exc:
        raise InputError(doc.source, f"is not valid HCL: {exc}") from None
    if not isinstance(value, dict):
        raise InputError(doc.source, "is not a Terraform configuration (no top-level blocks)")
    return value


def _clean(value: Any) -> Any:
    """``value`` without python-hcl2's ``__is_block__``-style marker keys."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if not _META_KEY.match(k)}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _labelled(blocks: Any) -> list[tuple[str, Any]]:
    """``(label, body)`` pairs of a one-label block list (``provider "aws" {}`` -> ``("aws", {...})``)."""
    out: list[tuple[str, Any]] = []
    for block in blocks if isinstance(blocks, list) else ():
        if isinstance(block, dict):
            out.extend((label, body) for label, body in block.items() if not _META_KEY.match(label))
    return out


def _str(value: Any) -> str | None:
    """A string attribute, or ``None`` when absent or not a string."""
    return value if isinstance(value, str) else None


def _terraform_block(
    tree: dict[str, Any], problems: Problems
) -> tuple[dict[str, Any] | None, str | None, dict[str, dict[str, Any]]]:
    """``backend``, ``required_version`` and the ``required_providers`` entries by name."""
    backend: dict[str, Any] | None = None
    required_version: str | None = None
    providers: dict[str, dict[str, Any]] = {}
    for block in tree.get("terraform") or ():
        if not isinstance(block, dict):
            continue
        version = _str(block.get("required_version"))
        if version is not None:
            if required_version is not None and version != required_version:
                problems.add(
                    "terraform",
                    "required_version given twice with different values; the first one is kept",
                )
            required_version = required_version or version
        declared = _labelled(block.get("backend"))
        declared += [("cloud", body) for body in block.get("cloud") or () if isinstance(body, dict)]
        for btype, body in declared:
            if backend is not None:
                problems.add("terraform", "more than one backend declared; the first one is kept")
                continue
            masked: list[list[Any]] = []
            config = scrub_secrets(_clean(body), [], masked) if isinstance(body, dict) else {}
            if masked:
                problems.add(
                    f'terraform.backend "{btype}"',
                    f"{len(masked)} setting(s) that look like secrets were replaced by '(sensitive)': "
                    "give backend credentials through the environment, not the .tf file",
                )
            backend = {"type": btype, "config": config}
        for req in block.get("required_providers") or ():
            if not isinstance(req, dict):
                continue
            for name, spec in req.items():
                if _META_KEY.match(name):
                    continue
                if isinstance(spec, str):  # the pre-0.13 string form: aws = "~> 3.0"
                    providers[name] = {"name": name, "source": None, "version_constraint": spec}
                elif isinstance(spec, dict):
                    providers[name] = {
                        "name": name,
                        "source": _str(spec.get("source")),
                        "version_constraint": _str(spec.get("version")),
                    }
                else:
                    problems.add(f"terraform.required_providers.{name}", "is neither a string nor an object")
    return backend, required_version, providers


def _hcl_identity() -> list[str | None] | None:
    """The inputs of a read besides the file, as a cache key part: python-hcl2's and lark's files,
    and the organisation key that redaction markers commit with (``kinds.secrets``; its sha256, and
    read as it is: a key too short is refused where a marker is made, as without the cache).
    ``None`` when a library cannot be found: nothing is cached then."""
    hcl2, lark = package_digest("hcl2"), package_digest("lark")
    key = os.environ.get(SECRET_KEY_ENV)
    marker_key = hashlib.sha256(os.fsencode(key)).hexdigest() if key else None
    return None if hcl2 is None or lark is None else [hcl2, lark, marker_key]


def _parse(doc: Artefact, options: CollectOptions) -> Parsed:
    """Normalise a ``.tf`` source into ``terraform-config`` data (from the user cache when this file
    was read before; see the module docstring)."""
    identity = _hcl_identity()
    if identity is None:
        return _read_config(doc)
    return cached(
        "terraform-config",
        [doc.sha256, doc.source, identity],
        lambda: _read_config(doc),
        _record_entry,
        _record_from_entry,
    )


def _record_entry(parsed: Parsed) -> dict[str, Any] | None:
    """What the cache keeps of a record: its data and problems, only when no credential is left in
    them (the collector masks those afterwards: such a record is read again each time instead)."""
    if mask_tree(parsed.data) is not parsed.data or any(
        mask_credentials(p) is not p for p in parsed.problems
    ):
        return None
    return {"data": parsed.data, "problems": parsed.problems}


def _record_from_entry(entry: Any) -> Parsed | None:
    """The record kept by ``_record_entry``; ``None`` when the entry is not of that shape."""
    data, problems = entry["data"], entry["problems"]
    if set(entry) != {"data", "problems"} or not isinstance(data, dict) or not isinstance(problems, list):
        return None
    if set(data) != _RECORD_KEYS or not all(isinstance(p, str) for p in problems):
        return None
    return Parsed(data=data, subject=Subject(), problems=problems)


_RECORD_KEYS = frozenset({"backend", "required_version", "providers", "resources", "modules"})


def _read_config(doc: Artefact) -> Parsed:
    """``_parse`` without the cache: the file read with python-hcl2 and normalised."""
    problems = Problems(doc.source)
    tree = _load_hcl(doc)
    backend, required_version, providers = _terraform_block(tree, problems)

    for number, (name, body) in enumerate(_labelled(tree.get("provider")), start=1):
        version = _str(body.get("version")) if isinstance(body, dict) else None
        if version is not None:
            problems.add(
                f"provider block {number}",
                "sets version inside the provider block, a form deprecated since "
                "Terraform 0.13 (use terraform { required_providers })",
            )
        entry = providers.get(name)
        if entry is None:
            providers[name] = {"name": name, "source": None, "version_constraint": version}
        elif entry["version_constraint"] is None and version is not None:
            entry["version_constraint"] = version

    resources: list[dict[str, Any]] = []
    seen: set[str] = set()
    masked: list[list[Any]] = []
    for mode, key in (("managed", "resource"), ("data", "data")):
        for rtype, named in _labelled(tree.get(key)):
            for name, body in named.items() if isinstance(named, dict) else ():
                if _META_KEY.match(name):
                    continue
                address = f"{rtype}.{name}" if mode == "managed" else f"data.{rtype}.{name}"
                if address in seen:
                    problems.add(address, "is declared more than once (Terraform rejects this configuration)")
                seen.add(address)
                resources.append(
                    {
                        "address": address,
                        "mode": mode,
                        "type": rtype,
                        "name": name,
                        "arguments": scrub_secrets(_clean(body), [address], masked)
                        if isinstance(body, dict)
                        else {},
                    }
                )

    if masked:
        touched = len({str(path[0]) for path in masked if path})
        problems.add(
            "resources",
            f"{len(masked)} argument value(s) in {touched} resource(s) that look like secrets were "
            "replaced by '(sensitive)' (the resources' arguments show where): keep secrets out of .tf files",
        )

    modules = [
        {
            "name": name,
            "source": _str(body.get("source")) if isinstance(body, dict) else None,
            "version": _str(body.get("version")) if isinstance(body, dict) else None,
        }
        for name, body in _labelled(tree.get("module"))
    ]
    for module in modules:
        if module["source"] is None:
            problems.add(f'module "{module["name"]}"', "has no source")

    data: dict[str, Any] = {
        "backend": backend,
        "required_version": required_version,
        "providers": [providers[name] for name in sorted(providers)],
        "resources": resources,
        "modules": modules,
    }
    return Parsed(data=data, subject=Subject(), problems=problems.items)


# ---------------------------------------------------------------------------------------------
# Redaction of the source for evidence bundles

# A quoted string (escapes kept; a template with nested quotes is cut short, and then caught by
# the check after the rewrite) and a heredoc body.
_QUOTED = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_HEREDOC = re.compile(r"<<-?([A-Za-z_][\w-]*)[ \t]*\r?\n(.*?)^([ \t]*)\1[ \t]*$", re.DOTALL | re.MULTILINE)
# The name a literal is assigned to, at the end of the text before it on its line.
_ASSIGNED_TO = re.compile(r'"?([A-Za-z_][\w-]*)"?[ \t]*[=:][ \t]*$')
_WITHHELD = (
    "# affidavit withheld this file from the bundle: it holds values that look like secrets which could\n"
    "# not be replaced safely. Its sha256 is the record's id; keep secrets out of .tf files.\n"
)


def redact(raw: bytes, source: str) -> bytes:
    """The ``.tf`` source as a bundle may store it: every literal that looks like a secret replaced.

    The record masks such literals in resources; the file holds them in clear, and more besides
    (provider credentials, backend keys, a sensitive variable's default, a ``locals`` copy). A
    literal is replaced (its text between the quotes, or a heredoc's whole body, becomes
    its redaction marker, ``kinds.secrets.redaction_marker``) when it is assigned to a name that
    says secret, when it looks like a credential (``kinds.secrets``), or when it equals the
    ``default`` of a variable whose name says secret or that is declared ``sensitive = true``.
    Then every credential left anywhere, comments included, is masked by its shape
    (``kinds.secrets.mask_credentials``). The result
    is read again: if it no longer parses, or a secret value can still be found in it, the file
    is not stored at all and a two-line note stands in its place. A file with nothing to replace
    is returned byte for byte.

    The result is kept in the user cache (see the module docstring): the redacted text, or whether
    the file was returned as it is or withheld.
    """
    doc = Artefact(source, raw)
    identity = _hcl_identity()
    if identity is None:
        return _redact(doc)
    return cached(
        "terraform-config-copy",
        [doc.sha256, source, identity],
        lambda: _redact(doc),
        lambda copy: (
            {"same": True}
            if copy is raw
            else {"withheld": True}
            if copy == _WITHHELD.encode()
            else {"text": copy.decode("utf-8")}
        ),
        lambda entry: _copy_from_entry(entry, raw),
    )


def _copy_from_entry(entry: Any, raw: bytes) -> bytes | None:
    """The bundle's copy kept by ``redact``; ``None`` when the entry is not of that shape."""
    if entry == {"same": True}:
        return raw
    if entry == {"withheld": True}:
        return _WITHHELD.encode()
    if isinstance(entry, dict) and set(entry) == {"text"} and isinstance(entry["text"], str):
        return entry["text"].encode("utf-8")
    return None


def _redact(doc: Artefact) -> bytes:
    """``redact`` without the cache."""
    source, raw = doc.source, doc.raw
    tree = _clean(_load_hcl(doc))
    known = _secret_values(tree)
    text = doc.text
    secrets: set[str] = set()
    redacted = _HEREDOC.sub(lambda m: _heredoc(m, known, secrets), text)
    redacted = _QUOTED.sub(lambda m: _quoted(m, known, secrets), redacted)
    # what is left anywhere, comments included: a credential by its shape (kinds.secrets)
    masked = mask_credentials(redacted)
    if not secrets and masked is redacted:
        return raw
    if not _safe(masked, source, known | secrets):
        return _WITHHELD.encode()
    return masked.encode("utf-8")


def _secret_values(tree: dict[str, Any]) -> set[str]:
    """The literal strings of a parsed file that are secrets (see ``redact``)."""
    found: set[str] = set()
    stack: list[tuple[str, Any]] = [("", tree)]
    while stack:
        key, value = stack.pop()
        if isinstance(value, str):
            if _is_literal(value) and (secret_setting(key, value) or looks_secret(value)):
                found.add(value)
        elif isinstance(value, dict):
            stack.extend((str(k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((key, v) for v in value)
    for name, body in _labelled(tree.get("variable")):
        if isinstance(body, dict) and (secret_name(name) or body.get("sensitive") is True):
            leaves: list[Any] = [body.get("default")]
            while leaves:
                leaf = leaves.pop()
                if isinstance(leaf, str) and _is_literal(leaf):
                    found.add(leaf)
                elif isinstance(leaf, dict):
                    leaves.extend(leaf.values())
                elif isinstance(leaf, list):
                    leaves.extend(leaf)
    return found


def _is_literal(value: str) -> bool:
    """A non-blank string that is not an expression python-hcl2 kept as ``${...}`` text."""
    return bool(value.strip()) and not value.startswith("${")


def _unescape(content: str) -> str:
    """The value of a quoted HCL string's content (HCL's escapes are JSON's, plus ``$${``)."""
    try:
        value = json.loads(f'"{content}"')
    except ValueError:
        value = content
    return str(value).replace("$${", "${").replace("%%{", "%{")


def _quoted(match: re.Match[str], known: set[str], secrets: set[str]) -> str:
    """One quoted string, its content replaced when it is a secret."""
    text = match.string
    content = match.group(1)
    value = _unescape(content)
    if not _is_literal(value) or is_marker(value):
        return match.group(0)
    start = text.rfind("\n", 0, match.start()) + 1
    assigned = _ASSIGNED_TO.search(text, start, match.start())
    named = assigned is not None and secret_setting(assigned.group(1), value)
    if named or value in known or looks_secret(value):
        secrets.add(value)
        return f'"{redaction_marker(value)}"'
    return match.group(0)


def _heredoc(match: re.Match[str], known: set[str], secrets: set[str]) -> str:
    """One heredoc, its body replaced by one marker line when it is (or holds) a secret."""
    body, indent = match.group(2), match.group(3)
    candidates = {body, body.rstrip("\n"), textwrap.dedent(body), textwrap.dedent(body).rstrip("\n")}
    text = match.string
    start = text.rfind("\n", 0, match.start()) + 1
    assigned = _ASSIGNED_TO.search(text, start, match.start())
    named = assigned is not None and secret_name(assigned.group(1))
    if named or candidates & known or any(quotes_secret(line) for line in body.splitlines()):
        value = textwrap.dedent(body).rstrip("\n")
        secrets.add(value)
        head = match.group(0)[: match.start(2) - match.start()]
        tail = match.group(0)[match.end(2) - match.start() :]
        return f"{head}{indent}{redaction_marker(value)}\n{tail}"
    return match.group(0)


def _safe(redacted: str, source: str, secrets: set[str]) -> bool:
    """True when the rewritten file still parses and no secret value can be found in it."""
    try:
        tree = _clean(_load_hcl(Artefact(source, redacted.encode("utf-8"))))
    except InputError:
        return False
    if not all(_marked(v) for v in _secret_values(tree)):
        return False
    quoted = {json.dumps(v, ensure_ascii=False) for v in secrets if "\n" not in v}
    if any(q in redacted for q in quoted):
        return False
    return not any(quotes_secret(line) for line in redacted.splitlines())


def _marked(value: str) -> bool:
    """True for a value whose every line is a redaction marker (what ``redact`` writes)."""
    return all(starts_with_marker(line.strip()) for line in value.splitlines() if line.strip())


FORMATS: tuple[Format, ...] = (
    Format(
        name="terraform-hcl",
        kind=EvidenceKind.TERRAFORM_CONFIG,
        detect=_detect,
        parse=_parse,
        description="Terraform/OpenTofu configuration source (.tf, HCL native syntax)",
        redact=redact,
    ),
)
