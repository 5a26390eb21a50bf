"""The policy stage: Rego policies judge normalised evidence.

- ``interface``: the small ``PolicyEngine`` interface and the value types that cross it;
- ``engine``: ``RegorusEngine``, the default in-process engine, and ``extensions`` (built-ins
  supplied from Python: pinned ``time.now_ns``, disabled ``http.send``, ``crypto.*``, ...);
- ``metadata``: ``# METADATA`` annotation blocks, parsed and validated;
- ``loader``: ``load_policy_set`` (files, METADATA, load-time checks) -> ``PolicySet``;
- ``params``: rule data per environment (``input.context.params``);
- ``evaluate``: ``evaluate(policy_set, evidence, context)`` -> one ``RuleResult`` per rule;
- ``testing``: ``run_policy_tests`` behind ``affidavit policy test``.

Import the submodules directly; this package imports nothing so that ``import affidavit.policy``
stays cheap.
"""
