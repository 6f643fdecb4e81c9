"""Attempts (PeerPrep attempt-service): what two users solved together in a collab session."""
