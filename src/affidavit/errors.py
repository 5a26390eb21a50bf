"""The one root exception of affidavit and its families.

Every error carries a message a person can act on: ``diagnostics()`` says what went wrong and,
where we know, what to do about it. The library never prints and never exits; ``affidavit.cli``
turns these into messages on stderr and exit codes in one place.

This module imports nothing from the rest of the package.
"""

from __future__ import annotations


class Error(Exception):
    """Root of every error affidavit raises on purpose."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def diagnostics(self) -> str:
        """A human-readable explanation, with the fix when one is known."""
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class UsageError(Error):
    """The command was called wrongly (exit code 2)."""


class InputError(Error):
    """An artefact could not be read or understood (the run cannot complete: exit code 3).

    ``source`` names the file (or URL) and ``path`` the place inside it (a JSON path such as
    ``$.Results[3].Vulnerabilities``) when the problem is local to one place.
    """

    def __init__(
        self,
        source: str,
        message: str,
        *,
        path: str | None = None,
        hint: str | None = None,
        kind: str | None = None,
    ) -> None:
        self.source = source
        self.path = path
        self.detail = message
        self.kind = kind
        where = f"{source}: {path}: " if path else f"{source}: "
        super().__init__(where + message, hint=hint)


class UnknownFormatError(InputError):
    """The artefact is readable but is not a format affidavit knows."""


class VerificationError(Error):
    """A cryptographic check could not be carried out (not: it failed; failures are values)."""


class PolicyError(Error):
    """A policy could not be loaded: syntax error, bad METADATA, unknown built-in."""


class ControlMatrixError(Error):
    """A control matrix is malformed or names a rule that does not exist."""


class EngineError(Error):
    """The Rego engine failed outside of any one rule."""


class BundleError(Error):
    """An evidence bundle is missing, malformed or does not match its manifest."""


class ResultsError(Error):
    """A results document (``results.json``) is not a well-formed ``affidavit.results/v1``."""
