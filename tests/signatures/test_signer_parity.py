"""One signer pattern, one meaning: ``--identity`` (Python) and the rule data (Rego) agree.

``affidavit collect/gate --identity`` is checked in Python (``signatures.identity.Matcher``);
the environment's allow-list (``supply_chain.allowed_identities`` / ``identity_patterns``) is
judged in Rego (``policies/lib/signers.rego``). The same entries must give the same answers for
every identity of the table below, in the shapes Fulcio writes for GitHub Actions
(``https://github.com/OWNER/REPO/.github/workflows/FILE@REF`` with the Actions OIDC issuer).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from affidavit.errors import InputError
from affidavit.policy.engines.regorus import RegorusEngine
from affidavit.policy.interface import PolicyModule
from affidavit.resources import builtin_policies_dir
from affidavit.signatures.identity import IdentityPolicy

ISSUER = "https://token.actions.githubusercontent.com"
RELEASE = "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main"
TAGGED = "https://github.com/acme/shop/.github/workflows/release.yml@refs/tags/v1.8.0"

# What a user writes: exact values, or ``re:`` patterns (rule data keeps those in identity_patterns).
ENTRIES = [
    RELEASE,
    "re:https://github\\.com/acme/shop/\\.github/workflows/release\\.yml@refs/heads/main",
    "re:https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main",
    "re:https://github\\.com/acme/shop/.+",
    "re:https://github\\.com/acme/shop",
    "re:https://github\\.com/acme/shop/\\.github/workflows/release\\.yml@refs/tags/v[0-9]+\\.[0-9]+\\.[0-9]+",
    "re:https://github\\.com/acme/shop/\\.github/workflows/release\\.yml@refs/heads/main|"
    "https://github\\.com/acme/shop/\\.github/workflows/release\\.yml@refs/tags/v\\d+(\\.\\d+)*",
    "re:(?i)https://github\\.com/ACME/shop/\\.github/workflows/[a-z]+\\.yml@refs/heads/main",
    "re:.*",
]

IDENTITIES = [
    RELEASE,
    TAGGED,
    RELEASE + "-evil",
    TAGGED + "-rc.evil",
    "https://evil.example/?" + RELEASE,
    "https://github.com/acme/shop-fork/.github/workflows/release.yml@refs/heads/main",
    "https://github.com/acme/shop/.github/workflows/releaseXyml@refs/heads/main",
    "https://github.com/acme/shop",
    "release@acme.example",
]

ISSUERS = [
    ISSUER,
    "https://token.actions.githubusercontent.com.evil.example",
    "https://accounts.google.com",
    None,
]

# Answers the table must contain, so that agreement cannot come from both sides refusing all.
MUST_ALLOW = {
    (ENTRIES[0], RELEASE),
    (ENTRIES[1], RELEASE),
    (ENTRIES[3], TAGGED),
    (ENTRIES[5], TAGGED),
    (ENTRIES[6], TAGGED),
    (ENTRIES[7], RELEASE),
}
MUST_REFUSE = {
    (ENTRIES[1], RELEASE + "-evil"),
    (ENTRIES[1], "https://evil.example/?" + RELEASE),
    (ENTRIES[2], RELEASE + "-evil"),
    (ENTRIES[3], "https://github.com/acme/shop-fork/.github/workflows/release.yml@refs/heads/main"),
    (ENTRIES[4], "https://github.com/acme/shop-fork/.github/workflows/release.yml@refs/heads/main"),
    (ENTRIES[5], TAGGED + "-rc.evil"),
    (ENTRIES[6], RELEASE + "-evil"),
}

_PROBE = """package affidavit_signer_parity

answers := [_answer(row) | some row in input.rows]

_answer(row) := true if {
	data.affidavit.lib.signers.identity_allowed(row[0], row[1])
} else := false
"""


def _lib_modules() -> list[PolicyModule]:
    """The built-in library (without its tests), as the gate loads it."""
    lib = builtin_policies_dir() / "lib"
    return [
        PolicyModule.from_text(f"policies/lib/{p.name}", p.read_text(encoding="utf-8"))
        for p in sorted(lib.glob("*.rego"))
        if not p.name.endswith("_test.rego")
    ]


def _rule_data(entry: str) -> dict[str, Any]:
    """The rule data holding one entry: exact in allowed_identities, a pattern in identity_patterns."""
    if entry.startswith("re:"):
        return {"allowed_identities": [], "identity_patterns": [{"identity": entry[3:], "issuer": ISSUER}]}
    return {"allowed_identities": [{"identity": entry, "issuer": ISSUER}], "identity_patterns": []}


def _rego_answers(supply_chain: dict[str, Any], rows: list[tuple[str, str | None]]) -> list[bool]:
    """What ``lib/signers.rego`` says of each (identity, issuer) under that rule data."""
    modules = [*_lib_modules(), PolicyModule.from_text("parity.rego", _PROBE)]
    document = {"context": {"environment": "prod", "params": {"supply_chain": supply_chain}}, "rows": rows}
    result = RegorusEngine().evaluate(
        modules,
        json.dumps(document),
        ["data.affidavit_signer_parity.answers"],
        now=dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC),
    )["data.affidavit_signer_parity.answers"]
    assert result.error is None and result.defined, result.error
    return [bool(a) for a in result.value]


ROWS = [(identity, issuer) for identity in IDENTITIES for issuer in ISSUERS]


@pytest.mark.parametrize("entry", ENTRIES)
def test_python_and_rego_give_the_same_answers(entry: str) -> None:
    """Every identity and issuer of the table: allowed in Python exactly when allowed in Rego."""
    policy = IdentityPolicy.build(entry, ISSUER)
    python = [policy.check([identity], issuer) is None for identity, issuer in ROWS]
    rego = _rego_answers(_rule_data(entry), ROWS)
    differ = [row for row, p, r in zip(ROWS, python, rego, strict=True) if p != r]
    assert not differ, f"Python and Rego disagree on {differ}"
    allowed = {identity for (identity, issuer), ok in zip(ROWS, python, strict=True) if ok}
    assert all(issuer == ISSUER for (_, issuer), ok in zip(ROWS, python, strict=True) if ok)
    assert {i for e, i in MUST_ALLOW if e == entry} <= allowed
    assert not {i for e, i in MUST_REFUSE if e == entry} & allowed


def test_a_whole_list_allows_what_one_of_its_entries_allows() -> None:
    """The rule data's list is "any entry": the union of the single-entry answers."""
    exact = [e for e in ENTRIES[:6] if not e.startswith("re:")]
    patterns = [e[3:] for e in ENTRIES[:6] if e.startswith("re:")]
    listed = {
        "allowed_identities": [{"identity": e, "issuer": ISSUER} for e in exact],
        "identity_patterns": [{"identity": p, "issuer": ISSUER} for p in patterns],
    }
    policies = [IdentityPolicy.build(e, ISSUER) for e in ENTRIES[:6]]
    python = [any(p.check([i], s) is None for p in policies) for i, s in ROWS]
    assert _rego_answers(listed, ROWS) == python
    assert any(python) and not all(python)


def test_a_pattern_python_refuses_to_compile_allows_nobody_in_rego() -> None:
    """An unbalanced pattern is an error for ``--identity`` and matches nothing as rule data.

    Wrapped without a check, ``x)|(.*`` would read ``^(?:x)|(.*)$``: anything.
    """
    with pytest.raises(InputError, match="not a valid regular expression"):
        IdentityPolicy.build("re:x)|(.*", ISSUER)
    supply_chain = {"allowed_identities": [], "identity_patterns": [{"identity": "x)|(.*", "issuer": ISSUER}]}
    assert _rego_answers(supply_chain, ROWS) == [False] * len(ROWS)


_SIGNER_PROBE = """package affidavit_signer_entry_parity

answers := [_answer(row) | some row in input.rows]

_answer(row) := true if {
	data.affidavit.lib.signers.signer_matches(input.entry, {"identity": row[0], "issuer": row[1]})
} else := false
"""


@pytest.mark.parametrize("entry", ENTRIES)
def test_a_builder_or_verifier_signer_entry_means_the_same(entry: str) -> None:
    """The signers of supply_chain.allowed_builders / allowed_verifiers ({identity, issuer} or
    {identity_pattern, issuer}) give the same answers as --identity and the signer allow-list."""
    policy = IdentityPolicy.build(entry, ISSUER)
    python = [policy.check([identity], issuer) is None for identity, issuer in ROWS]
    signer = (
        {"identity_pattern": entry[3:], "issuer": ISSUER}
        if entry.startswith("re:")
        else {"identity": entry, "issuer": ISSUER}
    )
    modules = [*_lib_modules(), PolicyModule.from_text("entry-parity.rego", _SIGNER_PROBE)]
    document = {"context": {"environment": "prod", "params": {}}, "rows": ROWS, "entry": signer}
    result = RegorusEngine().evaluate(
        modules,
        json.dumps(document),
        ["data.affidavit_signer_entry_parity.answers"],
        now=dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC),
    )["data.affidavit_signer_entry_parity.answers"]
    assert result.error is None and result.defined, result.error
    assert [bool(a) for a in result.value] == python
