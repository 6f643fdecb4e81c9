"""Request models of the matching API (PeerPrep matching-service), with the seed's examples."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

Criteria = str | list[str]


class MatchRequestIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"userId": "user123", "languageIn": "JavaScript", "difficultyIn": "Easy", "topicIn": "Algorithms",
                 "ttlMs": 300000}
            ]
        }
    )  # fmt: skip

    userId: str = Field(max_length=32)
    languageIn: Criteria
    difficultyIn: Criteria
    topicIn: Criteria
    ttlMs: int | None = Field(None, ge=1000)

    @field_validator("languageIn", "difficultyIn", "topicIn")
    @classmethod
    def _as_list(cls, value: Criteria) -> list[str]:
        values = [value] if isinstance(value, str) else value
        values = [item.strip() for item in values if isinstance(item, str) and item.strip()]
        if not values or len(values) > 32 or any(len(item) > 64 for item in values):
            raise ValueError("give 1 to 32 non-empty values of at most 64 characters")
        return values


class UserIdIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"userId": "user123"}]})

    userId: str = Field(max_length=32)


class SignalIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"roomId": "room789"}]})

    roomId: str = Field("", max_length=64)
