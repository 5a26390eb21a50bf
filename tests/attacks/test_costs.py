"""Attacks on cost: inputs that hang the gate, exhaust its memory or make the engine refuse the run.

Issue 9, finding 9. Each test is the attack as it was reproduced on the NO-GO demo:

* a 1 KB YAML alias bomb in ``--params`` hung the gate past 120 s (in ``--waivers``: 109 s and
  6.7 GB). YAML in affidavit's files may not use anchors and aliases at all, and a YAML file
  over 4 MiB is refused; both refusals name the file (and the line) and quote nothing;
* one NaN, Infinity, out-of-range number or 128-deep value in a copied field (a Terraform plan
  attribute) made regorus reject the whole input: exit 3 and no bundle. Now the file is refused on
  its own (exit 3, named with the line and column of the value), the bundle is still written and
  every rule that does not need that file is still judged. The policy engine reads JSON with a
  nesting limit of 127 arrays and objects (serde_json's default; measured in
  ``test_the_engine_limits_are_what_the_loader_assumes``) and no NaN or Infinity;
* a 1,000,000-result SARIF took 36 s and 3 GB: the record keeps the first findings of each tool and
  level (``FINDINGS_PER_LEVEL``, and always the first), counts every one in the summary and says
  how many it did not keep; a blocking finding anywhere in the log still blocks.

Formats: YAML 1.1 anchors and aliases (https://yaml.org/spec/1.1/#id899912); JSON numbers have no
NaN or Infinity (RFC 8259, section 6: https://www.rfc-editor.org/rfc/rfc8259#section-6); Trivy
JSON reports (https://trivy.dev/latest/docs/configuration/reporting/#json); Terraform's JSON plan
(https://developer.hashicorp.com/terraform/internals/json-format); SARIF 2.1.0 results and
property bags (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html, 3.27 and 3.8).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import regorus

from affidavit.artefact import MAX_JSON_DEPTH, MAX_YAML_CHARS
from affidavit.collectors.kinds.sast import FINDINGS_PER_LEVEL
from affidavit.errors import EngineError
from affidavit.model import Evidence, EvidenceKind, Subject
from affidavit.policy.evaluate import ENGINE_MAX_DEPTH, EvalContext, input_json
from tests.attacks.support import COMMIT, DEMO, NOW, SUBJECT, GateResult, gate, release
from tests.conftest import REPO

#: A refusal must come at once; the attack ran for minutes.
FAST = 10.0
#: How a number the engine cannot read is described.
BEYOND = "holds a number beyond the range of a double (about 1.8e308)"


def _gate_process(tmp_path: Path, *extra: str, timeout: float = 60.0) -> tuple[int, str, float]:
    """The demo gate on the NO-GO release in a child process (so that a hang can be stopped):
    exit code, stderr and the seconds it took. A run past ``timeout`` fails the test."""
    args = [sys.executable, "-m", "affidavit", "gate", "--evidence", str(DEMO / "no-go")]
    args += ["--environment", "prod", "--subject", SUBJECT, "--commit", COMMIT]
    args += ["--now", NOW, "--replay", "--key", str(DEMO / "cosign.pub"), "--out", str(tmp_path / "out")]
    started = time.monotonic()
    try:
        done = subprocess.run(
            [*args, *extra], capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the gate was still running after {timeout:.0f} s")
    return done.returncode, done.stderr, time.monotonic() - started


def _bomb(levels: int = 9) -> str:
    """A flow sequence of nine anchored lists, each nine aliases of the one before: 9**9 strings
    once expanded, under 600 bytes as written."""
    items = ['&l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    items += [f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "[" + ", ".join(items) + "]"


def _rule_data_error_exit(tmp_path: Path) -> int:
    """The exit code of a rule-data file that is plainly broken YAML: every refusal of a params
    file gets the same one."""
    reference = tmp_path / "reference"
    reference.mkdir()
    broken = reference / "broken-params.yaml"
    broken.write_text("defaults: [unclosed\n", encoding="utf-8")
    result = gate(reference, release(reference), "--params", str(broken))
    assert result.exit_code in (2, 3) and str(broken) in result.stderr, result.stderr
    return result.exit_code


# ---------------------------------------------------------------------------------------------
# YAML: aliases and size


def test_an_alias_bomb_in_params_is_refused_at_once(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text(f"defaults:\n  code_analysis:\n    required_tools: {_bomb()}\n", encoding="utf-8")
    assert params.stat().st_size < 1024

    code, stderr, seconds = _gate_process(tmp_path, "--params", str(params))

    assert seconds < FAST, seconds
    assert code == _rule_data_error_exit(tmp_path), stderr
    assert f"{params}:3: rule data is not valid YAML: " in stderr
    assert "alias" in stderr and "lol" not in stderr and "l0" not in stderr
    assert not (tmp_path / "out").exists()


def test_an_alias_bomb_in_waivers_is_refused_at_once(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "- rule: code_analysis.no_blocking_findings\n"
        "  reason: the findings are in test code that never ships (SEC-31)\n"
        "  owner: sam.release-manager\n"
        "  approver: dana.security\n"
        "  expires: 2026-12-01\n"
        f"  findings: {_bomb()}\n",
        encoding="utf-8",
    )

    code, stderr, seconds = _gate_process(tmp_path, "--waivers", str(waivers))

    assert seconds < FAST, seconds
    assert code == 2, stderr
    assert stderr.startswith(
        f"affidavit: error: {waivers}: waivers file is not valid YAML at line 6, column "
    ), stderr
    assert "alias" in stderr and "lol" not in stderr and "SEC-31" not in stderr
    assert not (tmp_path / "out").exists()


def test_one_alias_is_refused_too(tmp_path: Path) -> None:
    # Not a bomb: one anchor used once. Anchors and aliases are refused outright, so no expansion
    # budget has to be right.
    params = tmp_path / "params.yaml"
    params.write_text(
        "defaults:\n  code_analysis:\n    required_tools: &tools [codeql]\n"
        "environments:\n  prod:\n    code_analysis:\n      required_tools: *tools\n",
        encoding="utf-8",
    )
    result = gate(tmp_path, release(tmp_path), "--params", str(params))
    assert result.exit_code == _rule_data_error_exit(tmp_path), result.stderr
    assert f"{params}:7: rule data is not valid YAML: " in result.stderr
    assert "tools" not in result.stderr.replace("required_tools", "").replace("--params", "")
    assert result.bundles == []


def test_an_oversize_params_file_is_refused(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    filler = "# " + "x" * 1022 + "\n"
    params.write_text("defaults: {}\n" + filler * (MAX_YAML_CHARS // len(filler) + 1), encoding="utf-8")
    assert params.stat().st_size > 4 * 1024 * 1024

    result = gate(tmp_path, release(tmp_path), "--params", str(params))

    assert result.exit_code == _rule_data_error_exit(tmp_path), result.stderr
    assert str(params) in result.stderr and "4 MiB" in result.stderr
    assert "xxxx" not in result.stderr
    assert result.bundles == []


@pytest.mark.parametrize(
    ("value", "what"),
    [
        (".nan", "not a finite number"),
        ("-.inf", "not a finite number"),
        ("1" + "0" * 400, "too large"),
        ("1" + "0" * 5000, "too large"),
        ("[" * 200 + "]" * 200, "nested too deeply"),
    ],
    ids=["nan", "minus-infinity", "400-digits", "5000-digits", "200-deep"],
)
def test_a_value_the_engine_cannot_take_in_params_is_refused_with_its_line(
    tmp_path: Path, value: str, what: str
) -> None:
    # Before: the run went as far as the engine, which refused the whole input (exit 3, no bundle).
    params = tmp_path / "params.yaml"
    params.write_text(
        f"defaults:\n  vulnerabilities:\n    remediation_days:\n      critical: {value}\n", encoding="utf-8"
    )
    result = gate(tmp_path, release(tmp_path), "--params", str(params))
    assert result.exit_code == _rule_data_error_exit(tmp_path), result.stderr
    assert f"{params}:4: rule data is not valid YAML: " in result.stderr and what in result.stderr
    assert "regorus" not in result.stderr and "000000" not in result.stderr
    assert result.bundles == []


# ---------------------------------------------------------------------------------------------
# JSON values the engine cannot take, in evidence


def _refused_alone(result: GateResult, evidence: Path, name: str, where: str, what: str) -> dict[str, Any]:
    """The gate refused the file ``name`` on its own (exit 3; named, with ``where`` and ``what``),
    still wrote the bundle and judged the rest."""
    assert result.exit_code == 3, result.stderr
    assert result.stderr.startswith(f"affidavit: error: {evidence / name}: {what} ({where}): "), result.stderr
    assert "regorus" not in result.stderr
    results = result.results  # the bundle is written
    assert results["decision"] == "INCOMPLETE"
    [failure] = results["input_errors"]
    assert failure["source"] == str(evidence / name) and f"{what} ({where})" in failure["message"], failure
    # the other evidence was judged as before: these NO-GO failures need none of the refused file
    assert result.outcome("secrets.no_secrets") == "fail"
    assert result.outcome("source_control.required_reviews") == "fail"
    assert result.outcome("change_management.approval_recorded") == "fail"
    return results


def _replace_once(path: Path, old: str, new: str) -> str:
    """Replace the first ``old`` in the file; the text before it (to find line and column)."""
    text = path.read_text(encoding="utf-8")
    at = text.index(old)
    path.write_text(text[:at] + new + text[at + len(old) :], encoding="utf-8")
    return text[:at]


def _line_column(before: str) -> str:
    return f"line {before.count(chr(10)) + 1}, column {len(before) - (before.rfind(chr(10)) + 1) + 1}"


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_number_json_cannot_hold_in_a_trivy_cvss_score_refuses_that_report(
    tmp_path: Path, value: str
) -> None:
    # Trivy (Go's encoding/json) never writes NaN or Infinity: this report was edited. Before, the
    # score was dropped without a word and the report was judged (exit 1).
    evidence = release(tmp_path)
    before = _replace_once(evidence / "trivy-image.json", '"V3Score": 5.3', f'"V3Score": {value}')
    where = _line_column(before + '"V3Score": ')

    result = gate(tmp_path, evidence)

    what = "holds NaN or Infinity" if value[-1] in "Ny" else BEYOND
    _refused_alone(result, evidence, "trivy-image.json", where, what)
    assert result.outcome("vulnerabilities.fixable_within_window") == "insufficient_evidence"


@pytest.mark.parametrize(
    "value",
    ["NaN", "Infinity", "-Infinity", "1e400", "-" + "9" * 400, "9" * 5000, "[" * 200 + "]" * 200],
    ids=["nan", "infinity", "minus-infinity", "1e400", "400-digits", "5000-digits", "200-deep"],
)
def test_a_value_the_engine_cannot_take_in_a_plan_attribute_refuses_only_the_plan(
    tmp_path: Path, value: str
) -> None:
    # The plan collector copies attribute values into its record. Before: regorus refused the whole
    # input, exit 3 and no bundle at all.
    evidence = release(tmp_path)
    before = _replace_once(evidence / "tfplan.json", '"force_destroy":false', f'"force_destroy":{value}')
    where = _line_column(before + '"force_destroy":')
    what = BEYOND
    if value[-1] in "Ny":
        what = "holds NaN or Infinity"
    elif value.startswith("["):  # the first array past the limit
        where = _line_column(before + '"force_destroy":' + "[" * (MAX_JSON_DEPTH - 5))
        what = "is nested too deeply"

    result = gate(tmp_path, evidence)

    _refused_alone(result, evidence, "tfplan.json", where, what)
    assert result.outcome("iac.no_open_admin_ports") == "insufficient_evidence"
    assert "9999999999" not in result.every_output().replace("99999999999999999999999999999999999", "")


def test_a_deep_value_in_a_sarif_property_bag_refuses_that_log(tmp_path: Path) -> None:
    evidence = release(tmp_path)
    deep = '{"p":' * 200 + "1" + "}" * 200
    before = _replace_once(
        evidence / "codeql.sarif", '"ruleIndex": 2,', f'"properties": {{"x": {deep}}}, "ruleIndex": 2,'
    )
    where = _line_column(before + '"properties": {"x": ' + '{"p":' * (MAX_JSON_DEPTH - 6))

    result = gate(tmp_path, evidence)

    _refused_alone(result, evidence, "codeql.sarif", where, "is nested too deeply")
    assert result.outcome("code_analysis.no_blocking_findings") == "insufficient_evidence"


def test_a_large_integer_the_engine_reads_is_kept(tmp_path: Path) -> None:
    # 2**70 is beyond a 64-bit integer, but regorus reads it (as a float) and compares it right;
    # only arithmetic on it is a rule's error. The plan is read and the release judged as before.
    evidence = release(tmp_path)
    _replace_once(evidence / "tfplan.json", '"allocated_storage":100', f'"allocated_storage":{2**70}')
    result = gate(tmp_path, evidence)
    assert result.exit_code == 1, result.stderr
    assert result.results["input_errors"] == []
    assert result.outcome("iac.no_open_admin_ports") == "fail"


def test_the_engine_limits_are_what_the_loader_assumes() -> None:
    """What regorus refuses as input: NaN and Infinity, numbers beyond a double, and more than 127
    nested arrays and objects. The loader's depth limit leaves room below it for the record."""

    def takes(text: str) -> bool:
        engine = regorus.Engine()
        try:
            engine.set_input_json(text)
        except Exception:  # noqa: BLE001 - regorus raises a bare RuntimeError
            return False
        return True

    assert takes("[" * 127 + "]" * 127) and not takes("[" * 128 + "]" * 128)
    assert not takes('{"v": NaN}') and not takes('{"v": Infinity}') and not takes('{"v": 1e400}')
    assert not takes('{"v": 1' + "0" * 400 + "}")
    assert takes('{"v": 1e308}') and takes(f'{{"v": {2**70}}}')
    # the deepest record in the input is the artefact's value a few levels down
    assert MAX_JSON_DEPTH + 16 < 127


# ---------------------------------------------------------------------------------------------
# Large SARIF


def _sarif(results: list[dict[str, Any]]) -> str:
    """A CodeQL SARIF 2.1.0 log with these results (rules declared with their default level)."""
    rules = [
        {
            "id": "py/sql-injection",
            "defaultConfiguration": {"level": "error"},
            "properties": {"security-severity": "8.8"},
        },
        {"id": "py/unused-import", "defaultConfiguration": {"level": "note"}},
        {"id": "py/empty-except", "defaultConfiguration": {"level": "warning"}},
    ]
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "CodeQL", "semanticVersion": "2.19.3", "rules": rules}},
                "results": results,
            }
        ],
    }
    return json.dumps(log)


def _result(rule: str, level: str, n: int) -> dict[str, Any]:
    return {
        "ruleId": rule,
        "level": level,
        "message": {"text": f"finding {n} of {rule}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": f"shop/m{n % 97}.py"},
                    "region": {"startLine": n % 500 + 1},
                }
            }
        ],
    }


def test_a_huge_sarif_keeps_a_bounded_sample_with_exact_counts_and_still_blocks(tmp_path: Path) -> None:
    cap = FINDINGS_PER_LEVEL
    results = [_result("py/empty-except", "warning", n) for n in range(cap * 3)]
    results += [_result("py/unused-import", "note", n) for n in range(7)]
    results.append(_result("py/sql-injection", "error", 1))  # the one blocking finding comes last
    evidence = release(tmp_path)
    (evidence / "codeql.sarif").write_text(_sarif(results), encoding="utf-8")

    result = gate(tmp_path, evidence)

    assert result.exit_code == 1, result.stderr
    [record] = [
        json.loads(p.read_text())
        for p in result.bundles[0].glob("evidence/*.record.json")
        if "codeql" in p.read_text()
    ]
    levels = [f["level"] for f in record["data"]["findings"]]
    assert (levels.count("warning"), levels.count("note"), levels.count("error")) == (cap, 7, 1)
    summary = record["data"]["summary"]
    assert (summary["warning"], summary["note"], summary["error"], summary["total"]) == (
        cap * 3,
        7,
        1,
        cap * 3 + 8,
    )
    assert any(f"{cap * 2:,} warning finding(s) were not kept" in p for p in record["problems"])
    [blocking] = [r for r in result.results["rules"] if r["id"] == "code_analysis.no_blocking_findings"]
    assert blocking["outcome"] == "fail"
    assert [v["details"]["rule_id"] for v in blocking["violations"]] == ["py/sql-injection"]


# ---------------------------------------------------------------------------------------------
# What no parser bounds: records built from another syntax, rule data


def test_a_deep_value_in_terraform_source_is_named_not_left_to_the_engine(tmp_path: Path) -> None:
    # HCL is not JSON: the .tf reader builds its record itself, so the depth reaches the input.
    # Before: "regorus rejected the input or data document: recursion limit exceeded at line 1
    # column ...", naming nothing, and no bundle. Now that one file is refused (exit 3, named, with
    # the cause), the bundle is written and the other rules are still judged.
    evidence = release(tmp_path)
    (evidence / "main.tf").write_text(
        'resource "aws_s3_bucket" "exports" {\n  bucket = "acme-shop-exports-prod"\n'
        "  tags = " + "[" * 130 + '"x"' + "]" * 130 + "\n}\n",
        encoding="utf-8",
    )
    result = gate(tmp_path, evidence)
    assert result.exit_code == 3, result.stderr
    assert (
        f"affidavit: error: {evidence / 'main.tf'}: its evidence record cannot be judged: a value would be"
        in (result.stderr)
    )
    assert "past the 127 the engine reads" in result.stderr and "regorus" not in result.stderr
    assert result.results["decision"] == "INCOMPLETE"
    assert result.outcome("secrets.no_secrets") == "fail"  # the rest of the release is still judged


def test_input_json_names_each_record_and_the_rule_data_the_engine_cannot_read() -> None:
    deep: Any = 1
    for _ in range(130):
        deep = [deep]
    records = [
        Evidence(
            id="sha256:" + str(n) * 64,
            kind=EvidenceKind.SAST,
            format="sarif",
            format_version="2.1.0",
            tool=None,
            subject=Subject(),
            source=f"scan-{n}.sarif",
            collected_at=NOW,
            effective_at=None,
            data=data,
        )
        for n, data in enumerate([{"score": float("nan")}, {"ok": [1, 2]}, {"deep": deep}])
    ]
    context = EvalContext(
        environment="prod",
        subject_name=None,
        subject_digest=None,
        now=dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC),
        params={"limits": {"days": float("inf")}},
    )
    with pytest.raises(EngineError) as info:
        input_json(records, context)
    assert str(info.value) == (
        "the policy input cannot be written as JSON: "
        "Out of range float values are not JSON compliant (the evidence record of scan-0.sarif); "
        "a value would be nested 135 levels deep, past the 127 the engine reads (the evidence record "
        "of scan-2.sarif); Out of range float values are not JSON compliant (the run's rule data or waivers)"
    )
    # without them, the same input is written, and the engine takes it
    text = input_json(records[1:2], EvalContext("prod", None, None, context.now))
    assert json.loads(text)["evidence"]["sast"][0]["data"] == {"ok": [1, 2]}
    assert ENGINE_MAX_DEPTH == 127


def test_input_json_refuses_exactly_what_the_engine_refuses() -> None:
    def record(levels: int) -> Evidence:
        value: Any = 1
        for _ in range(levels):
            value = [value]
        return Evidence(
            id="sha256:" + "a" * 64,
            kind=EvidenceKind.SAST,
            format="sarif",
            format_version="2.1.0",
            tool=None,
            subject=Subject(),
            source="scan.sarif",
            collected_at=NOW,
            effective_at=None,
            data={"v": value},
        )

    context = EvalContext("prod", None, None, dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC))
    # input, evidence, the kind's list, the record and its data: 5 levels above the value
    text = input_json([record(ENGINE_MAX_DEPTH - 5)], context)
    regorus.Engine().set_input_json(text)  # the deepest input the engine takes
    with pytest.raises(EngineError, match="nested 128 levels deep"):
        input_json([record(ENGINE_MAX_DEPTH - 4)], context)
    with pytest.raises(RuntimeError, match="recursion limit exceeded"):
        regorus.Engine().set_input_json(text.replace("[1]", "[[1]]"))


def test_a_lone_surrogate_in_one_file_refuses_that_file_not_the_run(tmp_path: Path) -> None:
    # JSON may escape half of a UTF-16 pair ("\ud800"); Python reads it into a string, and the
    # engine refuses the whole input at it. Before: "regorus rejected the input or data document:
    # unexpected end of hex escape at line 1 column ...", and no bundle. Now that one file is
    # refused (exit 3, named, with the cause and none of its content), the rest is judged.
    evidence = release(tmp_path)
    path = evidence / "trivy-image.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["Results"][0]["Vulnerabilities"][0]["Title"] = "broken \ud800 title"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = gate(tmp_path, evidence)
    assert result.exit_code == 3, result.stderr
    assert (
        f"affidavit: error: {path}: its evidence record cannot be judged: a string holds a lone surrogate"
        in result.stderr
    )
    assert "broken" not in result.stderr and "regorus" not in result.stderr
    assert result.results["decision"] == "INCOMPLETE"
    assert result.outcome("secrets.no_secrets") == "fail"  # the rest of the release is still judged
    # the rules that need the refused scan say why they could not judge it
    assert result.outcome("vulnerabilities.fixable_within_window") == "error"


@pytest.mark.parametrize(
    "text",
    [
        "\ud800",
        "a\udc00",
        "\ud800\\udc00",  # a high half, then the text \udc00
        "\\ud83d\udc00",  # the text \ud83d, then a low half
        "\U0001f600",  # a pair, as JSON writes it
        "\ud83d\ude00",  # two halves that make a pair
        "x\\ud800",  # the text \ud800
        "\\\U0001f600",
        "plain",
    ],
)
def test_input_json_refuses_a_lone_surrogate_exactly_when_the_engine_does(text: str) -> None:
    record = Evidence(
        id="sha256:" + "a" * 64,
        kind=EvidenceKind.SAST,
        format="sarif",
        format_version="2.1.0",
        tool=None,
        subject=Subject(),
        source="scan.sarif",
        collected_at=NOW,
        effective_at=None,
        data={"v": text, text: 1},
    )
    context = EvalContext("prod", None, None, dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC))
    written = json.dumps(
        {"evidence": {"sast": [record.to_json()]}, "context": context.to_json()}, separators=(",", ":")
    )
    try:
        regorus.Engine().set_input_json(written)
    except RuntimeError:
        with pytest.raises(EngineError, match="scan.sarif"):
            input_json([record], context)
    else:
        assert (
            json.loads(input_json([record], context))["evidence"]["sast"]
            == json.loads(written)["evidence"]["sast"]
        )
