"""Matchmaking (PeerPrep matching-service): REST to the pool actor, match news as SSE."""
