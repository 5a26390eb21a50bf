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
