"""Realistic varied values: people, places, dates, money."""

from __future__ import annotations

import random

FIRST = ("Amara", "Jonas", "Priya", "Mateo", "Sofia", "Kenji", "Ines", "Tomasz", "Leila", "Noah", "Freya",
         "Diego", "Hana", "Olu", "Marta", "Rafael", "Yuki", "Elif", "Samir", "Clara", "Bram", "Aoife", "Luca")
LAST = ("Okafor", "Lindqvist", "Raman", "Duarte", "Novak", "Tanaka", "Moreau", "Kowalski", "Haddad", "Bauer",
        "Nguyen", "Fischer", "Costa", "Adeyemi", "Jansen", "Ibrahim", "Varga", "Silva", "Berg", "Murphy")
CITIES = ("Berlin", "Lisbon", "Toronto", "Austin", "Dublin", "Warsaw", "Singapore", "Amsterdam", "Remote (EU)",
          "London", "Madrid", "Bangalore")
ROLES = ("Senior Backend Engineer", "Product Designer", "Data Engineer", "Engineering Manager",
         "Site Reliability Engineer", "Account Executive", "Frontend Engineer", "ML Engineer",
         "Technical Recruiter", "Finance Analyst")
DEPTS = ("Engineering", "Design", "Sales", "Finance", "People", "Data")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def email(name: str, domain: str = "example.com") -> str:
    first, _, last = name.lower().partition(" ")
    return f"{first}.{last}@{domain}"


def date(rng: random.Random, month_lo: int = 3, month_hi: int = 6) -> str:
    return f"2025-{rng.randint(month_lo, month_hi):02d}-{rng.randint(1, 28):02d}"


def hexs(rng: random.Random, n: int) -> str:
    return format(rng.getrandbits(4 * n), f"0{n}x")


def digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randint(0, 9)) for _ in range(n))


def money(rng: random.Random, lo: float, hi: float) -> float:
    return round(rng.uniform(lo, hi), 2)
