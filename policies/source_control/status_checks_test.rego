package affidavit.rules.source_control.status_checks_test

import data.affidavit.lib.testing
import data.affidavit.rules.source_control.status_checks as rule

# The policy input of the test, promoting branch main (--branch main).
_for(ev, env, p) := testing.with_context(testing.input_for(ev, env, p), {"branch": "main"})

_protection(changes) := testing.record("branch-protection", "b", {
	"format": "github-branch-protection",
	"tool": {"name": "github-rest", "version": "2022-11-28"},
	"subject": {"name": "github.com/acme/shop", "version": "main", "digest": null},
	"data": object.union(
		{
			"repository": "acme/shop",
			"branch": "main",
			"sources": ["classic"],
			"protected": true,
			"required_approving_review_count": 2,
			"require_code_owner_reviews": true,
			"dismiss_stale_reviews": true,
			"required_status_checks": ["ci/build", "ci/test"],
			"strict_status_checks": true,
			"enforce_admins": true,
			"required_signatures": false,
			"required_linear_history": true,
			"allow_force_pushes": false,
			"allow_deletions": false,
			"require_last_push_approval": true,
			"review_bypass": [],
			"default_branch": null,
			"ref_match": null,
		},
		changes,
	),
})

_params := {"source_control": {"required_checks": ["ci/build", "ci/test"], "require_strict_checks": true}}

_input(records) := _for({"branch-protection": records}, "prod", testing.ours(_params))

test_passes_when_named_checks_required_and_strict if {
	inp := _input([_protection({"required_status_checks": ["ci/build", "ci/test", "ci/lint"]})])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_when_a_named_check_is_not_required if {
	denies := rule.deny with input as _input([_protection({"required_status_checks": ["ci/build"]})])
	count(denies) == 1
	some d in denies
	d.msg == "acme/shop branch main does not require the status check(s) ci/test (source_control.required_checks); it requires: ci/build"
	d.details.absent == ["ci/test"]
}

test_fires_when_no_checks_required if {
	denies := rule.deny with input as _input([_protection({"required_status_checks": []})])
	count(denies) == 1
	some d in denies
	contains(d.msg, "ci/build, ci/test")
	contains(d.msg, "it requires: (none)")
}

test_fires_when_checks_not_strict if {
	denies := rule.deny with input as _input([_protection({"strict_status_checks": false})])
	count(denies) == 1
	some d in denies
	contains(d.msg, "strict_status_checks = false")
}

test_strictness_not_judged_where_rule_data_allows if {
	inp := _for({"branch-protection": [_protection({"strict_status_checks": false})]}, "dev", testing.ours({"source_control": {"required_checks": ["ci/build"], "require_strict_checks": false}}))
	count(rule.deny) == 0 with input as inp
}

test_missing_when_no_branch_protection_evidence if {
	inp := _input([])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := _for({"branch-protection": [_protection({})]}, "prod", testing.ours({}))
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"source_control.required_checks", "source_control.require_strict_checks"}
}

test_missing_when_checks_not_stated if {
	inp := _input([json.remove(_protection({}), ["data/required_status_checks", "data/strict_status_checks"])])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 2 with input as inp
}

test_missing_when_no_check_is_configured if {
	# The check names are an organisation's own CI jobs; the built-in rule data names none.
	p := {"source_control": {"required_checks": [], "require_strict_checks": true}}
	inp := _for({"branch-protection": [_protection({"required_status_checks": []})]}, "prod", testing.ours(p))
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	m.msg == "no required status checks are configured for prod: set source_control.required_checks (the names of the CI checks that must pass before a change merges, as branch protection lists them) in a rule data file given with --params (see docs/params.md)"
}
