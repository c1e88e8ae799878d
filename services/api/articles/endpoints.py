from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from services.api.articles import service
from services.api.articles.repository import EntityMode
from services.api.articles.schemas import (
    ARTICLE_FIELDS,
    ArticleDetail,
    ArticlePage,
    ArticleSort,
    FacetsOut,
    IsoQueryDatetime,
    RevisionList,
)
from services.api.articles.service import ArticleQuery
from services.api.cache import cached
from services.api.jsonbody import JsonBody
from services.api.readdb import ReadDep, ReadSessionDep, read_factory
from shared.auth.dependencies import LimitExport, LimitFacets, LimitSearch, RequireRead
from shared.http import ERROR_RESPONSES, MAX_ROW_ID, RowId
from shared.settings import get_settings

StatusName = Literal["queued", "enriched", "failed", "duplicate"]  # shared.models.ArticleStatus

router = APIRouter(
    prefix="/v1/articles", tags=["articles"], dependencies=[RequireRead], responses=ERROR_RESPONSES
)
_settings = get_settings()


def article_query(
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=service.MAX_QUERY_CHARS,
            description='Full-text search of title and body, web-search syntax: words (all of them), "a '
            'phrase", `OR`, `-word` to exclude. English stemming.',
            examples=['"central bank" rates -crypto'],
        ),
    ] = None,
    entity: Annotated[
        list[str],
        Query(
            description="Entity id, canonical name or any alias seen (exact, case-insensitive); repeat, "
            "combined by `entity_mode`.",
            examples=["NATO"],
        ),
    ] = [],  # noqa: B006 - FastAPI copies defaults
    entity_mode: Annotated[
        EntityMode,
        Query(description="all: every `entity` is mentioned; any: at least one is.", examples=["any"]),
    ] = "all",
    entity_type: Annotated[
        list[str],
        Query(
            description="Mentions an entity of this type (PERSON, ORG, GPE, ...); repeat for OR.",
            examples=["ORG"],
        ),
    ] = [],  # noqa: B006
    topic: Annotated[
        list[str], Query(description="Topic code or label; repeat for OR.", examples=["politics"])
    ] = [],  # noqa: B006
    min_topic_score: Annotated[
        float, Query(ge=0, le=1, description="Lowest score of the topic filter.", examples=[0.5])
    ] = 0.0,
    source: Annotated[list[str], Query(description="Source; repeat for OR.", examples=["reuters"])] = [],  # noqa: B006
    language: Annotated[list[str], Query(description="Detected language (ISO 639-1).", examples=["en"])] = [],  # noqa: B006
    status: Annotated[
        list[StatusName],
        Query(description="queued, enriched, failed or duplicate; repeat for OR.", examples=["enriched"]),
    ] = [],  # noqa: B006
    include_duplicates: Annotated[
        bool,
        Query(
            description="Also list near-duplicates (status duplicate; excluded by default).", examples=[True]
        ),
    ] = False,
    published_from: Annotated[
        IsoQueryDatetime | None,
        Query(description="Published at or after (ISO 8601).", examples=["2026-11-01T00:00:00Z"]),
    ] = None,
    published_to: Annotated[
        IsoQueryDatetime | None,
        Query(description="Published before (ISO 8601).", examples=["2026-11-23T00:00:00Z"]),
    ] = None,
    ingested_from: Annotated[
        IsoQueryDatetime | None,
        Query(description="Stored at or after (ISO 8601).", examples=["2026-11-01T00:00:00Z"]),
    ] = None,
    ingested_to: Annotated[
        IsoQueryDatetime | None,
        Query(description="Stored before (ISO 8601).", examples=["2026-11-23T00:00:00Z"]),
    ] = None,
    story: Annotated[
        int | None,
        Query(ge=1, le=MAX_ROW_ID, description="Only articles of this story (its id).", examples=[42]),
    ] = None,
) -> ArticleQuery:
    return ArticleQuery(
        q=q,
        entity=entity,
        entity_mode=entity_mode,
        entity_type=entity_type,
        topic=topic,
        min_topic_score=min_topic_score,
        source=source,
        language=language,
        status=status,
        include_duplicates=include_duplicates,
        published_from=published_from,
        published_to=published_to,
        ingested_from=ingested_from,
        ingested_to=ingested_to,
        story=story,
    )


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
    limit: Annotated[
        int, Query(ge=1, le=_settings.page_size_max, description="Page size.", examples=[20])
    ] = (_settings.page_size_default),
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
