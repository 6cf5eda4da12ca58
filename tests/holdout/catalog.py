"""Tools (JSON Schema), models and vocabulary of the two hold-out agents.

Agent ``claims``: a home-insurance claims assistant (LangSmith runs). Agent ``oncall``: an IT-operations
on-call assistant (OpenAI Agents SDK export). Everything here is plain data.
"""

from __future__ import annotations

from typing import Any

CLAIMS = "claims"
ONCALL = "oncall"

_DATE = {"type": "string", "format": "date"}
_CLAIM_ID = {"type": "string", "pattern": r"^CLM-\d{4}-\d{6}$", "description": "Claim number, e.g. CLM-2024-004211"}
_POLICY = {"type": "string", "pattern": r"^HP-\d{7}$", "description": "Home policy number, e.g. HP-4821937"}


def _fn(name: str, description: str, properties: dict[str, Any], required: list[str], closed: bool = False) -> dict:
    parameters: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    if closed:
        parameters["additionalProperties"] = False
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


CLAIMS_TOOLS: list[dict[str, Any]] = [
    _fn(
        "lookup_policy",
        "Fetch a homeowner policy with its coverages, deductibles and endorsements.",
        {
            "policy_number": _POLICY,
            "include": {
                "type": "array",
                "items": {"type": "string", "enum": ["coverages", "deductibles", "endorsements", "insured"]},
            },
        },
        ["policy_number"],
        closed=True,
    ),
    _fn(
        "search_claims",
        "Full-text search over claims. Returns at most `limit` hits and a `next_cursor` when more exist.",
        {
            "query": {"type": "string", "minLength": 2},
            "policy_number": _POLICY,
            "status": {"type": "string", "enum": ["open", "pending_review", "approved", "denied", "closed"]},
            "filed_after": _DATE,
            "cursor": {"type": "string"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 50},
        },
        ["query"],
    ),
    _fn(
        "get_claim",
        "Read one claim with its loss details, reserves and documents.",
        {"claim_id": _CLAIM_ID},
        ["claim_id"],
        closed=True,
    ),
    _fn(
        "create_claim",
        "Open a first notice of loss (FNOL) on a policy.",
        {
            "policy_number": _POLICY,
            "loss_type": {"type": "string", "enum": ["water", "fire", "theft", "wind", "hail", "liability"]},
            "date_of_loss": _DATE,
            "description": {"type": "string", "minLength": 10},
            "estimated_amount": {"type": "number", "minimum": 0},
        },
        ["policy_number", "loss_type", "date_of_loss", "description"],
        closed=True,
    ),
    _fn(
        "attach_document",
        "Attach an uploaded file to a claim.",
        {
            "claim_id": _CLAIM_ID,
            "doc_type": {"type": "string", "enum": ["photo", "invoice", "police_report", "estimate", "receipt"]},
            "url": {"type": "string", "format": "uri"},
        },
        ["claim_id", "doc_type", "url"],
        closed=True,
    ),
    _fn(
        "schedule_inspection",
        "Book a field adjuster visit for a claim.",
        {
            "claim_id": _CLAIM_ID,
            "preferred_date": _DATE,
            "window": {"type": "string", "enum": ["morning", "afternoon"]},
            "adjuster_id": {"type": "string", "pattern": r"^ADJ-\d{3}$"},
        },
        ["claim_id", "preferred_date"],
        closed=True,
    ),
    _fn(
        "estimate_payout",
        "Compute the settlement for a claim from itemised losses, after deductible and limits.",
        {
            "claim_id": _CLAIM_ID,
            "line_items": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {"category": {"type": "string"}, "amount": {"type": "number", "minimum": 0}},
                    "required": ["category", "amount"],
                },
            },
        },
        ["claim_id", "line_items"],
    ),
    _fn(
        "submit_payment",
        "Issue a claim payment. Irreversible once settled.",
        {
            "claim_id": _CLAIM_ID,
            "amount": {"type": "number", "exclusiveMinimum": 0},
            "payee_type": {"type": "string", "enum": ["insured", "contractor", "mortgagee"]},
            "method": {"type": "string", "enum": ["ach", "check"]},
        },
        ["claim_id", "amount", "payee_type", "method"],
        closed=True,
    ),
    _fn(
        "check_payment_status",
        "Status of an issued payment (queued, processing, settled, returned).",
        {"payment_id": {"type": "string", "pattern": r"^PAY-[A-Z0-9]{8}$"}},
        ["payment_id"],
        closed=True,
    ),
    _fn(
        "search_knowledge",
        "Search underwriting guidelines and help-centre articles.",
        {"question": {"type": "string"}, "product": {"type": "string", "enum": ["HO-3", "HO-5", "HO-6"]}},
        ["question"],
    ),
]

# The OpenAI Agents SDK export names an agent's tools but carries no schemas; these are what the agent was
# built with (kept for documentation and for scorers that want them).
ONCALL_TOOLS: list[dict[str, Any]] = [
    _fn(
        "query_metrics",
        "Read a time series summary for a service metric.",
        {
            "service": {"type": "string"},
            "metric": {"type": "string", "enum": ["p99_latency_ms", "error_rate", "cpu_util", "mem_rss_mb", "rps"]},
            "window": {"type": "string", "enum": ["5m", "15m", "1h", "6h", "24h"]},
            "region": {"type": "string", "pattern": r"^[a-z]{2}-[a-z]+-\d$"},
        },
        ["service", "metric"],
    ),
    _fn(
        "search_logs",
        "Search structured logs. Paginated with page_token.",
        {
            "service": {"type": "string"},
            "query": {"type": "string"},
            "since": {"type": "string", "format": "date-time"},
            "page_token": {"type": "string"},
            "max_results": {"type": "integer", "minimum": 1, "maximum": 200},
        },
        ["service", "query"],
    ),
    _fn(
        "get_incident",
        "Read an incident record.",
        {"incident_id": {"type": "string", "pattern": r"^INC-\d{5}$"}},
        ["incident_id"],
        closed=True,
    ),
    _fn(
        "list_alerts",
        "List alerts for a team.",
        {
            "team": {"type": "string"},
            "state": {"type": "string", "enum": ["firing", "acknowledged", "resolved"]},
            "severity": {"type": "string", "enum": ["sev1", "sev2", "sev3", "sev4"]},
        },
        ["team"],
    ),
    _fn(
        "get_deployment",
        "Describe a deployment revision of a service.",
        {"service": {"type": "string"}, "deploy_id": {"type": "string", "pattern": r"^dep-[0-9a-f]{8}$"}},
        ["service"],
    ),
    _fn(
        "rollback_deployment",
        "Roll a service back to an earlier revision. Starts an asynchronous job.",
        {
            "service": {"type": "string"},
            "to_deploy_id": {"type": "string", "pattern": r"^dep-[0-9a-f]{8}$"},
            "reason": {"type": "string"},
        },
        ["service", "to_deploy_id", "reason"],
        closed=True,
    ),
    _fn(
        "scale_service",
        "Set the replica count of a service.",
        {
            "service": {"type": "string"},
            "replicas": {"type": "integer", "minimum": 1, "maximum": 60},
            "namespace": {"type": "string", "enum": ["prod", "staging"]},
        },
        ["service", "replicas"],
        closed=True,
    ),
    _fn(
        "page_oncall",
        "Page the on-call engineer of a team.",
        {
            "team": {"type": "string"},
            "urgency": {"type": "string", "enum": ["high", "low"]},
            "message": {"type": "string"},
            "incident_id": {"type": "string", "pattern": r"^INC-\d{5}$"},
        },
        ["team", "urgency", "message"],
        closed=True,
    ),
    _fn(
        "get_runbook",
        "Fetch the runbook page that matches a topic.",
        {"topic": {"type": "string"}},
        ["topic"],
    ),
    _fn(
        "get_job_status",
        "Status of an asynchronous ops job (rollback, scale).",
        {"job_id": {"type": "string", "pattern": r"^job-\d{6}$"}},
        ["job_id"],
    ),
]

TOOL_NAMES = {
    CLAIMS: [t["function"]["name"] for t in CLAIMS_TOOLS],
    ONCALL: [t["function"]["name"] for t in ONCALL_TOOLS],
}

CLAIMS_MODELS = [("gpt-4o-2024-08-06", 0.7), ("gpt-4o-mini-2024-07-18", 0.3)]
ONCALL_MODELS = [("gpt-4.1-mini", 0.75), ("gpt-4.1", 0.25)]

CLAIMS_SYSTEM = (
    "You are HomeClaims Copilot, an assistant for Harbourline Mutual's home insurance desk. Help adjusters "
    "and policyholders open claims, attach evidence, book inspections and issue payments. Never issue a "
    "payment without a settlement estimate."
)
ONCALL_SYSTEM = (
    "You are the on-call copilot for the platform team. Investigate alerts with metrics and logs before "
    "acting. Prefer rollbacks over restarts; page a human for anything customer-facing you cannot fix."
)

FIRST_NAMES = ["Maya", "Tomasz", "Priya", "Owen", "Lucia", "Daniel", "Aiko", "Grace", "Samir", "Helena",
               "Jonas", "Rosa", "Kwame", "Elif", "Marcus", "Ines"]
LAST_NAMES = ["Okafor", "Lindqvist", "Haddad", "Moreau", "Brennan", "Castillo", "Novak", "Iyer", "Fischer",
              "Tanaka", "Walsh", "Duarte", "Kowalski", "Abara"]
STREETS = ["Birch Lane", "Harbour Road", "Maple Court", "Old Mill Way", "Quarry Street", "Elm Terrace",
           "Ridgeview Drive", "Sparrow Close"]
TOWNS = ["Westbrook, ME", "Lakewood, OH", "Fairhaven, MA", "Cedar Falls, IA", "Port Orchard, WA", "Salem, OR"]

LOSSES: dict[str, list[str]] = {
    "water": [
        "Pipe under the kitchen sink burst overnight; water through the ceiling of the basement",
        "Washing machine hose split and flooded the laundry room and hallway",
        "Water heater leaked into the finished basement, carpet and drywall soaked",
        "Ice dam backed water under the shingles into the upstairs bedroom ceiling",
    ],
    "fire": [
        "Grease fire in the kitchen damaged cabinets, range hood and ceiling",
        "Dryer vent fire, smoke damage throughout the ground floor",
    ],
    "theft": [
        "Garage broken into, two bicycles and power tools stolen",
        "Back door forced while on holiday; laptop, jewellery and a TV taken",
    ],
    "wind": [
        "Storm tore shingles off the south slope of the roof and broke a skylight",
        "Fallen oak limb crushed the back fence and damaged the deck",
    ],
    "hail": ["Hail dented the gutters and cracked vinyl siding on the west wall",
             "Hailstorm damaged roof shingles and two skylights"],
    "liability": ["Delivery driver slipped on the front steps and was injured",
                  "Our dog bit a neighbour's child in the yard"],
}

# Loss-type words an LLM produces instead of the declared enum (the tool stores them as-is).
LOSS_SYNONYMS = {"water": ["water_damage", "burst pipe", "flood", "Water Damage"], "fire": ["kitchen fire", "smoke"],
                 "wind": ["storm", "windstorm"], "hail": ["hailstorm"], "theft": ["burglary", "break-in"],
                 "liability": ["injury", "dog bite"]}

SERVICES = ["checkout-api", "payments-worker", "search-gateway", "auth-service", "inventory-sync",
            "notifications", "ledger-writer", "image-resizer", "cart-service", "pricing-engine"]
TEAMS = {"checkout-api": "storefront", "payments-worker": "payments", "search-gateway": "discovery",
         "auth-service": "identity", "inventory-sync": "supply", "notifications": "messaging",
         "ledger-writer": "payments", "image-resizer": "media", "cart-service": "storefront",
         "pricing-engine": "discovery"}
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1"]
