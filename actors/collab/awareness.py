"""Awareness updates encoded as lib0 does it.

pycrdt 0.14's `Awareness.encode_awareness_update` writes each state's JSON with
`Encoder.write_var_string`, which prefixes the *character* count; lib0 reads a *byte*
count, so a state holding non-ASCII text ("Zoë") breaks every JavaScript client. This
encoder writes the byte count.
"""

from __future__ import annotations

import json

from pycrdt import Awareness, write_var_uint


def var_string(text: str) -> bytes:
    data = text.encode()
    return write_var_uint(len(data)) + data


def encode_awareness_update(awareness: Awareness, client_ids: list[int]) -> bytes:
    """The update for these clients' current states (`null` for those that left)."""
    parts = [write_var_uint(len(client_ids))]
    for client_id in client_ids:
        state = awareness.states.get(client_id)
        parts.append(write_var_uint(client_id))
        parts.append(write_var_uint(awareness.meta.get(client_id, {}).get("clock", 0)))
        parts.append(var_string(json.dumps(state, separators=(",", ":"), ensure_ascii=False)))
    return b"".join(parts)
