"""Customer-support agent: orders, refunds, tickets, e-mails."""

from __future__ import annotations

from typing import Any

from tracemine.synth.catalog import (
    AgentSpec,
    ToolSpec,
    email,
    enum,
    integer,
    number,
    obj,
    pattern,
    string,
)
from tracemine.synth.data import CARRIERS, PRODUCTS, STREETS, day, email_of, hexid, money, person, pick
from tracemine.synth.plan import TraceBuilder

ORDER_RE = r"^ORD-\d{5}$"
CUSTOMER_RE = r"^CUS-\d{6}$"
ORDER_STATUSES = ("pending", "shipped", "delivered", "cancelled", "returned")
API = "https://api.shop.example.com/v2"


def _customer(b: TraceBuilder) -> dict[str, Any]:
    c = b.ctx.get("customer")
    if c is None:
        rng = b.rng
        first, last = person(rng)
        c = b.ctx["customer"] = {
            "customer_id": f"CUS-{rng.randint(100000, 999999)}",
            "name": f"{first} {last}",
            "email": email_of(rng, first, last),
            "tier": pick(rng, ("standard", "standard", "plus", "premium")),
        }
    return c


def _order_summary(b: TraceBuilder, status: str | None = None) -> dict[str, Any]:
    rng = b.rng
    return {
        "order_id": f"ORD-{rng.randint(10000, 99999)}",
        "status": status or pick(rng, ORDER_STATUSES[:3]),
        "total": money(rng, 15, 900),
        "currency": "USD",
        "placed_at": day(b.today - rng.randint(1, 90)),
    }


def _lookup_customer(b: TraceBuilder, a: dict[str, Any]) -> Any:
    c = _customer(b)
    rng = b.rng
    return {
        "customer_id": c["customer_id"],
        "name": c["name"],
        "email": a["email"],
        "tier": c["tier"],
        "member_since": day(b.today - rng.randint(60, 2500)),
        "open_tickets": rng.randint(0, 2),
    }


def _search_orders(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    status = a.get("status")
    orders = [_order_summary(b, status) for _ in range(rng.randint(1, 4))]
    return {"orders": orders, "page": a.get("page", 1), "has_more": rng.random() < 0.3}


def _get_order(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    items = []
    for _ in range(rng.randint(1, 3)):
        sku, name, price = pick(rng, PRODUCTS)
        items.append({"sku": sku, "name": name, "qty": rng.randint(1, 3), "unit_price": price})
    total = round(sum(i["qty"] * i["unit_price"] for i in items), 2)
    carrier = pick(rng, CARRIERS)
    return {
        "order_id": a["order_id"],
        "status": pick(rng, ("shipped", "delivered", "delivered", "pending")),
        "items": items,
        "total": total,
        "currency": "USD",
        "shipping": {
            "carrier": carrier,
            "tracking_number": f"{carrier[:2].upper()}{rng.getrandbits(40):012d}"[:14],
            "eta": day(b.today + rng.randint(-3, 6)),
        },
    }


def _list_tickets(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    subjects = ("Package arrived damaged", "Where is my refund?", "Wrong size delivered", "Billing question")
    return {
        "tickets": [
            {"ticket_id": f"TCK-{rng.randint(10000, 99999)}", "subject": pick(rng, subjects),
             "status": a.get("status", "open"), "updated_at": day(b.today - rng.randint(0, 20))}
            for _ in range(rng.randint(1, 2))
        ]
    }


_KB = (
    ("Refund policy for damaged items", 0.91), ("How long do refunds take?", 0.84),
    ("Changing a shipping address after checkout", 0.88), ("Error 502 at checkout: what to do", 0.62),
    ("Return labels and drop-off points", 0.79), ("Warranty claims for electronics", 0.71),
)


def _search_kb(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    n = min(a.get("top_k", 3), rng.randint(1, 3))
    arts = []
    for _ in range(n):
        title, score = pick(rng, _KB)
        arts.append({"article_id": f"KB-{rng.randint(1000, 9999)}", "title": title,
                     "score": round(score - rng.random() * 0.2, 3)})
    return {"articles": arts, "total": n}


def _create_ticket(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    return {"ticket_id": f"TCK-{rng.randint(10000, 99999)}", "status": "open", "priority": a["priority"],
            "created_at": f"{day(b.today)}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z"}


def _issue_refund(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    return {"refund_id": f"RFD-{rng.randint(100000, 999999)}", "status": "processed", "amount": a["amount"],
            "currency": "USD", "expected_in_days": rng.randint(3, 10)}


def _send_email(b: TraceBuilder, a: dict[str, Any]) -> Any:
    return {"message_id": f"<{hexid(b.rng, 16)}@mail.shop.example.com>", "queued": True, "errors": []}


def _update_address(b: TraceBuilder, a: dict[str, Any]) -> Any:
    return {"order_id": a["order_id"], "updated": True, "address": a["address"]}


TOOLS = {
    t.name: t
    for t in (
        ToolSpec(
            "lookup_customer", "Look up a customer profile by e-mail address.",
            obj(["email"], email=email("Customer e-mail address")),
            _lookup_customer, latency_ms=90, http=("GET", f"{API}/customers"),
            intro="Let me look up your customer profile.",
        ),
        ToolSpec(
            "search_orders", "Search a customer's orders, newest first.",
            obj(["customer_email"], customer_email=email("Customer e-mail"),
                status=enum("Filter by order status", *ORDER_STATUSES),
                page=integer("Page number", 1, 50), limit=integer("Results per page", 1, 50)),
            _search_orders, latency_ms=180, empty={"orders": [], "page": 1, "has_more": False}, empty_rate=0.06,
            http=("GET", f"{API}/orders"), intro="I'll search your recent orders.",
        ),
        ToolSpec(
            "get_order", "Get the full details of one order, including items and shipping.",
            obj(["order_id"], order_id=pattern("Order id, e.g. ORD-12345", ORDER_RE)),
            _get_order, latency_ms=120, http=("GET", f"{API}/orders"), intro="Let me pull up that order.",
        ),
        ToolSpec(
            "list_tickets", "List a customer's support tickets.",
            obj(["customer_id"], customer_id=pattern("Customer id", CUSTOMER_RE),
                status=enum("Ticket status", "open", "pending", "closed")),
            _list_tickets, latency_ms=110, empty={"tickets": []}, empty_rate=0.45,
            intro="Checking for existing tickets.",
        ),
        ToolSpec(
            "search_kb", "Search the help-center knowledge base.",
            obj(["query"], query=string("Search query", minLength=3, maxLength=200),
                top_k=integer("Number of articles", 1, 10)),
            _search_kb, latency_ms=260, empty={"articles": [], "total": 0}, empty_rate=0.15,
            intro="Let me check our help center.",
        ),
        ToolSpec(
            "create_ticket", "Open a support ticket for a customer.",
            obj(["customer_id", "subject", "priority"], customer_id=pattern("Customer id", CUSTOMER_RE),
                subject=string("Short subject", minLength=5, maxLength=120),
                priority=enum("Priority", "low", "normal", "high", "urgent"),
                category=enum("Category", "shipping", "billing", "product", "account", "other")),
            _create_ticket, write=True, latency_ms=220, http=("POST", f"{API}/tickets"),
            intro="I'll open a ticket for this.",
        ),
        ToolSpec(
            "issue_refund", "Refund all or part of an order.",
            obj(["order_id", "amount", "reason"], order_id=pattern("Order id", ORDER_RE),
                amount=number("Amount in order currency", 0.01, 5000),
                reason=enum("Reason", "damaged", "late_delivery", "wrong_item", "not_received", "other")),
            _issue_refund, write=True, latency_ms=450, http=("POST", "https://payments.example.com/v1/refunds"),
            intro="I'll process the refund now.",
        ),
        ToolSpec(
            "send_email", "Send an e-mail to a customer.",
            obj(["to", "subject", "body"], to=email("Recipient"), subject=string("Subject", maxLength=150),
                body=string("Plain-text body", maxLength=5000),
                template=enum("Optional template", "refund_confirmation", "ticket_update", "address_change")),
            _send_email, write=True, latency_ms=300, http=("POST", "https://mail.example.com/v3/send"),
            intro="Sending you a confirmation e-mail.",
        ),
        ToolSpec(
            "update_shipping_address", "Change the shipping address of an order that has not shipped.",
            obj(["order_id", "address"], order_id=pattern("Order id", ORDER_RE),
                address=obj(["street", "city", "postal_code", "country"], street=string("Street and number"),
                            city=string("City"), postal_code=string("Postal code", maxLength=10),
                            country=pattern("ISO country code", r"^[A-Z]{2}$"))),
            _update_address, write=True, latency_ms=250, intro="Updating the shipping address.",
        ),
    )
}


def _start(b: TraceBuilder) -> dict[str, Any]:
    c = _customer(b)
    return b.call("lookup_customer", {"email": c["email"]})


def order_status(b: TraceBuilder) -> None:
    rng = b.rng
    c = _customer(b)
    b.user_text = pick(rng, ("Where is my order? It hasn't arrived yet.", "Can you tell me when my package will arrive?",
                             f"Hi, this is {c['name']}. What's the status of my last order?"))
    _start(b)
    args: dict[str, Any] = {"customer_email": c["email"]}
    if rng.random() < 0.5:
        args["limit"] = pick(rng, (5, 10, 20))
    res = b.call("search_orders", args)
    if res["has_more"] and rng.random() < 0.6:  # pagination: same tool, different arguments
        res2 = b.call("search_orders", {**args, "page": 2})
        res = {"orders": res["orders"] + res2["orders"]}
    if not res["orders"]:
        b.finish(f"I couldn't find any orders for {c['email']}. Could you double-check the e-mail address you used at checkout?")
        return
    ids = [o["order_id"] for o in res["orders"]][: rng.randint(1, 3)]
    orders = [b.call("get_order", {"order_id": oid}) for oid in ids]  # several lookups, different ids
    order = orders[-1]
    ship = order["shipping"]
    b.finish(f"Your order {order['order_id']} is {order['status']}. It ships with {ship['carrier']} "
             f"(tracking {ship['tracking_number']}) and should arrive by {ship['eta']}.")


def refund(b: TraceBuilder) -> None:
    rng = b.rng
    c = _customer(b)
    oid = f"ORD-{rng.randint(10000, 99999)}"
    reason = pick(rng, ("damaged", "late_delivery", "wrong_item", "not_received"))
    b.user_text = pick(rng, (f"My order {oid} arrived damaged, I want a refund.",
                             f"I never received {oid}. Please refund me.",
                             f"Order {oid} had the wrong item in it. Can I get my money back?"))
    _start(b)
    order = b.call("get_order", {"order_id": oid})
    kb = b.call("search_kb", {"query": pick(rng, ("refund policy damaged item", "refund eligibility", "refund timeline")),
                              "top_k": 3})
    if not kb["articles"]:
        b.call("search_kb", {"query": "refunds", "top_k": 5})
    amount = order["total"] if rng.random() < 0.7 else round(order["total"] * 0.5, 2)
    r = b.call("issue_refund", {"order_id": oid, "amount": amount, "reason": reason})
    b.call("send_email", {"to": c["email"], "subject": f"Your refund for {oid}",
                          "body": f"Hi {c['name'].split()[0]}, we refunded {amount:.2f} USD ({r['refund_id']}).",
                          "template": "refund_confirmation"})
    b.finish(f"I've refunded {amount:.2f} USD for order {oid} (refund {r['refund_id']}). "
             f"You should see it within {r['expected_in_days']} business days; a confirmation e-mail is on its way.")


def complaint(b: TraceBuilder) -> None:
    rng = b.rng
    c = _customer(b)
    subject = pick(rng, ("Package left at wrong address", "Charged twice for one order", "Product stopped working",
                         "Cannot log in to my account", "Delivery driver was rude"))
    b.user_text = f"{subject}. I want someone to look into this."
    prof = _start(b)
    tickets = b.call("list_tickets", {"customer_id": prof["customer_id"], "status": "open"})
    if tickets["tickets"] and rng.random() < 0.3:
        b.finish(f"You already have an open ticket ({tickets['tickets'][0]['ticket_id']}); our team will update you there.")
        return
    t = b.call("create_ticket", {"customer_id": prof["customer_id"], "subject": subject,
                                 "priority": pick(rng, ("normal", "high", "urgent")),
                                 "category": pick(rng, ("shipping", "billing", "product", "account"))})
    b.call("send_email", {"to": c["email"], "subject": f"Ticket {t['ticket_id']} opened",
                          "body": f"We received your request: {subject}.", "template": "ticket_update"})
    b.finish(f"I've opened ticket {t['ticket_id']} with {t['priority']} priority; you'll hear from us within 24 hours.")


def address_change(b: TraceBuilder) -> None:
    rng = b.rng
    c = _customer(b)
    oid = f"ORD-{rng.randint(10000, 99999)}"
    b.user_text = f"I moved last week. Please send {oid} to my new address."
    order = b.call("get_order", {"order_id": oid})
    if order["status"] != "pending":
        b.call("search_kb", {"query": "change address after shipping", "top_k": 2})
        b.finish(f"Order {oid} has already {order['status']}, so I can't change its address; "
                 f"you can redirect it with {order['shipping']['carrier']} using tracking {order['shipping']['tracking_number']}.")
        return
    addr = {"street": f"{rng.randint(1, 200)} {pick(rng, STREETS)}", "city": pick(rng, ("Austin", "Leeds", "Lyon", "Bremen")),
            "postal_code": str(rng.randint(10000, 99999)), "country": pick(rng, ("US", "GB", "FR", "DE"))}
    b.call("update_shipping_address", {"order_id": oid, "address": addr})
    b.call("send_email", {"to": c["email"], "subject": f"New address for {oid}",
                          "body": f"Your order will ship to {addr['street']}, {addr['city']}.", "template": "address_change"})
    b.finish(f"Done: order {oid} will now ship to {addr['street']}, {addr['city']}.")


AGENT = AgentSpec(
    name="support-agent",
    service="support-agent",
    domain="customer support",
    models=("gpt-4o-mini", "gpt-4o", "claude-3-5-haiku"),
    tools=TOOLS,
    workflows=((0.35, order_status), (0.3, refund), (0.2, complaint), (0.15, address_change)),
    fake_tools=("get_order_details", "refund_order", "lookup_user", "create_support_ticket", "email_customer"),
    system_tokens=1100,
    ok_status=1,
)
