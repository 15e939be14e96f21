"""Serve the demo world until killed: ``python -m github_emulator --port 8765``.

Prints the endpoint URL on stdout (one flushed line) once it accepts requests, so a
parent process can read it; everything else goes to logging (stderr).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from .generate import build_world
from .server import EmulatorServer


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m github_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default loopback)")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=0, help="world seed (default 0)")
    parser.add_argument(
        "--token", action="append", help="accepted token, repeatable (default emulator-token)"
    )
    parser.add_argument("--any-token", action="store_true", help="accept any non-empty token")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    tokens = None if args.any_token else set(args.token or ["emulator-token"])
    server = EmulatorServer(build_world(args.seed), tokens=tokens, host=args.host, port=args.port)
    done = threading.Event()
    # SIGTERM (docker stop, Popen.terminate) and SIGINT (Ctrl-C; set explicitly because a
    # shell's background job inherits SIGINT ignored) both end the process cleanly.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    server.start()
    print(server.url, flush=True)
    try:
        while not done.wait(0.5):  # a timed wait lets the signal handlers run promptly
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
