"""Questions, topics and languages (PeerPrep question-service)."""
