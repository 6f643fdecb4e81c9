"""Each actor kind's store (the Protocol beside its actor) over SQLAlchemy; one per host process.

The only part of `actors/` that knows SQL: the actors take these as plain objects, and
`actors/kinds.py` wires them. The reads the front serves directly stay in `persistence/`.
"""
