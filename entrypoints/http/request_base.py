"""The base of every request body: frozen, and unknown fields are refused."""

from __future__ import annotations

import msgspec


class Request(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    pass
