"""GitHub branch protection: classic protection, rulesets (REST and GraphQL), into one effective shape.

Formats (detection by content):

``github-branch-protection``
    The classic ``GET /repos/{o}/{r}/branches/{b}/protection`` response of every era (the same
    shape answers ``PUT``): current fields, the 2017 preview API's ``include_admins``, the legacy
    ``enforcement_level`` of ``required_status_checks``, ``contexts`` and ``checks[]``. The 404
    body ``{"message": "Branch not protected"}`` is a valid record saying ``protected: false``;
    other GitHub error bodies of these endpoints are rejected with GitHub's message. A
    ``GET .../branches/{b}`` summary is accepted when it says ``protected: false`` and rejected
    (with the ``protection_url`` to fetch) when protected, since it leaves out review settings.
``github-rulesets``
    ``GET /repos/{o}/{r}/rulesets/{id}`` (one ruleset, or an array of them) and
    ``GET /repos/{o}/{r}/rules/branches/{branch}`` (the active rules for one branch, each with
    ``ruleset_id`` and ``ruleset_source``).
``github-graphql-branch-protection``
    A GraphQL response whose ``data.repository`` holds ``branchProtectionRules`` and/or
    ``rulesets`` nodes. The branch is ``CollectOptions.branch`` when given, else
    ``defaultBranchRef.name`` when queried, else the only rule's literal pattern.
``octokit-recording`` (rejected)
    octokit/fixtures' recorded scenarios (an array of nock interactions: ``scope``, ``method``,
    ``path``, ``status``, ``response``). A recording replays several states of the same branch
    in turn (not protected, protected, changed, deleted), so no single state is *the* evidence;
    the message lists the interactions and says which response body to save instead.
``legitify-json`` (rejected)
    Legitify reports hold Legitify's verdicts on its own policies (``PASSED``/``FAILED``), not
    the settings, and leave out the branch name and the status-check names; a verdict such as
    ``missing_default_branch_protection_force_push: PASSED`` is also given for a branch that has
    no protection at all. The message says so and how to fetch the settings.

The effective shape (``data``): ``repository``, ``branch``, ``sources[]`` (``classic``,
``ruleset:<id>`` for each enforced source that contributed), ``protected``,
``required_approving_review_count``, ``require_code_owner_reviews``, ``dismiss_stale_reviews``,
``required_status_checks[]`` (sorted names), ``strict_status_checks``, ``enforce_admins`` (``null``
when the response cannot show it: the per-branch rules export), ``required_signatures``,
``required_linear_history``, ``allow_force_pushes``, ``allow_deletions``,
``require_last_push_approval``, ``review_bypass[]`` (who may skip the rules: ``users``, ``teams``,
``apps`` of classic ``bypass_pull_request_allowances``, each ruleset bypass actor type),
``default_branch`` (when the export says which branch is the default: GraphQL
``defaultBranchRef``) and ``ref_match`` (for rulesets: which branches they apply to, below).

Binding to a branch. A record is judged only for the branch being promoted (policies/lib/branch).
Classic protection names its branch in its URL. A ruleset names patterns instead:
``conditions.ref_name.include/exclude`` with ``~ALL``, ``~DEFAULT_BRANCH`` and fnmatch patterns that
GitHub matches against the full ref (``refs/heads/<branch>``) with Ruby's ``File.fnmatch`` and
``File::FNM_PATHNAME`` (``*`` and ``?`` stop at ``/``, ``**/`` spans directories, ``[!...]`` is a
negated set). ``ref_match`` carries them as anchored regular expressions in the common subset of
RE2, Rust ``regex`` and Python (``fnmatch_regex``), plus ``include_default`` / ``exclude_default``
for ``~DEFAULT_BRANCH``, so the policy applies them to the promoted branch. An array of rulesets
with different conditions gets no ``ref_match`` (with a problem): save one ruleset per file. The
per-branch rules export (``GET .../rules/branches/{branch}``) does not say which branch it was
fetched for: its ``branch`` is ``null``. A list of branches (``GET .../branches``), ``gh ruleset
list`` and the ruleset list without rules are refused with what to save instead.

Reading rules:

- Absent means off. A setting the response does not state is read as *no protection* (missing
  evidence of a protection is not protection): ``false`` for a requirement, ``true`` for an
  ``allow_*``, and a ``problems`` entry names every setting read that way.
- Combining (one file is one record): the strictest source wins. The review count is the
  maximum; requirements are OR-ed; status-check names are united; force pushes (deletions) are
  allowed only when no source blocks them. In a ruleset, a ``pull_request`` rule gives the
  review settings, ``required_status_checks`` the checks and their strict policy,
  ``required_signatures`` and ``required_linear_history`` their requirement, ``non_fast_forward``
  blocks force pushes and ``deletion`` blocks deletions; other rule types do not bear on these
  fields. Rulesets in ``evaluate`` or ``disabled`` enforcement, and rulesets that do not target
  branches, enforce nothing and are left out (with a problem).
- ``enforce_admins`` for a ruleset is true only when the response shows an empty
  ``bypass_actors`` list; any bypass actor (or a response that does not show them) reads false.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from affidavit.collectors.interface import (
    DEFINITE,
    LIKELY,
    NO,
    CollectOptions,
    Format,
    Parsed,
    Problems,
    json_type,
    require_list,
    require_mapping,
    shape_of,
)
from affidavit.errors import InputError
from affidavit.model import EvidenceKind, Subject

if TYPE_CHECKING:
    from affidavit.artefact import Artefact

_PROTECTION_URL = re.compile(r"/repos/([^/]+)/([^/]+)/branches/(.+)/protection/?$")
_PART_URL = re.compile(r"/repos/[^/]+/[^/]+/branches/.+/protection/([a-z_]+)/?$")
_RULESET_URL = re.compile(r"/repos/([^/]+)/([^/]+)/rulesets/(\d+)")
_CLASSIC_KEYS = frozenset(
    {
        "required_status_checks",
        "required_pull_request_reviews",
        "enforce_admins",
        "restrictions",
        "required_linear_history",
        "allow_force_pushes",
        "allow_deletions",
        "required_signatures",
        "required_conversation_resolution",
    }
)
_LEGITIFY_SCHEMES = frozenset({"flattened", "group-by-namespace", "group-by-resource", "group-by-severity"})
_NOT_PROTECTED = "Branch not protected"
# Messages GitHub's REST API answers with instead of protection settings: repeated in an error
# because they are GitHub's words (any other message is described, never quoted).
_API_MESSAGES = frozenset(
    {
        "Not Found",
        "Bad credentials",
        "Requires authentication",
        "Resource not accessible by integration",
        "Resource not accessible by personal access token",
        "Must have admin rights to Repository.",
        "Upgrade to GitHub Pro or make this repository public to enable this feature.",
        "API rate limit exceeded",
    }
)
# The words GitHub's ruleset API uses for these fields (other values are described, not quoted).
_ENFORCEMENTS = frozenset({"active", "disabled", "evaluate"})
_TARGETS = frozenset({"branch", "tag", "push", "repository"})
_ACTOR_TYPES = frozenset(
    {
        "Integration",
        "OrganizationAdmin",
        "RepositoryRole",
        "Team",
        "DeployKey",
        "EnterpriseOwner",
        "User",
        "App",
    }
    | {"actor"}  # affidavit's word for an actor a GraphQL answer does not type
)
# The parts of a classic protection GitHub serves on their own (GET .../protection/<part>).
_PARTS = frozenset(
    {
        "required_status_checks",
        "required_pull_request_reviews",
        "required_signatures",
        "enforce_admins",
        "restrictions",
        "required_linear_history",
        "allow_force_pushes",
        "allow_deletions",
    }
)


def _said(value: Any, known: frozenset[str]) -> str:
    """``value`` quoted when it is one of the API's own words for the field (``known``), else its
    shape: an artefact's other content never reaches a message."""
    return repr(value) if isinstance(value, str) and value in known else shape_of(value)


_RULESET_HINT = (
    "save each ruleset with its rules: `gh api repos/OWNER/REPO/rulesets/ID > ruleset-ID.json` "
    "(the ids are in `gh api repos/OWNER/REPO/rulesets`), or the classic protection: "
    "`gh api repos/OWNER/REPO/branches/BRANCH/protection > protection.json`"
)

_FETCH_HINT = (
    "save the settings with `gh api repos/OWNER/REPO/branches/BRANCH/protection > protection.json` "
    "(classic) and `gh api repos/OWNER/REPO/rules/branches/BRANCH > rules.json` (rulesets)"
)


# ---------------------------------------------------------------------------------------------
# The effective settings, accumulated over every source of one file


@dataclass(slots=True)
class _Effective:
    """Effective settings of one branch; every field starts at 'no protection'."""

    sources: list[str] = field(default_factory=list)
    protected: bool = False
    review_count: int = 0
    code_owners: bool = False
    dismiss_stale: bool = False
    checks: set[str] = field(default_factory=set)
    strict: bool = False
    enforce_admins: bool = False
    signatures: bool = False
    linear: bool = False
    force_push_allowed: bool = True
    deletion_allowed: bool = True
    last_push: bool = False
    bypass: set[str] = field(default_factory=set)
    admins_known: bool = True
    default_branch: str | None = None
    ref_match: dict[str, Any] | None = None
    assumed: list[str] = field(default_factory=list)

    def data(self, repository: str | None, branch: str | None) -> dict[str, Any]:
        """The ``branch-protection`` data mapping."""
        return {
            "repository": repository,
            "branch": branch,
            "sources": list(self.sources),
            "protected": self.protected,
            "required_approving_review_count": self.review_count,
            "require_code_owner_reviews": self.code_owners,
            "dismiss_stale_reviews": self.dismiss_stale,
            "required_status_checks": sorted(self.checks),
            "strict_status_checks": self.strict,
            "enforce_admins": self.enforce_admins if self.admins_known else None,
            "required_signatures": self.signatures,
            "required_linear_history": self.linear,
            "allow_force_pushes": self.force_push_allowed,
            "allow_deletions": self.deletion_allowed,
            "require_last_push_approval": self.last_push,
            "review_bypass": sorted(self.bypass),
            "default_branch": self.default_branch,
            "ref_match": self.ref_match,
        }

    def report_assumptions(self, problems: Problems, path: str) -> None:
        """One problem naming every setting that was read as 'off' because it was absent."""
        if self.assumed:
            problems.add(
                path,
                "the response does not state " + ", ".join(self.assumed) + "; read as no protection "
                "(absent evidence of a protection is not protection). Responses from before these "
                "fields existed leave them out: fetch the settings again from the current API",
            )


def _parsed(eff: _Effective, repository: str | None, branch: str | None, problems: Problems) -> Parsed:
    """Wrap effective settings into a ``Parsed`` value with the repository/branch subject."""
    return Parsed(
        data=eff.data(repository, branch),
        subject=Subject(name=repository, version=branch),
        problems=problems.items,
    )


def _enabled(value: Any) -> bool | None:
    """``{"enabled": bool}`` (or a bare bool, as in request bodies); ``None`` when absent."""
    if isinstance(value, dict) and isinstance(value.get("enabled"), bool):
        return bool(value["enabled"])
    if isinstance(value, bool):
        return value
    return None


# ---------------------------------------------------------------------------------------------
# Classic protection (REST)


def _apply_classic(
    doc: Artefact, body: dict[str, Any], eff: _Effective, problems: Problems, path: str
) -> None:
    """Fold a classic protection response into ``eff``."""
    eff.sources.append("classic")
    eff.protected = True
    include_admins: list[bool] = []

    checks = body.get("required_status_checks")
    if isinstance(checks, dict):
        level = checks.get("enforcement_level")
        if isinstance(checks.get("include_admins"), bool):
            include_admins.append(checks["include_admins"])
        if level == "off":
            problems.add(
                f"{path}.required_status_checks.enforcement_level",
                "is 'off' (legacy API): the listed status checks are not required",
            )
        else:
            names = [c for c in checks.get("contexts") or () if isinstance(c, str)]
            names += [
                c["context"]
                for c in checks.get("checks") or ()
                if isinstance(c, dict) and isinstance(c.get("context"), str)
            ]
            eff.checks.update(names)
            if isinstance(checks.get("strict"), bool):
                eff.strict = eff.strict or checks["strict"]
            else:
                eff.assumed.append("required_status_checks.strict")
            if level == "everyone":
                include_admins.append(True)
    elif checks is not None:
        raise InputError(
            doc.source,
            f"expected an object or null, found {json_type(checks)}",
            path=f"{path}.required_status_checks",
        )

    reviews = body.get("required_pull_request_reviews")
    if isinstance(reviews, dict):
        if isinstance(reviews.get("include_admins"), bool):
            include_admins.append(reviews["include_admins"])
        count = reviews.get("required_approving_review_count")
        if isinstance(count, int) and not isinstance(count, bool):
            eff.review_count = max(eff.review_count, count)
        else:
            eff.review_count = max(eff.review_count, 1)
            problems.add(
                f"{path}.required_pull_request_reviews",
                "requires reviews but does not state required_approving_review_count (API before "
                "2018, when a required review meant one approval): counted as 1",
            )
        for key, attr in (
            ("dismiss_stale_reviews", "dismiss_stale"),
            ("require_code_owner_reviews", "code_owners"),
            ("require_last_push_approval", "last_push"),
        ):
            value = reviews.get(key)
            if isinstance(value, bool):
                setattr(eff, attr, getattr(eff, attr) or value)
            else:
                eff.assumed.append(f"required_pull_request_reviews.{key}")
        eff.bypass.update(
            _allowances(
                doc, reviews.get("bypass_pull_request_allowances"), f"{path}.required_pull_request_reviews"
            )
        )
    elif reviews is not None:
        raise InputError(
            doc.source,
            f"expected an object or null, found {json_type(reviews)}",
            path=f"{path}.required_pull_request_reviews",
        )

    admins = _enabled(body.get("enforce_admins"))
    if admins is None and include_admins:
        admins = all(include_admins)
        problems.add(
            path, "states admin enforcement only through the 2017 preview API's include_admins fields"
        )
    if admins is None:
        eff.assumed.append("enforce_admins")
    eff.enforce_admins = eff.enforce_admins or bool(admins)

    for key, attr in (("required_signatures", "signatures"), ("required_linear_history", "linear")):
        value = _enabled(body.get(key))
        if value is None:
            eff.assumed.append(key)
        setattr(eff, attr, getattr(eff, attr) or bool(value))
    for key, attr in (("allow_force_pushes", "force_push_allowed"), ("allow_deletions", "deletion_allowed")):
        value = _enabled(body.get(key))
        if value is None:
            eff.assumed.append(f"{key} (read as allowed)")
            value = True
        setattr(eff, attr, getattr(eff, attr) and value)


def _allowances(doc: Artefact, value: Any, path: str) -> set[str]:
    """Who may merge without the required reviews (classic ``bypass_pull_request_allowances``):
    ``users``, ``teams`` and ``apps`` for each non-empty list. GitHub leaves the object out when
    nobody may; an object of another shape is refused rather than read as nobody."""
    if value is None:
        return set()
    allowances = require_mapping(doc, value, f"{path}.bypass_pull_request_allowances")
    kinds = set()
    for key in ("users", "teams", "apps"):
        entries = allowances.get(key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise InputError(
                doc.source,
                f"expected an array, found {json_type(entries)}",
                path=f"{path}.bypass_pull_request_allowances.{key}",
            )
        if entries:
            kinds.add(key)
    return kinds


def _branch_list(value: Any) -> bool:
    """True for ``GET /repos/{o}/{r}/branches`` (``gh api repos/O/R/branches``): branch summaries."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and {"name", "commit", "protected"} <= v.keys() for v in value)
    )


def _detect_classic(doc: Artefact) -> int:
    """Classic protection responses, the 404 'Branch not protected' body, related error bodies,
    and the list of branches (refused in parse)."""
    value = doc.try_json()
    if _branch_list(value):
        return DEFINITE
    if not isinstance(value, dict):
        return NO
    url = value.get("url")
    if isinstance(url, str) and (_PROTECTION_URL.search(url) or _PART_URL.search(url)):
        return DEFINITE
    if value.get("message") == _NOT_PROTECTED:
        return DEFINITE
    if isinstance(value.get("message"), str) and _is_protection_doc(value.get("documentation_url")):
        return DEFINITE
    if isinstance(value.get("protection_url"), str) and "protected" in value and "name" in value:
        return DEFINITE
    if len(_CLASSIC_KEYS.intersection(value)) >= 2:
        return LIKELY
    return NO


def _is_protection_doc(url: Any) -> bool:
    """True when a GitHub error's ``documentation_url`` points at branch protection or rules."""
    return isinstance(url, str) and any(w in url for w in ("protection", "protected-branches", "rules"))


def _parse_classic(doc: Artefact, options: CollectOptions) -> Parsed:
    """Normalise a classic protection response (or the 404 'not protected' body)."""
    problems = Problems(doc.source)
    if _branch_list(doc.json()):
        raise InputError(
            doc.source,
            f"is a list of {len(doc.json())} branches (GET /repos/OWNER/REPO/branches), which says only whether "
            "each branch is protected, not how",
            hint=_FETCH_HINT,
        )
    body = require_mapping(doc, doc.json(), "$")
    eff = _Effective()
    message = body.get("message")
    if message == _NOT_PROTECTED:
        problems.add(
            "$",
            "is GitHub's 404 'Branch not protected' body, which does not name the repository or branch",
        )
        return _parsed(eff, None, None, problems)
    if isinstance(message, str) and not _CLASSIC_KEYS.intersection(body):
        raise InputError(
            doc.source,
            f"is a GitHub API error response ({_said(message, _API_MESSAGES)}), not branch protection settings: the "
            f"repository or branch does not exist, the plan does not offer protection, or the token "
            f"cannot read it (reading protection needs admin access)",
            hint=_FETCH_HINT,
        )
    if isinstance(body.get("protection_url"), str) and "protected" in body:
        return _parse_branch_summary(doc, body, eff, problems)

    part = _PART_URL.search(body["url"]) if isinstance(body.get("url"), str) else None
    if part is not None:
        raise InputError(
            doc.source,
            f"is only one part ({_said(part.group(1), _PARTS)}) of a branch's protection (GET .../protection/<part>); "
            f"the other settings are not in it",
            hint=_FETCH_HINT,
        )
    repository, branch = _from_protection_url(body.get("url"))
    if repository is None:
        problems.add("$", "has no 'url' naming the repository and branch; subject unknown")
    _apply_classic(doc, body, eff, problems, "$")
    eff.report_assumptions(problems, "$")
    return _parsed(eff, repository, branch, problems)


def _from_protection_url(url: Any) -> tuple[str | None, str | None]:
    """``(owner/repo, branch)`` from ``.../repos/{o}/{r}/branches/{b}/protection``."""
    match = _PROTECTION_URL.search(url) if isinstance(url, str) else None
    if match is None:
        return None, None
    return f"{match.group(1)}/{match.group(2)}", unquote(match.group(3))


def _parse_branch_summary(doc: Artefact, body: dict[str, Any], eff: _Effective, problems: Problems) -> Parsed:
    """``GET .../branches/{b}``: usable only to say that a branch is *not* protected."""
    repository, branch = _from_protection_url(body.get("protection_url"))
    if body.get("protected") is True:
        raise InputError(
            doc.source,
            "is the branch summary (GET .../branches/{branch}); it says the branch is protected but "
            "leaves out the review, admin and push settings",
            hint="fetch the full settings: gh api repos/OWNER/REPO/branches/BRANCH/protection",
        )
    problems.add(
        "$", "is the branch summary (GET .../branches/{branch}), which says the branch is not protected"
    )
    name = body.get("name")
    return _parsed(eff, repository, name if isinstance(name, str) else branch, problems)


# ---------------------------------------------------------------------------------------------
# Rulesets (REST)


def _apply_rule(rule_type: str, params: dict[str, Any], eff: _Effective) -> None:
    """Fold one ruleset rule into ``eff`` (types in REST spelling, parameters in snake_case)."""
    if rule_type == "pull_request":
        count = params.get("required_approving_review_count")
        if isinstance(count, int) and not isinstance(count, bool):
            eff.review_count = max(eff.review_count, count)
        eff.code_owners = eff.code_owners or params.get("require_code_owner_review") is True
        eff.dismiss_stale = eff.dismiss_stale or params.get("dismiss_stale_reviews_on_push") is True
        eff.last_push = eff.last_push or params.get("require_last_push_approval") is True
    elif rule_type == "required_status_checks":
        for check in params.get("required_status_checks") or ():
            if isinstance(check, dict) and isinstance(check.get("context"), str):
                eff.checks.add(check["context"])
        eff.strict = eff.strict or params.get("strict_required_status_checks_policy") is True
    elif rule_type == "required_signatures":
        eff.signatures = True
    elif rule_type == "required_linear_history":
        eff.linear = True
    elif rule_type == "non_fast_forward":
        eff.force_push_allowed = False
    elif rule_type == "deletion":
        eff.deletion_allowed = False


def _detect_rulesets(doc: Artefact) -> int:
    """A ruleset object, an array of them, or the array of ``rules/branches/{branch}``."""
    value = doc.try_json()
    if isinstance(value, dict):
        if isinstance(value.get("rules"), list) and ("enforcement" in value or "source_type" in value):
            return DEFINITE
        return NO
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        first = value[0]
        if "ruleset_id" in first and "type" in first:
            return DEFINITE
        if "enforcement" in first and ("source_type" in first or "target" in first):
            return DEFINITE
    return NO


def _parse_rulesets(doc: Artefact, options: CollectOptions) -> Parsed:
    """Normalise ruleset responses into the effective shape."""
    problems = Problems(doc.source)
    value = doc.json()
    eff = _Effective()
    if isinstance(value, list) and value and isinstance(value[0], dict) and "ruleset_id" in value[0]:
        return _parsed(eff, _rules_for_branch(doc, value, eff, problems), None, problems)

    rulesets = value if isinstance(value, list) else [value]
    repository: str | None = None
    branches: set[str | None] = set()
    matches: list[dict[str, Any] | None] = []
    for i, raw in enumerate(rulesets):
        where = f"$[{i}]" if isinstance(value, list) else "$"
        ruleset = require_mapping(doc, raw, where)
        if "rules" not in ruleset:
            raise InputError(
                doc.source,
                "lists rulesets without their rules (GET .../rulesets): which settings apply cannot be read from it",
                path=where,
                hint=_RULESET_HINT,
            )
        repo, branch, counted = _apply_ruleset(doc, ruleset, eff, problems, where)
        repository = repository or repo
        branches.add(branch)
        if counted:
            matches.append(_ref_match(ruleset.get("conditions"), "ref_name", problems, where))
    branch = branches.pop() if len(branches) == 1 else None
    if branches:
        problems.add("$", "the rulesets apply to different branches; branch left unnamed")
    if matches and all(m is not None and m == matches[0] for m in matches):
        eff.ref_match = matches[0]
    elif matches:
        problems.add(
            "$",
            "the counted rulesets target different branches (or do not say which), so which of them apply "
            "to a given branch cannot be told from one record: save each ruleset in its own file "
            "(gh api repos/OWNER/REPO/rulesets/ID)",
        )
    return _parsed(eff, repository, branch, problems)


def _apply_ruleset(
    doc: Artefact, ruleset: dict[str, Any], eff: _Effective, problems: Problems, where: str
) -> tuple[str | None, str | None, bool]:
    """Fold one REST ruleset into ``eff``; returns the repository and branch it names, and whether
    it was counted (active and targeting branches)."""
    rid = ruleset.get("id")
    label = f"ruleset:{rid}"
    repository = None
    if ruleset.get("source_type") == "Repository" and isinstance(ruleset.get("source"), str):
        repository = ruleset["source"]
    else:
        links = ruleset.get("_links")
        href = links.get("self", {}).get("href") if isinstance(links, dict) else None
        match = _RULESET_URL.search(href) if isinstance(href, str) else None
        if match is not None:
            repository = f"{match.group(1)}/{match.group(2)}"
    branch = _ruleset_branch(ruleset, problems, where)

    enforcement = ruleset.get("enforcement")
    target = ruleset.get("target", "branch")
    if enforcement != "active":
        problems.add(
            where,
            f"the ruleset's enforcement is {_said(enforcement, _ENFORCEMENTS)}: it enforces nothing and "
            "was not counted",
        )
        return repository, branch, False
    if target != "branch":
        problems.add(
            where, f"the ruleset targets {_said(target, _TARGETS)}, not branches, and was not counted"
        )
        return repository, branch, False

    rules = require_list(doc, ruleset.get("rules"), f"{where}.rules")
    eff.sources.append(label)
    eff.protected = eff.protected or bool(rules)
    for j, raw in enumerate(rules):
        rule = require_mapping(doc, raw, f"{where}.rules[{j}]")
        params = rule.get("parameters")
        _apply_rule(str(rule.get("type")), params if isinstance(params, dict) else {}, eff)
    _ruleset_admins(ruleset.get("bypass_actors"), eff, problems, where)
    return repository, branch, True


def _ruleset_admins(actors: Any, eff: _Effective, problems: Problems, where: str) -> None:
    """``enforce_admins`` from a ruleset's bypass list: true only when it is shown and empty."""
    if actors is None:
        problems.add(
            where,
            "the ruleset does not show its bypass_actors (they need admin access to read): "
            "enforce_admins read as false",
        )
    elif isinstance(actors, list) and not actors:
        eff.enforce_admins = True
    elif isinstance(actors, list):
        kinds = sorted({_said(a.get("actor_type"), _ACTOR_TYPES) for a in actors if isinstance(a, dict)})
        named = {
            a["actor_type"] if a.get("actor_type") in _ACTOR_TYPES else "an actor of unknown type"
            for a in actors
            if isinstance(a, dict)
        }
        if len(named) == 0 or any(not isinstance(a, dict) for a in actors):
            named.add("an actor of unknown shape")
        eff.bypass.update(named)
        problems.add(
            where, f"the ruleset can be bypassed by {', '.join(kinds)}: enforce_admins read as false"
        )
    else:
        eff.bypass.add("an actor of unknown shape")
        problems.add(
            where, f"bypass_actors is {json_type(actors)}, not an array: enforce_admins read as false"
        )


def _ruleset_branch(ruleset: dict[str, Any], problems: Problems, where: str) -> str | None:
    """The one branch a ruleset's ``ref_name`` condition names, else ``None`` (with a problem)."""
    conditions = ruleset.get("conditions")
    ref = conditions.get("ref_name") if isinstance(conditions, dict) else None
    include = ref.get("include") if isinstance(ref, dict) else None
    if not isinstance(include, list) or not include:
        problems.add(where, "states no ref_name condition: the branch it applies to is unknown")
        return None
    if len(include) == 1 and isinstance(include[0], str):
        name = include[0].removeprefix("refs/heads/")
        if not any(c in name for c in "*?[~"):
            return name
    problems.add(
        where,
        f"applies to {len(include)} ref pattern(s), not one named branch; branch left unnamed",
    )
    return None


def _rules_for_branch(doc: Artefact, rules: list[Any], eff: _Effective, problems: Problems) -> str | None:
    """``GET .../rules/branches/{branch}``: the active rules of one branch, grouped by ruleset."""
    repository = None
    for i, raw in enumerate(rules):
        rule = require_mapping(doc, raw, f"$[{i}]")
        label = f"ruleset:{rule.get('ruleset_id')}"
        if label not in eff.sources:
            eff.sources.append(label)
        if rule.get("ruleset_source_type") == "Repository" and isinstance(rule.get("ruleset_source"), str):
            repository = repository or rule["ruleset_source"]
        params = rule.get("parameters")
        _apply_rule(str(rule.get("type")), params if isinstance(params, dict) else {}, eff)
    eff.protected = bool(rules)
    eff.admins_known = False
    problems.add(
        "$",
        "is the rules/branches/{branch} response, which names neither the branch it was fetched for nor "
        "(for organisation rulesets) the repository, and does not show bypass actors: enforce_admins is "
        "unknown (null). To judge a branch, save each ruleset that applies to it "
        "(gh api repos/OWNER/REPO/rulesets/ID), which states its targets and bypass actors",
    )
    if repository is None:
        problems.add("$", "no rule comes from a repository ruleset: the repository is unknown")
    return repository


# ---------------------------------------------------------------------------------------------
# GraphQL


def _nodes(connection: Any) -> list[dict[str, Any]]:
    """The node objects of a GraphQL connection (``nodes`` or ``edges[].node``)."""
    if not isinstance(connection, dict):
        return []
    if isinstance(connection.get("nodes"), list):
        return [n for n in connection["nodes"] if isinstance(n, dict)]
    edges = connection.get("edges")
    if isinstance(edges, list):
        return [e["node"] for e in edges if isinstance(e, dict) and isinstance(e.get("node"), dict)]
    return []


_REGEX_SPECIAL = frozenset(".^$*+?()[]{}|\\")

# One element of a branch pattern: ("lit", c), ("star",) for * and a lone **, ("one",) for ?,
# ("dirs",) for **/ and ("set", chars, negated) for [...] / [!...].
_Token = tuple[Any, ...]


def _tokens(pattern: str) -> list[_Token]:
    """GitHub's branch pattern as tokens, read as Ruby's ``File.fnmatch`` with ``File::FNM_PATHNAME``
    reads it: ``*`` and ``?`` do not match ``/``, ``**/`` matches any number of whole directories,
    ``**`` elsewhere is ``*``, ``[...]`` is a character set and ``[!...]`` its complement (neither
    matches ``/``). ``{a,b}`` (FNM_EXTGLOB) and backslash quoting are not supported by GitHub and
    are literal; so is a ``[`` without a usable set (empty, or with a reversed range)."""
    out: list[_Token] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append(("dirs",))
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(("star",))
            i += 2
            continue
        if c == "*":
            out.append(("star",))
        elif c == "?":
            out.append(("one",))
        elif c == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : end]
            negated = body.startswith("!")
            chars = (body[1:] if negated else body).replace("/", "")
            if chars and _compiles(f"[{_set_body(chars)}]"):
                out.append(("set", chars, negated))
                i = end + 1
                continue
            out.append(("lit", c))
        else:
            out.append(("lit", c))
        i += 1
    return out


def _set_body(chars: str) -> str:
    """The inside of a regex character set for fnmatch set ``chars`` (ranges kept)."""
    return "".join("\\" + ch if ch in "\\[]^" else ch for ch in chars)


def _compiles(regex: str) -> bool:
    """True when ``regex`` is a valid regular expression (a character set with a reversed range is not)."""
    try:
        re.compile(regex)
    except re.error:
        return False
    return True


def fnmatch_regex(pattern: str) -> str:
    """GitHub's ruleset and branch-rule pattern (``_tokens``) as an anchored regular expression in
    the syntax RE2, Rust's ``regex`` and Python share, so a policy can apply it with ``regex.match``
    (both engines match in linear time)."""
    parts = []
    for token in _tokens(pattern):
        kind = token[0]
        if kind == "lit":
            parts.append("\\" + token[1] if token[1] in _REGEX_SPECIAL else token[1])
        elif kind == "star":
            parts.append("[^/]*")
        elif kind == "one":
            parts.append("[^/]")
        elif kind == "dirs":
            parts.append("(?:[^/]*/)*")
        else:
            parts.append(f"[^/{_set_body(token[1])}]" if token[2] else f"[{_set_body(token[1])}]")
    return "^" + "".join(parts) + "$"


def fnmatch(pattern: str, text: str) -> bool:
    """Whether ``text`` matches GitHub's branch ``pattern`` (``_tokens``), in time bounded by the
    product of their lengths (memoised; never the backtracking of a regex over hostile patterns)."""
    tokens = _tokens(pattern)
    n = len(text)
    seen: dict[tuple[int, int], bool] = {}

    def one(token: _Token, ch: str) -> bool:
        if token[0] == "lit":
            return bool(ch == token[1])
        if token[0] == "one":
            return ch != "/"
        return ch != "/" and (re.fullmatch(f"[{_set_body(token[1])}]", ch) is not None) != token[2]

    def match(t: int, i: int) -> bool:
        key = (t, i)
        if key in seen:
            return seen[key]
        if t == len(tokens):
            result = i == n
        elif tokens[t][0] == "star":
            result = match(t + 1, i) or (i < n and text[i] != "/" and match(t, i + 1))
        elif tokens[t][0] == "dirs":
            slash = text.find("/", i)
            result = match(t + 1, i) or (slash != -1 and match(t, slash + 1))
        else:
            result = i < n and one(tokens[t], text[i]) and match(t + 1, i + 1)
        seen[key] = result
        return result

    if len(pattern) > 1024 or n > 1024:  # GitHub limits ref names well below this
        return False
    return _iterative(match, len(tokens), n)


def _iterative(match: Any, tokens: int, n: int) -> bool:
    """``match(0, 0)``, after filling the memo from the end so recursion stays shallow."""
    for t in range(tokens, -1, -1):
        for i in range(n, -1, -1):
            match(t, i)
    return bool(match(0, 0))


def _ref_matches(pattern: str, branch: str, default: str | None) -> bool:
    """Whether a ruleset ``ref_name`` pattern covers ``branch`` (matched as ``refs/heads/<branch>``)."""
    if pattern == "~ALL":
        return True
    if pattern == "~DEFAULT_BRANCH":
        return default is not None and branch == default
    return fnmatch(pattern, f"refs/heads/{branch}")


def _ref_match(conditions: Any, key: str, problems: Problems, where: str) -> dict[str, Any] | None:
    """A ruleset's ref condition as data a policy can apply to the promoted branch: ``include`` and
    ``exclude`` regexes over the full ref (``refs/heads/<branch>``), and whether ``~DEFAULT_BRANCH``
    is included or excluded. ``None`` (with a problem) when the condition is absent or malformed."""
    ref = conditions.get(key) if isinstance(conditions, dict) else None
    include = ref.get("include") if isinstance(ref, dict) else None
    exclude = ref.get("exclude", []) if isinstance(ref, dict) else None
    if exclude is None:
        exclude = []
    if not isinstance(include, list) or not isinstance(exclude, list) or not include:
        problems.add(where, "states no usable ref_name condition: the branches it applies to are unknown")
        return None
    if not all(isinstance(p, str) for p in [*include, *exclude]):
        problems.add(
            where, "has a ref_name pattern that is not a string: the branches it applies to are unknown"
        )
        return None

    def regexes(patterns: list[str]) -> list[str]:
        return sorted(
            {"^.*$" if p == "~ALL" else fnmatch_regex(p) for p in patterns if p != "~DEFAULT_BRANCH"}
        )

    return {
        "include": regexes(include),
        "exclude": regexes(exclude),
        "include_default": "~DEFAULT_BRANCH" in include,
        "exclude_default": "~DEFAULT_BRANCH" in exclude,
    }


_GQL_RULE_PARAMS = {
    "requiredApprovingReviewCount": "required_approving_review_count",
    "requireCodeOwnerReview": "require_code_owner_review",
    "dismissStaleReviewsOnPush": "dismiss_stale_reviews_on_push",
    "strictRequiredStatusChecksPolicy": "strict_required_status_checks_policy",
    "requireLastPushApproval": "require_last_push_approval",
    "requiredStatusChecks": "required_status_checks",
}


def _detect_graphql(doc: Artefact) -> int:
    """A GraphQL response with ``data.repository.branchProtectionRules`` or ``rulesets``."""
    value = doc.try_json()
    if not isinstance(value, dict) or not isinstance(value.get("data"), dict):
        return NO
    level = value["data"].get("level")
    if isinstance(level, dict) and isinstance(level.get("rulesets"), dict):
        return DEFINITE  # gh ruleset list's query (refused in parse)
    repo = value["data"].get("repository")
    if isinstance(repo, dict) and ("branchProtectionRules" in repo or "rulesets" in repo):
        return DEFINITE
    return NO


def _parse_graphql(doc: Artefact, options: CollectOptions) -> Parsed:
    """Normalise a GraphQL repository response for one branch."""
    problems = Problems(doc.source)
    value = require_mapping(doc, doc.json(), "$")
    if value.get("errors"):
        problems.add("$.errors", "the GraphQL response reports errors; the data may be incomplete")
    level = value["data"].get("level")
    if isinstance(level, dict) and isinstance(level.get("rulesets"), dict):
        raise InputError(
            doc.source,
            f"is the answer of `gh ruleset list` ({len(_nodes(level['rulesets']))} ruleset(s)), which counts "
            "each ruleset's rules without listing them or their bypass actors",
            path="$.data.level.rulesets",
            hint=_RULESET_HINT,
        )
    repo = require_mapping(doc, value["data"].get("repository"), "$.data.repository")
    repository = repo.get("nameWithOwner") if isinstance(repo.get("nameWithOwner"), str) else None
    if repository is None and isinstance(repo.get("owner"), dict) and isinstance(repo.get("name"), str):
        repository = f"{repo['owner'].get('login')}/{repo['name']}"
    default_ref = repo.get("defaultBranchRef")
    default = default_ref.get("name") if isinstance(default_ref, dict) else None
    rules = _nodes(repo.get("branchProtectionRules"))
    rulesets = _nodes(repo.get("rulesets"))

    wanted = options.branch
    branch: str | None = wanted if isinstance(wanted, str) else default
    if branch is None:
        patterns: list[str] = [r["pattern"] for r in rules if isinstance(r.get("pattern"), str)]
        if len(patterns) == 1 and not any(c in patterns[0] for c in "*?["):
            branch = patterns[0]
        elif rules:
            raise InputError(
                doc.source,
                f"holds {len(rules)} branch protection rules and does not say which branch is meant",
                path="$.data.repository",
                hint="query defaultBranchRef { name } as well, or save one rule's branch",
            )
    eff = _Effective(default_branch=default if isinstance(default, str) else None)
    if branch is None:
        problems.add("$.data.repository", "names no branch (no defaultBranchRef and no rule pattern)")
    _apply_graphql_classic(rules, branch, eff, problems)
    for i, ruleset in enumerate(rulesets):
        _apply_graphql_ruleset(
            ruleset, branch, default, eff, problems, f"$.data.repository.rulesets.nodes[{i}]"
        )
    if repository is None:
        problems.add("$.data.repository", "does not name the repository (query nameWithOwner)")
    return _parsed(eff, repository, branch, problems)


def _apply_graphql_classic(
    rules: list[dict[str, Any]], branch: str | None, eff: _Effective, problems: Problems
) -> None:
    """Fold the classic rule that applies to ``branch`` (exact pattern first) into ``eff``."""
    exact = [r for r in rules if r.get("pattern") == branch]
    matching = exact or [
        r
        for r in rules
        if isinstance(r.get("pattern"), str) and branch is not None and fnmatch(r["pattern"], branch)
    ]
    if not matching:
        return
    if len(matching) > 1:
        problems.add(
            "$.data.repository.branchProtectionRules",
            f"{len(matching)} rules match the branch; the first of them was used",
        )
    rule = matching[0]
    eff.sources.append("classic")
    eff.protected = True
    for key in ("requiresApprovingReviews", "requiresStatusChecks"):
        if not isinstance(rule.get(key), bool):
            eff.assumed.append(key)
    if rule.get("requiresApprovingReviews") is True:
        count = rule.get("requiredApprovingReviewCount")
        eff.review_count = max(eff.review_count, count if isinstance(count, int) else 1)
        eff.code_owners = rule.get("requiresCodeOwnerReviews") is True
        eff.dismiss_stale = rule.get("dismissesStaleReviews") is True
        eff.last_push = rule.get("requireLastPushApproval") is True
        allowances = rule.get("bypassPullRequestAllowances")
        if allowances is not None and _graphql_bypass(allowances) != []:
            eff.bypass.add("pull request allowances")
    if rule.get("requiresStatusChecks") is True:
        names = [c for c in rule.get("requiredStatusCheckContexts") or () if isinstance(c, str)]
        names += [
            c["context"]
            for c in rule.get("requiredStatusChecks") or ()
            if isinstance(c, dict) and isinstance(c.get("context"), str)
        ]
        eff.checks.update(names)
        eff.strict = rule.get("requiresStrictStatusChecks") is True
    for key, attr in (
        ("isAdminEnforced", "enforce_admins"),
        ("requiresCommitSignatures", "signatures"),
        ("requiresLinearHistory", "linear"),
    ):
        if not isinstance(rule.get(key), bool):
            eff.assumed.append(key)
        setattr(eff, attr, rule.get(key) is True)
    for key, attr in (("allowsForcePushes", "force_push_allowed"), ("allowsDeletions", "deletion_allowed")):
        if not isinstance(rule.get(key), bool):
            eff.assumed.append(f"{key} (read as allowed)")
        setattr(eff, attr, rule.get(key) is not False)
    eff.report_assumptions(problems, "$.data.repository.branchProtectionRules")


def _apply_graphql_ruleset(
    ruleset: dict[str, Any],
    branch: str | None,
    default: str | None,
    eff: _Effective,
    problems: Problems,
    where: str,
) -> None:
    """Fold one GraphQL ruleset node that applies to ``branch`` into ``eff``."""
    label = f"ruleset:{ruleset.get('databaseId', ruleset.get('id'))}"
    enforcement = str(ruleset.get("enforcement", "")).lower()
    if enforcement != "active":
        problems.add(
            where,
            f"the ruleset's enforcement is {_said(enforcement, _ENFORCEMENTS)}: it enforces nothing and "
            "was not counted",
        )
        return
    if str(ruleset.get("target", "branch")).lower() != "branch":
        return
    conditions = ruleset.get("conditions")
    ref = conditions.get("refName") if isinstance(conditions, dict) else None
    include = [p for p in (ref or {}).get("include") or () if isinstance(p, str)]
    exclude = [p for p in (ref or {}).get("exclude") or () if isinstance(p, str)]
    if branch is None:
        problems.add(where, "the ruleset cannot be matched to a branch (none named); not counted")
        return
    if not any(_ref_matches(p, branch, default) for p in include) or any(
        _ref_matches(p, branch, default) for p in exclude
    ):
        return
    rules = _nodes(ruleset.get("rules"))
    listed = ruleset.get("rules")
    if (
        not rules
        and isinstance(listed, dict)
        and isinstance(listed.get("totalCount"), int)
        and listed["totalCount"]
    ):
        problems.add(where, "counts the ruleset's rules without listing them: what it enforces is unknown")
        eff.admins_known = False
        return
    eff.sources.append(label)
    eff.protected = eff.protected or bool(rules)
    for rule in rules:
        params = rule.get("parameters")
        snake: dict[str, Any] = {}
        if isinstance(params, dict):
            snake = {_GQL_RULE_PARAMS.get(str(k), str(k)): v for k, v in params.items()}
        _apply_rule(str(rule.get("type", "")).lower(), snake, eff)
    _ruleset_admins(_graphql_bypass(ruleset.get("bypassActors")), eff, problems, where)


def _graphql_bypass(connection: Any) -> list[dict[str, Any]] | None:
    """A GraphQL ``bypassActors`` connection in the REST shape (``None`` when not queried)."""
    if not isinstance(connection, dict):
        return None
    nodes = _nodes(connection)
    total = connection.get("totalCount")
    if not nodes:
        if total == 0 or (total is None and ("nodes" in connection or "edges" in connection)):
            return []
        return None if total is None else [{"actor_type": "actor"}] * int(total)
    out = []
    for node in nodes:
        actor = node.get("actor")
        if node.get("organizationAdmin") is True:
            kind = "OrganizationAdmin"
        elif isinstance(node.get("repositoryRoleName"), str):
            kind = "RepositoryRole"
        elif isinstance(actor, dict) and isinstance(actor.get("__typename"), str):
            kind = actor["__typename"]
        else:
            kind = "actor"
        out.append({"actor_type": kind})
    return out


# ---------------------------------------------------------------------------------------------
# Recognised, then rejected: octokit recordings and Legitify reports


def _recorded(value: Any) -> list[dict[str, Any]]:
    """The interactions of a nock recording (``[]`` when ``value`` is not one)."""
    if not isinstance(value, list) or not value:
        return []
    if not all(isinstance(v, dict) and {"scope", "method", "path", "status"} <= v.keys() for v in value):
        return []
    return value


def _about_protection(path: Any) -> bool:
    """True for request paths of the protection and rules endpoints."""
    return isinstance(path, str) and any(p in path for p in ("/protection", "/rulesets", "/rules/branches"))


def _detect_recording(doc: Artefact) -> int:
    """An octokit/fixtures (nock) recording that touches branch protection."""
    interactions = _recorded(doc.try_json())
    return DEFINITE if any(_about_protection(i["path"]) for i in interactions) else NO


def _parse_recording(doc: Artefact, options: CollectOptions) -> Parsed:
    """Reject a recording, naming its shape and what to save instead."""
    interactions = _recorded(doc.json())
    related = [i for i in interactions if _about_protection(i["path"])]
    raise InputError(
        doc.source,
        f"is an octokit/fixtures (nock) recording of {len(interactions)} HTTP interactions, not one "
        f"API response; its {len(related)} branch-protection interactions "
        f"record different states of the branch in turn, so none of them is the branch's state",
        hint="record the branch's current state instead: " + _FETCH_HINT,
    )


def _detect_legitify(doc: Artefact) -> int:
    """A Legitify JSON report."""
    value = doc.try_json()
    if (
        isinstance(value, dict)
        and value.get("type") in _LEGITIFY_SCHEMES
        and isinstance(value.get("content"), dict)
    ):
        return DEFINITE if '"policyInfo"' in doc.head or "policyInfo" in str(value["content"])[:4096] else NO
    return NO


def _parse_legitify(doc: Artefact, options: CollectOptions) -> Parsed:
    """Reject a Legitify report with what it is and how to fetch the settings."""
    value = require_mapping(doc, doc.json(), "$")
    content = value.get("content")
    related = sum(1 for k in content if "branch" in k or "review" in k) if isinstance(content, dict) else 0
    example = f" ({related} of them about branches or reviews)" if related else ""
    scheme = value.get("type")
    shown = f"the {scheme!r} scheme" if scheme in _LEGITIFY_SCHEMES else "a scheme it does not document"
    raise InputError(
        doc.source,
        f"is a Legitify posture report ({shown}): it holds Legitify's PASSED/FAILED "
        f"verdicts on its own policies{example}, not the branch protection settings, and names "
        f"neither the branch nor the required status checks",
        hint=_FETCH_HINT,
    )


FORMATS: tuple[Format, ...] = (
    Format(
        name="github-branch-protection",
        kind=EvidenceKind.BRANCH_PROTECTION,
        detect=_detect_classic,
        parse=_parse_classic,
        description="GitHub classic branch protection REST response (GET .../branches/{b}/protection), incl. 404",
    ),
    Format(
        name="github-rulesets",
        kind=EvidenceKind.BRANCH_PROTECTION,
        detect=_detect_rulesets,
        parse=_parse_rulesets,
        description="GitHub repository rulesets (GET .../rulesets/{id}, GET .../rules/branches/{b})",
    ),
    Format(
        name="github-graphql-branch-protection",
        kind=EvidenceKind.BRANCH_PROTECTION,
        detect=_detect_graphql,
        parse=_parse_graphql,
        description="GitHub GraphQL repository response with branchProtectionRules / rulesets nodes",
    ),
    Format(
        name="octokit-recording",
        kind=EvidenceKind.BRANCH_PROTECTION,
        detect=_detect_recording,
        parse=_parse_recording,
        description="octokit/fixtures recorded scenario (recognised to explain why it is not evidence)",
    ),
    Format(
        name="legitify-json",
        kind=EvidenceKind.BRANCH_PROTECTION,
        detect=_detect_legitify,
        parse=_parse_legitify,
        description="Legitify posture report (recognised to explain why it is not branch protection evidence)",
    ),
)
