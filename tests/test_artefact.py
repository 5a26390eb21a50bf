"""An artefact read once: a JSON object that names a key twice is refused, with its place and no content.

Python's ``json`` keeps the last of two equal keys, so a report that repeats ``"Results"`` (the
second time empty) reads as a clean scan. Every case below is written in the real tool's shape and
goes through ``affidavit collect`` the way a user runs it; each is refused with exit 3, naming the
file and the line and column of the second key, and quoting nothing of the document (not even the
key, since keys can be data). The same document without the repeat still reads.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from affidavit import artefact
from affidavit.artefact import MAX_JSON_DEPTH, Artefact, json_depth, load_json
from affidavit.cli import main
from affidavit.errors import InputError

NOW = "2026-11-20T12:00:00Z"
# A made-up token in GitHub's format, assembled so that no scanner flags this file.
FAKE_PAT = "ghp_" + "R8dK2mVq7TzL0pXw4NfYc6HbJs1uEa9GiO3e"
COMMIT = "5d1e0b8a9c7f43e2b6a1d0c9e8f7a6b5c4d3e2f1"
IMAGE_DIGEST = "sha256:" + "7c0e4f1a" * 8

# Trivy 0.5x, `trivy image --format json`: SchemaVersion 2, one OS result with a critical finding.
TRIVY_RESULTS = """[
    {
      "Target": "ghcr.io/acme/shop:1.4.2 (debian 12.9)",
      "Class": "os-pkgs",
      "Type": "debian",
      "Vulnerabilities": [
        {
          "VulnerabilityID": "CVE-2024-45491",
          "PkgID": "libexpat1@2.5.0-1",
          "PkgName": "libexpat1",
          "InstalledVersion": "2.5.0-1",
          "FixedVersion": "2.5.0-1+deb12u1",
          "Status": "fixed",
          "SeveritySource": "nvd",
          "PrimaryURL": "https://avd.aquasec.com/nvd/cve-2024-45491",
          "Title": "libexpat: integer overflow in dtdCopy",
          "Severity": "CRITICAL",
          "PublishedDate": "2024-08-30T03:15:03.85Z",
          "LastModifiedDate": "2024-09-04T14:28:33.747Z"
        }
      ]
    }
  ]"""
TRIVY = (
    """{
  "SchemaVersion": 2,
  "CreatedAt": "2026-11-19T08:02:11.431907Z",
  "ArtifactName": "ghcr.io/acme/shop:1.4.2",
  "ArtifactType": "container_image",
  "Metadata": {
    "OS": {"Family": "debian", "Name": "12.9"},
    "ImageID": "sha256:4b1f6d0e2a3c5b7d9e8f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d",
    "RepoDigests": ["ghcr.io/acme/shop@"""
    + IMAGE_DIGEST
    + """"]
  },
  "Results": """
    + TRIVY_RESULTS
    + """DUPLICATE
}
"""
)
TRIVY_DUPLICATE = ',\n  "Results": []'

# Gitleaks v8 `--report-format json`: an array of findings; this one names "Secret" twice.
GITLEAKS = (
    """[
 {
  "RuleID": "github-pat",
  "Description": "Uncovered a GitHub Personal Access Token, potentially leading to unauthorized repository access.",
  "StartLine": 12,
  "EndLine": 12,
  "StartColumn": 18,
  "EndColumn": 57,
  "Match": "GITHUB_TOKEN = \\\""""
    + FAKE_PAT
    + """\\\"",
  "Secret": \""""
    + FAKE_PAT
    + """\",DUPLICATE
  "File": "deploy/settings.py",
  "SymlinkFile": "",
  "Commit": \""""
    + COMMIT
    + """\",
  "Link": "",
  "Entropy": 4.89,
  "Author": "Dev One",
  "Email": "dev.one@example.com",
  "Date": "2026-10-02T09:30:00Z",
  "Message": "wire the deploy settings",
  "Tags": [],
  "Fingerprint": \""""
    + COMMIT
    + """:deploy/settings.py:github-pat:12"
 }
]
"""
)
GITLEAKS_DUPLICATE = '\n  "Secret": "",'

# CycloneDX 1.5 JSON as syft writes it, with a nested component whose purl appears twice (the
# second would pin a fixed version over the vulnerable one).
CYCLONEDX = """{
  "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
  "bomFormat": "CycloneDX",
  "specVersion": "1.5",
  "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
  "version": 1,
  "metadata": {
    "timestamp": "2026-11-19T08:01:57Z",
    "tools": {
      "components": [{"type": "application", "author": "anchore", "name": "syft", "version": "1.20.0"}]
    },
    "component": {
      "bom-ref": "ghcr.io/acme/shop",
      "type": "container",
      "name": "ghcr.io/acme/shop",
      "version": "IMAGE_DIGEST"
    }
  },
  "components": [
    {
      "bom-ref": "pkg:deb/debian/libexpat1@2.5.0-1?arch=amd64&distro=debian-12.9",
      "type": "library",
      "publisher": "Debian XML/SGML Group",
      "name": "libexpat1",
      "version": "2.5.0-1",
      "licenses": [{"license": {"id": "MIT"}}],
      "purl": "pkg:deb/debian/libexpat1@2.5.0-1?arch=amd64&distro=debian-12.9"
    },
    {
      "bom-ref": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
      "type": "library",
      "group": "org.apache.logging.log4j",
      "name": "log4j-core",
      "version": "2.14.1",
      "licenses": [{"license": {"id": "Apache-2.0"}}],
      "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
      "components": [
        {
          "bom-ref": "pkg:maven/org.apache.logging.log4j/log4j-api@2.14.1",
          "type": "library",
          "group": "org.apache.logging.log4j",
          "name": "log4j-api",
          "version": "2.14.1",
          "purl": "pkg:maven/org.apache.logging.log4j/log4j-api@2.14.1",DUPLICATE
          "properties": [{"name": "syft:package:foundBy", "value": "java-archive-cataloger"}]
        }
      ]
    }
  ]
}
""".replace("IMAGE_DIGEST", IMAGE_DIGEST)
CYCLONEDX_DUPLICATE = '\n          "purl": "pkg:maven/org.apache.logging.log4j/log4j-api@2.17.1",'

CASES = {
    "trivy": ("trivy.json", TRIVY, TRIVY_DUPLICATE, "vulnerability-scan"),
    "gitleaks": ("gitleaks.json", GITLEAKS, GITLEAKS_DUPLICATE, "secret-scan"),
    "cyclonedx": ("sbom.cdx.json", CYCLONEDX, CYCLONEDX_DUPLICATE, "sbom"),
}


def _documents(case: str) -> tuple[str, str, str]:
    """(file name, the document with the repeated key, the same document without it)."""
    name, template, duplicate, _ = CASES[case]
    return name, template.replace("DUPLICATE", duplicate), template.replace("DUPLICATE", "")


def _line_column(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of ``text[index]``."""
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def _second_key(text: str, duplicate: str) -> tuple[int, int]:
    """Where the repeated key starts: the first '"' of the inserted member."""
    return _line_column(text, text.index(duplicate) + duplicate.index('"'))


def _words(value: Any) -> set[str]:
    """Every key and string value of a parsed document (the content no message may quote)."""
    if isinstance(value, dict):
        return set(value).union(*(_words(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_words(v) for v in value))
    return {value} if isinstance(value, str) else set()


def _quotes(text: str, word: str) -> bool:
    """True when ``word`` appears in ``text`` as a whole word (not as part of a longer one)."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def _collect(*paths: Path) -> Any:
    return CliRunner().invoke(main, ["collect", "--format", "json", "--now", NOW, *map(str, paths)])


def test_the_attack_is_real_python_keeps_the_last_key() -> None:
    """Without the check, the repeated empty Results hides the critical finding."""
    _, with_duplicate, clean = _documents("trivy")
    assert json.loads(clean)["Results"][0]["Vulnerabilities"][0]["Severity"] == "CRITICAL"
    assert json.loads(with_duplicate)["Results"] == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_collect_refuses_a_repeated_key_naming_the_file_and_place_only(tmp_path: Path, case: str) -> None:
    name, with_duplicate, clean = _documents(case)
    path = tmp_path / name
    path.write_text(with_duplicate, encoding="utf-8")

    result = _collect(path)

    assert result.exit_code == 3, result.output
    assert json.loads(result.stdout) == []
    errors = [line for line in result.stderr.splitlines() if line.startswith("affidavit: error:")]
    assert len(errors) == 1, result.stderr
    line, column = _second_key(with_duplicate, CASES[case][2])
    assert str(path) in errors[0]
    assert f"names the same key twice (line {line}, column {column})" in errors[0]
    # nothing of the document: no key, no value (the secret least of all)
    quoted = sorted(w for w in _words(json.loads(clean)) if len(w) >= 3 and _quotes(result.stderr, w))
    assert quoted == []
    assert FAKE_PAT not in result.output


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_same_document_without_the_repeat_reads(tmp_path: Path, case: str) -> None:
    name, _, clean = _documents(case)
    path = tmp_path / name
    path.write_text(clean, encoding="utf-8")

    result = _collect(path)

    assert result.exit_code == 0, result.stderr
    [record] = json.loads(result.stdout)
    assert record["kind"] == CASES[case][3]
    assert FAKE_PAT not in result.stdout


def test_the_clean_trivy_report_keeps_its_critical_finding(tmp_path: Path) -> None:
    _, _, clean = _documents("trivy")
    path = tmp_path / "trivy.json"
    path.write_text(clean, encoding="utf-8")
    [record] = json.loads(_collect(path).stdout)
    assert "CVE-2024-45491" in json.dumps(record["data"])


# ---------------------------------------------------------------------------------------------
# The rule itself


def _refused(text: str | bytes) -> InputError:
    with pytest.raises(InputError) as info:
        Artefact("doc.json", text if isinstance(text, bytes) else text.encode()).json()
    return info.value


def test_an_escaped_spelling_of_the_same_key_is_the_same_key() -> None:
    text = '{"Severity": "CRITICAL",\n "Sev\\u0065rity": "LOW"}'
    assert "names the same key twice (line 2, column 2)" in str(_refused(text))


def test_braces_and_keys_inside_strings_do_not_mislead_the_place() -> None:
    text = '{"note": "{\\"a\\": 1, \\"a\\": 2}", "list": [{"a": 1}, {"a": 2}],\n  "a": 1, "a": 2}'
    error = _refused(text)
    assert "(line 2, column 11)" in str(error)
    assert error.source == "doc.json"


def test_equal_keys_in_different_objects_are_fine() -> None:
    doc = Artefact("doc.json", b'{"a": {"a": 1, "b": [{"a": 2}, {"a": 3}]}, "b": "a"}')
    assert doc.json() == {"a": {"a": 1, "b": [{"a": 2}, {"a": 3}]}, "b": "a"}


def test_top_level_array_and_deep_nesting() -> None:
    text = "[" * 40 + '{"x": 1, "y": 2, "x": 3}' + "]" * 40
    assert f"(line 1, column {40 + 18})" in str(_refused(text))


def test_utf16_text_is_checked_too() -> None:
    text = '{\n  "Results": [1],\n  "Results": []\n}\n'
    error = _refused(b"\xff\xfe" + text.encode("utf-16-le"))
    assert "(line 3, column 3)" in str(error)


def test_a_key_that_is_data_is_not_quoted() -> None:
    secret_key = "AKIA" + "Q7EXAMPLE0ONLY2TEST"
    error = _refused(f'{{"tokens": {{"{secret_key}": 1, "{secret_key}": 2}}}}')
    assert secret_key not in error.diagnostics()
    assert "tokens" not in error.diagnostics()


def test_try_json_says_not_json_and_json_keeps_raising() -> None:
    doc = Artefact("doc.json", b'{"a": 1, "a": 2}')
    assert doc.try_json() is None
    with pytest.raises(InputError, match="same key twice"):
        doc.json()
    with pytest.raises(InputError, match="same key twice"):
        doc.json()


def test_a_repeat_is_found_wherever_it_is_and_named_as_the_strict_parse_names_it() -> None:
    """The parse counts the keys of its objects against the pairs of the text (colons outside
    strings): a repeat anywhere, of any spelling, next to colons, quotes, brackets and escapes in
    strings, makes the two differ; a document without one reads as ``json.loads`` reads it."""
    rng = random.Random(14)
    pieces = ["[", "]", "{", "}", ":", ",", '"', "\\", "\\\\", '\\"', "x", "\u00e9", "\u2028"]

    def text() -> str:
        return "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 6)))

    def value(depth: int) -> Any:
        roll = rng.random()
        if depth > 8 or roll < 0.3:
            return rng.choice([text(), 1, -2.5, None, False])
        if roll < 0.6:
            return [value(depth + 1) for _ in range(rng.randrange(0, 4))]
        return {rng.choice(["a", ":", '"', text()]): value(depth + 1) for _ in range(rng.randrange(0, 4))}

    first_key = re.compile(r'\{("(?:[^"\\]|\\.)*"): ')
    repeats = 0
    for _ in range(1500):
        doc = value(0)
        encoded = json.dumps(doc, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 1]))
        assert load_json(encoded.encode(), "doc.json") == doc
        objects = list(first_key.finditer(encoded))
        if not objects:
            continue
        at = rng.choice(objects)
        # the object's first key once more, before its first value: a repeat in that object only
        repeated = f"{encoded[: at.end()]}0, {at.group(1)}: {encoded[at.end() :]}"
        line, column = _line_column(repeated, at.end() + 3)
        with pytest.raises(InputError, match=rf"names the same key twice \(line {line}, column {column}\)"):
            load_json(repeated.encode(), "doc.json")
        repeats += 1
    assert repeats > 250


def test_a_repeat_after_which_the_document_is_broken_is_still_named() -> None:
    # the parser stops at the repeat; the broken tail is never reached
    assert "same key twice (line 1, column 10)" in str(_refused('{"a": 1, "a": 2} trailing'))


def test_load_json_names_its_source_and_parses_inner_documents() -> None:
    assert load_json(b'{"predicateType": "x"}', "bundle.sigstore.json: DSSE payload") == {
        "predicateType": "x"
    }
    with pytest.raises(InputError, match=r"^bundle\.sigstore\.json: DSSE payload: .*same key twice"):
        load_json('{"subject": [], "subject": []}', "bundle.sigstore.json: DSSE payload")


def test_syntax_errors_are_reported_as_before() -> None:
    assert "looks truncated" in str(_refused('{"SchemaVersion": 2, "Results": ['))
    assert "is not valid JSON: Expecting ':' delimiter at line 1 column 6" in str(
        _refused('{"a" 1, "padding": "' + "x" * 100 + '"}')
    )
    assert "nested too deeply" in str(_refused("[" * 100_000 + "]" * 100_000))


def test_bytes_that_are_not_utf8_are_named_by_offset() -> None:
    with pytest.raises(
        InputError, match=r"^x\.json: is not valid utf-8 text \(byte 7\): the file is damaged$"
    ):
        load_json(b'{"a": "\xff"}', "x.json")


# ---------------------------------------------------------------------------------------------
# Values the policy engine cannot take (issue 9, finding 9): refused per file, with the place


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("NaN", "NaN or Infinity"),
        ("Infinity", "NaN or Infinity"),
        ("-Infinity", "NaN or Infinity"),
        ("1e400", "a number beyond the range of a double"),
        ("-2.5E+309", "a number beyond the range of a double"),
        ("1" + "0" * 308 + "0", "a number beyond the range of a double"),  # 310 digits
        ("9" * 5000, "a number beyond the range of a double"),  # past what Python converts
    ],
)
def test_numbers_json_cannot_hold_are_refused_with_their_place(value: str, what: str) -> None:
    text = '{"note": "NaN and 1e999 in a string are text",\n "CVSS": {"nvd": {"V3Score": ' + value + "}}}"
    error = _refused(text)
    assert error.source == "doc.json"
    assert error.detail.startswith(f"holds {what}") and "(line 2, column 30)" in error.detail
    assert value not in error.diagnostics().replace("holds NaN or Infinity", "")  # the words, not the value


def test_numbers_the_engine_reads_are_kept() -> None:
    # 2**70 and 1e308 are beyond a 64-bit integer but within a double: regorus reads both
    text = f'{{"a": {2**70}, "b": 1e308, "c": -1.7976931348623157e308, "d": 1e-400, "e": {"9" * 308}}}'
    assert load_json(text, "doc.json") == {
        "a": 2**70,
        "b": 1e308,
        "c": -1.7976931348623157e308,
        "d": 0.0,
        "e": int("9" * 308),
    }


def test_nesting_is_bounded_with_the_place_of_the_first_level_too_many() -> None:
    assert MAX_JSON_DEPTH == 64
    ok = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert load_json(ok, "doc.json") is not None
    error = _refused('{"runs": [{"properties": ' + '{"p": ' * 70 + "1" + "}" * 70 + "}]}")
    # levels: the log 1, runs 2, the run 3; the first {"p": is level 4, the 62nd level 65
    assert "is nested too deeply (line 1, column " + str(26 + 6 * 61) + ")" in str(error)
    assert "more than 64 levels" in str(error)


def test_nesting_past_pythons_own_limit_is_placed_too() -> None:
    error = _refused('\n{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert "is nested too deeply (line 2, column 70)" in str(error)  # the 64th [ is level 65


def test_brackets_and_escapes_in_strings_do_not_count_as_nesting() -> None:
    tricky = '"[[[{{{\\\\", "\\\\\\"[[[", "\\\\\\\\", "]]]}}}", "\\u005b\\u005b"'
    text = "[" * (MAX_JSON_DEPTH - 1) + "[" + tricky + "]" + "]" * (MAX_JSON_DEPTH - 1)
    assert json_depth(text.encode()) == MAX_JSON_DEPTH
    assert load_json(text, "doc.json") is not None


def test_json_depth_agrees_with_a_walk_on_random_documents() -> None:
    rng = random.Random(9)
    pieces = ["[", "]", "{", "}", '"', "\\", "\\\\", '\\"', "x", "é", ":", ","]

    def text() -> str:
        return "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 8)))

    def value(depth: int) -> Any:
        roll = rng.random()
        if depth > 12 or roll < 0.3:
            return rng.choice([text(), 1, 2.5, None, True])
        if roll < 0.65:
            return [value(depth + 1) for _ in range(rng.randrange(0, 4))]
        return {text(): value(depth + 1) for _ in range(rng.randrange(0, 4))}

    def walk(v: Any) -> int:
        if isinstance(v, dict):
            return 1 + max((walk(c) for c in v.values()), default=0)
        if isinstance(v, list):
            return 1 + max((walk(c) for c in v), default=0)
        return 0

    for _ in range(500):
        doc = value(0)
        for ascii_only in (True, False):
            encoded = json.dumps(doc, ensure_ascii=ascii_only).encode("utf-8")
            assert json_depth(encoded) == walk(doc), encoded


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 8])
def test_the_structure_read_in_chunks_is_the_structure_of_the_whole(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A large document's structure (its depth, and its key-value pairs for the repeated-key check)
    # is reduced STRUCTURE_CHUNK bytes at a time, each chunk ending after a byte that is not a
    # backslash. Chunks of a few bytes put a boundary at every place of these documents: inside
    # runs of backslashes, between a backslash and the quote it escapes, inside multi-byte UTF-8.
    monkeypatch.setattr(artefact, "STRUCTURE_CHUNK", chunk)
    rng = random.Random(chunk)
    pieces = ["[", "]", "{", "}", ":", '"', "\\", "\\\\", '\\"', "\\\\\\", "x", "é", "\n", ","]

    def text() -> str:
        return "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 9)))

    def value(depth: int) -> Any:
        roll = rng.random()
        if depth > 8 or roll < 0.3:
            return rng.choice([text(), 1, None])
        if roll < 0.65:
            return [value(depth + 1) for _ in range(rng.randrange(0, 4))]
        return {text(): value(depth + 1) for _ in range(rng.randrange(0, 4))}

    for _ in range(300):
        doc = {"root": value(0)}
        for ascii_only in (True, False):
            encoded = json.dumps(doc, ensure_ascii=ascii_only).encode("utf-8")
            assert artefact._structure(encoded, artefact._NOT_BRACKET_OR_COLON) == _whole_structure(encoded)
            assert load_json(encoded, "doc.json") == doc  # no pair miscounted as a repeat
    repeated = b'{"a\\\\\\"": 1, "b": [{"x": "\\\\"}], "a\\\\\\"": 2}'
    with pytest.raises(InputError, match="same key twice"):
        load_json(repeated, "doc.json")


def _whole_structure(document: bytes) -> bytes:
    """The structure of a document reduced in one piece (the reference for the chunked reduction)."""
    kept = re.sub(rb'\\[\\"]', b"", document).translate(None, artefact._NOT_BRACKET_OR_COLON)
    return b"".join(kept.replace(b'""', b"").split(b'"')[::2])


def test_utf16_documents_are_bounded_too() -> None:
    text = '{"a": ' + "[" * 70 + "]" * 70 + "}"
    error = _refused(b"\xff\xfe" + text.encode("utf-16-le"))
    assert "is nested too deeply (line 1, column 70)" in str(error)
    error = _refused(b"\xff\xfe" + '{"a": NaN}'.encode("utf-16-le"))
    assert "holds NaN or Infinity (line 1, column 7)" in str(error)


def _rss_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; glibc's malloc_trim")
def test_the_free_pages_of_the_heap_go_back_to_the_system() -> None:
    """Issue 14: pages the C heap keeps after Python frees large objects (the collection's texts and
    tables) are given back before the engine, which never reuses them, reads its input. Objects
    freed between objects still alive leave holes the heap does not give back by itself; after
    ``return_free_memory`` the process holds about 200 MiB less."""
    from affidavit.artefact import return_free_memory

    blocks = [bytes(4096) + bytes([i % 256]) for i in range(60_000)]  # past pymalloc: the C heap
    kept = blocks[::10]  # one in ten stays: the rest are holes below the top of the heap
    del blocks
    before = _rss_mib()
    assert return_free_memory() is True  # glibc here
    after = _rss_mib()
    assert before - after > 150, (before, after)
    assert len(kept) == 6000
