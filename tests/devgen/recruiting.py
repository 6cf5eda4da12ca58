"""Recruiting / interview-scheduling assistant ("talent-scheduler"; OpenAI models). Seed 0 writes it as OTLP
JSON lines; other seeds rotate it through the other formats (``devgen.FORMATS``)."""

from __future__ import annotations

import random

from devgen.core import Run, Variant
from devgen.values import CITIES, DEPTS, ROLES, date, digits, email, hexs, person

NAME = "talent-scheduler"
ROOT_NAME = "invoke_agent talent-scheduler"
VERSION = "1.8.2"
DIRNAME, GENERATION_NAME, PROVIDER = "recruiting", "chat", "openai"
SDK_AGENT, WORKFLOW = "TalentScheduler", "Agent workflow"  # OpenAI Agents SDK agent and workflow names
MODELS = ("gpt-4.1-mini-2025-04-14", "gpt-4.1-2025-04-14")
SYSTEM = ("You are TalentScheduler, the recruiting coordinator for Northwind Labs. Use the tools to find "
          "candidates, check interviewer calendars, book interviews and email candidates. Never invent ids.")
STAGES = ["applied", "screening", "technical", "onsite", "offer", "rejected", "hired"]
KINDS = ["phone_screen", "technical", "onsite", "hiring_manager"]

TOOLS = [
    {"name": "search_candidates", "description": "Full-text search over the applicant tracking system.",
     "parameters": {"type": "object", "properties": {
         "query": {"type": "string", "minLength": 2},
         "location": {"type": "string"},
         "stage": {"type": "string", "enum": STAGES},
         "min_years_experience": {"type": "integer", "minimum": 0, "maximum": 40},
         "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}},
         "required": ["query"]}},
    {"name": "get_candidate", "description": "Fetch one candidate profile by id.",
     "parameters": {"type": "object", "properties": {
         "candidate_id": {"type": "string", "pattern": "^cand_[0-9a-f]{8}$"},
         "include": {"type": "array", "items": {"type": "string", "enum": ["notes", "interviews", "resume"]}}},
         "required": ["candidate_id"], "additionalProperties": False}},
    {"name": "get_interviewer_availability", "description": "Free slots of interviewers between two dates.",
     "parameters": {"type": "object", "properties": {
         "interviewer_ids": {"type": "array", "items": {"type": "string", "pattern": "^emp_[0-9]{5}$"},
                             "minItems": 1},
         "date_from": {"type": "string", "format": "date"},
         "date_to": {"type": "string", "format": "date"},
         "timezone": {"type": "string", "default": "UTC"}},
         "required": ["interviewer_ids", "date_from", "date_to"]}},
    {"name": "check_calendar_conflicts", "description": "Check a proposed slot against all calendars.",
     "parameters": {"type": "object", "properties": {
         "interviewer_ids": {"type": "array", "items": {"type": "string"}},
         "start": {"type": "string", "format": "date-time"},
         "end": {"type": "string", "format": "date-time"}},
         "required": ["interviewer_ids", "start", "end"]}},
    {"name": "schedule_interview", "description": "Book an interview and create calendar events.",
     "parameters": {"type": "object", "properties": {
         "candidate_id": {"type": "string", "pattern": "^cand_[0-9a-f]{8}$"},
         "interviewer_ids": {"type": "array", "items": {"type": "string"}, "minItems": 1},
         "start": {"type": "string", "format": "date-time"},
         "duration_min": {"type": "integer", "enum": [30, 45, 60, 90]},
         "kind": {"type": "string", "enum": KINDS},
         "video_link": {"type": "boolean", "default": True}},
         "required": ["candidate_id", "interviewer_ids", "start", "duration_min", "kind"],
         "additionalProperties": False}},
    {"name": "send_email", "description": "Send a templated email to a candidate.",
     "parameters": {"type": "object", "properties": {
         "to": {"type": "string", "format": "email"},
         "template": {"type": "string", "enum": ["interview_invite", "reschedule", "rejection", "offer_followup",
                                                  "status_update"]},
         "subject": {"type": "string", "maxLength": 120},
         "variables": {"type": "object"}},
         "required": ["to", "template", "subject"]}},
    {"name": "update_candidate_stage", "description": "Move a candidate to another pipeline stage.",
     "parameters": {"type": "object", "properties": {
         "candidate_id": {"type": "string", "pattern": "^cand_[0-9a-f]{8}$"},
         "stage": {"type": "string", "enum": STAGES},
         "note": {"type": "string"}},
         "required": ["candidate_id", "stage"], "additionalProperties": False}},
    {"name": "list_requisitions", "description": "List job requisitions, paginated.",
     "parameters": {"type": "object", "properties": {
         "department": {"type": "string", "enum": list(DEPTS)},
         "status": {"type": "string", "enum": ["open", "paused", "filled"]},
         "page": {"type": "integer", "minimum": 1},
         "page_size": {"type": "integer", "minimum": 1, "maximum": 100}},
         "required": ["status"]}},
    {"name": "post_job_ad", "description": "Publish a requisition's job ad on an external job board.",
     "parameters": {"type": "object", "properties": {
         "requisition_id": {"type": "string"}, "board": {"type": "string", "description": "job board slug"},
         "visibility": {"type": "string", "enum": ["public", "unlisted"]}},
         "required": ["requisition_id", "board"]}},
    {"name": "list_job_boards", "description": "Job boards the company can post to, with their slugs."},
]

LAT = {"search_candidates": (180, 900), "get_candidate": (60, 260), "get_interviewer_availability": (300, 1400),
       "check_calendar_conflicts": (150, 700), "schedule_interview": (400, 1600), "send_email": (250, 900),
       "update_candidate_stage": (90, 300), "list_requisitions": (120, 500), "post_job_ad": (200, 900),
       "list_job_boards": (40, 160)}
BOARDS = {"linkedin": "LinkedIn Jobs", "stackoverflow-jobs": "Stack Overflow Jobs", "otta": "Otta",
          "welcome-to-the-jungle": "Welcome to the Jungle", "indeed": "Indeed", "himalayas": "Himalayas Remote"}


def call_id(rng: random.Random, seq: int) -> str:
    return "call_" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789")
                             for _ in range(24))


# -- shared pieces ---------------------------------------------------------------------------------

class Case:
    def __init__(self, rng: random.Random) -> None:
        self.name = person(rng)
        self.cid = f"cand_{hexs(rng, 8)}"
        self.role = rng.choice(ROLES)
        self.city = rng.choice(CITIES)
        self.years = rng.randint(2, 14)
        self.interviewers = [f"emp_{digits(rng, 5)}" for _ in range(rng.randint(1, 3))]
        self.day = date(rng)
        self.hour = rng.choice([9, 10, 11, 13, 14, 15, 16])
        self.kind = rng.choice(KINDS)
        self.duration = {"phone_screen": 30, "technical": 60, "onsite": 90, "hiring_manager": 45}[self.kind]
        self.mail = email(self.name, rng.choice(["gmail.com", "proton.me", "outlook.com", "fastmail.com"]))

    @property
    def start(self) -> str:
        return f"{self.day}T{self.hour:02d}:00:00Z"

    def end(self, minutes: int | None = None) -> str:
        total = self.hour * 60 + (minutes or self.duration)
        return f"{self.day}T{total // 60:02d}:{total % 60:02d}:00Z"


def profile(case: Case, rng: random.Random) -> dict:
    return {"candidate": {"id": case.cid, "name": case.name, "email": case.mail, "role_applied": case.role,
                          "location": case.city, "years_experience": case.years,
                          "stage": rng.choice(["screening", "technical"]),
                          "interviews": [{"kind": "phone_screen", "outcome": "advance", "date": date(rng, 1, 2)}],
                          "tags": rng.sample(["python", "go", "kubernetes", "figma", "sql", "leadership",
                                              "aws", "react"], 3)}}


def search_hits(case: Case, rng: random.Random, n: int | None = None) -> dict:
    n = rng.randint(1, 4) if n is None else n
    hits = [{"id": case.cid, "name": case.name, "score": round(rng.uniform(0.7, 0.97), 3), "stage": "screening"}]
    for _ in range(n - 1):
        hits.append({"id": f"cand_{hexs(rng, 8)}", "name": person(rng), "score": round(rng.uniform(0.3, 0.7), 3),
                     "stage": rng.choice(STAGES[:4])})
    return {"total": n, "results": hits[:n], "took_ms": rng.randint(8, 90)}


def slots(case: Case, rng: random.Random) -> dict:
    return {"timezone": "UTC", "slots": [
        {"interviewer_id": e, "free": [f"{case.day}T{h:02d}:00:00Z" for h in sorted(rng.sample(range(9, 17), 3))]}
        for e in case.interviewers]}


def search_query(case: Case, run: Run) -> dict:
    words = case.role.lower()
    args = {"query": run.pick([words, f"{words} {case.name.split()[1]}", case.name]), "limit": run.pick([5, 10, 20])}
    if run.rng.random() < 0.5:
        args["location"] = case.city
    return args


def find_candidate(run: Run, case: Case) -> None:
    run.call("search_candidates", search_query(case, run), search_hits(case, run.rng))
    run.call("get_candidate", {"candidate_id": case.cid, "include": ["interviews"]}, profile(case, run.rng))


def book(run: Run, case: Case, tag_schedule: str | None = None, duration: object = None,
         cid: str | None = None) -> None:
    args = {"candidate_id": cid or case.cid, "interviewer_ids": case.interviewers, "start": case.start,
            "duration_min": case.duration if duration is None else duration, "kind": case.kind}
    run.call("schedule_interview", args,
             {"interview_id": f"int_{hexs(run.rng, 10)}", "status": "booked",
              "calendar_events": [f"evt_{hexs(run.rng, 12)}" for _ in case.interviewers],
              "video_link": f"https://meet.northwind.example/{hexs(run.rng, 10)}"}, tag=tag_schedule)


def invite(run: Run, case: Case, tag: str | None = None, subject: str | None = None) -> dict:
    args = {"to": case.mail, "template": "interview_invite",
            "subject": subject or run.pick([f"Your {case.kind.replace('_', ' ')} with Northwind Labs",
                                            f"Interview invitation: {case.role}",
                                            f"Next step for the {case.role} role"]),
            "variables": {"candidate_name": case.name.split()[0], "start": case.start,
                          "duration_min": case.duration}}
    run.call("send_email", args, {"message_id": f"<{hexs(run.rng, 16)}@mail.northwind.example>", "queued": True},
             tag=tag)
    return args


def request_schedule(case: Case, run: Run) -> str:
    return run.pick([
        f"Please set up a {case.kind.replace('_', ' ')} for {case.name} ({case.role}) on {case.day}.",
        f"Can you book {case.name} in for the {case.kind.replace('_', ' ')} round, ideally {case.day} "
        f"around {case.hour}:00?",
        f"Schedule {case.name}'s next interview ({case.kind}) with the panel — {case.day} works for us.",
    ])


# -- normal segments -------------------------------------------------------------------------------

def flow_schedule(run: Run) -> None:
    case = Case(run.rng)
    run.begin("schedule_interview", request_schedule(case, run))
    find_candidate(run, case)
    run.call("get_interviewer_availability", {"interviewer_ids": case.interviewers, "date_from": case.day,
                                              "date_to": case.day}, slots(case, run.rng))
    if run.rng.random() < 0.6:
        run.call("check_calendar_conflicts", {"interviewer_ids": case.interviewers, "start": case.start,
                                              "end": case.end()}, {"conflicts": []})
    book(run, case)
    invite(run, case)
    run.say(f"Booked {case.name}'s {case.kind.replace('_', ' ')} on {case.day} at {case.hour}:00 UTC and "
            "sent the invitation.")


def flow_stage(run: Run) -> None:
    case = Case(run.rng)
    stage = run.pick(["onsite", "offer", "rejected", "technical"])
    run.begin("update_stage", run.pick([f"Move {case.name} to {stage}.",
                                        f"{case.name} passed the loop, set them to '{stage}' please",
                                        f"Update the pipeline: {case.name} -> {stage}"]))
    find_candidate(run, case)
    run.call("update_candidate_stage", {"candidate_id": case.cid, "stage": stage,
                                        "note": run.pick(["per debrief", "panel feedback positive",
                                                          "requested by hiring manager"])},
             {"candidate_id": case.cid, "stage": stage, "updated_at": f"{case.day}T08:12:44Z"})
    if stage == "rejected":
        run.call("send_email", {"to": case.mail, "template": "rejection", "subject": "Your application",
                                "variables": {"candidate_name": case.name.split()[0]}},
                 {"message_id": f"<{hexs(run.rng, 16)}@mail.northwind.example>", "queued": True})
    run.say(f"{case.name} is now in stage '{stage}'.")


def requisitions(rng: random.Random, n: int, dept: str) -> dict:
    return {"requisitions": [{"id": f"REQ-{rng.randint(1000, 9999)}", "title": rng.choice(ROLES),
                              "department": dept, "openings": rng.randint(1, 3),
                              "hiring_manager": person(rng)} for _ in range(n)]}


def flow_requisitions(run: Run) -> None:
    dept = run.pick(list(DEPTS))
    run.begin("list_requisitions", run.pick([f"Which {dept} roles are still open?",
                                             f"Give me the open reqs for {dept}.",
                                             f"How many open requisitions does {dept} have right now?"]))
    res = requisitions(run.rng, run.rng.randint(2, 7), dept)
    res["page"], res["has_more"] = 1, False
    run.call("list_requisitions", {"department": dept, "status": "open", "page": 1, "page_size": 25}, res)
    run.say(f"{dept} has {len(res['requisitions'])} open requisitions: "
            + ", ".join(r["title"] for r in res["requisitions"][:4]) + ".")


def post_ad(run: Run, req: str, board: str, tag: str | None = None, visibility: str | None = None) -> None:
    run.call("post_job_ad", {"requisition_id": req, "board": board,
                             "visibility": visibility or run.pick(["public", "unlisted"])},
             {"ad_id": f"ad_{hexs(run.rng, 10)}", "board": board, "status": "live",
              "url": f"https://jobs.example.com/{board}/{req.lower()}"}, tag=tag)


def flow_post_ad(run: Run) -> None:
    req, board = f"REQ-{run.rng.randint(1000, 9999)}", run.pick(list(BOARDS))
    run.begin("post_ad", run.pick([f"Post {req} on {BOARDS[board]}.", f"Can you advertise {req} on {BOARDS[board]}?"]))
    post_ad(run, req, board)
    run.say(f"{req} is live on {BOARDS[board]}.")


FLOWS = [flow_schedule, flow_schedule, flow_stage, flow_requisitions, flow_post_ad]


# -- bugs ------------------------------------------------------------------------------------------

def bug_reworded_search(run: Run) -> str:
    m = "recruiting/reworded_candidate_search_loop"
    case = Case(run.rng)
    run.begin("schedule_interview", request_schedule(case, run))
    role = case.role
    variants = [f"{role} {case.city}", f"{role.lower()} in {case.city}", f"{case.city} {role}",
                f"{role.replace('Senior', 'Sr.')} ({case.city})", f"{role} located {case.city}",
                f"candidates {role.lower()} {case.city.lower()}", f"{role} - {case.city}"]
    run.rng.shuffle(variants)
    n = run.rng.randint(4, 7)
    empty = {"total": 0, "results": [], "took_ms": 11}
    for q in variants[:n]:
        run.call("search_candidates", {"query": q, "limit": 10}, empty, tag=m,
                 think=run.pick([None, "No hits, let me rephrase the search.", "Trying a different wording."]))
    run.stop(run.pick([f"I couldn't find {case.name} in the ATS, so I could not book the interview.",
                       "Sorry — the candidate search keeps returning nothing; nothing was scheduled."]))
    return f"search_candidates re-run {n} times with reworded queries, every result empty"


def bug_availability_cycle(run: Run) -> str:
    m = "recruiting/availability_conflict_cycle"
    case = Case(run.rng)
    run.begin("schedule_interview", request_schedule(case, run))
    find_candidate(run, case)
    avail_args = {"interviewer_ids": case.interviewers, "date_from": case.day, "date_to": case.day}
    avail = slots(case, run.rng)
    conflict = {"conflicts": [{"interviewer_id": case.interviewers[0], "event": "Team offsite",
                               "start": case.start, "end": case.end(120)}]}
    rounds = run.rng.randint(3, 4)
    for _ in range(rounds):
        run.call("get_interviewer_availability", dict(avail_args), avail, tag=m)
        run.call("check_calendar_conflicts", {"interviewer_ids": case.interviewers, "start": case.start,
                                              "end": case.end()}, conflict, tag=m)
    run.stop(run.pick(["I wasn't able to find a conflict-free slot.",
                       "The panel seems to be busy; could you suggest another time?"]))
    return f"availability → conflict check alternated {rounds} times with identical arguments and results"


def bug_double_invite(run: Run) -> str:
    m = "recruiting/duplicate_interview_invite"
    case = Case(run.rng)
    run.begin("schedule_interview", request_schedule(case, run))
    find_candidate(run, case)
    book(run, case)
    first = invite(run, case, tag=m)
    second = {k: first[k] for k in reversed(list(first))}
    if run.rng.random() < 0.5:
        second["subject"] = "  " + first["subject"] + " "
    run.call("send_email", second, {"message_id": f"<{hexs(run.rng, 16)}@mail.northwind.example>",
                                    "queued": True}, tag=m,
             think=run.pick([None, "Sending the invitation to the candidate.", "Let me email the candidate."]))
    run.say(f"Booked {case.name} on {case.day} and emailed the invitation.")
    return "the same interview invitation was sent twice (second call with reordered/padded arguments)"


def bug_duration_enum(run: Run) -> str:
    m = "recruiting/interview_duration_outside_enum"
    case = Case(run.rng)
    run.begin("schedule_interview", request_schedule(case, run))
    find_candidate(run, case)
    bad = run.pick([50, 120, 40, "1h", "60 minutes", 75])
    book(run, case, tag_schedule=m, duration=bad)
    invite(run, case)
    run.say(f"Interview booked for {case.name}.")
    return f"schedule_interview duration_min={bad!r} violates enum [30,45,60,90] and was silently accepted"


def bug_stage_missing_id(run: Run) -> str:
    m = "recruiting/stage_update_missing_candidate_id"
    case = Case(run.rng)
    stage = run.pick(["onsite", "offer", "technical"])
    run.begin("update_stage", f"Move {case.name} to {stage}.")
    find_candidate(run, case)
    err = run.pick(["ValidationError: 'candidate_id' is a required property",
                    "400 Bad Request: missing field candidate_id",
                    "invalid arguments: candidate_id: field required"])
    run.call("update_candidate_stage", {"stage": stage, "note": f"{case.name} moves on"},
             {"error": err}, error=err, tag=m)
    run.call("update_candidate_stage", {"candidate_id": case.cid, "stage": stage},
             {"candidate_id": case.cid, "stage": stage, "updated_at": f"{case.day}T10:02:11Z"},
             think="I forgot the candidate id; retrying.")
    run.say(f"{case.name} is now in stage '{stage}'.")
    return "update_candidate_stage called without required candidate_id, rejected, then corrected"


def bug_conflict_html(run: Run) -> str:
    m = "recruiting/conflict_check_html_error_page"
    case = Case(run.rng)
    run.begin("schedule_interview", request_schedule(case, run))
    find_candidate(run, case)
    code = run.pick([(502, "Bad Gateway"), (504, "Gateway Time-out"), (503, "Service Temporarily Unavailable")])
    html = (f"<html>\r\n<head><title>{code[0]} {code[1]}</title></head>\r\n<body>\r\n<center><h1>{code[0]} "
            f"{code[1]}</h1></center>\r\n<hr><center>nginx/1.{run.rng.randint(18, 25)}.{run.rng.randint(0, 9)}"
            "</center>\r\n</body>\r\n</html>\r\n")
    run.call("check_calendar_conflicts", {"interviewer_ids": case.interviewers, "start": case.start,
                                          "end": case.end()}, html, tag=m)
    book(run, case)
    invite(run, case)
    run.say(f"No conflicts found; booked {case.name} on {case.day}.")
    return f"calendar service returned an HTML {code[0]} page with OK status; agent treated it as no conflicts"


def bug_unknown_candidate(run: Run) -> str:
    m = "recruiting/missing_candidate_then_booked"
    case = Case(run.rng)
    run.begin("schedule_interview", request_schedule(case, run))
    wrong = f"cand_{hexs(run.rng, 8)}"
    run.call("get_candidate", {"candidate_id": wrong},
             run.pick([{"candidate": None, "message": f"No candidate with id {wrong}"},
                       {"found": False, "candidate_id": wrong},
                       f"candidate {wrong} not found"]), tag=m)
    run.call("get_interviewer_availability", {"interviewer_ids": case.interviewers, "date_from": case.day,
                                              "date_to": case.day}, slots(case, run.rng))
    book(run, case, tag_schedule=m, cid=wrong)
    run.say(f"Interview scheduled for {case.name} on {case.day}.")
    return "get_candidate returned not-found, and schedule_interview was then called with that same id"


def bug_req_timeout(run: Run) -> str:
    m = "recruiting/requisitions_upstream_timeout"
    dept = run.pick(list(DEPTS))
    run.begin("list_requisitions", f"Which {dept} roles are still open?")
    err = run.pick(["UpstreamTimeout: ATS did not answer within 30s",
                    "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='ats.internal', port=443): "
                    "Read timed out. (read timeout=30)",
                    "Greenhouse API error: 504 Gateway Timeout"])
    run.call("list_requisitions", {"department": dept, "status": "open", "page": 1, "page_size": 25},
             {"error": err}, error=err, tag=m, ms=run.rng.randint(30000, 31000))
    run.stop(run.pick(["I'm sorry, I couldn't reach the applicant tracking system. Please try again later.",
                       "Apologies — the requisition service timed out, so I can't list the open roles right now.",
                       "Unfortunately the ATS is not responding; I have to stop here."]))
    return "list_requisitions failed with a timeout error and the run gave up with an apology"


def bug_llm_repeat(run: Run) -> str:
    m = "recruiting/model_repeats_reply"
    flow_schedule(run)
    text = run.pick(["Let me check the interviewer availability for that day.",
                     "I'll look up the panel's calendars now.",
                     "One moment while I confirm the time slot with the interviewers."])
    n = run.rng.randint(3, 6)
    at = max(1, len(run.actions) - 2)
    for _ in range(n):
        run.actions.insert(at, run.think(text, tag=m))
        run.actions.pop()  # think() appended it at the end as well
    return f"the model produced the same message {n} times in a row without acting"


def bug_model_latency(run: Run) -> str:
    m = "recruiting/model_latency_spike"
    flow_schedule(run)
    tools = [a for a in run.actions if a.type == "tool" and not a.batched]
    hit = run.rng.sample(tools, min(len(tools), run.rng.randint(1, 2)))
    for a in hit:
        a.llm_tags = (m,)
        a.llm_ms = run.rng.randint(45_000, 140_000)
    return f"{len(hit)} model turn(s) took 45-140 s (normally 1-4 s)"


BOARD_REJECTIONS = [  # how widely used validation layers word the same rejection
    "1 validation error for PostJobAd\nboard\n  Input should be {options} [type=literal_error, input_value='{bad}']",
    "Invalid enum value. Expected {options}, received '{bad}'",
    "Key: 'PostJobAd.Board' Error:Field validation for 'Board' failed on the 'oneof' tag",
    "Board is not included in the list",
    "'{bad}' does not match '^[a-z0-9-]+$'",
    "Unknown board '{bad}'. Known boards: {options}",
    "board '{bad}' is not recognized",
    "Error: '{bad}' is not a supported board",
]
BOARD_MISSES = ["No job board named '{bad}'", "board '{bad}' not found"]  # rejections worded as a miss


def bug_board_rejected(run: Run) -> str:
    m = "recruiting/job_board_name_rejected"
    req, board = f"REQ-{run.rng.randint(1000, 9999)}", run.pick(list(BOARDS))
    bad = BOARDS[board]
    run.begin("post_ad", run.pick([f"Post {req} on {bad}.", f"Advertise {req} on {bad}, publicly."]))
    fixed = run.rng.random() < 0.75
    # a not-found is only an argument error when the agent then shows the value was a name for another one
    wordings = BOARD_REJECTIONS + BOARD_MISSES if fixed else BOARD_REJECTIONS
    text = run.pick(wordings).format(bad=bad, options=", ".join(sorted(BOARDS)))
    shape = run.pick(["status", "text", "body"])
    args = {"requisition_id": req, "board": bad, "visibility": "public"}
    if shape == "status":
        run.call("post_job_ad", args, {"detail": text}, error=text, tag=m)
    elif shape == "text":
        run.call("post_job_ad", args, text, tag=m)
    else:
        run.call("post_job_ad", args, {"ok": False, "error": text}, tag=m)
    if fixed and run.rng.random() < 0.4:  # looks the slugs up first
        run.call("list_job_boards", {}, {"boards": [{"slug": k, "name": v} for k, v in BOARDS.items()]},
                 think="Let me check the board slugs.")
    if fixed:
        post_ad(run, req, board, visibility="public")
        run.say(f"{req} is live on {bad}.")
    else:
        run.stop(f"The job board rejected the ad for {req}; it isn't posted yet.")
    return (f"post_job_ad board={bad!r} (a display name, not the board slug) rejected ({shape}), "
            + ("then posted with the slug" if fixed else "and the agent gave up"))


BUGS = [
    Variant("recruiting/reworded_candidate_search_loop", "loop", "search_candidates", bug_reworded_search,
            terminal=True),
    Variant("recruiting/availability_conflict_cycle", "loop", "get_interviewer_availability",
            bug_availability_cycle, terminal=True,
            tools=("get_interviewer_availability", "check_calendar_conflicts")),
    Variant("recruiting/duplicate_interview_invite", "duplicate_call", "send_email", bug_double_invite),
    Variant("recruiting/interview_duration_outside_enum", "argument_error", "schedule_interview",
            bug_duration_enum),
    Variant("recruiting/stage_update_missing_candidate_id", "argument_error", "update_candidate_stage",
            bug_stage_missing_id),
    Variant("recruiting/conflict_check_html_error_page", "silent_failure", "check_calendar_conflicts",
            bug_conflict_html),
    Variant("recruiting/missing_candidate_then_booked", "silent_failure", "get_candidate", bug_unknown_candidate,
            tools=("get_candidate", "schedule_interview")),
    Variant("recruiting/requisitions_upstream_timeout", "unrecovered_error", "list_requisitions", bug_req_timeout,
            terminal=True),
    Variant("recruiting/model_repeats_reply", "loop", None, bug_llm_repeat),
    Variant("recruiting/model_latency_spike", "outlier", None, bug_model_latency),
    Variant("recruiting/job_board_name_rejected", "argument_error", "post_job_ad", bug_board_rejected,
            terminal=True),
]


# -- look-alikes -----------------------------------------------------------------------------------

def look_pagination(run: Run) -> str:
    m = "recruiting/lookalike_requisition_pagination"
    dept = run.pick(list(DEPTS))
    run.begin("list_requisitions", f"List every open {dept} requisition, all pages please.")
    pages = run.rng.randint(2, 4)
    total = 0
    for p in range(1, pages + 1):
        res = requisitions(run.rng, 25 if p < pages else run.rng.randint(1, 20), dept)
        res["page"], res["has_more"] = p, p < pages
        total += len(res["requisitions"])
        run.call("list_requisitions", {"department": dept, "status": "open", "page": p, "page_size": 25}, res,
                 tag=m)
    run.say(f"{dept} has {total} open requisitions across {pages} pages.")
    return f"list_requisitions paged through {pages} pages (page argument and results change)"


def look_empty_search(run: Run) -> str:
    m = "recruiting/lookalike_empty_search_handled"
    case = Case(run.rng)
    run.begin("find_candidate", f"Do we have anyone for {case.role} with {case.years}+ years in {case.city}?")
    run.call("search_candidates", {"query": case.role.lower(), "location": case.city,
                                   "min_years_experience": case.years}, {"total": 0, "results": [], "took_ms": 9},
             tag=m)
    run.say(run.pick([f"There are no candidates for {case.role} in {case.city} with {case.years}+ years. "
                      "Want me to drop the location filter?",
                      "Nobody matches those criteria yet; should I widen the search?"]))
    return "an empty candidate search that the agent reported and asked about"


def look_email_retry(run: Run) -> str:
    m = "recruiting/lookalike_email_transient_retry"
    case = Case(run.rng)
    run.begin("schedule_interview", request_schedule(case, run))
    find_candidate(run, case)
    book(run, case)
    args = {"to": case.mail, "template": "interview_invite", "subject": f"Interview invitation: {case.role}",
            "variables": {"candidate_name": case.name.split()[0], "start": case.start}}
    err = run.pick(["429 Too Many Requests: retry after 2s", "503 Service Unavailable", "SMTP relay timeout"])
    run.call("send_email", args, {"error": err}, error=err, tag=m)
    run.call("send_email", dict(args), {"message_id": f"<{hexs(run.rng, 16)}@mail.northwind.example>",
                                        "queued": True}, tag=m, think="Transient mail error, retrying once.")
    run.say(f"Booked {case.name} and sent the invitation (after one retry).")
    return "send_email hit a transient error and the identical retry succeeded"


def look_two_candidates(run: Run) -> str:
    m = "recruiting/lookalike_compare_two_candidates"
    a, b = Case(run.rng), Case(run.rng)
    run.begin("compare", f"Compare {a.name} and {b.name} for the {a.role} role.")
    run.call("get_candidate", {"candidate_id": a.cid, "include": ["interviews", "notes"]}, profile(a, run.rng), tag=m)
    run.call("get_candidate", {"candidate_id": b.cid, "include": ["interviews", "notes"]}, profile(b, run.rng),
             tag=m, batched=True)
    run.say(f"{a.name} has {a.years} years of experience, {b.name} {b.years}; both passed the phone screen.")
    return "two get_candidate reads with different ids in one turn"


def look_referrals(run: Run) -> str:
    m = "recruiting/lookalike_referrals_not_in_ats"
    n = run.rng.randint(3, 5)
    names: list[str] = []
    while len(names) < n:
        name = person(run.rng)
        if name not in names:
            names.append(name)
    role = run.pick(ROLES)
    listed = ", ".join(names[:-1]) + f" and {names[-1]}"
    run.begin("find_candidate", run.pick([
        f"Are any of these referrals already in the ATS: {listed}?",
        f"Quick check before I forward them to the {role} panel: do we have profiles for {listed}?",
        f"Got {n} referrals for the {role} role — {listed}. Is anyone already in our pipeline?"]))
    parallel = run.rng.random() < 0.4
    for i, name in enumerate(names):
        args: dict = {"query": name, "limit": run.pick([5, 10])} if run.rng.random() < 0.7 else {"query": name}
        run.call("search_candidates", args, {"total": 0, "results": [], "took_ms": run.rng.randint(6, 45)}, tag=m,
                 batched=parallel and i > 0)
    run.say(run.pick([f"None of them is in the ATS yet ({listed}). Want me to create candidate profiles?",
                      f"No matches for any of the {n} names — they are all new to us.",
                      f"I searched for all {n} referrals; none of them has applied before."]))
    return f"search_candidates for {n} different people (one search each), every one legitimately absent"


LOOKS = [
    Variant("recruiting/lookalike_requisition_pagination", "lookalike", "list_requisitions", look_pagination),
    Variant("recruiting/lookalike_empty_search_handled", "lookalike", "search_candidates", look_empty_search),
    Variant("recruiting/lookalike_email_transient_retry", "lookalike", "send_email", look_email_retry),
    Variant("recruiting/lookalike_compare_two_candidates", "lookalike", "get_candidate", look_two_candidates),
    Variant("recruiting/lookalike_referrals_not_in_ats", "lookalike", "search_candidates", look_referrals),
]
