package affidavit.rules.source_control.required_reviews_test

import data.affidavit.lib.testing
import data.affidavit.rules.source_control.required_reviews as rule

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

_params := {"source_control": {"min_approvals": 2, "require_last_push_approval": true}}

_input(records) := _for({"branch-protection": records}, "prod", testing.ours(_params))

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
	inp := _for({"branch-protection": [_protection({"required_approving_review_count": 1})]}, "staging", testing.ours({"source_control": {"min_approvals": 1, "require_last_push_approval": false}}))
	count(rule.deny) == 0 with input as inp
}

test_missing_when_no_branch_protection_evidence if {
	inp := _input([])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := _for({"branch-protection": [_protection({"required_approving_review_count": 0})]}, "prod", testing.ours({}))
	missing := rule.missing with input as inp
	count(missing) == 2
	{m.details.param | some m in missing} == {"source_control.min_approvals", "source_control.require_last_push_approval"}
	count(rule.deny) == 0 with input as inp
}

test_missing_when_count_not_stated if {
	inp := _input([_protection({"required_approving_review_count": null})])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_fires_when_last_push_approval_is_not_required if {
	denies := rule.deny with input as _input([_protection({"require_last_push_approval": false})])
	count(denies) == 1
	some d in denies
	contains(d.msg, "does not require approval of the most recent push")
}

test_passes_without_last_push_approval_when_rule_data_allows if {
	inp := _for({"branch-protection": [_protection({"require_last_push_approval": false})]}, "staging", testing.ours({"source_control": {"min_approvals": 1, "require_last_push_approval": false}}))
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_missing_when_last_push_approval_not_stated if {
	missing := rule.missing with input as _input([json.remove(_protection({}), ["data/require_last_push_approval"])])
	count(missing) == 1
	some m in missing
	contains(m.msg, "does not state require_last_push_approval")
}
