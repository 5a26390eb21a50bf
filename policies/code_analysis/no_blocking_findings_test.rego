package affidavit.rules.code_analysis.no_blocking_findings_test

import data.affidavit.lib.testing
import data.affidavit.rules.code_analysis.no_blocking_findings as rule

_prod := {"code_analysis": {"required_tools": ["CodeQL"], "blocking_levels": ["error"], "blocking_security_severities": ["critical", "high"]}}

_sqli := {
	"rule_id": "py/sql-injection",
	"level": "error",
	"severity": "high",
	"file": "src/shop/orders.py",
	"line": 88,
	"message": "This SQL query depends on a user-provided value.",
	"tool": "CodeQL",
}

_unused := {
	"rule_id": "py/unused-import",
	"level": "note",
	"severity": "low",
	"file": "src/shop/app.py",
	"line": 3,
	"message": "Import of 'os' is not used.",
	"tool": "CodeQL",
}

_sarif(n, tool, version, findings) := testing.record("sast", n, {
	"format": "sarif",
	"format_version": "2.1.0",
	"tool": {"name": tool, "version": version},
	"data": {
		"findings": findings,
		"summary": {"error": count([f | some f in findings; f.level == "error"]), "warning": 0, "note": count([f | some f in findings; f.level == "note"]), "none": 0, "total": count(findings)},
		"tools": [tool],
		"runs": 1,
	},
})

test_passes_when_only_non_blocking_levels if {
	inp := testing.input_for({"sast": [_sarif("q", "CodeQL", "2.19.3", [_unused])]}, "prod", _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 0 with input as inp
}

test_fires_for_error_of_required_tool if {
	denies := rule.deny with input as testing.input_for({"sast": [_sarif("q", "CodeQL", "2.19.3", [_sqli, _unused])]}, "prod", _prod)
	count(denies) == 1
	some d in denies
	d.msg == "CodeQL reports error py/sql-injection at src/shop/orders.py:88: This SQL query depends on a user-provided value. (artefacts/sast-q.json)"
	d.evidence_ids == [testing.id("q")]
}

test_ignores_tools_that_are_not_required if {
	semgrep := object.union(_sqli, {"tool": "Semgrep OSS", "rule_id": "python.lang.security.audit.formatted-sql-query"})
	inp := testing.input_for({"sast": [_sarif("q", "CodeQL", "2.19.3", []), _sarif("s", "Semgrep OSS", "1.96.0", [semgrep])]}, "prod", _prod)
	count(rule.deny) == 0 with input as inp
}

test_judges_every_tool_when_none_is_required if {
	semgrep := object.union(_sqli, {"tool": "Semgrep OSS"})
	p := {"code_analysis": {"required_tools": [], "blocking_levels": ["error"], "blocking_security_severities": []}}
	count(rule.deny) == 1 with input as testing.input_for({"sast": [_sarif("s", "Semgrep OSS", "1.96.0", [semgrep])]}, "staging", p)
}

test_nothing_blocks_when_no_level_does if {
	p := {"code_analysis": {"required_tools": [], "blocking_levels": [], "blocking_security_severities": []}}
	count(rule.deny) == 0 with input as testing.input_for({"sast": [_sarif("q", "CodeQL", "2.19.3", [_sqli])]}, "dev", p)
}

test_missing_when_required_tool_has_no_results if {
	inp := testing.input_for({"sast": [_sarif("s", "Semgrep OSS", "1.96.0", [])]}, "prod", _prod)
	count(rule.deny) == 0 with input as inp
	missing := rule.missing with input as inp
	count(missing) == 1
	some m in missing
	contains(m.msg, "no static analysis results from codeql")
}

test_missing_when_no_sast_evidence if {
	inp := testing.input_for({}, "prod", _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

test_missing_when_rule_data_absent if {
	inp := testing.input_for({"sast": [_sarif("q", "CodeQL", "2.19.3", [])]}, "prod", {})
	missing := rule.missing with input as inp
	{m.details.param | some m in missing; m.details.param} == {"code_analysis.required_tools", "code_analysis.blocking_levels", "code_analysis.blocking_security_severities"}
}

test_missing_when_sarif_has_no_findings_list if {
	r := json.remove(_sarif("q", "CodeQL", "2.19.3", []), ["data/findings"])
	inp := testing.input_for({"sast": [r]}, "prod", _prod)
	count(rule.deny) == 0 with input as inp
	count(rule.missing) == 1 with input as inp
}

# GitHub code scanning fails a check on a security alert of high or critical security-severity,
# whatever its SARIF level (docs.github.com "About code scanning alerts": security severity levels).
test_fires_for_a_warning_with_critical_security_severity if {
	f := object.union(_sqli, {"level": "warning", "severity": "critical", "security_severity": "critical"})
	denies := rule.deny with input as testing.input_for({"sast": [_sarif("q", "CodeQL", "2.19.3", [f])]}, "prod", _prod)
	count(denies) == 1
	some d in denies
	startswith(d.msg, "CodeQL reports warning (security-severity critical) py/sql-injection")
}

test_passes_a_warning_of_medium_security_severity if {
	f := object.union(_sqli, {"level": "warning", "severity": "medium", "security_severity": "medium"})
	count(rule.deny) == 0 with input as testing.input_for({"sast": [_sarif("q", "CodeQL", "2.19.3", [f])]}, "prod", _prod)
}

test_an_error_with_a_security_severity_is_named_by_its_level if {
	f := object.union(_sqli, {"security_severity": "high"})
	denies := rule.deny with input as testing.input_for({"sast": [_sarif("q", "CodeQL", "2.19.3", [f])]}, "prod", _prod)
	some d in denies
	startswith(d.msg, "CodeQL reports error py/sql-injection")
}

test_a_finding_without_a_level_is_named_as_a_finding if {
	f := json.remove(object.union(_sqli, {"security_severity": "critical"}), ["level"])
	denies := rule.deny with input as testing.input_for({"sast": [_sarif("q", "CodeQL", "2.19.3", [f])]}, "prod", _prod)
	some d in denies
	startswith(d.msg, "CodeQL reports finding py/sql-injection")
}

test_a_long_message_is_cut_to_200_characters if {
	long := concat("", ["x" | some _ in numbers.range(1, 300)])
	f := object.union(_sqli, {"message": long})
	denies := rule.deny with input as testing.input_for({"sast": [_sarif("q", "CodeQL", "2.19.3", [f])]}, "prod", _prod)
	some d in denies
	contains(d.msg, concat("", [": ", substring(long, 0, 200), " ("]))
}
