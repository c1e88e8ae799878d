from __future__ import annotations

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from shared.models import ArticleTopic, Topic


def list_topics(session: Session, *, min_score: float) -> list[Row[tuple[str, str, int]]]:
    count = func.count(ArticleTopic.article_id)
    stmt = (
        select(Topic.code, Topic.label, count.label("article_count"))
        .outerjoin(ArticleTopic, (ArticleTopic.topic_code == Topic.code) & (ArticleTopic.score >= min_score))
        .group_by(Topic.code, Topic.label)
        .order_by(Topic.code)
    )
    return list(session.execute(stmt))
