"""Password hashing with Argon2id and the password policy.

Hashes are PHC strings (``$argon2id$v=19$m=...,t=...,p=...$salt$hash``) that carry
their own parameters, so a hash made with older parameters still verifies and is
replaced at the next successful login.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from cift.core.errors import ValidationError
from cift.core.settings import Settings

MAX_PASSWORD_LENGTH = 1024
"""Longer inputs are refused before hashing, so no one can make the server hash megabytes."""
MIN_DISTINCT_CHARACTERS = 5


def hasher(settings: Settings) -> PasswordHasher:
    """The Argon2id hasher for the configured cost parameters."""
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


def hash_password(settings: Settings, password: str) -> str:
    return hasher(settings).hash(password)


def verify_password(settings: Settings, stored_hash: str, password: str) -> bool:
    """True when ``password`` matches; a malformed or locked hash matches nothing."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return hasher(settings).verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(settings: Settings, stored_hash: str) -> bool:
    """Whether ``stored_hash`` was made with other parameters than the configured ones."""
    try:
        return hasher(settings).check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return True


def check_policy(settings: Settings, password: str, *, username: str, email: str) -> None:
    """Refuse passwords that are too short, too long, repetitive or built from the name."""
    if len(password) < settings.password_min_length:
        raise ValidationError(
            f"The password has {len(password)} characters; use at least "
            f"{settings.password_min_length} (a passphrase of several words works well)."
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(f"The password is longer than {MAX_PASSWORD_LENGTH} characters.")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise ValidationError(
            f"The password uses fewer than {MIN_DISTINCT_CHARACTERS} different characters; "
            "choose one that is harder to guess."
        )
    lowered = password.lower()
    for part in (username.lower(), email.lower().partition("@")[0]):
        if len(part) >= 3 and part in lowered:
            raise ValidationError("The password must not contain the username or e-mail name.")
