"""False-verdict scenarios, area "change management" (issue 10): approvals after the request and before
the evaluation, by a person (not a bot), who is not the requester under any alias; environment
names as --environment resolves them.

Each scenario is the demo GO release (change record CHG-2026-1142: requested by dana.developer at
2026-11-20T09:20:00Z, approved by sam.release-manager at 10:41:00Z, gate evaluated at 12:00:00Z)
with one change, in the shape of affidavit's change record (docs/change-record.md, whose example
says ``"environment": "production"``) or GitHub's deployment reviews
(GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals,
https://docs.github.com/en/rest/actions/workflow-runs#get-the-review-history-for-a-workflow-run).
GitHub bot accounts have user ``type`` ``Bot`` and logins ending in ``[bot]``
(https://docs.github.com/en/apps/creating-github-apps/about-creating-github-apps/about-creating-github-apps).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from affidavit.policy.params import ALIASES
from tests.conftest import REPO
from tests.verdicts.support import Scenario, both, check, edit_json, ids, remove_file, write_file

AREA = "change management"
RULE = "change_management.approval_recorded"
CR = "change-record.json"
OWN = "affidavit.change-record/v1 (docs/change-record.md)"
GITHUB_APPROVALS = "GitHub REST GET /repos/{o}/{r}/actions/runs/{run_id}/approvals (docs.github.com/en/rest/actions/workflow-runs)"
BOTS = "GitHub docs: bot accounts (apps) have user type Bot and a login ending in [bot]"


def _record(**changes: Any) -> Any:
    """A change to top-level fields of the demo change record (None removes the field)."""

    def edit(doc: dict[str, Any]) -> None:
        for key, value in changes.items():
            if value is None:
                doc.pop(key, None)
            else:
                doc[key] = value

    return edit_json(CR, edit)


def _approvals(*approvals: tuple[str, str, str]) -> Any:
    """The demo change record with these (approver, approved_at, decision) entries."""
    return _record(approvals=[{"approver": a, "approved_at": t, "decision": d} for a, t, d in approvals])


def _approved_by(who: str, at: str = "2026-11-20T10:41:00Z") -> Any:
    """One approval, by ``who`` at ``at``."""
    return _approvals((who, at, "approved"))


_GITHUB_REVIEWS = [
    {
        "state": "approved",
        "comment": "Ship it!",
        "environments": [
            {
                "id": 161088068,
                "node_id": "MDExOkVudmlyb25tZW50MTYxMDg4MDY4",
                "name": "production",
                "url": "https://api.github.com/repos/acme/shop/environments/production",
                "html_url": "https://github.com/acme/shop/deployments/activity_log?environments_filter=production",
                "created_at": "2026-04-23T15:42:00Z",
                "updated_at": "2026-04-23T15:42:00Z",
            }
        ],
        "user": {"login": "sam-release", "id": 1, "type": "User", "site_admin": False},
    }
]

_ALIASES = {"defaults": {"change_management": {"aliases": {"dana.developer": ["dana@acme.example", "ddev"]}}}}

SCENARIOS: list[Scenario] = [
    # --- when ------------------------------------------------------------------------------------
    Scenario(
        "cm-approval-future-dated",
        AREA,
        RULE,
        _approved_by("sam.release-manager", "2026-11-21T09:00:00Z"),
        "fail",
        OWN,
        "an approval dated after the evaluation did not exist when the gate decided",
    ),
    Scenario(
        "cm-approval-one-second-after-now",
        AREA,
        RULE,
        _approved_by("sam.release-manager", "2026-11-20T12:00:01Z"),
        "fail",
        OWN,
    ),
    Scenario(
        "cm-approval-future-in-other-zone",
        AREA,
        RULE,
        _approved_by("sam.release-manager", "2026-11-20T07:30:00-05:00"),
        "fail",
        OWN + "; RFC 3339 offsets: 07:30-05:00 is 12:30Z, after the evaluation",
    ),
    Scenario(
        "cm-approval-before-request",
        AREA,
        RULE,
        _approved_by("sam.release-manager", "2026-11-20T08:00:00Z"),
        "fail",
        OWN,
        "approved before anyone asked: the approval is not of this request",
    ),
    Scenario(
        "cm-approval-before-request-in-other-zone",
        AREA,
        RULE,
        _approved_by("sam.release-manager", "2026-11-20T10:15:00+01:00"),
        "fail",
        OWN + "; RFC 3339 offsets: 10:15+01:00 is 09:15Z, before the 09:20Z request",
    ),
    Scenario(
        "cm-request-created-after-now",
        AREA,
        RULE,
        _record(created_at="2026-11-20T13:00:00Z"),
        "fail",
        OWN,
        "a request created after the evaluation: its 10:41Z approval precedes it",
    ),
    Scenario(
        "cm-no-request-time",
        AREA,
        RULE,
        _record(created_at=None),
        "insufficient_evidence",
        OWN + " (created_at is optional in the format)",
        "without created_at the approval cannot be shown to follow the request",
    ),
    Scenario(
        "cm-approval-at-request-time",
        AREA,
        RULE,
        _approved_by("sam.release-manager", "2026-11-20T09:20:00Z"),
        "pass",
        OWN,
        decision="GO",
    ),
    Scenario(
        "cm-approval-at-evaluation-time",
        AREA,
        RULE,
        _approved_by("sam.release-manager", "2026-11-20T12:00:00Z"),
        "pass",
        OWN,
        decision="GO",
    ),
    Scenario(
        "cm-approval-in-other-zone-in-window",
        AREA,
        RULE,
        _approved_by("sam.release-manager", "2026-11-20T11:30:00+01:00"),
        "pass",
        OWN + "; RFC 3339 offsets: 11:30+01:00 is 10:30Z",
        decision="GO",
    ),
    Scenario(
        "cm-future-approval-beside-a-valid-one",
        AREA,
        RULE,
        _approvals(
            ("sam.release-manager", "2026-11-20T10:41:00Z", "approved"),
            ("lee.sre", "2026-11-21T08:00:00Z", "approved"),
        ),
        "pass",
        OWN,
        "one approval in time meets min_approvals 1; the future one is just not counted",
        decision="GO",
    ),
    # --- who: bots ---------------------------------------------------------------------------------
    Scenario("cm-bot-github-actions", AREA, RULE, _approved_by("github-actions[bot]"), "fail", BOTS),
    Scenario("cm-bot-dependabot", AREA, RULE, _approved_by("dependabot[bot]"), "fail", BOTS),
    Scenario("cm-bot-suffix-any-case", AREA, RULE, _approved_by("Release-Train[BOT]"), "fail", BOTS),
    Scenario(
        "cm-person-and-bot-min-two",
        AREA,
        RULE,
        _approvals(
            ("sam.release-manager", "2026-11-20T10:41:00Z", "approved"),
            ("release-train[bot]", "2026-11-20T10:42:00Z", "approved"),
        ),
        "fail",
        BOTS,
        "two approvals are required; the bot's is not a person's",
        params={"defaults": {"change_management": {"min_approvals": 2}}},
    ),
    Scenario(
        "cm-two-people-min-two",
        AREA,
        RULE,
        _approvals(
            ("sam.release-manager", "2026-11-20T10:41:00Z", "approved"),
            ("lee.sre", "2026-11-20T10:50:00Z", "approved"),
        ),
        "pass",
        OWN,
        decision="GO",
        params={"defaults": {"change_management": {"min_approvals": 2}}},
    ),
    # --- who: the requester ----------------------------------------------------------------------
    Scenario("cm-self-approval", AREA, RULE, _approved_by("dana.developer"), "fail", OWN),
    Scenario("cm-self-approval-other-case", AREA, RULE, _approved_by("Dana.Developer"), "fail", OWN),
    Scenario(
        "cm-self-approval-email-alias",
        AREA,
        RULE,
        _approved_by("dana@acme.example"),
        "fail",
        OWN + "; rule data change_management.aliases",
        "the requester's email, mapped to her login in rule data",
        params=_ALIASES,
    ),
    Scenario(
        "cm-self-approval-login-alias-any-case",
        AREA,
        RULE,
        _approved_by("DDev"),
        "fail",
        OWN + "; rule data change_management.aliases",
        params=_ALIASES,
    ),
    Scenario(
        "cm-self-approval-both-aliases",
        AREA,
        RULE,
        both(_record(requested_by="ddev"), _approved_by("dana@acme.example")),
        "fail",
        OWN + "; rule data change_management.aliases",
        "requester and approver are two aliases of the same person",
        params=_ALIASES,
    ),
    Scenario(
        "cm-alias-unknown-without-rule-data",
        AREA,
        RULE,
        _approved_by("dana@acme.example"),
        "pass",
        OWN,
        "debatable: without alias rule data nothing says dana@acme.example is dana.developer; "
        "the organisation must map its people's names (docs/verdicts/change-management.md)",
        decision="GO",
    ),
    Scenario(
        "cm-self-approval-beside-another",
        AREA,
        RULE,
        _approvals(
            ("dana.developer", "2026-11-20T10:00:00Z", "approved"),
            ("sam.release-manager", "2026-11-20T10:41:00Z", "approved"),
        ),
        "fail",
        OWN,
        "debatable: another person approved too, but a requester approving their own change is "
        "recorded as a separation-of-duties breach",
    ),
    Scenario(
        "cm-self-approval-padded-name",
        AREA,
        RULE,
        _approved_by(" dana.developer "),
        "fail",
        OWN,
        "surrounding spaces do not make another person",
    ),
    Scenario(
        "cm-self-approval-email-case",
        AREA,
        RULE,
        both(_record(requested_by="Dana@Acme.example"), _approved_by("dana@acme.EXAMPLE")),
        "fail",
        OWN,
    ),
    Scenario(
        "cm-request-time-offset-after-approval",
        AREA,
        RULE,
        _record(created_at="2026-11-20T06:00:00-05:00"),
        "fail",
        OWN + "; RFC 3339 offsets: 06:00-05:00 is 11:00Z, after the 10:41Z approval",
    ),
    Scenario(
        "cm-only-rejections",
        AREA,
        RULE,
        _approvals(("sam.release-manager", "2026-11-20T10:41:00Z", "rejected")),
        "fail",
        OWN,
    ),
    Scenario(
        "cm-rejected-after-approval",
        AREA,
        RULE,
        _approvals(
            ("sam.release-manager", "2026-11-20T10:41:00Z", "approved"),
            ("lee.sre", "2026-11-20T11:00:00Z", "rejected"),
        ),
        "fail",
        OWN,
    ),
    Scenario("cm-no-approvals", AREA, RULE, _record(approvals=[]), "fail", OWN),
    # --- environment -----------------------------------------------------------------------------
    Scenario(
        "cm-environment-production",
        AREA,
        RULE,
        _record(environment="production"),
        "pass",
        OWN + " (the docs' own example says production)",
        decision="GO",
    ),
    Scenario("cm-environment-prd", AREA, RULE, _record(environment="PRD"), "pass", OWN, decision="GO"),
    Scenario(
        "cm-environment-production-spaced",
        AREA,
        RULE,
        _record(environment=" Production "),
        "pass",
        OWN,
        decision="GO",
    ),
    Scenario(
        "cm-cli-environment-production",
        AREA,
        RULE,
        _record(environment="production"),
        "pass",
        OWN,
        "--environment production is prod; so is the record's production",
        decision="GO",
        options=("--environment", "production"),
    ),
    Scenario("cm-environment-staging", AREA, RULE, _record(environment="staging"), "fail", OWN),
    Scenario("cm-environment-prod-eu", AREA, RULE, _record(environment="prod-eu"), "fail", OWN),
    # --- what --------------------------------------------------------------------------------------
    Scenario(
        "cm-other-digest",
        AREA,
        RULE,
        _record(subject={"name": "ghcr.io/acme/shop", "digest": "sha256:" + "ab" * 32}),
        "fail",
        OWN,
    ),
    Scenario(
        "cm-no-digest",
        AREA,
        RULE,
        _record(subject={"name": "ghcr.io/acme/shop"}),
        "insufficient_evidence",
        OWN,
    ),
    Scenario("cm-no-ticket", AREA, RULE, _record(ticket=None), "fail", OWN),
    Scenario("cm-no-record", AREA, RULE, remove_file(CR), "insufficient_evidence", OWN),
    Scenario(
        "cm-github-reviews-only",
        AREA,
        RULE,
        both(remove_file(CR), write_file("approvals.json", json.dumps(_GITHUB_REVIEWS))),
        "insufficient_evidence",
        GITHUB_APPROVALS,
        "the reviews name no artefact, requester or time",
    ),
    Scenario(
        "cm-github-reviews-bot",
        AREA,
        RULE,
        both(
            remove_file(CR),
            write_file(
                "approvals.json",
                json.dumps(
                    [
                        {
                            **_GITHUB_REVIEWS[0],
                            "user": {"login": "deploy-app", "id": 2, "type": "Bot", "site_admin": False},
                        }
                    ]
                ),
            ),
        ),
        "insufficient_evidence",
        GITHUB_APPROVALS + "; " + BOTS,
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=ids(SCENARIOS))
def test_change_management(tmp_path: Path, scenario: Scenario) -> None:
    check(tmp_path, scenario)


def test_environment_aliases_agree_with_the_cli() -> None:
    """The Rego table of environment names (lib/change.rego) is affidavit.policy.params.ALIASES."""
    text = (REPO / "policies" / "lib" / "change.rego").read_text()
    block = text[
        text.index("environment_aliases := {") : text.index("}", text.index("environment_aliases := {"))
    ]
    table = dict(re.findall(r'"([^"]+)": "([^"]+)"', block))
    assert table == dict(ALIASES)
