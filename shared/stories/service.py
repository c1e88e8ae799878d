"""Story assignment: give an enriched article the story of its best match, or a new one.

Runs in the caller's transaction (the enrichment's, or a reassignment's); never commits.  Race safety:
an assignment first shares the global story lock and takes an advisory lock per lookup key, so two
articles that could match (they share a key, or they would never find each other) are assigned one after
the other; a reassignment holds the global lock exclusively.  Idempotent: re-assigning an article first
takes it out of its story and gives it back that story when it is still the best (or the story would be
left empty)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from shared.dates import EARLIEST, LATEST
from shared.stories import repository
from shared.stories.scoring import Candidate, Match, StoryRules, best_match
from shared.stories.signature import StorySignature, Vector, build_signature, quantise, restore

CANDIDATES_PER_KEY = 50  # most recent articles per lookup key a candidate search reads
TOP_ENTITIES = 5  # entities a story lists
REASSIGN_CHUNK = 500  # articles whose text a reassignment reads at once


@dataclass(frozen=True, slots=True)
class Assignment:
    article_id: int
    story_id: int
    match: Match | None  # None: the article started the story (or kept it alone)


def lock_signature(
    *,
    session: Session,
    title: str,
    text: str,
    entities: Iterable[tuple[str, str, float]],
    embedding: Vector | None = None,
    language: str | None = None,
) -> StorySignature:
    """The article's signature (without its time), with its assignment locks taken.  Call it before
    locking the article row, so every assignment takes its locks in one order."""
    signature = build_signature(
        title=title, text=text, entities=entities, at=None, embedding=embedding, language=language
    )
    repository.lock_for_assignment(session, keys=signature.keys)
    return signature


def assign_story(
    *, session: Session, article_id: int, signature: StorySignature, rules: StoryRules
) -> Assignment:
    """Put the article in the story of its best match at or above the threshold, else in a new story;
    the stories it leaves and joins are recomputed.  ``signature`` comes from :func:`lock_signature`."""
    at = repository.story_time(session, article_id=article_id)
    if at is None:
        raise LookupError(f"article {article_id} does not exist")
    previous = repository.story_of(session, article_id=article_id)
    if previous is not None:
        repository.set_story(session, article_ids=[article_id], story_id=None)
    assignment = _place(
        session=session,
        article_id=article_id,
        signature=replace(signature, at=at),
        previous=previous,
        rules=rules,
    )
    for story_id in sorted({assignment.story_id, *([previous] if previous is not None else [])}):
        repository.refresh_story(session, story_id=story_id, top_entities=TOP_ENTITIES)
    return assignment


def _candidates(
    *, session: Session, article_id: int, signature: StorySignature, rules: StoryRules
) -> list[Candidate]:
    assert signature.at is not None
    window = timedelta(hours=rules.window_hours)
    zone = signature.at.tzinfo
    earliest, latest = (
        (EARLIEST, LATEST) if zone else (EARLIEST.replace(tzinfo=None), LATEST.replace(tzinfo=None))
    )
    rows = repository.candidates(
        session,
        keys=signature.keys,
        lo=max(signature.at, earliest + window) - window,  # a stored date at the edge of the range
        hi=min(signature.at, latest - window) + window,  # cannot overflow (shared.dates)
        article_id=article_id,
        per_key=CANDIDATES_PER_KEY,
    )
    return [
        Candidate(
            article_id=r.article_id,
            story_id=r.story_id,
            signature=StorySignature(
                at=r.at,
                terms=frozenset(r.terms),
                entities=dict(zip(r.entity_keys, r.entity_weights, strict=True)),
                keys=(),
                embedding=restore(r.embedding),
                language=r.language,
            ),
        )
        for r in rows
    ]


def _place(
    *, session: Session, article_id: int, signature: StorySignature, previous: int | None, rules: StoryRules
) -> Assignment:
    """Choose the article's story (it is in none now) and store its signature and keys."""
    assert signature.at is not None
    match = best_match(
        signature,
        _candidates(session=session, article_id=article_id, signature=signature, rules=rules),
        rules=rules,
    )
    wanted = [match.candidate.story_id] if match is not None else []
    if previous is not None:
        wanted.append(previous)
    locked = repository.lock_stories(session, story_ids=wanted)
    if match is not None:
        story_id = match.candidate.story_id
    elif previous in locked and repository.story_members(session, story_id=previous) == 0:
        story_id = previous  # it keeps its story id (re-enrichment, reassignment)
    else:
        story_id = repository.create_story(session)
    repository.save_signature(
        session,
        article_id=article_id,
        at=signature.at,
        terms=sorted(signature.terms),
        entity_keys=list(signature.entities),
        entity_weights=list(signature.entities.values()),
        embedding=None if signature.embedding is None else quantise(signature.embedding),
        keys=signature.keys,
        match=None
        if match is None
        else {
            "article_id": match.candidate.article_id,
            "score": match.score.total,
            "text": match.score.text,
            "entities": match.score.entities,
            "time": match.score.time,
            "terms": match.score.terms,
            "embedding": match.score.embedding,
            "crosslingual": match.score.crosslingual,
        },
        syndicated=match is not None and match.syndicated(rules),
    )
    repository.set_story(session, article_ids=[article_id], story_id=story_id)
    return Assignment(article_id=article_id, story_id=story_id, match=match)


@dataclass(frozen=True, slots=True)
class ReassignResult:
    articles: int  # enriched articles in the range, all re-assigned
    stories: int  # distinct stories they are in now
    joined: int  # articles that joined an earlier article's story
    removed: int  # stories left without articles (deleted)


def reassign(
    *, session: Session, since: datetime | None, until: datetime | None, rules: StoryRules
) -> ReassignResult:
    """Re-run story assignment over the enriched articles whose time (published, else received) is in
    ``[since, until)``, in that time's order (then id), with ``rules``: every article leaves its story,
    then each is placed as if it arrived in that order.  Holds the global story lock, so no worker
    assigns meanwhile.  Deterministic and idempotent: a second run with the same rules changes nothing
    (a story keeps its id when its earliest article starts it again)."""
    repository.lock_for_reassignment(session)
    rows = repository.articles_in_range(session, since=since, until=until)
    previous = {r.id: r.story_id for r in rows if r.story_id is not None}
    touched = set(previous.values())
    repository.lock_stories(session, story_ids=sorted(touched))
    ids = [r.id for r in rows]
    for chunk in _chunks(ids):
        repository.set_story(session, article_ids=chunk, story_id=None)
    at = {r.id: r.at for r in rows}
    joined = 0
    stories: set[int] = set()
    for chunk in _chunks(ids):
        inputs = repository.story_inputs(session, article_ids=chunk)
        entities = repository.entities_of(session, article_ids=chunk)
        for article_id in chunk:
            title, text, language, embedding = inputs[article_id]
            signature = build_signature(
                title=title,
                text=text,
                entities=entities[article_id],
                at=at[article_id],
                embedding=restore(embedding),
                language=language,
            )
            assignment = _place(
                session=session,
                article_id=article_id,
                signature=signature,
                previous=previous.get(article_id),
                rules=rules,
            )
            stories.add(assignment.story_id)
            joined += assignment.match is not None
    removed = 0
    for story_id in sorted(touched | stories):
        if repository.refresh_story(session, story_id=story_id, top_entities=TOP_ENTITIES) == 0:
            removed += 1
    return ReassignResult(articles=len(ids), stories=len(stories), joined=joined, removed=removed)


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), REASSIGN_CHUNK):
        yield list(ids[start : start + REASSIGN_CHUNK])
