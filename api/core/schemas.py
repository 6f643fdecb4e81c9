"""Models shared by several routers."""

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    message: str


class DeletedMessage(BaseModel):
    message: str
    deleted: bool


class ErrorBody(BaseModel):
    """Every error response: `{"error": message}`, validation errors add `details`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"error": "Room not found"}]})

    error: str
    details: list[dict] | None = None


ERROR_RESPONSES = {status: {"model": ErrorBody} for status in (400, 401, 403, 404, 409, 413, 429, 500)}
