from __future__ import annotations

from sqlalchemy.orm import Session

from services.api.topics import repository
from services.api.topics.schemas import TopicList, TopicOut


def list_topics(*, session: Session, min_score: float) -> TopicList:
    rows = repository.list_topics(session, min_score=min_score)
    return TopicList(
        items=[TopicOut(code=r.code, label=r.label, article_count=r.article_count) for r in rows]
    )
