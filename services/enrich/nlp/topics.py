"""A transparent, deterministic topic scorer onto the 17 top-level IPTC Media Topics.

Foundation version: every topic has a hand-written lexicon of general news vocabulary (lemmas and short
phrases).  Hits are counted (title hits weigh more), divided by the (smoothed) weighted token count of the
article, and a logistic function turns that density into a score in 0..1.  A learned model is meant to
replace this later behind the same :func:`score_topics` interface.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from functools import lru_cache

from .models import TopicScore

#: The 17 top-level IPTC Media Topics (https://cv.iptc.org/newscodes/mediatopic/), as (code, label).
IPTC_TOPICS: tuple[tuple[str, str], ...] = (
    ("medtop:01000000", "arts, culture, entertainment and media"),
    ("medtop:02000000", "crime, law and justice"),
    ("medtop:03000000", "disaster, accident and emergency incident"),
    ("medtop:04000000", "economy, business and finance"),
    ("medtop:05000000", "education"),
    ("medtop:06000000", "environment"),
    ("medtop:07000000", "health"),
    ("medtop:08000000", "human interest"),
    ("medtop:09000000", "labour"),
    ("medtop:10000000", "lifestyle and leisure"),
    ("medtop:11000000", "politics"),
    ("medtop:12000000", "religion"),
    ("medtop:13000000", "science and technology"),
    ("medtop:14000000", "society"),
    ("medtop:15000000", "sport"),
    ("medtop:16000000", "conflict, war and peace"),
    ("medtop:17000000", "weather"),
)

#: Indicative lemmas and short phrases per topic: general news vocabulary, in base form.
# fmt: off
LEXICONS: dict[str, tuple[str, ...]] = {
    "medtop:01000000": (
        "art", "artist", "museum", "exhibition", "gallery", "painting", "painter", "sculpture", "film",
        "movie", "cinema", "actor", "actress", "album", "song", "singer", "songwriter", "concert", "music",
        "musician", "band", "orchestra", "theatre", "theater", "novel", "novelist", "author", "book", "poet",
        "poetry", "opera", "ballet", "television", "tv show", "sitcom", "broadcaster", "hollywood", "oscar",
        "grammy", "box office", "celebrity", "premiere", "documentary", "comedy", "comedian", "drama",
        "magazine", "journalist", "journalism", "publisher", "entertainment", "rapper", "literature",
        "film festival", "culture", "cultural", "heritage",
    ),
    "medtop:02000000": (
        "police", "policeman", "arrest", "court", "judge", "jury", "trial", "lawsuit", "sue", "prosecutor",
        "prosecution", "crime", "criminal", "murder", "homicide", "robbery", "theft", "fraud", "convict",
        "conviction", "prison", "jail", "inmate", "guilty", "plead", "lawyer", "attorney", "verdict",
        "detective", "suspect", "shooting", "stabbing", "smuggling", "trafficking", "corruption", "bribery",
        "indictment", "indict", "supreme court", "felony", "custody", "bail", "parole", "gang", "cartel",
        "kidnap", "kidnapping", "assault", "rape", "illegal", "allegation", "accuse", "investigator",
        "death penalty", "law enforcement", "offender", "manslaughter",
    ),
    "medtop:03000000": (
        "earthquake", "quake", "tsunami", "flood", "flooding", "wildfire", "fire", "blaze", "explosion",
        "crash", "plane crash", "derail", "collapse", "accident", "emergency", "rescue", "rescuer",
        "evacuate", "evacuation", "death toll", "injure", "survivor", "disaster", "catastrophe", "landslide",
        "mudslide", "avalanche", "volcano", "eruption", "famine", "oil spill", "shipwreck", "capsize",
        "firefighter", "relief effort", "debris", "magnitude", "aftershock", "emergency service",
        "search and rescue", "wreckage", "stampede", "blast", "fatality", "red cross", "humanitarian aid",
    ),
    "medtop:04000000": (
        "economy", "economic", "market", "stock", "share", "investor", "investment", "bank", "banking",
        "profit", "revenue", "earnings", "quarter", "quarterly", "sales", "price", "inflation",
        "interest rate", "central bank", "gdp", "growth", "recession", "trade", "export", "import", "tariff",
        "company", "firm", "corporation", "ceo", "chief executive", "merger", "acquisition", "acquire",
        "dollar", "currency", "bond", "oil price", "business", "industry", "retail", "retailer",
        "consumer", "manufacturing", "manufacturer", "analyst", "fiscal", "tax", "debt", "loan", "credit",
        "bankruptcy", "shareholder", "dividend", "ipo", "stock market", "wall street", "startup", "fund",
        "billion", "financial", "finance", "customer",
    ),
    "medtop:05000000": (
        "school", "student", "teacher", "pupil", "classroom", "university", "college", "campus",
        "education", "educational", "curriculum", "exam", "examination", "degree", "graduate",
        "graduation", "tuition", "scholarship", "professor", "lecturer", "academic", "kindergarten",
        "preschool", "literacy", "enrollment", "enrolment", "semester", "lesson", "homework",
        "headteacher", "school board", "teaching", "diploma", "undergraduate", "faculty", "textbook",
        "dropout", "high school", "primary school", "secondary school", "schooling", "learner",
    ),
    "medtop:06000000": (
        "environment", "environmental", "climate", "climate change", "global warming", "emission",
        "carbon", "greenhouse gas", "pollution", "pollutant", "conservation", "wildlife", "endangered",
        "biodiversity", "forest", "deforestation", "renewable", "solar", "wind power", "wind farm",
        "recycling", "recycle", "waste", "plastic", "ocean", "habitat", "ecosystem", "sustainability",
        "sustainable", "fossil fuel", "coal", "environmentalist", "national park", "extinction", "coral",
        "glacier", "toxic", "contamination", "clean energy", "endangered species", "water quality",
        "conservationist", "ozone", "logging",
    ),
    "medtop:07000000": (
        "health", "hospital", "patient", "doctor", "nurse", "disease", "virus", "infection", "vaccine",
        "vaccination", "medicine", "medical", "treatment", "therapy", "cancer", "diabetes", "heart disease",
        "surgery", "surgeon", "clinic", "illness", "outbreak", "pandemic", "epidemic", "symptom",
        "diagnosis", "healthcare", "health care", "mental health", "obesity", "flu", "influenza", "hiv",
        "pharmaceutical", "physician", "prescription", "chronic", "nutrition", "drug maker", "clinical trial",
        "public health", "infect", "dementia", "stroke", "health insurance",
    ),
    "medtop:08000000": (
        "birthday", "anniversary", "celebrate", "celebration", "wedding", "pet", "dog", "cat", "animal",
        "zoo", "hero", "heartwarming", "quirky", "oldest", "centenarian", "royal", "royal family", "queen",
        "prince", "princess", "reunite", "reunion", "lottery", "jackpot", "guinness", "world record",
        "bizarre", "viral", "baby", "twin", "newborn", "adopt", "adoption", "kindness", "good samaritan",
        "teenager", "grandmother", "grandfather",
    ),
    "medtop:09000000": (
        "labor", "labour", "worker", "employee", "employer", "job", "employment", "unemployment",
        "unemployed", "wage", "minimum wage", "salary", "union", "trade union", "labor union", "strike",
        "walkout", "layoff", "lay off", "hire", "hiring", "workforce", "pension", "retirement",
        "workplace", "overtime", "collective bargaining", "jobless", "payroll", "labor market",
        "job cut", "staff", "recruit", "career", "occupational", "picket", "jobless claim",
    ),
    "medtop:10000000": (
        "travel", "tourism", "tourist", "holiday", "vacation", "hotel", "resort", "restaurant", "food",
        "recipe", "cooking", "cook", "chef", "beer", "fashion", "style", "designer", "beauty",
        "shopping", "hobby", "garden", "gardening", "leisure", "fitness", "exercise", "yoga", "video game",
        "cruise", "beach", "destination", "decor", "lifestyle", "wellness", "dining", "cuisine",
        "outdoor", "hiking", "camping", "fishing", "toy", "theme park", "weekend", "menu",
    ),
    "medtop:11000000": (
        "politics", "political", "politician", "election", "elect", "vote", "voter", "ballot", "poll",
        "campaign", "candidate", "parliament", "parliamentary", "congress", "senate", "senator", "lawmaker",
        "legislation", "legislator", "legislature", "minister", "prime minister", "president",
        "presidential", "government", "governor", "mayor", "party", "opposition", "democrat",
        "republican", "democracy", "cabinet", "diplomat", "diplomatic", "diplomacy", "foreign minister",
        "embassy", "ambassador", "summit", "treaty", "sanction", "referendum", "constitution", "coalition",
        "policy", "administration", "white house", "regime", "secretary of state", "bilateral",
        "talks", "leader", "ruling party", "premier",
    ),
    "medtop:12000000": (
        "religion", "religious", "church", "mosque", "temple", "synagogue", "pope", "vatican", "bishop",
        "archbishop", "priest", "imam", "rabbi", "clergy", "cleric", "faith", "worship", "prayer", "pray",
        "christian", "muslim", "islam", "islamic", "jewish", "judaism", "hindu", "buddhist", "catholic",
        "protestant", "god", "holy", "pilgrim", "pilgrimage", "ramadan", "christmas", "easter", "sermon",
        "spiritual", "sect", "cathedral", "monk", "nun", "believer", "theology", "evangelical",
    ),
    "medtop:13000000": (
        "science", "scientist", "scientific", "research", "researcher", "study", "technology", "tech",
        "software", "hardware", "computer", "computing", "internet", "online", "web", "website",
        "digital", "app", "smartphone", "phone", "mobile", "device", "chip", "semiconductor", "processor",
        "data", "artificial intelligence", "robot", "robotics", "space", "satellite", "rocket",
        "astronaut", "planet", "orbit", "telescope", "physics", "chemistry", "biology", "experiment",
        "laboratory", "lab", "discovery", "innovation", "engineer", "engineering", "cyber", "hacker",
        "network", "wireless", "broadband", "browser", "genome", "gene", "dna", "fossil", "galaxy",
        "quantum", "spacecraft", "email", "user", "download", "search engine", "operating system",
        "open source", "server", "gadget", "spam", "telecom", "wi-fi", "microchip", "nasa",
    ),
    "medtop:14000000": (
        "society", "social", "community", "family", "poverty", "poor", "homeless", "homelessness",
        "inequality", "discrimination", "racism", "immigration", "immigrant", "migrant", "refugee",
        "asylum", "welfare", "charity", "human rights", "gender", "women", "minority", "protest",
        "demonstration", "demonstrator", "protester", "activist", "civil rights", "population", "census",
        "housing", "elderly", "youth", "child", "marriage", "abortion", "same-sex", "diversity",
        "integration", "volunteer", "citizenship", "social security", "neighborhood", "neighbourhood",
    ),
    "medtop:15000000": (
        "sport", "match", "game", "league", "team", "player", "coach", "goal", "tournament",
        "championship", "champion", "world cup", "olympic", "olympics", "medal", "gold medal", "victory",
        "defeat", "season", "playoff", "final", "semifinal", "quarterfinal", "stadium", "fan", "referee",
        "striker", "midfielder", "goalkeeper", "football", "soccer", "basketball", "baseball", "tennis",
        "golf", "cricket", "rugby", "hockey", "boxing", "racing", "athlete", "athletics", "marathon",
        "cycling", "swimmer", "inning", "innings", "wicket", "touchdown", "quarterback", "pitcher",
        "home run", "grand slam", "squad", "nba", "nfl", "fifa", "uefa", "lap", "podium", "teammate",
        "score", "cup", "win", "beat", "club", "title",
    ),
    "medtop:16000000": (
        "war", "military", "army", "troop", "soldier", "militant", "insurgent", "rebel", "attack", "bomb",
        "bombing", "airstrike", "air strike", "missile", "ceasefire", "cease-fire", "peace talks", "peace",
        "invasion", "occupation", "fighting", "clash", "battle", "combat", "weapon", "armed", "terrorism",
        "terrorist", "gunman", "suicide bomber", "insurgency", "guerrilla", "offensive", "shelling",
        "artillery", "drone strike", "hostage", "civilian", "militia", "jihadist", "nato", "defense",
        "defence", "navy", "air force", "warplane", "tank", "nuclear weapon", "coup", "genocide",
        "massacre", "kill", "security force", "fighter", "conflict",
    ),
    "medtop:17000000": (
        "weather", "forecast", "forecaster", "rain", "rainfall", "snow", "snowfall", "storm",
        "thunderstorm", "hurricane", "typhoon", "cyclone", "tornado", "wind", "gust", "temperature",
        "heat", "heatwave", "heat wave", "cold", "freeze", "frost", "fog", "hail", "humidity", "sunny",
        "cloud", "cloudy", "meteorologist", "meteorological", "weather service", "celsius", "fahrenheit",
        "blizzard", "monsoon", "el nino", "shower", "drought", "weather warning", "tropical storm",
    ),
}
# fmt: on

TITLE_WEIGHT = 2.0  #: a title token counts this many body tokens, for hits and for length alike
PHRASE_WEIGHT = 1.5  #: a multi-word lexicon entry is more specific than a single word
SMOOTHING_TOKENS = 20.0  #: added to the token count so that one hit in a tiny text is not a certainty
LOGISTIC_MIDPOINT = 0.02  #: hit density that scores 0.5
LOGISTIC_SLOPE = 150.0
THRESHOLD = 0.35  #: topics below this are dropped (except the best one when there is any hit)
MAX_TOPICS = 5

_LEXICON_DIGEST = hashlib.sha256(
    repr(sorted(LEXICONS.items())).encode()
    + repr(
        (TITLE_WEIGHT, PHRASE_WEIGHT, SMOOTHING_TOKENS, LOGISTIC_MIDPOINT, LOGISTIC_SLOPE, THRESHOLD)
    ).encode()
).hexdigest()[:8]
TOPICS_VERSION: str = f"iptc-lexicon-1+{_LEXICON_DIGEST}"

_TOKEN_RE = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_LABELS = dict(IPTC_TOPICS)


def normalise(token: str) -> str:
    """A crude, deterministic suffix strip applied to text tokens, lemmas and lexicon entries alike."""
    word = token.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
    if len(word) > 4 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]  # "running" -> "runn" -> "run", "stopped" -> "stopp" -> "stop"
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens of ``text``, normalised with :func:`normalise`."""
    return [normalise(t) for t in _TOKEN_RE.findall(text.lower())]


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[tuple[tuple[str, ...], int], ...]]]:
    """``(unigram -> topic indexes, first word -> ((phrase words, topic index), ...))``."""
    position = {code: i for i, (code, _) in enumerate(IPTC_TOPICS)}
    unigrams: dict[str, set[int]] = {}
    phrases: dict[str, set[tuple[tuple[str, ...], int]]] = {}
    for code, terms in LEXICONS.items():
        for term in terms:
            words = tuple(tokenize(term))
            if len(words) == 1:
                unigrams.setdefault(words[0], set()).add(position[code])
            elif words:
                phrases.setdefault(words[0], set()).add((words, position[code]))
    return (
        {w: tuple(sorted(t)) for w, t in unigrams.items()},
        {w: tuple(sorted(p)) for w, p in phrases.items()},
    )


def _hits(tokens: Sequence[str], weight: float, totals: list[float]) -> None:
    unigrams, phrases = _index()
    for i, token in enumerate(tokens):
        for topic in unigrams.get(token, ()):
            totals[topic] += weight
        for words, topic in phrases.get(token, ()):
            if tuple(tokens[i : i + len(words)]) == words:
                totals[topic] += weight * PHRASE_WEIGHT


def _logistic(density: float) -> float:
    return 1.0 / (1.0 + math.exp(-LOGISTIC_SLOPE * (density - LOGISTIC_MIDPOINT)))


def score_topics(
    title: str | None, text: str, *, lemmas: Sequence[str] | None = None
) -> tuple[TopicScore, ...]:
    """Score ``title`` + ``text`` against the 17 IPTC top-level topics.

    ``lemmas``, when given, are the lemmas of ``text`` (the body) from spaCy and are matched instead of
    tokenising ``text``; the title is always tokenised here.  Returns the topics scoring at least
    :data:`THRESHOLD`, best first, at most :data:`MAX_TOPICS`, and at least the best topic whenever any
    lexicon entry matched; an empty tuple when nothing matched.
    """
    title_tokens = tokenize(title) if title else []
    if lemmas is not None:
        body_tokens = [normalise(lemma) for lemma in lemmas if _TOKEN_RE.fullmatch(lemma.lower())]
    else:
        body_tokens = tokenize(text)
    totals = [0.0] * len(IPTC_TOPICS)
    _hits(title_tokens, TITLE_WEIGHT, totals)
    _hits(body_tokens, 1.0, totals)
    if not any(totals):
        return ()
    length = TITLE_WEIGHT * len(title_tokens) + len(body_tokens) + SMOOTHING_TOKENS
    ranked = sorted(
        ((total, code) for (code, _), total in zip(IPTC_TOPICS, totals, strict=True) if total > 0),
        key=lambda pair: (-pair[0], pair[1]),
    )
    scored = [
        TopicScore(code=code, label=_LABELS[code], score=round(_logistic(total / length), 4))
        for total, code in ranked
    ]
    kept = [t for t in scored if t.score >= THRESHOLD][:MAX_TOPICS]
    return tuple(kept) if kept else (scored[0],)
