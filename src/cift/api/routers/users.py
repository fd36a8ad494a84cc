"""Administration of users: list, create, inspect, change role, disable."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from cift.identity import users

from ..deps import State
from ..middleware.auditing import audits_itself
from ..schemas.problem import Problem
from ..schemas.users import UserCreate, UserOut, UserPatch
from ..security import AdminAccess, actor_of
from . import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/users", tags=["users"])


@router.get("", summary="Every user")
def list_users(state: State, who: AdminAccess) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in users.list_users(state.db)]


@router.post(
    "",
    summary="Create a user",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"model": Problem, "description": "The username or e-mail is taken."}},
)
def create_user(state: State, request: Request, who: AdminAccess, body: UserCreate) -> UserOut:
    """The password must meet the policy (CIFT_PASSWORD_MIN_LENGTH and more)."""
    audits_itself(request)
    user = users.create_user(
        state.db,
        state.settings,
        actor_of(request, who),
        username=body.username,
        email=body.email,
        password=body.password,
        role=body.role,
        full_name=body.full_name,
    )
    return UserOut.model_validate(user)


@router.get("/{user_id}", summary="One user")
def get_user(state: State, who: AdminAccess, user_id: uuid.UUID) -> UserOut:
    return UserOut.model_validate(users.get_user(state.db, user_id))


@router.patch("/{user_id}", summary="Change a user's role or disable them")
def update_user(
    state: State, request: Request, who: AdminAccess, user_id: uuid.UUID, body: UserPatch
) -> UserOut:
    """A disabled user's sessions and keys stop working at once."""
    audits_itself(request)
    actor = actor_of(request, who)
    if body.role is not None:
        users.set_role(state.db, actor, user_id, body.role)
    if body.active is not None:
        users.set_active(state.db, actor, user_id, body.active)
    return UserOut.model_validate(users.get_user(state.db, user_id))
