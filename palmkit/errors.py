"""The one base class of the mistakes a person can fix: ``UserError``.

A ``UserError`` (missing input, existing output, a folder of the wrong stage, a bad option value,
bad YAML, a model file that is not a model) ends a ``palmkit`` command with exit code 2 and its
message on one line (``palmkit COMMAND: error: ...``); ``--debug`` shows the traceback. Every
other exception is a bug or a genuine failure and keeps its traceback.

Bad *data* is never a ``UserError``: a record that cannot be used is a ``Reject`` with a reason,
and the job goes on. Pure Python, no Beam, no JAX: every side raises these.
"""

from __future__ import annotations


class UserError(ValueError):
    """A mistake in how a command was called; the message says what is wrong and what to do."""
