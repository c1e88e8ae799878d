"""Jobs: starting work on an article.

- `contract`  the enrich job's payload as a typed model (what the outbox row carries)
- `broker`    the task name, the Celery app every service publishes with, `send_enrich`
- `outbox`    all SQL of the outbox, publish-after-commit, batch take-over, a worker's start of a job
- `enqueue`   `enqueue_enrich(...)`, the one way every caller starts an enrich job
- `relay`     the relay pass and loop (`newswire relay`)
- `queues`    queue figures for operators

Exactly once
------------
A job is an outbox row; its messages are at least once (a request's publish, the relay's republish when
the job's lease runs out, a broker redelivery), its effects exactly once:

- **Leases.** ``outbox.lease_until`` is the deadline of the job's current holder: a publisher
  (`PUBLISH_LEASE`), the broker queue (NEWSWIRE_OUTBOX_REDELIVER_AFTER, doubled per republish), a
  worker (NEWSWIRE_TASK_TIME_LIMIT + NEWSWIRE_OUTBOX_REDELIVER_AFTER). The relay republishes any job past
  its lease, whatever the queue depth.
- **Start.** A worker starts a job in a transaction committed before the work: a job already completed
  (a duplicate or late message) or taken over by a batch is a no-op (``newswire_enrich_duplicate_
  messages_total``); otherwise the article's unfinished attempt count is incremented (poison past
  NEWSWIRE_ENRICH_MAX_ATTEMPTS).
- **Save.** Under the article's row lock the worker checks its job is still pending, writes the
  enrichment and completes the article's jobs in the same transaction: a second delivery running at the
  same time writes nothing.
- **Events.** ``article_events`` are unique per (article, enrichment version, revision) (migration
  0020), so a redelivered job never emits a second stream event; webhook deliveries are unique per
  (subscription, event), so none is doubled either, and a delivery keeps its id across its retries.

Lock order
----------
Every transaction that locks both takes **article rows before outbox rows**, each set in ascending id
order, and never holds a row lock across a broker call:

- the relay and a request's publish: claim the due outbox rows (``FOR UPDATE SKIP LOCKED``; no article
  row touched) and commit; publish with no transaction open; then mark them published: article rows
  (``queued_at``) first, then the outbox rows;
- a worker's start: the article row (``FOR UPDATE``), then its job's outbox row; a batch then locks the
  other articles (``SKIP LOCKED``), then their jobs (``SKIP LOCKED``) — it never waits for them;
- a worker's save (and mark failed): story locks, the article row, then the article's outbox rows;
- reprocess, retries and overrides insert new outbox rows only (the foreign key takes a share lock on
  the article row: article first).
"""
