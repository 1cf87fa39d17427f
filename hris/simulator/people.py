"""Synthetic personal data, generated vectorised (a million people in seconds, no Faker).

Identifiers are visibly fake: national ids in the never-issued 9xx-xx-xxxx range, emails at
example.com (reserved), phones in the UK drama range +44 7700 900xxx. Education and years of
experience are drawn independently of abilities: in this world they carry no signal, so a
model cannot beat `p_observable` by using them.
"""

from __future__ import annotations

import numpy as np

from hris import contract

FEMALE_FIRST = (
    "Olivia", "Emma", "Ava", "Sophia", "Mia", "Amelia", "Harper", "Evelyn", "Abigail", "Emily",
    "Ella", "Chloe", "Grace", "Zoe", "Nora", "Lily", "Hannah", "Aisha", "Fatima", "Mei", "Yuki",
    "Priya", "Ananya", "Sofia", "Lucia", "Camila", "Valentina", "Maria", "Ingrid", "Freya",
    "Leila", "Amara", "Chiara", "Elena", "Sara", "Noor", "Ines", "Julia", "Clara", "Ruth",
)
MALE_FIRST = (
    "Liam", "Noah", "Oliver", "Elijah", "James", "William", "Benjamin", "Lucas", "Henry",
    "Theodore", "Jack", "Leo", "Mateo", "Omar", "Ali", "Wei", "Hiroshi", "Arjun", "Rohan",
    "Diego", "Carlos", "Javier", "Marco", "Luca", "Lars", "Erik", "Kwame", "Tariq", "Samuel",
    "Daniel", "David", "Adam", "Jonas", "Felix", "Hugo", "Ivan", "Pavel", "Tomas", "Ethan",
    "Aaron",
)
NEUTRAL_FIRST = ("Alex", "Jordan", "Taylor", "Morgan", "Riley", "Sam", "Robin", "Charlie")
LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Kim", "Chen", "Wang", "Patel",
    "Singh", "Khan", "Ali", "Okafor", "Mensah", "Tanaka", "Sato", "Muller", "Schmidt",
    "Rossi", "Bianchi", "Dubois", "Moreau", "Novak", "Kowalski", "Silva", "Santos", "Costa",
    "Jensen", "Larsen", "Berg", "Ivanov", "Popescu", "Horvat", "Murphy", "Kelly",
)
# The contract's vocabularies (hris.contract), in the order the draws below index them.
# Gender "undisclosed" is recorded as such; race is voluntary and left empty when not given.
GENDERS = contract.GENDERS
RACES = tuple(r for r in contract.RACE_ETHNICITIES if r != contract.RACE_UNDISCLOSED)
EDUCATION = tuple(e for e in contract.EDUCATION_LEVELS if e != contract.EDUCATION_OTHER)


def draw_gender(n: int, female_share: float, rng: np.random.Generator) -> np.ndarray:
    """Index into GENDERS: female with `female_share`, a few non-binary or undisclosed."""
    p = np.array([female_share, 0.985 - female_share, 0.01, 0.005])
    return rng.choice(len(GENDERS), size=n, p=p / p.sum())


def _obj(values: list[str]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def personal_data(gender: np.ndarray, first_id: int, rng: np.random.Generator
                  ) -> dict[str, np.ndarray]:
    """Names, national ids, emails and phones as object arrays of str (ids unique per world)."""
    n = len(gender)
    fem, mal, neu = (np.array(x, dtype=object) for x in (FEMALE_FIRST, MALE_FIRST,
                                                          NEUTRAL_FIRST))
    first = np.where(gender == 0, fem[rng.integers(0, len(fem), n)],
                     np.where(gender == 1, mal[rng.integers(0, len(mal), n)],
                              neu[rng.integers(0, len(neu), n)]))
    last = np.array(LAST, dtype=object)[rng.integers(0, len(LAST), n)]
    full = first + " " + last
    serial = np.arange(first_id, first_id + n)
    # a bijective scramble of the serial keeps national ids unique but unordered
    scrambled = (serial * 7_368_787 + 1_234_567) % 100_000_000
    nid = [f"9{s // 1_000_000:02d}-{s // 10_000 % 100:02d}-{s % 10_000:04d}" for s in scrambled]
    email = [f"{a.lower()}.{b.lower()}.{s}@example.com" for a, b, s in zip(first, last, serial,
                                                                            strict=True)]
    phones = np.array([f"+44 7700 900{k:03d}" for k in range(1000)], dtype=object)
    phone = phones[rng.integers(0, 1000, n)]
    phone[rng.random(n) < 0.05] = None
    return {"full_name": full, "national_id": _obj(nid), "email": _obj(email),
            "phone": phone}


def background(n: int, family: np.ndarray, app_day: np.ndarray, rng: np.random.Generator
               ) -> dict[str, np.ndarray]:
    """Birth day (days since epoch), race (index or -1), education index, years of experience."""
    age = 21 + rng.gamma(2.2, 5.5, n)
    age = np.minimum(age, 64)
    birth_day = (app_day - age * 365.25).astype(np.int64)
    years = np.clip(np.floor(age - 22 - rng.uniform(0, 4, n)), 0, None).astype(np.int64)
    race = rng.choice(len(RACES), size=n, p=[0.12, 0.13, 0.18, 0.48, 0.05, 0.04])
    race = np.where(rng.random(n) < 0.2, -1, race)          # voluntary: 20% undisclosed
    edu_p = np.array([[0.15, 0.15, 0.55, 0.14, 0.01],       # sales
                      [0.35, 0.25, 0.35, 0.05, 0.00],       # customer_service
                      [0.00, 0.03, 0.45, 0.37, 0.15],       # rnd
                      [0.40, 0.30, 0.25, 0.05, 0.00]])      # manufacturing
    cum = edu_p.cumsum(1)[family]
    education = (rng.random(n)[:, None] > cum).sum(1)
    return {"birth_day": birth_day, "race": race, "education": np.minimum(education, 4),
            "years": years}
