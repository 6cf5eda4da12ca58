"""Secret and personal-data redaction (issue 5 point 5): every category, look-alikes, config, idempotence."""

from __future__ import annotations

import json
import time

import pytest

from tracemine.redact import DEFAULT_RULES, Redactor, placeholder, redact, redact_value

# Realistic-looking but fake values (documentation examples and made-up keys).
SECRETS = {
    "openai": "sk-proj-AbCdEf1234567890GhIjKlMnOpQrStUvWxYz_0123456789",
    "openai_legacy": "sk-9fJ2kL4mN6pQ8rS0tU2vW4xY6zA8bC0dE2fG4hI6jK8lM0nP",
    "anthropic": "sk-ant-api03-AbCdEf1234567890GhIjKlMnOpQrStUvWx-yz0123456789AA",
    "github_pat": "ghp_AbCdEf1234567890GhIjKlMnOpQrStUvWx12",
    "github_oauth": "gho_16C7e42F292c6912E7710c838347Ae178B4a",
    "github_fine": "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ",
    "slack": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "slack_user": "xoxp-123456789012-123456789012-123456789012-abcdef0123456789abcdef0123456789",
    "google": "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "stripe": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "stripe_restricted": "rk_live_51H8abcdefghijklmnop0123",
    "aws_id": "AKIAIOSFODNN7EXAMPLE",
    "aws_session_id": "ASIAY34FZKBOKMUTVV7A",
    "aws_secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "bearer": "ya29.a0AfH6SMBx7Yq-3kLmN0pQ_rStUvWxYz12",
    "basic": "dXNlcjpjb3JyZWN0LWhvcnNl",
    "url_password": "s3cr3t-P4ss",
    "email": "jane.doe+agents@example-corp.co.uk",
    "phone_uk": "+44 20 7946 0958",
    "phone_us": "(415) 555-0132",
    "card": "4111 1111 1111 1111",
    "card_compact": "5555555555554444",
    "iban": "DE89 3704 0044 0532 0130 00",
    "ssn": "123-45-6789",
    "password": "hunter2-Correct",
}
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi1Z8F8Wb0nQ3cXt1yQw0Yf1kK2\n"
    "l3n4o5p6q7r8s9t0u1v2w3x4y5z6A7B8C9D0E1F2G3H4I5J6K7L8M9N0O1P2Q3R4\n"
    "-----END RSA PRIVATE KEY-----"
)


@pytest.fixture
def r() -> Redactor:
    return Redactor()


# ------------------------------------------------------------------------------------------ positives


@pytest.mark.parametrize(
    ("text", "secret", "label"),
    [
        (f"using key {SECRETS['openai']} for the call", SECRETS["openai"], "api_key"),
        (f"OPENAI_API_KEY={SECRETS['openai_legacy']}", SECRETS["openai_legacy"], "api_key"),
        (f"x-api-key: {SECRETS['anthropic']}", SECRETS["anthropic"], "api_key"),
        (f"git clone https://{SECRETS['github_pat']}@github.com/o/r", SECRETS["github_pat"], "api_key"),
        (f"token {SECRETS['github_oauth']}", SECRETS["github_oauth"], "api_key"),
        (f"GH={SECRETS['github_fine']}", SECRETS["github_fine"], "api_key"),
        (f"slack client init {SECRETS['slack']}", SECRETS["slack"], "api_key"),
        (f"slack {SECRETS['slack_user']}", SECRETS["slack_user"], "api_key"),
        (
            f"https://maps.googleapis.com/maps/api/geocode/json?key={SECRETS['google']}",
            SECRETS["google"],
            "api_key",
        ),
        (f"stripe.api_key = '{SECRETS['stripe']}'", SECRETS["stripe"], "api_key"),
        (f"restricted {SECRETS['stripe_restricted']}", SECRETS["stripe_restricted"], "api_key"),
        (f"Authorization: Bearer {SECRETS['bearer']}", SECRETS["bearer"], "credentials"),
        (f'{{"headers": {{"Authorization": "Basic {SECRETS["basic"]}"}}}}', SECRETS["basic"], "credentials"),
        (f"curl -H 'Authorization: Bearer {SECRETS['bearer']}'", SECRETS["bearer"], "credentials"),
        (f"sent bearer {SECRETS['bearer']} upstream", SECRETS["bearer"], "bearer_token"),
        (f"aws_access_key_id = {SECRETS['aws_id']}", SECRETS["aws_id"], "aws_access_key"),
        (f"creds {SECRETS['aws_session_id']}", SECRETS["aws_session_id"], "aws_access_key"),
        (f"{SECRETS['aws_id']} {SECRETS['aws_secret']}", SECRETS["aws_secret"], "aws_secret_key"),
        (f"cookie session={SECRETS['jwt']}; Path=/", SECRETS["jwt"], "jwt"),
        (
            f"connect postgres://admin:{SECRETS['url_password']}@db.internal:5432/app",
            SECRETS["url_password"],
            "password",
        ),
        (f"Contact {SECRETS['email']} for access", SECRETS["email"], "email"),
        (f"call me on {SECRETS['phone_uk']} tomorrow", SECRETS["phone_uk"], "phone"),
        (f"office {SECRETS['phone_us']}", SECRETS["phone_us"], "phone"),
        (f"card {SECRETS['card']} exp 12/27", SECRETS["card"], "card"),
        (f'"pan": "{SECRETS["card_compact"]}"', SECRETS["card_compact"], "card"),
        (f"IBAN: {SECRETS['iban']}", SECRETS["iban"], "iban"),
        (f"SSN {SECRETS['ssn']} on file", SECRETS["ssn"], "ssn"),
        (f"password: {SECRETS['password']}", SECRETS["password"], "password"),
    ],
)
def test_each_category_is_redacted(r: Redactor, text: str, secret: str, label: str) -> None:
    out = r.redact(text)
    assert secret not in out
    assert placeholder(label) in out


@pytest.mark.parametrize(
    "text",
    [
        "+1 (415) 555-0132",
        "+1-415-555-0132",
        "415.555.0132",
        "+33 1 23 45 67 89",
        "+49 30 12345678",
        "+91 98765 43210",
        "+7 (495) 123-45-67",
        "+14155550132",
        "020 7946 0958",
        "01 23 45 67 89",
        "030 12345678",
    ],
)
def test_phone_formats(r: Redactor, text: str) -> None:
    assert r.redact(f"phone: {text}.") == f"phone: {placeholder('phone')}."


@pytest.mark.parametrize(
    "card",
    [
        "4111111111111111",
        "4111-1111-1111-1111",
        "378282246310005",
        "3782 822463 10005",
        "6011 1111 1111 1117",
    ],
)
def test_card_formats(r: Redactor, card: str) -> None:
    assert r.redact(f"paid with {card}") == f"paid with {placeholder('card')}"


@pytest.mark.parametrize(
    "iban", ["GB82WEST12345698765432", "GB82 WEST 1234 5698 7654 32", "FR1420041010050500013M02606"]
)
def test_iban_formats(r: Redactor, iban: str) -> None:
    assert r.redact(f"iban {iban} ok") == f"iban {placeholder('iban')} ok"


def test_iban_followed_by_capitalised_word_keeps_the_word(r: Redactor) -> None:
    assert r.redact("to DE89 3704 0044 0532 0130 00 IS fine") == f"to {placeholder('iban')} IS fine"


def test_private_key_block_and_truncated_block(r: Redactor) -> None:
    out = r.redact(f"config:\n{PEM}\nafter")
    assert out == f"config:\n{placeholder('private_key')}\nafter"
    # JSON-escaped newlines
    assert r.redact(json.dumps({"k": PEM})) == json.dumps({"k": placeholder("private_key")})
    # a block cut off by truncation is redacted to the end
    cut = r.redact("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9u...")
    assert cut == placeholder("private_key")


def test_url_password_keeps_scheme_user_host(r: Redactor) -> None:
    out = r.redact("redis://default:Zx9pQ2vL7tR@cache.example.com:6379/0 and https://bob:pw1234@h.io/x")
    assert out == (
        "redis://default:[REDACTED:password]@cache.example.com:6379/0 and https://bob:[REDACTED:password]@h.io/x"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"api_key": "abc123def456"}', '{"api_key": "[REDACTED:api_key]"}'),
        ('{"apiKey":"9f8e7d6c5b4a"}', '{"apiKey":"[REDACTED:api_key]"}'),
        ("GET /v1/items?api_key=abc123&page=2", "GET /v1/items?api_key=[REDACTED:api_key]&page=2"),
        ("?access_token=ya29.a0AfH6SMB&state=x", "?access_token=[REDACTED:token]&state=x"),
        ("export DB_PASSWORD='correct horse battery'", "export DB_PASSWORD='[REDACTED:password]'"),
        ("GITHUB_TOKEN=abcdef123456", "GITHUB_TOKEN=[REDACTED:token]"),
        ("client_secret: Xy7-abc_123", "client_secret: [REDACTED:secret]"),
        ('{"password": "correct horse"}', '{"password": "[REDACTED:password]"}'),
        ("{'secret': 'p@ss w0rd'}", "{'secret': '[REDACTED:secret]'}"),
        # a JSON document stored as a string inside JSON (escaped quotes)
        (
            json.dumps({"args": json.dumps({"password": "hunter2", "city": "Paris"})}),
            json.dumps({"args": json.dumps({"password": "[REDACTED:password]", "city": "Paris"})}),
        ),
    ],
)
def test_key_value_secrets(r: Redactor, text: str, expected: str) -> None:
    assert r.redact(text) == expected


# ------------------------------------------------------------------------------------------ negatives


@pytest.mark.parametrize(
    "text",
    [
        "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
        "request 550e8400-e29b-41d4-a716-446655440000 failed",
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
        "at 2024-01-15T10:30:00.123456+05:30 and 2024-01-15 10:30:00Z",
        "on 06.12.2024 14:30 and 01/02/2024 and 15-01-2024",
        "version 1.36.0, v10.15.7, python 3.11.9, build 2024.01.15.1234",
        "price $1,234.56, €1.234,56, 1 234 567 890 units, total 12345678.90",
        "order ORD-48213 and INV-2024-000123, ticket #123456",
        "card-like 4111 1111 1111 1112 and 1234567812345678 fail Luhn",
        "timestamps 1712345678 1712345678901 1712345678901234567",
        "ip 192.168.1.100 and 10.0.0.1:8080",
        "the token was invalid; max tokens exceeded; token limit: 4096",
        '{"max_tokens": 256, "input_tokens": 1200, "token_count": 7, "tokenizer": "cl100k"}',
        "secret: true, password: null, Reset your password: click the link",
        "the bearer of bad news; basic auth is disabled",
        "sk-learn and sk-some-long-kebab-case-identifier",
        "npm install left-pad@1.3.0 and @scope/pkg",
        "UTC+10 14:00 and +3.14159 and 2+2=4",
        "session_id=sess_01 user_id=42 trace_id=abc",
        "call_id 123-456-7890 and 000-12-3456 and 987-65-4321",
        "GB82WEST12345698765433 fails the IBAN checksum",
        "PWD=/home/bob/project",
        # 40 characters of the AWS alphabet, but a path: below detect-secrets' entropy limit
        "a 40-char path api/v1/Users/12345/Orders/67890/Items/1x without context",
    ],
)
def test_look_alikes_are_kept(r: Redactor, text: str) -> None:
    assert r.redact(text) == text
    assert r.stats == {}


# --------------------------------------------------------------------------------------- structures


def _all_secrets_document() -> dict:
    return {
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "attributes": {
            "http.request.header.authorization": f"Bearer {SECRETS['bearer']}",
            "llm.input": f"My key is {SECRETS['openai']} and my email {SECRETS['email']}",
            "env": {"OPENAI_API_KEY": SECRETS["openai_legacy"], "HOME": "/home/jane"},
        },
        "tool_arguments": json.dumps({"to": SECRETS["email"], "password": SECRETS["password"]}),
        "events": [
            {"name": "log", "message": f"anthropic {SECRETS['anthropic']} github {SECRETS['github_pat']}"},
            {
                "name": "log",
                "message": f"{SECRETS['github_oauth']} {SECRETS['github_fine']} {SECRETS['slack']}",
            },
            {"name": "log", "message": f"{SECRETS['slack_user']} {SECRETS['google']} {SECRETS['stripe']}"},
            {"name": "log", "message": f"{SECRETS['stripe_restricted']} {SECRETS['aws_session_id']}"},
            {"name": "aws", "message": f"{SECRETS['aws_id']} / {SECRETS['aws_secret']}"},
            {"name": "auth", "message": f"Authorization: Basic {SECRETS['basic']}"},
            ("tuple", f"jwt={SECRETS['jwt']}"),
        ],
        "output": [
            f"DSN postgres://app:{SECRETS['url_password']}@db:5432/x",
            f"Call {SECRETS['phone_uk']} or {SECRETS['phone_us']}",
            f"Card {SECRETS['card']} / {SECRETS['card_compact']}; IBAN {SECRETS['iban']}; SSN {SECRETS['ssn']}",
            PEM,
        ],
        "card_number": 4111111111111111,
        "credentials": {"user": "jane", "pass": "anything at all"},
        "token": ["opaque", "values"],
        "accessToken": "short",
    }


def test_dumped_document_contains_no_secret_after_redact_value(r: Redactor) -> None:
    doc = _all_secrets_document()
    cleaned = r.redact_value(doc)
    dumped = json.dumps(cleaned)
    for name, secret in SECRETS.items():
        assert secret not in dumped, name
        assert json.dumps(secret)[1:-1] not in dumped, name
    assert "MIIEpAIBAAKCAQEA" not in dumped
    assert "4111111111111111" not in dumped
    assert "anything at all" not in dumped and "opaque" not in dumped and "short" not in dumped
    # ordinary data is kept
    assert cleaned["trace_id"] == doc["trace_id"]
    assert cleaned["attributes"]["env"]["HOME"] == "/home/jane"
    assert isinstance(cleaned["events"][-1], tuple)
    # the input is not modified
    assert doc["attributes"]["env"]["OPENAI_API_KEY"] == SECRETS["openai_legacy"]
    # and redacting the dumped JSON as text is equally clean
    text = r.redact(json.dumps(doc))
    for name, secret in SECRETS.items():
        assert secret not in text, name


def test_secret_named_keys_are_replaced_whole(r: Redactor) -> None:
    out = r.redact_value(
        {
            "password": {"nested": "whatever"},
            "api_key": 12345,
            "Authorization": "anything",
            "max_tokens": 256,
            "has_password": True,
            "token": None,
            "items": [{"client_secret": "plain words"}, {"name": "ok"}],
        }
    )
    assert out == {
        "password": "[REDACTED:password]",
        "api_key": "[REDACTED:api_key]",
        "Authorization": "[REDACTED:token]",
        "max_tokens": 256,
        "has_password": True,
        "token": None,
        "items": [{"client_secret": "[REDACTED:secret]"}, {"name": "ok"}],
    }
    assert r.stats["secret_key_name"] == 4


def test_redact_value_odd_inputs(r: Redactor) -> None:
    assert r.redact_value(None) is None
    assert r.redact_value(3.5) == 3.5
    assert r.redact_value(42) == 42
    assert r.redact_value(b"mail bob@example.com") == "mail [REDACTED:email]"
    assert r.redact_value({"a@b.com": 1}) == {"[REDACTED:email]": 1}
    cyclic: list = [1]
    cyclic.append(cyclic)
    assert r.redact_value(cyclic) == [1, "[REDACTED:cycle]"]
    deep: list = []
    node = deep
    for _ in range(1000):
        node.append([])
        node = node[0]
    r.redact_value(deep)  # does not raise
    assert r.redact_value({1, "x@y.org"}) == {1, "[REDACTED:email]"}

    class Obj:
        def __str__(self) -> str:
            return "obj with bob@example.com"

    assert r.redact_value(Obj()) == "obj with [REDACTED:email]"


def test_redact_odd_inputs(r: Redactor) -> None:
    assert r.redact(None) == ""
    assert r.redact("") == ""
    assert r.redact(b"\xff\xfe bob@example.com") == "\ufffd\ufffd [REDACTED:email]"
    assert r.redact(12345) == "12345"
    assert r.redact("\x00\ud800 odd") == "\x00\ud800 odd"


# ------------------------------------------------------------------------------------------ behaviour


def test_idempotent(r: Redactor) -> None:
    text = json.dumps(_all_secrets_document()) + "\n" + r.redact(json.dumps(_all_secrets_document()))
    once = r.redact(text)
    r.reset_stats()
    assert r.redact(once) == once
    assert r.stats == {}
    value_once = r.redact_value(_all_secrets_document())
    assert r.redact_value(value_once) == value_once
    keep = Redactor(keep_email_domain=True)
    once = keep.redact("to bob@example.com")
    assert once == "to [REDACTED:email]@example.com"
    assert keep.redact(once) == once


def test_stats_count_per_rule(r: Redactor) -> None:
    r.redact("a@b.com c@d.org 4111111111111111")
    assert r.stats == {"email": 2, "card": 1}
    r.reset_stats()
    assert r.stats == {}


def test_disable_rule_and_label(r: Redactor) -> None:
    text = f"mail a@b.com call {SECRETS['phone_uk']} key {SECRETS['openai']} gh {SECRETS['github_pat']}"
    no_phone = Redactor(disabled=["phone"])
    assert SECRETS["phone_uk"] in no_phone.redact(text)
    assert "a@b.com" not in no_phone.redact(text)
    # a label switches off every rule that writes it
    no_keys = Redactor(disabled=["api_key"])
    out = no_keys.redact(text)
    assert SECRETS["openai"] in out and SECRETS["github_pat"] in out
    assert SECRETS["phone_uk"] not in out and "a@b.com" not in out
    via_rules = Redactor(rules={"email": False, "card": {"label": "pan"}})
    assert via_rules.redact("a@b.com 4111111111111111") == "a@b.com [REDACTED:pan]"


def test_extra_patterns() -> None:
    r = Redactor(
        extra_patterns=[
            {"name": "employee_id", "pattern": r"\bEMP-\d{6}\b"},
            {"name": "internal_host", "pattern": r"host=(?P<secret>[a-z0-9.-]+\.corp)", "ignore_case": True},
        ]
    )
    out = r.redact("by EMP-123456 on host=build01.corp at EMP-12")
    assert out == "by [REDACTED:employee_id] on host=[REDACTED:internal_host] at EMP-12"
    assert r.redact(out) == out
    assert r.stats == {"employee_id": 1, "internal_host": 1}


def test_from_settings() -> None:
    r = Redactor.from_settings(
        {
            "redaction": {
                "disabled": ["ssn"],
                "keep_email_domain": True,
                "extra_patterns": [{"name": "ticket", "pattern": r"TCK\d+"}],
            }
        }
    )
    assert r.redact("x@y.com 123-45-6789 TCK42") == "[REDACTED:email]@y.com 123-45-6789 [REDACTED:ticket]"
    assert Redactor.from_settings(None).rule_names == DEFAULT_RULES


@pytest.mark.parametrize(
    "kwargs",
    [
        {"disabled": ["no_such_rule"]},
        {"rules": {"email": "yes"}},
        {"rules": {"email": {"enabled": False, "colour": "red"}}},
        {"extra_patterns": [{"name": "bad", "pattern": "("}]},
        {"extra_patterns": [{"name": "empty", "pattern": "x*"}]},
        {"extra_patterns": [{"pattern": "x"}]},
        {"extra_patterns": [{"name": "email", "pattern": "x"}]},
        {"extra_patterns": [{"name": "bad label!", "pattern": "x"}]},
    ],
)
def test_bad_configuration_raises_early(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Redactor(**kwargs)


def test_unknown_settings_key() -> None:
    with pytest.raises(ValueError, match="unknown redaction settings"):
        Redactor.from_settings({"disable": ["phone"]})


def test_module_level_helpers() -> None:
    assert redact("a@b.com") == "[REDACTED:email]"
    assert redact_value({"password": "x"}) == {"password": "[REDACTED:password]"}


# -------------------------------------------------------------------------------------- performance


def _typical_trace_text(n: int = 1500) -> str:
    lines = []
    for i in range(n):
        span = {
            "trace_id": f"{i:032x}",
            "span_id": f"{i * 7919:016x}",
            "name": "tool.call",
            "start_time_unix_nano": 1712345678901234567 + i,
            "tool_name": "lookup_weather",
            "tool_arguments": json.dumps({"city": "Paris", "date": "2024-05-01", "max_tokens": 256}),
            "output": "The weather in Paris on 2024-05-01 is 21.5 C; request 550e8400-e29b-41d4-a716-446655440000 "
            "took 1234 ms (version 1.36.0). " * 2,
            "attributes": {
                "gen_ai.usage.input_tokens": 512,
                "http.url": "https://api.example.com/v1/items?page=2",
            },
        }
        if i % 100 == 0:
            span["input"] = f"mail {SECRETS['email']} key {SECRETS['openai']} call {SECRETS['phone_uk']}"
        lines.append(json.dumps(span))
    return "\n".join(lines)


def test_huge_and_adversarial_inputs(r: Redactor) -> None:
    """Throughput is a benchmark figure (benchmarks/README.md), not a test; what is tested is that a large
    typical text is handled and that adversarial inputs stay linear (no catastrophic backtracking: each
    ~1 MB blob takes well under a second on an idle machine, the bound is generous for a loaded one)."""
    text = _typical_trace_text()
    out = r.redact(text)
    assert SECRETS["openai"] not in out and SECRETS["email"] not in out
    for blob in (
        "4111 " * 200_000,
        "a@" * 500_000,
        "+1 " * 330_000,
        'password: "' * 90_000,
        "eyJ." * 250_000,
    ):
        start = time.perf_counter()
        r.redact(blob)
        assert time.perf_counter() - start < 10.0
    # a secret at the end of a long text is still found
    long_text = "x " * 2_000_000 + SECRETS["aws_id"]
    assert r.redact(long_text).endswith(placeholder("aws_access_key"))
