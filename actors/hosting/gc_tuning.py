"""The Python garbage collector's settings for a long-running server process (a front, a host).

CPython starts a young collection every 700 new container objects. A server keeps many
objects for a fraction of a second (a relayed frame waiting for its actor, a reply on its way),
which then survive two young collections into the old generation; the old generation's full
collections, which walk every live object, then came every few seconds under collab load,
each a stop of the whole front. A higher young threshold lets such
objects die young. Freezing what start-up built (imports, Ray's state) keeps it out of every
later collection.
"""

from __future__ import annotations

import gc


def settle_heap(young_threshold: int) -> None:
    """Freeze what the process holds now and start young collections every `young_threshold` objects."""
    gc.collect()
    gc.freeze()
    _, young_collections_per_old, old_collections_per_full = gc.get_threshold()
    gc.set_threshold(young_threshold, young_collections_per_old, old_collections_per_full)
