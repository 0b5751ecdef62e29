"""How deeply a JSON body nests, measured before it is decoded for real.

The decoders recurse: 100,000 nested arrays make them raise ``RecursionError``, and no
body this service accepts nests more than a few levels. A body is measured on its
bytes at C speed: one decode, bounded by the decoder's own recursion limit, proves it
is JSON (so its strings are well formed), the strings are cut out (their brackets do
not nest), and the innermost bracket pairs are peeled off once per level.
"""

from __future__ import annotations

import re

import msgspec

MAX_DEPTH = 64
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_AS_PARENS = bytes.maketrans(b"[]{}", b"()()")


def too_deep_or_not_json(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when ``body`` nests deeper than ``limit`` or would stop the decoder."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    try:
        msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return True
    brackets = _STRING.sub(b"", body).translate(_AS_PARENS, _NOT_BRACKETS)
    for _ in range(limit):
        brackets = brackets.replace(b"()", b"")
        if not brackets:
            return False
    return True
