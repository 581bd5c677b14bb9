"""One server process of `bench.harness.served`: `python -m bench.serve APP FD`.

uvicorn's own `--fd` takes the descriptor for a Unix socket, so asyncio leaves Nagle's
algorithm on for the TCP connections it accepts: a response written in two parts then waits
for the client's delayed acknowledgement, 40 ms on Linux, and every request took at least that.
Here the socket is opened as what it is (its family read from the descriptor).
"""

from __future__ import annotations

import socket
import sys

import uvicorn


def main() -> None:
    app, fd = sys.argv[1], int(sys.argv[2])
    sock = socket.socket(fileno=fd)
    config = uvicorn.Config(app, access_log=False, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
