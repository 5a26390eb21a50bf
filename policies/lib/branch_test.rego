# Binding branch protection to the promoted branch (lib/branch), through source_control.branch_protected.
package affidavit.lib.branch_test

import data.affidavit.lib.branch
import data.affidavit.lib.testing
import data.affidavit.rules.source_control.branch_protected as rule

_protection(id, changes) := object.union(testing.record("branch-protection", id, {
	"format": "github-rulesets",
	"tool": {"name": "github-rest", "version": "2022-11-28"},
	"subject": {"name": "acme/shop", "version": null, "digest": null},
	"data": object.union(
		{
			"repository": "acme/shop",
			"branch": null,
			"sources": ["ruleset:42"],
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
}), {"id": testing.id(id)})

# ref_match as the collector writes it for include/exclude patterns (see branch_protection.fnmatch_regex).
_match(include, exclude, inc_default, exc_default) := {"include": include, "exclude": exclude, "include_default": inc_default, "exclude_default": exc_default}

_input(records, branch) := testing.with_context(testing.input_for({"branch-protection": records}, "prod", testing.ours({})), {"branch": branch})

_provenance(ref) := testing.record("provenance", "p", {
	"format": "in-toto",
	"subject": {"name": testing.subject_name, "digest": testing.digest},
	"data": {"source": {"ref": ref}, "subjects": [{"name": testing.subject_name, "digest": testing.digest}]},
})

test_target_is_the_branch_option if {
	branch.target == "main" with input as _input([], "main")
}

test_target_is_the_stated_default_branch_without_option if {
	inp := testing.input_for({"branch-protection": [_protection("b", {"branch": "trunk", "default_branch": "trunk"})]}, "prod", testing.ours({}))
	branch.target == "trunk" with input as inp
	count(rule.missing) == 0 with input as inp
	contains(branch.target_source, "default branch") with input as inp
}

test_target_is_the_provenance_branch_without_option if {
	inp := testing.input_for({"branch-protection": [_protection("b", {"branch": "main"})], "provenance": [_provenance("refs/heads/main")]}, "prod", testing.ours({}))
	branch.target == "main" with input as inp
	count(rule.missing) == 0 with input as inp
	contains(branch.target_source, "provenance") with input as inp
}

test_missing_when_the_promoted_branch_is_unknown if {
	inp := testing.input_for({"branch-protection": [_protection("b", {"branch": "main"})], "provenance": [_provenance("refs/tags/v1.0.0")]}, "prod", testing.ours({}))
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	contains(m.msg, "the branch being promoted is unknown")
	count(rule.deny) == 0 with input as inp
}

test_missing_when_protection_is_of_another_branch if {
	inp := _input([_protection("b", {"branch": "develop", "protected": false})], "main")
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	contains(m.msg, "does not cover the promoted branch main (from --branch): it is about another branch")
	count(rule.deny) == 0 with input as inp
}

test_missing_when_the_record_names_no_branch if {
	missing := rule.missing with input as _input([_protection("b", {})], "main")
	some m in missing
	contains(m.msg, "it names no branch")
}

test_ruleset_include_pattern_covers_the_branch if {
	inp := _input([_protection("b", {"ref_match": _match(["^refs/heads/rel/[^/]*$"], [], false, false), "protected": false})], "rel/2")
	count(rule.deny) == 1 with input as inp
	count(rule.missing) == 0 with input as inp
	branch.where(_protection("b", {"ref_match": _match(["^refs/heads/rel/[^/]*$"], [], false, false)})) == "acme/shop branch rel/2" with input as inp
}

test_ruleset_exclude_pattern_wins if {
	inp := _input([_protection("b", {"ref_match": _match(["^.*$"], ["^refs/heads/main$"], false, false)})], "main")
	missing := rule.missing with input as inp
	some m in missing
	contains(m.msg, "its ruleset targets exclude the branch or do not include it")
}

test_default_branch_token_needs_a_stated_default if {
	m := _match([], [], true, false)
	unknown := _input([_protection("b", {"ref_match": m})], "main")
	count(rule.missing) == 1 with input as unknown
	stated := _input([_protection("b", {"ref_match": m, "default_branch": "main"})], "main")
	count(rule.missing) == 0 with input as stated
}

test_default_branch_exclusion if {
	m := _match(["^.*$"], [], false, true)
	stated := _input([_protection("b", {"ref_match": m, "default_branch": "main"})], "main")
	count(rule.missing) == 1 with input as stated
	unknown := _input([_protection("b", {"ref_match": m})], "main")
	count(rule.missing) == 1 with input as unknown
	other := _input([_protection("b", {"ref_match": m, "default_branch": "trunk"})], "main")
	count(rule.missing) == 0 with input as other
}

test_malformed_patterns_are_not_a_match if {
	inp := _input([_protection("b", {"ref_match": {"include": "^.*$", "exclude": [], "include_default": false, "exclude_default": false}})], "main")
	count(rule.missing) == 1 with input as inp
}

test_where_names_unnamed_parts if {
	r := object.union(_protection("b", {}), {"data": {"repository": null, "branch": null}})
	branch.where(r) == "(unnamed repository) branch (unnamed branch)" with input as _input([], "main")
}

test_layered_records_are_judged_as_the_settings_in_force if {
	classic := object.union(_protection("b", {"branch": "main", "sources": ["classic"], "enforce_admins": true}), {"source": "classic.json"})
	weak := object.union(_protection("c", {
		"ref_match": _match(["^.*$"], [], false, false),
		"required_approving_review_count": 0,
		"require_code_owner_reviews": false,
		"required_status_checks": ["org/policy"],
		"review_bypass": ["OrganizationAdmin"],
		"allow_force_pushes": true,
	}), {"source": "org-ruleset.json"})
	inp := _input([classic, weak], "main")
	[m] := branch.records with input as inp
	d := m.data
	d.required_approving_review_count == 2
	d.require_code_owner_reviews == true
	d.required_status_checks == ["ci/build", "ci/test", "org/policy"]
	d.review_bypass == ["OrganizationAdmin"]
	d.allow_force_pushes == false
	d.enforce_admins == true
	d.sources == ["classic", "ruleset:42"]
	branch.ids_of(m) == sort([testing.id("b"), testing.id("c")])
	m.source == "classic.json, org-ruleset.json"
}

test_layered_records_bind_admins_only_when_every_source_does if {
	a := _protection("b", {"branch": "main"})
	b := _protection("c", {"branch": "main", "enforce_admins": false, "allow_deletions": true})
	[m] := branch.records with input as _input([a, b], "main")
	m.data.enforce_admins == false
	m.data.allow_deletions == false # one source blocks deletions
}

test_layered_records_do_not_state_what_one_leaves_out if {
	a := _protection("b", {"branch": "main"})
	b := json.remove(_protection("c", {"branch": "main"}), ["data/required_approving_review_count", "data/protected", "data/enforce_admins", "data/review_bypass"])
	[m] := branch.records with input as _input([a, b], "main")
	m.data.required_approving_review_count == null
	m.data.protected == null
	m.data.enforce_admins == null
	m.data.review_bypass == null
	missing := rule.missing with input as _input([a, b], "main")
	some x in missing
	contains(x.msg, "does not state protected")
}
