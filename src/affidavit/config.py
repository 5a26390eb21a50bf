"""One configuration file (``affidavit.yaml``) and the release profiles.

An organisation keeps its choices in one file committed beside its pipeline::

    version: 1
    rule_data: {defaults: {...}, environments: {prod: {...}}}   # the shape of a --params file
    environments: {aliases: {live: prod}}                       # more names for the built-in ones
    trust: {identities: [...], key_ids: [...], builders: [...], source_repos: [...]}
    required_checks: [ci/build, ci/test]
    waivers: waivers.yaml                                       # relative to this file
    store: sqlite:///var/lib/affidavit/history.db
    profiles: {docs-site: {description: ..., requires: [sast, secret-scan]}}
    default_profile: python-library

The CLI finds it (``--config``, ``AFFIDAVIT_CONFIG``, else ``affidavit.yaml`` in the working
folder), ``load_config`` checks it into a frozen ``Config`` and the pipeline receives typed values.
Nothing in it is silent: the file is recorded in the run's configuration with its sha256 (and so
in the run id), and every rule-data key it changes, directly or through ``trust`` and
``required_checks``, is listed in ``rule_data_changes`` exactly as a ``--params`` file's would be
(``effective_rule_data``). Rule data is merged in this order: built-in, the config file, then each
``--params`` file.

A **release profile** says which evidence kinds a kind of release must supply (``apply_profile``):

- a rule that requires only kinds the profile does not require, and for which no evidence of
  those kinds was given, is ``not_applicable`` with the profile named in the reason; evidence
  that *was* given is still judged (a profile never hides a failing plan that was supplied);
- a rule that requires a kind the profile requires, when no record of that kind was given, is at
  least ``insufficient_evidence``;
- a rule that requires no kind of its own (``requires: []``) is applicable unless the profile
  names it under ``not_applicable`` with a reason, and even then only turns from
  ``insufficient_evidence`` into ``not_applicable``: a profile turns "no evidence" into "not
  asked for", never a failure or an error into anything else.

No profile given means the strict default: every rule applies, as if every kind were required.
Built-in profiles ship as package data (``profiles/*.yaml``); a config may add its own, never
redefine a built-in one.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from affidavit.artefact import YamlError, load_yaml, read_user_file
from affidavit.errors import InputError, UsageError
from affidavit.model import EvidenceKind, Outcome, RuleResult, Violation
from affidavit.policy.params import jsonable

if TYPE_CHECKING:
    from affidavit.policy.loader import RuleMeta

CONFIG_NAME = "affidavit.yaml"
#: The version of the configuration format this affidavit reads.
CONFIG_VERSION = 1
#: At most this many bytes are read of a configuration or profile file.
MAX_CONFIG_BYTES = 1024 * 1024

_TOP_KEYS = frozenset(
    {
        "version",
        "rule_data",
        "environments",
        "trust",
        "required_checks",
        "waivers",
        "store",
        "profiles",
        "default_profile",
    }
)
#: ``trust`` keys and the rule-data keys (under ``defaults``) they set.
TRUST_KEYS: Mapping[str, tuple[str, str]] = {
    "identities": ("supply_chain", "allowed_identities"),
    "key_ids": ("supply_chain", "allowed_key_ids"),
    "builders": ("supply_chain", "allowed_builders"),
    "source_repos": ("supply_chain", "allowed_source_repos"),
}
_PROFILE_KEYS = frozenset({"name", "description", "requires", "not_applicable"})
_KINDS = {k.value: k for k in EvidenceKind}


@dataclass(frozen=True, slots=True)
class Profile:
    """A release profile: the evidence kinds a kind of release must supply.

    ``not_applicable`` holds ``(rule id, reason)`` for rules that require no evidence kind of
    their own and do not concern this kind of release. ``origin`` is the file it came from and
    ``sha256`` the digest of its definition (the file, or the canonical JSON of its entry in a
    configuration file).
    """

    name: str
    description: str
    requires: frozenset[EvidenceKind]
    not_applicable: tuple[tuple[str, str], ...]
    origin: str
    sha256: str
    builtin: bool

    def to_json(self) -> dict[str, Any]:
        """The profile as ``affidavit explain``-style JSON."""
        return {
            "name": self.name,
            "description": self.description,
            "requires": sorted(k.value for k in self.requires),
            "not_applicable": [{"rule": r, "reason": why} for r, why in self.not_applicable],
            "origin": self.origin,
            "sha256": self.sha256,
            "builtin": self.builtin,
        }


@dataclass(frozen=True, slots=True)
class Config:
    """An ``affidavit.yaml``, checked. ``rule_data`` has the ``{defaults, environments}`` shape of
    a ``--params`` file, ``trust`` and ``required_checks`` already merged into its defaults."""

    path: str
    sha256: str
    rule_data: Mapping[str, Any] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    waivers: Path | None = None
    store: str | None = None
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    default_profile: str | None = None

    def resolve_environment(self, name: str) -> str:
        """The environment ``name`` means: this file's aliases first, then the built-in ones."""
        from affidavit.policy.params import resolve_environment

        key = name.strip().lower()
        return self.aliases.get(key) or resolve_environment(key)


# ---------------------------------------------------------------------------------------------
# Finding and reading the configuration file


def find_config(explicit: Path | None, cwd: Path | None = None) -> Path | None:
    """The configuration file to use: ``explicit`` (``--config`` or ``AFFIDAVIT_CONFIG``), else
    ``affidavit.yaml`` in ``cwd`` (the working folder) when it is there, else none.

    A link or anything but a regular file named ``affidavit.yaml`` in the working folder is not
    picked up silently: it is a usage error (name it with ``--config`` to use it).
    """
    if explicit is not None:
        return explicit
    # Recorded as found (relative): the same checkout anywhere records the same path.
    candidate = cwd / CONFIG_NAME if cwd is not None else Path(CONFIG_NAME)
    try:
        mode = os.lstat(candidate).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"{candidate}: cannot be read: {exc.strerror or type(exc).__name__}") from None
    if not stat.S_ISREG(mode):
        raise UsageError(
            f"{candidate}: is not a regular file, so it is not read as the configuration",
            hint="name the configuration with --config, or remove the link",
        )
    return candidate


def _read_yaml(path: Path, what: str) -> tuple[Any, str]:
    """The YAML document of ``path`` and the sha256 of its bytes; any problem is a usage error."""
    try:
        raw = read_user_file(path, MAX_CONFIG_BYTES)
    except InputError as exc:
        raise UsageError(f"{path}: {what} {exc.detail}") from None
    try:
        loaded = load_yaml(raw.decode("utf-8"), str(path))
    except UnicodeDecodeError:
        raise UsageError(f"{path}: {what} is not UTF-8 text") from None
    except YamlError as exc:
        raise UsageError(f"{path}: {what} is not valid YAML{exc.at}: {exc.problem}") from None
    return loaded, hashlib.sha256(raw).hexdigest()


def load_config(path: Path) -> Config:
    """``path`` read and checked (every problem a ``UsageError`` naming the file and the key,
    never quoting a value)."""
    loaded, digest = _read_yaml(path, "configuration")
    src = str(path)
    if not isinstance(loaded, dict):
        raise UsageError(f"{src}: the configuration must be a mapping (version: 1, rule_data: ...)")
    unknown = sorted(str(k) for k in loaded if k not in _TOP_KEYS)
    if unknown:
        raise UsageError(
            f"{src}: unknown key(s) {', '.join(unknown)}",
            hint="the keys are " + ", ".join(sorted(_TOP_KEYS)) + " (docs/config.md)",
        )
    version = loaded.get("version")
    if version != CONFIG_VERSION or isinstance(version, bool):
        raise UsageError(
            f"{src}: version must be {CONFIG_VERSION}",
            hint="this affidavit reads configuration format 1; start the file with 'version: 1'",
        )
    aliases = _aliases(loaded.get("environments"), src)
    rule_data = _rule_data(loaded.get("rule_data"), src, aliases)
    rule_data = _merge_shortcuts(loaded, rule_data, src)
    profiles = _config_profiles(loaded.get("profiles"), src, digest)
    default_profile = _optional_text(loaded, "default_profile", src)
    if default_profile is not None and default_profile not in profiles:
        known = available_profiles(profiles)
        if default_profile not in known:
            raise UsageError(
                f"{src}: default_profile names no profile",
                hint="profiles: " + ", ".join(sorted(known)),
            )
    waivers_text = _optional_text(loaded, "waivers", src)
    waivers = None if waivers_text is None else (path.parent / waivers_text)
    return Config(
        path=src,
        sha256=digest,
        rule_data=rule_data,
        aliases=aliases,
        waivers=waivers,
        store=_optional_text(loaded, "store", src),
        profiles=profiles,
        default_profile=default_profile,
    )


def _optional_text(loaded: Mapping[str, Any], key: str, src: str) -> str | None:
    value = loaded.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{src}: {key} must be a non-empty string")
    return value.strip()


def _aliases(section: Any, src: str) -> dict[str, str]:
    """``environments: {aliases: {name: environment}}``: each alias of a built-in environment; an
    alias may not be the name of an environment (``prod: dev`` would turn prod into dev)."""
    from affidavit.policy.params import ALIASES, known_environments

    if section is None:
        return {}
    if not isinstance(section, dict) or set(section) - {"aliases"}:
        raise UsageError(f"{src}: environments must be a mapping with one key, aliases")
    raw = section.get("aliases") or {}
    if not isinstance(raw, dict):
        raise UsageError(f"{src}: environments.aliases must map each alias to an environment")
    known = known_environments()
    out: dict[str, str] = {}
    for alias, target in raw.items():
        if not isinstance(alias, str) or not isinstance(target, str) or not alias.strip():
            raise UsageError(f"{src}: environments.aliases must map names to names")
        key, env = alias.strip().lower(), target.strip().lower()
        env = ALIASES.get(env, env)
        if key in known:
            raise UsageError(
                f"{src}: environments.aliases redefines the environment {key}",
                hint="an alias is another name for an environment, never the name of one",
            )
        if env not in known:
            raise UsageError(
                f"{src}: environments.aliases.{key} names an environment affidavit does not know",
                hint=f"known environments: {', '.join(known)}",
            )
        if key in ALIASES and ALIASES[key] != env:
            raise UsageError(f"{src}: environments.aliases.{key} changes a built-in alias")
        out[key] = env
    return out


def _rule_data(section: Any, src: str, aliases: Mapping[str, str]) -> dict[str, Any]:
    """``rule_data``: the shape of a ``--params`` file (checked by the code that checks those), its
    environments known (or aliases)."""
    from affidavit.policy.params import check_rule_data, known_environments, resolve_environment

    rule_data = check_rule_data(section, src, section="rule_data", error=UsageError)
    known = known_environments()
    for name in rule_data["environments"]:
        key = name.strip().lower()
        if aliases.get(key, resolve_environment(key)) not in known:
            raise UsageError(
                f"{src}: rule_data names an environment affidavit does not know",
                hint=f"known environments: {', '.join(known)}; a configuration cannot invent one",
            )
    return rule_data


def _merge_shortcuts(loaded: Mapping[str, Any], rule_data: dict[str, Any], src: str) -> dict[str, Any]:
    """``trust`` and ``required_checks`` written into ``rule_data.defaults``; a key set both
    there and in ``rule_data`` is refused (which one wins would be a guess)."""
    shortcuts: list[tuple[str, str, str, Any]] = []
    trust = loaded.get("trust")
    if trust is not None:
        if not isinstance(trust, dict):
            raise UsageError(f"{src}: trust must be a mapping ({', '.join(TRUST_KEYS)})")
        unknown = sorted(str(k) for k in trust if k not in TRUST_KEYS)
        if unknown:
            raise UsageError(
                f"{src}: unknown trust key(s) {', '.join(unknown)}", hint=f"known: {', '.join(TRUST_KEYS)}"
            )
        for key, value in trust.items():
            area, name = TRUST_KEYS[key]
            shortcuts.append((f"trust.{key}", area, name, value))
    if "required_checks" in loaded:
        shortcuts.append(("required_checks", "source_control", "required_checks", loaded["required_checks"]))
    defaults: dict[str, Any] = dict(rule_data["defaults"])
    for where, area, name, value in shortcuts:
        if not isinstance(value, list):
            raise UsageError(f"{src}: {where} must be a list")
        block = defaults.get(area)
        if block is not None and not isinstance(block, dict):
            raise UsageError(f"{src}: rule_data.defaults.{area} must be a mapping")
        block = dict(block or {})
        if name in block:
            raise UsageError(
                f"{src}: {area}.{name} is set twice, by {where} and by rule_data.defaults",
                hint="keep one of the two",
            )
        block[name] = jsonable(value)
        defaults[area] = block
    return {"defaults": defaults, "environments": rule_data["environments"]}


# ---------------------------------------------------------------------------------------------
# Rule data with the configuration


def effective_rule_data(
    environment: str, config: Config | None, param_files: Sequence[Path]
) -> tuple[dict[str, Any], list[tuple[str, Any, Any]]]:
    """The rule data for ``environment`` (already resolved) and each key whose value differs from
    the built-in default (``(dotted key, built-in, in force)``, sorted): built-in, then the
    configuration, then each ``--params`` file, merged by ``policy.params.load_params`` (which
    refuses a params file that invents an environment)."""
    from affidavit.policy.params import diff_rule_data, load_params

    if config is None:
        merged = load_params(environment, param_files)
    else:
        merged = load_params(
            environment, param_files, layer=config.rule_data, resolve=config.resolve_environment
        )
    return merged, diff_rule_data(load_params(environment, ()), merged)


# ---------------------------------------------------------------------------------------------
# Release profiles


def builtin_profiles_dir() -> Path:
    """The built-in profiles: ``affidavit/_data/profiles`` in a wheel, ``profiles/`` in a checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_data" / "profiles", package.parent.parent / "profiles"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the built-in profiles/ folder is missing from this installation")


def builtin_profiles() -> dict[str, Profile]:
    """Every built-in profile by name."""
    out: dict[str, Profile] = {}
    for path in sorted(builtin_profiles_dir().glob("*.yaml")):
        loaded, digest = _read_yaml(path, "release profile")
        # Named by where it sits in the package, not on this disk: the same profile has the same
        # name in every installation (results.json stays byte-reproducible).
        profile = _profile(loaded, f"builtin:profiles/{path.name}", digest, builtin=True, name=path.stem)
        out[profile.name] = profile
    return out


def available_profiles(extra: Mapping[str, Profile] | None = None) -> dict[str, Profile]:
    """The built-in profiles and a configuration's own."""
    return {**builtin_profiles(), **(extra or {})}


def select_profile(name: str | None, config: Config | None) -> Profile | None:
    """The profile a run uses: ``name`` (``--profile``), else the configuration's
    ``default_profile``, else none (the strict default: every rule applies)."""
    wanted = name if name is not None else (config.default_profile if config else None)
    if wanted is None:
        return None
    known = available_profiles(config.profiles if config else None)
    if wanted not in known:
        raise UsageError("--profile names no release profile", hint="profiles: " + ", ".join(sorted(known)))
    return known[wanted]


def _config_profiles(section: Any, src: str, _digest: str) -> dict[str, Profile]:
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise UsageError(f"{src}: profiles must map each profile name to its definition")
    builtin = builtin_profiles()
    out: dict[str, Profile] = {}
    for name, body in section.items():
        if not isinstance(name, str) or not name.strip():
            raise UsageError(f"{src}: a profile name must be a non-empty string")
        if name in builtin:
            raise UsageError(
                f"{src}: profiles.{name} redefines a built-in profile",
                hint="give your own profile another name",
            )
        canonical = json.dumps(jsonable(body), sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        out[name] = _profile(body, f"{src}#profiles.{name}", digest, builtin=False, name=name)
    return out


def _profile(body: Any, origin: str, digest: str, *, builtin: bool, name: str) -> Profile:
    """One profile definition checked: ``{description, requires: [kinds], not_applicable: [...]}``."""
    if not isinstance(body, dict):
        raise UsageError(f"{origin}: a release profile must be a mapping with description and requires")
    unknown = sorted(str(k) for k in body if k not in _PROFILE_KEYS)
    if unknown:
        raise UsageError(
            f"{origin}: unknown key(s) {', '.join(unknown)}", hint="keys: " + ", ".join(sorted(_PROFILE_KEYS))
        )
    if "name" in body and body["name"] != name:
        raise UsageError(f"{origin}: its name differs from the name it is known by ({name})")
    description = body.get("description")
    if not isinstance(description, str) or not description.strip():
        raise UsageError(f"{origin}: a release profile needs a description")
    requires = body.get("requires")
    if not isinstance(requires, list) or not requires:
        raise UsageError(
            f"{origin}: requires must list at least one evidence kind",
            hint="evidence kinds are " + ", ".join(sorted(_KINDS)),
        )
    kinds: set[EvidenceKind] = set()
    for item in requires:
        if not isinstance(item, str) or item not in _KINDS:
            raise UsageError(
                f"{origin}: requires names an unknown evidence kind",
                hint="evidence kinds are " + ", ".join(sorted(_KINDS)),
            )
        kinds.add(_KINDS[item])
    exempt: list[tuple[str, str]] = []
    for item in body.get("not_applicable") or []:
        if (
            not isinstance(item, dict)
            or set(item) != {"rule", "reason"}
            or not all(isinstance(v, str) and v.strip() for v in item.values())
        ):
            raise UsageError(f"{origin}: each not_applicable entry needs a rule id and a reason")
        exempt.append((item["rule"].strip(), item["reason"].strip()))
    return Profile(
        name=name,
        description=" ".join(description.split()),
        requires=frozenset(kinds),
        not_applicable=tuple(sorted(exempt)),
        origin=origin,
        sha256=digest,
        builtin=builtin,
    )


def apply_profile(
    results: Sequence[RuleResult],
    rules: Iterable[RuleMeta],
    given: Iterable[str],
    profile: Profile,
) -> list[RuleResult]:
    """``results`` with ``profile`` applied (module docstring); ``given`` are the evidence kinds
    of the records read. A profile that names a rule the run does not have, or one that requires
    an evidence kind (which ``requires`` governs), is a usage error."""
    meta = {rule.id: rule for rule in rules}
    exempt = dict(profile.not_applicable)
    for rule_id in sorted(exempt):
        if rule_id not in meta:
            raise UsageError(
                f"release profile {profile.name}: not_applicable names a rule this run does not have"
            )
        if meta[rule_id].requires:
            raise UsageError(
                f"release profile {profile.name}: not_applicable names {rule_id}, which requires evidence kinds",
                hint="leave its kinds out of requires instead",
            )
    present = set(given)
    out: list[RuleResult] = []
    for result in results:
        rule = meta.get(result.rule_id)
        kinds = {k.value for k in rule.requires} if rule is not None else set()
        wanted = {k.value for k in profile.requires}
        if kinds and not kinds & wanted:
            if result.outcome is Outcome.INSUFFICIENT_EVIDENCE and not kinds & present:
                why = (
                    f"release profile {profile.name} does not require {', '.join(sorted(kinds))} evidence "
                    "and none was given"
                )
                out.append(
                    replace(result, outcome=Outcome.NOT_APPLICABLE, reason=why, waiver=None, waived=())
                )
                continue
        elif not kinds and result.rule_id in exempt:
            if result.outcome is Outcome.INSUFFICIENT_EVIDENCE:
                why = f"release profile {profile.name}: {exempt[result.rule_id]}"
                out.append(
                    replace(result, outcome=Outcome.NOT_APPLICABLE, reason=why, waiver=None, waived=())
                )
                continue
        absent = sorted(kinds & wanted - present)
        # Only a pass or a warning is overruled: a rule not applicable here (an environment it
        # does not judge), waived, or already blocking keeps its outcome.
        if absent and result.outcome in (Outcome.PASS, Outcome.WARN):
            message = Violation(
                f"release profile {profile.name} requires {', '.join(absent)} evidence and none was given: "
                "add the tool's output to the evidence folder",
                (),
            )
            out.append(
                replace(
                    result,
                    outcome=Outcome.INSUFFICIENT_EVIDENCE,
                    reason=f"required by release profile {profile.name}",
                    missing=(*result.missing, message),
                    waiver=None,
                    waived=(),
                )
            )
            continue
        out.append(result)
    return out
