"""`scripts/loadtest`: many simulated users against a running server, with a report of what they saw.

N contest rooms (two players each: login, create, join, start, STOMP subscribe, submissions on a
cadence with a mix of right and wrong code, end), M collab sessions (two editors each, Hocuspocus
or y-websocket) and K matchmaking users (SSE), all at once in one asyncio process, bounded in
count and in time. A live progress line while it runs; at the end rooms/s, requests/s, push,
relay and match latency percentiles, errors by kind and the server's memory and CPU, printed and
written as report.txt, report.json and report.png.
"""
