"""False-verdict scenarios, area "source control" (issue 10): branch protection bound to the branch
being promoted, ruleset targeting as GitHub evaluates it, last-push approval and bypass allowances.

Each scenario is the demo GO release (classic protection of acme/shop ``main``) with one change in
the shape GitHub's REST API documents:

- classic protection: GET /repos/{owner}/{repo}/branches/{branch}/protection
  (https://docs.github.com/en/rest/branches/branch-protection#get-branch-protection);
- rulesets: GET /repos/{owner}/{repo}/rulesets/{ruleset_id}
  (https://docs.github.com/en/rest/repos/rules#get-a-repository-ruleset), whose
  ``conditions.ref_name.include/exclude`` take ``~DEFAULT_BRANCH``, ``~ALL`` and fnmatch patterns
  matched against the full ref with Ruby's ``File.fnmatch`` and ``File::FNM_PATHNAME`` ("Using
  fnmatch syntax", https://docs.github.com/en/repositories/configuring-branches-and-merges-in-your-repository/managing-rulesets/creating-rulesets-for-a-repository);
- per-branch rules: GET /repos/{owner}/{repo}/rules/branches/{branch}
  (https://docs.github.com/en/rest/repos/rules#get-rules-for-a-branch), items
  ``{type, parameters, ruleset_source_type, ruleset_source, ruleset_id}``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.verdicts.support import Scenario, both, check, edit_json, ids, remove_file, write_file

AREA = "source control"
PROTECTED = "source_control.branch_protected"
REVIEWS = "source_control.required_reviews"
ADMINS = "source_control.admins_enforced"
BP = "branch-protection.json"
MAIN = ("--branch", "main")
CLASSIC = "GitHub REST GET /repos/{o}/{r}/branches/{b}/protection (docs.github.com/en/rest/branches/branch-protection)"
RULESET = "GitHub REST GET /repos/{o}/{r}/rulesets/{id} (docs.github.com/en/rest/repos/rules#get-a-repository-ruleset)"
FNMATCH = (
    "GitHub docs, Creating rulesets for a repository, 'Using fnmatch syntax': File.fnmatch with "
    "File::FNM_PATHNAME; ruleset ref_name include/exclude, ~DEFAULT_BRANCH, ~ALL"
)
RULES_FOR_BRANCH = "GitHub REST GET /repos/{o}/{r}/rules/branches/{branch} (docs.github.com/en/rest/repos/rules#get-rules-for-a-branch)"


def _rules(**overrides: Any) -> list[dict[str, Any]]:
    """The rules of a ruleset as strong as the demo's classic protection (REST spelling)."""
    pull_request = {
        "required_approving_review_count": 2,
        "dismiss_stale_reviews_on_push": True,
        "require_code_owner_review": True,
        "require_last_push_approval": True,
        "required_review_thread_resolution": True,
    }
    pull_request.update(overrides)
    return [
        {"type": "deletion"},
        {"type": "non_fast_forward"},
        {"type": "required_linear_history"},
        {"type": "required_signatures"},
        {"type": "pull_request", "parameters": pull_request},
        {
            "type": "required_status_checks",
            "parameters": {
                "strict_required_status_checks_policy": True,
                "required_status_checks": [
                    {"context": "ci/build", "integration_id": 15368},
                    {"context": "ci/test", "integration_id": 15368},
                ],
            },
        },
    ]


def _ruleset(
    include: list[str],
    exclude: list[str] | None = None,
    *,
    bypass: list[dict[str, Any]] | None = None,
    enforcement: str = "active",
    target: str = "branch",
    rules: list[dict[str, Any]] | None = None,
    rid: int = 42,
) -> dict[str, Any]:
    """A repository ruleset of acme/shop as GET .../rulesets/{id} returns it to an admin."""
    return {
        "id": rid,
        "name": "protect releases",
        "target": target,
        "source_type": "Repository",
        "source": "acme/shop",
        "enforcement": enforcement,
        "bypass_actors": [] if bypass is None else bypass,
        "conditions": {"ref_name": {"include": include, "exclude": exclude or []}},
        "rules": _rules() if rules is None else rules,
        "node_id": "RRS_lACkVXNlcgQB",
        "_links": {
            "self": {"href": f"https://api.github.com/repos/acme/shop/rulesets/{rid}"},
            "html": {"href": f"https://github.com/acme/shop/rules/{rid}"},
        },
        "created_at": "2026-07-15T08:43:03Z",
        "updated_at": "2026-08-23T16:29:47Z",
    }


def _only_ruleset(document: Any) -> Any:
    """A change that replaces the classic protection by one ruleset file."""
    return both(remove_file(BP), write_file("ruleset.json", json.dumps(document, indent=2)))


def _classic(edit: Any) -> Any:
    """A change to the demo's classic protection."""
    return edit_json(BP, edit)


def _set_reviews(key: str, value: Any) -> Any:
    """Set one field of required_pull_request_reviews."""

    def edit(doc: dict[str, Any]) -> None:
        doc["required_pull_request_reviews"][key] = value

    return _classic(edit)


def _about_branch(name: str) -> Any:
    """The same protection, exported for another branch (its URLs name that branch)."""

    def change(folder: Path) -> None:
        path = folder / BP
        path.write_text(path.read_text().replace("/branches/main/", f"/branches/{name}/"))

    return change


def _drop_reviews_key(key: str) -> Any:
    """The classic export without one review setting (an older API version)."""

    def edit(doc: dict[str, Any]) -> None:
        del doc["required_pull_request_reviews"][key]

    return _classic(edit)


_USER = {"login": "octocat", "id": 1, "type": "User", "site_admin": False}
_TEAM = {"id": 1, "slug": "release-admins", "name": "Release admins", "privacy": "closed"}
_APP = {"id": 1, "slug": "octoapp", "name": "Octocat App", "owner": {"login": "acme"}}

_RULES_FOR_MAIN = [
    {
        "type": rule["type"],
        **({"parameters": rule["parameters"]} if "parameters" in rule else {}),
        "ruleset_source_type": "Repository",
        "ruleset_source": "acme/shop",
        "ruleset_id": 42,
    }
    for rule in _rules()
]

_BRANCH_LIST = [
    {
        "name": "main",
        "commit": {
            "sha": "3f1c9a7e5b2d4c6a8e0f1b3d5c7e9a1b2c4d6e8f",
            "url": "https://api.github.com/repos/acme/shop/commits/3f1c9a7e5b2d4c6a8e0f1b3d5c7e9a1b2c4d6e8f",
        },
        "protected": True,
    },
    {
        "name": "develop",
        "commit": {
            "sha": "c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc",
            "url": "https://api.github.com/repos/acme/shop/commits/c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc",
        },
        "protected": False,
    },
]

_GH_RULESET_LIST = {
    "data": {
        "level": {
            "rulesets": {
                "totalCount": 1,
                "nodes": [
                    {
                        "databaseId": 42,
                        "name": "protect main",
                        "target": "BRANCH",
                        "enforcement": "ACTIVE",
                        "conditions": {
                            "refName": {"include": ["~DEFAULT_BRANCH"], "exclude": []},
                            "repositoryName": None,
                        },
                        "rules": {"totalCount": 6},
                    }
                ],
                "pageInfo": {"hasNextPage": False, "endCursor": "Y3Vyc29yOnYyOpHNA8E="},
            }
        }
    }
}

_RULESET_LIST = [
    {
        "id": 42,
        "name": "protect main",
        "target": "branch",
        "source_type": "Repository",
        "source": "acme/shop",
        "enforcement": "active",
        "node_id": "RRS_lACkVXNlcgQB",
        "_links": {"self": {"href": "https://api.github.com/repos/acme/shop/rulesets/42"}},
        "created_at": "2026-07-15T08:43:03Z",
        "updated_at": "2026-08-23T16:29:47Z",
    }
]


def _graphql(default: str, pattern: str, **rule: Any) -> dict[str, Any]:
    """A GitHub GraphQL repository answer with one classic rule (every field queried; ``rule``
    overrides fields of the rule node)."""
    return {
        "data": {
            "repository": {
                "nameWithOwner": "acme/shop",
                "defaultBranchRef": {"name": default},
                "branchProtectionRules": {
                    "nodes": [
                        {
                            "pattern": pattern,
                            "requiresApprovingReviews": True,
                            "requiredApprovingReviewCount": 2,
                            "requiresCodeOwnerReviews": True,
                            "dismissesStaleReviews": True,
                            "requireLastPushApproval": True,
                            "bypassPullRequestAllowances": {"totalCount": 0, "nodes": []},
                            "requiresStatusChecks": True,
                            "requiresStrictStatusChecks": True,
                            "requiredStatusCheckContexts": ["ci/build", "ci/test"],
                            "isAdminEnforced": True,
                            "requiresCommitSignatures": True,
                            "requiresLinearHistory": True,
                            "allowsForcePushes": False,
                            "allowsDeletions": False,
                            **rule,
                        }
                    ]
                },
            }
        }
    }


SCENARIOS: list[Scenario] = [
    # --- binding to the promoted branch -------------------------------------------------------
    Scenario(
        "sc-classic-for-develop-branch-main",
        AREA,
        PROTECTED,
        _about_branch("develop"),
        "insufficient_evidence",
        CLASSIC,
        "protection exported for develop says nothing about main, the branch promoted",
        options=MAIN,
    ),
    Scenario(
        "sc-classic-for-develop-no-branch-option",
        AREA,
        PROTECTED,
        _about_branch("develop"),
        "insufficient_evidence",
        CLASSIC + "; SLSA provenance v1 buildDefinition.externalParameters.workflow.ref",
        "without --branch the promoted branch is the provenance's source ref (main), not develop",
    ),
    Scenario(
        "sc-classic-for-feature-branch",
        AREA,
        REVIEWS,
        _about_branch("feature%2Fquick-fix"),
        "insufficient_evidence",
        CLASSIC,
        "URL-encoded branch name in the protection URL: feature/quick-fix is not main",
        options=MAIN,
    ),
    Scenario(
        "sc-promoting-hotfix-with-main-protection",
        AREA,
        PROTECTED,
        lambda folder: None,
        "insufficient_evidence",
        CLASSIC,
        "the release is promoted from hotfix/1.4.3, for which no protection was exported",
        options=("--branch", "hotfix/1.4.3"),
    ),
    Scenario(
        "sc-ruleset-release-glob-only",
        AREA,
        PROTECTED,
        _only_ruleset(_ruleset(["refs/heads/release/*"])),
        "insufficient_evidence",
        FNMATCH,
        "a ruleset covering only release/* does not protect main",
        options=MAIN,
    ),
    Scenario(
        "sc-ruleset-all-but-main",
        AREA,
        PROTECTED,
        _only_ruleset(_ruleset(["~ALL"], ["refs/heads/main"])),
        "insufficient_evidence",
        FNMATCH,
        "~ALL with refs/heads/main excluded covers every branch but the promoted one",
        options=MAIN,
    ),
    Scenario(
        "sc-ruleset-for-develop",
        AREA,
        REVIEWS,
        _only_ruleset(_ruleset(["refs/heads/develop"])),
        "insufficient_evidence",
        FNMATCH,
        options=MAIN,
    ),
    Scenario(
        "sc-ruleset-negated-class-excludes-main",
        AREA,
        PROTECTED,
        _only_ruleset(_ruleset(["refs/heads/[!m]*"])),
        "insufficient_evidence",
        FNMATCH + "; Ruby File.fnmatch: [!...] matches a character not in the set",
        "[!m]* covers branches that do not start with m: main is not covered (the old reading inverted it)",
        options=MAIN,
    ),
    Scenario(
        "sc-ruleset-negated-class-covers-main",
        AREA,
        PROTECTED,
        _only_ruleset(_ruleset(["refs/heads/[!d]*"])),
        "pass",
        FNMATCH + "; Ruby File.fnmatch: [!...] matches a character not in the set",
        "[!d]* covers main (it does not start with d)",
        decision="GO",
        options=MAIN,
    ),
    Scenario(
        "sc-ruleset-star-does-not-cross-slash",
        AREA,
        PROTECTED,
        _only_ruleset(_ruleset(["refs/heads/release/*"])),
        "insufficient_evidence",
        FNMATCH + " ('* does not match /')",
        "release/* does not cover release/1.4/hotfix",
        options=("--branch", "release/1.4/hotfix"),
    ),
    Scenario(
        "sc-ruleset-double-star-dir-covers-nested",
        AREA,
        PROTECTED,
        _only_ruleset(_ruleset(["refs/heads/release/**/*"])),
        "pass",
        FNMATCH + " ('qa/**/* matches qa/foo/bar/foobar/hello-world')",
        options=("--branch", "release/1.4/hotfix"),
    ),
    Scenario(
        "sc-ruleset-default-branch-unknown",
        AREA,
        PROTECTED,
        _only_ruleset(_ruleset(["~DEFAULT_BRANCH"])),
        "insufficient_evidence",
        FNMATCH,
        "the REST ruleset does not say which branch is the default, so ~DEFAULT_BRANCH cannot be matched to main",
        options=MAIN,
    ),
    Scenario(
        "sc-ruleset-exclude-default-unknown",
        AREA,
        PROTECTED,
        _only_ruleset(_ruleset(["~ALL"], ["~DEFAULT_BRANCH"])),
        "insufficient_evidence",
        FNMATCH,
        "every branch but the default one: main may be the default, so it is not shown to be covered",
        options=MAIN,
    ),
    Scenario(
        "sc-ruleset-evaluate-mode",
        AREA,
        PROTECTED,
        _only_ruleset(_ruleset(["refs/heads/main"], enforcement="evaluate")),
        ("fail", "insufficient_evidence"),
        RULESET + " (enforcement: disabled, active, evaluate)",
        "evaluate mode only reports; it enforces nothing",
        options=MAIN,
    ),
    Scenario(
        "sc-ruleset-disabled",
        AREA,
        PROTECTED,
        _only_ruleset(_ruleset(["refs/heads/main"], enforcement="disabled")),
        ("fail", "insufficient_evidence"),
        RULESET,
        options=MAIN,
    ),
    Scenario(
        "sc-ruleset-targets-tags",
        AREA,
        PROTECTED,
        _only_ruleset(_ruleset(["refs/tags/v*"], target="tag")),
        ("fail", "insufficient_evidence"),
        RULESET + " (target: branch, tag, push)",
        options=MAIN,
    ),
    Scenario(
        "sc-rulesets-array-different-targets",
        AREA,
        REVIEWS,
        _only_ruleset(
            [
                _ruleset(["refs/heads/release/*"], rid=7),
                _ruleset(["refs/heads/main"], rules=[{"type": "deletion"}], rid=8),
            ]
        ),
        ("fail", "insufficient_evidence"),
        RULESET + " (an array of rulesets saved together)",
        "the strong ruleset targets release/*, the one for main requires no review",
        options=MAIN,
    ),
    Scenario(
        "sc-per-branch-rules-export",
        AREA,
        PROTECTED,
        _only_ruleset(_RULES_FOR_MAIN),
        "insufficient_evidence",
        RULES_FOR_BRANCH,
        "the export does not say which branch it was fetched for",
        options=MAIN,
    ),
    Scenario(
        "sc-per-branch-rules-no-false-admin-bypass",
        AREA,
        ADMINS,
        _only_ruleset(_RULES_FOR_MAIN),
        "insufficient_evidence",
        RULES_FOR_BRANCH,
        "bypass actors are not in this response: unknown, never a false 'administrators can bypass'",
        options=MAIN,
    ),
    Scenario(
        "sc-graphql-default-is-develop",
        AREA,
        PROTECTED,
        both(
            remove_file(BP), write_file("protection.graphql.json", json.dumps(_graphql("develop", "develop")))
        ),
        ("fail", "insufficient_evidence"),
        "GitHub GraphQL Repository.defaultBranchRef, branchProtectionRules (docs.github.com/en/graphql/reference/objects#branchprotectionrule)",
        "the rule protects develop (the default), but main is promoted",
        options=MAIN,
    ),
    Scenario(
        "sc-graphql-default-main-no-branch-option",
        AREA,
        PROTECTED,
        both(remove_file(BP), write_file("protection.graphql.json", json.dumps(_graphql("main", "main")))),
        "pass",
        "GitHub GraphQL Repository.defaultBranchRef, branchProtectionRules (docs.github.com/en/graphql/reference/objects#branchprotectionrule)",
        "the export states the default branch and protects it",
        decision="GO",
    ),
    Scenario(
        "sc-graphql-last-push-off",
        AREA,
        REVIEWS,
        both(
            remove_file(BP),
            write_file(
                "protection.graphql.json", json.dumps(_graphql("main", "main", requireLastPushApproval=False))
            ),
        ),
        "fail",
        "GitHub GraphQL BranchProtectionRule (docs.github.com/en/graphql/reference/objects#branchprotectionrule)"
        + " requireLastPushApproval",
        options=MAIN,
    ),
    Scenario(
        "sc-graphql-bypass-allowances",
        AREA,
        ADMINS,
        both(
            remove_file(BP),
            write_file(
                "protection.graphql.json",
                json.dumps(
                    _graphql(
                        "main",
                        "main",
                        bypassPullRequestAllowances={
                            "totalCount": 1,
                            "nodes": [{"actor": {"__typename": "Team"}}],
                        },
                    )
                ),
            ),
        ),
        "fail",
        "GitHub GraphQL BranchProtectionRule (docs.github.com/en/graphql/reference/objects#branchprotectionrule)"
        + " bypassPullRequestAllowances",
        options=MAIN,
    ),
    Scenario(
        "sc-graphql-glob-rule-covers-release",
        AREA,
        PROTECTED,
        both(
            remove_file(BP), write_file("protection.graphql.json", json.dumps(_graphql("main", "release/*")))
        ),
        ("pass", "insufficient_evidence"),
        "GitHub GraphQL BranchProtectionRule (docs.github.com/en/graphql/reference/objects#branchprotectionrule)"
        + " pattern (fnmatch)",
        why="pass once the pipeline hands --branch to the collectors (CollectOptions.branch, requested of the "
        "lead): until then the GraphQL answer is read for its default branch, main, and release/2.0 is "
        "insufficient evidence, never a false GO",
        options=("--branch", "release/2.0"),
    ),
    Scenario(
        "sc-graphql-negated-glob-excludes-main",
        AREA,
        PROTECTED,
        both(
            remove_file(BP), write_file("protection.graphql.json", json.dumps(_graphql("develop", "[!m]*")))
        ),
        ("fail", "insufficient_evidence"),
        "GitHub GraphQL BranchProtectionRule (docs.github.com/en/graphql/reference/objects#branchprotectionrule)"
        + " pattern (fnmatch [!...])",
        options=MAIN,
    ),
    Scenario(
        "sc-protection-of-a-fork",
        AREA,
        PROTECTED,
        lambda folder: (folder / BP).write_text(
            (folder / BP).read_text().replace("/acme/shop/", "/mallory/shop/")
        ),
        "insufficient_evidence",
        CLASSIC,
        "protection of a fork says nothing about acme/shop",
        options=MAIN,
    ),
    # --- files that are not branch protection: refused with what to save instead (the run is
    # INCOMPLETE and the rule says error; the message is asserted in tests/collectors) ----------
    Scenario(
        "sc-branch-list-instead-of-protection",
        AREA,
        PROTECTED,
        both(remove_file(BP), write_file("branches.json", json.dumps(_BRANCH_LIST))),
        ("error", "insufficient_evidence"),
        "GitHub REST GET /repos/{o}/{r}/branches (docs.github.com/en/rest/branches/branches#list-branches)",
        "protected: true says nothing about how",
        options=MAIN,
    ),
    Scenario(
        "sc-gh-ruleset-list",
        AREA,
        PROTECTED,
        both(remove_file(BP), write_file("rulesets.json", json.dumps(_GH_RULESET_LIST))),
        ("error", "insufficient_evidence"),
        "cli/cli pkg/cmd/ruleset/list (GraphQL level.rulesets with rules { totalCount })",
        options=MAIN,
    ),
    Scenario(
        "sc-rest-ruleset-list-without-rules",
        AREA,
        PROTECTED,
        both(remove_file(BP), write_file("rulesets.json", json.dumps(_RULESET_LIST))),
        ("error", "insufficient_evidence"),
        "GitHub REST GET /repos/{o}/{r}/rulesets (docs.github.com/en/rest/repos/rules#get-all-repository-rulesets)",
        options=MAIN,
    ),
    Scenario(
        "sc-404-not-protected",
        AREA,
        PROTECTED,
        write_file(
            BP,
            json.dumps(
                {
                    "message": "Branch not protected",
                    "documentation_url": "https://docs.github.com/rest/branches/branch-protection#get-branch-protection",
                    "status": "404",
                }
            ),
        ),
        ("fail", "insufficient_evidence"),
        CLASSIC + " (404 Branch not protected)",
        options=MAIN,
    ),
    # --- last-push approval ---------------------------------------------------------------------
    Scenario(
        "sc-classic-last-push-approval-off",
        AREA,
        REVIEWS,
        _set_reviews("require_last_push_approval", False),
        "fail",
        CLASSIC + " required_pull_request_reviews.require_last_push_approval",
        "commits pushed after the approvals merge unreviewed",
        options=MAIN,
    ),
    Scenario(
        "sc-classic-last-push-approval-absent",
        AREA,
        REVIEWS,
        _drop_reviews_key("require_last_push_approval"),
        ("fail", "insufficient_evidence"),
        CLASSIC + " (responses before 2023 leave require_last_push_approval out)",
        options=MAIN,
    ),
    Scenario(
        "sc-ruleset-last-push-approval-off",
        AREA,
        REVIEWS,
        _only_ruleset(_ruleset(["refs/heads/main"], rules=_rules(require_last_push_approval=False))),
        "fail",
        RULESET + " pull_request.parameters.require_last_push_approval",
        options=MAIN,
    ),
    Scenario(
        "sc-ruleset-one-approval",
        AREA,
        REVIEWS,
        _only_ruleset(_ruleset(["refs/heads/main"], rules=_rules(required_approving_review_count=1))),
        "fail",
        RULESET + " pull_request.parameters.required_approving_review_count",
        options=MAIN,
    ),
    Scenario(
        "sc-last-push-off-allowed-in-staging",
        AREA,
        REVIEWS,
        _set_reviews("require_last_push_approval", False),
        "pass",
        CLASSIC,
        "staging's rule data does not ask for last-push approval",
        options=(*MAIN, "--environment", "staging"),
    ),
    # --- bypass -------------------------------------------------------------------------------
    Scenario(
        "sc-classic-bypass-users",
        AREA,
        ADMINS,
        _set_reviews("bypass_pull_request_allowances", {"users": [_USER], "teams": [], "apps": []}),
        "fail",
        CLASSIC + " required_pull_request_reviews.bypass_pull_request_allowances",
        "a user may merge without the required reviews",
        options=MAIN,
    ),
    Scenario(
        "sc-classic-bypass-teams",
        AREA,
        ADMINS,
        _set_reviews("bypass_pull_request_allowances", {"users": [], "teams": [_TEAM], "apps": []}),
        "fail",
        CLASSIC + " required_pull_request_reviews.bypass_pull_request_allowances",
        options=MAIN,
    ),
    Scenario(
        "sc-classic-bypass-apps",
        AREA,
        ADMINS,
        _set_reviews("bypass_pull_request_allowances", {"users": [], "teams": [], "apps": [_APP]}),
        "fail",
        CLASSIC + " required_pull_request_reviews.bypass_pull_request_allowances",
        options=MAIN,
    ),
    Scenario(
        "sc-classic-bypass-empty",
        AREA,
        ADMINS,
        _set_reviews("bypass_pull_request_allowances", {"users": [], "teams": [], "apps": []}),
        "pass",
        CLASSIC + " required_pull_request_reviews.bypass_pull_request_allowances",
        "empty allowance lists: nobody may bypass",
        decision="GO",
        options=MAIN,
    ),
    Scenario(
        "sc-ruleset-bypass-team-always",
        AREA,
        ADMINS,
        _only_ruleset(
            _ruleset(
                ["refs/heads/main"], bypass=[{"actor_id": 234, "actor_type": "Team", "bypass_mode": "always"}]
            )
        ),
        "fail",
        RULESET + " bypass_actors (actor_type Team, bypass_mode always)",
        options=MAIN,
    ),
    Scenario(
        "sc-ruleset-bypass-role-pull-request",
        AREA,
        ADMINS,
        _only_ruleset(
            _ruleset(
                ["refs/heads/main"],
                bypass=[{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "pull_request"}],
            )
        ),
        "fail",
        RULESET + " bypass_actors (bypass_mode pull_request: may merge a pull request past the rules)",
        options=MAIN,
    ),
    Scenario(
        "sc-ruleset-bypass-not-shown",
        AREA,
        ADMINS,
        _only_ruleset({k: v for k, v in _ruleset(["refs/heads/main"]).items() if k != "bypass_actors"}),
        ("fail", "insufficient_evidence"),
        RULESET + " (bypass_actors is only returned to users who can edit the ruleset)",
        options=MAIN,
    ),
    Scenario(
        "sc-classic-admins-not-enforced",
        AREA,
        ADMINS,
        _classic(
            lambda doc: doc.update(
                {"enforce_admins": {"url": doc["enforce_admins"]["url"], "enabled": False}}
            )
        ),
        "fail",
        CLASSIC + " enforce_admins.enabled",
        options=MAIN,
    ),
    # --- passing variants ---------------------------------------------------------------------
    Scenario(
        "sc-demo-with-branch-main",
        AREA,
        PROTECTED,
        lambda folder: None,
        "pass",
        CLASSIC,
        decision="GO",
        options=MAIN,
    ),
    Scenario(
        "sc-demo-with-full-ref",
        AREA,
        PROTECTED,
        lambda folder: None,
        "pass",
        CLASSIC + "; the CLI strips refs/heads/",
        decision="GO",
        options=("--branch", "refs/heads/main"),
    ),
    Scenario(
        "sc-ruleset-github-example-shape-passes",
        AREA,
        PROTECTED,
        _only_ruleset(_ruleset(["refs/heads/main", "refs/heads/master"], ["refs/heads/dev*"])),
        "pass",
        RULESET + " (the documented example's conditions, with rules and no bypass actors)",
        decision="GO",
        options=MAIN,
    ),
    Scenario(
        "sc-ruleset-all-but-dev",
        AREA,
        REVIEWS,
        _only_ruleset(_ruleset(["~ALL"], ["refs/heads/dev*"])),
        "pass",
        FNMATCH,
        decision="GO",
        options=MAIN,
    ),
    Scenario(
        "sc-ruleset-double-star-same-as-star",
        AREA,
        PROTECTED,
        _only_ruleset(_ruleset(["refs/heads/**"])),
        "pass",
        FNMATCH + " (** not followed by / is *)",
        decision="GO",
        options=MAIN,
    ),
    Scenario(
        "sc-classic-main-plus-release-ruleset",
        AREA,
        REVIEWS,
        write_file(
            "ruleset-release.json",
            json.dumps(_ruleset(["refs/heads/release/*"], rules=[{"type": "deletion"}])),
        ),
        "pass",
        FNMATCH,
        "a weak ruleset for release/* does not bear on main, protected by the classic rule",
        decision="GO",
        options=MAIN,
    ),
    # --- layered protection: classic and rulesets on the same branch ------------------------------
    Scenario(
        "sc-layered-weak-ruleset-beside-classic",
        AREA,
        REVIEWS,
        write_file(
            "ruleset-signatures.json",
            json.dumps(_ruleset(["~ALL"], rules=[{"type": "required_signatures"}, {"type": "deletion"}])),
        ),
        "pass",
        RULESET
        + "; GitHub docs, About rulesets: 'rules from rulesets and branch protection rules are aggregated', the most restrictive applies",
        "a ruleset that only asks for signatures beside the classic protection does not lower the review count",
        decision="GO",
        options=MAIN,
    ),
    Scenario(
        "sc-layered-ruleset-raises-reviews",
        AREA,
        REVIEWS,
        both(
            _set_reviews("required_approving_review_count", 1),
            write_file("ruleset-main.json", json.dumps(_ruleset(["refs/heads/main"]))),
        ),
        "pass",
        RULESET + "; GitHub docs, About rulesets (layering)",
        "classic asks for 1 approval, the ruleset for 2: 2 are in force",
        decision="GO",
        options=MAIN,
    ),
    Scenario(
        "sc-layered-ruleset-adds-last-push",
        AREA,
        REVIEWS,
        both(
            _set_reviews("require_last_push_approval", False),
            write_file("ruleset-main.json", json.dumps(_ruleset(["refs/heads/main"]))),
        ),
        "pass",
        RULESET + "; GitHub docs, About rulesets (layering)",
        decision="GO",
        options=MAIN,
    ),
    Scenario(
        "sc-layered-both-weak",
        AREA,
        REVIEWS,
        both(
            _set_reviews("required_approving_review_count", 1),
            write_file(
                "ruleset-main.json",
                json.dumps(_ruleset(["refs/heads/main"], rules=_rules(required_approving_review_count=1))),
            ),
        ),
        "fail",
        RULESET + "; GitHub docs, About rulesets (layering)",
        options=MAIN,
    ),
    Scenario(
        "sc-layered-ruleset-with-bypass",
        AREA,
        ADMINS,
        write_file(
            "ruleset-signatures.json",
            json.dumps(
                _ruleset(
                    ["~ALL"],
                    bypass=[{"actor_id": 1, "actor_type": "OrganizationAdmin", "bypass_mode": "always"}],
                    rules=[{"type": "required_signatures"}],
                )
            ),
        ),
        "fail",
        RULESET + " bypass_actors",
        "debatable: organisation admins may bypass only the signature ruleset while the classic rule "
        "still binds them; one layered record cannot show which rules an actor may skip, so any "
        "bypass on the branch fails (a possible false NO-GO, never a false GO)",
        options=MAIN,
    ),
    Scenario(
        "sc-release-branch-promoted",
        AREA,
        PROTECTED,
        _only_ruleset(_ruleset(["refs/heads/release/*"])),
        "pass",
        FNMATCH,
        "promoting release/1.4, which the ruleset covers",
        options=("--branch", "release/1.4"),
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=ids(SCENARIOS))
def test_source_control(tmp_path: Path, scenario: Scenario) -> None:
    check(tmp_path, scenario)
