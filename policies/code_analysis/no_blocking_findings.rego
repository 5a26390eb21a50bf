# METADATA
# title: No blocking static analysis findings
# description: The required static analysis tools report no result at a blocking SARIF level (error by default) or of a blocking security severity (SARIF security-severity, high or critical by default, as GitHub code scanning fails a check), so known coding flaws are fixed before release.
# custom:
#   id: code_analysis.no_blocking_findings
#   severity: high
#   requires: [sast]
#   controls:
#     soc2: [CC8.1, CC7.1]
#     iso27001-2022: [A.8.28, A.8.29]
#   remediation: Fix each named finding (or dismiss a false positive in the tool with a recorded reason, so it leaves the SARIF) and re-run the analysis on the release commit.
package affidavit.rules.code_analysis.no_blocking_findings

import data.affidavit.lib.evidence
import data.affidavit.lib.params
import data.affidavit.lib.sast

missing contains sast.no_evidence if count(sast.records) == 0

missing contains m if some m in evidence.malformed(sast.records, "findings")

missing contains m if some m in params.problems("code_analysis", {"required_tools": "array", "blocking_levels": "array", "blocking_security_severities": "array"})

_required := params.lower_set("code_analysis", "required_tools")

# Findings of the required tools count; with no required tool, every tool's findings count.
_judged(tool) if count(_required) == 0

_judged(tool) if tool in _required

missing contains v if {
	count(sast.records) > 0
	some tool in _required
	not _any_record_of(tool)
	v := {
		"msg": sprintf("no static analysis results from %s were supplied, so its findings are unknown (code_analysis.required_tools)", [tool]),
		"evidence_ids": [],
	}
}

_any_record_of(tool) if {
	some r in sast.records
	tool in sast.tools(r)
}

_tool(r, f) := f.tool if {
	evidence.text(f.tool)
} else := object.get(r, ["tool", "name"], "unknown tool")

_text(m) := substring(m, 0, 200) if {
	is_string(m)
	count(m) > 200
} else := m if is_string(m)

else := "(no message)"

# A finding blocks by its SARIF level, or by the severity its security-severity states (a
# CodeQL `warning` with security-severity 9.8 is critical: GitHub fails the check on it).
_blocking(f) if {
	is_string(f.level)
	lower(f.level) in params.lower_set("code_analysis", "blocking_levels")
}

_blocking(f) if {
	is_string(f.security_severity)
	lower(f.security_severity) in params.lower_set("code_analysis", "blocking_security_severities")
}

_why(f) := sprintf("%s (security-severity %s)", [lower(f.level), f.security_severity]) if {
	is_string(f.security_severity)
	is_string(f.level)
	not lower(f.level) in params.lower_set("code_analysis", "blocking_levels")
} else := lower(f.level) if is_string(f.level)
else := "finding"

deny contains v if {
	some r in sast.records
	some f in evidence.array_at(evidence.data_of(r), "findings")
	is_object(f)
	_blocking(f)
	tool := _tool(r, f)
	_judged(lower(tool))
	v := {
		"msg": sprintf("%v reports %s %v at %v:%v: %s (%s)", [tool, _why(f), object.get(f, "rule_id", "?"), object.get(f, "file", "?"), object.get(f, "line", "?"), _text(object.get(f, "message", null)), evidence.label(r)]),
		"evidence_ids": evidence.id_list(r),
		"details": {"tool": tool, "rule_id": object.get(f, "rule_id", null), "level": object.get(f, "level", null), "security_severity": object.get(f, "security_severity", null), "file": object.get(f, "file", null), "line": object.get(f, "line", null)},
	}
}
