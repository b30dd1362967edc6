"""`python -m codyskool serve`: start the server (eventlet's WSGI server by default)."""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import socket
import sys

from .concurrency import prepare_async_mode


def is_loopback(host: str) -> bool:
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
    except (OSError, ValueError):
        return False


def url_length_limit(code_bytes: int) -> int:
    """Room in a request line for /embed?code=... with a program at the size limit, percent-encoded."""
    return 3 * code_bytes + 4096


def eventlet_options(config: dict, code_limit_bytes: int) -> dict:
    """eventlet's WSGI server as this server runs it (docs/security.md, "The server's thread")."""
    from .patches import guarded_protocol

    per_client = 0 if config["TRUST_PROXY"] else config["MAX_SOCKETS_PER_IP"]
    return {
        "url_length_limit": url_length_limit(code_limit_bytes),  # eventlet's default is 8 KB
        "max_size": config["MAX_SOCKETS"],
        "protocol": guarded_protocol(config["HEADER_TIMEOUT_S"], per_client),
        "keepalive": config["HEADER_TIMEOUT_S"],  # an idle kept-alive connection waits this long
        "debug": False,  # a failed request is answered 500 without its traceback
    }


def serve() -> None:
    prepare_async_mode()
    from .app import create_app
    from .errors import ConfigError, SandboxFailed
    from .extensions import socketio
    from .startup import start

    try:
        app = create_app()
    except (ConfigError, SandboxFailed) as error:
        sys.exit(f"codyskool: {error}")
    service = start(app)
    host, port = app.config["HOST"], app.config["PORT"]
    if service.backend.name == "local" and not is_loopback(host) and not app.config["ALLOW_PUBLIC_LOCAL"]:
        sys.exit(
            f"codyskool: refusing to serve the local backend on {host}: it is not a real sandbox. "
            "Use Docker, or set CODYSKOOL_ALLOW_PUBLIC_LOCAL=1 if you accept the risk."
        )

    def close_and_exit() -> None:
        service.backend.close()
        logging.shutdown()
        os._exit(0)

    # The handler may interrupt any greenlet: it only schedules the shut-down as a task of its own.
    signal.signal(signal.SIGTERM, lambda *_: socketio.start_background_task(close_and_exit))
    print(f"CodySkool on http://{host}:{port}/ (sandbox backend: {service.backend.name})", flush=True)
    server_options = {}
    if app.config["ASYNC_MODE"] == "eventlet":
        server_options = eventlet_options(app.config, service.limits.code_limit_bytes)
    try:
        socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True, log_output=False,
                     **server_options)
    finally:
        service.backend.close()


def print_options() -> None:
    """The settings as a Markdown table (the README's configuration section is made from it)."""
    from .config import OPTIONS

    print("| Variable | Default | Meaning |\n|---|---|---|")
    for option in OPTIONS:
        default = option.default
        if isinstance(default, dict):
            default = ",".join(f"{key}={value}" for key, value in default.items())
        elif isinstance(default, tuple):
            default = " ".join(default)
        elif option.name == "DATA_DIR":
            default = "data/ in the project"
        print(f"| `{option.env}` | `{default}` | {option.help} |")


COMMANDS = {"serve": serve, "options": print_options}


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    if command not in COMMANDS:
        sys.exit("usage: python -m codyskool [serve | options]")
    COMMANDS[command]()


if __name__ == "__main__":
    main()
