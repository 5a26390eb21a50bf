package affidavit.rules.source_control.no_force_push_test

import data.affidavit.lib.testing
import data.affidavit.rules.source_control.no_force_push as rule

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

_input(records) := _for({"branch-protection": records}, "prod", testing.ours({}))

test_passes_when_force_push_and_deletion_off if {
	inp := _input([_protection({})])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_when_force_push_allowed if {
	denies := rule.deny with input as _input([_protection({"allow_force_pushes": true})])
	denies == {{"msg": "acme/shop branch main allows force pushes (allow_force_pushes = true)", "evidence_ids": [testing.id("b")]}}
}

test_fires_when_deletion_allowed if {
	denies := rule.deny with input as _input([_protection({"allow_deletions": true})])
	denies == {{"msg": "acme/shop branch main allows deletion of the branch (allow_deletions = true)", "evidence_ids": [testing.id("b")]}}
}

test_fires_twice_when_both_allowed if {
	count(rule.deny) == 2 with input as _input([_protection({"allow_deletions": true, "allow_force_pushes": true})])
}

test_missing_when_no_branch_protection_evidence if {
	inp := _input([])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_settings_not_stated if {
	inp := _input([json.remove(_protection({}), ["data/allow_force_pushes", "data/allow_deletions"])])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 2 with input as inp
}
