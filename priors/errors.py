"""Errors raised for bad prior input: one line that names the file and the key."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input anywhere in the engine; the CLI prints it as one line and exits 2."""


class PriorError(InputError):
    """A prior file, prior name or prior spec that cannot be used.

    ``str(err)`` is ``"<file>: <key>: <message>"`` with the parts that are known.
    """

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None):
        self.message, self.source, self.key = message, source, key
        super().__init__(": ".join(part for part in (source, key, message) if part))

    def located(self, *, source: str | None = None, key: str | None = None) -> PriorError:
        """The same error with the file and key filled in where they were unknown."""
        return PriorError(self.message, source=self.source or source, key=self.key or key)
