"""The quarterly audit export (issue 13): a period of the run history, for an auditor.

``write.export_period`` reads every run of a period from the store, oldest first and one at a
time (``source``), and writes a folder: the population and its hash, per control of one framework
the rules that test it and its status on each day, the waiver and policy change ledgers
(``build``), a sample drawn by a recorded seed (``sample``), a Merkle tree over the population with
an inclusion proof per run (``merkle``), the report (``markdown``), ``SHA256SUMS`` and, with a key,
its signature and a DSSE envelope. ``verify`` checks a folder, or one run's proof, offline.
"""
