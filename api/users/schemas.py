"""Request and response models of the users API (PeerPrep user-service)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_serializer

from actors.clock import iso_utc as iso

Username = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
]
Password = Annotated[str, StringConstraints(min_length=3, max_length=1024)]


class RegisterRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"username": "johndoe", "email": "johndoe@example.com", "password": "mySecureP@ssw0rd"}]
        },
    )

    username: Username
    email: EmailStr
    password: Password


class LoginRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "johndoe@example.com", "password": "mySecureP@ssw0rd"}]}
    )

    email: EmailStr
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class UpdateUserRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "currentPassword": "oldPass123",
                    "newPassword": "newPass456",
                    "newEmail": "newmail@example.com",
                    "newUsername": "newusername",
                }
            ]
        },
    )

    currentPassword: Annotated[str, StringConstraints(max_length=1024)] | None = None
    newPassword: Password | None = None
    newEmail: EmailStr | None = None
    newUsername: Username | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "42",
                    "username": "johndoe",
                    "email": "johndoe@example.com",
                    "isAdmin": False,
                    "createdAt": "2025-11-04T15:23:00.000Z",
                    "updatedAt": "2025-11-04T15:23:00.000Z",
                }
            ]
        }
    )

    id: str = Field(description="User id, rendered as a string as the PeerPrep seed does")
    username: str
    email: str
    isAdmin: bool
    createdAt: datetime
    updatedAt: datetime

    @field_serializer("createdAt", "updatedAt")
    def _iso(self, value: datetime) -> str:
        return iso(value)

    @classmethod
    def of(cls, user) -> UserOut:
        return cls(
            id=str(user.id),
            username=user.username,
            email=user.email,
            isAdmin=user.is_admin,
            createdAt=user.created_at,
            updatedAt=user.updated_at,
        )


class PublicUserOut(BaseModel):
    """Another user's profile: what `UserOut` shows without the private fields (the email)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": "42", "username": "johndoe", "isAdmin": False, "createdAt": "2025-11-04T15:23:00.000Z",
                 "updatedAt": "2025-11-04T15:23:00.000Z"}
            ]
        }
    )  # fmt: skip

    id: str
    username: str
    isAdmin: bool
    createdAt: datetime
    updatedAt: datetime

    @field_serializer("createdAt", "updatedAt")
    def _iso(self, value: datetime) -> str:
        return iso(value)

    @classmethod
    def of(cls, user) -> PublicUserOut:
        return cls.model_validate(UserOut.of(user).model_dump(exclude={"email"}))


class UpdatedUserOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": "42", "username": "newusername", "email": "newmail@example.com", "isAdmin": False}]
        }
    )

    id: str
    username: str
    email: str
    isAdmin: bool


class TokenOut(BaseModel):
    """Seed 001's dev login answer."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"token": "eyJhbGciOiJIUzI1NiJ9..."}]})

    token: str
