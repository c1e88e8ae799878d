"""The worker's Celery application: the shared configuration (`shared.jobs.broker`) plus the task
modules listed in `include`, and the per-process engine hygiene around forks."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_process_init, worker_process_shutdown

from shared.db import dispose_engines
from shared.jobs.broker import ENRICH_TASK, create_celery

__all__ = ["ENRICH_TASK", "celery_app"]

celery_app = create_celery(include=["services.enrich.articles.tasks"])


@worker_process_init.connect
def _after_fork(**_: Any) -> None:
    # Engines (and their sockets) must never cross a fork: drop whatever the parent built.
    dispose_engines()


@worker_process_shutdown.connect
def _on_shutdown(**_: Any) -> None:
    dispose_engines()
