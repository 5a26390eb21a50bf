"""The policy stage: Rego policies judge normalised evidence.

- ``interface``: ``PolicyEngine`` (evaluation only: modules, input, rule paths, clock -> values),
  which an in-process engine and a remote OPA server implement alike, and ``PolicyModule``;
- ``engines``: ``regorus`` (the default, in-process; also the parser ``analysis`` uses and the
  session ``policy test`` runs on) and ``extensions`` (built-ins supplied from Python: pinned
  ``time.now_ns``, disabled ``http.send``, ``crypto.*``, ...);
- ``analysis``: static checks on the policy text (module facts, unknown built-ins, METADATA, the
  rule catalogue), whatever engine evaluates;
- ``metadata``: ``# METADATA`` annotation blocks, parsed and validated;
- ``loader``: ``load_policy_set`` (files, then ``analysis``) -> ``PolicySet``;
- ``params``: rule data per environment (``input.context.params``);
- ``evaluate``: ``evaluate(policy_set, evidence, context, engine)`` -> one ``RuleResult`` per rule;
- ``waivers``: typed ``Waiver``s (``affidavit.model.waiver``) applied to a rule's outcome;
- ``testing``: ``run_policy_tests`` behind ``affidavit policy test`` (with Rego line coverage).

Import the submodules directly; this package imports nothing so that ``import affidavit.policy``
stays cheap.
"""
