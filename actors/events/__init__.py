"""Events from actors to the fronts that hold sockets for them: one interface, two transports."""
