"""Scopes a credential carries and the scopes each role grants."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from cift.core.errors import ValidationError
from cift.db.models import Role


class Scope(StrEnum):
    """What a request may do: look, trade (start runs, place orders), administer."""

    READ = "read"
    TRADE = "trade"
    ADMIN = "admin"


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.VIEWER: frozenset({Scope.READ}),
    Role.TRADER: frozenset({Scope.READ, Scope.TRADE}),
    Role.ADMIN: frozenset({Scope.READ, Scope.TRADE, Scope.ADMIN}),
}
"""A role grants these scopes; an API key carries at most its owner's."""


def parse_scopes(values: Iterable[str]) -> frozenset[Scope]:
    """Scope names (``"read"``, ``"trade"``, ``"admin"``) as a set; unknown names fail."""
    scopes = set()
    for raw in values:
        name = raw.strip().lower()
        if not name:
            continue
        try:
            scopes.add(Scope(name))
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise ValidationError(f"Unknown scope {raw!r}; use one of: {known}.") from None
    if not scopes:
        raise ValidationError("Give at least one scope: read, trade or admin.")
    return frozenset(scopes)


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise ValidationError(f"Unknown role {value!r}; use one of: {known}.") from None


def sorted_scopes(scopes: Iterable[Scope]) -> list[str]:
    """Scopes in their canonical order (read, trade, admin)."""
    order = list(Scope)
    return [s.value for s in sorted(set(scopes), key=order.index)]
