"""SQLAlchemy 2.0 typed models. The schema itself is owned by the Alembic migrations."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    FetchedValue,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    func,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSONB, datetime: DateTime(timezone=True)}


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        server_default=func.now(), onupdate=func.now(), nullable=False
    )


class ArticleStatus(enum.StrEnum):
    QUEUED = "queued"
    ENRICHED = "enriched"
    FAILED = "failed"
    DUPLICATE = "duplicate"


class RawFormat(enum.StrEnum):
    HTML = "html"
    TEXT = "text"


class DuplicateMethod(enum.StrEnum):
    """How a duplicate row was found (``articles.duplicate_method``)."""

    EXACT = "exact"  # the same title and text
    NEAR = "near"  # MinHash/LSH
    URL = "url"  # another writer's copy of the canonical URL


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class EntityOverrideKind(enum.StrEnum):
    ALIAS = "alias"
    MERGE = "merge"
    IGNORE = "ignore"


def str_enum(enum_type: type[enum.StrEnum], *, length: int) -> Enum:
    """The column type of a closed set of strings: a plain VARCHAR(length) holding the member's value (not
    its name), read back as the member. No native PostgreSQL enum and no CHECK of its own: the column's
    type stays what the migrations made it, and their CHECK constraints keep its values in the set."""
    return Enum(
        enum_type,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )


class Article(TimestampMixin, Base):
    __tablename__ = "articles"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'enriched', 'failed', 'duplicate')", name="status_valid"),
        CheckConstraint("raw_format IN ('html', 'text')", name="raw_format_valid"),
        # one row per canonical URL and writer (0014): the source, or for a sourceless article the key
        # that wrote it (writer_key_id); another writer's copy of the URL is a duplicate row
        Index(
            "uq_articles_canonical_url_source_writer",
            "canonical_url",
            "source",
            "writer_key_id",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
        # unique among originals: a duplicate row repeats its original's text (0008)
        Index(
            "uq_articles_content_hash",
            "content_hash",
            unique=True,
            postgresql_where=sql_text("duplicate_of IS NULL"),
        ),
        Index(
            "ix_articles_duplicate_of", "duplicate_of", postgresql_where=sql_text("duplicate_of IS NOT NULL")
        ),
        CheckConstraint(
            "duplicate_method IS NULL OR duplicate_method IN ('exact', 'near', 'url')",
            name="duplicate_method_valid",
        ),
        Index(  # NULLS NOT DISTINCT (0014): a feed id is unique per source, or per key for sourceless ones
            "uq_articles_source_writer_external_id",
            "source",
            "writer_key_id",
            "external_id",
            unique=True,
            postgresql_where=sql_text("external_id IS NOT NULL"),
            postgresql_nulls_not_distinct=True,
        ),
        Index("ix_articles_published_at_id", "published_at", "id"),
        Index("ix_articles_source_id", "source", "id"),
        Index("ix_articles_status_id", "status", "id"),
        Index("ix_articles_language_id", "language", "id"),
        Index("ix_articles_enrichment_version_id", "enrichment_version", "id"),
        Index("ix_articles_story_id_id", "story_id", "id"),
        Index("ix_articles_search_tsv", "search_tsv", postgresql_using="gin"),
        Index("ix_articles_created_at_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(Text)
    # the API key that wrote an article sent without a source: its namespace (0014); NULL with a source
    writer_key_id: Mapped[int | None] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    raw_format: Mapped[RawFormat] = mapped_column(str_enum(RawFormat, length=8))
    raw_content: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    modified_at: Mapped[datetime | None]
    authors: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    site_name: Mapped[str | None] = mapped_column(Text)
    language_hint: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(16))
    language_confidence: Mapped[float | None] = mapped_column(Float)
    cleaning: Mapped[dict[str, Any]] = mapped_column(server_default=sql_text("'{}'::jsonb"))
    status: Mapped[ArticleStatus] = mapped_column(
        str_enum(ArticleStatus, length=16), server_default=ArticleStatus.QUEUED.value
    )
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    # enrich attempts started and not ended (a worker died): past the cap the article is poison (0020)
    enrich_attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    model_versions: Mapped[dict[str, Any] | None]
    # shared.versions.version_key(model_versions): what reprocessing compares (0006)
    enrichment_version: Mapped[str | None] = mapped_column(Text)
    enriched_at: Mapped[datetime | None]
    # duplicates (0008): a duplicate row (status 'duplicate') names its original, how it was found
    # ('exact': the same text, 'near': MinHash/LSH) and the similarity; never enriched
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    duplicate_method: Mapped[DuplicateMethod | None] = mapped_column(str_enum(DuplicateMethod, length=16))
    duplicate_score: Mapped[float | None] = mapped_column(Float)
    # why (0015): {"method", "score", "matched", "differs": [...]} of a duplicate, or of an article kept
    # apart from a near match ("kept": "distinct" / "not_duplicate")
    dedup_reason: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    revision: Mapped[int] = mapped_column(Integer, server_default="1")  # see ArticleRevision
    # the story (event) the article covers (0009; shared.stories)
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"))
    # [{"phrase", "score"}] best first, from services.enrich.nlp.keyphrases (0010)
    keyphrases: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    # kept by PostgreSQL (trigger, 0024): title (A) and body (B) with the configuration of the article's
    # language (shared.textsearch); the full-text search index
    search_tsv: Mapped[str | None] = mapped_column(
        TSVECTOR, server_default=FetchedValue(), server_onupdate=FetchedValue(), deferred=True
    )

    entities: Mapped[list[ArticleEntity]] = relationship(
        back_populates="article", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )
    topics: Mapped[list[ArticleTopic]] = relationship(
        back_populates="article", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )

    # stage timestamps (migration 0003): where the time between receipt and availability goes
    received_at: Mapped[datetime | None]  # the ingest request arrived
    cleaned_at: Mapped[datetime | None]  # cleaning finished
    stored_at: Mapped[datetime | None]  # the row was written (committed with the outbox job)
    queued_at: Mapped[datetime | None]  # the job reached the broker (first publish; reset by a retry)
    enrich_started_at: Mapped[datetime | None]  # a worker picked it up (latest attempt)
    failed_at: Mapped[datetime | None]  # marked failed (dead-lettered)


class ArticleMinHash(Base):
    """The MinHash signature of an original article's cleaned text (``services.ingest.articles.neardup``;
    migration 0008): what an LSH candidate is verified against."""

    __tablename__ = "article_minhash"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class ArticleLshBand(Base):
    """One LSH band key of an original article (migration 0008): articles sharing a key are candidates.
    No foreign key: the look-up joins ``article_minhash``, and bands are deleted by key."""

    __tablename__ = "article_lsh_bands"

    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    article_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class DedupDecision(Base):
    """An operator's "not a duplicate" for a pair of articles (migration 0015; lower id first): the pair
    is never merged again."""

    __tablename__ = "dedup_decisions"
    __table_args__ = (
        CheckConstraint("article_id < other_id", name="ordered"),
        Index("ix_dedup_decisions_other_id", "other_id"),
    )

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    decided_by: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )


class ArticleRevision(Base):
    """A version of an article's text (migration 0008).  Written when the canonical URL arrives again with
    other content: then revision 1 (the text first stored) and the new one, with a unified diff from the
    previous revision; an article never revised has no rows here."""

    __tablename__ = "article_revisions"
    __table_args__ = (
        Index("uq_article_revisions_article_id_revision", "article_id", "revision", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    diff: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Entity(TimestampMixin, Base):
    """The global entity table: one row per canonical (name, type).  ``article_count`` and
    ``mention_count`` are kept by the enrichment transaction, by difference (migration 0005)."""

    __tablename__ = "entities"
    __table_args__ = (
        Index("uq_entities_type_name", "type", "name", unique=True),
        Index("ix_entities_lower_name", sql_text("lower(name) text_pattern_ops")),
        Index("ix_entities_article_count_id", sql_text("article_count DESC"), "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(32))
    article_count: Mapped[int] = mapped_column(Integer, server_default="0")
    mention_count: Mapped[int] = mapped_column(Integer, server_default="0")


class EntityAlias(Base):
    """Every surface form an entity was seen under, with its counts over all articles (migration 0005)."""

    __tablename__ = "entity_aliases"
    __table_args__ = (Index("ix_entity_aliases_lower_alias", sql_text("lower(alias) text_pattern_ops")),)

    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True)
    alias: Mapped[str] = mapped_column(Text, primary_key=True)
    mention_count: Mapped[int] = mapped_column(Integer, server_default="0")
    article_count: Mapped[int] = mapped_column(Integer, server_default="0")


class ArticleEntity(Base):
    __tablename__ = "article_entities"
    __table_args__ = (
        Index("ix_article_entities_entity_id_article_id", "entity_id", "article_id"),
        Index("ix_article_entities_article_id_salience", "article_id", "salience"),
    )

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True)
    mention_count: Mapped[int] = mapped_column(Integer)
    mentions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    # salience (migration 0005; see services.enrich.entities.salience)
    in_title: Mapped[bool] = mapped_column(Boolean, server_default=sql_text("false"))
    in_lead: Mapped[bool] = mapped_column(Boolean, server_default=sql_text("false"))
    first_offset: Mapped[int | None] = mapped_column(Integer)
    salience: Mapped[float] = mapped_column(Float, server_default="0")

    article: Mapped[Article] = relationship(back_populates="entities", lazy="raise")
    entity: Mapped[Entity] = relationship(lazy="raise")


class Topic(Base):
    __tablename__ = "topics"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(Text)


class ArticleTopic(Base):
    __tablename__ = "article_topics"
    __table_args__ = (
        Index("ix_article_topics_topic_code_score", "topic_code", "score"),
        Index("ix_article_topics_topic_code_article_id", "topic_code", "article_id"),
    )

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    topic_code: Mapped[str] = mapped_column(ForeignKey("topics.code"), primary_key=True)
    score: Mapped[float] = mapped_column(Float)

    article: Mapped[Article] = relationship(back_populates="topics", lazy="raise")
    topic: Mapped[Topic] = relationship(lazy="raise")


class OutboxEvent(Base):
    """A job to publish. Written in the transaction that stores the article; the relay republishes
    anything published long ago but never completed, so a lost publish is never a lost article."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "id", postgresql_where=sql_text("completed_at IS NULL")),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    task: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(server_default=sql_text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    published_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    publish_attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    # the deadline of the job's current holder (publishing relay, broker queue, worker); past it, the
    # relay republishes the job (migration 0020)
    lease_until: Mapped[datetime | None]


class SourceHour(Base):
    """The coverage ledger: what each source pushed in each hour (ingest outcomes; migration 0003)."""

    __tablename__ = "source_hours"
    __table_args__ = (Index("ix_source_hours_hour", "hour"),)

    source: Mapped[str] = mapped_column(Text, primary_key=True)  # "" for articles without a source
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    accepted: Mapped[int] = mapped_column(Integer, server_default="0")
    duplicates: Mapped[int] = mapped_column(Integer, server_default="0")
    rejected: Mapped[int] = mapped_column(Integer, server_default="0")


class SourceLine(Base):
    """How many stored articles of a source carried a short line (by hash): a line recurring across a
    source's articles is that source's boilerplate.  The row with ``line_hash = '*'`` counts the
    source's articles.  Written in the ingest transaction, so every ingest process shares it."""

    __tablename__ = "source_lines"

    source: Mapped[str] = mapped_column(Text, primary_key=True)
    line_hash: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, server_default="0")
    first_seen: Mapped[datetime] = mapped_column(server_default=func.now())
    last_seen: Mapped[datetime] = mapped_column(server_default=func.now())


class ApiKey(Base):
    """An API key (migration 0004). Only a SHA-256 of the key is stored; the key itself
    (``nw_<prefix>_<secret>``) is shown once, when it is created. ``prefix`` is not secret: it names the key
    in lists and logs and finds its row."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("uq_api_keys_prefix", "prefix", unique=True),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)  # None: the global setting
    # what the key may write (0014): these sources, or every source with any_source
    sources: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    any_source: Mapped[bool] = mapped_column(server_default=sql_text("false"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_used_at: Mapped[datetime | None]  # refreshed at most once a minute
    revoked_at: Mapped[datetime | None]


class IdempotencyRecord(Base):
    """The first answer to a request carrying an ``Idempotency-Key`` (per API key; migration 0004).
    Written in the transaction that stores the articles, so a retry finds it exactly when the work was
    committed."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        Index("uq_idempotency_keys_api_key_id_key", "api_key_id", "key", unique=True),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(Text)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]


class EntityOverride(Base):
    """An operator's correction of entity canonicalisation (migration 0007): ``alias`` sets the canonical
    name (and type) of a surface form, ``merge`` makes entity ``surface`` entity ``target_name``, ``ignore``
    says a surface form is no entity.  ``type`` None: any type.  One rule per (kind, surface_key, type)."""

    __tablename__ = "entity_overrides"
    __table_args__ = (
        Index(
            "uq_entity_overrides_kind_surface_key_type",
            "kind",
            "surface_key",
            sql_text("coalesce(type, '')"),
            unique=True,
        ),
        CheckConstraint("kind IN ('alias', 'merge', 'ignore')", name="kind_valid"),
        CheckConstraint("kind = 'ignore' OR target_name IS NOT NULL", name="target_given"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[EntityOverrideKind] = mapped_column(str_enum(EntityOverrideKind, length=16))
    surface: Mapped[str] = mapped_column(Text)
    surface_key: Mapped[str] = mapped_column(Text)  # normalise_surface(surface)
    type: Mapped[str | None] = mapped_column(String(32))
    target_name: Mapped[str | None] = mapped_column(Text)
    target_type: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Story(TimestampMixin, Base):
    """Articles about one event (migration 0009).  The counts, times, label and top entities are
    recomputed from the members by the transaction that changes them (shared.stories)."""

    __tablename__ = "stories"
    __table_args__ = (Index("ix_stories_last_seen_id", "last_seen", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    label: Mapped[str] = mapped_column(Text, server_default="")  # the title of the earliest article
    first_seen: Mapped[datetime | None]
    last_seen: Mapped[datetime | None]
    article_count: Mapped[int] = mapped_column(Integer, server_default="0")
    source_count: Mapped[int] = mapped_column(Integer, server_default="0")  # syndicated copies not counted
    top_entities: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=sql_text("'[]'::jsonb"))


class StorySignature(Base):
    """What story matching compares for one article (shared.stories.signature), and how the
    article's story was decided: ``match`` is the best candidate and its score (null: it started one)."""

    __tablename__ = "story_signatures"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime]
    terms: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    entity_keys: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    entity_weights: Mapped[list[float]] = mapped_column(ARRAY(Float))
    # the multilingual embedding of the title and lead, int8-quantised (shared.stories.signature.quantise)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    match: Mapped[dict[str, Any] | None]
    syndicated: Mapped[bool] = mapped_column(Boolean, server_default=sql_text("false"))
    assigned_at: Mapped[datetime] = mapped_column(server_default=func.now())


class StoryKey(Base):
    """The candidate index: one row per lookup key of an article, searched by (key, time range)."""

    __tablename__ = "story_keys"
    __table_args__ = (Index("ix_story_keys_article_id", "article_id"),)

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)


class ArticleEvent(Base):
    """An article became enriched (again, on a re-enrichment): written at commit time by a deferred
    trigger on ``articles`` (migration 0013).  The live stream and the webhook matcher read them in
    ``seq`` order."""

    __tablename__ = "article_events"
    # one event per (article, enrichment version, revision): a redelivered job never emits twice (0020)
    __table_args__ = (
        Index(
            "uq_article_events_article_id_version_revision", "article_id", "version", "revision", unique=True
        ),
    )

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(server_default=sql_text("clock_timestamp()"))
    version: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int | None] = mapped_column(Integer)


class Subscription(Base):
    """A saved query with a webhook (migration 0013): newly enriched articles matching ``query`` (the
    parameters of GET /v1/articles) are POSTed to ``url``, signed with ``secret``.  ``last_seq``: the
    article events already matched."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    # secret rotation (migration 0017): the previous secret still signs until it expires
    previous_secret: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None]
    query: Mapped[dict[str, Any]]
    last_seq: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class WebhookDelivery(Base):
    """One article to POST to one subscription, with its attempts (migration 0013).  ``delivery_id`` is
    sent with every attempt: receivers drop the ones they have seen (delivery is at least once)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("uq_webhook_deliveries_subscription_id_event_seq", "subscription_id", "event_seq", unique=True),
        Index("uq_webhook_deliveries_delivery_id", "delivery_id", unique=True),
        Index(
            "ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=sql_text("status = 'pending'")
        ),
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status_valid"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(36))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    event_seq: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, length=16), server_default=DeliveryStatus.PENDING.value
    )
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ModelVersion(Base):
    """The versions a worker enriches with, per spaCy pipeline: written by each worker when it starts, read
    by whoever compares enrichments with the current version (the API, `newswire reprocess`) so that no
    other process has to import the models (migration 0022)."""

    __tablename__ = "model_versions"

    model: Mapped[str] = mapped_column(Text, primary_key=True)
    versions: Mapped[dict[str, Any]]
    version_key: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())
