package affidavit.lib.subject_test

import data.affidavit.lib.subject
import data.affidavit.lib.testing

_hex := "3f1d6c1a9b0e4c2d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d"

test_normalize_accepts_every_digest_spelling_of_one_digest if {
	every d in [
		concat("", ["sha256:", _hex]),
		concat("", [" SHA256:", upper(_hex), " "]),
		_hex,
		concat("", ["ghcr.io/acme/shop@sha256:", _hex]),
		{"sha256": upper(_hex)},
	] {
		subject.normalize(d) == concat("", ["sha256:", _hex])
	}
}

test_normalize_refuses_what_is_not_a_digest if {
	every d in ["sha256:xyz", substring(_hex, 0, 40), "", {"sha1": _hex}, {"sha256": 7}, 42, null] {
		not subject.normalize(d)
	}
}

test_target_text_names_the_missing_digest if {
	inp := testing.with_context(testing.input_for({}, "prod", {}), {"subject": {"name": "x", "digest": null}})
	subject.target_text == "(no subject digest given)" with input as inp
	not subject.has_target with input as inp
}

test_target_text_is_the_promoted_digest if {
	# bound first: regorus 0.13 answers `rule == value with input as ...` undefined for this rule
	t := subject.target_text with input as testing.input_for({}, "prod", {})
	t == testing.digest
}
