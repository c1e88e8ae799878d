"""Distinct events written from one template: automated earthquake reports, product recalls, sports
results, earnings, weather warnings, election tallies, obituaries.  Two fills of one template share most
of their words, yet they report different events; the near-duplicate decision must keep both.

    from scripts.templated_events import events
    events(random.Random(7), per_template=40)  # [(template, title, text), ...]

Every fill is drawn with the caller's seeded RNG; each body is over 80 words (so it reaches the
near-duplicate path).  Used by ``scripts/eval_dedup.py`` (negatives) and the ingest tests.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

PLACES = [
    "Ridgecrest", "Anza", "Petrolia", "Hilo", "Anchorage", "Tonopah", "Coalinga", "Ferndale", "Parkfield",
    "Ocotillo", "Salton City", "Big Pine", "Hollister", "Eureka", "Bishop", "Mammoth Lakes", "Ojai",
    "Palm Springs", "Indio", "Borrego Springs", "Cobb", "Gilroy", "Volcano", "Pahala", "Naalehu",
]  # fmt: skip
REGIONS = ["California", "Nevada", "Alaska", "Hawaii", "Oregon", "Washington", "Utah", "Idaho"]
DIRECTIONS = ["north", "south", "east", "west", "north-east", "north-west", "south-east", "south-west"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
]  # fmt: skip
COMPANIES = [
    "Acme Foods", "Northwind Traders", "Contoso Appliances", "Globex Pharma", "Initech Motors",
    "Umbrella Toys", "Soylent Dairy", "Hooli Devices", "Vandelay Industries", "Stark Cycles",
    "Wayne Kitchens", "Tyrell Baby Goods", "Cyberdyne Tools", "Wonka Confectionery", "Gringotts Bank",
    "Pied Piper Software", "Duff Brewing", "Monarch Airlines", "Oceanic Foods", "Massive Dynamic",
]  # fmt: skip
PRODUCTS = [
    "frozen chicken nuggets", "baby car seats", "space heaters", "peanut butter", "electric scooters",
    "infant formula", "ground beef", "dishwashers", "bicycle helmets", "cough syrup", "phone chargers",
    "pressure cookers", "salad kits", "strollers", "smoke alarms", "dog food", "chocolate bars",
]  # fmt: skip
HAZARDS = [
    "possible salmonella contamination", "a fire risk", "undeclared milk", "a choking hazard",
    "a faulty latch", "possible listeria contamination", "overheating batteries", "metal fragments",
]  # fmt: skip
TEAMS = [
    "Arsenal", "Chelsea", "Liverpool", "Everton", "Tottenham", "Newcastle", "Brighton", "Fulham",
    "Brentford", "Wolves", "Aston Villa", "West Ham", "Crystal Palace", "Bournemouth", "Burnley",
    "Leeds", "Sunderland", "Nottingham Forest",
]  # fmt: skip
PLAYERS = [
    "Saka", "Palmer", "Salah", "Isak", "Watkins", "Bowen", "Mitoma", "Mbeumo", "Eze", "Solanke",
    "Gordon", "Havertz", "Jackson", "Nunez", "Kulusevski", "Wood", "Cunha", "Calvert-Lewin",
]  # fmt: skip
STADIUMS = ["the Emirates", "Stamford Bridge", "Anfield", "Goodison Park", "Villa Park", "St James' Park"]
CITIES = [
    "Springfield", "Riverton", "Fairview", "Greenville", "Madison", "Franklin", "Clinton", "Salem",
    "Georgetown", "Ashland", "Dover", "Milton", "Oxford", "Burlington", "Manchester", "Kingston",
]  # fmt: skip
FIRST = [
    "Margaret", "Harold", "Dorothy", "Walter", "Evelyn", "Arthur", "Ruth", "Eugene", "Helen", "Frank",
    "Mildred", "George", "Alice", "Raymond", "Betty", "Leonard", "Joan", "Stanley", "Irene", "Howard",
]  # fmt: skip
LAST = [
    "Thompson", "Okafor", "Lindqvist", "Moreau", "Castellano", "Nakamura", "Fitzgerald", "Kowalski",
    "Abernathy", "Delgado", "Whitfield", "Brennan", "Haugen", "Petrakis", "Oyelaran", "Sutherland",
]  # fmt: skip
PARTIES = [("Labour", "Conservative"), ("Democratic", "Republican"), ("Liberal", "Green")]
JOBS = ["teacher", "nurse", "carpenter", "librarian", "engineer", "farmer", "postmaster", "pharmacist"]


@dataclass(frozen=True, slots=True)
class Event:
    template: str
    title: str
    text: str


def _earthquake(r: random.Random) -> tuple[str, str]:
    mag = f"{r.uniform(2.5, 7.5):.1f}"
    km = r.randint(2, 90)
    d = r.choice(DIRECTIONS)
    place, region = r.choice(PLACES), r.choice(REGIONS)
    day = r.choice(DAYS)
    t = f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}"
    depth = f"{r.uniform(1, 40):.1f}"
    title = f"M {mag} earthquake - {km} km {d.upper()} of {place}, {region}"
    text = (
        f"A magnitude {mag} earthquake struck {km} kilometres {d} of {place}, {region}, on {day} at {t} "
        f"local time, according to the United States Geological Survey.\n\n"
        f"The quake occurred at a depth of {depth} kilometres. The agency's automated system detected the "
        f"event and issued this preliminary report, which may be revised as seismologists review the data "
        f"from nearby monitoring stations.\n\n"
        f"There were no immediate reports of damage or injuries. Residents who felt the shaking are asked "
        f"to report their experience on the survey's website, which helps scientists estimate the "
        f"intensity of the ground motion in the surrounding area.\n\n"
        f"This story was generated automatically from data published by the survey."
    )
    return title, text


def _recall(r: random.Random) -> tuple[str, str]:
    company, product, hazard = r.choice(COMPANIES), r.choice(PRODUCTS), r.choice(HAZARDS)
    units = f"{r.randint(2, 900) * 1000:,}"
    month, day = r.choice(MONTHS), r.randint(1, 28)
    states = r.randint(3, 50)
    title = f"{company} recalls {units} units of {product} over {hazard}"
    text = (
        f"{company} is recalling about {units} units of {product} because of {hazard}, the company and "
        f"federal regulators said on {month} {day}.\n\n"
        f"The affected products were sold in {states} states between {r.choice(MONTHS)} and {month}. "
        f"Consumers should stop using the products immediately and return them to the place of purchase "
        f"for a full refund, the announcement said.\n\n"
        f"No injuries have been reported so far. The company said it was working closely with the "
        f"regulator and its suppliers to find the cause of the problem and to prevent it from happening "
        f"again.\n\n"
        f"Customers with questions can contact the company's support line, which is open every day."
    )
    return title, text


def _match(r: random.Random) -> tuple[str, str]:
    home, away = r.sample(TEAMS, 2)
    hg, ag = r.randint(0, 5), r.randint(0, 5)
    scorer = r.choice(PLAYERS)
    minute = r.randint(1, 90)
    crowd = f"{r.randint(15, 75) * 1000 + r.randint(0, 999):,}"
    title = f"{home} {hg}-{ag} {away}: match report"
    text = (
        f"{home} and {away} finished {hg}-{ag} at {r.choice(STADIUMS)} on {r.choice(DAYS)} in front of "
        f"a crowd of {crowd}.\n\n"
        f"{scorer} scored in the {minute}th minute after a quick move down the left, and the visitors "
        f"pressed for the rest of the match without finding a way through the home defence.\n\n"
        f"The result leaves {home} in {r.randint(1, 20)}th place in the table with {r.randint(5, 80)} "
        f"points, while {away} sit in {r.randint(1, 20)}th place. Both managers said afterwards that "
        f"there was plenty to work on before the next round of fixtures.\n\n"
        f"Highlights of the match will be shown on the evening programme."
    )
    return title, text


def _earnings(r: random.Random) -> tuple[str, str]:
    company = r.choice(COMPANIES)
    q = r.randint(1, 4)
    year = r.randint(2019, 2026)
    revenue = f"{r.uniform(0.2, 40):.2f}"
    eps = f"{r.uniform(0.05, 5):.2f}"
    growth = r.randint(1, 35)
    ordinal = ["first", "second", "third", "fourth"][q - 1]
    title = f"{company} reports Q{q} {year} revenue of ${revenue} billion"
    text = (
        f"{company} reported revenue of ${revenue} billion for the {ordinal} quarter of {year}, up {growth} "
        f"percent from a year earlier, the company said in a statement on {r.choice(DAYS)}.\n\n"
        f"Earnings per share came to ${eps}, compared with analysts' expectations of "
        f"${r.uniform(0.05, 5):.2f}. The board declared a quarterly dividend and reaffirmed its guidance "
        f"for the full year.\n\n"
        f"The chief executive said demand had remained solid across its main markets and that the "
        f"company would keep investing in new products while controlling costs. Shares moved "
        f"{r.randint(1, 12)} percent in after-hours trading.\n\n"
        f"The company will hold a conference call with analysts later in the day."
    )
    return title, text


def _weather(r: random.Random) -> tuple[str, str]:
    kind = r.choice(["flood", "winter storm", "heat", "high wind", "thunderstorm", "fog"])
    city = r.choice(CITIES)
    region = r.choice(REGIONS)
    day = r.choice(DAYS)
    start, end = r.randint(1, 11), r.randint(1, 11)
    amount = r.randint(1, 30)
    title = f"{kind.title()} warning issued for {city}, {region} until {day}"
    text = (
        f"The National Weather Service has issued a {kind} warning for {city} and surrounding areas of "
        f"{region}, in effect from {start} a.m. until {end} p.m. on {day}.\n\n"
        f"Forecasters expect up to {amount} centimetres in the worst affected areas, and conditions may "
        f"change quickly. Residents are urged to avoid unnecessary travel, to keep up with local forecasts "
        f"and to follow the instructions of emergency officials.\n\n"
        f"Schools and businesses may close or open late. Anyone who needs help should call the local "
        f"emergency number, and drivers should allow extra time for their journeys if they must go out.\n\n"
        f"The warning may be extended or lifted as the situation develops."
    )
    return title, text


def _election(r: random.Random) -> tuple[str, str]:
    district = f"{r.choice(CITIES)} {r.choice(['North', 'South', 'East', 'West', 'Central'])}"
    p1, p2 = r.choice(PARTIES)
    winner, loser = f"{r.choice(FIRST)} {r.choice(LAST)}", f"{r.choice(FIRST)} {r.choice(LAST)}"
    v1, v2 = r.randint(8000, 40000), r.randint(5000, 30000)
    turnout = r.randint(30, 80)
    title = f"{district}: {winner} ({p1}) wins with {v1:,} votes"
    text = (
        f"{winner} of the {p1} party has won the {district} seat with {v1:,} votes, ahead of {loser} of "
        f"the {p2} party with {v2:,} votes, according to the official count released overnight.\n\n"
        f"Turnout in the district was {turnout} percent. The count was completed shortly after "
        f"{r.randint(1, 5)} a.m. and the result was declared by the returning officer at the counting "
        f"centre.\n\n"
        f"The winner thanked volunteers and voters in a short speech and promised to focus on local "
        f"services, housing and transport. The losing candidate congratulated the winner and said the "
        f"campaign had been fought fairly.\n\n"
        f"Full results for every district are available on the electoral commission's website."
    )
    return title, text


def _obituary(r: random.Random) -> tuple[str, str]:
    name = f"{r.choice(FIRST)} {r.choice(LAST)}"
    age = r.randint(55, 102)
    city = r.choice(CITIES)
    job = r.choice(JOBS)
    years = r.randint(10, 45)
    month, day = r.choice(MONTHS), r.randint(1, 28)
    title = f"Obituary: {name}, {age}, of {city}"
    text = (
        f"{name}, {age}, of {city}, died peacefully on {month} {day} surrounded by family.\n\n"
        f"Born in {r.choice(CITIES)}, {name.split()[0]} worked as a {job} for {years} years and was "
        f"a devoted member of the community, known for generosity, good humour and a love of gardening "
        f"and long walks.\n\n"
        f"Survivors include {r.randint(1, 6)} children and {r.randint(0, 15)} grandchildren. A memorial "
        f"service will be held at {r.randint(10, 15)}:00 on {r.choice(DAYS)} at the community chapel, "
        f"and friends are welcome to attend.\n\n"
        f"In lieu of flowers, the family asks that donations be made to a local charity of your choice."
    )
    return title, text


TEMPLATES: dict[str, Callable[[random.Random], tuple[str, str]]] = {
    "earthquake": _earthquake,
    "recall": _recall,
    "match": _match,
    "earnings": _earnings,
    "weather": _weather,
    "election": _election,
    "obituary": _obituary,
}


def events(rng: random.Random, *, per_template: int) -> list[Event]:
    """`per_template` fills of each template, every one a different event (a fill drawn twice is
    drawn again)."""
    out: list[Event] = []
    for name, make in TEMPLATES.items():
        seen: set[str] = set()
        while len(seen) < per_template:
            title, text = make(rng)
            if title in seen:
                continue
            seen.add(title)
            out.append(Event(name, title, text))
    return out
