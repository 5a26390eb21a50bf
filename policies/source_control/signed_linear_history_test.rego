package affidavit.rules.source_control.signed_linear_history_test

import data.affidavit.lib.testing
import data.affidavit.rules.source_control.signed_linear_history as rule

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

_both := {"source_control": {"require_signed_commits": true, "require_linear_history": true}}

_input(records, p) := _for({"branch-protection": records}, "prod", testing.ours(p))

test_passes_when_both_required_and_set if {
	inp := _input([_protection({"required_signatures": true})], _both)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_when_signatures_asked_but_off if {
	denies := rule.deny with input as _input([_protection({})], _both)
	denies == {{
		"msg": "acme/shop branch main does not require signed commits (required_signatures = false), which source_control.require_signed_commits asks for",
		"evidence_ids": [testing.id("b")],
	}}
}

test_fires_when_linear_history_asked_but_off if {
	denies := rule.deny with input as _input([_protection({"required_signatures": true, "required_linear_history": false})], _both)
	count(denies) == 1
	some d in denies
	contains(d.msg, "a linear history")
}

test_passes_when_rule_data_does_not_ask if {
	p := {"source_control": {"require_signed_commits": false, "require_linear_history": false}}
	inp := _input([_protection({"required_linear_history": false})], p)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_missing_when_no_branch_protection_evidence if {
	inp := _input([], _both)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := _input([_protection({})], {})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"source_control.require_signed_commits", "source_control.require_linear_history"}
}

test_missing_when_asked_setting_not_stated if {
	inp := _input([json.remove(_protection({}), ["data/required_signatures"])], _both)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}
