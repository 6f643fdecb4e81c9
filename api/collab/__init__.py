"""Collaborative editing (PeerPrep collab-service): REST on the session actors, and their
documents over Hocuspocus and y-websocket sockets (api/collab/ws)."""
