from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from services.api.articles import service
from services.api.articles.schemas import (
    ARTICLE_FIELDS,
    ArticleDetail,
    ArticlePage,
    ArticleQuery,
    ArticleSort,
    FacetsOut,
    RevisionList,
)
from services.api.articles.schemas import StatusName as StatusName  # documented values of `status`
from services.api.cache import cached
from services.api.jsonbody import JsonBody
from services.api.readdb import ReadDep, ReadSessionDep, read_factory
from shared.auth.dependencies import LimitExport, LimitFacets, LimitSearch, RequireRead
from shared.http import AT_MOST_PAGE_SIZE_MAX, ERROR_RESPONSES, MAX_ROW_ID, RowId, page_size_query

router = APIRouter(
    prefix="/v1/articles", tags=["articles"], dependencies=[RequireRead], responses=ERROR_RESPONSES
)


def article_query(query: Annotated[ArticleQuery, Query()]) -> ArticleQuery:
    """The filter's query parameters, read into one model (the route's other parameters are its own). A
    dependency, so that the OpenAPI spec lists them after the route's own, as it always has."""
    return query


QueryDep = Annotated[ArticleQuery, Depends(article_query)]


@router.get(
    "",
    response_model=ArticlePage,
    summary="Search and list articles: filters, sort, keyset pages, field selection",
    dependencies=[LimitSearch],  # with `q`: NEWSWIRE_RATE_LIMIT_SEARCH_PER_MINUTE per key
)
def list_articles(
    request: Request,
    session: ReadSessionDep,
    query: QueryDep,
    *,
    sort: Annotated[
        ArticleSort | None,
        Query(
            description="ingested (newest stored first), published (newest published first; undated "
            "articles are left out) or relevance (needs `q`). Default: relevance with `q`, else published "
            "with a published range, else ingested.",
            examples=["published"],
        ),
    ] = None,
    fields: Annotated[
        list[str],
        Query(
            description=f"Return only these fields of each item (id always); repeat or comma-separate. "
            f"One of: {', '.join(ARTICLE_FIELDS)}.",
            examples=["title,published_at"],
        ),
    ] = [],  # noqa: B006
    limit: Annotated[int, page_size_query(description="Page size.", examples=[20]), AT_MOST_PAGE_SIZE_MAX],
    cursor: Annotated[
        str | None, Query(description="`next_cursor` of the previous page.", examples=["WyJpbmdlc3RlZC4..."])
    ] = None,
) -> JsonBody:
    def answer() -> dict[str, Any]:
        f = service.build_filter(session=session, query=query)
        chosen: ArticleSort = sort or (
            "relevance" if f.q else "published" if f.published_from or f.published_to else "ingested"
        )
        names = [name.strip() for value in fields for name in value.split(",") if name.strip()]
        return service.list_articles(
            session=session, f=f, sort=chosen, limit=limit, cursor=cursor, fields=names
        )

    return cached(request, session, answer)


@router.get(
    "/facets",
    response_model=FacetsOut,
    summary="Counts by topic, source, language and top entities per type, for the same filter as the list",
    dependencies=[LimitFacets],
)
def article_facets(
    request: Request,
    session: ReadSessionDep,
    query: QueryDep,
    limit: Annotated[int, Query(ge=1, le=100, description="Values per facet.", examples=[10])] = 10,
) -> JsonBody:
    def answer() -> dict[str, Any]:
        f = service.build_filter(session=session, query=query)
        return service.facets(session=session, f=f, limit=limit).model_dump()

    return cached(request, session, answer)


@router.get(
    "/export",
    response_class=StreamingResponse,
    summary="Every matching article with its entities and topics, streamed as NDJSON (no row cap)",
    dependencies=[LimitExport],
    responses={
        200: {
            "description": 'One JSON article per line, oldest stored first, then `{"end": {"count", '
            '"last_id"}}`: a stream without that line was cut short (resume with `after_id`).',
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        }
    },
)
def export_articles(
    request: Request,
    session: ReadSessionDep,
    query: QueryDep,
    after_id: Annotated[
        int,
        Query(ge=0, le=MAX_ROW_ID, description="Start after this article id (resume).", examples=[0]),
    ] = 0,
) -> StreamingResponse:
    f = service.build_filter(session=session, query=query)  # a bad filter is a 422 before streaming
    f = service.pinned(session=session, f=f)  # what exists now: a finite stream
    factory = read_factory(request.app)

    def lines() -> Iterator[bytes]:
        count, last, cursor = 0, None, after_id
        with factory() as stream_session:
            while True:
                chunk, batch_last, n = service.export_batch(session=stream_session, f=f, after_id=cursor)
                stream_session.rollback()  # one short read transaction per batch, none held between them
                if batch_last is None:
                    break
                count, last, cursor = count + n, batch_last, batch_last
                yield chunk
        yield service.export_end(count=count, last_id=last)

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get("/{article_id}", response_model=ArticleDetail, summary="One article with its entities and topics")
def get_article(request: Request, read: ReadDep, article_id: RowId) -> JsonBody:
    return cached(
        request,
        read.session,
        lambda: read.or_primary(lambda s: service.get_article(session=s, article_id=article_id)),
    )


@router.get(
    "/{article_id}/revisions",
    response_model=RevisionList,
    summary="The revisions of an article's text, oldest first, each with a diff from the previous one",
)
def list_revisions(read: ReadDep, article_id: RowId) -> RevisionList:
    return read.or_primary(lambda s: service.list_revisions(session=s, article_id=article_id))
