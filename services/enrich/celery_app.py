"""The worker's Celery application: the shared configuration (`shared.jobs.broker`) plus the task
modules listed in `include`, and the per-process engine hygiene around forks."""

from __future__ import annotations

from typing import Any

import structlog
from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown, worker_ready

from shared import versions
from shared.db import dispose_engines, session_scope, set_role
from shared.jobs.broker import ENRICH_TASK, celery_config
from shared.settings import get_settings

log = structlog.get_logger("newswire.enrich")

__all__ = ["ENRICH_TASK", "celery_app"]

# configured when first used (the worker starts, a task is sent), from the settings of that moment: importing
# this module reads no settings
celery_app = Celery("newswire", include=["services.enrich.articles.tasks"])
celery_app.add_defaults(lambda: celery_config(get_settings()))


@worker_process_init.connect
def _after_fork(**_: Any) -> None:
    # Engines (and their sockets) must never cross a fork: drop whatever the parent built.
    dispose_engines()
    set_role("worker")  # the worker's statement, lock and idle-in-transaction timeouts


@worker_process_shutdown.connect
def _on_shutdown(**_: Any) -> None:
    dispose_engines()


def record_versions() -> dict[str, str]:
    """Record in the database the versions this worker enriches with (read by the API and the CLI)."""
    from services.enrich.nlp.versions import current_versions

    settings = get_settings()
    model = settings.spacy_model
    current = current_versions(model, multilingual=settings.multilingual_embedding)
    with session_scope() as session:
        versions.record(session, model=model, versions=current)
    return current


@worker_ready.connect
def _on_ready(**_: Any) -> None:
    try:
        current = record_versions()
        log.info("versions_recorded", version=versions.version_key(current))
    except Exception as exc:  # readers fall back to the latest enrichment's versions
        log.warning("versions_not_recorded", error=f"{type(exc).__name__}: {exc}"[:300])
    finally:
        dispose_engines()  # the parent's engine must not reach a later fork
