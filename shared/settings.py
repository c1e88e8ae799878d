"""The one settings object. Every value can be set with a ``NEWSWIRE_`` environment variable.

Next to a running ``newswire run`` (``make run``), the values it recorded in its data directory
(``<data_dir>/platform.json``: database, broker, ports; ``<data_dir>/api-key``) fill the ones the environment
leaves unset, so ``newswire queues``, ``failed``, ``keys``... use that platform with no variable set.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSWIRE_", env_file=".env", extra="ignore")

    # --- backing services -------------------------------------------------------------
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of PostgreSQL (postgresql+psycopg://...). Unset: `newswire run` "
        "starts an embedded PostgreSQL under the data dir.",
    )
    read_database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URLs of PostgreSQL streaming replicas, comma-separated: the read API's "
        "lists, search, facets, details, entities, stories, export and stream read there (unset: the "
        "primary).",
    )
    read_max_lag_seconds: float = Field(
        default=5.0, ge=0, description="A replica further behind the primary than this is not read from."
    )
    read_retry_seconds: float = Field(
        default=5.0,
        gt=0,
        description="A replica that failed (down, or lagging) is not tried again for this long; reads go to "
        "the other replicas or the primary.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL for the Celery broker. Unset: `newswire run` starts an embedded Redis.",
    )
    broker_url: str | None = Field(
        default=None,
        description="Celery broker. Unset: the Redis of NEWSWIRE_REDIS_URL. "
        "`amqp://user:password@host:5672/vhost`: RabbitMQ (a quorum queue, publisher confirms); Redis "
        "then stays the cache and rate-limit store.",
    )
    data_dir: Path = Field(default=Path(".newswire"), description="Where embedded servers keep data.")
    db_pool_size: int = Field(default=5, ge=1, description="Connections per process pool.")
    db_max_overflow: int = Field(
        default=20,
        ge=0,
        description="Extra connections above the pool size. pool size + overflow should be at least "
        "NEWSWIRE_HTTP_THREADS + 2 in the HTTP services (each request thread holds at most one connection "
        "at a time, plus the relay and webhook loops), so a request never waits for a connection.",
    )
    db_pool_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds a request waits for a free pooled connection; then 503 `database_busy`.",
    )
    db_connect_timeout: int = Field(
        default=5, ge=1, description="Seconds to open a PostgreSQL connection (libpq connect_timeout)."
    )
    # per process role: ingest (`serve ingest`), api (`serve api`), worker (`worker`), relay (the outbox
    # relay); 0 turns a limit off. Sent as libpq options when a connection opens.
    db_statement_timeout_ingest: float = Field(
        default=15.0, ge=0, description="Longest SQL statement of the ingest service (s)."
    )
    db_statement_timeout_api: float = Field(
        default=10.0,
        ge=0,
        description="Longest SQL statement of the read API (s): a search or facet past it answers 504 "
        "`query_timeout`.",
    )
    db_statement_timeout_worker: float = Field(
        default=120.0, ge=0, description="Longest SQL statement of an enrich worker (s)."
    )
    db_statement_timeout_relay: float = Field(
        default=30.0, ge=0, description="Longest SQL statement of the outbox relay (s)."
    )
    db_lock_timeout_ingest: float = Field(
        default=5.0, ge=0, description="Longest wait for a row or table lock in ingest (s); then 503."
    )
    db_lock_timeout_api: float = Field(
        default=5.0, ge=0, description="Longest wait for a lock in the read API (s); then 503."
    )
    db_lock_timeout_worker: float = Field(
        default=15.0, ge=0, description="Longest wait for a lock in an enrich worker (s); then a retry."
    )
    db_lock_timeout_relay: float = Field(
        default=5.0, ge=0, description="Longest wait for a lock in the outbox relay (s)."
    )
    db_idle_in_transaction_timeout_ingest: float = Field(
        default=30.0,
        ge=0,
        description="PostgreSQL ends an ingest session idle inside a transaction this long (s).",
    )
    db_idle_in_transaction_timeout_api: float = Field(
        default=30.0, ge=0, description="The same for the read API (s)."
    )
    db_idle_in_transaction_timeout_worker: float = Field(
        default=120.0, ge=0, description="The same for an enrich worker (s)."
    )
    db_idle_in_transaction_timeout_relay: float = Field(
        default=60.0, ge=0, description="The same for the outbox relay (s)."
    )
    http_threads: int = Field(
        default=20,
        ge=1,
        description="Threads an HTTP service runs its (synchronous) request handlers on; requests beyond "
        "them wait for a thread. /healthz and /readyz have threads of their own.",
    )
    redis_socket_timeout: float = Field(
        default=2.0,
        gt=0,
        description="Seconds any Redis command (rate limits, queue depth, cache, Celery's broker on Redis) "
        "waits for an answer.",
    )
    redis_connect_timeout: float = Field(
        default=2.0, gt=0, description="Seconds to open a connection to Redis."
    )
    http_total_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Total deadline (s) of one outbound HTTP request made by the `newswire` commands "
        "(connect, send, and the whole answer; not only one read).",
    )

    # --- ports ------------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Interface the HTTP services bind to.")
    ingest_port: int = Field(default=8001, description="Port of the ingest service.")
    api_port: int = Field(default=8000, description="Port of the read API.")
    flower_port: int = Field(default=5555, description="Port of Flower.")
    flower_basic_auth: str | None = Field(
        default=None, description="`user:password` that Flower asks for (unset: no auth, loopback only)."
    )
    embedded_pg_port: int = Field(default=54329, description="Port of the embedded PostgreSQL.")
    embedded_redis_port: int = Field(default=63799, description="Port of the embedded Redis.")

    # --- ingest limits ----------------------------------------------------------------
    max_body_bytes: int = Field(default=10_000_000, ge=1024, description="Largest request body (413 above).")
    max_batch_size: int = Field(default=100, ge=1, description="Most articles in one batch request.")
    max_html_chars: int = Field(default=5_000_000, ge=100, description="Longest `html` field.")
    max_text_chars: int = Field(default=1_000_000, ge=100, description="Longest `text` field.")
    max_title_chars: int = Field(default=1_000, ge=10, description="Longest `title` field.")
    max_url_chars: int = Field(default=2_048, ge=32, description="Longest `url` field.")
    min_clean_chars: int = Field(
        default=1, ge=1, description="Articles whose cleaned body is shorter are rejected (422)."
    )
    min_article_year: int = Field(
        default=1900, ge=1, le=9000, description="A `published_at`/`modified_at` before this year is 422."
    )
    max_future_hours: float = Field(
        default=48, ge=0, le=24 * 366, description="A `published_at`/`modified_at` further ahead is 422."
    )

    # --- access ---------------------------------------------------------------------
    api_key: str | None = Field(
        default=None,
        description="API key the `newswire` client commands send (`newswire ingest`); create one with "
        "`newswire keys create`.",
    )
    auth_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="Seconds a verified API key is trusted without asking the database (0: every request "
        "asks; a revoked key stops working within this time).",
    )
    rate_limit_per_minute: int = Field(
        default=0,
        ge=0,
        description="Requests per minute per API key (0: no limit; a key's own limit overrides it). Counted "
        "in Redis, so it holds across processes; when Redis is down requests are let through.",
    )
    idempotency_ttl_hours: float = Field(
        default=24.0,
        gt=0,
        description="Hours an `Idempotency-Key` is remembered (a retry within it gets the first answer).",
    )
    rate_limit_search_per_minute: int = Field(
        default=120,
        ge=0,
        description="Full-text searches (`GET /v1/articles?q=`) per minute per API key (0: no limit).",
    )
    rate_limit_facets_per_minute: int = Field(
        default=60,
        ge=0,
        description="`GET /v1/articles/facets` requests per minute per API key (0: no limit).",
    )
    rate_limit_export_per_minute: int = Field(
        default=6,
        ge=0,
        description="`GET /v1/articles/export` requests per minute per API key (0: no limit).",
    )
    stream_max_per_key: int = Field(
        default=5,
        ge=0,
        description="Open `GET /v1/stream` connections per API key across every API process (429 above; "
        "0: no cap).",
    )

    # --- queue and worker -------------------------------------------------------------
    enrich_queue: str = Field(default="enrich", description="Celery queue the enrich tasks go to.")
    task_max_retries: int = Field(default=5, ge=0, description="Retries of a transient failure.")
    task_retry_backoff_max: int = Field(default=300, ge=1, description="Cap of the retry backoff (s).")
    worker_concurrency: int = Field(default=1, ge=1, description="Worker processes per `newswire worker`.")
    worker_nice: int = Field(
        default=5,
        ge=0,
        le=19,
        description="CPU niceness `newswire worker` adds to its processes: enrichment is batch work, so on "
        "a shared machine the ingest requests get the CPU first (0: same priority).",
    )
    outbox_relay_interval: float = Field(
        default=10.0, gt=0, description="Seconds between passes of the outbox relay."
    )
    outbox_redeliver_after: float = Field(
        default=300.0,
        gt=0,
        description="The lease of a published job: the relay republishes a job not started this many seconds "
        "after its publish (the lease doubles with each republish, so a deep queue is not flooded), and a "
        "started job not completed within NEWSWIRE_TASK_TIME_LIMIT plus this.",
    )
    task_soft_time_limit: float = Field(
        default=120.0,
        gt=0,
        description="Seconds an enrich task may run before it is interrupted (SoftTimeLimitExceeded: the "
        "article is failed with that error).",
    )
    task_time_limit: float = Field(
        default=180.0,
        gt=0,
        description="Seconds after which the worker process running an enrich task is killed (counted as an "
        "unfinished attempt; the relay republishes the job when its lease ends).",
    )
    enrich_max_attempts: int = Field(
        default=3,
        ge=1,
        description="Enrich attempts of one article that may start without ending (the worker died or was "
        "killed) before the article is failed as `poison` (listed by `newswire failed`).",
    )
    chaos_poison_marker: str | None = Field(
        default=None,
        pattern=r"^chaos-poison-[0-9a-f]{32}$",
        description="Test only (`newswire chaos`): a worker whose article title carries this random marker "
        "kills its own process. Honoured only when the database is on loopback.",
    )
    spacy_model: str = Field(default="en_core_web_sm", description="spaCy pipeline used for NER.")
    enrich_batch_size: int = Field(
        default=16,
        ge=1,
        description="Most articles an enrich task runs through the models in one `nlp.pipe` call when the "
        "queue is deep (it takes over other queued articles' jobs; 1: one article per task).",
    )
    enrich_batch_min_depth: int = Field(
        default=4,
        ge=1,
        description="Broker queue depth from which an enrich task batches (below it, one article per task).",
    )
    topic_threshold: float = Field(
        default=0.25,
        ge=0.0,
        le=1.0,
        description="Lowest calibrated probability of an IPTC topic kept for an article (the best one is "
        "always kept).",
    )
    multilingual_embedding: bool = Field(
        default=True,
        description="Give every article a multilingual embedding of its title and lead "
        "(multilingual-e5-small): what stories across languages and the topics of articles not in "
        "English read. It is the largest part of an article's worker CPU (docs/performance.md); a "
        "deployment whose feeds are all in English can turn it off: stories then match on terms and "
        "entities only, and non-English articles get no topics.",
    )

    # --- API --------------------------------------------------------------------------
    page_size_default: int = Field(default=20, ge=1, description="Default page size of list endpoints.")
    page_size_max: int = Field(default=200, ge=1, description="Largest page size of list endpoints.")
    search_rank_window: int = Field(
        default=1_000,
        ge=1,
        description="`sort=relevance` ranks the newest this many matches of a search (a common word can "
        "match most of the corpus; ranking reads every candidate).",
    )
    search_half_life_days: float = Field(
        default=30.0,
        gt=0,
        description="Recency prior of `sort=relevance`: an article this many days older needs twice the "
        "text rank to come first.",
    )
    api_cache_seconds: float = Field(
        default=0.0,
        ge=0,
        description="Lists, searches, facets and article details are cached in Redis (NEWSWIRE_REDIS_URL) by "
        "question and data version (newest article, newest enrichment) for at most this long (0: no cache, "
        "the default until the stall seen under 50 benchmark clients with it on is explained). A change that "
        "adds neither (a deletion, a duplicate undone) shows within this time.",
    )
    query_timeout_ms: int = Field(
        default=5_000,
        ge=1,
        description="Longest a read query that cannot use the precomputed counts may run (a search, a "
        "facet over a free-text or entity filter), never more than NEWSWIRE_DB_STATEMENT_TIMEOUT_API; above "
        "it the answer is a 504 `query_timeout`.",
    )
    entity_view_window: int = Field(
        default=5_000,
        ge=1,
        description="`/v1/entities/{id}/related` counts co-occurrences over the newest this many articles "
        "mentioning the entity.",
    )
    gzip_min_bytes: int = Field(
        default=1_000, ge=1, description="Read API answers at least this large are gzipped when accepted."
    )

    # --- live stream and export -------------------------------------------------------
    stream_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="`GET /v1/stream` looks for new enrichments this often."
    )
    stream_settle_seconds: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="Enrichment events are streamed (and matched to subscriptions) once this old: commits "
        "racing each other become visible within it, so none is skipped.",
    )
    stream_heartbeat_seconds: float = Field(
        default=15.0, gt=0, le=300, description="A comment line on an idle stream this often (proxies)."
    )
    stream_max_connections: int = Field(
        default=100, ge=1, description="Open `GET /v1/stream` connections per API process (503 above)."
    )
    export_chunk_size: int = Field(
        default=500,
        ge=1,
        le=10_000,
        description="`GET /v1/articles/export` reads this many articles per query.",
    )

    # --- webhooks (saved queries) -----------------------------------------------------
    webhook_interval_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="`newswire webhooks` matches new enrichments to subscriptions and claims due deliveries "
        "this often.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="Total deadline of one webhook attempt: DNS, connect, TLS, sending and reading the "
        "answer together (a receiver trickling bytes is cut when it passes).",
    )
    webhook_max_attempts: int = Field(
        default=8, ge=1, le=100, description="A webhook delivery is marked failed after this many attempts."
    )
    webhook_retry_base_seconds: float = Field(
        default=10.0,
        ge=0,
        description="The first retry of a failed webhook POST waits this long, each next one twice as long "
        "(at most an hour).",
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Let subscriptions call loopback, private and link-local addresses. For tests and local "
        "receivers only: it lets a subscription reach services inside your network.",
    )
    webhook_max_response_bytes: int = Field(
        default=65_536, ge=0, description="Most bytes of a subscriber's answer read (the rest is dropped)."
    )
    webhook_concurrency: int = Field(
        default=16, ge=1, le=1_000, description="Webhook POSTs in flight at once per `newswire webhooks`."
    )
    webhook_subscription_concurrency: int = Field(
        default=4,
        ge=1,
        le=100,
        description="Webhook POSTs in flight at once to one subscription (a slow subscriber uses only its "
        "own slots).",
    )
    webhook_secret_grace_hours: float = Field(
        default=24.0,
        ge=0,
        le=24 * 30,
        description="After `rotate-secret`, the previous secret still signs (a second `v1=`) this long.",
    )
    webhooks_metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port where `newswire webhooks` serves its Prometheus metrics (0: off; `newswire run` "
        "uses 8003).",
    )

    # --- logs -------------------------------------------------------------------------
    log_level: str = Field(default="INFO", description="Log level.")
    log_json: bool = Field(default=True, description="JSON log lines (false: human-readable console).")

    # --- cleaning ---------------------------------------------------------------------
    extract_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Wall seconds the HTML extractor may spend on one page (then: fallback).",
    )
    extract_max_html_chars: int = Field(
        default=2_000_000,
        ge=1000,
        description="Pages longer than this are shrunk first (scripts, styles, SVG, comments, JSON blobs and "
        "`data:` URIs dropped); still longer, the extractor reads only their first this many characters "
        "(flag `too_large`).",
    )
    extract_workers: int = Field(default=2, ge=1, description="HTML extractor processes per ingest process.")
    extract_worker_max_tasks: int = Field(
        default=200, ge=1, description="Pages an extractor process handles before it is replaced."
    )
    extract_worker_max_rss_mb: int = Field(
        default=768, ge=1, description="An extractor process whose resident memory passes this is replaced."
    )
    extract_worker_memory_limit_mb: int = Field(
        default=2048, ge=0, description="Address-space cap of an extractor process (0: none)."
    )
    source_boilerplate_min_articles: int = Field(
        default=5,
        ge=2,
        description="A short line seen in this many stored articles of a source is its boilerplate.",
    )
    source_boilerplate_min_share: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="... and in at least this share of the source's articles (a developing story is not).",
    )

    # --- duplicates ---------------------------------------------------------------------
    neardup_threshold: float = Field(
        default=0.45,
        gt=0,
        le=1,
        description="An article is a near-duplicate of a stored one (an LSH candidate) when the estimated "
        "Jaccard similarity of their word-shingle sets reaches this (chosen by `scripts/eval_dedup.py`).",
    )
    neardup_min_words: int = Field(
        default=80,
        ge=1,
        description="Cleaned texts with fewer words are not checked for near-duplicates, only for the exact "
        "hash: in a short templated brief a few changed facts leave different articles near the threshold.",
    )

    # --- operations (metrics, ops views) ----------------------------------------------
    ingest_metrics_port: int = Field(
        default=9101,
        ge=0,
        le=65535,
        description="Internal port where `newswire serve ingest` serves /metrics (not on the public port; "
        "0: off).",
    )
    api_metrics_port: int = Field(
        default=9100,
        ge=0,
        le=65535,
        description="Internal port where `newswire serve api` serves /metrics with the scrape-time gauges "
        "(not on the public port; 0: off).",
    )
    metrics_cache_seconds: float = Field(
        default=10.0,
        ge=0,
        description="Scrape-time gauges (queue depth, articles by status, source coverage) are computed at "
        "most this often; scrapes in between get the cached figures.",
    )
    metrics_max_sources: int = Field(
        default=50,
        ge=1,
        description="Most `source` label values on /metrics: the sources with the most accepted articles "
        "over the ledger window; the rest are summed as `other`.",
    )
    worker_metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port where `newswire worker` serves the Prometheus metrics of all its processes "
        "(0: off; `newswire run` uses 8002).",
    )
    relay_metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port where `newswire relay` serves its Prometheus metrics (0: off; `newswire run` "
        "uses 8003).",
    )
    metrics_dir: Path | None = Field(
        default=None,
        description="Parent of the per-process-group Prometheus multiprocess directories "
        "(unset: `<tmp>/newswire-metrics`).",
    )
    reprocess_max_per_request: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Most articles one `POST /v1/ops/reprocess` queues (a larger `limit` is cut to it; "
        "the answer says how many remain).",
    )
    reprocess_rate: float = Field(
        default=20.0,
        ge=0,
        description="Articles per second `newswire reprocess` queues by default (0: no limit; `--rate`).",
    )
    ops_rate_window: float = Field(
        default=300.0,
        gt=0,
        description="Window (s) of the per-minute rates in `newswire queues` and /v1/ops.",
    )
    ledger_days: int = Field(
        default=7,
        ge=1,
        le=90,
        description="Days of the coverage ledger a source's usual hourly rate is learnt from "
        "(the same hour of day on each earlier day).",
    )
    source_silent_expected: float = Field(
        default=5.0,
        gt=0,
        description="A source is silent when it sent nothing for as long as it usually takes to send "
        "this many articles (5: a chance below 1% that a source on its usual rate sends none).",
    )
    source_jump: float = Field(
        default=0.25,
        gt=0,
        le=1,
        description="A source's duplicate or failure share jumped when it rose by this much "
        "(last 3 hours against its usual share).",
    )
    source_jump_min_articles: int = Field(
        default=20,
        ge=1,
        description="Articles a source must have pushed in the last 3 hours (and before) to judge a jump.",
    )

    # stories: articles about one event share a story id (shared/stories)
    story_window_hours: float = Field(
        default=72.0,
        gt=0,
        le=24 * 90,
        description="Stories: an article is compared with articles published (else received) within this "
        "many hours of it; the time score falls from 1 to 0 across the window.",
    )
    story_threshold: float = Field(
        default=0.4,
        ge=0,
        le=1,
        description="Stories: an article joins the story of its best match when the match score reaches "
        "this (else it starts a story); see `make eval`.",
    )
    story_weight_text: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Stories: weight of the text part in the match score (the lead-term cosine and the "
        "multilingual embedding cosine, see NEWSWIRE_STORY_WEIGHT_EMBEDDING).",
    )
    story_weight_entities: float = Field(
        default=0.35,
        ge=0,
        le=1,
        description="Stories: weight of the salient-entity cosine (goes to the text when an article has "
        "no entities).",
    )
    story_weight_time: float = Field(
        default=0.15, ge=0, le=1, description="Stories: weight of the time proximity in the match score."
    )
    story_syndication_similarity: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Stories: a member whose lead-term cosine with the article it matched reaches this is "
        "a syndicated copy (its source is not counted as independent).",
    )
    story_weight_embedding: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Stories: share of the text part taken from the multilingual embedding cosine (mapped "
        "onto the term scale) for two articles in one language, the rest from the lead-term cosine (1: the "
        "embedding alone, chosen on the English training pairs); articles in different languages always "
        "use the embedding alone (their terms cannot overlap).  See `make eval`.",
    )
    story_embedding_floor: float = Field(
        default=0.102,
        ge=-1,
        le=1,
        description="Stories: embedding cosine (centred on the mean article embedding) mapped to text "
        "similarity 0 (fitted on English pairs against the lead-term cosine, `scripts/eval_stories.py`).",
    )
    story_embedding_ceiling: float = Field(
        default=0.6,
        ge=-1,
        le=10,
        description="Stories: embedding cosine mapped to text similarity 1 (above the floor; it may exceed "
        "1, which no cosine reaches: the line is then flatter).",
    )


PLATFORM_FILE = "platform.json"
"""What `newswire run` records in its data directory while it runs (mode 600; removed when it stops)."""
PLATFORM_FIELDS = ("database_url", "redis_url", "host", "ingest_port", "api_port", "flower_port")
"""The settings a command run next to `newswire run` takes from its record when the environment is silent."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def record_platform(settings: Settings, *, pid: int, ingest_url: str, api_url: str) -> Path:
    """Write ``<data_dir>/platform.json`` (mode 600: the URLs may carry passwords) for the commands run
    beside this platform; ``settings`` holds the URLs in use (embedded or given)."""
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {name: getattr(settings, name) for name in PLATFORM_FIELDS}
    record |= {
        "pid": pid,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "ingest_url": ingest_url,
        "api_url": api_url,
    }
    path = data_dir / PLATFORM_FILE
    partial = path.with_suffix(".tmp")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(record, out, indent=2)
        out.write("\n")
    partial.replace(path)
    return path


def running_platform(data_dir: Path) -> dict[str, Any] | None:
    """The record of the `newswire run` using ``data_dir``; None if absent, unreadable or its process gone."""
    try:
        record = json.loads((data_dir / PLATFORM_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict):
        return None
    pid = record.get("pid")
    if not isinstance(pid, int) or not _alive(pid):
        return None
    return {str(name): value for name, value in record.items()}


def load_settings() -> Settings:
    """The environment (and ``.env``), then, for what they leave unset, the running platform's record."""
    settings = Settings()
    record = running_platform(settings.data_dir)
    if record is None:
        return settings
    found = {
        name: record[name]
        for name in PLATFORM_FIELDS
        if record.get(name) is not None and name not in settings.model_fields_set
    }
    key_file = settings.data_dir / "api-key"
    if "api_key" not in settings.model_fields_set and key_file.is_file():
        found["api_key"] = key_file.read_text().strip() or None
    return Settings(**found) if found else settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the settings once per process (`load_settings`)."""
    return load_settings()
