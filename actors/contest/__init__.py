"""The 1v1 contest room: rules, scoring and the room actor, free of Ray, HTTP and SQL."""
