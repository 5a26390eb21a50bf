"""The identity policy: exact values, ``re:`` patterns, and failing closed when incomplete."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from affidavit.errors import InputError
from affidavit.signatures.identity import IdentityPolicy
from affidavit.signatures.result import Settings, normalise_digest

if TYPE_CHECKING:
    from pathlib import Path

ISSUER = "https://token.actions.githubusercontent.com"
WORKFLOW = "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3"


def test_exact_match() -> None:
    """Exact match."""
    policy = IdentityPolicy.build(WORKFLOW, ISSUER)
    assert policy.check([WORKFLOW], ISSUER) is None
    assert policy.check([WORKFLOW + "x"], ISSUER) is not None
    assert policy.check([WORKFLOW], "https://accounts.google.com") is not None


def test_pattern_must_match_the_whole_value() -> None:
    """Pattern must match the whole value."""
    policy = IdentityPolicy.build(r"re:https://github\.com/acme/.+@refs/tags/v.*", ISSUER)
    assert policy.check([WORKFLOW], ISSUER) is None
    assert policy.check(["https://github.com/evil/app/x.yml@refs/heads/main"], ISSUER) is not None
    prefix_only = IdentityPolicy.build(r"re:https://github\.com/acme", ISSUER)
    assert prefix_only.check([WORKFLOW], ISSUER) is not None


@pytest.mark.parametrize(
    ("identity", "issuer", "fragment"),
    [
        (None, None, "no identity policy given"),
        (WORKFLOW, None, "no issuer given"),
        (None, ISSUER, "no identity given"),
    ],
)
def test_incomplete_policy_fails_closed(identity: str | None, issuer: str | None, fragment: str) -> None:
    """Incomplete policy fails closed."""
    policy = IdentityPolicy.build(identity, issuer)
    problem = policy.check([WORKFLOW], ISSUER)
    assert problem is not None and fragment in problem


def test_bad_pattern_is_an_input_error() -> None:
    """Bad pattern is an input error."""
    with pytest.raises(InputError, match="not a valid regular expression"):
        IdentityPolicy.build("re:(unclosed", ISSUER)


def test_digest_forms() -> None:
    """Digest forms."""
    hex64 = "AB" * 32
    assert normalise_digest(hex64, "--digest") == "sha256:" + "ab" * 32
    assert normalise_digest("sha256:" + hex64, "--digest") == "sha256:" + "ab" * 32
    with pytest.raises(InputError, match="not an artefact digest"):
        normalise_digest("sha256:1234", "--digest")


def test_artifact_and_digest_must_agree(tmp_path: Path) -> None:
    """Artifact and digest must agree."""
    artifact = tmp_path / "a.bin"
    artifact.write_bytes(b"x")
    with pytest.raises(InputError, match="has digest"):
        Settings.build(policy=IdentityPolicy(), artifact=artifact, artifact_digest="sha256:" + "0" * 64)


# Fulcio's identity for a GitHub Actions workflow (sigstore/fulcio docs/oid-info.md): the SAN is
# https://github.com/OWNER/REPO/.github/workflows/FILE@REF, the issuer the Actions OIDC issuer.
RELEASE = "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main"
LOOK_ALIKES = {
    "a branch extending the ref": RELEASE + "-evil",
    "the identity inside another URL": "https://evil.example/?" + RELEASE,
    "a repository sharing the prefix": "https://github.com/acme/shop-fork/.github/workflows/release.yml@refs/heads/main",
}


@pytest.mark.parametrize(
    "written",
    [
        RELEASE,  # exact
        r"re:https://github\.com/acme/shop/\.github/workflows/release\.yml@refs/heads/main",
        "re:https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main",  # dots unescaped
        r"re:https://github\.com/acme/shop/.+@refs/heads/main",
    ],
)
def test_look_alike_identities_are_refused_and_the_release_workflow_passes(written: str) -> None:
    """Each way of writing the release workflow admits it and none of its look-alikes."""
    policy = IdentityPolicy.build(written, ISSUER)
    assert policy.check([RELEASE], ISSUER) is None
    for what, identity in LOOK_ALIKES.items():
        assert policy.check([identity], ISSUER) is not None, what
    assert policy.check([RELEASE], "https://token.actions.githubusercontent.com.evil.example") is not None
    assert policy.check([RELEASE], "https://accounts.google.com") is not None


def test_an_alternation_is_anchored_as_a_whole() -> None:
    """``a|b`` must match all of the value through one branch, not the start of one branch."""
    either = r"re:https://github\.com/acme/shop/\.github/workflows/release\.yml@refs/heads/main|https://github\.com/acme/shop/\.github/workflows/release\.yml@refs/tags/v[0-9.]+"
    policy = IdentityPolicy.build(either, ISSUER)
    assert policy.check([RELEASE], ISSUER) is None
    assert policy.check([RELEASE + "-evil"], ISSUER) is not None
