"""Agent ``claims``: a home-insurance claims assistant. Clean workflows, injected faults and look-alikes.

Every fault function is one bug at one site (see ``FAULTS``); look-alikes resemble faults but are not.
"""

from __future__ import annotations

import random
import string
from typing import Any

from holdout import catalog as cat
from holdout.episode import Episode

AGENT = cat.CLAIMS


class Ctx:
    """Entities of one claims conversation."""

    def __init__(self, rng: random.Random, year: int) -> None:
        self.rng = rng
        self.year = year
        self.policy = f"HP-{rng.randint(1_000_000, 9_999_999)}"
        self.name = f"{rng.choice(cat.FIRST_NAMES)} {rng.choice(cat.LAST_NAMES)}"
        self.address = f"{rng.randint(3, 980)} {rng.choice(cat.STREETS)}, {rng.choice(cat.TOWNS)}"
        self.loss_type = rng.choice(list(cat.LOSSES))
        self.loss = rng.choice(cat.LOSSES[self.loss_type])
        self.product = rng.choice(["HO-3", "HO-3", "HO-5", "HO-6"])

    def claim_id(self) -> str:
        return f"CLM-{self.year}-{self.rng.randint(1, 999_999):06d}"

    def date(self, back_days: int = 40) -> str:
        """A past date (losses, filings): up to ``back_days`` before early September."""
        months = max(1, min(back_days // 30, 8))
        return f"{self.year}-{self.rng.randint(8 - months + 1, 8):02d}-{self.rng.randint(1, 28):02d}"

    def future_date(self) -> str:
        return f"{self.year}-09-{self.rng.randint(16, 30):02d}"

    def token(self, n: int = 8) -> str:
        return "".join(self.rng.choice(string.ascii_uppercase + string.digits) for _ in range(n))

    def url(self, kind: str) -> str:
        ext = {"photo": "jpg", "invoice": "pdf", "estimate": "pdf", "receipt": "png", "police_report": "pdf"}[kind]
        return f"https://uploads.harbourline.example/fnol/{self.token(12).lower()}/{kind}_{self.rng.randint(1, 9)}.{ext}"


def _policy(ctx: Ctx) -> dict[str, Any]:
    rng = ctx.rng
    dwelling = rng.randrange(180_000, 900_000, 5_000)
    return {
        "policy_number": ctx.policy,
        "status": "active",
        "product": ctx.product,
        "insured": {"name": ctx.name, "property_address": ctx.address},
        "term": {"effective": f"{ctx.year}-0{rng.randint(1, 6)}-01", "expires": f"{ctx.year + 1}-0{rng.randint(1, 6)}-01"},
        "coverages": {
            "dwelling": {"limit": dwelling},
            "other_structures": {"limit": dwelling // 10},
            "personal_property": {"limit": dwelling // 2},
            "loss_of_use": {"limit": dwelling // 5},
            "personal_liability": {"limit": rng.choice([100_000, 300_000, 500_000])},
        },
        "deductibles": {"all_perils": rng.choice([500, 1000, 2500]), "wind_hail": rng.choice(["1%", "2%", 1500])},
        "endorsements": rng.sample(["water_backup", "scheduled_jewelry", "home_business", "equipment_breakdown",
                                    "service_line"], rng.randint(0, 3)),
    }


def _claim(ctx: Ctx, claim_id: str, status: str | None = None) -> dict[str, Any]:
    rng = ctx.rng
    reserve = rng.randrange(1_500, 60_000, 50)
    return {
        "claim_id": claim_id,
        "policy_number": ctx.policy,
        "status": status or rng.choice(["open", "pending_review", "approved"]),
        "loss": {"type": ctx.loss_type, "date": ctx.date(), "description": ctx.loss},
        "adjuster": {"id": f"ADJ-{rng.randint(100, 999)}", "name": f"{rng.choice(cat.FIRST_NAMES)} {rng.choice(cat.LAST_NAMES)}"},
        "reserves": {"indemnity": reserve, "expense": rng.randrange(200, 3_000, 25)},
        "documents": [{"document_id": f"DOC-{ctx.token(6)}", "type": t}
                      for t in rng.sample(["photo", "estimate", "invoice", "receipt"], rng.randint(0, 3))],
        "payments": [],
    }


def _search_hits(ctx: Ctx, n: int) -> list[dict[str, Any]]:
    return [
        {"claim_id": ctx.claim_id(), "status": ctx.rng.choice(["closed", "closed", "denied", "open"]),
         "loss_type": ctx.rng.choice(list(cat.LOSSES)), "filed": ctx.date(900), "score": round(ctx.rng.uniform(0.4, 0.97), 3)}
        for _ in range(n)
    ]


def _line_items(ctx: Ctx, free_text: bool = False) -> list[dict[str, Any]]:
    cats = (["roof repair", "drywall", "flooring", "mold remediation", "hotel stay", "carpet"] if free_text
            else ["dwelling", "contents", "additional_living_expense", "debris_removal", "other_structures"])
    return [{"category": c, "amount": round(ctx.rng.uniform(300, 18_000), 2)}
            for c in ctx.rng.sample(cats, ctx.rng.randint(1, 3))]


def _estimate(ctx: Ctx, claim_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    gross = round(sum(i["amount"] for i in items), 2)
    deductible = ctx.rng.choice([500, 1000, 2500])
    return {"claim_id": claim_id, "accepted": True, "gross": gross, "deductible": deductible,
            "net_payable": round(max(gross - deductible, 0), 2), "basis": ctx.rng.choice(["ACV", "RCV"]),
            "estimate_id": f"EST-{ctx.token(6)}"}


def _payment(ctx: Ctx, claim_id: str, amount: float) -> dict[str, Any]:
    return {"payment_id": f"PAY-{ctx.token(8)}", "claim_id": claim_id, "amount": amount, "status": "queued",
            "expected_settlement": ctx.future_date()}


def _not_found(ctx: Ctx, claim_id: str) -> Any:
    return ctx.rng.choice([
        {"claim": None, "message": f"No claim found with id {claim_id}"},
        {"error": "not_found", "claim_id": claim_id},
        None,
        f"Claim {claim_id} does not exist.",
        {"claim": None},
    ])


# -- clean workflows --------------------------------------------------------------------------------------


def clean_new_claim(ep: Episode, ctx: Ctx) -> None:
    rng = ctx.rng
    ep.call("lookup_policy", {"policy_number": ctx.policy, "include": ["coverages", "deductibles"]}, _policy(ctx))
    if rng.random() < 0.6:
        ep.call("search_claims", {"query": f"{ctx.loss_type} {ctx.address.split(',')[0]}", "policy_number": ctx.policy,
                                  "status": "open"}, {"results": [], "next_cursor": None, "total": 0})
    args = {"policy_number": ctx.policy, "loss_type": ctx.loss_type, "date_of_loss": ctx.date(), "description": ctx.loss}
    if rng.random() < 0.5:
        args["estimated_amount"] = rng.randrange(1_000, 40_000, 250)
    claim_id = ctx.claim_id()
    ep.call("create_claim", args, {"claim_id": claim_id, "status": "open", "assigned_adjuster": f"ADJ-{rng.randint(100, 999)}"})
    for kind in rng.sample(["photo", "invoice", "estimate", "receipt"], rng.randint(0, 2)):
        ep.call("attach_document", {"claim_id": claim_id, "doc_type": kind, "url": ctx.url(kind)},
                {"document_id": f"DOC-{ctx.token(6)}", "claim_id": claim_id, "stored": True})
    if rng.random() < 0.5:
        ep.call("schedule_inspection", {"claim_id": claim_id, "preferred_date": ctx.future_date(),
                                        "window": rng.choice(["morning", "afternoon"])},
                {"inspection_id": f"INSP-{rng.randint(10_000, 99_999)}", "status": "booked"})
    ep.note(rng.choice([f"Claim {claim_id} is open for the {ctx.loss_type} loss.",
                        f"I've opened claim {claim_id}; an adjuster will be in touch.",
                        f"Your FNOL was filed as {claim_id}."]))


def clean_status(ep: Episode, ctx: Ctx) -> None:
    claim_id = ctx.claim_id()
    claim = _claim(ctx, claim_id)
    ep.call("get_claim", {"claim_id": claim_id}, claim)
    if ctx.rng.random() < 0.4:
        pay = f"PAY-{ctx.token(8)}"
        ep.call("check_payment_status", {"payment_id": pay},
                {"payment_id": pay, "status": ctx.rng.choice(["settled", "processing"]), "amount": claim["reserves"]["indemnity"]})
    ep.note(f"Claim {claim_id} is currently {claim['status'].replace('_', ' ')}.")


def clean_payout(ep: Episode, ctx: Ctx) -> None:
    claim_id = ctx.claim_id()
    ep.call("get_claim", {"claim_id": claim_id}, _claim(ctx, claim_id, "approved"))
    items = _line_items(ctx)
    est = _estimate(ctx, claim_id, items)
    ep.call("estimate_payout", {"claim_id": claim_id, "line_items": items}, est)
    if est["net_payable"] > 0:
        ep.call("submit_payment", {"claim_id": claim_id, "amount": est["net_payable"], "payee_type": "insured",
                                   "method": ctx.rng.choice(["ach", "check"])}, _payment(ctx, claim_id, est["net_payable"]))
    ep.note(f"Settlement for {claim_id}: ${est['net_payable']:,.2f} after the deductible.")


def clean_coverage(ep: Episode, ctx: Ctx) -> None:
    ep.call("lookup_policy", {"policy_number": ctx.policy, "include": ["coverages", "endorsements"]}, _policy(ctx))
    topic = ctx.rng.choice(["sewer backup", "mold after a leak", "detached garage", "tree removal", "hotel costs"])
    ep.call("search_knowledge", {"question": f"is {topic} covered", "product": ctx.product},
            f"## {topic.title()} under {ctx.product}\n\nCovered when the loss is sudden and accidental. "
            f"Limits follow the policy declarations; see endorsement list for extensions.")
    ep.note(f"On {topic}: it depends on the endorsements on {ctx.policy}; details above.")


CLEAN = [clean_new_claim, clean_status, clean_payout, clean_coverage]


# -- faults: one bug at one site each ---------------------------------------------------------------------

_ROOMS = ["kitchen", "basement", "bathroom", "laundry room", "upstairs bedroom", "living room"]
_PARAPHRASES = [
    "{loss} damage {room}", "{room} {loss} damage", "{loss} damage in the {room}", "claims for {loss} in {room}",
    "{room} {loss} loss", "{loss} affecting the {room}", "{loss} {room} ceiling", "previous {loss} claim {room}",
    "{room} - {loss}", "{loss} loss at insured property ({room})",
]


def fault_search_loop(ep: Episode, ctx: Ctx) -> None:
    room = ctx.rng.choice(_ROOMS)
    queries = ctx.rng.sample(_PARAPHRASES, ctx.rng.randint(3, 5))
    hits = _search_hits(ctx, ctx.rng.randint(1, 3))
    status = ctx.rng.choice([None, "open"])
    calls = []
    for q in queries:
        args: dict[str, Any] = {"query": q.format(loss=ctx.loss_type, room=room), "policy_number": ctx.policy}
        if status:
            args["status"] = status
        calls.append(ep.call("search_claims", args, {"results": hits, "next_cursor": None, "total": len(hits),
                                                     "took_ms": ctx.rng.randint(8, 60)}))
    ep.label("loop", "claims/paraphrased_claim_search_loop", calls, "search_claims",
             f"{len(calls)} reworded searches for the same {ctx.loss_type} loss, same {len(hits)} claim id(s) each time")
    ep.note("I couldn't pin down the earlier claim you mentioned.")


def fault_duplicate_create(ep: Episode, ctx: Ctx) -> None:
    ep.call("lookup_policy", {"policy_number": ctx.policy, "include": ["coverages"]}, _policy(ctx))
    args = {"policy_number": ctx.policy, "loss_type": ctx.loss_type, "date_of_loss": ctx.date(), "description": ctx.loss}
    first_id, second_id = ctx.claim_id(), ctx.claim_id()
    first = ep.call("create_claim", args, {"claim_id": first_id, "status": "open"})
    if ctx.rng.random() < 0.5:
        kind = ctx.rng.choice(["photo", "estimate"])
        ep.call("attach_document", {"claim_id": first_id, "doc_type": kind, "url": ctx.url(kind)},
                {"document_id": f"DOC-{ctx.token(6)}", "claim_id": first_id, "stored": True})
    second = ep.call("create_claim", dict(args), {"claim_id": second_id, "status": "open"})
    ep.label("duplicate_call", "claims/duplicate_fnol_create", [first, second], "create_claim",
             f"create_claim sent twice with identical arguments: two claims {first_id} and {second_id} for one loss")
    ep.note(f"Your claim {second_id} has been filed.")


_BAD_WINDOWS = ["AM", "Morning", "evening", "8-10am", "after lunch", "anytime", "early morning", "PM"]


def fault_window_enum(ep: Episode, ctx: Ctx) -> None:
    claim_id = ctx.claim_id()
    ep.call("get_claim", {"claim_id": claim_id}, _claim(ctx, claim_id, "open"))
    window = ctx.rng.choice(_BAD_WINDOWS)
    c = ep.call("schedule_inspection", {"claim_id": claim_id, "preferred_date": ctx.future_date(), "window": window},
                {"inspection_id": f"INSP-{ctx.rng.randint(10_000, 99_999)}", "status": "booked", "window": window})
    ep.label("argument_error", "claims/inspection_window_not_in_enum", [c], "schedule_inspection",
             f"window={window!r} is not one of the declared enum values (morning, afternoon); accepted silently")
    ep.note(f"The inspection for {claim_id} is booked.")


_TYPE_ERRORS = [
    "1 validation error for LookupPolicyInput\npolicy_number\n  Input should be a valid string "
    "[type=string_type, input_value={v}, input_type=int]",
    "ToolException: policy_number must be a string like 'HP-1234567', got int ({v})",
    "ValidationError: policy_number: {v} is not of type 'string'",
]


def fault_policy_type(ep: Episode, ctx: Ctx) -> None:
    digits = int(ctx.policy[3:])
    msg = ctx.rng.choice(_TYPE_ERRORS).format(v=digits)
    bad = ep.call("lookup_policy", {"policy_number": digits}, None, error=msg)
    ep.call("lookup_policy", {"policy_number": ctx.policy}, _policy(ctx))
    ep.label("argument_error", "claims/policy_number_wrong_type", [bad], "lookup_policy",
             "policy_number sent as an integer (schema: string ^HP-\\d{7}$); tool raised, agent retried with the string")
    ep.note(f"Policy {ctx.policy} is active.")


def _category_error(ctx: Ctx, items: list[dict[str, Any]]) -> Any:
    i = ctx.rng.randrange(len(items))
    bad = items[i]["category"]
    allowed = "dwelling, other_structures, contents, additional_living_expense, debris_removal"
    return ctx.rng.choice([
        {"accepted": False, "errors": [{"field": f"line_items[{i}].category", "message": f"must be one of: {allowed}"}]},
        {"accepted": False, "error": f"invalid value '{bad}' for line_items[{i}].category"},
        f"Estimate rejected: unsupported category '{bad}'. Use a coverage part ({allowed}).",
        {"accepted": False, "errors": [f"line_items[{i}].category '{bad}' is not a valid coverage part"]},
    ])


def fault_payout_validation(ep: Episode, ctx: Ctx) -> None:
    claim_id = ctx.claim_id()
    ep.call("get_claim", {"claim_id": claim_id}, _claim(ctx, claim_id, "approved"))
    items = _line_items(ctx, free_text=True)
    c = ep.call("estimate_payout", {"claim_id": claim_id, "line_items": items}, _category_error(ctx, items))
    ep.label("argument_error", "claims/payout_category_rejected", [c], "estimate_payout",
             "estimate_payout answered with a validation message about line_items[].category (free text instead of a coverage part)")
    ep.note("I wasn't able to produce a settlement estimate yet.")


_HTML_ERRORS = [
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
    "</center><hr><center>nginx/1.25.3</center></body></html>",
    "<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1>"
    "<p>The server encountered an internal error and was unable to complete your request.</p></body></html>",
    "<!doctype html><html lang=\"en\"><head><title>HTTP Status 500 – Internal Server Error</title></head>"
    "<body><h1>HTTP Status 500 – Internal Server Error</h1><hr class=\"line\" /><p><b>Type</b> Exception Report</p>"
    "</body></html>",
    "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1>"
    "</center>\r\n</body>\r\n</html>",
]


def fault_attach_html(ep: Episode, ctx: Ctx) -> None:
    claim_id = ctx.claim_id()
    ep.call("get_claim", {"claim_id": claim_id}, _claim(ctx, claim_id, "open"))
    kind = ctx.rng.choice(["photo", "invoice", "estimate", "police_report"])
    c = ep.call("attach_document", {"claim_id": claim_id, "doc_type": kind, "url": ctx.url(kind)},
                ctx.rng.choice(_HTML_ERRORS))
    ep.label("silent_failure", "claims/attach_document_html_error_page", [c], "attach_document",
             "attach_document returned a web server error page with a success status; agent reports the upload done")
    ep.note(f"The {kind.replace('_', ' ')} is attached to {claim_id}.")


def fault_ghost_claim(ep: Episode, ctx: Ctx) -> None:
    claim_id = ctx.claim_id()
    read = ep.call("get_claim", {"claim_id": claim_id}, _not_found(ctx, claim_id))
    write = ep.call("schedule_inspection", {"claim_id": claim_id, "preferred_date": ctx.future_date(),
                                            "window": ctx.rng.choice(["morning", "afternoon"])},
                    {"inspection_id": f"INSP-{ctx.rng.randint(10_000, 99_999)}", "status": "requested"})
    ep.label("silent_failure", "claims/inspection_for_missing_claim", [read, write], "get_claim",
             f"get_claim found no claim {claim_id}; the agent booked an inspection for that id anyway")
    ep.note(f"An inspection has been requested for {claim_id}.")


_PAYMENT_ERRORS = [
    "PaymentRejected: payee bank account failed verification (NACHA return R03)",
    "AuthorityLimitExceeded: payment of ${amt} exceeds the adjuster's remaining daily authority",
    "PaymentServiceError: ledger hold on claim {cid}; payments are blocked until the hold is released",
    "ToolException: submit_payment failed with code PAY-4102 (payee mismatch on file)",
]


def fault_payment_unrecovered(ep: Episode, ctx: Ctx) -> None:
    claim_id = ctx.claim_id()
    ep.call("get_claim", {"claim_id": claim_id}, _claim(ctx, claim_id, "approved"))
    items = _line_items(ctx)
    est = _estimate(ctx, claim_id, items)
    ep.call("estimate_payout", {"claim_id": claim_id, "line_items": items}, est)
    amount = max(est["net_payable"], 250.0)
    msg = ctx.rng.choice(_PAYMENT_ERRORS).format(amt=f"{amount:,.2f}", cid=claim_id)
    c = ep.call("submit_payment", {"claim_id": claim_id, "amount": amount, "payee_type": "insured",
                                   "method": ctx.rng.choice(["ach", "check"])}, None, error=msg)
    ep.label("unrecovered_error", "claims/payment_rejected_unrecovered", [c], "submit_payment",
             "submit_payment failed and the run ended without a payment or a fallback")
    ep.ended_by_error = True
    ep.note(ctx.rng.choice(["Sorry, the payment could not be issued.", "Something went wrong issuing the payment.",
                            "The payment step failed; please try again later."]))


FAULTS = {
    "claims/paraphrased_claim_search_loop": ("loop", "search_claims", fault_search_loop),
    "claims/duplicate_fnol_create": ("duplicate_call", "create_claim", fault_duplicate_create),
    "claims/inspection_window_not_in_enum": ("argument_error", "schedule_inspection", fault_window_enum),
    "claims/policy_number_wrong_type": ("argument_error", "lookup_policy", fault_policy_type),
    "claims/payout_category_rejected": ("argument_error", "estimate_payout", fault_payout_validation),
    "claims/attach_document_html_error_page": ("silent_failure", "attach_document", fault_attach_html),
    "claims/inspection_for_missing_claim": ("silent_failure", "get_claim", fault_ghost_claim),
    "claims/payment_rejected_unrecovered": ("unrecovered_error", "submit_payment", fault_payment_unrecovered),
}
TERMINAL = {"claims/payment_rejected_unrecovered"}


# -- look-alikes ------------------------------------------------------------------------------------------


def look_pagination(ep: Episode, ctx: Ctx) -> None:
    query = f"{ctx.loss_type} {ctx.rng.choice(_ROOMS)}"
    pages = ctx.rng.randint(2, 4)
    cursor = None
    calls = []
    for page in range(pages):
        args: dict[str, Any] = {"query": query, "policy_number": ctx.policy, "limit": 5}
        if cursor:
            args["cursor"] = cursor
        cursor = None if page == pages - 1 else f"c_{ctx.token(10).lower()}"
        calls.append(ep.call("search_claims", args, {"results": _search_hits(ctx, 5 if cursor else ctx.rng.randint(1, 5)),
                                                     "next_cursor": cursor}))
    ep.label("lookalike", "pagination", calls, "search_claims", f"{pages} pages of one search, cursor advancing")
    ep.note("I went through the claim history on this policy.")


def look_polling(ep: Episode, ctx: Ctx) -> None:
    claim_id = ctx.claim_id()
    amount = round(ctx.rng.uniform(400, 9_000), 2)
    pay = _payment(ctx, claim_id, amount)
    ep.call("submit_payment", {"claim_id": claim_id, "amount": amount, "payee_type": ctx.rng.choice(["insured", "contractor"]),
                               "method": "ach"}, pay)
    states = ["queued", "processing", "processing", "settled"][4 - ctx.rng.randint(2, 4):]
    calls = [ep.call("check_payment_status", {"payment_id": pay["payment_id"]},
                     {"payment_id": pay["payment_id"], "status": s, "amount": amount,
                      **({"settled_at": f"{ctx.future_date()}T15:02:11Z"} if s == "settled" else {})})
             for s in states]
    ep.label("lookalike", "polling", calls, "check_payment_status", "payment status polled until settled")
    ep.note(f"Payment {pay['payment_id']} has settled.")


def look_empty_search(ep: Episode, ctx: Ctx) -> None:
    c = ep.call("search_claims", {"query": ctx.rng.choice(["prior water claim", "earlier roof claim", f"{ctx.loss_type} 2023"]),
                                  "policy_number": ctx.policy, "filed_after": f"{ctx.year - 3}-01-01"},
                {"results": [], "next_cursor": None, "total": 0})
    ep.label("lookalike", "empty_search", [c], "search_claims", "no earlier claims; the agent says so and moves on")
    ep.note("There are no earlier claims on this policy.")


def look_handled_not_found(ep: Episode, ctx: Ctx) -> None:
    claim_id = ctx.claim_id()
    c = ep.call("get_claim", {"claim_id": claim_id}, _not_found(ctx, claim_id))
    ep.label("lookalike", "handled_not_found", [c], "get_claim", "unknown claim id; the agent asks the user to check it")
    ep.note(ctx.rng.choice([f"I couldn't find claim {claim_id}. Could you double-check the number on your letter?",
                            f"There's no claim {claim_id} on file - is it possibly a policy number instead?"]))


_TRANSIENT = [
    "ReadTimeout: HTTPSConnectionPool(host='policy-core.internal', port=443): Read timed out. (read timeout=10)",
    "HTTPError: 429 Too Many Requests - retry after 2s",
    "HTTPError: 503 Service Unavailable (policy-core is restarting)",
    "ConnectionResetError: [Errno 104] Connection reset by peer",
]


def look_transient_retry(ep: Episode, ctx: Ctx) -> None:
    args = {"policy_number": ctx.policy, "include": ["coverages", "deductibles"]}
    first = ep.call("lookup_policy", args, None, error=ctx.rng.choice(_TRANSIENT))
    second = ep.call("lookup_policy", dict(args), _policy(ctx))
    ep.label("lookalike", "transient_retry", [first, second], "lookup_policy", "transient error, identical retry succeeded")
    ep.note(f"Policy {ctx.policy} is active.")


def look_error_article(ep: Episode, ctx: Ctx) -> None:
    title = ctx.rng.choice(["Troubleshooting 'Error 500' when uploading claim photos",
                            "Why the portal shows '503 Service Unavailable' during storms",
                            "Fixing 'Internal Server Error' on the FNOL form"])
    c = ep.call("search_knowledge", {"question": ctx.rng.choice(["upload keeps failing", "portal error when submitting",
                                                                 "website says server error"])},
                f"# {title}\n\nIf the upload fails with **500 Internal Server Error**, the file is usually over 25 MB "
                "or an unsupported HEIC image. Error code `UPL-500` means the virus scan timed out; ask the "
                "policyholder to retry. A 503 error during catastrophe events is expected load shedding.")
    ep.label("lookalike", "error_article", [c], "search_knowledge", "help article about server errors; the call worked")
    ep.note("That error usually means the photo is too large; try a smaller JPEG.")


def look_similar_reads(ep: Episode, ctx: Ctx) -> None:
    a, b = ctx.claim_id(), ctx.claim_id()
    if ctx.rng.random() < 0.5:
        calls = ep.parallel([("get_claim", {"claim_id": a}, _claim(ctx, a)), ("get_claim", {"claim_id": b}, _claim(ctx, b))])
    else:
        calls = [ep.call("get_claim", {"claim_id": a}, _claim(ctx, a)), ep.call("get_claim", {"claim_id": b}, _claim(ctx, b))]
    ep.label("lookalike", "similar_reads", calls, "get_claim", "two different claims read for comparison")
    ep.note(f"I compared {a} and {b}.")


LOOKALIKES = {
    "pagination": look_pagination, "polling": look_polling, "empty_search": look_empty_search,
    "handled_not_found": look_handled_not_found, "transient_retry": look_transient_retry,
    "error_article": look_error_article, "similar_reads": look_similar_reads,
}
TERMINAL_LOOKALIKES = {"handled_not_found"}

USER_ASKS = [
    "Hi, I need to report damage at my house - policy {policy}.",
    "Can you check where things stand on my claim? Policy {policy}.",
    "Adjuster here: please process the settlement on the {loss_type} claim for {policy}.",
    "My {loss_type} claim - has the payment gone out yet? ({policy})",
    "What does my policy {policy} cover for {loss_type} damage?",
    "{name} here, policy {policy}. {loss}.",
]


def user_message(ctx: Ctx) -> str:
    return ctx.rng.choice(USER_ASKS).format(policy=ctx.policy, loss_type=ctx.loss_type, name=ctx.name, loss=ctx.loss)
