"""Control matrices (SOC 2, ISO 27001:2022), the crosswalk between them, and control status.

``loader`` reads and checks the matrix files, ``validate`` checks them against the rules'
METADATA, ``status`` turns rule results into control statuses and ``listing`` is what
``affidavit controls`` shows. This package knows rules only by id; it never imports the policy
layer, the reporter or the CLI.
"""
