"""Peer matchmaking: the waiting queue with its indexes, and the pool actor around it."""
