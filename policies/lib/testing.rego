# Builders used by the *_test.rego files: a complete policy input around the records a test
# makes, and an evidence envelope. Rule packages never import this package.
package affidavit.lib.testing

kinds := [
	"sbom", "vulnerability-scan", "secret-scan", "sast", "signature", "provenance",
	"terraform-plan", "terraform-config", "branch-protection", "change-record",
]

# The promoted image and another build of it (for "evidence about another artefact" cases).
subject_name := "ghcr.io/acme/shop"

digest := "sha256:3f1d6c1a9b0e4c2d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d"

other_digest := "sha256:b7c1e2d3f4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"

commit := "9c4e2f7a1b3d5e6f708192a3b4c5d6e7f8091a2b"

now := "2026-11-22T12:00:00Z"

# input_for(ev, env, params) is a full policy input: ev maps kinds to records (absent kinds
# are []), the context names the subject above, the run time `now` and the given rule data.
input_for(ev, env, params) := {
	"evidence": {k: object.get(ev, k, []) | some k in kinds},
	"context": {
		"environment": env,
		"subject": {"name": subject_name, "digest": digest},
		"now": now,
		"commit": commit,
		"params": params,
		"waivers": [],
	},
}

# ours(p) is rule data p that also trusts the test subject's source repository, as the
# source_control rules need before they judge a branch-protection record of it.
ours(p) := object.union({"supply_chain": {"allowed_source_repos": ["github.com/acme/shop"]}}, p)

# with_context(inp, changes) is inp with its context fields replaced by changes.
with_context(inp, changes) := object.union(inp, {"context": changes})

# record(kind, n, fields) is an evidence envelope with id "sha256:<n repeated to 64 hex>"
# (n is one hex digit) merged with fields (fields win, recursively for objects).
record(kind, n, fields) := object.union(
	{
		"schema": "affidavit.evidence/v1",
		"id": concat("", ["sha256:", concat("", [n | some _ in numbers.range(1, 64)])]),
		"kind": kind,
		"format": "test",
		"format_version": null,
		"tool": {"name": "test", "version": "0"},
		"subject": {"name": null, "version": null, "digest": null},
		"source": concat("", ["artefacts/", kind, "-", n, ".json"]),
		"collected_at": now,
		"effective_at": null,
		"data": {},
		"problems": [],
	},
	fields,
)

# id(n) is the id record(_, n, _) gives.
id(n) := concat("", ["sha256:", concat("", [n | some _ in numbers.range(1, 64)])])
