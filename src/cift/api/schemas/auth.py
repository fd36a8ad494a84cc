"""Sign-in, token refresh, password change and the caller's own account."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cift.identity.passwords import MAX_PASSWORD_LENGTH


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=320, description="Username or e-mail.")
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(
        min_length=1, max_length=200, description="The refresh token of the last login or refresh."
    )


class TokenResponse(BaseModel):
    """A new access token and the refresh token that replaces the one used."""

    access_token: str = Field(description="Send as 'Authorization: Bearer <access_token>'.")
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth 2 token type
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(description="Single use: each refresh returns a new one.")
    refresh_expires_at: datetime


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    new_password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class SignupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    full_name: str | None = Field(None, max_length=200)


class Me(BaseModel):
    """The caller: who, which role, and what the credential in use may do."""

    id: uuid.UUID
    username: str
    email: str
    full_name: str | None
    role: str = Field(description="admin, trader or viewer.")
    scopes: list[str] = Field(description="Scopes of the credential in use.")
    credential: Literal["session", "api_key"]
