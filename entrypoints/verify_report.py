"""What ``creditline ledger verify`` prints: one line per offence, or JSON for machines.

The JSON keeps the shape it had before lots were checked (``ok`` and ``mismatches``,
the balance offences) and adds ``lot_mismatches``, so existing scripts keep working.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from domain.ledger import BalanceMismatch
from domain.ledger_checks import LedgerMismatch, LotMismatch


def as_json(found: Sequence[LedgerMismatch]) -> dict[str, Any]:
    balances, lots = _split(found)
    return {
        "ok": not found,
        "mismatches": [asdict(m) for m in balances],
        "lot_mismatches": [{**asdict(m), "expected_unspent": m.expected_unspent} for m in lots],
    }


def as_lines(found: Sequence[LedgerMismatch]) -> list[str]:
    balances, lots = _split(found)
    if not found:
        return [
            "ledger verify: every balance equals the sum of its entries, "
            "and its lots hold exactly its spendable credits"
        ]
    lines = [f"MISMATCH user={m.user_id} cached={m.cached} summed={m.summed}" for m in balances]
    for m in lots:
        lines.append(
            f"LOTS user={m.user_id} unspent={m.unspent} expected={m.expected_unspent} "
            f"summed={m.summed}"
        )
        lines += [
            f"  OVERCONSUMED user={m.user_id} lot={lot.lot_entry_id} credits={lot.credits} "
            f"allocated={lot.allocated} remaining={lot.remaining}"
            for lot in m.over_consumed
        ]
    lines.append(
        f"ledger verify: {len(balances)} account(s) differ from their entries, "
        f"{len(lots)} account(s) have lots that differ"
    )
    return lines


def _split(found: Sequence[LedgerMismatch]) -> tuple[list[BalanceMismatch], list[LotMismatch]]:
    balances = [m for m in found if isinstance(m, BalanceMismatch)]
    lots = [m for m in found if isinstance(m, LotMismatch)]
    return balances, lots
