"""Responses made from application results by field name, with msgspec."""

from __future__ import annotations

from typing import TypeVar

import msgspec

Out = TypeVar("Out", bound=msgspec.Struct)


def convert(result: object, kind: type[Out], **derived: object) -> Out:
    """``result`` shown as ``kind``: each field read from ``result`` by name, except
    the ``derived`` ones given here (formatted money, values from elsewhere).

    Fields of ``result`` that ``kind`` does not declare are never shown.
    """
    if not derived:
        return msgspec.convert(result, kind, from_attributes=True)
    fields = {
        name: derived[name] if name in derived else getattr(result, name)
        for name in kind.__struct_fields__
    }
    return msgspec.convert(fields, kind)
