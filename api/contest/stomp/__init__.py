"""`/ws`'s wire layer: SockJS transports, STOMP 1.2 frames and one STOMP connection's
protocol, served for a `StompApplication` (api/contest/feeds.py)."""
