"""SARIF logs -> ``sast`` evidence (the vocabulary every ``sast`` collector shares is ``kinds.sast``).

Versions: SARIF 2.1.0 is read in full. The two older shapes are recognised by ``version`` (or, when
``version`` is missing, by the ``$schema`` URI) and read where their shape allows: 1.0.0 (``tool``
without ``driver``, ``run.rules`` keyed by id, ``message`` as a plain string or a
``formattedRuleMessage``, locations in ``resultFile``) and the 2.0.0 committee drafts
(``run.resources.rules``, ``fileLocation``, ``message.messageId``). Anything else (1.0.0 betas with
``runLogs``, unknown versions) is rejected with an error that says the version is not supported.

Per result, the finding is ``{rule_id, level, severity, file, line, message, tool}``:

* ``rule_id``: ``ruleId``, else ``rule.id``, else the id of the rule ``ruleIndex`` points at, else
  (Gitleaks 7 SARIF, whose results carry no rule at all) the rule named by its message
  ``"<rule> secret detected"`` when the driver declares that rule; else ``unknown`` (a problem).
* ``level`` (SARIF semantics): the result's ``level``; else ``none`` when the result's ``kind`` is
  not ``fail`` (a pass, review, open, informational or notApplicable result); else the rule's
  ``defaultConfiguration.level`` (1.0.0: ``defaultLevel``); else ``warning``. The 1.0.0/2.0.0 levels
  ``pass``, ``notApplicable`` and ``open`` become ``none``.
* ``severity``, first that applies:

  1. ``properties["security-severity"]`` of the result, then of its rule. A number (or numeric
     string) is a CVSS-like score: >= 9.0 critical, >= 7.0 high, >= 4.0 medium, > 0 low, 0
     negligible. A word (Semgrep writes ``"HIGH"``) is mapped as in 2.
  2. the tool's own severity word in ``properties["severity"]`` of the result, then of its rule
     (Checkov/tfsec/dependency-check style), read with the one severity table (``kinds.severity``:
     critical; high, important; medium, moderate; low, minor; negligible, info, informational,
     none ...), where SARIF level words written as a severity count as their level (error ->
     high, warning -> medium, note -> low). Words that say nothing (``unknown``) and words the
     table does not know are ignored.
  3. the level: error -> high, warning -> medium, note -> low, none -> negligible.

* ``file`` and ``line``: the first location's ``physicalLocation.artifactLocation.uri`` (by
  ``index`` into ``run.artifacts`` when the uri is omitted; 2.0.0 ``fileLocation``; 1.0.0
  ``resultFile``), else the result's ``analysisTarget``; ``region.startLine``. Both may be null
  (image-level findings such as Dockle's have no location).
* ``message``: ``message.text`` (else ``markdown``), else the string ``message.id`` names in the
  rule's ``messageStrings`` or the driver's ``globalMessageStrings``; ``{0}``-style placeholders are
  filled from ``message.arguments``. A message longer than 1,000 characters is cut (a problem says
  so). Runs written by a secret scanner (Gitleaks, ...) have every snippet and secret-named property
  of the result removed from the message. Snippets are never kept for any tool. The raw log keeps
  them: its ``redact`` hook (``kinds.secrets.redact_secret_scan``) replaces a secret scanner's
  snippets and secret properties, and the snippet lines of other tools that quote a credential,
  before a bundle stores it. Which tools are secret scanners is the one list of ``kinds.secrets``.

Results that a suppression accepts (``suppressions`` with no status or status ``accepted``; 1.0.0
``suppressionStates``) are not findings: they are counted in ``summary.suppressed``. Results whose
``baselineState`` is ``absent`` (gone since the baseline) are not findings either (a problem counts
them).

``summary`` counts findings by level (``error``, ``warning``, ``note``, ``none``, ``total``) plus
``suppressed``; ``tools`` lists the driver names of the runs present (``unknown`` for a run without
a tool, which is a problem); ``runs`` is the number of runs. A log with zero runs is not a clean
scan, and ``runs: 0`` lets a policy tell. ``run_info`` has one entry per run: ``{tool, version,
complete, reason, revision}``. A run is not ``complete`` when an invocation says
``executionSuccessful: false`` (except SpotBugs before 4.8.3, which wrote it whenever it found
bugs: its ``exitCode`` then has only bit 1 set) or the tool reported an error notification (Semgrep
writes its parse and rule errors there): a failed or partial scan must not look like a clean one,
and the policy says so. ``revision`` is ``versionControlProvenance[0].revisionId``, the commit the
run analysed, when the log states it. Each finding also carries ``security_severity``: the
severity the ``security-severity`` property states (GitHub's convention, scored as above), or
``null``; a policy judges it apart from the level (GitHub fails a check on high or critical).
``run_info.secret_scanner`` says the run's tool is a secret scanner (``kinds.secrets``): the secret
rules judge such runs' results, and a run of one that states its revision shows which commit the
secret scan covered.

A large log is bounded (``kinds.sast.FindingSample``): ``findings`` keeps the first 1,000 findings
of each tool and level, 10,000 in all, and always the first of each tool and level, so a blocking
finding anywhere in the log is still there; ``summary`` counts every finding, and a problem says
how many of each level were not kept. Findings past the sample are counted from their level alone
(their severity, place and message are never worked out, nor their oddities counted). A log naming
more than 1,000 different tools is an ``InputError``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from affidavit.collectors.interface import (
    DEFINITE,
    LIKELY,
    NO,
    CollectOptions,
    Format,
    Parsed,
    Problems,
    json_type,
    opt_str,
    shape_of,
)
from affidavit.collectors.kinds.sast import (
    LEVELS,
    MESSAGE_LIMIT,
    FindingSample,
    new_summary,
    positive_int,
    sast_finding,
    severity_from_level,
    severity_from_score,
    severity_from_word,
    truncate,
)
from affidavit.collectors.kinds.secrets import is_secret_scanner, redact_secret_scan, scrub
from affidavit.errors import InputError
from affidavit.model import EvidenceKind, Severity, Subject, Tool
from affidavit.model.time import format_utc, parse_timestamp

if TYPE_CHECKING:
    from affidavit.artefact import Artefact

FORMAT_NAME = "sarif"

UNKNOWN_TOOL = "unknown"
UNKNOWN_RULE = "unknown"

#: The different tools (driver names) one log may name in its runs. Findings are kept per tool
#: (``kinds.sast.FindingSample``), so the tools bound what a record holds; no real log names more.
TOOLS_PER_LOG = 1_000


# ---------------------------------------------------------------------------------------------
# Detection

_VERSION = re.compile(r"^\d+\.\d+\.\d+")
_SCHEMA_VERSION = re.compile(r"sarif[-_a-z]*?-(\d+\.\d+\.\d+(?:-[0-9a-z.-]+?)?)(?:\.json)?$", re.IGNORECASE)


def detect(doc: Artefact) -> int:
    """Score a document as a SARIF log: ``version`` + ``runs``, or a ``$schema`` naming SARIF."""
    if not doc.looks_like_json or doc.head[:1] != "{":
        return NO
    value = doc.try_json()
    if not isinstance(value, dict):
        return NO
    version = value.get("version")
    schema = value.get("$schema")
    schema_says = isinstance(schema, str) and "sarif" in schema.lower()
    if "runs" in value and (schema_says or (isinstance(version, str) and _VERSION.match(version))):
        return DEFINITE
    if schema_says:
        return LIKELY  # a SARIF log without runs: parse says what is wrong
    if "runLogs" in value and isinstance(version, str) and version.startswith("1."):
        return LIKELY  # a SARIF 1.0.0 beta
    runs = value.get("runs")
    if isinstance(runs, list) and runs and all(isinstance(r, dict) and "results" in r for r in runs[:3]):
        return LIKELY
    return NO


# ---------------------------------------------------------------------------------------------
# Parsing


def _family(version: str) -> str | None:
    """``"2.1"``, ``"2.0"`` or ``"1.0"`` for a version this module reads, else ``None``."""
    if version == "2.1.0" or version.startswith("2.1.0-"):
        return "2.1"
    if version == "2.0.0" or version.startswith("2.0.0-"):
        return "2.0"
    if version == "1.0.0":
        return "1.0"
    return None


# A version number (digits and dots, perhaps a pre-release word: 1.0.0-beta.4), repeated in a
# message; another version string is described.
_VERSION_NUMBER = re.compile(r"\d{1,4}(?:\.\d{1,4}){0,3}(?:-[a-z]{1,10}(?:\.\d{1,4})?)?")


def _unsupported(doc: Artefact, version: str, why: str = "") -> InputError:
    """The error for a SARIF version (or shape of one) this module does not read."""
    said = version if _VERSION_NUMBER.fullmatch(version) else f"({shape_of(version)})"
    return InputError(
        doc.source,
        f"SARIF version {said} is not supported{why}",
        path="$.version",
        hint="re-run the tool with SARIF 2.1.0 output (the version every current tool writes)",
    )


def parse(doc: Artefact, options: CollectOptions) -> Parsed:
    """Normalise a SARIF log into ``sast`` evidence."""
    log = doc.json()
    if not isinstance(log, dict):
        raise InputError(doc.source, f"expected a SARIF log object, found {json_type(log)}", path="$")
    problems = Problems(doc.source)
    version = _read_version(doc, log, problems)
    family = _family(version)
    if family is None:
        raise _unsupported(doc, version)
    if "runs" not in log:
        if "runLogs" in log:
            raise _unsupported(doc, version, " (a pre-release log with 'runLogs' instead of 'runs')")
        raise InputError(doc.source, "is a SARIF log without a 'runs' array", path="$")
    runs = log["runs"]
    if runs is None:
        raise InputError(
            doc.source,
            "'runs' is null: per SARIF the tool failed before it could write a run",
            path="$.runs",
            hint="re-run the tool and fix the error it reports; a failed scan is not a clean one",
        )
    if not isinstance(runs, list):
        raise InputError(doc.source, f"expected an array of runs, found {json_type(runs)}", path="$.runs")
    if family != "2.1":
        problems.add(
            "$.version",
            f"is SARIF {family}.0, an older version read with the 2.1.0 rules where its shape allows",
        )

    findings: list[dict[str, Any]] = []
    sample = FindingSample()
    summary = new_summary()
    summary["suppressed"] = 0
    tools: set[str] = set()
    tool_versions: set[tuple[str, str | None]] = set()
    subject = Subject()
    effective_at: str | None = None
    run_info: list[dict[str, Any]] = []
    for i, run in enumerate(runs):
        path = f"$.runs[{i}]"
        if not isinstance(run, dict):
            raise InputError(doc.source, f"expected a run object, found {json_type(run)}", path=path)
        reader = _RunReader(doc, run, path, problems)
        tools.add(reader.tool_name)
        if len(tools) > TOOLS_PER_LOG:
            raise InputError(
                doc.source,
                f"names more than {TOOLS_PER_LOG:,} different tools in its runs; affidavit reads at most "
                f"{TOOLS_PER_LOG:,} in one log",
                path=f"{path}.tool",
                hint="split the log: one SARIF file per tool, as code scanning uploads them",
            )
        run_info.append(reader.check_invocations())
        reader.read_results(findings, sample)
        summary["suppressed"] += reader.suppressed
        tool_versions.add((reader.tool_name, reader.tool_version))
        if subject.is_empty():
            subject = reader.subject()
        if effective_at is None:
            effective_at = reader.finished_at()
    sample.tally(summary)
    for sentence in sample.problems():
        problems.add("$.runs", sentence)
    tool = None
    if len(tool_versions) == 1:
        name, tool_version = next(iter(tool_versions))
        tool = Tool(name=name, version=tool_version)
    return Parsed(
        data={
            "findings": findings,
            "summary": summary,
            "tools": sorted(tools),
            "runs": len(runs),
            "run_info": run_info,
        },
        format_version=version,
        tool=tool,
        subject=subject,
        effective_at=effective_at,
        problems=problems.items,
    )


def _read_version(doc: Artefact, log: dict[str, Any], problems: Problems) -> str:
    """The log's SARIF version, from ``version`` or else from a ``$schema`` URI."""
    version = log.get("version")
    if isinstance(version, str) and version:
        return version
    schema = log.get("$schema")
    if isinstance(schema, str):
        match = _SCHEMA_VERSION.search(schema.strip().rstrip("#"))
        if match:
            found = match.group(1)
            # schemastore names drafts "2.1.0-rtm.5": the version is the part before the draft
            base = found.split("-", 1)[0] if found.startswith("2.1.0") else found
            problems.add("$.version", f"is missing; SARIF {base} was inferred from $schema")
            return base
    raise InputError(
        doc.source,
        "is a SARIF log with no version (and none can be read from $schema)",
        path="$.version",
    )


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\d+)\}")
_GITLEAKS7_MESSAGE = re.compile(r"^(?P<rule>.+) secret detected$")
_ACCEPTED_SUPPRESSION = frozenset({"accepted"})
_V1_SUPPRESSED = frozenset({"suppressedInSource", "suppressedExternally"})
_OLD_LEVELS = {"pass": "none", "notApplicable": "none", "open": "none"}


# a rule's default level, its stated security-severity, its severity word
_RuleFacts = tuple[str | None, Severity | None, Severity | None]


def _stated_severity(props: dict[str, Any]) -> tuple[Severity | None, Severity | None]:
    """``properties["security-severity"]`` (score or word) and ``properties["severity"]`` (word)."""
    stated = props.get("security-severity")
    return (
        severity_from_score(stated) or severity_from_word(stated) if stated is not None else None,
        severity_from_word(props.get("severity")),
    )


@dataclass
class _Counters:
    """Per-run tallies of oddities, each reported once with the first place it was seen."""

    counts: dict[str, int] = field(default_factory=dict)
    first: dict[str, str] = field(default_factory=dict)

    def hit(self, key: str, path: str) -> None:
        """Count one occurrence of ``key`` at ``path``."""
        self.counts[key] = self.counts.get(key, 0) + 1
        self.first.setdefault(key, path)


class _RunReader:
    """Reads one SARIF run: its tool, its rules and its results."""

    def __init__(self, doc: Artefact, run: dict[str, Any], path: str, problems: Problems) -> None:
        self.doc = doc
        self.run = run
        self.path = path
        self.problems = problems
        self.suppressed = 0
        self.odd = _Counters()
        self.driver: dict[str, Any] = {}
        self.extensions: list[Any] = []
        self.tool_name, self.tool_version = self._read_tool()
        self.secret_tool = is_secret_scanner(self.tool_name)
        self.rules_by_index: list[Any] = []
        self.rules_by_id: dict[str, dict[str, Any]] = {}
        self._facts: dict[int, _RuleFacts] = {}
        self._read_rules()
        artifacts = run.get("artifacts")
        self.artifacts: list[Any] = artifacts if isinstance(artifacts, list) else []

    # -- tool and rules ----------------------------------------------------------------------

    def _read_tool(self) -> tuple[str, str | None]:
        """The driver's name and version (``unknown`` and a problem when the run has no tool)."""
        tool = self.run.get("tool")
        if not isinstance(tool, dict):
            what = "has no 'tool' object" if tool is None else f"has a 'tool' that is {json_type(tool)}"
            self.problems.add(
                self.path, f"{what} (SARIF requires one); its results are attributed to tool 'unknown'"
            )
            return UNKNOWN_TOOL, None
        driver = tool.get("driver")
        if not isinstance(driver, dict):
            driver = tool  # SARIF 1.0.0 and the 2.0.0 drafts: the tool object is the driver
        self.driver = driver
        extensions = tool.get("extensions")
        self.extensions = extensions if isinstance(extensions, list) else []
        name = opt_str(driver.get("name"))
        if name is None:
            self.problems.add(
                f"{self.path}.tool",
                "names no tool (no driver name); its results are attributed to tool 'unknown'",
            )
            name = UNKNOWN_TOOL
        version = opt_str(driver.get("version")) or opt_str(driver.get("semanticVersion"))
        return name, version

    def _read_rules(self) -> None:
        """Index the rules by position (``ruleIndex``) and by id, from every place a version keeps them."""
        driver_rules = self.driver.get("rules")
        if isinstance(driver_rules, list):
            self.rules_by_index = driver_rules
            self._index_rules(driver_rules)
        elif isinstance(driver_rules, dict):
            self._index_rule_map(driver_rules)
        for ext in self.extensions:
            if isinstance(ext, dict) and isinstance(ext.get("rules"), list):
                self._index_rules(ext["rules"])
        resources = self.run.get("resources")  # 2.0.0 drafts
        if isinstance(resources, dict):
            rules = resources.get("rules")
            if isinstance(rules, list):
                if not self.rules_by_index:
                    self.rules_by_index = rules
                self._index_rules(rules)
            elif isinstance(rules, dict):
                self._index_rule_map(rules)
        v1_rules = self.run.get("rules")  # 1.0.0: an object keyed by rule id (or rule key)
        if isinstance(v1_rules, dict):
            self._index_rule_map(v1_rules)

    def _index_rules(self, rules: list[Any]) -> None:
        """Add rule objects to the by-id index (first definition wins)."""
        for rule in rules:
            if isinstance(rule, dict):
                rule_id = rule.get("id")
                if isinstance(rule_id, str):
                    self.rules_by_id.setdefault(rule_id, rule)

    def _index_rule_map(self, rules: dict[str, Any]) -> None:
        """Add an id-keyed rule object (1.0.0, 2.0.0 drafts) to the by-id index."""
        for key, rule in rules.items():
            if isinstance(rule, dict):
                self.rules_by_id.setdefault(key, rule)
                rule_id = rule.get("id")
                if isinstance(rule_id, str):
                    self.rules_by_id.setdefault(rule_id, rule)

    def _lookup(self, rule_id: str) -> dict[str, Any] | None:
        """The rule with this id (or, for a hierarchical id ``a/b``, the rule ``a``)."""
        rule = self.rules_by_id.get(rule_id)
        if rule is None and "/" in rule_id:
            rule = self.rules_by_id.get(rule_id.split("/", 1)[0])
        return rule

    # -- invocations -------------------------------------------------------------------------

    def _invocations(self) -> list[tuple[str, dict[str, Any]]]:
        """The run's invocation objects with their paths (1.0.0 has a single ``invocation``)."""
        out: list[tuple[str, dict[str, Any]]] = []
        invocations = self.run.get("invocations")
        if isinstance(invocations, list):
            for j, inv in enumerate(invocations):
                if isinstance(inv, dict):
                    out.append((f"{self.path}.invocations[{j}]", inv))
        single = self.run.get("invocation")
        if isinstance(single, dict):
            out.append((f"{self.path}.invocation", single))
        return out

    def check_invocations(self) -> dict[str, Any]:
        """The run's ``run_info`` entry: whether it completed, why not, and the revision it analysed.

        A run is incomplete when an invocation says ``executionSuccessful: false`` or the tool
        reported an error-level execution notification (a file it could not parse, a rule that
        crashed): its results are then not the whole analysis. SpotBugs before 4.8.3 wrote
        ``executionSuccessful: false`` whenever it found bugs (spotbugs/spotbugs#2740); such a run
        counts as complete when its ``exitCode`` has only the "bugs found" bit (1) set. Error and
        warning notifications are also problems of the record.
        """
        reasons: list[str] = []
        for path, inv in self._invocations():
            notes = _notifications(inv)
            errors = [place for lvl, _, _, place in notes if lvl == "error"]
            said = f" ({path}.{errors[0]} says why)" if errors else ""
            if inv.get("executionSuccessful") is False and not self._spotbugs_found_bugs(inv):
                reasons.append(f"the tool reports that its run failed (executionSuccessful: false){said}")
            elif errors:
                reasons.append(f"the tool reported {len(errors)} error notification(s) during the run{said}")
            for level in ("error", "warning"):
                ids = {ident for lvl, ident, _, _ in notes if lvl == level and ident}
                n = sum(1 for lvl, _, _, _ in notes if lvl == level)
                if n:
                    named = f" of {len(ids)} kind(s) (by descriptor id)" if ids else ""
                    self.problems.add(path, f"the tool reported {n} {level} notification(s){named}")
        if reasons:
            self.problems.add(self.path, "the run is incomplete: " + "; ".join(reasons))
        return {
            "tool": self.tool_name,
            "version": self.tool_version,
            "complete": not reasons,
            "reason": "; ".join(reasons) or None,
            "revision": self._revision(),
            "secret_scanner": self.secret_tool,
        }

    def _spotbugs_found_bugs(self, inv: dict[str, Any]) -> bool:
        """True for an old SpotBugs run whose ``executionSuccessful: false`` only means "bugs found"."""
        if self.tool_name.lower() != "spotbugs" or not _older_than(self.tool_version, (4, 8, 3)):
            return False
        code = inv.get("exitCode")
        return isinstance(code, int) and not isinstance(code, bool) and code & ~1 == 0

    def _revision(self) -> str | None:
        """The commit the run analysed (``versionControlProvenance[0].revisionId``), if stated."""
        provenance = self.run.get("versionControlProvenance")
        if isinstance(provenance, list) and provenance and isinstance(provenance[0], dict):
            return opt_str(provenance[0].get("revisionId"))
        return None

    def finished_at(self) -> str | None:
        """When the run ended (else started), from its first invocation, if stated (``model.time``)."""
        for _, inv in self._invocations():
            for key in ("endTimeUtc", "startTimeUtc", "endTime", "startTime"):
                value = parse_timestamp(inv.get(key), time_required=True)
                if value is not None:
                    return format_utc(value)
        return None

    def subject(self) -> Subject:
        """What the run scanned: a container image (Trivy run properties) or a repository revision."""
        props = self.run.get("properties")
        if isinstance(props, dict):
            image = opt_str(props.get("imageName"))
            if image is not None:
                digest = None
                digests = props.get("repoDigests")
                if isinstance(digests, list):
                    for item in digests:
                        if isinstance(item, str) and "@sha256:" in item:
                            digest = item.split("@", 1)[1]
                            break
                return Subject(name=image, digest=digest)
        provenance = self.run.get("versionControlProvenance")
        if isinstance(provenance, list) and provenance and isinstance(provenance[0], dict):
            first = provenance[0]
            repo = opt_str(first.get("repositoryUri"))
            if repo is not None:
                return Subject(name=repo, version=opt_str(first.get("revisionId")))
        return Subject()

    # -- results -----------------------------------------------------------------------------

    def read_results(self, findings: list[dict[str, Any]], sample: FindingSample) -> None:
        """Append the run's findings that ``sample`` keeps to ``findings``; report what was odd."""
        results = self.run.get("results")
        if results is None:
            if "results" in self.run:
                self.problems.add(
                    f"{self.path}.results",
                    "is null, which SARIF uses for 'the tool could not produce results'; read as no results",
                )
            return
        if not isinstance(results, list):
            raise InputError(
                self.doc.source,
                f"expected an array of results, found {json_type(results)}",
                path=f"{self.path}.results",
            )
        for k, result in enumerate(results):
            rpath = f"{self.path}.results[{k}]"
            if not isinstance(result, dict):
                raise InputError(
                    self.doc.source, f"expected a result object, found {json_type(result)}", path=rpath
                )
            finding = self._finding(result, rpath, sample)
            if finding is not None:
                findings.append(finding)
        self._report_oddities()

    def _finding(self, result: dict[str, Any], path: str, sample: FindingSample) -> dict[str, Any] | None:
        """One result as a finding, or ``None`` when it is suppressed, absent or counted only (the
        sample does not keep it: its severity, place and message are then never worked out)."""
        if _is_suppressed(result):
            self.suppressed += 1
            return None
        if result.get("baselineState") == "absent":
            self.odd.hit("absent", path)
            return None
        rule, rule_id = self._rule(result, path)
        level = self._level(result, rule, path)
        if not sample.admit(self.tool_name, level):
            return None
        severity, security = self._severity(result, rule, level, path)
        file, line = self._location(result)
        message = self._message(result, rule, rule_id, path)
        found = sast_finding(rule_id, level, severity, file, line, message, self.tool_name)
        # level none: "severity does not apply" (a pass, an informational result): nothing to block
        found["security_severity"] = security if level != "none" else None
        return found

    def _rule(self, result: dict[str, Any], path: str) -> tuple[dict[str, Any] | None, str]:
        """The result's rule object (if found) and rule id."""
        ref = result.get("rule")
        ref = ref if isinstance(ref, dict) else {}
        index = result.get("ruleIndex", ref.get("index"))
        table = self.rules_by_index
        component = ref.get("toolComponent")
        if isinstance(component, dict):
            comp_index = component.get("index")
            if isinstance(comp_index, int) and not isinstance(comp_index, bool):
                ext = self.extensions[comp_index] if 0 <= comp_index < len(self.extensions) else None
                table = (
                    ext.get("rules", [])
                    if isinstance(ext, dict) and isinstance(ext.get("rules"), list)
                    else []
                )
        rule: dict[str, Any] | None = None
        if isinstance(index, int) and not isinstance(index, bool) and index != -1:
            if 0 <= index < len(table) and isinstance(table[index], dict):
                rule = table[index]
            else:
                self.odd.hit("bad_index", path)
        rule_id = opt_str(result.get("ruleId")) or opt_str(ref.get("id")) or opt_str(result.get("ruleKey"))
        if rule is not None:
            declared = opt_str(rule.get("id"))
            if rule_id is None:
                rule_id = declared
            elif declared is not None and rule_id != declared and not rule_id.startswith(declared + "/"):
                self.odd.hit("index_mismatch", path)
                rule = self._lookup(rule_id)
        elif rule_id is not None:
            rule = self._lookup(rule_id)
        if rule_id is None:
            rule_id = self._rule_from_message(result)
            if rule_id is not None:
                rule = self._lookup(rule_id)
        if rule_id is None:
            self.odd.hit("no_rule", path)
            rule_id = UNKNOWN_RULE
        return rule, rule_id

    def _rule_from_message(self, result: dict[str, Any]) -> str | None:
        """Gitleaks 7 writes no rule reference, only ``"<rule> secret detected"``: recover the rule."""
        if not self.secret_tool:
            return None
        message = result.get("message")
        text = message.get("text") if isinstance(message, dict) else message
        if not isinstance(text, str):
            return None
        match = _GITLEAKS7_MESSAGE.match(text)
        if match and match.group("rule") in self.rules_by_id:
            return match.group("rule")
        return None

    def _level(self, result: dict[str, Any], rule: dict[str, Any] | None, path: str) -> str:
        """The result's level by SARIF's fallback chain (see the module docstring)."""
        level = self._valid_level(result.get("level"), path)
        if level is not None:
            return level
        kind = result.get("kind")
        if isinstance(kind, str) and kind != "fail":
            return "none"
        if rule is not None:
            level = self._rule_facts(rule, path)[0]
            if level is not None:
                return level
        return "warning"

    def _rule_facts(self, rule: dict[str, Any], path: str) -> _RuleFacts:
        """A rule's default level, stated security-severity and severity word (worked out once per rule)."""
        facts = self._facts.get(id(rule))
        if facts is None:
            level = None
            for holder_key, key in (("defaultConfiguration", "level"), ("configuration", "defaultLevel")):
                holder = rule.get(holder_key)
                if isinstance(holder, dict) and level is None:
                    level = self._valid_level(holder.get(key), path)
            if level is None:
                level = self._valid_level(rule.get("defaultLevel"), path)  # 1.0.0
            props = rule.get("properties")
            stated = word = None
            if isinstance(props, dict):
                stated, word = _stated_severity(props)
            facts = (level, stated, word)
            self._facts[id(rule)] = facts
        return facts

    def _valid_level(self, value: Any, path: str) -> str | None:
        """A level word as one of ``LEVELS``; an unknown word is counted and ignored."""
        if value is None:
            return None
        if isinstance(value, str):
            if value in LEVELS:
                return value
            if value in _OLD_LEVELS:
                return _OLD_LEVELS[value]
            lowered = value.lower()
            if lowered in LEVELS:
                return lowered
        self.odd.hit("bad_level", path)
        return None

    def _severity(
        self, result: dict[str, Any], rule: dict[str, Any] | None, level: str, path: str
    ) -> tuple[str, str | None]:
        """The normalised severity (see the module docstring for the order), and the one the
        ``security-severity`` property states (``None`` when neither result nor rule states one)."""
        props = result.get("properties")
        stated = word = None
        if isinstance(props, dict) and props:
            stated, word = _stated_severity(props)
        if stated is None and rule is not None:
            _, stated, rule_word = self._rule_facts(rule, path)
            word = word or rule_word
        chosen = stated or word or severity_from_level(level)
        return chosen.value, None if stated is None else stated.value

    def _location(self, result: dict[str, Any]) -> tuple[str | None, int | None]:
        """File and start line of the first location (or of the analysis target)."""
        locations = result.get("locations")
        if isinstance(locations, list):
            for loc in locations[:1]:
                if not isinstance(loc, dict):
                    continue
                physical = loc.get("physicalLocation")
                if isinstance(physical, dict):
                    artifact = physical.get("artifactLocation")
                    if not isinstance(artifact, dict):
                        artifact = physical.get("fileLocation")  # 2.0.0 drafts
                    region = physical.get("region")
                    return self._uri(artifact), _start_line(region)
                v1_file = loc.get("resultFile") or loc.get("analysisTarget")  # 1.0.0
                if isinstance(v1_file, dict):
                    return self._uri(v1_file), _start_line(v1_file.get("region"))
        target = result.get("analysisTarget")
        if isinstance(target, dict):
            return self._uri(target), None
        return None, None

    def _uri(self, artifact: Any) -> str | None:
        """An artifact location's uri, following ``index`` into ``run.artifacts`` when it has none."""
        if not isinstance(artifact, dict):
            return None
        uri = opt_str(artifact.get("uri"))
        if uri is None:
            index = artifact.get("index")
            if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(self.artifacts):
                entry = self.artifacts[index]
                location = entry.get("location") if isinstance(entry, dict) else None
                if isinstance(location, dict):
                    uri = opt_str(location.get("uri"))
        return uri

    def _message(self, result: dict[str, Any], rule: dict[str, Any] | None, rule_id: str, path: str) -> str:
        """The result's message: text or message string, arguments filled, secrets removed, cut to size."""
        message = result.get("message")
        text: str | None = None
        arguments: Any = None
        if isinstance(message, str):  # 1.0.0
            text = message
        elif isinstance(message, dict):
            text = _str(message.get("text")) or _str(message.get("markdown"))
            arguments = message.get("arguments")
            if text is None:
                message_id = message.get("id", message.get("messageId"))
                if isinstance(message_id, str):
                    text = self._message_string(rule, message_id)
                    if text is None:
                        self.odd.hit("unknown_message_id", path)
        if text is None:
            formatted = result.get("formattedRuleMessage")  # 1.0.0
            if isinstance(formatted, dict) and rule is not None:
                formats = rule.get("messageFormats")
                format_id = formatted.get("formatId")
                if isinstance(formats, dict) and isinstance(format_id, str):
                    text = _str(formats.get(format_id))
                    arguments = formatted.get("arguments")
        if text is None:
            self.odd.hit("no_message", path)
            text = _describe(rule) or rule_id
        if isinstance(arguments, list) and arguments and "{" in text:
            text = _fill(text, arguments)
        if self.secret_tool:
            text = self._scrub_secrets(text, result)
        text, cut = truncate(text)
        if cut:
            self.odd.hit("long_message", path)
        return text

    def _message_string(self, rule: dict[str, Any] | None, message_id: str) -> str | None:
        """The message string ``message_id`` names: the rule's, then the tool's global ones."""
        holders: list[Any] = []
        if rule is not None:
            holders.append(rule.get("messageStrings"))
        holders.append(self.driver.get("globalMessageStrings"))
        resources = self.run.get("resources")
        if isinstance(resources, dict):
            holders.append(resources.get("messageStrings"))
        for holder in holders:
            if isinstance(holder, dict) and message_id in holder:
                entry = holder[message_id]
                if isinstance(entry, dict):
                    found = _str(entry.get("text")) or _str(entry.get("markdown"))
                else:
                    found = _str(entry)
                if found is not None:
                    return found
        return None

    def _scrub_secrets(self, text: str, result: dict[str, Any]) -> str:
        """Remove the result's snippets and secret-named properties from a secret scanner's message."""
        secrets = _result_secrets(result)
        if not secrets:
            return text
        cleaned = scrub(text, secrets)
        for secret in secrets:  # short values too: a message must never quote them
            if secret in cleaned:
                cleaned = cleaned.replace(secret, "[REDACTED]")
        return cleaned

    def _report_oddities(self) -> None:
        """Turn the run's tallies into one problem sentence each."""
        sentences = {
            "bad_index": "result(s) have a ruleIndex outside the rule table; their rule was looked up by id",
            "index_mismatch": "result(s) have a ruleIndex pointing at a rule with another id; the ruleId was kept",
            "no_rule": "result(s) name no rule (no ruleId, rule or ruleIndex); recorded as rule 'unknown'",
            "bad_level": "result(s) or rule(s) have a level that is not error, warning, note or none; it was ignored",
            "no_message": "result(s) have no message text; the rule's description (or id) was used",
            "unknown_message_id": "result(s) name a message string (message.id) that no rule or tool defines",
            "long_message": f"result message(s) were longer than {MESSAGE_LIMIT:,} characters and were cut",
            "absent": "result(s) have baselineState 'absent' (gone since the baseline) and were not counted",
        }
        for key, sentence in sentences.items():
            n = self.odd.counts.get(key)
            if n:
                self.problems.add(self.path, f"{n} {sentence} (first: {self.odd.first[key]})")


def _older_than(version: str | None, bound: tuple[int, ...]) -> bool:
    """True when a dotted numeric ``version`` is below ``bound`` (False when it cannot be read)."""
    if version is None:
        return False
    match = re.match(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?", version)
    if match is None:
        return False
    return tuple(int(g or 0) for g in match.groups()) < bound


def _str(value: Any) -> str | None:
    """A non-empty string or ``None``."""
    return value if isinstance(value, str) and value else None


def _start_line(region: Any) -> int | None:
    """A region's ``startLine`` when it is a positive integer."""
    if isinstance(region, dict):
        return positive_int(region.get("startLine"))
    return None


def _fill(template: str, arguments: list[Any]) -> str:
    """Substitute SARIF ``{n}`` placeholders (``{{``/``}}`` are literal braces); unknown ones stay."""

    def replace(match: re.Match[str]) -> str:
        """One placeholder (or escaped brace) replaced by its argument."""
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        n = int(match.group(1))
        if n < len(arguments):
            arg = arguments[n]
            if isinstance(arg, str):
                return arg
            if isinstance(arg, int | float) and not isinstance(arg, bool):
                return str(arg)
        return token

    return _PLACEHOLDER.sub(replace, template)


def _describe(rule: dict[str, Any] | None) -> str | None:
    """A rule's short (else full) description or name, for a result without a message."""
    if rule is None:
        return None
    for key in ("shortDescription", "fullDescription"):
        value = rule.get(key)
        text = _str(value.get("text")) if isinstance(value, dict) else _str(value)
        if text is not None:
            return text
    return _str(rule.get("name"))


def _notifications(inv: dict[str, Any]) -> list[tuple[str | None, str | None, str | None, str]]:
    """``(level, id, text, place)`` of an invocation's execution and configuration notifications
    (``place``: the notification's path below the invocation)."""
    out: list[tuple[str | None, str | None, str | None, str]] = []
    for key in (
        "toolExecutionNotifications",
        "toolConfigurationNotifications",
        "toolNotifications",
        "configurationNotifications",
    ):
        items = inv.get(key)
        if not isinstance(items, list):
            continue
        for k, note in enumerate(items):
            if not isinstance(note, dict):
                continue
            level = note.get("level") if isinstance(note.get("level"), str) else "warning"
            descriptor = note.get("descriptor")
            ident = opt_str(descriptor.get("id")) if isinstance(descriptor, dict) else opt_str(note.get("id"))
            message = note.get("message")
            text = _str(message.get("text")) if isinstance(message, dict) else _str(message)
            out.append((level, ident, text, f"{key}[{k}]"))
    return out


def _is_suppressed(result: dict[str, Any]) -> bool:
    """True when a suppression on the result is in force (SARIF 2.x ``suppressions``, 1.0.0 states)."""
    suppressions = result.get("suppressions")
    if isinstance(suppressions, list):
        for s in suppressions:
            if isinstance(s, dict):
                status = s.get("status")
                if status is None or status in _ACCEPTED_SUPPRESSION:
                    return True
    states = result.get("suppressionStates")
    return isinstance(states, list) and any(state in _V1_SUPPRESSED for state in states)


def _result_secrets(result: dict[str, Any]) -> set[str]:
    """Snippet texts and secret-named property values anywhere in a result (iterative walk)."""
    found: set[str] = set()
    props = result.get("properties")
    if isinstance(props, dict):
        for key, value in props.items():
            if key.lower() in ("offender", "secret", "match", "line") and isinstance(value, str) and value:
                found.add(value)
    stack: list[Any] = [result]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                if key == "snippet":
                    if isinstance(child, dict):
                        for text_key in ("text", "markdown", "rendered"):
                            value = child.get(text_key)
                            if isinstance(value, str) and value.strip():
                                found.add(value)
                    elif isinstance(child, str) and child.strip():
                        found.add(child)
                elif isinstance(child, dict | list) and key != "message":
                    stack.append(child)
        elif isinstance(node, list):
            stack.extend(c for c in node if isinstance(c, dict | list))
    return found


FORMATS: tuple[Format, ...] = (
    Format(
        name=FORMAT_NAME,
        kind=EvidenceKind.SAST,
        detect=detect,
        parse=parse,
        description="SARIF log 2.1.0 (1.0.0 and 2.0.0 drafts where their shape allows): CodeQL, Semgrep, ...",
        redact=redact_secret_scan,
    ),
)
