from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from services.api.articles import service as articles_service
from services.api.articles.endpoints import QueryDep
from services.api.articles.repository import ArticleFilter
from services.api.articles.service import ArticleQuery
from services.api.export import service
from services.api.export.schemas import ExportArticle, ExportEnd
from shared.auth.dependencies import RequireRead
from shared.http import ERROR_RESPONSES, SessionDep, app_session_factory
from shared.settings import get_settings

router = APIRouter(
    prefix="/v1/export", tags=["export"], dependencies=[RequireRead], responses=ERROR_RESPONSES
)

EXPORT_DOC = """Every article matching the filters of GET /v1/articles (the articles stored when the export
starts), oldest first, as NDJSON: one JSON object per line with the summary fields, the body, the topics and
the entities.  No row cap: the server reads it in chunks of NEWSWIRE_EXPORT_CHUNK_SIZE (constant memory).
The last line is `{"end": true, "count": N}`: an export without it was cut short.  Send
`Accept-Encoding: gzip` for a compressed stream."""


@router.get(
    "",
    summary="Streamed NDJSON export of every matching article with its enrichments",
    description=EXPORT_DOC,
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/x-ndjson": {}},
            "description": 'One article per line, then `{"end": true, "count": N}`.',
        }
    },
)
async def export(request: Request, session: SessionDep, query: QueryDep) -> StreamingResponse:
    f = await run_in_threadpool(_open, session, query)
    return StreamingResponse(_lines(request, f), media_type="application/x-ndjson")


def _open(session: Session, query: ArticleQuery) -> ArticleFilter:
    return service.pin(session=session, f=articles_service.build_filter(session=session, query=query))


async def _lines(request: Request, f: ArticleFilter) -> AsyncIterator[str]:
    factory = app_session_factory(request.app)
    size = get_settings().export_chunk_size

    def next_chunk(after_id: int) -> list[ExportArticle]:
        with factory() as session:
            return service.chunk(session=session, f=f, after_id=after_id, size=size)

    after_id, count = 0, 0
    while True:
        items = await run_in_threadpool(next_chunk, after_id)
        if not items:
            break
        yield "".join(item.model_dump_json() + "\n" for item in items)
        after_id = items[-1].id
        count += len(items)
    yield ExportEnd(end=True, count=count).model_dump_json() + "\n"
