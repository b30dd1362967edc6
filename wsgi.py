"""WSGI entry point for servers other than `python -m codyskool serve`.

The async mode must be prepared before the app (and the Docker client) is imported.
"""

from codyskool.concurrency import prepare_async_mode

prepare_async_mode()

from codyskool.app import create_app  # noqa: E402
from codyskool.startup import start  # noqa: E402

app = create_app()
start(app)
