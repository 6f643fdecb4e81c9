"""The collab sockets' wire layer: Hocuspocus and y-websocket framing and one connection's
protocol, served for a `CollabApplication` (api/collab/documents.py)."""
