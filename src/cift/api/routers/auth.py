"""Sign in, refresh, sign out, change the password, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from cift.core.errors import PermissionDeniedError
from cift.db.models import Role
from cift.identity import tokens, users
from cift.identity.scopes import ROLE_SCOPES
from cift.identity.tokens import TokenPair

from ..deps import State
from ..middleware.auditing import audits_itself
from ..schemas.auth import (
    LoginRequest,
    Me,
    PasswordChange,
    RefreshRequest,
    SignupRequest,
    TokenResponse,
)
from ..schemas.problem import Problem
from ..security import AuthAttempt, ReadAccess, SignedIn, actor_of
from ..services.identity import account, me
from . import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/auth", tags=["auth"])


def _tokens(pair: TokenPair) -> TokenResponse:
    return TokenResponse(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
        refresh_expires_at=pair.refresh_expires_at,
    )


@router.post(
    "/login",
    summary="Sign in with a password",
    dependencies=[AuthAttempt],
    responses={401: {"model": Problem, "description": "Wrong credentials or a locked account."}},
)
def login(state: State, request: Request, body: LoginRequest) -> TokenResponse:
    """A short-lived access token and a single-use refresh token. Repeated failures lock
    the account for a while (CIFT_LOGIN_MAX_FAILURES, CIFT_LOCKOUT_MINUTES)."""
    audits_itself(request)
    who = actor_of(request)
    user = users.login(state.db, state.settings, who, body.username, body.password)
    agent = request.headers.get("user-agent")
    return _tokens(tokens.start_session(state.db, state.settings, who, user, agent))


@router.post(
    "/refresh",
    summary="Swap a refresh token for new tokens",
    dependencies=[AuthAttempt],
    responses={401: {"model": Problem, "description": "Invalid, expired or reused token."}},
)
def refresh(state: State, request: Request, body: RefreshRequest) -> TokenResponse:
    """Each refresh token works once. Using one twice revokes the whole login."""
    audits_itself(request)
    agent = request.headers.get("user-agent")
    pair = tokens.refresh(state.db, state.settings, actor_of(request), body.refresh_token, agent)
    return _tokens(pair)


@router.post("/logout", summary="Sign out", status_code=status.HTTP_204_NO_CONTENT)
def logout(state: State, request: Request, who: SignedIn) -> Response:
    """Revoke this login: its access and refresh tokens stop working at once."""
    audits_itself(request)
    if who.family_id is not None:
        tokens.logout(state.db, actor_of(request, who), who.family_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/password", summary="Change your password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(
    state: State, request: Request, who: SignedIn, body: PasswordChange
) -> Response:
    """Needs the current password; every session of the account is revoked after."""
    audits_itself(request)
    users.change_password(
        state.db,
        state.settings,
        actor_of(request, who),
        who.user_id,
        body.current_password,
        body.new_password,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", summary="The signed-in user")
def whoami(state: State, who: ReadAccess) -> Me:
    return me(state.db, who)


@router.post(
    "/signup",
    summary="Create your own viewer account",
    status_code=status.HTTP_201_CREATED,
    dependencies=[AuthAttempt],
    responses={
        403: {"model": Problem, "description": "Sign-up is closed (CIFT_SIGNUP_ALLOWED=false)."},
        409: {"model": Problem, "description": "The username or e-mail is taken."},
    },
)
def signup(state: State, request: Request, body: SignupRequest) -> Me:
    """Open only when CIFT_SIGNUP_ALLOWED is true; new accounts are viewers."""
    if not state.settings.signup_allowed:
        raise PermissionDeniedError("Sign-up is closed here; ask an administrator for an account.")
    audits_itself(request)
    user = users.create_user(
        state.db,
        state.settings,
        actor_of(request),
        username=body.username,
        email=body.email,
        password=body.password,
        role=Role.VIEWER,
        full_name=body.full_name,
    )
    return account(user, ROLE_SCOPES[Role.VIEWER], "session")
