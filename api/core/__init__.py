"""What every feature of the front uses: the process-wide services, FastAPI dependencies
(caller, database session), the error model, tokens and passwords, the shared OpenAPI pieces,
and the way to the actor runtime."""
