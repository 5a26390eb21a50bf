# Helpers shared by the code_analysis rules (sast evidence, normalised from SARIF and others).
# Other libraries are referenced by full path, never through an import alias (see lib/README.md).
package affidavit.lib.sast

records := data.affidavit.lib.evidence.records("sast")

# tools(r) is the lower-cased names of the tools whose runs a record holds.
tools(r) := {lower(t) |
	some t in array.concat(data.affidavit.lib.evidence.array_at(data.affidavit.lib.evidence.data_of(r), "tools"), [object.get(r, ["tool", "name"], null)])
	is_string(t)
	t != ""
}

# runs(r) is the number of analysis runs in a record (SARIF `runs`); when the format has no
# such notion, one per named tool.
runs(r) := n if {
	n := data.affidavit.lib.evidence.data_of(r).runs
	is_number(n)
} else := count(tools(r))

# ran(tool) is true when some record holds at least one run of the tool (lower-cased name).
ran(tool) if {
	some r in records
	runs(r) > 0
	tool in tools(r)
}

no_evidence := {
	"msg": "no static analysis results were supplied: run the required SAST tools (e.g. CodeQL, Semgrep) with SARIF output and pass the .sarif files to the gate",
	"evidence_ids": [],
}
