"""Agent ``oncall``: an IT-operations on-call assistant. Clean workflows, injected faults and look-alikes.

Tool outputs follow how such tools are usually written for the OpenAI Agents SDK: some return JSON text
(``json.dumps``), some return dicts that the SDK records with ``str()`` (Python repr), one returns markdown.
"""

from __future__ import annotations

import json
import random
import string
from datetime import UTC, datetime
from typing import Any

from holdout import catalog as cat
from holdout.episode import Episode

AGENT = cat.ONCALL
JSON_TOOLS = {"query_metrics", "search_logs", "get_incident"}
REPR_TOOLS = {"list_alerts", "get_deployment", "rollback_deployment", "scale_service", "page_oncall", "get_job_status"}


class Ctx:
    def __init__(self, rng: random.Random, start_ns: int) -> None:
        self.rng = rng
        self.start_s = start_ns // 1_000_000_000
        self.service = rng.choice(cat.SERVICES)
        self.team = cat.TEAMS[self.service]
        self.region = rng.choice(cat.REGIONS)
        self.incident = f"INC-{rng.randint(10_000, 99_999)}"

    def hexid(self, n: int = 8) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def token(self, n: int = 10) -> str:
        return "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(n))

    def ts(self) -> str:
        """A moment in the six hours before the conversation."""
        moment = datetime.fromtimestamp(self.start_s - self.rng.randint(30, 6 * 3600), UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _metrics(ctx: Ctx, metric: str, window: str, hot: bool = False) -> dict[str, Any]:
    rng = ctx.rng
    base = {"p99_latency_ms": 180.0, "error_rate": 0.004, "cpu_util": 0.41, "mem_rss_mb": 820.0, "rps": 1450.0}[metric]
    factor = rng.uniform(3, 9) if hot else rng.uniform(0.8, 1.2)
    points = [round(base * rng.uniform(0.9, 1.1) * (factor if i > 6 else 1), 4) for i in range(12)]
    return {"service": ctx.service, "metric": metric, "window": window, "region": ctx.region,
            "summary": {"min": min(points), "max": max(points), "last": points[-1]},
            "points": points, "unit": "ms" if metric.endswith("_ms") else ("MB" if metric.endswith("_mb") else "ratio")}


def _log_lines(ctx: Ctx, n: int, msg: str | None = None) -> list[dict[str, Any]]:
    msgs = ["upstream connect error or disconnect/reset before headers", "pq: canceling statement due to statement timeout",
            "context deadline exceeded while calling pricing-engine", "redis: connection pool timeout",
            "OOMKilled: container exceeded memory limit", "TLS handshake timeout to auth-service"]
    return [{"id": f"log_{ctx.hexid(12)}", "ts": ctx.ts(), "level": ctx.rng.choice(["error", "error", "warn"]),
             "pod": f"{ctx.service}-{ctx.hexid(5)}-{ctx.token(5).lower()}", "trace_id": ctx.hexid(32),
             "message": msg or ctx.rng.choice(msgs)} for _ in range(n)]


def _deployment(ctx: Ctx, deploy_id: str | None = None) -> dict[str, Any]:
    return {"service": ctx.service, "deploy_id": deploy_id or f"dep-{ctx.hexid()}", "image": f"{ctx.service}:{ctx.rng.randint(100, 999)}.{ctx.rng.randint(0, 20)}",
            "author": f"{ctx.rng.choice(cat.FIRST_NAMES).lower()}@example.com", "started_at": ctx.ts(),
            "status": "complete", "replicas": {"desired": 6, "ready": 6}, "previous": f"dep-{ctx.hexid()}"}


def _incident(ctx: Ctx) -> dict[str, Any]:
    return {"incident": {"id": ctx.incident, "title": f"Elevated errors on {ctx.service}", "severity": ctx.rng.choice(["sev2", "sev3"]),
                         "status": ctx.rng.choice(["investigating", "mitigated", "resolved"]), "commander": ctx.rng.choice(cat.FIRST_NAMES),
                         "timeline": [{"at": ctx.ts(), "entry": "Alert fired"}, {"at": ctx.ts(), "entry": "Paged on-call"}]}}


def _incident_missing(ctx: Ctx, inc: str) -> Any:
    return ctx.rng.choice([{"incident": None}, {"error": "not_found", "id": inc}, f"No incident found with id {inc}",
                           {"incident": None, "detail": f"{inc} does not exist or was merged"}])


# -- clean workflows --------------------------------------------------------------------------------------


def clean_triage(ep: Episode, ctx: Ctx) -> None:
    alerts = [{"alert": f"{ctx.service} {m}", "state": "firing", "severity": ctx.rng.choice(["sev2", "sev3"]), "since": ctx.ts()}
              for m in ctx.rng.sample(["HighErrorRate", "LatencySLOBurn", "PodCrashLooping"], ctx.rng.randint(1, 2))]
    ep.call("list_alerts", {"team": ctx.team, "state": "firing"}, {"alerts": alerts, "count": len(alerts)})
    ep.call("query_metrics", {"service": ctx.service, "metric": "error_rate", "window": "1h", "region": ctx.region},
            _metrics(ctx, "error_rate", "1h", hot=True))
    ep.call("search_logs", {"service": ctx.service, "query": "level:error", "max_results": 20},
            {"entries": _log_lines(ctx, ctx.rng.randint(2, 6)), "next_page_token": None})
    ep.note(f"{ctx.service} error rate is elevated in {ctx.region}; top log error shown above.")


def clean_deploy_check(ep: Episode, ctx: Ctx) -> None:
    dep = _deployment(ctx)
    ep.call("get_deployment", {"service": ctx.service}, dep)
    ep.call("query_metrics", {"service": ctx.service, "metric": "p99_latency_ms", "window": "15m"},
            _metrics(ctx, "p99_latency_ms", "15m"))
    ep.note(f"Latest deploy {dep['deploy_id']} of {ctx.service} looks healthy.")


def clean_incident(ep: Episode, ctx: Ctx) -> None:
    ep.call("get_incident", {"incident_id": ctx.incident}, _incident(ctx))
    ep.call("search_logs", {"service": ctx.service, "query": f"incident {ctx.incident} OR level:error", "since": ctx.ts()},
            {"entries": _log_lines(ctx, ctx.rng.randint(1, 4)), "next_page_token": None})
    ep.note(f"Summary of {ctx.incident} posted.")


def clean_scale(ep: Episode, ctx: Ctx) -> None:
    ep.call("query_metrics", {"service": ctx.service, "metric": "cpu_util", "window": "15m"}, _metrics(ctx, "cpu_util", "15m", hot=True))
    replicas = ctx.rng.randint(8, 24)
    job = f"job-{ctx.rng.randint(100_000, 999_999)}"
    ep.call("scale_service", {"service": ctx.service, "replicas": replicas, "namespace": "prod"},
            {"job_id": job, "accepted": True, "replicas": replicas})
    ep.call("get_job_status", {"job_id": job}, {"job_id": job, "state": "succeeded", "finished_at": ctx.ts()})
    ep.note(f"Scaled {ctx.service} to {replicas} replicas.")


CLEAN = [clean_triage, clean_deploy_check, clean_incident, clean_scale]


# -- faults -----------------------------------------------------------------------------------------------

_LOG_PARAPHRASES = [
    "{thing} timeout", "timeout connecting to {thing}", "{thing} connection timed out", "level:error AND {thing} timeout",
    "{thing} timed out", "errors talking to {thing}", "failed to reach {thing}", "{thing} deadline exceeded",
    "connection to {thing} timing out", "\"{thing}\" AND (timeout OR timed out)",
]


def fault_log_loop(ep: Episode, ctx: Ctx) -> None:
    thing = ctx.rng.choice(["postgres", "redis", "pricing-engine", "auth-service", "kafka"])
    entries = _log_lines(ctx, ctx.rng.randint(2, 5), f"dial tcp {thing}:5432: i/o timeout")
    calls = [ep.call("search_logs", {"service": ctx.service, "query": q.format(thing=thing), "max_results": 50},
                     {"entries": entries, "next_page_token": None, "scanned_bytes": ctx.rng.randint(10**6, 10**8)})
             for q in ctx.rng.sample(_LOG_PARAPHRASES, ctx.rng.randint(3, 5))]
    ep.label("loop", "oncall/paraphrased_log_search_loop", calls, "search_logs",
             f"{len(calls)} reworded log searches for {thing} timeouts, identical log entries each time")
    ep.note(f"Logs point to {thing} timeouts but I couldn't find the cause.")


def fault_metric_deploy_cycle(ep: Episode, ctx: Ctx) -> None:
    metrics = _metrics(ctx, "error_rate", "15m", hot=True)
    dep = _deployment(ctx)
    calls = []
    for _ in range(ctx.rng.randint(3, 4)):
        calls.append(ep.call("query_metrics", {"service": ctx.service, "metric": "error_rate", "window": "15m"}, metrics))
        calls.append(ep.call("get_deployment", {"service": ctx.service}, dep))
    ep.label("loop", "oncall/metrics_deployment_cycle", calls, "get_deployment+query_metrics",
             "alternates query_metrics and get_deployment with the same arguments and unchanged results")
    ep.note("Error rate is high and started around the last deploy.")


def fault_duplicate_page(ep: Episode, ctx: Ctx) -> None:
    ep.call("list_alerts", {"team": ctx.team, "state": "firing", "severity": "sev1"},
            {"alerts": [{"alert": f"{ctx.service} HighErrorRate", "state": "firing", "severity": "sev1", "since": ctx.ts()}], "count": 1})
    args = {"team": ctx.team, "urgency": "high",
            "message": ctx.rng.choice([f"{ctx.service} error rate above SLO in {ctx.region}, need a human",
                                       f"Sev1: {ctx.service} failing requests, please join the bridge",
                                       f"{ctx.service} is down in {ctx.region}"])}
    first = ep.call("page_oncall", args, {"page_id": f"PG{ctx.token(6).upper()}", "status": "triggered", "notified": [ctx.rng.choice(cat.FIRST_NAMES)]})
    second = ep.call("page_oncall", dict(args), {"page_id": f"PG{ctx.token(6).upper()}", "status": "triggered", "notified": [ctx.rng.choice(cat.FIRST_NAMES)]})
    ep.label("duplicate_call", "oncall/double_page", [first, second], "page_oncall",
             "page_oncall sent twice with identical arguments; the engineer is paged twice")
    ep.note(f"Paged {ctx.team} on-call.")


_REPLICA_WORDS = ["twelve", "12 pods", "double", "+4", "10-12", "max"]
_INT_ERRORS = [
    "Invalid JSON input for tool scale_service: 1 validation error for scale_service_args\nreplicas\n  Input should be "
    "a valid integer, unable to parse string as an integer [type=int_parsing, input_value='{v}', input_type=str]",
    "ModelBehaviorError: Invalid JSON input for tool scale_service: replicas must be an integer, got '{v}'",
]


def fault_scale_type(ep: Episode, ctx: Ctx) -> None:
    ep.call("query_metrics", {"service": ctx.service, "metric": "cpu_util", "window": "15m"}, _metrics(ctx, "cpu_util", "15m", hot=True))
    word = ctx.rng.choice(_REPLICA_WORDS)
    msg = ctx.rng.choice(_INT_ERRORS).format(v=word)
    bad = ep.call("scale_service", {"service": ctx.service, "replicas": word, "namespace": "prod"},
                  f"An error occurred while running the tool. Please try again. Error: {msg}", error=msg)
    replicas = ctx.rng.randint(8, 24)
    job = f"job-{ctx.rng.randint(100_000, 999_999)}"
    ep.call("scale_service", {"service": ctx.service, "replicas": replicas, "namespace": "prod"}, {"job_id": job, "accepted": True, "replicas": replicas})
    ep.label("argument_error", "oncall/scale_replicas_not_integer", [bad], "scale_service",
             f"replicas={word!r} where an integer is required; tool raised, agent retried with a number")
    ep.note(f"Scaled {ctx.service} to {replicas} replicas.")


def fault_alerts_validation(ep: Episode, ctx: Ctx) -> None:
    bad = ctx.team
    c = ep.call("list_alerts", {"team": bad, "state": "firing"}, ctx.rng.choice([
        {"error": f"invalid value '{bad}' for team: must be one of the team slugs, e.g. 'team-{bad}'"},
        {"error": "unsupported team name", "hint": f"use the slug 'team-{bad}'"},
        {"alerts": [], "count": 0, "warnings": [f"team '{bad}' must be one of the configured routing keys"]},
    ]))
    ep.call("query_metrics", {"service": ctx.service, "metric": "error_rate", "window": "1h"}, _metrics(ctx, "error_rate", "1h"))
    ep.label("argument_error", "oncall/alerts_team_slug_rejected", [c], "list_alerts",
             "list_alerts rejected the team name in its result text (expects a team slug); the agent moved on without alerts")
    ep.note("No alerts came back for the team.")


_HTTP_BODIES = [
    {"status": 503, "error": "Service Unavailable", "message": "upstream prometheus-query timed out after 30s"},
    {"status": 502, "error": "Bad Gateway", "path": "/api/v1/query_range"},
    {"status": 500, "error": "Internal Server Error", "message": "thanos-query: rpc error: code = Unavailable"},
    {"status": 504, "title": "Gateway Timeout", "detail": "query exceeded 30s"},
]


def fault_metrics_http(ep: Episode, ctx: Ctx) -> None:
    metric = ctx.rng.choice(["error_rate", "p99_latency_ms"])
    c = ep.call("query_metrics", {"service": ctx.service, "metric": metric, "window": "1h", "region": ctx.region},
                ctx.rng.choice(_HTTP_BODIES))
    ep.call("get_deployment", {"service": ctx.service}, _deployment(ctx))
    ep.label("silent_failure", "oncall/metrics_backend_http_error_body", [c], "query_metrics",
             "query_metrics returned an HTTP error body with no error status; the agent treated it as data")
    ep.note(f"{metric} on {ctx.service} looks fine; nothing to roll back.")


def fault_ghost_incident(ep: Episode, ctx: Ctx) -> None:
    inc = f"INC-{ctx.rng.randint(10_000, 99_999)}"
    read = ep.call("get_incident", {"incident_id": inc}, _incident_missing(ctx, inc))
    write = ep.call("page_oncall", {"team": ctx.team, "urgency": ctx.rng.choice(["high", "low"]),
                                    "message": f"Please take over {inc}", "incident_id": inc},
                    {"page_id": f"PG{ctx.token(6).upper()}", "status": "triggered"})
    ep.label("silent_failure", "oncall/page_for_missing_incident", [read, write], "get_incident",
             f"get_incident found no {inc}; the agent paged the team about that incident id anyway")
    ep.note(f"Paged {ctx.team} about {inc}.")


_ROLLBACK_ERRORS = [
    "PermissionError: rollback of prod requires an approved change ticket",
    "RollbackBlocked: {svc} has a schema migration after {dep}; automatic rollback disabled",
    "ApiException: (409) Conflict: another rollout of {svc} is in progress",
]


def fault_rollback_unrecovered(ep: Episode, ctx: Ctx) -> None:
    dep = _deployment(ctx)
    ep.call("get_deployment", {"service": ctx.service}, dep)
    msg = ctx.rng.choice(_ROLLBACK_ERRORS).format(svc=ctx.service, dep=dep["previous"])
    c = ep.call("rollback_deployment", {"service": ctx.service, "to_deploy_id": dep["previous"],
                                        "reason": ctx.rng.choice(["error rate spike after deploy", "bad release", "p99 regression"])},
                f"An error occurred while running the tool. Please try again. Error: {msg}", error=msg)
    ep.label("unrecovered_error", "oncall/rollback_failed_unrecovered", [c], "rollback_deployment",
             "rollback_deployment failed; the run ended with the service still degraded and nobody paged")
    ep.ended_by_error = True
    ep.note(ctx.rng.choice(["I couldn't roll back.", "Rollback failed, stopping here.", "The rollback did not go through."]))


OVERFLOW_MODEL = "gpt-4.1-mini"


def fault_context_overflow(ep: Episode, ctx: Ctx) -> None:
    ep.model = OVERFLOW_MODEL
    ep.call("search_logs", {"service": ctx.service, "query": "*", "max_results": 200},
            {"entries": _log_lines(ctx, ctx.rng.randint(60, 90)), "next_page_token": f"pt_{ctx.token(12)}"})
    tokens = ctx.rng.randint(1_048_600, 1_300_000)
    turn = ep.model_error(
        "Error code: 400 - {'error': {'message': \"This model's maximum context length is 1047576 tokens. However, your "
        f"messages resulted in {tokens} tokens. Please reduce the length of the messages.\", 'type': "
        "'invalid_request_error', 'param': 'messages', 'code': 'context_length_exceeded'}}")
    ep.label("unrecovered_error", "oncall/model_context_overflow", [turn], None,
             f"model {OVERFLOW_MODEL} rejected the request (context_length_exceeded) after an unbounded log search; run aborted")


FAULTS = {
    "oncall/paraphrased_log_search_loop": ("loop", "search_logs", fault_log_loop),
    "oncall/metrics_deployment_cycle": ("loop", "get_deployment+query_metrics", fault_metric_deploy_cycle),
    "oncall/double_page": ("duplicate_call", "page_oncall", fault_duplicate_page),
    "oncall/scale_replicas_not_integer": ("argument_error", "scale_service", fault_scale_type),
    "oncall/alerts_team_slug_rejected": ("argument_error", "list_alerts", fault_alerts_validation),
    "oncall/metrics_backend_http_error_body": ("silent_failure", "query_metrics", fault_metrics_http),
    "oncall/page_for_missing_incident": ("silent_failure", "get_incident", fault_ghost_incident),
    "oncall/rollback_failed_unrecovered": ("unrecovered_error", "rollback_deployment", fault_rollback_unrecovered),
    "oncall/model_context_overflow": ("unrecovered_error", None, fault_context_overflow),
}
TERMINAL = {"oncall/rollback_failed_unrecovered", "oncall/model_context_overflow"}


# -- look-alikes ------------------------------------------------------------------------------------------


def look_pagination(ep: Episode, ctx: Ctx) -> None:
    pages = ctx.rng.randint(2, 4)
    token = None
    calls = []
    for page in range(pages):
        args: dict[str, Any] = {"service": ctx.service, "query": "level:error", "max_results": 25}
        if token:
            args["page_token"] = token
        token = None if page == pages - 1 else f"pt_{ctx.token(12)}"
        calls.append(ep.call("search_logs", args, {"entries": _log_lines(ctx, ctx.rng.randint(3, 8)), "next_page_token": token}))
    ep.label("lookalike", "pagination", calls, "search_logs", f"{pages} pages of one log query, page_token advancing")
    ep.note("Reviewed all matching error logs.")


def look_polling(ep: Episode, ctx: Ctx) -> None:
    dep = _deployment(ctx)
    job = f"job-{ctx.rng.randint(100_000, 999_999)}"
    ep.call("rollback_deployment", {"service": ctx.service, "to_deploy_id": dep["previous"], "reason": "error spike after deploy"},
            {"job_id": job, "accepted": True})
    states = ["pending", "running", "running", "succeeded"][4 - ctx.rng.randint(2, 4):]
    calls = [ep.call("get_job_status", {"job_id": job}, {"job_id": job, "state": s, "progress": f"{min(100, 25 * (i + 1)) if s != 'succeeded' else 100}%"})
             for i, s in enumerate(states)]
    ep.label("lookalike", "polling", calls, "get_job_status", "rollback job polled until it succeeded")
    ep.note(f"Rolled {ctx.service} back to {dep['previous']}.")


def look_empty_search(ep: Episode, ctx: Ctx) -> None:
    c = ep.call("list_alerts", {"team": ctx.team, "state": "firing"}, ctx.rng.choice([{"alerts": [], "count": 0}, []]))
    ep.label("lookalike", "empty_search", [c], "list_alerts", "no firing alerts; the agent reports all clear")
    ep.note(f"No alerts are firing for {ctx.team}.")


def look_handled_not_found(ep: Episode, ctx: Ctx) -> None:
    inc = f"INC-{ctx.rng.randint(10_000, 99_999)}"
    c = ep.call("get_incident", {"incident_id": inc}, _incident_missing(ctx, inc))
    ep.label("lookalike", "handled_not_found", [c], "get_incident", "unknown incident; the agent asks for the right id")
    ep.note(ctx.rng.choice([f"{inc} doesn't exist - can you paste the incident link?",
                            f"I can't find {inc}. Was it merged into another incident?"]))


def look_transient_retry(ep: Episode, ctx: Ctx) -> None:
    args = {"service": ctx.service, "metric": "p99_latency_ms", "window": "1h"}
    msg = ctx.rng.choice(["HTTPError: 429 Too Many Requests (prometheus rate limit)", "ReadTimeout: metrics-api did not answer in 10s",
                          "HTTPError: 503 Service Unavailable"])
    first = ep.call("query_metrics", args, f"An error occurred while running the tool. Please try again. Error: {msg}", error=msg)
    second = ep.call("query_metrics", dict(args), _metrics(ctx, "p99_latency_ms", "1h"))
    ep.label("lookalike", "transient_retry", [first, second], "query_metrics", "transient error, identical retry succeeded")
    ep.note(f"p99 latency of {ctx.service} is within SLO.")


def look_error_article(ep: Episode, ctx: Ctx) -> None:
    c = ep.call("get_runbook", {"topic": ctx.rng.choice(["http 500 spike", "5xx errors", "502 from load balancer"])},
                f"# Runbook: {ctx.service} returning HTTP 500/503\n\n1. Check `error_rate` and recent deploys.\n"
                "2. If logs show `Traceback (most recent call last)` or `ERROR pool exhausted`, roll back.\n"
                "3. 503 Service Unavailable from the LB means no healthy targets: check readiness probes.\n"
                "Escalate to the owning team if errors persist > 15 min.")
    ep.label("lookalike", "error_article", [c], "get_runbook", "runbook that discusses 500/503 errors; the call worked")
    ep.note("Following the 5xx runbook.")


def look_similar_reads(ep: Episode, ctx: Ctx) -> None:
    a, b = f"dep-{ctx.hexid()}", f"dep-{ctx.hexid()}"
    calls = ep.parallel([("get_deployment", {"service": ctx.service, "deploy_id": a}, _deployment(ctx, a)),
                         ("get_deployment", {"service": ctx.service, "deploy_id": b}, _deployment(ctx, b))])
    ep.label("lookalike", "similar_reads", calls, "get_deployment", "two different revisions read to diff them")
    ep.note(f"Compared {a} with {b}.")


LOOKALIKES = {
    "pagination": look_pagination, "polling": look_polling, "empty_search": look_empty_search,
    "handled_not_found": look_handled_not_found, "transient_retry": look_transient_retry,
    "error_article": look_error_article, "similar_reads": look_similar_reads,
}
TERMINAL_LOOKALIKES = {"handled_not_found"}

USER_ASKS = [
    "{service} alerts are going off in {region}, can you take a look?",
    "Is the latest deploy of {service} the reason for the error spike?",
    "Summarise {incident} for the handover please",
    "CPU on {service} is pegged, scale it if needed",
    "pager went off for {team} - what's going on?",
    "Can you check {service} health before the release freeze?",
]


def user_message(ctx: Ctx) -> str:
    return ctx.rng.choice(USER_ASKS).format(service=ctx.service, region=ctx.region, incident=ctx.incident, team=ctx.team)


def render_output(tool: str, result: Any) -> str:
    """The text the SDK records as a function span's output."""
    if isinstance(result, str):
        return result
    if tool in JSON_TOOLS:
        return json.dumps(result)
    return str(result)
