"""Your API keys: list, create (the key is shown once), inspect, revoke."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from cift.identity import keys
from cift.identity.scopes import parse_scopes

from ..deps import State
from ..middleware.auditing import audits_itself
from ..schemas.keys import KeyCreate, KeyCreated, KeyOut
from ..schemas.problem import Problem
from ..security import ReadAccess, SignedIn, actor_of
from . import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/keys", tags=["api keys"])


@router.get("", summary="Your API keys")
def list_keys(state: State, who: ReadAccess) -> list[KeyOut]:
    """Prefix, scopes, expiry, last use and revocation of each key; never the key."""
    return [KeyOut.model_validate(k) for k in keys.list_keys(state.db, who.user_id)]


@router.post(
    "",
    summary="Create an API key",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"model": Problem, "description": "You have a key with this name."}},
)
def create_key(state: State, request: Request, who: SignedIn, body: KeyCreate) -> KeyCreated:
    """Scopes are at most your role's. The answer holds the key: store it, it is not
    shown again."""
    audits_itself(request)
    key, plaintext = keys.create_key(
        state.db,
        actor_of(request, who),
        who.user_id,
        body.name,
        parse_scopes(body.scopes),
        body.expires_at,
    )
    return KeyCreated(**KeyOut.model_validate(key).model_dump(), key=plaintext)


@router.get("/{key_id}", summary="One of your API keys")
def get_key(state: State, who: ReadAccess, key_id: uuid.UUID) -> KeyOut:
    return KeyOut.model_validate(keys.get_key(state.db, key_id, who.user_id))


@router.delete("/{key_id}", summary="Revoke one of your API keys")
def revoke_key(state: State, request: Request, who: SignedIn, key_id: uuid.UUID) -> KeyOut:
    """The key stops working with the next request."""
    audits_itself(request)
    key = keys.revoke_key(state.db, actor_of(request, who), key_id, who.user_id)
    return KeyOut.model_validate(key)
