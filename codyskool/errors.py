"""Every error the server tells a person about, in one small taxonomy.

A ``CodySkoolError``'s message is shown as it is, so it is written for the person who sent the
request; anything else that goes wrong is logged with its traceback and answered with a generic
message. The web layer maps the taxonomy in one place each: ``refused`` in ``app.py`` for HTTP,
``refuse`` in ``sockets.py`` for Socket.IO.

A program that fails (a syntax error, a crash, a timeout) is not an error here: it is a run like
any other, and its ``exit`` says how it ended.
"""

from __future__ import annotations


class CodySkoolError(Exception):
    """The root: an error whose message is meant for the person who made the request."""

    status = 500


class BadRequest(CodySkoolError):
    """The request cannot be used as it is: a missing field, an unknown language, a bad name."""

    status = 400


class TooLarge(BadRequest):
    """The request is over a size limit (the program, its input, a line typed at a prompt)."""

    status = 413


class Busy(CodySkoolError):
    """Turned away for the server's sake: too many runs, too fast, too many connections."""

    status = 429


class SandboxFailed(CodySkoolError):
    """The sandbox could not do its part (could not start, crashed). The message is for the log;
    ``user_message`` is what the person is told."""

    status = 503
    user_message = "The sandbox failed to run the program. Please try again."


class ConfigError(CodySkoolError):
    """A setting that cannot be used; start-up stops with this message."""
