"""All SQL of the live stream: the enrichment event log (article_events, migration 0013) read in order."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from services.api.articles.repository import SUMMARY_COLUMNS, ArticleFilter, conditions
from shared.models import Article, ArticleEvent


def _settled(settle_seconds: float) -> ColumnElement[bool]:
    return ArticleEvent.at <= func.clock_timestamp() - func.make_interval(0, 0, 0, 0, 0, 0, settle_seconds)


def head(session: Session) -> int:
    """The newest event visible now (0: none yet)."""
    return int(session.scalar(select(func.coalesce(func.max(ArticleEvent.seq), 0))) or 0)


def settled_until(session: Session, *, after: int, scan: int, settle_seconds: float) -> int:
    """The end of the run of settled events after ``after`` (at most ``scan`` of them): the stream may move
    its position up to it.  An event not yet settled stops the run, even when later ones are."""
    rows = session.execute(
        select(ArticleEvent.seq, _settled(settle_seconds))
        .where(ArticleEvent.seq > after)
        .order_by(ArticleEvent.seq)
        .limit(scan)
    )
    upto = after
    for seq, settled in rows:
        if not settled:
            break
        upto = seq
    return upto


def matching_events(
    session: Session, *, f: ArticleFilter, after: int, upto: int
) -> list[tuple[int, Article]]:
    """(seq, article) of the events in (after, upto] whose article matches the filter, in order."""
    rows = session.execute(
        select(ArticleEvent.seq, Article)
        .options(SUMMARY_COLUMNS)
        .join(Article, Article.id == ArticleEvent.article_id)
        .where(ArticleEvent.seq > after, ArticleEvent.seq <= upto, *conditions(f))
        .order_by(ArticleEvent.seq)
    )
    return [(r[0], r[1]) for r in rows]
