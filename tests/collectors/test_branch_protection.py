"""GitHub branch protection: classic REST (every era), 404, rulesets (REST, GraphQL), rejections.

Expected values are read from the raw responses by the test's own code.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from affidavit.artefact import Artefact
from affidavit.collectors import collect_document, registry
from affidavit.collectors.formats.branch_protection import fnmatch, fnmatch_regex
from affidavit.collectors.interface import CollectOptions
from affidavit.errors import InputError
from affidavit.model import EvidenceKind

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parents[2]
FOLDER = REPO.parent / "shared" / "corpus" / "branch-protection"
NOW = "2026-11-20T12:00:00Z"
OPTIONS = CollectOptions(now=NOW)
INDEX: list[dict[str, Any]] = json.loads((FOLDER / "INDEX.json").read_text(encoding="utf-8"))

# Recognised and refused, with a word the message must contain (see the module docstring for why).
REJECTED = {
    "defectdojo-legitify_many_findings.json": "Legitify posture report",
    "octokit-fixtures-branch-protection-raw-fixture.json": r"octokit/fixtures \(nock\) recording of 7 HTTP",
}
KEYS = [
    "repository",
    "branch",
    "sources",
    "protected",
    "required_approving_review_count",
    "require_code_owner_reviews",
    "dismiss_stale_reviews",
    "required_status_checks",
    "strict_status_checks",
    "enforce_admins",
    "required_signatures",
    "required_linear_history",
    "allow_force_pushes",
    "allow_deletions",
    "require_last_push_approval",
    "review_bypass",
    "default_branch",
    "ref_match",
]

_OWN_MODULES = (
    "affidavit.collectors.formats.terraform_plan",
    "affidavit.collectors.formats.terraform_config",
    "affidavit.collectors.formats.branch_protection",
    "affidavit.collectors.formats.change_record",
)


@pytest.fixture(autouse=True)
def _own_formats(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run detection over this area's formats only, so that these tests do not depend on others'."""
    monkeypatch.setattr(registry, "_MODULES", _OWN_MODULES)
    registry.formats.cache_clear()
    yield
    registry.formats.cache_clear()


def _collect_bytes(name: str, raw: bytes, options: CollectOptions = OPTIONS) -> dict[str, Any]:
    """The record of ``raw`` read under ``name``, as JSON."""
    return collect_document(Artefact(name, raw), options).to_json()


def _collect(name: str) -> dict[str, Any]:
    """The record of a corpus file, as JSON."""
    return _collect_bytes(f"branch-protection/{name}", (FOLDER / name).read_bytes())


def _collect_json(value: Any, options: CollectOptions = OPTIONS) -> dict[str, Any]:
    """The record of a JSON value written to bytes, as JSON."""
    return _collect_bytes("response.json", json.dumps(value).encode(), options)


def _unprotected(repository: str | None = None, branch: str | None = None) -> dict[str, Any]:
    """The data of a branch with no protection at all."""
    return {
        "repository": repository,
        "branch": branch,
        "sources": [],
        "protected": False,
        "required_approving_review_count": 0,
        "require_code_owner_reviews": False,
        "dismiss_stale_reviews": False,
        "required_status_checks": [],
        "strict_status_checks": False,
        "enforce_admins": False,
        "required_signatures": False,
        "required_linear_history": False,
        "allow_force_pushes": True,
        "allow_deletions": True,
        "require_last_push_approval": False,
        "review_bypass": [],
        "default_branch": None,
        "ref_match": None,
    }


def _expected_classic(body: dict[str, Any]) -> dict[str, Any]:
    """The effective settings of a classic protection response, read independently."""
    parts = body["url"].split("/")
    at = parts.index("repos")
    expected = _unprotected(f"{parts[at + 1]}/{parts[at + 2]}", "/".join(parts[at + 4 : -1]))
    expected["sources"] = ["classic"]
    expected["protected"] = True
    checks = body.get("required_status_checks") or {}
    if checks.get("enforcement_level") != "off":
        names = set(checks.get("contexts", [])) | {c["context"] for c in checks.get("checks", [])}
        expected["required_status_checks"] = sorted(names)
        expected["strict_status_checks"] = checks.get("strict", False)
    reviews = body.get("required_pull_request_reviews")
    if reviews is not None:
        expected["required_approving_review_count"] = reviews.get("required_approving_review_count", 1)
        expected["require_code_owner_reviews"] = reviews.get("require_code_owner_reviews", False)
        expected["dismiss_stale_reviews"] = reviews.get("dismiss_stale_reviews", False)
        expected["require_last_push_approval"] = reviews.get("require_last_push_approval", False)
        allowances = reviews.get("bypass_pull_request_allowances") or {}
        expected["review_bypass"] = sorted(k for k in ("apps", "teams", "users") if allowances.get(k))
    expected["enforce_admins"] = (body.get("enforce_admins") or {}).get("enabled", False)
    for key in ("required_signatures", "required_linear_history"):
        expected[key] = (body.get(key) or {}).get("enabled", False)
    for key in ("allow_force_pushes", "allow_deletions"):
        expected[key] = (body.get(key) or {}).get("enabled", True)
    return expected


def _expected_rules_for_branch(rules: list[dict[str, Any]]) -> dict[str, Any]:
    """The effective settings of a rules/branches response, read independently."""
    expected = _unprotected()
    expected["protected"] = bool(rules)
    expected["sources"] = list(dict.fromkeys(f"ruleset:{r['ruleset_id']}" for r in rules))
    repos = [r["ruleset_source"] for r in rules if r["ruleset_source_type"] == "Repository"]
    expected["repository"] = repos[0] if repos else None
    types = {r["type"] for r in rules}
    expected["required_signatures"] = "required_signatures" in types
    expected["required_linear_history"] = "required_linear_history" in types
    expected["allow_force_pushes"] = "non_fast_forward" not in types
    expected["allow_deletions"] = "deletion" not in types
    counts = [
        r["parameters"]["required_approving_review_count"] for r in rules if r["type"] == "pull_request"
    ]
    expected["required_approving_review_count"] = max(counts, default=0)
    expected["enforce_admins"] = None  # this response does not show bypass actors
    return expected


def _expected_ruleset(ruleset: dict[str, Any]) -> dict[str, Any]:
    """The effective settings of one REST ruleset, read independently."""
    expected = _unprotected()
    if ruleset["source_type"] == "Repository":
        expected["repository"] = ruleset["source"]
    include = ruleset["conditions"]["ref_name"]["include"]
    if len(include) == 1 and include[0].startswith("refs/heads/") and "*" not in include[0]:
        expected["branch"] = include[0][len("refs/heads/") :]
    if ruleset["enforcement"] != "active":
        return expected
    types = {r["type"] for r in ruleset["rules"]}
    expected["sources"] = [f"ruleset:{ruleset['id']}"]
    expected["protected"] = bool(ruleset["rules"])
    expected["required_signatures"] = "required_signatures" in types
    expected["allow_force_pushes"] = "non_fast_forward" not in types
    expected["allow_deletions"] = "deletion" not in types
    expected["enforce_admins"] = ruleset.get("bypass_actors") == []
    expected["review_bypass"] = sorted({a["actor_type"] for a in ruleset.get("bypass_actors") or []})
    ref = ruleset["conditions"]["ref_name"]
    expected["ref_match"] = {
        "include": sorted(
            "^.*$" if p == "~ALL" else fnmatch_regex(p) for p in ref["include"] if p != "~DEFAULT_BRANCH"
        ),
        "exclude": sorted(fnmatch_regex(p) for p in ref.get("exclude", []) if p != "~DEFAULT_BRANCH"),
        "include_default": "~DEFAULT_BRANCH" in ref["include"],
        "exclude_default": "~DEFAULT_BRANCH" in ref.get("exclude", []),
    }
    return expected


@pytest.mark.parametrize("entry", INDEX, ids=[e["file"] for e in INDEX])
def test_corpus_file(entry: dict[str, Any]) -> None:
    """Every corpus file gives the settings read from it here, or is refused."""
    name = entry["file"]
    if name in REJECTED:
        with pytest.raises(InputError, match=REJECTED[name]) as info:
            _collect(name)
        assert "gh api repos/OWNER/REPO/branches/BRANCH/protection" in info.value.diagnostics()
        return
    body = json.loads((FOLDER / name).read_bytes())
    record = _collect(name)
    data = record["data"]
    assert record["kind"] == EvidenceKind.BRANCH_PROTECTION.value
    assert list(data) == KEYS
    assert all(isinstance(data[k], bool) for k in KEYS if k.startswith(("require_", "allow_")))
    assert isinstance(data["enforce_admins"], bool) or (
        data["enforce_admins"] is None and "ruleset_id" in body[0]
    )
    if isinstance(body, list):
        expected = _expected_rules_for_branch(body)
    elif "rules" in body:
        expected = _expected_ruleset(body)
    elif body.get("message") == "Branch not protected":
        expected = _unprotected()
    else:
        expected = _expected_classic(body)
    assert data == expected
    assert record["subject"] == {
        "name": expected["repository"],
        "version": expected["branch"],
        "digest": None,
    }


def test_full_response_values() -> None:
    """The 2022 full PUT response, value by value."""
    data = _collect("octokit-fixtures-put-protection-full-response.json")["data"]
    assert data["branch"] == "main"
    assert data["repository"].startswith("octokit-fixture-org/tmp-scenario-branch-protection-")
    assert data["required_status_checks"] == ["foo/bar"]
    assert (data["strict_status_checks"], data["enforce_admins"], data["dismiss_stale_reviews"]) == (
        True,
        True,
        True,
    )
    assert (data["allow_force_pushes"], data["allow_deletions"]) == (False, False)


def test_2017_preview_response_assumes_off_and_says_so() -> None:
    """Absent settings of a 2017 response read as off, and a problem names them."""
    record = _collect("github3py-get-protection-2017.json")
    assert record["data"]["required_approving_review_count"] == 1
    assert record["data"]["allow_force_pushes"] is True
    (assumed,) = [p for p in record["problems"] if "read as no protection" in p]
    for setting in (
        "dismiss_stale_reviews",
        "require_code_owner_reviews",
        "required_linear_history",
        "allow_force_pushes",
    ):
        assert setting in assumed
    assert any("counted as 1" in p for p in record["problems"])


def test_404_is_a_valid_unprotected_record() -> None:
    """GitHub's 404 'Branch not protected' is a valid record."""
    record = _collect("octokit-fixtures-get-protection-404-not-protected.json")
    assert record["data"]["protected"] is False and record["data"]["sources"] == []
    assert record["format"] == "github-branch-protection"


def test_legacy_enforcement_level_off_requires_no_checks() -> None:
    """Legacy ``enforcement_level: off`` means no required checks."""
    body = {
        "url": "https://api.github.com/repos/acme/api/branches/main/protection",
        "required_status_checks": {"enforcement_level": "off", "contexts": ["ci/build"]},
    }
    record = _collect_json(body)
    assert record["data"]["required_status_checks"] == []
    assert any("'off'" in p for p in record["problems"])


def test_branch_with_slash_from_url() -> None:
    """A URL-encoded branch name with a slash is decoded."""
    body = {
        "url": "https://api.github.com/repos/acme/api/branches/release%2F2.x/protection",
        "enforce_admins": {"enabled": False},
        "allow_force_pushes": {"enabled": False},
    }
    data = _collect_json(body)["data"]
    assert (data["repository"], data["branch"]) == ("acme/api", "release/2.x")
    assert data["allow_force_pushes"] is False and data["allow_deletions"] is True


def test_github_error_bodies_are_rejected() -> None:
    """Other GitHub error bodies are refused with GitHub's message."""
    body = {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest/branches/branch-protection#get-branch-protection",
    }
    with pytest.raises(InputError, match="GitHub API error response \\('Not Found'\\)"):
        _collect_json(body)


def test_protection_part_is_rejected() -> None:
    """A protection sub-resource response is refused as partial."""
    part = {
        "url": "https://api.github.com/repos/acme/api/branches/main/protection/required_status_checks",
        "strict": True,
        "contexts": ["ci/build"],
        "checks": [{"context": "ci/build", "app_id": None}],
    }
    with pytest.raises(InputError, match=r"only one part \('required_status_checks'\)"):
        _collect_json(part)


def test_branch_summary() -> None:
    """The branch summary is refused when protected, a record when not."""
    summary = {
        "name": "main",
        "commit": {"sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e"},
        "protected": True,
        "protection_url": "https://api.github.com/repos/acme/api/branches/main/protection",
    }
    with pytest.raises(InputError, match="branch summary") as info:
        _collect_json(summary)
    assert "gh api repos/OWNER/REPO/branches/BRANCH/protection" in info.value.diagnostics()
    assert "acme" not in info.value.diagnostics()  # the file's URL is not repeated
    data = _collect_json(dict(summary, protected=False))["data"]
    assert data == _unprotected("acme/api", "main")


def _ruleset(
    rid: int, rules: list[dict[str, Any]], *, enforcement: str = "active", bypass: Any = ()
) -> dict[str, Any]:
    """A REST ruleset response for acme/api's main branch."""
    out: dict[str, Any] = {
        "id": rid,
        "name": f"rs-{rid}",
        "target": "branch",
        "source_type": "Repository",
        "source": "acme/api",
        "enforcement": enforcement,
        "conditions": {"ref_name": {"include": ["refs/heads/main"], "exclude": []}},
        "rules": rules,
    }
    if bypass != ():
        out["bypass_actors"] = bypass
    return out


def test_several_rulesets_strictest_wins() -> None:
    """Several rulesets combine: the strictest setting wins; evaluate mode counts for nothing."""
    first = _ruleset(
        1,
        [
            {
                "type": "pull_request",
                "parameters": {
                    "required_approving_review_count": 1,
                    "require_code_owner_review": True,
                    "dismiss_stale_reviews_on_push": False,
                },
            },
            {
                "type": "required_status_checks",
                "parameters": {
                    "strict_required_status_checks_policy": False,
                    "required_status_checks": [{"context": "build"}],
                },
            },
        ],
        bypass=[],
    )
    second = _ruleset(
        2,
        [
            {
                "type": "pull_request",
                "parameters": {
                    "required_approving_review_count": 2,
                    "require_code_owner_review": False,
                    "dismiss_stale_reviews_on_push": True,
                },
            },
            {
                "type": "required_status_checks",
                "parameters": {
                    "strict_required_status_checks_policy": True,
                    "required_status_checks": [{"context": "test"}, {"context": "build"}],
                },
            },
            {"type": "non_fast_forward"},
            {"type": "deletion"},
            {"type": "required_linear_history"},
        ],
        bypass=[{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}],
    )
    disabled = _ruleset(3, [{"type": "required_signatures"}], enforcement="evaluate")
    record = _collect_json([first, second, disabled])
    data = record["data"]
    assert data["sources"] == ["ruleset:1", "ruleset:2"]
    assert data["required_approving_review_count"] == 2
    assert data["require_code_owner_reviews"] is True and data["dismiss_stale_reviews"] is True
    assert data["required_status_checks"] == ["build", "test"] and data["strict_status_checks"] is True
    assert data["allow_force_pushes"] is False and data["allow_deletions"] is False
    assert data["required_linear_history"] is True
    assert data["required_signatures"] is False  # only the evaluate-mode ruleset asks for it
    assert data["enforce_admins"] is True  # ruleset 1 has no bypass actors
    assert (data["repository"], data["branch"]) == ("acme/api", "main")
    assert any("[2]: the ruleset's enforcement is 'evaluate'" in p for p in record["problems"])
    assert any("[1]: the ruleset can be bypassed by 'RepositoryRole'" in p for p in record["problems"])


def test_ruleset_list_without_rules_is_rejected() -> None:
    """The ruleset list (without rules) is refused."""
    listing = [
        {
            "id": 42,
            "name": "main",
            "target": "branch",
            "source_type": "Repository",
            "source": "acme/api",
            "enforcement": "active",
        }
    ]
    with pytest.raises(InputError, match="without their rules"):
        _collect_json(listing)


def _graphql(
    rules: list[dict[str, Any]], rulesets: list[dict[str, Any]], default: str | None
) -> dict[str, Any]:
    """A GraphQL repository response with the given nodes."""
    repo: dict[str, Any] = {
        "nameWithOwner": "acme/api",
        "branchProtectionRules": {"nodes": rules},
        "rulesets": {"nodes": rulesets},
    }
    if default is not None:
        repo["defaultBranchRef"] = {"name": default}
    return {"data": {"repository": repo}}


CLASSIC_MAIN = {
    "pattern": "main",
    "requiresApprovingReviews": True,
    "requiredApprovingReviewCount": 1,
    "requiresCodeOwnerReviews": True,
    "dismissesStaleReviews": False,
    "requiresStatusChecks": True,
    "requiresStrictStatusChecks": True,
    "requiredStatusCheckContexts": ["ci/lint"],
    "isAdminEnforced": False,
    "requiresCommitSignatures": False,
    "requiresLinearHistory": False,
    "allowsForcePushes": False,
    "allowsDeletions": False,
}
CLASSIC_RELEASE = dict(
    CLASSIC_MAIN, pattern="release/*", requiredApprovingReviewCount=4, requiresCommitSignatures=True
)
RULESET_DEFAULT = {
    "databaseId": 77,
    "name": "default branch",
    "enforcement": "ACTIVE",
    "target": "BRANCH",
    "conditions": {"refName": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
    "bypassActors": {"totalCount": 0, "nodes": []},
    "rules": {
        "nodes": [
            {
                "type": "PULL_REQUEST",
                "parameters": {
                    "requiredApprovingReviewCount": 3,
                    "dismissStaleReviewsOnPush": True,
                    "requireCodeOwnerReview": False,
                },
            },
            {
                "type": "REQUIRED_STATUS_CHECKS",
                "parameters": {
                    "strictRequiredStatusChecksPolicy": False,
                    "requiredStatusChecks": [{"context": "ci/test"}],
                },
            },
            {"type": "REQUIRED_SIGNATURES", "parameters": None},
        ]
    },
}


def test_graphql_default_branch_combines_classic_and_ruleset() -> None:
    """GraphQL: the default branch's classic rule and ruleset combine."""
    record = _collect_json(_graphql([CLASSIC_MAIN, CLASSIC_RELEASE], [RULESET_DEFAULT], "main"))
    assert record["format"] == "github-graphql-branch-protection"
    data = record["data"]
    assert (data["repository"], data["branch"]) == ("acme/api", "main")
    assert data["sources"] == ["classic", "ruleset:77"]
    assert data["required_approving_review_count"] == 3
    assert data["require_code_owner_reviews"] is True and data["dismiss_stale_reviews"] is True
    assert data["required_status_checks"] == ["ci/lint", "ci/test"] and data["strict_status_checks"] is True
    assert data["required_signatures"] is True and data["enforce_admins"] is True
    assert data["allow_force_pushes"] is False and data["allow_deletions"] is False


def test_graphql_branch_from_options_matches_glob() -> None:
    """GraphQL: a branch from the options matches a glob rule."""
    options = CollectOptions(now=NOW, branch="release/2.0")
    data = _collect_json(_graphql([CLASSIC_MAIN, CLASSIC_RELEASE], [RULESET_DEFAULT], "main"), options)[
        "data"
    ]
    assert data["branch"] == "release/2.0"
    assert data["sources"] == ["classic"]  # the ruleset covers only the default branch
    assert data["required_approving_review_count"] == 4 and data["required_signatures"] is True


def test_graphql_without_a_branch_is_an_error() -> None:
    """GraphQL: several rules and no branch is an error."""
    with pytest.raises(InputError, match="2 branch protection rules .* does not say which branch"):
        _collect_json(_graphql([CLASSIC_MAIN, CLASSIC_RELEASE], [], None))


# --- issue 10: ruleset targeting, last-push approval, bypass, files to save instead ------------------


@pytest.mark.parametrize(
    ("pattern", "ref", "covered"),
    [
        # GitHub: File.fnmatch with File::FNM_PATHNAME ("Using fnmatch syntax", Creating rulesets).
        ("refs/heads/[!m]*", "refs/heads/main", False),  # [!...] is a negated set (was inverted)
        ("refs/heads/[!m]*", "refs/heads/develop", True),
        ("refs/heads/[!/]*", "refs/heads/a/b", False),  # no set matches "/"
        ("refs/heads/release/*", "refs/heads/release/1.4", True),
        ("refs/heads/release/*", "refs/heads/release/1.4/hotfix", False),  # * stops at /
        ("refs/heads/release/**/*", "refs/heads/release/1.4/hotfix", True),  # **/ spans directories
        ("refs/heads/**", "refs/heads/main", True),
        ("refs/heads/**", "refs/heads/a/b", False),  # ** not followed by / is *
        ("refs/heads/dev?", "refs/heads/dev1", True),
        ("refs/heads/v1.2", "refs/heads/v1x2", False),  # . is literal
        ("refs/heads/{a,b}", "refs/heads/a", False),  # no FNM_EXTGLOB: braces are literal
        ("refs/heads/[z-a]", "refs/heads/[z-a]", True),  # a reversed range cannot match: literal
        ("main", "refs/heads/main", False),  # patterns are matched against the full ref
    ],
)
def test_fnmatch_regex_follows_github(pattern: str, ref: str, covered: bool) -> None:
    assert (re.fullmatch(fnmatch_regex(pattern), ref) is not None) is covered
    assert fnmatch(pattern, ref) is covered  # the collector's own matcher agrees with the regex


def test_fnmatch_agrees_with_its_regex_on_generated_cases() -> None:
    """Every pattern over a small alphabet against every short name: the matcher the collector uses
    and the regex the policy applies give the same answer."""
    pieces = ["a", "b", "/", "*", "**/", "?", "[!a]", "[ab]"]
    names = ["", "a", "b", "ab", "a/b", "b/a", "a/b/a", "aa/", "/a"]
    for p1 in pieces:
        for p2 in pieces:
            for p3 in pieces:
                pattern = p1 + p2 + p3
                regex = fnmatch_regex(pattern)
                for name in names:
                    assert fnmatch(pattern, name) is (re.fullmatch(regex, name) is not None), (pattern, name)


def test_fnmatch_is_bounded_on_hostile_patterns() -> None:
    """A pattern built to make a backtracking regex take exponential time answers at once."""
    started = time.monotonic()
    assert fnmatch("*a" * 60 + "b", "a" * 250) is False
    assert fnmatch("x" * 2000, "x" * 2000) is False  # beyond any ref GitHub accepts
    assert time.monotonic() - started < 5


def test_ruleset_records_its_targets_and_bypass_actors() -> None:
    ruleset = {
        "id": 7,
        "target": "branch",
        "source_type": "Repository",
        "source": "acme/api",
        "enforcement": "active",
        "bypass_actors": [{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "pull_request"}],
        "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH", "refs/heads/[!d]*"], "exclude": ["~ALL"]}},
        "rules": [{"type": "pull_request", "parameters": {"require_last_push_approval": True}}],
    }
    data = _collect_json(ruleset)["data"]
    assert data["ref_match"] == {
        "include": ["^refs/heads/[^/d][^/]*$"],
        "exclude": ["^.*$"],
        "include_default": True,
        "exclude_default": False,
    }
    assert data["review_bypass"] == ["RepositoryRole"]
    assert data["require_last_push_approval"] is True
    assert data["enforce_admins"] is False


def test_rulesets_with_different_targets_have_no_ref_match() -> None:
    one = {
        "id": 1,
        "target": "branch",
        "enforcement": "active",
        "bypass_actors": [],
        "rules": [{"type": "deletion"}],
    }
    main = {**one, "conditions": {"ref_name": {"include": ["refs/heads/main"], "exclude": []}}}
    release = {
        **one,
        "id": 2,
        "conditions": {"ref_name": {"include": ["refs/heads/release/*"], "exclude": []}},
    }
    record = _collect_json([main, release])
    assert record["data"]["ref_match"] is None
    assert any("save each ruleset in its own file" in p for p in record["problems"])


def test_classic_bypass_allowances_and_last_push() -> None:
    body = {
        "url": "https://api.github.com/repos/acme/api/branches/main/protection",
        "required_pull_request_reviews": {
            "required_approving_review_count": 2,
            "dismiss_stale_reviews": True,
            "require_code_owner_reviews": True,
            "require_last_push_approval": False,
            "bypass_pull_request_allowances": {
                "users": [{"login": "octocat"}],
                "teams": [],
                "apps": [{"slug": "x"}],
            },
        },
    }
    data = _collect_json(body)["data"]
    assert data["review_bypass"] == ["apps", "users"]
    assert data["require_last_push_approval"] is False
    body["required_pull_request_reviews"]["bypass_pull_request_allowances"] = {"users": "octocat"}
    with pytest.raises(InputError, match="expected an array"):
        _collect_json(body)


def test_rules_for_branch_do_not_claim_admins_can_bypass() -> None:
    rules = [
        {
            "type": "deletion",
            "ruleset_source_type": "Repository",
            "ruleset_source": "acme/api",
            "ruleset_id": 9,
        }
    ]
    record = _collect_json(rules)
    assert record["data"]["enforce_admins"] is None
    assert record["data"]["branch"] is None
    assert any("rulesets/ID" in p for p in record["problems"])


def test_branch_list_is_refused_with_what_to_save() -> None:
    branches = [{"name": "main", "commit": {"sha": "a" * 40, "url": "https://x"}, "protected": True}]
    with pytest.raises(InputError, match="is a list of 1 branches") as info:
        _collect_json(branches)
    assert "branches/BRANCH/protection" in info.value.diagnostics()


def test_gh_ruleset_list_is_refused_with_what_to_save() -> None:
    # cli/cli pkg/cmd/ruleset/list/fixtures/rulesetList.json: rules are only counted
    listed = {
        "data": {
            "level": {"rulesets": {"totalCount": 1, "nodes": [{"databaseId": 4, "rules": {"totalCount": 1}}]}}
        }
    }
    with pytest.raises(InputError, match="gh ruleset list") as info:
        _collect_json(listed)
    assert "rulesets/ID" in info.value.diagnostics()


def test_rest_ruleset_list_is_refused_with_what_to_save() -> None:
    listed = [
        {
            "id": 4,
            "name": "x",
            "target": "branch",
            "source_type": "Repository",
            "source": "acme/api",
            "enforcement": "active",
        }
    ]
    with pytest.raises(InputError, match="without their rules") as info:
        _collect_json(listed)
    assert "rulesets/ID" in info.value.diagnostics()
