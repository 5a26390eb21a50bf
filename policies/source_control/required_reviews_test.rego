package affidavit.rules.source_control.required_reviews_test

import data.affidavit.lib.testing
import data.affidavit.rules.source_control.required_reviews as rule

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
		},
		changes,
	),
})

_params := {"source_control": {"min_approvals": 2}}

_input(records) := testing.input_for({"branch-protection": records}, "prod", testing.ours(_params))

test_passes_when_reviews_meet_minimum if {
	inp := _input([_protection({})])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_passes_when_reviews_exceed_minimum if {
	count(rule.deny) == 0 with input as _input([_protection({"required_approving_review_count": 4})])
}

test_fires_when_fewer_reviews_than_minimum if {
	denies := rule.deny with input as _input([_protection({"required_approving_review_count": 1})])
	count(denies) == 1
	some d in denies
	d.msg == "acme/shop branch main requires 1 approving review(s); at least 2 are required (source_control.min_approvals)"
	d.evidence_ids == [testing.id("b")]
}

test_fires_when_no_reviews_required if {
	count(rule.deny) == 1 with input as _input([_protection({"required_approving_review_count": 0})])
}

test_threshold_comes_from_rule_data if {
	inp := testing.input_for({"branch-protection": [_protection({"required_approving_review_count": 1})]}, "staging", testing.ours({"source_control": {"min_approvals": 1}}))
	count(rule.deny) == 0 with input as inp
}

test_missing_when_no_branch_protection_evidence if {
	inp := _input([])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := testing.input_for({"branch-protection": [_protection({"required_approving_review_count": 0})]}, "prod", testing.ours({}))
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	m.details.param == "source_control.min_approvals"
	count(rule.deny) == 0 with input as inp
}

test_missing_when_count_not_stated if {
	inp := _input([_protection({"required_approving_review_count": null})])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}
