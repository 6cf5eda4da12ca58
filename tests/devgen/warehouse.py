"""Warehouse / inventory operations agent ("stockroom-ops"; Anthropic models). Seed 0 writes it as Langfuse
trace exports; other seeds rotate it through the other formats (``devgen.FORMATS``).

Its supplier search (``search_suppliers``) answers with a fresh ``request_id`` and ``generated_at`` on
every call, so identical content never means identical results (``supplier_search_paraphrase_loop``). Its
WMS log search (``query_wms_logs``) answers like real log stores (Loki streams with execution statistics,
Elasticsearch hits whose total depends on the wording, plain text with times relative to the call), under a
nested ``time_range`` that moves with the clock (``wms_log_search_reworded_loop`` and two look-alikes)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from devgen.core import Run, Variant
from devgen.values import date, digits, hexs, person

NAME = "stockroom-ops"
ROOT_NAME = "stockroom-ops.run"
VERSION = "2025.03.1"
DIRNAME, GENERATION_NAME, PROVIDER = "warehouse", "anthropic.messages", "anthropic"
SDK_AGENT, WORKFLOW = "Stockroom operator", "stockroom-ops"  # OpenAI Agents SDK agent and workflow names
MODELS = ("claude-3-5-haiku-20241022", "claude-sonnet-4-20250514")
SYSTEM = ("You are the stockroom operations agent for Halden Supply. Check stock before moving it, never "
          "order more than the approved budget, and post a summary to the ops channel when you change stock.")
WAREHOUSES = ["AMS1", "RTM2", "LEJ1", "MAD3", "WRO1"]
CATEGORIES = ["fasteners", "packaging", "safety", "electrical", "tools", "consumables"]
PRODUCTS = {
    "fasteners": ["M8 hex bolt zinc (box of 200)", "M6 flange nut", "stainless wood screw 4x40"],
    "packaging": ["double-wall carton 600x400x400", "stretch film 23 micron", "kraft void fill roll"],
    "safety": ["nitrile gloves size L", "hi-vis vest class 2", "safety glasses clear"],
    "electrical": ["cable tie 300mm black", "DIN rail 1m", "LED panel 600x600"],
    "tools": ["pallet jack 2.5t", "tape gun 50mm", "torque wrench 1/2in"],
    "consumables": ["thermal label 100x150", "cutter blades 18mm", "AA battery (pack of 24)"],
}

TOOLS = [
    {"name": "search_products", "description": "Search the product catalogue.",
     "parameters": {"type": "object", "properties": {
         "query": {"type": "string"}, "category": {"type": "string", "enum": CATEGORIES},
         "page": {"type": "integer", "minimum": 1}}, "required": ["query"]}},
    {"name": "lookup_sku", "description": "Product master data for one SKU.",
     "parameters": {"type": "object", "properties": {"sku": {"type": "string", "pattern": "^[A-Z]{3}-\\d{5}$"}},
                    "required": ["sku"], "additionalProperties": False}},
    {"name": "get_stock_levels", "description": "On-hand, reserved and available stock per warehouse.",
     "parameters": {"type": "object", "properties": {
         "sku": {"type": "string", "pattern": "^[A-Z]{3}-\\d{5}$"},
         "warehouse": {"type": "string", "enum": WAREHOUSES}}, "required": ["sku"]}},
    {"name": "create_transfer_order", "description": "Move stock between warehouses.",
     "parameters": {"type": "object", "properties": {
         "sku": {"type": "string"}, "from_warehouse": {"type": "string", "enum": WAREHOUSES},
         "to_warehouse": {"type": "string", "enum": WAREHOUSES},
         "quantity": {"type": "integer", "minimum": 1},
         "priority": {"type": "string", "enum": ["standard", "express"]}},
         "required": ["sku", "from_warehouse", "to_warehouse", "quantity"], "additionalProperties": False}},
    {"name": "reserve_stock", "description": "Reserve available stock for a customer order.",
     "parameters": {"type": "object", "properties": {
         "order_id": {"type": "string", "pattern": "^SO-\\d{7}$"}, "sku": {"type": "string"},
         "quantity": {"type": "integer", "minimum": 1}, "warehouse": {"type": "string", "enum": WAREHOUSES}},
         "required": ["order_id", "sku", "quantity", "warehouse"]}},
    {"name": "create_purchase_order", "description": "Raise a purchase order with a supplier.",
     "parameters": {"type": "object", "properties": {
         "supplier_id": {"type": "string", "pattern": "^SUP-\\d{4}$"},
         "lines": {"type": "array", "minItems": 1, "items": {"type": "object", "properties": {
             "sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1},
             "unit_price": {"type": "number"}}, "required": ["sku", "quantity"]}},
         "currency": {"type": "string", "enum": ["EUR", "USD", "GBP", "PLN"]},
         "deliver_to": {"type": "string", "enum": WAREHOUSES}},
         "required": ["supplier_id", "lines", "currency", "deliver_to"]}},
    {"name": "get_order_status", "description": "Fulfilment status of a sales or transfer order.",
     "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}},
    {"name": "adjust_inventory", "description": "Book a stock adjustment (count difference, damage...).",
     "parameters": {"type": "object", "properties": {
         "sku": {"type": "string"}, "warehouse": {"type": "string", "enum": WAREHOUSES},
         "delta": {"type": "integer"},
         "reason": {"type": "string", "enum": ["damage", "cycle_count", "return", "theft", "expired"]}},
         "required": ["sku", "warehouse", "delta", "reason"], "additionalProperties": False}},
    {"name": "notify_channel", "description": "Post a message to an ops chat channel."},
    {"name": "search_suppliers", "description": "Search approved suppliers by product, category and delivery site.",
     "parameters": {"type": "object", "properties": {
         "query": {"type": "string", "minLength": 2}, "category": {"type": "string", "enum": CATEGORIES},
         "delivers_to": {"type": "string", "enum": WAREHOUSES},
         "max_lead_time_days": {"type": "integer", "minimum": 1}},
         "required": ["query"]}},
    {"name": "query_wms_logs", "description": "Search the warehouse-management system's application logs.",
     "parameters": {"type": "object", "properties": {
         "query": {"type": "string"}, "site": {"type": "string", "enum": WAREHOUSES},
         "time_range": {"type": "object", "properties": {"from": {"type": "string", "format": "date-time"},
                                                         "to": {"type": "string", "format": "date-time"}}},
         "limit": {"type": "integer", "minimum": 1, "maximum": 200}}, "required": ["query", "site"]}},
]

LAT = {"search_products": (120, 600), "lookup_sku": (40, 180), "get_stock_levels": (150, 800),
       "create_transfer_order": (300, 1200), "reserve_stock": (120, 500), "create_purchase_order": (500, 2200),
       "get_order_status": (80, 300), "adjust_inventory": (150, 500), "notify_channel": (200, 700),
       "search_suppliers": (250, 1100), "query_wms_logs": (300, 2500)}
SUPPLIERS = ["Nordic Fastening AB", "Rheinpack GmbH", "Brandt Arbeitsschutz GmbH", "Iberelec SL",
             "Kowal Narzedzia Sp. z o.o.", "Vandermolen Packaging BV", "EuroSafe Supplies NV", "Halden Consumables Ltd"]


def call_id(rng: random.Random, seq: int) -> str:
    return "toolu_01" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
                                for _ in range(22))


class Item:
    def __init__(self, rng: random.Random) -> None:
        self.category = rng.choice(CATEGORIES)
        self.title = rng.choice(PRODUCTS[self.category])
        self.sku = f"{self.category[:3].upper()}-{digits(rng, 5)}"
        self.wh = rng.choice(WAREHOUSES)
        self.other = rng.choice([w for w in WAREHOUSES if w != self.wh])
        self.qty = rng.choice([6, 12, 24, 40, 50, 120, 200, 480])
        self.order = f"SO-{digits(rng, 7)}"
        self.supplier = f"SUP-{digits(rng, 4)}"
        self.price = round(rng.uniform(0.4, 380), 2)


def master(item: Item, rng: random.Random) -> dict:
    return {"sku": item.sku, "title": item.title, "category": item.category, "uom": "EA",
            "weight_kg": round(rng.uniform(0.05, 40), 2), "preferred_supplier": item.supplier,
            "unit_cost": {"amount": item.price, "currency": "EUR"}, "active": True}


def levels(item: Item, rng: random.Random, wh: str | None = None, available: int | None = None) -> dict:
    wh = wh or item.wh
    on_hand = rng.randint(item.qty, item.qty * 6) if available is None else available + rng.randint(0, 20)
    reserved = on_hand - available if available is not None else rng.randint(0, on_hand // 3)
    return {"sku": item.sku, "warehouse": wh, "on_hand": on_hand, "reserved": reserved,
            "available": on_hand - reserved, "bins": [f"{wh}-{rng.choice('ABCD')}{rng.randint(1, 40):02d}-"
                                                      f"{rng.randint(1, 6)}"]}


def suppliers(item: Item, rng: random.Random, n: int, lead: tuple[int, int] = (2, 6),
              include_usual: bool = True) -> list[dict]:
    names = rng.sample(SUPPLIERS, n)
    out = [{"supplier_id": item.supplier if include_usual and i == 0 else f"SUP-{digits(rng, 4)}", "name": name,
            "categories": sorted({item.category, rng.choice(CATEGORIES)}), "lead_time_days": rng.randint(*lead),
            "min_order_eur": rng.choice([50, 100, 250, 500]), "rating": round(rng.uniform(3.4, 4.9), 1)}
           for i, name in enumerate(names)]
    return out


class SupplierApi:
    """The supplier search service: every answer has a new request id and generation time."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.day = date(rng)
        self.clock = rng.randint(7 * 3600, 17 * 3600)

    def answer(self, hits: list[dict]) -> dict:
        self.clock += self.rng.randint(3, 14)
        h, rest = divmod(self.clock, 3600)
        stamp = f"{self.day}T{h:02d}:{rest // 60:02d}:{rest % 60:02d}.{self.rng.randint(0, 999):03d}Z"
        return {"request_id": f"req_{hexs(self.rng, 20)}", "generated_at": stamp, "total": len(hits),
                "suppliers": [dict(hit) for hit in hits], "took_ms": self.rng.randint(40, 380)}


LOG_TEXT = ["pick task {task} assigned to scanner {dev}", "scanner {dev} heartbeat ok", "wave {task} released",
            "putaway confirmed for bin {bin}", "label printer {dev} paper low", "replenishment job {task} queued",
            "pick task {task} short-picked at bin {bin}", "conveyor zone 3 restarted", "scanner {dev} re-login"]


def log_lines(rng: random.Random, day: str, wh: str, n: int) -> list[dict]:
    """``n`` WMS log lines of one site on ``day``, newest first (each with its own document id)."""
    out = []
    for _ in range(n):
        ts = f"{day}T{rng.randint(5, 11):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z"
        text = rng.choice(LOG_TEXT).format(task=f"T{digits(rng, 6)}", dev=f"SC-{digits(rng, 3)}",
                                           bin=f"{wh}-{rng.choice('ABCD')}{rng.randint(1, 40):02d}")
        out.append({"id": hexs(rng, 20), "ts": ts, "level": rng.choice(["INFO", "INFO", "WARN", "ERROR"]),
                    "msg": text})
    return sorted(out, key=lambda line: line["ts"], reverse=True)


class LogService:
    """The WMS log search in one of three shapes, as real log stores answer: a Loki-style stream result with
    execution statistics, Elasticsearch-style hits (total that depends on the wording, scores, ``took``), or
    plain text with the top lines, a total and times relative to the moment of the call."""

    def __init__(self, rng: random.Random, shape: str, day: str) -> None:
        self.rng, self.shape, self.day = rng, shape, day
        self.clock = rng.randint(11 * 60, 15 * 60)  # minutes since midnight

    def time_range(self, hours: int = 6) -> dict:
        self.clock += self.rng.randint(1, 4)
        end = datetime.fromisoformat(f"{self.day}T00:00:00+00:00") + timedelta(minutes=self.clock)
        start = end - timedelta(hours=hours)
        return {"from": start.strftime("%Y-%m-%dT%H:%M:00Z"), "to": end.strftime("%Y-%m-%dT%H:%M:00Z")}

    def answer(self, lines: list[dict], total: int) -> object:
        rng = self.rng
        if self.shape == "loki":
            values = [[str(int(datetime.fromisoformat(x["ts"]).timestamp() * 1e9)), f"level={x['level']} {x['msg']}"]
                      for x in lines]
            return {"status": "success", "data": {"resultType": "streams", "result": [
                {"stream": {"app": "wms", "level": "mixed"}, "values": values}],
                "stats": {"summary": {"execTime": round(rng.uniform(0.01, 0.9), 6),
                                      "totalLinesProcessed": rng.randint(20_000, 90_000),
                                      "totalBytesProcessed": rng.randint(2_000_000, 9_000_000)}}}}
        if self.shape == "elastic":
            hits = [{"_index": f"wms-logs-{self.day.replace('-', '.')}", "_id": x["id"],
                     "_score": round(rng.uniform(1.0, 12.0), 5),
                     "_source": {"@timestamp": x["ts"], "log.level": x["level"], "message": x["msg"]}} for x in lines]
            hits.sort(key=lambda hit: -hit["_score"])
            return {"took": rng.randint(3, 400), "timed_out": False,
                    "hits": {"total": {"value": total, "relation": "eq"},
                             "max_score": hits[0]["_score"] if hits else None, "hits": hits}}
        now = self.clock
        rows = []
        for x in lines:
            hh, mm = int(x["ts"][11:13]), int(x["ts"][14:16])
            ago = max(1, now - (hh * 60 + mm))
            rows.append(f"[{ago}m ago] {x['level']:<5} {x['msg']}")
        return f"Showing {len(lines)} of {total} matching lines:\n" + "\n".join(rows)


def ask_move(item: Item, run: Run) -> str:
    return run.pick([f"Move {item.qty} x {item.sku} from {item.wh} to {item.other}.",
                     f"{item.other} is running low on {item.title} — send {item.qty} from {item.wh}.",
                     f"Please transfer {item.qty} units of {item.sku} ({item.title}) {item.wh} -> {item.other}"])


def notify(run: Run, text: str, tag: str | None = None, result: object = None) -> None:
    run.call("notify_channel", {"channel": run.pick(["#ops-stock", "#wh-alerts", "C04QK2X9ZL1"]), "text": text},
             result if result is not None else {"ok": True, "ts": f"17{digits(run.rng, 8)}.{digits(run.rng, 6)}"},
             tag=tag)


def transfer(run: Run, item: Item, quantity: object = None, tag: str | None = None) -> None:
    args = {"sku": item.sku, "from_warehouse": item.wh, "to_warehouse": item.other,
            "quantity": item.qty if quantity is None else quantity, "priority": run.pick(["standard", "express"])}
    run.call("create_transfer_order", args, {"transfer_id": f"TO-{digits(run.rng, 6)}", "status": "released",
                                             "eta": date(run.rng)}, tag=tag)


def flow_transfer(run: Run) -> None:
    item = Item(run.rng)
    run.begin("transfer", ask_move(item, run))
    stock = levels(item, run.rng)
    run.call("get_stock_levels", {"sku": item.sku, "warehouse": item.wh}, stock)
    if run.rng.random() < 0.4:
        run.event("guardrail.quantity_check", {"sku": item.sku, "requested": item.qty,
                                               "available": stock["available"], "passed": True})
    transfer(run, item)
    if run.rng.random() < 0.5:
        notify(run, f"Transfer of {item.qty} {item.sku} {item.wh}->{item.other} released.")
    run.say(f"Transfer of {item.qty} x {item.sku} from {item.wh} to {item.other} is released.")


def flow_purchase(run: Run) -> None:
    item = Item(run.rng)
    run.begin("purchase", run.pick([f"We need more {item.title}. Order {item.qty * 5} from the usual supplier.",
                                    f"Reorder {item.title} for {item.wh}, about {item.qty * 5} units."]))
    run.call("search_products", {"query": item.title.split(" (")[0], "category": item.category},
             {"results": [{"sku": item.sku, "title": item.title}], "page": 1, "total": 1})
    run.call("lookup_sku", {"sku": item.sku}, master(item, run.rng))
    if run.rng.random() < 0.35:
        run.call("search_suppliers", {"query": item.title.split(" (")[0], "category": item.category,
                                      "delivers_to": item.wh},
                 SupplierApi(run.rng).answer(suppliers(item, run.rng, run.rng.randint(1, 3))))
    run.call("create_purchase_order", {"supplier_id": item.supplier, "lines": [
        {"sku": item.sku, "quantity": item.qty * 5, "unit_price": item.price}], "currency": "EUR",
        "deliver_to": item.wh}, {"po_number": f"PO-{digits(run.rng, 6)}", "status": "sent_to_supplier",
                                 "total": round(item.qty * 5 * item.price, 2)})
    run.say(f"Purchase order for {item.qty * 5} x {item.title} raised with {item.supplier}.")


def flow_reserve(run: Run) -> None:
    item = Item(run.rng)
    run.begin("reserve", f"Reserve {item.qty} of {item.sku} for order {item.order}.")
    run.call("get_stock_levels", {"sku": item.sku, "warehouse": item.wh}, levels(item, run.rng))
    run.call("reserve_stock", {"order_id": item.order, "sku": item.sku, "quantity": item.qty, "warehouse": item.wh},
             {"ok": True, "reservation_id": f"RSV-{hexs(run.rng, 8)}", "expires": f"{date(run.rng)}T18:00:00Z"})
    run.say(f"{item.qty} x {item.sku} reserved for {item.order} in {item.wh}.")


def flow_adjust(run: Run) -> None:
    item = Item(run.rng)
    delta = -run.rng.randint(1, 12)
    reason = run.pick(["damage", "cycle_count", "expired"])
    run.begin("adjust", f"Cycle count found {abs(delta)} fewer {item.sku} in {item.wh} ({reason}). Book it.")
    run.call("lookup_sku", {"sku": item.sku}, master(item, run.rng))
    run.call("adjust_inventory", {"sku": item.sku, "warehouse": item.wh, "delta": delta, "reason": reason},
             {"adjustment_id": f"ADJ-{digits(run.rng, 6)}", "new_on_hand": run.rng.randint(0, 300)})
    run.say(f"Booked an adjustment of {delta} for {item.sku} in {item.wh}.")


FLOWS = [flow_transfer, flow_purchase, flow_reserve, flow_adjust]


def bug_stuck_poll(run: Run) -> str:
    m = "warehouse/order_status_stuck_poll"
    item = Item(run.rng)
    run.begin("order_status", run.pick([f"Has {item.order} shipped yet? Wait for it if it's close.",
                                        f"Let me know when {item.order} leaves {item.wh}."]))
    status = {"order_id": item.order, "status": "picking", "warehouse": item.wh, "updated_at": f"{date(run.rng)}T"
              f"{run.rng.randint(6, 18):02d}:14:02Z", "lines_picked": "3/5"}
    n = run.rng.randint(6, 10)
    for _ in range(n):
        run.call("get_order_status", {"order_id": item.order}, dict(status), tag=m)
    run.stop(f"{item.order} is still being picked; I'll stop checking for now.")
    return f"get_order_status polled {n} times with identical results (status never changed)"


def bug_search_cycle(run: Run) -> str:
    m = "warehouse/sku_search_lookup_cycle"
    item = Item(run.rng)
    run.begin("purchase", f"Reorder {item.title} for {item.wh}.")
    search = {"results": [{"sku": item.sku, "title": item.title, "discontinued": True}], "page": 1, "total": 1}
    gone = {"error": {"code": "SKU_INACTIVE", "message": f"{item.sku} is discontinued"}}
    rounds = run.rng.randint(3, 4)
    for _ in range(rounds):
        run.call("search_products", {"query": item.title.split(" (")[0], "category": item.category}, search, tag=m)
        run.call("lookup_sku", {"sku": item.sku}, gone, tag=m)
    run.stop("I could not find an active SKU for that product.")
    return f"search_products → lookup_sku cycle repeated {rounds} times with identical calls and results"


def bug_duplicate_po(run: Run) -> str:
    m = "warehouse/duplicate_purchase_order"
    item, extra = Item(run.rng), Item(run.rng)
    run.begin("purchase", f"Order {item.qty * 4} {item.title} and {extra.qty * 2} {extra.title} from {item.supplier}.")
    lines = [{"sku": item.sku, "quantity": item.qty * 4, "unit_price": item.price},
             {"sku": extra.sku, "quantity": extra.qty * 2, "unit_price": extra.price}]
    args = {"supplier_id": item.supplier, "lines": lines, "currency": "EUR", "deliver_to": item.wh}
    run.call("create_purchase_order", args, {"po_number": f"PO-{digits(run.rng, 6)}", "status": "sent_to_supplier"},
             tag=m)
    again = {"deliver_to": item.wh, "currency": "EUR", "supplier_id": item.supplier,
             "lines": [dict(reversed(list(line.items()))) for line in reversed(lines)]}
    run.call("create_purchase_order", again, {"po_number": f"PO-{digits(run.rng, 6)}",
                                              "status": "sent_to_supplier"}, tag=m,
             think=run.pick([None, "Submitting the purchase order now.", "Placing the order with the supplier."]))
    run.say(f"Ordered from {item.supplier}.")
    return "the same purchase order was created twice (lines and keys reordered), two PO numbers issued"


def bug_quantity_type(run: Run) -> str:
    m = "warehouse/transfer_quantity_not_integer"
    item = Item(run.rng)
    run.begin("transfer", ask_move(item, run))
    run.call("get_stock_levels", {"sku": item.sku, "warehouse": item.wh}, levels(item, run.rng))
    bad = run.pick([f"{item.qty} units", f"{item.qty}.5", f"{item.qty // 6} cases", "two pallets", item.qty + 0.5])
    transfer(run, item, quantity=bad, tag=m)
    run.say(f"Transfer of {item.sku} released.")
    return f"create_transfer_order quantity={bad!r} is not an integer; the WMS accepted it"


def bug_extra_property(run: Run) -> str:
    m = "warehouse/adjustment_undeclared_property"
    item = Item(run.rng)
    delta = -run.rng.randint(1, 9)
    run.begin("adjust", f"{abs(delta)} x {item.sku} were damaged in {item.wh}, write them off.")
    extra_key, extra_val = run.pick([("approved_by", person(run.rng)), ("comment", "forklift damage, aisle 4"),
                                     ("photo_url", f"https://files.halden.example/{hexs(run.rng, 12)}.jpg"),
                                     ("bin", f"{item.wh}-B{run.rng.randint(1, 40):02d}")])
    run.call("adjust_inventory", {"sku": item.sku, "warehouse": item.wh, "delta": delta, "reason": "damage",
                                  extra_key: extra_val},
             {"adjustment_id": f"ADJ-{digits(run.rng, 6)}", "new_on_hand": run.rng.randint(0, 300)}, tag=m)
    run.say(f"Wrote off {abs(delta)} x {item.sku}.")
    return f"adjust_inventory got undeclared property {extra_key!r} (additionalProperties: false), accepted"


def bug_reserve_not_ok(run: Run) -> str:
    m = "warehouse/reservation_rejected_in_body"
    item = Item(run.rng)
    run.begin("reserve", f"Reserve {item.qty} of {item.sku} for order {item.order}.")
    run.call("get_stock_levels", {"sku": item.sku, "warehouse": item.wh},
             levels(item, run.rng, available=item.qty - run.rng.randint(1, item.qty // 2 + 1)))
    body = run.pick([{"ok": False, "reason": "insufficient_available", "available": item.qty // 2},
                     {"ok": False, "error": "ORDER_LOCKED", "detail": f"{item.order} is locked by wave planning"},
                     {"ok": False, "reservation_id": None, "messages": ["quantity exceeds ATP"]}])
    run.call("reserve_stock", {"order_id": item.order, "sku": item.sku, "quantity": item.qty,
                               "warehouse": item.wh}, body, tag=m)
    run.say(f"{item.qty} x {item.sku} reserved for {item.order}.")
    return "reserve_stock answered ok:false with a normal status; the agent reported the reservation as done"


def bug_wms_down(run: Run) -> str:
    m = "warehouse/wms_unavailable_gave_up"
    item = Item(run.rng)
    run.begin("transfer", ask_move(item, run))
    err = run.pick(["503 Service Unavailable: WMS maintenance window", "ConnectionResetError: [Errno 104] "
                    "Connection reset by peer", "WMSError: inventory service unavailable (circuit open)"])
    run.call("get_stock_levels", {"sku": item.sku, "warehouse": item.wh}, {"error": err}, error=err, tag=m)
    run.stop(run.pick(["Sorry, the warehouse system is unavailable right now, so I couldn't move the stock.",
                       "I apologise — I can't reach the WMS. Please retry later."]))
    return "get_stock_levels failed and the run ended with an apology, task not done"


def bug_token_blowup(run: Run) -> str:
    m = "warehouse/model_context_blowup"
    run.rng.choice(FLOWS)(run)
    tools = [a for a in run.actions if a.type == "tool" and not a.batched]
    a = run.rng.choice(tools)
    a.llm_tags = (m,)
    a.llm_in_tok = run.rng.randint(95_000, 180_000)
    return f"one model call took {a.llm_in_tok} input tokens (the whole catalogue was pasted into context)"


def bug_notify_invalid(run: Run) -> str:
    m = "warehouse/notify_invalid_arguments_text"
    item = Item(run.rng)
    run.begin("transfer", ask_move(item, run))
    run.call("get_stock_levels", {"sku": item.sku, "warehouse": item.wh}, levels(item, run.rng))
    transfer(run, item)
    msg = run.pick(["invalid_arguments: 'channel' must be a channel id such as C0123ABCD",
                    "Validation failed: text: ensure this value has at most 40 characters",
                    "error: unknown field 'text', expected 'message'"])
    run.call("notify_channel", {"channel": "#ops-stock", "text": f"Transfer {item.sku} {item.wh}->{item.other} "
                                                                 f"released for {item.qty} units"},
             msg, tag=m)
    run.say("Transfer released and the ops channel was notified.")
    return "notify_channel (no declared schema) answered with validation-error text; agent claimed success"


def bug_supplier_loop(run: Run) -> str:
    m = "warehouse/supplier_search_paraphrase_loop"
    item = Item(run.rng)
    days = run.pick([3, 5, 7])
    short = item.title.split(" (")[0]
    run.begin("sourcing", run.pick([
        f"Find us a supplier that can get {item.title} to {item.wh} within {days} days — ours is out of stock.",
        f"{item.supplier} can't deliver {short}. Who else can supply {item.wh} in under {days} days?",
        f"Source an alternative supplier for {item.sku} ({short}), delivered to {item.wh} within {days} days."]))
    queries = [short, f"{short} supplier", f"{short} wholesale", f"who sells {short.lower()}",
               f"{short} distributor", f"{item.category} vendor {short.split()[0]}", f"alternative supplier {short}",
               f"{short} bulk {item.category}"]
    run.rng.shuffle(queries)
    n = run.rng.randint(4, 6)
    empty = run.rng.random() < 0.45
    # the same suppliers every time, all too slow for the deadline (or nothing at all)
    same = [] if empty else suppliers(item, run.rng, run.rng.randint(1, 3), lead=(days + 5, days + 20),
                                      include_usual=False)
    api = SupplierApi(run.rng)
    for q in queries[:n]:
        args: dict = {"query": q, "delivers_to": item.wh}
        if run.rng.random() < 0.5:
            args["category"] = item.category
        if empty and run.rng.random() < 0.5:
            args["max_lead_time_days"] = days
        run.call("search_suppliers", args, api.answer(same), tag=m, think=run.pick(
            [None, "No results, let me rephrase." if empty else "Same suppliers again — trying other keywords.",
             "Let me try a broader search term.", "Searching with different wording."]))
    run.stop(run.pick([
        f"I couldn't find an approved supplier that can deliver {short} to {item.wh} within {days} days. "
        "Should I ask purchasing to onboard a new one?",
        f"Sorry — none of the suppliers I found can get {short} to {item.wh} in time, so I stopped searching.",
        f"No alternative supplier for {item.sku} is available for delivery within {days} days."]))
    what = "the same empty list" if empty else f"the same {len(same)} supplier(s)"
    return (f"search_suppliers re-run {n} times with reworded queries; every answer had a new request_id and "
            f"generated_at but {what}; the run gave up")


def bug_wms_log_loop(run: Run) -> str:
    m = "warehouse/wms_log_search_reworded_loop"
    item = Item(run.rng)
    day = date(run.rng)
    run.begin("logs", run.pick([f"Why did picking stall at {item.wh} this morning? Check the WMS logs.",
                                f"Scanners at {item.wh} kept dropping tasks today — find out why in the logs.",
                                f"Find the WMS error behind the failed picks at {item.wh} on {day}."]))
    shape = run.pick(["loki", "elastic", "text"])
    service = LogService(run.rng, shape, day)
    lines = log_lines(run.rng, day, item.wh, run.rng.randint(3, 6))  # routine lines, never the cause
    queries = ["pick failed", "picking stalled", "scanner dropped task", "error picking", "task dropped scanner",
               "why picks fail", "pick error timeout", "stalled wave", "failed pick task", "scanner disconnect"]
    run.rng.shuffle(queries)
    n = run.rng.randint(4, 6)
    gap = run.rng.randint(1, n - 2) if run.rng.random() < 0.5 else None  # a side check between two searches
    limit = run.pick([None, 5, 10])
    for k, q in enumerate(queries[:n]):
        args: dict = {"query": q, "site": item.wh, "time_range": service.time_range()}
        if limit:
            args["limit"] = limit
        total = len(lines) + run.rng.randint(0, 400)  # how many lines the wording matched: the top ones repeat
        run.call("query_wms_logs", args, service.answer(lines, total), tag=m, think=run.pick(
            [None, "Nothing about the stall in those lines, let me search again differently.",
             "Still routine entries. Trying other keywords."]))
        if k == gap:
            run.call("get_stock_levels", {"sku": item.sku, "warehouse": item.wh}, levels(item, run.rng))
    run.stop(run.pick([f"I couldn't find what stalled picking at {item.wh} in the WMS logs.",
                       "The logs only show routine entries; I could not find the cause."]))
    return (f"query_wms_logs re-run {n} times with reworded queries ({shape} answers"
            f"{', a stock check between two' if gap is not None else ''}); each returned the same top "
            f"{len(lines)} lines, with the match total, statistics and time range moving")


BUGS = [
    Variant("warehouse/order_status_stuck_poll", "loop", "get_order_status", bug_stuck_poll, terminal=True),
    Variant("warehouse/sku_search_lookup_cycle", "loop", "search_products", bug_search_cycle, terminal=True,
            tools=("search_products", "lookup_sku")),
    Variant("warehouse/duplicate_purchase_order", "duplicate_call", "create_purchase_order", bug_duplicate_po),
    Variant("warehouse/transfer_quantity_not_integer", "argument_error", "create_transfer_order", bug_quantity_type),
    Variant("warehouse/adjustment_undeclared_property", "argument_error", "adjust_inventory", bug_extra_property),
    Variant("warehouse/reservation_rejected_in_body", "silent_failure", "reserve_stock", bug_reserve_not_ok),
    Variant("warehouse/wms_unavailable_gave_up", "unrecovered_error", "get_stock_levels", bug_wms_down,
            terminal=True),
    Variant("warehouse/model_context_blowup", "outlier", None, bug_token_blowup),
    Variant("warehouse/notify_invalid_arguments_text", "argument_error", "notify_channel", bug_notify_invalid),
    Variant("warehouse/supplier_search_paraphrase_loop", "loop", "search_suppliers", bug_supplier_loop,
            terminal=True),
    Variant("warehouse/wms_log_search_reworded_loop", "loop", "query_wms_logs", bug_wms_log_loop, terminal=True),
]


def look_poll(run: Run) -> str:
    m = "warehouse/lookalike_poll_until_shipped"
    item = Item(run.rng)
    run.begin("order_status", f"Wait until {item.order} has shipped and give me the tracking number.")
    states = run.pick([["picking", "packed", "shipped"], ["allocated", "picking", "picking", "packed", "shipped"],
                       ["packed", "shipped"]])
    for i, state in enumerate(states):
        body = {"order_id": item.order, "status": state, "warehouse": item.wh,
                "lines_picked": f"{min(5, 2 + i)}/5"}
        if state == "shipped":
            body["tracking"] = f"1Z{hexs(run.rng, 16).upper()}"
        run.call("get_order_status", {"order_id": item.order}, body, tag=m)
    run.say(f"{item.order} has shipped.")
    return f"get_order_status polled through {len(states)} changing states to a terminal one"


def look_sku_missing(run: Run) -> str:
    m = "warehouse/lookalike_unknown_sku_reported"
    sku = f"{run.pick(['FAS', 'PAC', 'SAF'])}-{digits(run.rng, 5)}"
    run.begin("lookup", f"What's the unit cost of {sku}?")
    run.call("lookup_sku", {"sku": sku}, {"error": {"code": "NOT_FOUND", "message": f"SKU {sku} does not exist"}},
             tag=m)
    run.say(run.pick([f"{sku} doesn't exist in the catalogue — could you double-check the code?",
                      f"I can't find {sku}. Is there a typo in the SKU?"]))
    return "lookup_sku not-found, reported to the user, nothing written"


def look_per_warehouse(run: Run) -> str:
    m = "warehouse/lookalike_stock_across_warehouses"
    item = Item(run.rng)
    run.begin("stock", f"Where do we have {item.title} ({item.sku}) in stock?")
    whs = run.rng.sample(WAREHOUSES, run.rng.randint(3, 5))
    for i, wh in enumerate(whs):
        run.call("get_stock_levels", {"sku": item.sku, "warehouse": wh}, levels(item, run.rng, wh=wh), tag=m,
                 batched=i > 0)
    run.say(f"{item.sku} is stocked in {', '.join(whs)}.")
    return f"get_stock_levels for the same SKU in {len(whs)} different warehouses"


def look_error_words(run: Run) -> str:
    m = "warehouse/lookalike_catalogue_mentions_errors"
    run.begin("search", run.pick(["Find the replacement display board for the conveyor that shows E500.",
                                  "We need spare parts for the label printer showing 'ERROR 503'."]))
    results = [{"sku": f"ELE-{digits(run.rng, 5)}", "title": "Controller display board (shows fault codes E100-E599)",
                "notes": "Fixes 'Error 500: internal fault' on conveyor HMI"},
               {"sku": f"ELE-{digits(run.rng, 5)}", "title": "Printhead assembly 203dpi",
                "notes": "Resolves printer error 503 / head open failure; not a software error"}]
    run.call("search_products", {"query": run.pick(["error 500 display board", "printer error 503 spare"]),
                                 "category": "electrical"}, {"results": results, "page": 1, "total": 2}, tag=m)
    run.say(f"The matching spare is {results[0]['sku']}.")
    return "search results whose text talks about errors (fault codes), the call itself succeeded"


def look_transfer_updates(run: Run) -> str:
    m = "warehouse/lookalike_transfer_progress_updates"
    item = Item(run.rng)
    channel = run.pick(["#ops-stock", "#wh-alerts", "C04QK2X9ZL1"])
    run.begin("transfer", run.pick([
        f"{ask_move(item, run).rstrip('.')}. Keep {channel} posted until it has arrived.",
        f"Send {item.qty} {item.sku} from {item.wh} to {item.other}; post in {channel} when it leaves and when "
        "it's received."]))
    run.call("get_stock_levels", {"sku": item.sku, "warehouse": item.wh}, levels(item, run.rng))
    transfer_id, eta = f"TO-{digits(run.rng, 6)}", date(run.rng)
    run.call("create_transfer_order", {"sku": item.sku, "from_warehouse": item.wh, "to_warehouse": item.other,
                                       "quantity": item.qty, "priority": run.pick(["standard", "express"])},
             {"transfer_id": transfer_id, "status": "released", "eta": eta})
    first = run.pick([f"Transfer {transfer_id} started: {item.qty} x {item.sku} leaving {item.wh} for {item.other}, "
                      f"ETA {eta}.",
                      f":truck: {transfer_id} released — {item.qty} {item.sku} {item.wh} -> {item.other}, "
                      f"arriving {eta}"])
    ok = {"ok": True, "channel": channel}
    run.call("notify_channel", {"channel": channel, "text": first},
             {**ok, "ts": f"17{digits(run.rng, 8)}.{digits(run.rng, 6)}"}, tag=m)
    for state in run.pick([["in_transit", "received"], ["received"], ["picking", "in_transit", "received"]]):
        body = {"order_id": transfer_id, "status": state, "warehouse": item.other if state == "received" else item.wh}
        if state == "received":
            body["received_qty"] = item.qty
        run.call("get_order_status", {"order_id": transfer_id}, body)
    bin_ = f"{item.other}-{run.pick('ABCD')}{run.rng.randint(1, 40):02d}"
    second = run.pick([f"Transfer {transfer_id} finished: {item.qty} x {item.sku} received at {item.other} and put "
                       f"away in {bin_}.",
                       f":white_check_mark: {transfer_id} arrived at {item.other} — {item.qty}/{item.qty} {item.sku} "
                       "booked in."])
    run.call("notify_channel", {"channel": channel, "text": second},
             {**ok, "ts": f"17{digits(run.rng, 8)}.{digits(run.rng, 6)}"}, tag=m)
    run.say(f"{transfer_id} has arrived at {item.other}; {channel} got the start and the arrival update.")
    return "two notify_channel posts to one channel about one transfer: 'started' then 'received' (not a duplicate)"


def look_logs_refined(run: Run) -> str:
    m = "warehouse/lookalike_log_search_refined"
    item = Item(run.rng)
    day = date(run.rng)
    run.begin("logs", f"Why did picking stall at {item.wh}? Check the WMS logs.")
    service = LogService(run.rng, run.pick(["loki", "elastic", "text"]), day)
    queries = ["pick failed", "scanner error", "task timeout", "wave stalled"]
    run.rng.shuffle(queries)
    n = run.rng.randint(3, 4)
    for q in queries[:n]:  # every wording finds other lines: the agent is learning, not looping
        lines = log_lines(run.rng, day, item.wh, run.rng.randint(2, 5))
        run.call("query_wms_logs", {"query": q, "site": item.wh, "time_range": service.time_range()},
                 service.answer(lines, len(lines) + run.rng.randint(0, 50)), tag=m)
    run.say("Scanner SC-104 dropped its session at 09:12; picks assigned to it timed out.")
    return f"query_wms_logs reworded {n} times, each answer with other lines; the agent found the cause"


def look_logs_widened(run: Run) -> str:
    m = "warehouse/lookalike_log_window_widened"
    item = Item(run.rng)
    day = date(run.rng)
    run.begin("logs", f"Has the label printer at {item.wh} reported problems?")
    service = LogService(run.rng, run.pick(["loki", "elastic", "text"]), day)
    seen: list[dict] = []
    for hours in (1, 6, 24):  # looking further back finds older lines each time
        seen = seen + log_lines(run.rng, day, item.wh, run.rng.randint(1, 3))
        run.call("query_wms_logs", {"query": "label printer", "site": item.wh,
                                    "time_range": service.time_range(hours)},
                 service.answer(seen, len(seen)), tag=m)
    run.say(f"The printer logged {len(seen)} entries in the last day, paper low twice.")
    return "query_wms_logs with the same query and a widening time range, each answer with more lines"


LOOKS = [
    Variant("warehouse/lookalike_poll_until_shipped", "lookalike", "get_order_status", look_poll),
    Variant("warehouse/lookalike_unknown_sku_reported", "lookalike", "lookup_sku", look_sku_missing),
    Variant("warehouse/lookalike_stock_across_warehouses", "lookalike", "get_stock_levels", look_per_warehouse),
    Variant("warehouse/lookalike_catalogue_mentions_errors", "lookalike", "search_products", look_error_words),
    Variant("warehouse/lookalike_transfer_progress_updates", "lookalike", "notify_channel", look_transfer_updates),
    Variant("warehouse/lookalike_log_search_refined", "lookalike", "query_wms_logs", look_logs_refined),
    Variant("warehouse/lookalike_log_window_widened", "lookalike", "query_wms_logs", look_logs_widened),
]
