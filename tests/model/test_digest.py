"""The one digest rule (``model/digest.py``) and the two callers that wrap it in their error types."""

from __future__ import annotations

import pytest

from affidavit.errors import InputError, UsageError
from affidavit.model.digest import DIGEST_HEX_LENGTHS, is_digest, normalise_digest
from affidavit.pipeline import normalise_digest as subject_digest
from affidavit.pipeline import split_subject
from affidavit.signatures.result import normalise_digest as signature_digest

HEX = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  # sha256 of "test"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (f"sha256:{HEX}", f"sha256:{HEX}"),
        (f"sha256:{HEX.upper()}", f"sha256:{HEX}"),  # upper-case hex is lowered
        (f"SHA256:{HEX}", f"sha256:{HEX}"),  # so is the algorithm
        (HEX, f"sha256:{HEX}"),  # a bare 64-digit digest (`sha256sum` output) is sha256
        (HEX.upper(), f"sha256:{HEX}"),
        (f"  sha256:{HEX}\n", f"sha256:{HEX}"),  # surrounding whitespace (a file's newline)
        ("sha384:" + "ab" * 48, "sha384:" + "ab" * 48),
        ("sha512:" + "CD" * 64, "sha512:" + "cd" * 64),
    ],
)
def test_accepted_forms_become_one_spelling(given: str, expected: str) -> None:
    assert normalise_digest(given) == expected
    assert is_digest(expected)


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("sha256:" + HEX[:-1], "sha256 takes 64 hex digits, not 63"),
        ("sha256:" + HEX + "0", "sha256 takes 64 hex digits, not 65"),
        ("sha384:" + HEX, "sha384 takes 96 hex digits, not 64"),
        ("sha512:" + "ab" * 48, "sha512 takes 128 hex digits, not 96"),
        ("md5:" + "ab" * 16, "unknown digest algorithm (known: sha256, sha384, sha512)"),
        ("sha1:" + "ab" * 20, "unknown digest algorithm (known: sha256, sha384, sha512)"),
        ("sha256:" + HEX[:-1] + "g", "not hexadecimal"),
        (f"sha256: {HEX}", "not hexadecimal"),  # whitespace inside is not trimmed away
        (f"sha256:{HEX[:32]} {HEX[32:]}", "not hexadecimal"),
        ("ab" * 16, "not <algorithm>:<hex>"),  # bare hex of another length: no algorithm to infer
        ("", "not <algorithm>:<hex>"),
        ("   ", "not <algorithm>:<hex>"),
        ("sha256:", "sha256 takes 64 hex digits, not 0"),
        (f"ghcr.io/acme/shop@sha256:{HEX}", "an image reference (name@digest), not a digest"),
    ],
)
def test_refused_forms_say_why_without_the_value(given: str, reason: str) -> None:
    with pytest.raises(ValueError, match="^" + reason.replace("(", r"\(").replace(")", r"\)") + "$"):
        normalise_digest(given)


def test_a_reference_gives_its_digest_when_asked() -> None:
    assert normalise_digest(f"ghcr.io/acme/shop@sha256:{HEX.upper()}", reference=True) == f"sha256:{HEX}"
    assert normalise_digest(f"localhost:5000/a/b@sha256:{HEX}", reference=True) == f"sha256:{HEX}"
    assert normalise_digest(HEX, reference=True) == f"sha256:{HEX}"
    with pytest.raises(ValueError, match="sha256 takes 64 hex digits, not 4"):
        normalise_digest("ghcr.io/acme/shop@sha256:abcd", reference=True)


def test_is_digest_wants_the_written_form_only() -> None:
    assert not is_digest(f"sha256:{HEX.upper()}")
    assert not is_digest(HEX)
    assert not is_digest(f"sha256:{HEX}\n")
    assert not is_digest("sha1:" + "ab" * 20)
    assert sorted(DIGEST_HEX_LENGTHS) == ["sha256", "sha384", "sha512"]


def test_signature_collectors_wrap_it_as_an_input_error_naming_the_source() -> None:
    assert signature_digest(HEX.upper(), "--digest") == f"sha256:{HEX}"
    with pytest.raises(InputError) as info:
        signature_digest("sha256:1234", "--digest")
    assert info.value.source == "--digest"
    assert "not an artefact digest" in str(info.value)
    assert "sha256 takes 64 hex digits, not 4" in str(info.value)


def test_the_subject_wraps_it_as_a_usage_error() -> None:
    assert subject_digest(None) is None
    assert subject_digest(f" ghcr.io/acme/shop@sha256:{HEX} ") == f"sha256:{HEX}"
    assert split_subject(f"ghcr.io/acme/shop@SHA256:{HEX.upper()}") == ("ghcr.io/acme/shop", f"sha256:{HEX}")
    assert split_subject(f"sha256:{HEX}") == (None, f"sha256:{HEX}")
    with pytest.raises(UsageError, match=r"--subject digest .* is not a digest like sha256:<64 hex>"):
        subject_digest("ghcr.io/acme/shop@sha256:" + HEX[:40])
    with pytest.raises(UsageError, match="unknown digest algorithm"):
        split_subject("ghcr.io/acme/shop@md5:" + "ab" * 16)
