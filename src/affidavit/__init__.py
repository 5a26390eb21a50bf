"""affidavit: turn release artefacts into a compliance decision and a verifiable evidence bundle."""

__version__ = "0.1.0"

from affidavit import codecache as _codecache  # noqa: E402  (after the version: nothing else is defined)

_codecache.install()  # before any class of affidavit is defined
