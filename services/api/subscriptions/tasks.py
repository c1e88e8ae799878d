"""The webhook loop of an API process: match new enrichments to subscriptions, POST what is due."""

from __future__ import annotations

import asyncio

import httpx
import structlog
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from services.api.subscriptions import service
from shared.settings import get_settings

log = structlog.get_logger("newswire.webhooks")


def run_once(factory: sessionmaker[Session], http: httpx.Client) -> tuple[int, int]:
    """(deliveries added, deliveries delivered): two transactions, each committed here (the edge)."""
    with factory() as session:
        added = service.match(session=session)
        session.commit()
    with factory() as session:
        delivered = service.deliver(session=session, http=http)
        session.commit()
    return added, delivered


async def webhook_loop(factory: sessionmaker[Session]) -> None:
    """Forever, every NEWSWIRE_WEBHOOK_INTERVAL_SECONDS; survives a database or subscriber outage."""
    with httpx.Client(follow_redirects=False) as http:
        while True:
            try:
                await run_in_threadpool(run_once, factory, http)
            except Exception as exc:
                log.warning("webhook_pass_failed", error=f"{type(exc).__name__}: {exc}"[:300])
            await asyncio.sleep(get_settings().webhook_interval_seconds)
