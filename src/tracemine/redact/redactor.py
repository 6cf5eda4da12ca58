"""Secret and personal-data redaction, applied to every text before it reaches an LLM prompt or a report.

A :class:`Redactor` runs an ordered list of precompiled rules over text and replaces each hit with a
typed placeholder such as ``[REDACTED:email]`` or ``[REDACTED:api_key]``::

    r = Redactor.from_settings({"disabled": ["phone"], "keep_email_domain": True})
    r.redact("mail bob@example.com, key sk-proj-...")       # -> "mail [REDACTED:email]@example.com, key [REDACTED:api_key]"
    r.redact_value({"password": "hunter2", "msg": "..."})  # secret-named keys lose their whole value
    r.stats                                                 # {"email": 1, "openai_key": 1, "secret_key_name": 1}

Design notes

* Rules run in a fixed order, most specific first (private-key blocks, JWTs, provider keys …) so that a
  generic rule never half-eats a value a specific one would name better.
* Placeholders never match any rule, so redacting twice changes nothing more (idempotent), and a rule
  whose hit already contains ``[REDACTED:`` leaves it alone (and does not count it).
* Well-kept detectors first (:mod:`tracemine.redact.plugins`): ``detect-secrets`` plugin
  patterns name provider keys (SendGrid, Azure storage, Slack, Twilio, AWS …); ``python-stdnum``
  validates IBANs (country, length, structure, mod-97), card numbers (Luhn, plus an issuer prefix and
  consistent separators) and SSNs; ``phonenumbers`` validates bare ten-digit numbers. Hand-written
  patterns remain only for formats no library names (URL credentials, Cookie / Authorization headers,
  Azure connection strings and SAS signatures, webhook URLs, a few provider prefixes) and for finding
  the number-shaped candidates the libraries then validate, so dates, versions, ids (16/32-hex trace and
  span ids included), prices and timestamps stay.
* Every quantifier that can repeat is either bounded or consumes a character class that cannot overlap
  its neighbour, so each rule is linear in the text; each rule only runs when a cheap substring trigger,
  a minimum length and a minimum digit count allow it. Odd input never raises: ``None`` gives ``""``,
  bytes are decoded with replacement.
* :func:`redact_cut` redacts *before* it cuts text to a length, and drops a token the cut would split,
  so no secret survives as a half.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import decimal
import enum
import functools
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CUT_MARGIN", "DEFAULT_RULES", "Redactor", "Rule", "default_redactor", "placeholder", "redact", "redact_cut", "redact_value"]

_MARK = "[REDACTED:"


def placeholder(label: str) -> str:
    """The replacement text for a hit of type ``label``: ``[REDACTED:label]``."""
    return f"{_MARK}{label}]"


@dataclass(frozen=True, slots=True)
class Rule:
    """One redaction rule.

    ``pattern`` finds candidates; ``validate`` (optional) accepts or rejects a match; only the named
    ``group`` (when set) is replaced, the rest of the match is kept (e.g. ``Authorization: Bearer``).
    ``replace`` (optional) builds the replacement itself and returns ``None`` to reject the match;
    ``span`` (optional) returns the absolute ``(start, end)`` inside the match to replace, or ``None``.
    The rule only runs when one of ``triggers`` occurs in the text (lower-cased text when
    ``ci_triggers``; no triggers: always), the text is at least ``min_len`` characters long and holds at
    least ``min_digits`` digits — cheap checks that keep the scan of ordinary text fast.
    """

    name: str
    label: str
    pattern: re.Pattern[str]
    description: str = ""
    group: str | None = None
    validate: Callable[[re.Match[str]], bool] | None = None
    replace: Callable[[re.Match[str], Redactor], str | None] | None = None
    span: Callable[[re.Match[str]], tuple[int, int] | None] | None = None
    triggers: tuple[str, ...] = ()
    ci_triggers: bool = False
    min_digits: int = 0
    min_len: int = 0


# --------------------------------------------------------------------------------------------- helpers


def _has_digit(s: str) -> bool:
    return any(c.isdigit() for c in s)


def _looks_random(s: str) -> bool:
    """A credential-looking value rather than a prose word: has a digit or a symbol, mixed case, or is long."""
    if len(s) >= 16 or _has_digit(s):
        return True
    if any(not c.isalnum() for c in s):
        return True
    return any(c.isupper() for c in s[1:]) and any(c.islower() for c in s)


# ------------------------------------------------------------------------------------------- patterns

# Words that make a key name secret when the name ends with them (``OPENAI_API_KEY``, ``apiKey``,
# ``db_password``, ``githubToken``) but not when more follows (``max_tokens``, ``token_count``).
_SECRET_WORDS = (
    r"(?:api[_-]?key|apikey|api[_-]?secret|access[_-]?key|secret[_-]?key|private[_-]?key|client[_-]?secret"
    r"|secret|token|password|passwd|pwd|passphrase|credentials?)"
)
_SECRET_KEY_NAME = re.compile(
    r"[A-Za-z0-9_.-]{0,64}?(?:"
    + _SECRET_WORDS[3:-1]
    + r"|authorization|proxy[_-]authorization|cookie|set[_-]cookie)",
    re.IGNORECASE,
)
_KV_TRIGGERS = ("key", "token", "secret", "pass", "pwd", "credential")
_BOOLISH = frozenset({"true", "false", "null", "none", "nil", "undefined", "", "0", "1", "yes", "no"})

# Hand-written patterns, for formats no library names (URL credentials, headers, connection strings,
# webhook URLs, provider prefixes detect-secrets lacks) and the number-shaped personal data whose
# candidates the libraries then validate. Rules run in this order, interleaved with the detect-secrets
# rules at the place ``_ORDER`` gives them.
_BASE_PATTERNS: dict[str, str] = {
    "private_key": (
        r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----[\s\S]*?"
        r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----|\Z)"
    ),
    "jwt": r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    "azure_connection": (
        r"(?i)(?<![A-Za-z0-9])(?:AccountKey|SharedAccessKey|SharedAccessSignature)\s{0,3}=\s{0,3}"
        r"(?P<cred>[A-Za-z0-9+/%._~-]{8,}={0,2})"
    ),
    "azure_sas_signature": r"(?<![A-Za-z0-9_-])sig=(?P<cred>[A-Za-z0-9%+/]{16,}(?:=|%3[Dd]){0,2})",
    "auth_header": (
        r"(?i)(?<![A-Za-z0-9_-])(?:proxy-)?authorization\\*[\"']?\s{0,3}[:=]\s{0,3}\\*[\"']?\s{0,3}"
        r"(?:(?P<scheme>bearer|basic|token|apikey|key|digest|negotiate|ntlm)\s{1,3})?"
        r"(?P<cred>[A-Za-z0-9._~+/-]+=*)"
    ),
    "cookie_header": (
        # no look-behind: a header glued to an escaped newline ("\\r\\nCookie: …") is still a header
        r"(?i)(?:set-)?cookie\\*[\"']?\s{0,3}:\s{0,3}\\*[\"']?"
        r"(?P<cred>[^\r\n\"'\\]{1,4096})"
    ),
    "bearer_token": r"(?<![A-Za-z0-9_-])[Bb]earer\s{1,3}(?P<cred>[A-Za-z0-9._~+/-]{16,}=*)",
    "basic_credentials": r"(?<![A-Za-z0-9_-])[Bb]asic\s{1,3}(?P<cred>[A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])",
    "anthropic_key": r"(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}",
    "openai_key": r"(?<![A-Za-z0-9_-])sk-(?!ant-)(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}",
    "github_token": r"(?<![A-Za-z0-9_])(?:(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})",
    "gitlab_token": r"(?<![A-Za-z0-9_-])glpat-[A-Za-z0-9_-]{20,}",
    "slack_token": r"(?<![A-Za-z0-9_-])xox[abposre]-[A-Za-z0-9-]{10,}",
    "google_api_key": r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])",
    "google_oauth_token": r"(?<![A-Za-z0-9_-])ya29\.[0-9A-Za-z_-]{16,}",
    "google_client_secret": r"(?<![A-Za-z0-9_-])GOCSPX-[0-9A-Za-z_-]{20,}",
    "stripe_key": r"(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}",
    "stripe_webhook_secret": r"(?<![A-Za-z0-9_])whsec_[A-Za-z0-9+/=_-]{16,}",
    "huggingface_token": r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}",
    "npm_token": r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])",
    "pypi_token": r"(?<![A-Za-z0-9_-])pypi-[A-Za-z0-9_-]{40,}",
    "llm_provider_key": (
        r"(?<![A-Za-z0-9_-])(?:gsk_[A-Za-z0-9]{40,}|xai-[A-Za-z0-9]{40,}|pplx-[A-Za-z0-9]{40,}"
        r"|r8_[A-Za-z0-9]{30,})"
    ),
    "webhook_url": (
        r"(?i)https?://(?:(?:canary\.|ptb\.)?discord(?:app)?\.com/api/webhooks/"
        r"|[a-z0-9-]{1,63}\.webhook\.office\.com/webhookb2/|outlook\.office(?:365)?\.com/webhook/"
        r"|hooks\.zapier\.com/hooks/catch/|chat\.googleapis\.com/v1/spaces/)"
        r"(?P<cred>[A-Za-z0-9@/_.?=&%-]{8,})"
    ),
    "aws_secret_key": r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])",
    "aws_access_key": r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])",
    "url_password": (
        r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s:/?#@\[\]\"']{0,256}:"
        r"(?P<pw>[^\s@\"'<>]{1,512})@(?=[A-Za-z0-9\[])"
    ),
    "secret_kv": (
        # anchored on the secret word itself (any prefix is allowed: OPENAI_API_KEY, githubToken), which keeps
        # the scan fast; what follows the word must be a separator, so max_tokens / token_count never match
        r"(?i)(?=[acpst])(?P<key>" + _SECRET_WORDS + r")"
        r"\\*[\"']?\s{0,3}(?P<sep>:|=)\s{0,3}"
        r"(?:\\*\"(?P<dq>[^\"\n]{0,8192}?)\\*\"|'(?P<sq>[^'\n]{0,8192}?)\\*'"
        r"|(?P<uq>[^\s\"'\\&,;<>{}\[\]()=:][^\s\"'\\&,;<>{}\[\]()]{0,8191}))"
    ),
    "email": (
        r"(?<![A-Za-z0-9._%+-])(?P<local>[A-Za-z0-9._%+-]{1,64})@"
        r"(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24})(?![A-Za-z0-9-])"
    ),
    "iban": r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?(?![A-Za-z0-9])",
    "card": r"(?<![\w.,-])[2-6]\d{3}(?:[ .-]?\d){9,15}(?![\w-]|[.,]\d)",
    "ssn": r"(?<![\w-])(?!000|666|9)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])",
    "ssn_context": (
        r"(?i)(?:ssn|social[ _-]?security(?:[ _-]?(?:number|no\.?|num|#))?)\\*[\"']?\s{0,3}[:=#]?"
        r"\s{0,3}\\*[\"']?(?P<cred>\d{9}|\d{3} \d{2} \d{4}|\d{3}\.\d{2}\.\d{4})(?![\w.-]?\d)"
    ),
    "phone": (
        # international, separated: +44 20 7946 0958, +1 (555) 123-4567, +33 1 23 45 67 89
        r"(?<![\w.+)-])(?:(?P<intl>\+[1-9]\d{0,2}[ .-]?(?:\(\d{1,4}\)|\d{1,4})(?: \d{2,8}){0,4}(?:[.-]\d{2,8}){0,4})"
        # international, compact: +14155550123
        r"|(?P<intlc>\+[1-9]\d{7,14})"
        # North American: (555) 123-4567, 555-123-4567, 555.123.4567, 1-555-123-4567
        r"|(?P<nanp>(?:1[ .-])?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}(?P<s1>[ .-]))\d{3}(?P<s2>[ .-])\d{4})"
        # national with trunk 0: 020 7946 0958, 030 12345678, 01 23 45 67 89, 06-12345678
        r"|(?P<natl>0[1-9]\d{0,3}(?P<ns>[ ./-])\d{2,8}(?:(?P=ns)\d{2,4}){0,4})"
        r")(?![\w]|[.:/-]\d)"
    ),
    # bare ten digits: 4155550123 (validated by phonenumbers; integer limits and ids glued to words stay)
    "phone_digits": r"[2-9](?<![\w.+#$€£¥/-][2-9])\d{2}[2-9]\d{6}(?![\w]|[.,:/-]\d)",
}

_DESCRIPTIONS = {
    "private_key": "PEM private key blocks (-----BEGIN … PRIVATE KEY-----), to the END line or end of text",
    "jwt": "JSON Web Tokens: three base64url segments starting eyJ",
    "azure_connection": "Azure connection-string keys: AccountKey=, SharedAccessKey=, SharedAccessSignature=",
    "azure_sas_signature": "Azure SAS token signatures sig=… in URLs and connection strings",
    "auth_header": "Authorization / Proxy-Authorization header credentials (scheme kept)",
    "cookie_header": "Cookie / Set-Cookie header values (header name kept)",
    "bearer_token": "'Bearer <token>' anywhere",
    "basic_credentials": "'Basic <base64 of user:password>' anywhere",
    "anthropic_key": "Anthropic keys sk-ant-…",
    "openai_key": "OpenAI keys sk-…, sk-proj-…, sk-svcacct-…",
    "github_token": "GitHub tokens ghp_/gho_/ghu_/ghs_/ghr_ and github_pat_",
    "gitlab_token": "GitLab personal access tokens glpat-…",
    "slack_token": "Slack tokens xox[abposre]-…",
    "google_api_key": "Google API keys AIza…",
    "google_oauth_token": "Google OAuth access tokens ya29.…",
    "google_client_secret": "Google OAuth client secrets GOCSPX-…",
    "stripe_key": "Stripe secret / restricted keys sk_live_, rk_live_, sk_test_, rk_test_",
    "stripe_webhook_secret": "Stripe webhook signing secrets whsec_…",
    "huggingface_token": "Hugging Face tokens hf_…",
    "npm_token": "npm access tokens npm_…",
    "pypi_token": "PyPI tokens pypi-… (any issuer)",
    "llm_provider_key": "Groq gsk_…, xAI xai-…, Perplexity pplx-…, Replicate r8_… keys",
    "webhook_url": "Discord, Microsoft Teams, Zapier and Google Chat webhook URLs (host kept)",
    "aws_secret_key": (
        "40-character AWS secret keys: mixed case and digits, and either an access key id or 'aws'/'secret' "
        "within 200 characters before, or detect-secrets' base64 entropy of at least 4.5"
    ),
    "aws_access_key": "AWS access key ids AKIA…/ASIA…",
    "url_password": "passwords in URLs scheme://user:pass@host, also with an empty user (scheme, user, host kept)",
    "secret_kv": "values of secret-named keys in JSON, query strings, env and YAML-like text",
    "email": "email addresses (optionally keeping the domain)",
    "iban": "IBANs in either case (python-stdnum: country, length, structure, mod-97 checksum)",
    "card": "payment card numbers: 13-19 digits, issuer prefix 2-6, consistent ' ', '-' or '.' separators, Luhn",
    "ssn": "US social security numbers NNN-NN-NNNN outside the invalid ranges",
    "ssn_context": "undashed US social security numbers after 'SSN' / 'social security' (python-stdnum)",
    "phone": "phone numbers: +international, North American and trunk-0 national formats",
    "phone_digits": "bare ten-digit North American numbers that phonenumbers finds valid",
}

_LABELS = {
    "private_key": "private_key", "jwt": "jwt", "azure_connection": "api_key", "azure_sas_signature": "token",
    "auth_header": "credentials", "cookie_header": "token", "bearer_token": "bearer_token",
    "basic_credentials": "credentials", "anthropic_key": "api_key", "openai_key": "api_key",
    "github_token": "api_key", "gitlab_token": "api_key", "slack_token": "api_key", "google_api_key": "api_key",
    "google_oauth_token": "token", "google_client_secret": "secret", "stripe_key": "api_key",
    "stripe_webhook_secret": "secret", "huggingface_token": "api_key", "npm_token": "api_key",
    "pypi_token": "api_key", "llm_provider_key": "api_key", "webhook_url": "token",
    "aws_secret_key": "aws_secret_key", "aws_access_key": "aws_access_key", "url_password": "password",
    "secret_kv": "secret", "email": "email", "iban": "iban", "card": "card", "ssn": "ssn",
    "ssn_context": "ssn", "phone": "phone", "phone_digits": "phone",
}  # fmt: skip

_TRIGGERS: dict[str, tuple[tuple[str, ...], bool]] = {
    "private_key": (("PRIVATE KEY",), False),
    "jwt": (("eyJ",), False),
    "azure_connection": (("accountkey", "sharedaccess"), True),
    "azure_sas_signature": (("sig=",), False),
    "auth_header": (("authorization",), True),
    "cookie_header": (("cookie",), True),
    "bearer_token": (("earer",), False),
    "basic_credentials": (("asic",), False),
    "anthropic_key": (("sk-ant-",), False),
    "openai_key": (("sk-",), False),
    "github_token": (("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), False),
    "gitlab_token": (("glpat-",), False),
    "slack_token": (("xox",), False),
    "google_api_key": (("AIza",), False),
    "google_oauth_token": (("ya29.",), False),
    "google_client_secret": (("GOCSPX-",), False),
    "stripe_key": (("_live_", "_test_"), False),
    "stripe_webhook_secret": (("whsec_",), False),
    "huggingface_token": (("hf_",), False),
    "npm_token": (("npm_",), False),
    "pypi_token": (("pypi-",), False),
    "llm_provider_key": (("gsk_", "xai-", "pplx-", "r8_"), False),
    "webhook_url": (("discord", "webhook", "hooks.zapier", "chat.googleapis"), True),
    "aws_access_key": (("AKIA", "ASIA"), False),
    "url_password": (("://",), False),
    "secret_kv": (_KV_TRIGGERS, True),
    "email": (("@",), False),
    "ssn_context": (("ssn", "social"), True),
}

# Shortest text a rule can match, and the fewest digits it needs (rules not named here: no gate).
_GATES: dict[str, tuple[int, int]] = {
    "aws_secret_key": (40, 1), "aws_access_key": (20, 0), "card": (13, 13), "iban": (15, 2), "ssn": (11, 9),
    "ssn_context": (12, 9), "phone": (8, 7), "phone_digits": (10, 10), "basic_credentials": (12, 0),
    "jwt": (30, 0), "google_api_key": (39, 0),
}  # fmt: skip

# Where the detect-secrets rules run: first after the block-shaped rules (private keys, JWTs), so the
# library names what it knows before the hand-written prefix and generic rules see the text.
_PLUGINS_AFTER = "jwt"

# ------------------------------------------------------------------------------------------ validators

_AWS_CONTEXT = re.compile(r"(?i)akia|asia|aws|secret|\[REDACTED:aws_access_key\]")
_ENTROPY_LIMIT = 4.5  # detect-secrets' default for base64 strings


def _v_aws_secret(m: re.Match[str]) -> bool:
    s = m.group(0)
    if not (any(c.isupper() for c in s) and any(c.islower() for c in s) and _has_digit(s)):
        return False
    if _AWS_CONTEXT.search(m.string, max(0, m.start() - 200), m.start()) is not None:
        return True
    # a bare key: as random as detect-secrets wants a base64 secret (paths and words are far below)
    return _plugins().entropy(s) >= _ENTROPY_LIMIT


def _v_random(group: int | str) -> Callable[[re.Match[str]], bool]:
    def check(m: re.Match[str]) -> bool:
        return _has_digit(m.group(group))

    return check


def _v_auth_header(m: re.Match[str]) -> bool:
    cred = m.group("cred")
    return (len(cred) >= 8 and _looks_random(cred)) or (m.group("scheme") is not None and len(cred) >= 4)


def _v_bearer(m: re.Match[str]) -> bool:
    cred = m.group("cred")
    return _has_digit(cred) or (any(c.isupper() for c in cred) and any(c.islower() for c in cred))


def _v_basic(m: re.Match[str]) -> bool:
    return _plugins().basic_credentials_ok(m.group("cred"))


def _v_cookie(m: re.Match[str]) -> bool:
    value = m.group("cred").strip()
    if value.lower() in _BOOLISH or _MARK in value:
        return False
    return "=" in value or (len(value) >= 8 and _looks_random(value))


def _v_azure(m: re.Match[str]) -> bool:
    return _looks_random(m.group("cred"))


def _v_card(m: re.Match[str]) -> bool:
    s = m.group(0)
    seps = {c for c in s if not c.isdigit()}
    if len(seps) > 1:
        return False
    digits = "".join(c for c in s if c.isdigit())
    if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    if seps:
        sep = seps.pop()
        groups = [len(g) for g in s.split(sep)]
        if min(groups) < 3 or groups[0] != 4:
            return False
        if sep == "." and groups not in ([4, 4, 4, 4], [4, 4, 4, 4, 3], [4, 6, 5], [4, 6, 4]):
            return False  # dotted: only the printed card layouts (versions and build numbers stay)
    return _plugins().card_ok(digits)


_DATE_START = re.compile(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$")


def _v_phone(m: re.Match[str]) -> bool:
    s = m.group(0)
    digits = sum(c.isdigit() for c in s)
    if m.group("intl") or m.group("intlc"):
        return 8 <= digits <= 15
    if m.group("nanp"):
        return m.group("s1") is None or m.group("s1") == m.group("s2")
    # national trunk-0 numbers
    return 9 <= digits <= 12 and _DATE_START.match(s) is None


def _v_phone_digits(m: re.Match[str]) -> bool:
    digits = "".join(c for c in m.group(0) if c.isdigit())
    return _plugins().nanp_phone_ok(digits[-10:])


def _v_ssn_context(m: re.Match[str]) -> bool:
    return _plugins().ssn_ok("".join(c for c in m.group("cred") if c.isdigit()))


def _v_url_password(m: re.Match[str]) -> bool:
    pw = m.group("pw")
    head = pw.split("/", 1)[0]
    if "/" in pw and head.isdigit():
        return False  # host:port/path…@ — a port, not a password
    return "://" not in pw


# ------------------------------------------------------------------------------------------ replacers


def _r_secret_kv(m: re.Match[str], r: Redactor) -> str | None:
    dq, sq, uq = m.group("dq"), m.group("sq"), m.group("uq")
    value = dq if dq is not None else sq if sq is not None else uq
    if value is None:
        return None
    stripped = value.strip()
    if stripped.lower() in _BOOLISH or _MARK in value or set(stripped) <= {"*", "x", "X", "•", "."}:
        return None
    if m.group("key").lower() == "pwd" and stripped[:1] in ("/", "~"):
        return None  # PWD=/home/bob in an environment dump is a directory
    if uq is not None and m.group("sep") == ":" and not _looks_random(stripped):
        return None  # "token: expired" in prose
    grp = "dq" if dq is not None else "sq" if sq is not None else "uq"
    whole = m.group(0)
    start, end = m.start(grp) - m.start(), m.end(grp) - m.start()
    return whole[:start] + placeholder(_label_for_key(m.group("key"))) + whole[end:]


def _r_email(m: re.Match[str], r: Redactor) -> str | None:
    if r.keep_email_domain:
        return placeholder("email") + "@" + m.group("domain")
    return placeholder("email")


# lower-case pure hex of a trace (32) or span (16) id length is an id, never an IBAN
_HEX_ID = re.compile(r"(?:[0-9a-f]{16}|[0-9a-f]{32})")


def _r_iban(m: re.Match[str], r: Redactor) -> str | None:
    s = m.group(0)
    compact = s.replace(" ", "")
    if _HEX_ID.fullmatch(compact):
        return None
    check = _plugins().iban_ok
    if check(compact):
        return placeholder("iban")
    # the match may have run into a following group or word: the longest valid prefix ending at a gap
    for cut in sorted((i for i, c in enumerate(s) if c == " "), reverse=True):
        if check(s[:cut].replace(" ", "")):
            return placeholder("iban") + s[cut:]
    return None


def _label_for_key(key: str) -> str:
    k = key.lower()
    if "pass" in k or "pwd" in k:
        return "password"
    if "token" in k or "authorization" in k or "cookie" in k:
        return "token"
    if "api" in k or "key" in k:
        return "api_key"
    return "secret"


_VALIDATORS: dict[str, Callable[[re.Match[str]], bool]] = {
    "auth_header": _v_auth_header,
    "bearer_token": _v_bearer,
    "basic_credentials": _v_basic,
    "cookie_header": _v_cookie,
    "azure_connection": _v_azure,
    "openai_key": _v_random(0),
    "huggingface_token": _v_random(0),
    "pypi_token": _v_random(0),
    "aws_secret_key": _v_aws_secret,
    "url_password": _v_url_password,
    "card": _v_card,
    "ssn_context": _v_ssn_context,
    "phone": _v_phone,
    "phone_digits": _v_phone_digits,
}
_REPLACERS: dict[str, Callable[[re.Match[str], Redactor], str | None]] = {
    "secret_kv": _r_secret_kv,
    "email": _r_email,
    "iban": _r_iban,
}
_GROUPS = {
    "auth_header": "cred", "bearer_token": "cred", "basic_credentials": "cred", "cookie_header": "cred",
    "azure_connection": "cred", "azure_sas_signature": "cred", "webhook_url": "cred", "url_password": "pw",
    "ssn_context": "cred",
}  # fmt: skip


def _plugins() -> Any:
    from tracemine.redact import plugins as redact_plugins

    return redact_plugins


def _plugin_names() -> list[str]:
    from tracemine.redact.plugins import PLUGIN_SPECS, rule_names

    return [name for spec in PLUGIN_SPECS for name in rule_names(spec)]


def _rule_order() -> tuple[str, ...]:
    names = list(_BASE_PATTERNS)
    at = names.index(_PLUGINS_AFTER) + 1
    return tuple(names[:at] + _plugin_names() + names[at:])


def _plugin_rules() -> list[Rule]:
    from tracemine.redact.plugins import PLUGIN_SPECS, plugin_patterns, plugin_span, rule_names

    rules = []
    for spec in PLUGIN_SPECS:
        for name, pattern in zip(rule_names(spec), plugin_patterns(spec), strict=True):
            rules.append(
                Rule(
                    name=name,
                    label=spec.label,
                    pattern=pattern,
                    description=f"detect-secrets {spec.cls}: {spec.description}",
                    span=functools.partial(plugin_span, spec),
                    triggers=tuple(t.lower() for t in spec.triggers) if spec.ci else spec.triggers,
                    ci_triggers=spec.ci,
                    min_len=spec.min_len,
                    min_digits=spec.min_digits,
                )
            )
    return rules


@functools.cache
def _default_rule_objects() -> tuple[Rule, ...]:
    """Every built-in rule in the order it runs (detect-secrets is imported here, on first use)."""
    rules = {}
    for name, pattern in _BASE_PATTERNS.items():
        triggers, ci = _TRIGGERS.get(name, ((), False))
        rules[name] = Rule(
            name=name,
            label=_LABELS[name],
            pattern=re.compile(pattern),
            description=_DESCRIPTIONS[name],
            group=_GROUPS.get(name),
            validate=_VALIDATORS.get(name),
            replace=_REPLACERS.get(name),
            triggers=triggers,
            ci_triggers=ci,
            min_len=_GATES.get(name, (0, 0))[0],
            min_digits=_GATES.get(name, (0, 0))[1],
        )
    for rule in _plugin_rules():
        rules[rule.name] = rule
    return tuple(rules[name] for name in DEFAULT_RULES)


#: Names of the built-in rules, in the order they run.
DEFAULT_RULES: tuple[str, ...] = _rule_order()

_SETTINGS_KEYS = frozenset({"rules", "extra_patterns", "disabled", "keep_email_domain"})
_MAX_DEPTH = 200


class Redactor:
    """Redacts secrets and personal data from text and from nested JSON-like values.

    Parameters
    ----------
    rules:
        ``{rule_name_or_label: bool | {"enabled": bool, "label": str}}`` — switch built-in rules on or
        off, or change the placeholder label a rule writes. A label (``api_key``) addresses every rule
        that writes it.
    extra_patterns:
        ``[{"name": ..., "pattern": ...}]`` — additional regular expressions, run after the built-ins;
        hits become ``[REDACTED:name]``. When the pattern has a group named ``secret`` only that group
        is replaced. Optional ``"ignore_case": true``.
    disabled:
        Rule names or labels to switch off (same as ``rules={name: False}``).
    keep_email_domain:
        Write ``[REDACTED:email]@example.com`` instead of ``[REDACTED:email]``.

    Unknown rule names, bad patterns and bad option types raise ``ValueError`` at construction.
    """

    def __init__(
        self,
        rules: Mapping[str, Any] | None = None,
        extra_patterns: Iterable[Mapping[str, Any]] | None = None,
        disabled: Iterable[str] | None = None,
        keep_email_domain: bool = False,
    ) -> None:
        self.keep_email_domain = bool(keep_email_domain)
        known_names = {r.name for r in _default_rule_objects()}
        known_labels = {r.label for r in _default_rule_objects()}

        def targets(key: str) -> set[str]:
            if key in known_names:
                return {key}
            if key in known_labels:
                return {r.name for r in _default_rule_objects() if r.label == key}
            raise ValueError(
                f"unknown redaction rule {key!r}; known rules: {', '.join(DEFAULT_RULES)}; "
                f"labels: {', '.join(sorted(known_labels))}"
            )

        enabled = dict.fromkeys(known_names, True)
        labels = {r.name: r.label for r in _default_rule_objects()}
        for key, spec in (rules or {}).items():
            names = targets(str(key))
            if isinstance(spec, bool):
                on, label = spec, None
            elif isinstance(spec, Mapping):
                unknown = set(spec) - {"enabled", "label"}
                if unknown:
                    raise ValueError(f"rule {key!r}: unknown options {sorted(unknown)}")
                on, label = bool(spec.get("enabled", True)), spec.get("label")
            else:
                raise ValueError(f"rule {key!r}: expected true/false or a mapping, got {type(spec).__name__}")
            for n in names:
                enabled[n] = on
                if label:
                    labels[n] = _check_label(str(label))
        if isinstance(disabled, str):
            disabled = [disabled]
        for key in disabled or ():
            for n in targets(str(key)):
                enabled[n] = False

        active: list[Rule] = []
        for r in _default_rule_objects():
            if enabled[r.name]:
                active.append(
                    r if labels[r.name] == r.label else dataclasses.replace(r, label=labels[r.name])
                )
        seen = set(known_names)
        for i, spec in enumerate(extra_patterns or ()):
            if not isinstance(spec, Mapping) or "name" not in spec or "pattern" not in spec:
                raise ValueError(f"extra_patterns[{i}]: expected a mapping with 'name' and 'pattern'")
            name = _check_label(str(spec["name"]))
            if name in seen:
                raise ValueError(f"extra_patterns[{i}]: duplicate rule name {name!r}")
            seen.add(name)
            flags = re.IGNORECASE if spec.get("ignore_case") else 0
            try:
                compiled = re.compile(str(spec["pattern"]), flags)
            except re.error as exc:
                raise ValueError(f"extra_patterns[{i}] ({name}): invalid regular expression: {exc}") from exc
            if compiled.search("") is not None:
                raise ValueError(f"extra_patterns[{i}] ({name}): pattern matches the empty string")
            group = "secret" if "secret" in compiled.groupindex else None
            active.append(
                Rule(name=name, label=name, pattern=compiled, description="user pattern", group=group)
            )
        self.rules: tuple[Rule, ...] = tuple(active)
        self._stats: Counter[str] = Counter()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------ construction

    @classmethod
    def from_settings(cls, settings: Any = None) -> Redactor:
        """Build from a settings mapping (or a pydantic model / object with those attributes).

        Accepted keys: ``rules``, ``extra_patterns``, ``disabled``, ``keep_email_domain``; the mapping may
        also be nested under ``redaction`` or ``redact``. ``None`` gives the defaults.
        """
        if settings is None:
            return cls()
        if hasattr(settings, "model_dump"):
            settings = settings.model_dump()
        elif not isinstance(settings, Mapping):
            settings = {k: getattr(settings, k) for k in _SETTINGS_KEYS if hasattr(settings, k)}
        for outer in ("redaction", "redact"):
            if isinstance(settings.get(outer), Mapping):
                settings = settings[outer]
                break
        unknown = set(settings) - _SETTINGS_KEYS
        if unknown:
            raise ValueError(
                f"unknown redaction settings {sorted(unknown)}; expected some of {sorted(_SETTINGS_KEYS)}"
            )
        return cls(
            rules=settings.get("rules"),
            extra_patterns=settings.get("extra_patterns"),
            disabled=settings.get("disabled"),
            keep_email_domain=bool(settings.get("keep_email_domain", False)),
        )

    # ------------------------------------------------------------------------------------ stats

    @property
    def rule_names(self) -> tuple[str, ...]:
        """The active rules, in the order they run."""
        return tuple(r.name for r in self.rules)

    @property
    def stats(self) -> dict[str, int]:
        """Hits per rule since construction (or the last :meth:`reset_stats`); ``secret_key_name`` counts
        values replaced by :meth:`redact_value` because of their key."""
        with self._lock:
            return dict(self._stats)

    def reset_stats(self) -> None:
        with self._lock:
            self._stats.clear()

    # ------------------------------------------------------------------------------------ text

    def redact(self, text: Any) -> str:
        """``text`` with every hit replaced by its placeholder. Never raises: ``None`` → ``""``, bytes are
        decoded as UTF-8 with replacement, anything else goes through ``str()``."""
        text = _to_text(text)
        if not text:
            return text
        counts: Counter[str] = Counter()
        lowered: str | None = None
        digits = -1  # counted on first need; replacements only remove digits, so a stale count is safe
        for rule in self.rules:
            if rule.min_len > len(text):
                continue
            if rule.min_digits:
                if digits < 0:
                    digits = sum(map(text.count, "0123456789"))
                if digits < rule.min_digits:
                    continue
            if rule.triggers:
                if rule.ci_triggers:
                    if lowered is None:
                        lowered = text.lower()
                    hay = lowered
                else:
                    hay = text
                for trigger in rule.triggers:  # a loop, not any(): this runs ~60 times per text
                    if trigger in hay:
                        break
                else:
                    continue
            if rule.pattern.search(text) is None:
                continue
            new = rule.pattern.sub(self._replacer(rule, counts), text)
            if new is not text and new != text:
                text = new
                lowered = None
        if counts:
            with self._lock:
                self._stats.update(counts)
        return text

    __call__ = redact

    def _replacer(self, rule: Rule, counts: Counter[str]) -> Callable[[re.Match[str]], str]:
        ph = placeholder(rule.label)

        def repl(m: re.Match[str]) -> str:
            whole = m.group(0)
            try:
                if rule.validate is not None and not rule.validate(m):
                    return whole
                if rule.replace is not None:
                    out = rule.replace(m, self)
                    if out is None:
                        return whole
                elif rule.span is not None:
                    where = rule.span(m)
                    if where is None or _MARK in m.string[where[0] : where[1]]:
                        return whole
                    start, end = where[0] - m.start(), where[1] - m.start()
                    out = whole[:start] + ph + whole[end:]
                elif rule.group is not None and m.group(rule.group) is not None:
                    secret = m.group(rule.group)
                    if _MARK in secret:
                        return whole
                    start, end = m.start(rule.group) - m.start(), m.end(rule.group) - m.start()
                    out = whole[:start] + ph + whole[end:]
                else:
                    if _MARK in whole:
                        return whole
                    out = ph
            except Exception:  # a validator tripping over odd input must not let the text through unredacted
                out = ph
            counts[rule.name] += 1
            return out

        return repl

    # ---------------------------------------------------------------------------------- values

    def redact_value(self, obj: Any) -> Any:
        """A copy of ``obj`` with every string redacted, recursively through dicts, lists, tuples and sets.

        Values under secret-named keys (``password``, ``api_key``, ``OPENAI_API_KEY``, ``accessToken``,
        ``Authorization``, ``cookie`` …) are replaced whole, whatever they contain (``None`` and booleans
        are kept). Dict keys are redacted like text. Integers are checked as text (card numbers …);
        bytes become redacted text; other objects become redacted ``str(obj)``. Never raises.
        """
        try:
            return self._value(obj, 0, set())
        except Exception:
            try:
                return self.redact(str(obj))
            except Exception:
                return placeholder("unrepresentable")

    def _value(self, obj: Any, depth: int, active: set[int]) -> Any:
        if obj is None or isinstance(obj, bool | float | _dt.date | _dt.time | _dt.timedelta | uuid.UUID):
            return obj
        if isinstance(obj, str):
            return self.redact(obj)
        if isinstance(obj, int | decimal.Decimal) and not isinstance(obj, enum.Enum):
            s = str(obj)
            out = self.redact(s)
            return obj if out == s else out
        if isinstance(obj, bytes | bytearray | memoryview):
            return self.redact(obj)
        if isinstance(obj, enum.Enum):
            return obj
        if depth >= _MAX_DEPTH:
            return placeholder("too_deep")
        if isinstance(obj, Mapping | list | tuple | set | frozenset):
            if id(obj) in active:
                return placeholder("cycle")
            active.add(id(obj))
            try:
                if isinstance(obj, Mapping):
                    out: dict[Any, Any] = {}
                    for k, v in obj.items():
                        if (
                            isinstance(k, str)
                            and self._secret_key(k)
                            and not (v is None or isinstance(v, bool))
                        ):
                            with self._lock:
                                self._stats["secret_key_name"] += 1
                            out[self.redact(k)] = placeholder(_label_for_key(k))
                        else:
                            out[self._value(k, depth + 1, active) if isinstance(k, str) else k] = self._value(
                                v, depth + 1, active
                            )
                    return out
                items = [self._value(v, depth + 1, active) for v in obj]
                if isinstance(obj, list):
                    return items
                if isinstance(obj, tuple):
                    return type(obj)(*items) if hasattr(obj, "_fields") else tuple(items)
                return _safe_set(items, frozen=isinstance(obj, frozenset))
            finally:
                active.discard(id(obj))
        return self.redact(str(obj))

    def _secret_key(self, key: str) -> bool:
        return "secret_kv" in self.rule_names and _SECRET_KEY_NAME.fullmatch(key) is not None


def _safe_set(items: list[Any], frozen: bool) -> Any:
    try:
        return frozenset(items) if frozen else set(items)
    except TypeError:
        return items


def _check_label(label: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", label):
        raise ValueError(f"placeholder label {label!r}: use 1-64 letters, digits, '_', '.', '-'")
    return label


def _to_text(text: Any) -> str:
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    if isinstance(text, bytes | bytearray | memoryview):
        return bytes(text).decode("utf-8", errors="replace")
    try:
        return str(text)
    except Exception:
        return ""


_default: Redactor | None = None


def default_redactor() -> Redactor:
    """A shared :class:`Redactor` with the default rules (built on first use)."""
    global _default
    if _default is None:
        _default = Redactor()
    return _default


def redact(text: Any) -> str:
    """Redact ``text`` with the default rules (a shared :class:`Redactor`)."""
    return default_redactor().redact(text)


def redact_value(obj: Any) -> Any:
    """Redact a nested JSON-like value with the default rules (a shared :class:`Redactor`)."""
    return default_redactor().redact_value(obj)


CUT_MARGIN = 1024
"""Characters past a cut that :func:`redact_cut` still redacts: longer than nearly any secret; a longer
token still split by the cut is dropped (see :func:`redact_cut`)."""

_SPLIT_TOKEN = re.compile(r"[A-Za-z0-9+/=_.~%-]{16,}$")
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_.~%-")


def redact_cut(text: Any, limit: int, redactor: Redactor | None = None, ellipsis: str = "…") -> str:
    """``text`` redacted, *then* cut to at most ``limit`` characters (ending with ``ellipsis`` when cut).

    Redacting first means a secret that straddles the cut is replaced whole instead of leaving its first
    half; only ``limit + CUT_MARGIN`` characters are redacted, so a huge value costs no more than a short
    one. A long token (16+ key-like characters) split by the cut, and a placeholder split by it, are
    dropped rather than shown in part. Never raises; ``redactor`` defaults to the shared default one.
    """
    r = redactor if redactor is not None else default_redactor()
    source = _to_text(text)
    limit = max(0, int(limit))
    red = r.redact(source[: limit + CUT_MARGIN])
    if len(red) <= limit and len(source) <= limit + CUT_MARGIN:
        return red
    keep = max(0, limit - len(ellipsis))
    head = red[:keep]
    if keep < len(red) and head and head[-1] in _TOKEN_CHARS and red[keep] in _TOKEN_CHARS:
        split = _SPLIT_TOKEN.search(head)
        if split is not None:
            head = head[: split.start()]
    bracket = head.rfind("[")
    if bracket >= 0 and "]" not in head[bracket:]:
        tail = head[bracket:]
        if _MARK.startswith(tail) or tail.startswith(_MARK):  # "[RED" or "[REDACTED:api_k"
            head = head[:bracket]
    return head + ellipsis
