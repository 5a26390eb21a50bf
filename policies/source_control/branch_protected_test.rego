package affidavit.rules.source_control.branch_protected_test

import data.affidavit.lib.testing
import data.affidavit.rules.source_control.branch_protected as rule

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

test_passes_when_branch_is_protected if {
	inp := _input([_protection({})])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_when_branch_is_not_protected if {
	inp := _input([_protection({"protected": false, "sources": []})])
	denies := rule.deny with input as inp
	count(denies) == 1
	some d in denies
	d.msg == "acme/shop branch main is not protected: anyone with write access can push to it directly (artefacts/branch-protection-b.json)"
	d.evidence_ids == [testing.id("b")]
}

test_layers_records_of_the_promoted_branch if {
	other := object.union(_protection({"protected": false}), {"id": testing.id("c"), "source": "artefacts/rulesets.json"})
	inp := _input([_protection({}), other])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
	both := _input([_protection({"protected": false}), other])
	denies := rule.deny with input as both
	count(denies) == 1
	some d in denies
	d.msg == "acme/shop branch main is not protected: anyone with write access can push to it directly (artefacts/branch-protection-b.json, artefacts/rulesets.json)"
	d.evidence_ids == sort([testing.id("b"), testing.id("c")])
}

test_judges_only_the_promoted_branch if {
	other := object.union(_protection({"protected": false, "branch": "release"}), {"id": testing.id("c")})
	inp := _input([_protection({}), other])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_missing_when_no_branch_protection_evidence if {
	inp := _input([])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_record_does_not_state_protection if {
	r := json.remove(_protection({}), ["data/protected"])
	missing := rule.missing with input as _input([r])
	count(missing) == 1
	some m in missing
	contains(m.msg, "does not state protected")
}

# The protection of another repository says nothing about the promoted code: it is not judged.
test_missing_when_the_record_is_of_another_repository if {
	strong := _protection({"repository": "mallory/shop"})
	inp := _input([strong])
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	m.msg == "mallory/shop branch main: the branch-protection record artefacts/branch-protection-b.json is not of a repository in supply_chain.allowed_source_repos, so it cannot show how the promoted code is protected; export the protection of your repository's branch"
	# not even an unprotected branch of it is held against the release
	count(rule.deny) == 0 with input as _input([_protection({"repository": "mallory/shop", "protected": false})])
}

test_judges_the_trusted_repository_beside_another if {
	other := object.union(_protection({"repository": "acme/shop-fork", "protected": false}), {"id": testing.id("c")})
	inp := _input([_protection({}), other])
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
	weak := _input([_protection({"protected": false}), object.union(_protection({"repository": "acme/shop-fork"}), {"id": testing.id("c")})])
	count(rule.deny) == 1 with input as weak
}

test_missing_when_no_repository_is_configured if {
	inp := _for({"branch-protection": [_protection({"protected": false})]}, "prod", {"supply_chain": {"allowed_source_repos": []}})
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	startswith(m.msg, "no trusted source repositories are configured for prod: set supply_chain.allowed_source_repos")
	unset := rule.missing with input as _for({"branch-protection": [_protection({})]}, "prod", {})
	some u in unset
	u.details.param == "supply_chain.allowed_source_repos"
}
