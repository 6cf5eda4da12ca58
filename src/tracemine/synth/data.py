"""Pools of realistic values (names, places, products…) and cheap helpers to draw from them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from random import Random
from typing import TypeVar

T = TypeVar("T")

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Mateo", "Sofia", "Lucas", "Mia", "Ethan", "Amara", "Yuki",
    "Chen", "Priya", "Omar", "Fatima", "Lars", "Ingrid", "Diego", "Camila", "Hiro", "Aisha", "Tomasz",
    "Elena", "Kwame", "Zara", "Jonas", "Leila", "Ravi", "Hannah", "Marta", "Oscar", "Nadia", "Felix",
)
LAST_NAMES = (
    "Smith", "Garcia", "Müller", "Rossi", "Nguyen", "Kowalski", "Okafor", "Tanaka", "Silva", "Dubois",
    "Johansson", "Patel", "Kim", "Haddad", "Novak", "Fernández", "O'Brien", "Schmidt", "Costa", "Ivanova",
    "Mensah", "Larsen", "Moreau", "Yamamoto", "Ahmed", "Brown", "Wilson", "Lopez", "Chen", "Andersen",
)
EMAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "fastmail.com", "example.org")

# city, IATA code, ISO country
CITIES = (
    ("London", "LHR", "GB"), ("Paris", "CDG", "FR"), ("New York", "JFK", "US"), ("San Francisco", "SFO", "US"),
    ("Tokyo", "HND", "JP"), ("Berlin", "BER", "DE"), ("Madrid", "MAD", "ES"), ("Rome", "FCO", "IT"),
    ("Amsterdam", "AMS", "NL"), ("Singapore", "SIN", "SG"), ("Dubai", "DXB", "AE"), ("Toronto", "YYZ", "CA"),
    ("Sydney", "SYD", "AU"), ("Lisbon", "LIS", "PT"), ("Chicago", "ORD", "US"), ("Mexico City", "MEX", "MX"),
)
AIRLINES = (
    ("LH", "Lufthansa"), ("BA", "British Airways"), ("AF", "Air France"), ("UA", "United Airlines"),
    ("DL", "Delta Air Lines"), ("NH", "ANA"), ("EK", "Emirates"), ("KL", "KLM"), ("IB", "Iberia"),
    ("AC", "Air Canada"), ("TP", "TAP Air Portugal"), ("SQ", "Singapore Airlines"),
)
HOTEL_NAMES = (
    "Hotel Lumen", "The Grand Central", "Harbor View Inn", "Maison Verte", "Sakura Stay", "Parkside Suites",
    "The Linden", "Casa Azul", "Nordic Light Hotel", "The Foundry", "Riverside Lodge", "Atrium Plaza",
)
WEATHER = ("sunny", "partly cloudy", "cloudy", "light rain", "showers", "thunderstorms", "windy", "snow")
CARRIERS = ("UPS", "FedEx", "DHL", "USPS", "Royal Mail", "PostNL")
STREETS = ("Maple Avenue", "High Street", "Rue de Rivoli", "Kastanienallee", "Elm Street", "Calle Mayor")

# sku, product name, unit price
PRODUCTS = (
    ("SKU-10234", "Wireless Earbuds Pro", 89.99), ("SKU-20411", "Ergonomic Office Chair", 249.0),
    ("SKU-30987", "Stainless Water Bottle 750ml", 24.5), ("SKU-41120", "Mechanical Keyboard TKL", 129.0),
    ("SKU-52076", "4K Monitor 27in", 379.99), ("SKU-63310", "Trail Running Shoes", 119.95),
    ("SKU-74452", "Cast Iron Skillet 30cm", 45.0), ("SKU-85503", "Smart Thermostat", 199.0),
    ("SKU-96618", "Noise Cancelling Headphones", 299.0), ("SKU-17729", "Yoga Mat Premium", 39.9),
    ("SKU-28834", "Espresso Machine", 549.0), ("SKU-39941", "Backpack 28L", 79.0),
)

SOURCE_FILES = (
    "src/payments/charge.py", "src/api/routes/orders.py", "src/utils/retry.py", "src/billing/invoice.py",
    "src/auth/session.py", "src/search/ranker.py", "src/models/user.py", "src/workers/email_queue.py",
    "web/components/Cart.tsx", "web/hooks/useCheckout.ts", "services/inventory/stock.go", "lib/cache/lru.rs",
)
TEST_FILES = (
    "tests/test_charge.py", "tests/test_orders.py", "tests/test_retry.py", "tests/test_invoice.py",
    "tests/test_session.py", "tests/test_ranker.py",
)
SYMBOLS = (
    "compute_discount", "retry_with_backoff", "parse_invoice", "refresh_token", "rank_results",
    "apply_coupon", "enqueue_email", "reserve_stock", "validate_cart", "format_currency",
)
BUGS = (
    "off-by-one in pagination", "timezone bug in invoice dates", "race condition when refreshing tokens",
    "discount applied twice", "retry loop never backs off", "cache returns stale prices",
    "crash on empty cart", "wrong rounding for JPY amounts",
)

RESEARCH_TOPICS = (
    "retrieval-augmented generation evaluation", "heat pump adoption in Europe", "sparse mixture of experts",
    "battery recycling economics", "urban heat island mitigation", "LLM agent tool-use benchmarks",
    "carbon capture cost curves", "protein structure prediction with diffusion", "microplastics in drinking water",
    "four-day work week productivity", "grid-scale storage lithium vs sodium", "coral reef bleaching 2025",
)
WEB_DOMAINS = (
    "en.wikipedia.org", "www.nature.com", "www.iea.org", "ourworldindata.org", "www.reuters.com",
    "www.bbc.com", "blog.research.google", "www.economist.com", "www.science.org", "techcrunch.com",
)
PAPER_WORDS = (
    "Scaling", "Efficient", "Robust", "Towards", "Benchmarking", "Learning", "Adaptive", "Sparse",
    "Retrieval", "Agents", "Evaluation", "Diffusion", "Transformers", "Calibration", "Uncertainty",
)

# table -> columns (name, type)
TABLES = {
    "sales.orders": (("order_id", "BIGINT"), ("customer_id", "BIGINT"), ("amount", "DECIMAL(12,2)"),
                     ("region", "VARCHAR"), ("created_at", "TIMESTAMP")),
    "sales.refunds": (("refund_id", "BIGINT"), ("order_id", "BIGINT"), ("amount", "DECIMAL(12,2)"),
                      ("reason", "VARCHAR"), ("created_at", "TIMESTAMP")),
    "marketing.campaigns": (("campaign_id", "INTEGER"), ("channel", "VARCHAR"), ("spend", "DECIMAL(12,2)"),
                            ("start_date", "DATE")),
    "marketing.web_sessions": (("session_id", "VARCHAR"), ("user_id", "BIGINT"), ("country", "VARCHAR"),
                               ("converted", "BOOLEAN"), ("started_at", "TIMESTAMP")),
    "finance.invoices": (("invoice_id", "BIGINT"), ("account_id", "BIGINT"), ("total", "DECIMAL(12,2)"),
                         ("due_date", "DATE"), ("paid", "BOOLEAN")),
    "public.users": (("user_id", "BIGINT"), ("signup_date", "DATE"), ("plan", "VARCHAR"),
                     ("country", "VARCHAR")),
}
REGIONS = ("EMEA", "NA", "LATAM", "APAC")
SLACK_CHANNELS = ("#analytics", "#growth-team", "#finance-reports", "#exec-weekly", "#data-alerts")

_DATES: dict[int, str] = {}


def day(ordinal: int) -> str:
    """ISO date (``YYYY-MM-DD``) of a proleptic Gregorian ordinal, cached."""
    text = _DATES.get(ordinal)
    if text is None:
        text = _DATES[ordinal] = dt.date.fromordinal(ordinal).isoformat()
    return text


def person(rng: Random) -> tuple[str, str]:
    return FIRST_NAMES[rng.randrange(len(FIRST_NAMES))], LAST_NAMES[rng.randrange(len(LAST_NAMES))]


def email_of(rng: Random, first: str, last: str) -> str:
    local = f"{first}.{last}".lower().replace("'", "").replace("ü", "u").replace("á", "a")
    if rng.random() < 0.4:
        local += str(rng.randint(1, 99))
    return f"{local}@{EMAIL_DOMAINS[rng.randrange(len(EMAIL_DOMAINS))]}"


def money(rng: Random, lo: float, hi: float) -> float:
    return round(rng.uniform(lo, hi), 2)


def hexid(rng: Random, chars: int) -> str:
    return f"{rng.getrandbits(chars * 4):0{chars}x}"


def pick(rng: Random, seq: Sequence[T]) -> T:
    return seq[rng.randrange(len(seq))]
