"""``serve --workers N``: uvicorn's worker processes on one listening socket that
asks for TCP_NODELAY on every connection.

uvicorn binds the shared socket as ``socket.socket(family)``, whose protocol number
is 0; every connection accepted from it inherits that 0, and asyncio only turns
Nagle's algorithm off (TCP_NODELAY) on sockets whose protocol is ``IPPROTO_TCP``. A
response written in two pieces (head, then body) then waits for the client's delayed
ACK: about 40 ms per request on Linux, which capped two workers at ~360 requests/s
where one process did 7,000. The listening socket here is rebuilt with
``IPPROTO_TCP``, so what it accepts gets TCP_NODELAY as a single process's does.
"""

from __future__ import annotations

import socket
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess


def tcp_listener(config: uvicorn.Config) -> socket.socket:
    """uvicorn's listening socket for ``config``, its protocol set to TCP."""
    sock = config.bind_socket()
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto:
        return sock
    tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    tcp.set_inheritable(True)
    return tcp


def serve_workers(app: str, workers: int, **options: Any) -> None:
    """Run ``workers`` processes of the app factory ``app`` ("module:function")."""
    config = uvicorn.Config(app, factory=True, workers=workers, **options)
    Multiprocess(config, sockets=[tcp_listener(config)]).run()
