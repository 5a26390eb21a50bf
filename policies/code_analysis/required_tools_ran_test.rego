package affidavit.rules.code_analysis.required_tools_ran_test

import data.affidavit.lib.testing
import data.affidavit.rules.code_analysis.required_tools_ran as rule

_prod := {"code_analysis": {"required_tools": ["CodeQL"]}}

_sarif(n, tools, runs) := testing.record("sast", n, {
	"format": "sarif",
	"format_version": "2.1.0",
	"tool": {"name": _first(tools), "version": null},
	"data": {
		"findings": [],
		"summary": {"error": 0, "warning": 0, "note": 0, "none": 0, "total": 0},
		"tools": tools,
		"runs": runs,
	},
})

_first(tools) := tools[0] if count(tools) > 0

else := null

test_passes_when_required_tool_ran if {
	inp := testing.input_for({"sast": [_sarif("q", ["CodeQL"], 1)]}, "prod", _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
	count(rule.warn) == 0 with input as inp
}

test_tool_names_match_case_insensitively if {
	count(rule.deny) == 0 with input as testing.input_for({"sast": [_sarif("q", ["codeql"], 1)]}, "prod", _prod)
}

test_fires_when_required_tool_did_not_run if {
	denies := rule.deny with input as testing.input_for({"sast": [_sarif("s", ["Semgrep OSS"], 1)]}, "prod", _prod)
	count(denies) == 1
	some d in denies
	d.msg == "CodeQL did not run: no analysis run of it is in the evidence (runs found: semgrep oss) (code_analysis.required_tools)"
	d.evidence_ids == [testing.id("s")]
}

test_fires_when_sarif_has_zero_runs if {
	inp := testing.input_for({"sast": [_sarif("z", [], 0)]}, "prod", _prod)
	denies := rule.deny with input as inp
	count(denies) == 1
	some d in denies
	d.msg == "CodeQL did not run: no analysis run of it is in the evidence (runs found: none); artefacts/sast-z.json contain(s) no runs (code_analysis.required_tools)"
	count(rule.warn) == 1 with input as inp
}

test_fires_when_nothing_ran_and_no_tool_is_required if {
	p := {"code_analysis": {"required_tools": []}}
	denies := rule.deny with input as testing.input_for({"sast": [_sarif("z", [], 0)]}, "staging", p)
	count(denies) == 1
	some d in denies
	startswith(d.msg, "none of the static analysis files contains an analysis run")
}

test_passes_when_no_tool_is_required_and_one_ran if {
	p := {"code_analysis": {"required_tools": []}}
	count(rule.deny) == 0 with input as testing.input_for({"sast": [_sarif("s", ["Semgrep OSS"], 1)]}, "staging", p)
}

test_missing_when_no_sast_evidence if {
	inp := testing.input_for({}, "prod", _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := testing.input_for({"sast": [_sarif("q", ["CodeQL"], 1)]}, "prod", {})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"code_analysis.required_tools"}
}

_with_runs(r, infos) := object.union(r, {"data": {"run_info": infos}})

_info(tool, complete, revision) := {"tool": tool, "version": "1", "complete": complete, "reason": _reason(complete), "revision": revision}

_reason(false) := "the tool reports that its run failed (executionSuccessful: false)"

_reason(true) := null

test_passes_a_complete_run_of_the_release_commit if {
	r := _with_runs(_sarif("q", ["CodeQL"], 1), [_info("CodeQL", true, testing.commit)])
	inp := testing.input_for({"sast": [r]}, "prod", _prod)
	count(rule.missing) == 0 with input as inp
	count(rule.deny) == 0 with input as inp
}

test_an_abbreviated_revision_names_the_commit if {
	r := _with_runs(_sarif("q", ["CodeQL"], 1), [_info("CodeQL", true, substring(testing.commit, 0, 12))])
	count(rule.missing) == 0 with input as testing.input_for({"sast": [r]}, "prod", _prod)
}

test_missing_when_a_required_run_did_not_complete if {
	r := _with_runs(_sarif("q", ["CodeQL"], 1), [_info("CodeQL", false, testing.commit)])
	missing := rule.missing with input as testing.input_for({"sast": [r]}, "prod", _prod)
	count(missing) == 1
	some m in missing
	contains(m.msg, "did not complete (the tool reports that its run failed")
}

test_an_incomplete_run_of_a_tool_not_required_is_not_judged if {
	r := _with_runs(_sarif("q", ["CodeQL", "Semgrep OSS"], 2), [_info("CodeQL", true, testing.commit), _info("Semgrep OSS", false, null)])
	count(rule.missing) == 0 with input as testing.input_for({"sast": [r]}, "prod", _prod)
}

test_missing_when_the_run_is_of_another_commit if {
	r := _with_runs(_sarif("q", ["CodeQL"], 1), [_info("CodeQL", true, "0000000000000000000000000000000000000abc")])
	missing := rule.missing with input as testing.input_for({"sast": [r]}, "prod", _prod)
	count(missing) == 1
	some m in missing
	contains(m.msg, "analysed commit 0000000000000000000000000000000000000abc, not the promoted commit")
}

test_missing_when_a_revision_is_stated_but_no_commit_is_promoted if {
	r := _with_runs(_sarif("q", ["CodeQL"], 1), [_info("CodeQL", true, testing.commit)])
	inp := testing.with_context(testing.input_for({"sast": [r]}, "prod", _prod), {"commit": null})
	count(rule.missing) == 1 with input as inp
}

test_every_tool_is_judged_when_none_is_required if {
	p := {"code_analysis": {"required_tools": []}}
	r := _with_runs(_sarif("s", ["Semgrep OSS"], 1), [_info("Semgrep OSS", false, null)])
	count(rule.missing) == 1 with input as testing.input_for({"sast": [r]}, "staging", p)
}

# A run entry without `complete` (malformed evidence) is not read as complete, on any engine.
test_missing_when_a_run_does_not_say_it_completed if {
	r := _with_runs(_sarif("q", ["CodeQL"], 1), [json.remove(_info("CodeQL", true, testing.commit), ["complete"])])
	count(rule.missing) == 1 with input as testing.input_for({"sast": [r]}, "prod", _prod)
}

test_a_revision_that_is_no_commit_id_is_not_quoted if {
	r := _with_runs(_sarif("q", ["CodeQL"], 1), [_info("CodeQL", true, "refs/heads/main<script>")])
	missing := rule.missing with input as testing.input_for({"sast": [r]}, "prod", _prod)
	some m in missing
	contains(m.msg, "analysed a revision that is no commit id, not the promoted commit")
	not contains(m.msg, "<script>")
}
