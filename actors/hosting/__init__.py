"""Hosting virtual actors on Ray: placement, host actors, the directory and the front's client."""
