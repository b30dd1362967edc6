"""CodySkool: a browser IDE that runs each program in a fresh, locked-down sandbox.

Nothing is imported here, so that `python -m codyskool` can prepare the async mode (eventlet's
monkey patching) before Flask, Socket.IO or the Docker client are loaded. The factory lives in
``codyskool.app``.
"""

from typing import Any


def create_app(*args: Any, **kwargs: Any) -> Any:
    from .app import create_app as factory

    return factory(*args, **kwargs)
