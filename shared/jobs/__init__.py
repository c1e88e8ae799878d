"""Jobs: starting work on an article.

- `contract`  the enrich job's payload as a typed model (what the outbox row carries)
- `broker`    the task name, the Celery app every service publishes with, `send_enrich`
- `outbox`    all SQL of the outbox, publish-after-commit, batch take-over
- `enqueue`   `enqueue_enrich(...)`, the one way every caller starts an enrich job
- `relay`     the relay pass and loop (`newswire relay`)
- `queues`    queue figures for operators
"""
