from __future__ import annotations

from sqlalchemy.orm import Session

from services.api.entities import repository
from services.api.entities.schemas import EntityOut, EntityPage
from services.api.pagination import decode_cursor, encode_cursor
from shared.errors import InvalidCursor, NotFound


def list_entities(
    *, session: Session, types: list[str], prefix: str | None, limit: int, cursor: str | None
) -> EntityPage:
    after = None
    if cursor:
        count, entity_id = decode_cursor(cursor, kind="entities", arity=2)
        if not (isinstance(count, int) and isinstance(entity_id, int)):
            raise InvalidCursor("the cursor is not one this API issued")
        after = (count, entity_id)
    rows = repository.list_entities(
        session, types=[t.upper() for t in types], prefix=prefix, limit=limit + 1, after=after
    )
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit and page:
        last = page[-1]
        next_cursor = encode_cursor("entities", [last.article_count, last.id])
    return EntityPage(
        items=[EntityOut(id=r.id, name=r.name, type=r.type, article_count=r.article_count) for r in page],
        next_cursor=next_cursor,
    )


def get_entity(*, session: Session, entity_id: int) -> EntityOut:
    row = repository.get_entity(session, entity_id=entity_id)
    if row is None:
        raise NotFound(f"entity {entity_id} does not exist")
    return EntityOut(id=row.id, name=row.name, type=row.type, article_count=row.article_count)
