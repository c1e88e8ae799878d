from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from services.api.entities import repository
from services.api.entities.schemas import (
    AliasOut,
    DayOut,
    EntityOut,
    EntityPage,
    RelatedOut,
    RelatedPage,
    TimelineOut,
)
from services.api.pagination import decode_cursor, encode_cursor
from shared.errors import InvalidCursor, NotFound, ValidationFailed
from shared.models import Entity, EntityAlias
from shared.settings import get_settings

#: Aliases shown per entity (the most used); an entity seen under hundreds of forms stays readable.
ALIASES_PER_ENTITY = 20
DEFAULT_TIMELINE_DAYS = 30
MAX_TIMELINE_DAYS = 3_660


def _out(entity: Entity, aliases: list[EntityAlias]) -> EntityOut:
    return EntityOut(
        id=entity.id,
        name=entity.name,
        type=entity.type,
        article_count=entity.article_count,
        mention_count=entity.mention_count,
        aliases=[
            AliasOut(alias=a.alias, mention_count=a.mention_count, article_count=a.article_count)
            for a in aliases
        ],
    )


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
    aliases = repository.aliases_for(session, entity_ids=[e.id for e in page], per_entity=ALIASES_PER_ENTITY)
    return EntityPage(items=[_out(e, aliases[e.id]) for e in page], next_cursor=next_cursor)


def get_entity(*, session: Session, entity_id: int) -> EntityOut:
    entity = _existing(session, entity_id)
    aliases = repository.aliases_for(session, entity_ids=[entity.id], per_entity=ALIASES_PER_ENTITY)
    return _out(entity, aliases[entity.id])


def _existing(session: Session, entity_id: int) -> Entity:
    entity = repository.get_entity(session, entity_id=entity_id)
    if entity is None:
        raise NotFound(f"entity {entity_id} does not exist")
    return entity


def related(*, session: Session, entity_id: int, types: list[str], limit: int) -> RelatedPage:
    _existing(session, entity_id)
    window = get_settings().entity_view_window
    counted, rows = repository.related(
        session, entity_id=entity_id, window=window, types=[t.upper() for t in types], limit=limit
    )
    return RelatedPage(
        entity_id=entity_id,
        articles=counted,
        capped=counted >= window,
        items=[RelatedOut(id=i, name=name, type=type_, count=n) for i, name, type_, n in rows],
    )


def timeline(*, session: Session, entity_id: int, start: date | None, end: date | None) -> TimelineOut:
    end = end or datetime.now(UTC).date() + timedelta(days=1)
    start = start or end - timedelta(days=DEFAULT_TIMELINE_DAYS)
    if start >= end:
        raise ValidationFailed("start must be before end")
    if (end - start).days > MAX_TIMELINE_DAYS:
        raise ValidationFailed(f"at most {MAX_TIMELINE_DAYS} days")
    _existing(session, entity_id)
    counts = repository.timeline(session, entity_id=entity_id, start=start, end=end)
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    return TimelineOut(
        entity_id=entity_id,
        start=start,
        end=end,
        days=[DayOut(day=d, articles=counts.get(d, 0)) for d in days],
    )
