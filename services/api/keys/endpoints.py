"""Admin API of API keys: create (bound to sources or any-source), list, revoke. The same as
`newswire keys`, for an operator without database access."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.api.keys.schemas import KeyCreate, KeyCreated, KeyOut, KeysOut
from shared.auth import service
from shared.auth.dependencies import RequireAdmin
from shared.auth.service import Principal
from shared.errors import NotFound, ValidationFailed
from shared.http import ERROR_RESPONSES, RowId, SessionDep
from shared.models import ApiKey

router = APIRouter(
    prefix="/v1/ops/keys", tags=["ops"], dependencies=[RequireAdmin], responses=ERROR_RESPONSES
)
AdminPrincipal = Annotated[Principal, RequireAdmin]


def _out(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "prefix": row.prefix,
        "name": row.name,
        "scopes": list(row.scopes),
        "sources": list(row.sources),
        "any_source": row.any_source,
        "rate_limit_per_minute": row.rate_limit_per_minute,
        "created_at": row.created_at,
        "last_used_at": row.last_used_at,
        "revoked_at": row.revoked_at,
    }


@router.get("", response_model=KeysOut, summary="Every API key (never the key itself)")
def list_keys(
    session: SessionDep,
    active: Annotated[bool, Query(description="Hide revoked keys.")] = False,
) -> KeysOut:
    rows = service.list_keys(session=session, include_revoked=not active)
    return KeysOut(items=[KeyOut.model_validate(_out(r)) for r in rows])


@router.post(
    "",
    response_model=KeyCreated,
    status_code=201,
    summary="Create a key: bound to `sources`, or `any_source`, when it can write",
)
def create_key(body: KeyCreate, session: SessionDep) -> KeyCreated:
    try:
        created = service.create_key(
            session=session,
            name=body.name,
            scopes=list(body.scopes),
            rate_limit_per_minute=body.rate_limit_per_minute,
            sources=body.sources,
            any_source=body.any_source,
        )
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from exc
    return KeyCreated.model_validate({**_out(created.row), "key": created.key})


@router.post("/{key_id}/revoke", response_model=KeyOut, summary="Revoke a key (not the one calling)")
def revoke_key(key_id: RowId, session: SessionDep, principal: AdminPrincipal) -> KeyOut:
    if key_id == principal.id:
        raise ValidationFailed("a key cannot revoke itself: use another admin key or `newswire keys revoke`")
    known = session.get(ApiKey, key_id)
    if known is None:
        raise NotFound(f"no API key {key_id}")
    row = service.revoke_key(session=session, ref=known.prefix)
    return KeyOut.model_validate(_out(row))
