"""affidavit: turn release artefacts into a compliance decision and a verifiable evidence bundle."""

__version__ = "0.1.0"
