"""The live stream of newly enriched articles: positions in the enrichment event log, and the batches of
matching articles after a position.

Why polling with a settle lag, not LISTEN/NOTIFY alone: a notification says "something committed", but the
stream must also never skip an event whose transaction commits a moment after a later one.  Each event's
``seq`` is taken at commit time (a deferred trigger, migration 0013) and an event is streamed only once it
is NEWSWIRE_STREAM_SETTLE_SECONDS old, so every lower ``seq`` is visible by then; the position a client
resumes from (its ``Last-Event-ID``) therefore never passes an event it has not been sent.  A poll is one
indexed range read of at most SCAN_EVENTS events, whatever the filter."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from services.api.articles import repository as articles_repository
from services.api.articles.repository import ArticleFilter
from services.api.articles.service import _summary
from services.api.pagination import decode_cursor, encode_cursor
from services.api.stream import repository
from shared.errors import InvalidCursor
from shared.http import MAX_ROW_ID
from shared.settings import get_settings

SCAN_EVENTS = 1_000  # events read per poll (a connection catching up polls again at once)
EVENT_KIND = "stream"


def event_id(position: int) -> str:
    return encode_cursor(EVENT_KIND, [position])


def parse_event_id(value: str) -> int:
    (position,) = decode_cursor(value.strip(), kind=EVENT_KIND, arity=1)
    if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position <= MAX_ROW_ID:
        raise InvalidCursor("Last-Event-ID is not an event id of this stream")
    return position


def start_position(*, session: Session, last_event_id: str | None) -> int:
    """Where a connection starts: after the client's last event, else after the newest event visible now
    (only what is enriched from now on is sent; a commit racing the connection counts as before it)."""
    if last_event_id:
        return parse_event_id(last_event_id)
    return repository.head(session)


def next_batch(
    *, session: Session, f: ArticleFilter, after: int
) -> tuple[int, list[tuple[int, dict[str, Any]]]]:
    """(new position, [(seq, article summary as JSON data)]) of the settled events after ``after``."""
    upto = repository.settled_until(
        session, after=after, scan=SCAN_EVENTS, settle_seconds=get_settings().stream_settle_seconds
    )
    if upto == after:
        return after, []
    found = repository.matching_events(session, f=f, after=after, upto=upto)
    topics = articles_repository.topics_for(session, article_ids=[a.id for _, a in found])
    return upto, [(seq, _summary(a, topics[a.id]).model_dump(mode="json")) for seq, a in found]
