"""Property-maintenance desk agent ("facilities-desk"; Mistral models). Seed 0 writes it as OpenAI Agents SDK
export objects; other seeds rotate it through the other formats (``devgen.FORMATS``).

Its services answer the way common web stacks do: a FastAPI backend (``422`` with a ``detail`` list of
pydantic errors, ``{"detail": "Not Found"}``), a TypeScript vendor portal behind nginx (zod issue lists,
HTML error pages from the proxy), and a search service that echoes the query and scores every hit, so a
reworded query never returns byte-identical results even when it finds the same work orders."""

from __future__ import annotations

import random

from devgen.core import Run, Variant
from devgen.values import date, digits, hexs, person

NAME = "facilities-desk"
ROOT_NAME = "facilities_desk.handle_request"
VERSION = "3.2.0"
DIRNAME, GENERATION_NAME, PROVIDER = "facilities", "mistral.chat.complete", "mistral"
SDK_AGENT, WORKFLOW = "Facilities desk", "facilities-desk"  # OpenAI Agents SDK agent and workflow names
MODELS = ("mistral-small-2501", "mistral-large-2411")
SYSTEM = ("You run the maintenance desk for Grachtwerk Property Management. Log every repair as a work order, "
          "assign a vetted vendor, agree a visit window with the tenant, and never promise a date you have not "
          "booked.")
BUILDINGS = ["KGR-12", "PRG-401", "HRL-88", "SPU-3", "WTS-27"]
CATEGORIES = ["plumbing", "electrical", "heating", "appliance", "locks", "pest_control", "general"]
PRIORITIES = ["low", "normal", "urgent"]
WINDOWS = ["morning", "afternoon", "evening"]
TRADES = {"plumbing": "plumber", "electrical": "electrician", "heating": "heating_engineer",
          "appliance": "appliance_repair", "locks": "locksmith", "pest_control": "pest_control",
          "general": "handyman"}
PROBLEMS = {
    "plumbing": ["leaking kitchen tap", "blocked shower drain", "toilet cistern keeps running", "low water pressure"],
    "electrical": ["bathroom extractor fan dead", "hallway sockets tripping the breaker", "flickering ceiling light"],
    "heating": ["radiators cold in the bedroom", "boiler shows fault F28", "no hot water since this morning"],
    "appliance": ["dishwasher not draining", "oven door hinge broken", "washing machine leaks"],
    "locks": ["front door lock sticks", "lost key for the bike storage", "balcony door will not lock"],
    "pest_control": ["mice in the storage room", "wasp nest above the balcony"],
    "general": ["loose stair handrail", "cracked window pane", "mould on the bathroom ceiling"],
}
VENDORS = ["Van Dijk Installatietechniek", "Amstel Elektro", "Warmte Direct", "Sleutelspoed", "Klusbedrijf Noord",
           "Ongedierte Vrij BV", "WitgoedHulp"]

TOOLS = [
    {"name": "search_work_orders", "description": "Full-text search over work orders.",
     "parameters": {"type": "object", "properties": {
         "q": {"type": "string", "minLength": 3}, "building": {"type": "string", "enum": BUILDINGS},
         "status": {"type": "string", "enum": ["open", "scheduled", "closed"]},
         "cursor": {"type": "string"}}, "required": ["q"]}},
    {"name": "get_unit", "description": "A rental unit: address, tenant, appliances.",
     "parameters": {"type": "object", "properties": {"unit_id": {"type": "string", "pattern": "^U-\\d{5}$"}},
                    "required": ["unit_id"]}},
    {"name": "get_tenant", "description": "Tenant contact details and preferences.",
     "parameters": {"type": "object", "properties": {"tenant_id": {"type": "string"}}, "required": ["tenant_id"]}},
    {"name": "create_work_order", "description": "Log a repair request.",
     "parameters": {"type": "object", "properties": {
         "unit_id": {"type": "string", "pattern": "^U-\\d{5}$"}, "category": {"type": "string", "enum": CATEGORIES},
         "priority": {"type": "string", "enum": PRIORITIES}, "description": {"type": "string"}},
         "required": ["unit_id", "category", "priority", "description"], "additionalProperties": False}},
    {"name": "search_vendors", "description": "Vetted vendors for a trade near a postcode.",
     "parameters": {"type": "object", "properties": {
         "trade": {"type": "string", "enum": sorted(set(TRADES.values()))},
         "postcode": {"type": "string", "pattern": "^\\d{4}[A-Z]{2}$"}}, "required": ["trade", "postcode"]}},
    {"name": "assign_vendor", "description": "Assign a vendor to a work order.",
     "parameters": {"type": "object", "properties": {
         "work_order_id": {"type": "string", "pattern": "^WO-\\d{6}$"},
         "vendor_id": {"type": "string", "pattern": "^V-\\d{4}$"}}, "required": ["work_order_id", "vendor_id"]}},
    {"name": "schedule_visit", "description": "Book a vendor visit.",
     "parameters": {"type": "object", "properties": {
         "work_order_id": {"type": "string"}, "date": {"type": "string", "format": "date"},
         "window": {"type": "string", "enum": WINDOWS}}, "required": ["work_order_id", "date", "window"]}},
    {"name": "get_vendor_calendar", "description": "Free visit slots of a vendor.",
     "parameters": {"type": "object", "properties": {
         "vendor_id": {"type": "string"}, "from_date": {"type": "string", "format": "date"}},
         "required": ["vendor_id"]}},
    {"name": "message_tenant", "description": "Send the tenant a text message."},
    {"name": "notify_building_tenants", "description": "Text every tenant of a building (outages, works).",
     "parameters": {"type": "object", "properties": {
         "building_id": {"type": "string", "enum": BUILDINGS}, "message": {"type": "string"},
         "channel": {"type": "string", "enum": ["sms", "email", "app"]}}, "required": ["building_id", "message"]}},
    {"name": "get_building_alarms", "description": "Active building-management alarms (heating, lifts, water)."},
    {"name": "search_event_log", "description": "Search the building-management system's event log.",
     "parameters": {"type": "object", "properties": {
         "q": {"type": "string"}, "building_id": {"type": "string", "enum": BUILDINGS},
         "since": {"type": "string", "enum": ["1h", "6h", "24h", "7d"]}}, "required": ["q", "building_id"]}},
]

LAT = {"search_work_orders": (90, 450), "get_unit": (30, 160), "get_tenant": (30, 140), "create_work_order": (200, 700),
       "search_vendors": (150, 900), "assign_vendor": (180, 650), "schedule_visit": (250, 900),
       "get_vendor_calendar": (120, 500), "message_tenant": (300, 1100), "get_building_alarms": (60, 260),
       "search_event_log": (200, 1400)}


def call_id(rng: random.Random, seq: int) -> str:
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(9))


class Job:
    """One repair request: the unit, its tenant, the problem and the vendor that fits it."""

    def __init__(self, rng: random.Random) -> None:
        self.building = rng.choice(BUILDINGS)
        self.unit = f"U-{digits(rng, 5)}"
        self.tenant = f"ten_{hexs(rng, 10)}"
        self.name = person(rng)
        self.phone = f"+31 6 {digits(rng, 4)} {digits(rng, 4)}"
        self.postcode = f"10{digits(rng, 2)}{rng.choice(['AB', 'CK', 'GH', 'LT', 'RS', 'XZ'])}"
        self.category = rng.choice(CATEGORIES)
        self.problem = rng.choice(PROBLEMS[self.category])
        self.trade = TRADES[self.category]
        self.vendor = f"V-{digits(rng, 4)}"
        self.vendor_name = rng.choice(VENDORS)
        self.wo = f"WO-{digits(rng, 6)}"
        self.day = date(rng)
        self.window = rng.choice(WINDOWS)
        self.priority = rng.choice(["normal", "normal", "low", "urgent"])


def unit_body(job: Job) -> dict:
    return {"unit_id": job.unit, "building": job.building, "address": f"Keizersgracht {job.unit[-3:]}",
            "postcode": job.postcode, "tenant_id": job.tenant, "floor": int(job.unit[-1]),
            "appliances": ["boiler", "dishwasher", "washing_machine"][: 1 + int(job.unit[-2]) % 3]}


def tenant_body(job: Job) -> dict:
    return {"tenant_id": job.tenant, "name": job.name, "phone": job.phone, "preferred_contact": "sms",
            "language": "en"}


def vendors_body(job: Job, rng: random.Random, n: int = 2) -> dict:
    hits = [{"vendor_id": job.vendor, "name": job.vendor_name, "trade": job.trade, "rating": 4.6}]
    hits += [{"vendor_id": f"V-{digits(rng, 4)}", "name": rng.choice(VENDORS), "trade": job.trade,
              "rating": round(rng.uniform(3.8, 4.9), 1)} for _ in range(n - 1)]
    return {"vendors": hits, "postcode": job.postcode}


def ask_repair(job: Job, run: Run) -> str:
    return run.pick([f"Tenant in {job.unit} reports: {job.problem}. Please sort out a repair.",
                     f"{job.name} ({job.unit}, {job.building}) called about a {job.problem}.",
                     f"New repair for unit {job.unit}: {job.problem}. {job.priority} priority."])


def log_order(run: Run, job: Job, tag: str | None = None, priority: str | None = None,
              result: object = None, error: str | None = None) -> None:
    run.call("create_work_order", {"unit_id": job.unit, "category": job.category,
                                   "priority": priority or job.priority, "description": job.problem},
             result if result is not None else {"work_order_id": job.wo, "status": "open",
                                                "created_at": f"{job.day}T09:{run.rng.randint(10, 59)}:00Z"},
             tag=tag, error=error)


def book(run: Run, job: Job, tag: str | None = None) -> None:
    run.call("get_vendor_calendar", {"vendor_id": job.vendor, "from_date": job.day},
             {"vendor_id": job.vendor, "slots": [{"date": job.day, "window": job.window},
                                                 {"date": job.day, "window": run.pick(WINDOWS)}]})
    run.call("schedule_visit", {"work_order_id": job.wo, "date": job.day, "window": job.window},
             {"visit_id": f"VIS-{hexs(run.rng, 8)}", "confirmed": True}, tag=tag)


def text_tenant(run: Run, job: Job, text: str, tag: str | None = None) -> None:
    run.call("message_tenant", {"tenant_id": job.tenant, "text": text},
             {"message_id": f"SM{hexs(run.rng, 32)}", "queued": True}, tag=tag)


def flow_repair(run: Run) -> None:
    job = Job(run.rng)
    run.begin("repair", ask_repair(job, run))
    run.call("get_unit", {"unit_id": job.unit}, unit_body(job))
    log_order(run, job)
    run.call("search_vendors", {"trade": job.trade, "postcode": job.postcode}, vendors_body(job, run.rng))
    run.call("assign_vendor", {"work_order_id": job.wo, "vendor_id": job.vendor},
             {"work_order_id": job.wo, "vendor_id": job.vendor, "status": "assigned"})
    book(run, job)
    if run.rng.random() < 0.6:
        run.call("get_tenant", {"tenant_id": job.tenant}, tenant_body(job))
        text_tenant(run, job, f"Hi {job.name.split()[0]}, {job.vendor_name} will visit on {job.day} "
                              f"({job.window}) about the {job.problem}.")
    run.say(f"{job.wo} logged; {job.vendor_name} visits {job.unit} on {job.day} ({job.window}).")


def flow_status(run: Run) -> None:
    job = Job(run.rng)
    run.begin("status", run.pick([f"What's the status of the {job.problem} in {job.unit}?",
                                  f"Any update on {job.unit}'s repair?"]))
    run.call("search_work_orders", {"q": f"{job.unit} {job.problem}"},
             {"query": f"{job.unit} {job.problem}", "hits": [{"work_order_id": job.wo, "title": job.problem,
                                                              "status": "scheduled", "score": 11.2}],
              "took_ms": run.rng.randint(4, 60)})
    run.say(f"{job.wo} is scheduled.")


def flow_alarms(run: Run) -> None:
    job = Job(run.rng)
    run.begin("alarms", f"Is anything wrong in {job.building} right now?")
    alarms = run.pick([[], [{"alarm": "lift_2_door", "since": f"{job.day}T07:12:00Z", "severity": "minor"}]])
    run.call("get_building_alarms", {"building_id": job.building}, {"building_id": job.building, "active": alarms})
    run.say("No active alarms." if not alarms else "Lift 2 has a minor door alarm.")


DEVICES = {"heating": ["BOILER-1", "BOILER-2", "CIRC-PUMP-3"], "lifts": ["LIFT-1", "LIFT-2"],
           "water": ["BOOSTER-PUMP-1", "LEAK-SENSOR-B2"], "air": ["AHU-1", "AHU-3"]}
EVENT_TEXT = {
    "heating": ["flow temperature below setpoint", "burner lockout, fault F28", "circulation pump restarted",
                "setback schedule started", "return temperature sensor out of range"],
    "lifts": ["door reopen count exceeded", "car stopped between floors", "maintenance mode on", "door closed"],
    "water": ["pressure below 1.2 bar", "leak detected", "pump cycle completed", "pressure restored"],
    "air": ["supply air temperature high", "filter differential pressure high", "fan speed reduced"],
}
SYSTEMS = list(DEVICES)


def bms_events(rng: random.Random, day: str, system: str, n: int) -> list[dict]:
    """``n`` event-log lines of one building system on ``day``, oldest first."""
    stamps = sorted(f"{day}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"
                    for _ in range(n))
    return [{"ts": ts, "device": rng.choice(DEVICES[system]), "level": rng.choice(["INFO", "WARN", "WARN", "ERROR"]),
             "msg": rng.choice(EVENT_TEXT[system])} for ts in stamps]


def event_log_body(rng: random.Random, shape: str, q: str, day: str, events: list[dict], k: int = 0) -> object:
    """The event-log service's answer in one of its shapes: a JSON envelope with the resolved time window
    (it moves with the clock between calls), plain text lines, or hits with relevance scores."""
    start = f"{day}T{5 + k // 60:02d}:{k % 60:02d}:{rng.randint(0, 59):02d}Z"
    end = f"{day}T23:{k % 60:02d}:{rng.randint(0, 59):02d}Z"
    if shape == "window":
        return {"query": {"text": q, "from": start, "to": end}, "matched": len(events), "events": events,
                "took_ms": rng.randint(40, 900)}
    if shape == "text":
        lines = [f"{e['ts']} {e['level']:<5} {e['device']} {e['msg']}" for e in events]
        return f"{len(events)} events matching \"{q}\" between {start} and {end}:\n" + "\n".join(lines)
    scored = [{**e, "_score": round(rng.uniform(0.5, 9.0), 4)} for e in events]
    scored.sort(key=lambda e: -e["_score"])
    return {"total": len(events), "max_score": scored[0]["_score"] if scored else None, "hits": scored}


NOTICES = ["the water will be off tomorrow 09:00-12:00 for boiler maintenance",
           "the lifts are serviced on Thursday morning; please use the stairs",
           "the facade works start Monday; keep balcony doors closed",
           "heating will be off for two hours on Friday afternoon"]
REASONS = ["invalid phone number", "opted out of SMS", "mailbox full", "number not in service", "no contact on file"]


def key(run: Run) -> str:
    """A fresh idempotency key, as the notice SDK mints one per request."""
    return f"ntf-{run.rng.getrandbits(64):016x}"


def notice_body(rng: random.Random, tenants: int, failed: list[str], shape: str) -> dict:
    """A bulk notice's answer in one of four common shapes; ``failed`` units did not get it."""
    sent = tenants - len(failed)
    reasons = [(unit, rng.choice(REASONS)) for unit in failed]
    if shape == "counts":
        return {"sent": sent, "failed": len(failed), "failures": [{"unit_id": u, "reason": r} for u, r in reasons]}
    if shape == "per_item":
        ok = [{"unit_id": f"U-{rng.randint(10000, 99999)}", "status": "delivered"} for _ in range(sent)]
        bad = [{"unit_id": u, "status": "failed", "error": r} for u, r in reasons]
        items = ok + bad
        rng.shuffle(items)
        return {"batch_id": f"nb_{rng.getrandbits(32):08x}", "results": items}
    if shape == "undeliverable":
        return {"delivered": sent, "undeliverable": [{"unit_id": u, "reason": r} for u, r in reasons]}
    return {"accepted": sent, "rejected": len(failed), "queued_at": "2025-03-04T08:00:00Z"}


def flow_notice(run: Run) -> None:
    job = Job(run.rng)
    notice = run.pick(NOTICES)
    run.begin("notice", run.pick([f"Let everyone in {job.building} know {notice}.",
                                  f"Send all {job.building} tenants a notice: {notice}."]))
    tenants = run.rng.randint(8, 40)
    run.call("notify_building_tenants", {"building_id": job.building, "message": f"{notice.capitalize()} ({job.day}, ref {job.wo}).",
                                         "channel": run.pick(["sms", "sms", "app"]), "idempotency_key": key(run)},
             notice_body(run.rng, tenants, [], run.pick(["counts", "per_item", "undeliverable", "accepted"])))
    run.say(f"All {tenants} tenants of {job.building} have been notified.")


def flow_event_log(run: Run) -> None:
    job = Job(run.rng)
    system = run.pick(SYSTEMS)
    run.begin("event_log", f"What happened with the {system} in {job.building} on {job.day}?")
    events = bms_events(run.rng, job.day, system, run.rng.randint(2, 7))
    q = run.pick([f"{system} {job.building}", f"{system} events", f"device:{events[0]['device']}"])
    shape = run.pick(["window", "text", "scored"])
    run.call("search_event_log", {"q": q, "building_id": job.building, "since": run.pick(["24h", "7d"])},
             event_log_body(run.rng, shape, q, job.day, events))
    run.say(f"{len(events)} {system} events that day; the last was '{events[-1]['msg']}' on {events[-1]['device']}.")


FLOWS = [flow_repair, flow_repair, flow_status, flow_alarms, flow_event_log, flow_notice]


# -- bugs ----------------------------------------------------------------------------------------------------

def bug_search_echo_loop(run: Run) -> str:
    m = "facilities/work_order_search_reworded_loop"
    job = Job(run.rng)
    run.begin("status", run.pick([f"Did anyone already log the {job.problem} at {job.building}? Find the order.",
                                  f"Find the open work order about {job.problem} in {job.unit}."]))
    words = job.problem.split()
    queries = [job.problem, f"{job.problem} {job.unit}", f"{job.unit} {words[-1]}", f"{words[-1]} repair {job.unit}",
               f"{job.category} {job.problem}", f"open order {job.problem}", f"{' '.join(reversed(words))}",
               f"{job.problem} tenant complaint"]
    run.rng.shuffle(queries)
    n = run.rng.randint(4, 6)
    hits = [{"work_order_id": f"WO-{digits(run.rng, 6)}", "title": run.pick(PROBLEMS[job.category]),
             "status": "closed"} for _ in range(run.rng.randint(1, 3))]
    for q in queries[:n]:
        args: dict = {"q": q}
        if run.rng.random() < 0.5:
            args["building"] = job.building
        scored = [{**hit, "score": round(run.rng.uniform(2.0, 14.0), 3)} for hit in hits]
        scored.sort(key=lambda h: -h["score"])
        run.call("search_work_orders", args, {"query": q, "hits": scored, "took_ms": run.rng.randint(4, 90)},
                 tag=m, think=run.pick([None, "Those are closed orders, let me search differently.",
                                        "Let me reword the search."]))
    run.stop(run.pick([f"I could not find an open work order for the {job.problem}.",
                       "There is no open order for that problem as far as I can find."]))
    return (f"search_work_orders re-run {n} times with reworded queries; each answer echoed its query and "
            f"re-scored the same {len(hits)} closed order(s)")


def bug_event_log_loop(run: Run) -> str:
    m = "facilities/event_log_search_reworded_loop"
    job = Job(run.rng)
    system = run.pick(SYSTEMS)
    device = run.pick(DEVICES[system])
    run.begin("event_log", f"Find out why the {system} failed in {job.building} on {job.day}.")
    queries = [f"{system} failure {job.building}", f"{system} fault", f"device:{device} level:ERROR",
               f"{device} error", f"why did the {system} fail", f"{system} outage {job.day}", f"{device} fault code",
               f"level:ERROR {system}", f"{system} down"]
    run.rng.shuffle(queries)
    n = run.rng.randint(4, 6)
    events = bms_events(run.rng, job.day, system, run.rng.randint(2, 5))  # routine lines, never the fault
    shape = run.pick(["window", "text", "scored"])
    since = run.pick(["24h", "7d"])
    for k, q in enumerate(queries[:n]):
        run.call("search_event_log", {"q": q, "building_id": job.building, "since": since},
                 event_log_body(run.rng, shape, q, job.day, events, k), tag=m,
                 think=run.pick([None, "Nothing about the failure yet, let me phrase it differently.",
                                 "Let me search the log another way."]))
    run.stop(run.pick([f"I couldn't find the cause of the {system} failure in the event log.",
                       "The event log doesn't show what went wrong, as far as I can find."]))
    return (f"search_event_log re-run {n} times with reworded queries ({shape} answers); each returned the same "
            f"{len(events)} routine events, with the time window and echo moving")


def bug_calendar_cycle(run: Run) -> str:
    m = "facilities/calendar_schedule_cycle"
    job = Job(run.rng)
    run.begin("repair", ask_repair(job, run))
    run.call("get_unit", {"unit_id": job.unit}, unit_body(job))
    log_order(run, job)
    calendar = {"vendor_id": job.vendor, "slots": [{"date": job.day, "window": job.window}]}
    taken = f"Slot {job.day} {job.window} is no longer available for vendor {job.vendor}"
    rounds = run.rng.randint(3, 4)
    for _ in range(rounds):
        run.call("get_vendor_calendar", {"vendor_id": job.vendor, "from_date": job.day}, calendar, tag=m)
        run.call("schedule_visit", {"work_order_id": job.wo, "date": job.day, "window": job.window},
                 {"detail": taken}, error=taken, tag=m)
    run.stop(f"I couldn't book a visit for {job.wo}; the vendor's calendar keeps offering a slot that is taken.")
    return f"get_vendor_calendar → schedule_visit repeated {rounds} times, the same stale slot each time"


def bug_priority_422(run: Run) -> str:
    m = "facilities/priority_rejected_then_fixed"
    job = Job(run.rng)
    run.begin("repair", ask_repair(job, run))
    run.call("get_unit", {"unit_id": job.unit}, unit_body(job))
    bad = run.pick(["high", "emergency", "medium", "P1", "asap"])
    detail = {"detail": [{"type": "enum", "loc": ["body", "priority"],
                          "msg": "Input should be 'low', 'normal' or 'urgent'", "input": bad,
                          "ctx": {"expected": "'low', 'normal' or 'urgent'"}}]}
    log_order(run, job, tag=m, priority=bad, result=detail, error="422 Unprocessable Entity")
    log_order(run, job, priority="urgent" if bad in ("high", "emergency", "P1", "asap") else "normal")
    run.say(f"{job.wo} logged for {job.unit}.")
    return f"create_work_order priority={bad!r} rejected with a FastAPI 422, retried with a valid value"


def bug_vendor_id_zod(run: Run) -> str:
    m = "facilities/vendor_id_rejected_then_fixed"
    job = Job(run.rng)
    run.begin("repair", ask_repair(job, run))
    log_order(run, job)
    run.call("search_vendors", {"trade": job.trade, "postcode": job.postcode}, vendors_body(job, run.rng))
    bad = run.pick([job.vendor_name, job.vendor.replace("-", ""), job.vendor.lower(), f"{job.vendor}-NL"])
    issues = [{"code": "invalid_string", "validation": "regex", "message": "Invalid", "path": ["vendor_id"]}]
    run.call("assign_vendor", {"work_order_id": job.wo, "vendor_id": bad}, {"issues": issues, "name": "ZodError"},
             error=run.pick(["Bad Request", "ZodError"]), tag=m)
    run.call("assign_vendor", {"work_order_id": job.wo, "vendor_id": job.vendor},
             {"work_order_id": job.wo, "vendor_id": job.vendor, "status": "assigned"})
    book(run, job)
    run.say(f"{job.vendor_name} assigned to {job.wo}.")
    return f"assign_vendor vendor_id={bad!r} rejected by the portal's zod schema, retried with the id"


def bug_visit_date_text(run: Run) -> str:
    m = "facilities/visit_date_not_iso"
    job = Job(run.rng)
    run.begin("repair", ask_repair(job, run))
    log_order(run, job)
    run.call("assign_vendor", {"work_order_id": job.wo, "vendor_id": job.vendor},
             {"work_order_id": job.wo, "vendor_id": job.vendor, "status": "assigned"})
    y, mo, d = job.day.split("-")
    month = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun")[int(mo)]
    bad = run.pick([f"{d}/{mo}/{y}", f"{d}-{mo}-{y}", "next Tuesday", f"{int(d)} {month}"])
    run.call("schedule_visit", {"work_order_id": job.wo, "date": bad, "window": job.window},
             {"visit_id": f"VIS-{hexs(run.rng, 8)}", "confirmed": True}, tag=m)
    run.say(f"Visit booked for {bad}.")
    return f"schedule_visit date={bad!r} is not a date (format: date); the scheduler accepted it"


NGINX = ("<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}</h1></center>"
         "\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n")


def bug_portal_html(run: Run) -> str:
    m = "facilities/vendor_portal_proxy_error_page"
    job = Job(run.rng)
    run.begin("repair", ask_repair(job, run))
    log_order(run, job)
    code, reason = run.pick([(502, "Bad Gateway"), (504, "Gateway Time-out"), (500, "Internal Server Error")])
    run.call("assign_vendor", {"work_order_id": job.wo, "vendor_id": job.vendor},
             NGINX.format(code=code, reason=reason), tag=m)
    run.say(f"{job.vendor_name} is assigned to {job.wo}.")
    return f"assign_vendor returned nginx's {code} page with an OK status; the agent reported the vendor assigned"


def bug_missing_unit_used(run: Run) -> str:
    m = "facilities/missing_unit_order_logged"
    job = Job(run.rng)
    run.begin("repair", ask_repair(job, run))
    body = run.pick(["null", {"unit": None}, {"found": False, "unit_id": job.unit}, {"detail": "Not Found"}])
    run.call("get_unit", {"unit_id": job.unit}, body, tag=m)
    if run.rng.random() < 0.3:  # the write fails in its turn, reported in its body
        log_order(run, job, tag=m, result={"ok": False, "error": f"unit {job.unit} does not exist"})
    else:
        log_order(run, job, tag=m)
    run.say(f"Work order {job.wo} logged for {job.unit}.")
    return "get_unit found no such unit; the agent logged a work order for it anyway"


def bug_tenant_texted_twice(run: Run) -> str:
    m = "facilities/tenant_texted_twice"
    job = Job(run.rng)
    run.begin("repair", ask_repair(job, run))
    log_order(run, job)
    book(run, job)
    text = f"Hi {job.name.split()[0]}, a technician will visit on {job.day} ({job.window}) for the {job.problem}."
    text_tenant(run, job, text, tag=m)
    again = run.pick([text, text.replace("Hi ", "Hello "), text + " Thanks!", text.replace(" (", ", ").replace(")", "")])
    text_tenant(run, job, again, tag=m)
    run.say("The tenant has been told.")
    return "message_tenant sent the same visit notice twice"


def bug_scheduler_forbidden(run: Run) -> str:
    m = "facilities/scheduler_forbidden_gave_up"
    job = Job(run.rng)
    run.begin("repair", ask_repair(job, run))
    log_order(run, job)
    err = run.pick(["403 Forbidden: token lacks scope visits:write", "PermissionError: service account "
                    "facilities-bot may not book visits", "HTTP 403 — access denied"])
    run.call("schedule_visit", {"work_order_id": job.wo, "date": job.day, "window": job.window},
             {"detail": err}, error=err, tag=m)
    run.stop(run.pick(["I'm sorry, I don't have permission to book visits, so the repair is logged but not "
                       "scheduled.", "Booking failed (no access). Please schedule the visit manually."]))
    return "schedule_visit was forbidden and the run stopped with the visit unbooked"


def bug_vendor_search_slow(run: Run) -> str:
    m = "facilities/vendor_search_latency"
    job = Job(run.rng)
    run.begin("repair", ask_repair(job, run))
    log_order(run, job)
    run.call("search_vendors", {"trade": job.trade, "postcode": job.postcode}, vendors_body(job, run.rng),
             ms=run.rng.randint(25_000, 60_000), tag=m)
    run.call("assign_vendor", {"work_order_id": job.wo, "vendor_id": job.vendor},
             {"work_order_id": job.wo, "vendor_id": job.vendor, "status": "assigned"})
    run.say(f"{job.vendor_name} assigned.")
    return "search_vendors took 25-60 s"


def bug_notice_partly_failed(run: Run) -> str:
    m = "facilities/notice_partly_undelivered_claimed_done"
    job, tenants, failed = _partial_notice(run, m)
    run.say(run.pick([f"All {tenants} tenants of {job.building} have been notified.",
                      f"Done — the notice went out to {job.building}.",
                      "Everyone has been informed."]))
    return (f"notify_building_tenants reached {tenants - len(failed)} of {tenants} tenants; the agent said "
            "everyone was notified")


def bug_notice_sent_twice(run: Run) -> str:
    m = "facilities/notice_sent_twice_new_idempotency_key"
    job = Job(run.rng)
    notice = run.pick(NOTICES)
    run.begin("notice", f"Let everyone in {job.building} know {notice}.")
    args = {"building_id": job.building, "message": f"{notice.capitalize()} ({job.day}, ref {job.wo}).", "channel": "sms"}
    tenants = run.rng.randint(8, 40)
    shape = run.pick(["counts", "per_item", "undeliverable", "accepted"])
    run.call("notify_building_tenants", {**args, "idempotency_key": key(run)}, notice_body(run.rng, tenants, [], shape),
             ms=run.rng.randint(9_000, 20_000), tag=m)
    run.call("notify_building_tenants", {**args, "idempotency_key": key(run)}, notice_body(run.rng, tenants, [], shape),
             tag=m, think=run.pick([None, "Sending the notice to the building."]))
    run.say(f"All {tenants} tenants of {job.building} have been notified.")
    return "notify_building_tenants sent the same notice twice, each with a fresh idempotency key: tenants got two texts"


def bug_trade_respelled(run: Run) -> str:
    m = "facilities/trade_slug_rejected_then_respelled"
    job = Job(run.rng)
    while "_" not in job.trade:
        job = Job(run.rng)
    run.begin("repair", ask_repair(job, run))
    log_order(run, job)
    bad = run.pick([job.trade.replace("_", "-"), job.trade.replace("_", " ").title(), job.trade.replace("_", "")])
    args = {"trade": bad, "postcode": job.postcode}
    shape = run.pick(["status", "body", "not_found"])
    if shape == "status":
        err = f"Unknown trade '{bad}'"
        run.call("search_vendors", args, {"detail": err}, error=err, tag=m)
    elif shape == "body":
        run.call("search_vendors", args, {"ok": False, "error": "unknown_trade", "detail": bad}, tag=m)
    else:
        err = f"404: trade {bad} not found"
        run.call("search_vendors", args, {"detail": err}, error=err, tag=m)
    run.call("search_vendors", {"trade": job.trade, "postcode": job.postcode}, vendors_body(job, run.rng))
    run.call("assign_vendor", {"work_order_id": job.wo, "vendor_id": job.vendor},
             {"work_order_id": job.wo, "vendor_id": job.vendor, "status": "assigned"})
    run.say(f"{job.vendor_name} assigned to {job.wo}.")
    return f"search_vendors trade={bad!r} rejected ({shape}); the agent respelled it {job.trade!r}"


BUGS = [
    Variant("facilities/notice_sent_twice_new_idempotency_key", "duplicate_call", "notify_building_tenants",
            bug_notice_sent_twice),
    Variant("facilities/notice_partly_undelivered_claimed_done", "silent_failure", "notify_building_tenants",
            bug_notice_partly_failed),
    Variant("facilities/work_order_search_reworded_loop", "loop", "search_work_orders", bug_search_echo_loop,
            terminal=True),
    Variant("facilities/event_log_search_reworded_loop", "loop", "search_event_log", bug_event_log_loop,
            terminal=True),
    Variant("facilities/calendar_schedule_cycle", "loop", "get_vendor_calendar", bug_calendar_cycle, terminal=True,
            tools=("get_vendor_calendar", "schedule_visit")),
    Variant("facilities/priority_rejected_then_fixed", "argument_error", "create_work_order", bug_priority_422),
    Variant("facilities/vendor_id_rejected_then_fixed", "argument_error", "assign_vendor", bug_vendor_id_zod),
    Variant("facilities/visit_date_not_iso", "argument_error", "schedule_visit", bug_visit_date_text),
    Variant("facilities/vendor_portal_proxy_error_page", "silent_failure", "assign_vendor", bug_portal_html),
    Variant("facilities/missing_unit_order_logged", "silent_failure", "get_unit", bug_missing_unit_used,
            tools=("get_unit", "create_work_order")),
    Variant("facilities/tenant_texted_twice", "duplicate_call", "message_tenant", bug_tenant_texted_twice),
    Variant("facilities/scheduler_forbidden_gave_up", "unrecovered_error", "schedule_visit", bug_scheduler_forbidden,
            terminal=True),
    Variant("facilities/vendor_search_latency", "outlier", "search_vendors", bug_vendor_search_slow),
    Variant("facilities/trade_slug_rejected_then_respelled", "argument_error", "search_vendors",
            bug_trade_respelled),
]


# -- look-alikes ---------------------------------------------------------------------------------------------

def look_unit_404_asked(run: Run) -> str:
    m = "facilities/lookalike_unknown_unit_asked"
    job = Job(run.rng)
    run.begin("repair", ask_repair(job, run))
    body = run.pick([{"status": 404, "error": "Not Found"}, {"detail": "Not Found"}, "null", {"unit": None},
                     {"status": 404, "title": "Not Found", "detail": f"No unit {job.unit}"}])
    run.call("get_unit", {"unit_id": job.unit}, body, tag=m)
    run.say(run.pick([f"I can't find unit {job.unit} in our portfolio — could you check the unit number?",
                      f"There's no unit {job.unit} on record. Which address is the tenant at?",
                      f"{job.unit} doesn't exist in the system, so I haven't logged anything yet."]))
    return "get_unit answered not found (404 body, null or empty) and the agent asked the user"


def look_tenant_unknown_stopped(run: Run) -> str:
    m = "facilities/lookalike_tenant_unknown_reported"
    job = Job(run.rng)
    run.begin("message", f"Text the tenant {job.tenant} that the water will be off tomorrow morning.")
    run.call("get_tenant", {"tenant_id": job.tenant}, run.pick(["null", {"tenant": None}, {}, {"detail": "Not Found"}]),
             tag=m)
    run.say(f"I couldn't find a tenant with id {job.tenant}, so no message was sent.")
    return "get_tenant found nobody; the agent stopped and said so"


def look_search_broadened(run: Run) -> str:
    m = "facilities/lookalike_empty_search_broadened"
    job = Job(run.rng)
    run.begin("status", f"Is there already an order for the {job.problem} in {job.building}?")
    q = job.problem
    run.call("search_work_orders", {"q": q, "building": job.building, "status": "open"},
             {"query": q, "hits": [], "took_ms": run.rng.randint(3, 40)}, tag=m)
    run.call("search_work_orders", {"q": q.split()[-1], "building": job.building},
             {"query": q.split()[-1], "hits": [{"work_order_id": job.wo, "title": job.problem, "status": "scheduled",
                                                "score": 8.4}], "took_ms": run.rng.randint(3, 40)}, tag=m)
    run.say(f"{job.wo} covers it and is already scheduled.")
    return "an empty filtered search, then a broader one that found the order"


def look_event_log_narrowed(run: Run) -> str:
    m = "facilities/lookalike_event_log_narrowed"
    job = Job(run.rng)
    system = run.pick(SYSTEMS)
    run.begin("event_log", f"Anything odd with the {system} in {job.building} on {job.day}?")
    events = bms_events(run.rng, job.day, system, run.rng.randint(5, 9))
    shape = run.pick(["window", "text", "scored"])
    q = f"{system} {job.building}"
    run.call("search_event_log", {"q": q, "building_id": job.building, "since": "24h"},
             event_log_body(run.rng, shape, q, job.day, events), tag=m)
    device = events[-1]["device"]
    narrowed = [e for e in events if e["device"] == device]
    q2 = f"device:{device} level:WARN"
    run.call("search_event_log", {"q": q2, "building_id": job.building, "since": "24h"},
             event_log_body(run.rng, shape, q2, job.day, narrowed, 1), tag=m)
    run.say(f"{device} logged {len(narrowed)} event(s); the latest: '{narrowed[-1]['msg']}'.")
    return "a broad event-log search, then one narrowed to a device (a subset): drilling down, not a loop"


def look_event_log_empty_then_broad(run: Run) -> str:
    m = "facilities/lookalike_event_log_empty_then_broadened"
    job = Job(run.rng)
    system = run.pick(SYSTEMS)
    run.begin("event_log", f"Did the {system} in {job.building} log any errors on {job.day}?")
    shape = run.pick(["window", "text", "scored"])
    q = f"level:ERROR {system}"
    run.call("search_event_log", {"q": q, "building_id": job.building, "since": "24h"},
             event_log_body(run.rng, shape, q, job.day, []), tag=m)
    events = bms_events(run.rng, job.day, system, run.rng.randint(2, 4))
    q2 = f"{system} {job.building}"
    run.call("search_event_log", {"q": q2, "building_id": job.building, "since": "7d"},
             event_log_body(run.rng, shape, q2, job.day, events, 1), tag=m)
    run.say(f"No errors; {len(events)} routine {system} events in the week.")
    return "no error events, then a broader search that found the routine ones: a legitimately empty search"


def _partial_notice(run: Run, m: str) -> tuple[Job, int, list[str]]:
    job = Job(run.rng)
    notice = run.pick(NOTICES)
    run.begin("notice", run.pick([f"Let everyone in {job.building} know {notice}.",
                                  f"Send all {job.building} tenants a notice: {notice}."]))
    tenants = run.rng.randint(8, 40)
    failed = [f"U-{run.rng.randint(10000, 99999)}" for _ in range(run.rng.randint(1, 4))]
    run.call("notify_building_tenants", {"building_id": job.building, "message": f"{notice.capitalize()} ({job.day}, ref {job.wo}).",
                                         "channel": "sms", "idempotency_key": key(run)},
             notice_body(run.rng, tenants, failed, run.pick(["counts", "per_item", "undeliverable", "accepted"])),
             tag=m)
    return job, tenants, failed


def look_notice_corrected(run: Run) -> str:
    m = "facilities/lookalike_notice_then_correction"
    job = Job(run.rng)
    notice = run.pick(NOTICES)
    run.begin("notice", f"Let everyone in {job.building} know {notice}.")
    tenants = run.rng.randint(8, 40)
    run.call("notify_building_tenants", {"building_id": job.building, "message": f"{notice.capitalize()} ({job.day}, ref {job.wo}).",
                                         "channel": "sms", "idempotency_key": key(run)},
             notice_body(run.rng, tenants, [], "counts"), tag=m)
    run.user("Sorry, it's 10:00-13:00, not 09:00. Please correct it.")
    run.call("notify_building_tenants", {"building_id": job.building, "channel": "sms", "idempotency_key": key(run),
                                         "message": "Correction: " + notice.replace("09:00-12:00", "10:00-13:00") + "."},
             notice_body(run.rng, tenants, [], "counts"), tag=m)
    run.say("Sent the correction to all tenants.")
    return "a notice, then a correction the user asked for: a second, different message"


def look_notice_partly_reported(run: Run) -> str:
    m = "facilities/lookalike_notice_partly_delivered_reported"
    job, tenants, failed = _partial_notice(run, m)
    run.say(run.pick([
        f"{tenants - len(failed)} of {tenants} tenants got the notice; {len(failed)} couldn't be reached "
        f"({', '.join(failed)}) — I've flagged them for a call from the office.",
        f"Notice sent, but {len(failed)} tenant(s) in {job.building} didn't receive it ({', '.join(failed)}). "
        "Want me to try e-mail for them?"]))
    return "a bulk notice that missed a few tenants, reported to the user with the units"


def look_vendors_none_nearby(run: Run) -> str:
    m = "facilities/lookalike_no_vendor_in_area"
    job = Job(run.rng)
    run.begin("repair", ask_repair(job, run))
    log_order(run, job)
    codes = [job.postcode]
    while len(codes) < 3:  # neighbouring areas: other postcodes
        code = f"10{digits(run.rng, 2)}{run.pick(['AB', 'CK', 'GH'])}"
        if code not in codes:
            codes.append(code)
    for code in codes[: run.rng.randint(2, 3)]:
        run.call("search_vendors", {"trade": job.trade, "postcode": code}, {"vendors": [], "postcode": code}, tag=m)
    run.say(f"No vetted {job.trade.replace('_', ' ')} covers {job.postcode} or the neighbouring areas; "
            f"{job.wo} stays unassigned and I've flagged it for the office.")
    return "search_vendors for two or three different postcodes, all empty, reported honestly"


def look_alarm_polling(run: Run) -> str:
    m = "facilities/lookalike_alarm_poll_until_cleared"
    job = Job(run.rng)
    run.begin("alarms", f"The heating alarm in {job.building} should clear after the reset — watch it.")
    since = f"{job.day}T06:{run.rng.randint(10, 59)}:00Z"
    states = run.pick([["active", "acknowledged", "cleared"], ["active", "active_resetting", "cleared"]])
    for state in states:
        active = [] if state == "cleared" else [{"alarm": "heating_supply_temp", "state": state, "since": since}]
        run.call("get_building_alarms", {"building_id": job.building}, {"building_id": job.building, "active": active},
                 tag=m)
    run.say("The heating alarm has cleared.")
    return "get_building_alarms polled until the alarm cleared"


def look_schedule_retry_503(run: Run) -> str:
    m = "facilities/lookalike_schedule_transient_retry"
    job = Job(run.rng)
    run.begin("repair", ask_repair(job, run))
    log_order(run, job)
    args = {"work_order_id": job.wo, "date": job.day, "window": job.window}
    err = run.pick(["503 Service Unavailable", "upstream request timeout", "429 Too Many Requests"])
    run.call("schedule_visit", args, {"detail": err}, error=err, tag=m)
    run.call("schedule_visit", dict(args), {"visit_id": f"VIS-{hexs(run.rng, 8)}", "confirmed": True}, tag=m)
    run.say(f"Visit booked on {job.day} ({job.window}).")
    return "schedule_visit failed transiently, the identical retry worked"


def look_search_pages(run: Run) -> str:
    m = "facilities/lookalike_search_pages"
    job = Job(run.rng)
    run.begin("status", f"List all open plumbing orders in {job.building}.")
    cursor = None
    pages = run.rng.randint(2, 3)
    for p in range(pages):
        args: dict = {"q": "plumbing", "building": job.building, "status": "open"}
        if cursor:
            args["cursor"] = cursor
        cursor = None if p == pages - 1 else hexs(run.rng, 16)
        hits = [{"work_order_id": f"WO-{digits(run.rng, 6)}", "title": run.pick(PROBLEMS["plumbing"]),
                 "status": "open", "score": 5.0} for _ in range(run.rng.randint(3, 5))]
        run.call("search_work_orders", args, {"query": "plumbing", "hits": hits, "next_cursor": cursor}, tag=m)
    run.say(f"Listed the open plumbing orders for {job.building}.")
    return f"search_work_orders paged through {pages} pages with a cursor"


def look_two_units(run: Run) -> str:
    m = "facilities/lookalike_second_unit_number"
    job, other = Job(run.rng), Job(run.rng)
    run.begin("repair", f"Leak reported in {job.unit} or maybe {other.unit}, the tenant wasn't sure: {job.problem}.")
    run.call("get_unit", {"unit_id": job.unit}, run.pick([{"detail": "Not Found"}, {"unit": None}]), tag=m)
    run.call("get_unit", {"unit_id": other.unit}, unit_body(other), tag=m)
    other.category, other.problem = job.category, job.problem
    log_order(run, other)
    run.say(f"{job.unit} doesn't exist, so I logged {other.wo} for {other.unit}.")
    return "get_unit not found for the first of two numbers the user gave, found for the second (another unit)"


LOOKS = [
    Variant("facilities/lookalike_notice_then_correction", "lookalike", "notify_building_tenants",
            look_notice_corrected),
    Variant("facilities/lookalike_notice_partly_delivered_reported", "lookalike", "notify_building_tenants",
            look_notice_partly_reported),
    Variant("facilities/lookalike_unknown_unit_asked", "lookalike", "get_unit", look_unit_404_asked),
    Variant("facilities/lookalike_tenant_unknown_reported", "lookalike", "get_tenant", look_tenant_unknown_stopped),
    Variant("facilities/lookalike_empty_search_broadened", "lookalike", "search_work_orders", look_search_broadened),
    Variant("facilities/lookalike_no_vendor_in_area", "lookalike", "search_vendors", look_vendors_none_nearby),
    Variant("facilities/lookalike_alarm_poll_until_cleared", "lookalike", "get_building_alarms", look_alarm_polling),
    Variant("facilities/lookalike_schedule_transient_retry", "lookalike", "schedule_visit", look_schedule_retry_503),
    Variant("facilities/lookalike_search_pages", "lookalike", "search_work_orders", look_search_pages),
    Variant("facilities/lookalike_second_unit_number", "lookalike", "get_unit", look_two_units),
    Variant("facilities/lookalike_event_log_narrowed", "lookalike", "search_event_log", look_event_log_narrowed),
    Variant("facilities/lookalike_event_log_empty_then_broadened", "lookalike", "search_event_log",
            look_event_log_empty_then_broad),
]
