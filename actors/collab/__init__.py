"""Collaborative editing sessions: one pycrdt document per session, owned by its actor."""
