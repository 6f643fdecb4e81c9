"""The 1v1 contest (seed 001): REST on the room actors, and their live feeds over STOMP/SockJS
(api/contest/stomp)."""
