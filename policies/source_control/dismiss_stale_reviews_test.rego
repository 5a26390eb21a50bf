package affidavit.rules.source_control.dismiss_stale_reviews_test

import data.affidavit.lib.testing
import data.affidavit.rules.source_control.dismiss_stale_reviews as rule

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

_input(records) := _for({"branch-protection": records}, "prod", testing.ours({"source_control": {"require_dismiss_stale_reviews": true}}))

test_passes_when_stale_reviews_dismissed if {
	inp := _input([_protection({})])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_when_stale_reviews_kept if {
	denies := rule.deny with input as _input([_protection({"dismiss_stale_reviews": false})])
	count(denies) == 1
	some d in denies
	d.msg == "acme/shop branch main keeps approvals after new commits are pushed (dismiss_stale_reviews = false)"
}

test_only_warns_where_rule_data_allows if {
	inp := _for({"branch-protection": [_protection({"dismiss_stale_reviews": false})]}, "dev", testing.ours({"source_control": {"require_dismiss_stale_reviews": false}}))
	count(rule.deny) == 0 with input as inp
	count(rule.warn) == 1 with input as inp
}

test_missing_when_no_branch_protection_evidence if {
	inp := _input([])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := _for({"branch-protection": [_protection({})]}, "prod", testing.ours({}))
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"source_control.require_dismiss_stale_reviews"}
}

test_missing_when_setting_not_stated if {
	count(rule.missing) == 1 with input as _input([json.remove(_protection({}), ["data/dismiss_stale_reviews"])])
}
