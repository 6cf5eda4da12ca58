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
* Number-shaped rules are validated: card numbers by Luhn plus an issuer prefix, IBANs by the ISO 7064
  mod-97 checksum and the country's length, US SSNs by the SSA's invalid ranges, phone numbers by digit
  counts and consistent separators, so dates, versions, ids, prices and timestamps stay.
* Every quantifier that can repeat is either bounded or consumes a character class that cannot overlap
  its neighbour, so each rule is linear in the text; each rule only runs when a cheap substring trigger
  is present. Odd input never raises: ``None`` gives ``""``, bytes are decoded with replacement.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import decimal
import enum
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_RULES", "Redactor", "Rule", "placeholder", "redact", "redact_value"]

_MARK = "[REDACTED:"


def placeholder(label: str) -> str:
    """The replacement text for a hit of type ``label``: ``[REDACTED:label]``."""
    return f"{_MARK}{label}]"


@dataclass(frozen=True, slots=True)
class Rule:
    """One redaction rule.

    ``pattern`` finds candidates; ``validate`` (optional) accepts or rejects a match; only the named
    ``group`` (when set) is replaced, the rest of the match is kept (e.g. ``Authorization: Bearer``).
    ``replace`` (optional) builds the replacement itself and returns ``None`` to reject the match.
    The rule only runs when one of ``triggers`` occurs in the text (lower-cased text when
    ``ci_triggers``); no triggers means it always runs.
    """

    name: str
    label: str
    pattern: re.Pattern[str]
    description: str = ""
    group: str | None = None
    validate: Callable[[re.Match[str]], bool] | None = None
    replace: Callable[[re.Match[str], Redactor], str | None] | None = None
    triggers: tuple[str, ...] = ()
    ci_triggers: bool = False


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


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# IBAN lengths by country (ISO 13616 registry, the commonly used part).
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18,
    "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip


def _iban_ok(compact: str) -> bool:
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    moved = compact[4:] + compact[:4]
    try:
        number = int("".join(str(int(c, 36)) for c in moved))
    except ValueError:
        return False
    return number % 97 == 1


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

_BASE_PATTERNS: dict[str, str] = {
    "private_key": (
        r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----[\s\S]*?"
        r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----|\Z)"
    ),
    "jwt": r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    "auth_header": (
        r"(?i)(?<![A-Za-z0-9_-])(?:proxy-)?authorization\\*[\"']?\s{0,3}[:=]\s{0,3}\\*[\"']?\s{0,3}"
        r"(?:(?P<scheme>bearer|basic|token|apikey|key|digest|negotiate|ntlm)\s{1,3})?"
        r"(?P<cred>[A-Za-z0-9._~+/-]+=*)"
    ),
    "bearer_token": r"(?<![A-Za-z0-9_-])[Bb]earer\s{1,3}(?P<cred>[A-Za-z0-9._~+/-]{16,}=*)",
    "anthropic_key": r"(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}",
    "openai_key": r"(?<![A-Za-z0-9_-])sk-(?!ant-)(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}",
    "github_token": r"(?<![A-Za-z0-9_])(?:(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})",
    "gitlab_token": r"(?<![A-Za-z0-9_-])glpat-[A-Za-z0-9_-]{20,}",
    "slack_token": r"(?<![A-Za-z0-9_-])xox[abposre]-[A-Za-z0-9-]{10,}",
    "google_api_key": r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])",
    "stripe_key": r"(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}",
    "huggingface_token": r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}",
    "aws_secret_key": r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])",
    "aws_access_key": r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])",
    "url_password": r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s:/?#@\[\]\"']{1,256}:(?P<pw>[^\s@/\"']{1,512})@",
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
    "iban": r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])",
    "card": r"(?<![\w.,-])[2-6]\d{3}(?:[ -]?\d){9,15}(?![\w-]|[.,]\d)",
    "ssn": r"(?<![\w-])(?!000|666|9)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])",
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
}

_DESCRIPTIONS = {
    "private_key": "PEM private key blocks (-----BEGIN … PRIVATE KEY-----), to the END line or end of text",
    "jwt": "JSON Web Tokens: three base64url segments starting eyJ",
    "auth_header": "Authorization / Proxy-Authorization header credentials (scheme kept)",
    "bearer_token": "'Bearer <token>' anywhere",
    "anthropic_key": "Anthropic keys sk-ant-…",
    "openai_key": "OpenAI keys sk-…, sk-proj-…, sk-svcacct-…",
    "github_token": "GitHub tokens ghp_/gho_/ghu_/ghs_/ghr_ and github_pat_",
    "gitlab_token": "GitLab personal access tokens glpat-…",
    "slack_token": "Slack tokens xox[abposre]-…",
    "google_api_key": "Google API keys AIza…",
    "stripe_key": "Stripe secret / restricted keys sk_live_, rk_live_, sk_test_, rk_test_",
    "huggingface_token": "Hugging Face tokens hf_…",
    "aws_secret_key": "40-character AWS secret keys within 200 characters after an access key id or 'aws'/'secret'",
    "aws_access_key": "AWS access key ids AKIA…/ASIA…",
    "url_password": "passwords in URLs scheme://user:pass@host (scheme, user and host kept)",
    "secret_kv": "values of secret-named keys in JSON, query strings, env and YAML-like text",
    "email": "email addresses (optionally keeping the domain)",
    "iban": "IBANs (country length and mod-97 checksum)",
    "card": "payment card numbers: 13-19 digits, issuer prefix 2-6, consistent separators, Luhn",
    "ssn": "US social security numbers NNN-NN-NNNN outside the invalid ranges",
    "phone": "phone numbers: +international, North American and trunk-0 national formats",
}

_LABELS = {
    "private_key": "private_key", "jwt": "jwt", "auth_header": "credentials", "bearer_token": "bearer_token",
    "anthropic_key": "api_key", "openai_key": "api_key", "github_token": "api_key", "gitlab_token": "api_key",
    "slack_token": "api_key", "google_api_key": "api_key", "stripe_key": "api_key",
    "huggingface_token": "api_key", "aws_secret_key": "aws_secret_key", "aws_access_key": "aws_access_key",
    "url_password": "password", "secret_kv": "secret", "email": "email", "iban": "iban", "card": "card",
    "ssn": "ssn", "phone": "phone",
}  # fmt: skip

_TRIGGERS: dict[str, tuple[tuple[str, ...], bool]] = {
    "private_key": (("PRIVATE KEY",), False),
    "jwt": (("eyJ",), False),
    "auth_header": (("authorization",), True),
    "bearer_token": (("earer",), False),
    "anthropic_key": (("sk-ant-",), False),
    "openai_key": (("sk-",), False),
    "github_token": (("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), False),
    "gitlab_token": (("glpat-",), False),
    "slack_token": (("xox",), False),
    "google_api_key": (("AIza",), False),
    "stripe_key": (("_live_", "_test_"), False),
    "huggingface_token": (("hf_",), False),
    "aws_secret_key": (("aws", "secret", "akia", "asia", "[redacted:aws_access_key]"), True),
    "aws_access_key": (("AKIA", "ASIA"), False),
    "url_password": (("://",), False),
    "secret_kv": (_KV_TRIGGERS, True),
    "email": (("@",), False),
}

# ------------------------------------------------------------------------------------------ validators

_AWS_CONTEXT = re.compile(r"(?i)akia|asia|aws|secret|\[REDACTED:aws_access_key\]")


def _v_aws_secret(m: re.Match[str]) -> bool:
    s = m.group(0)
    if not (any(c.isupper() for c in s) and any(c.islower() for c in s) and _has_digit(s)):
        return False
    return _AWS_CONTEXT.search(m.string, max(0, m.start() - 200), m.start()) is not None


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


def _v_card(m: re.Match[str]) -> bool:
    s = m.group(0)
    seps = {c for c in s if not c.isdigit()}
    if len(seps) > 1:
        return False
    digits = s.replace(" ", "").replace("-", "")
    if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    if seps:
        groups = [len(g) for g in s.split(seps.pop())]
        if min(groups) < 3 or groups[0] != 4:
            return False
    return _luhn_ok(digits)


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


def _r_iban(m: re.Match[str], r: Redactor) -> str | None:
    s = m.group(0)
    compact = s.replace(" ", "")
    expected = _IBAN_LENGTHS.get(compact[:2])
    if expected is None or len(compact) < expected:
        return None
    if len(compact) > expected:  # the match ran into a following token: keep only the IBAN's own length
        count = 0
        for i, c in enumerate(s):
            if c != " ":
                count += 1
            if count == expected:
                if i + 1 < len(s) and s[i + 1] != " ":
                    return None  # the IBAN would end inside a group: not a clean IBAN
                if _iban_ok(compact[:expected]):
                    return placeholder("iban") + s[i + 1 :]
                return None
        return None
    return placeholder("iban") if _iban_ok(compact) else None


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
    "openai_key": _v_random(0),
    "huggingface_token": _v_random(0),
    "aws_secret_key": _v_aws_secret,
    "card": _v_card,
    "phone": _v_phone,
}
_REPLACERS: dict[str, Callable[[re.Match[str], Redactor], str | None]] = {
    "secret_kv": _r_secret_kv,
    "email": _r_email,
    "iban": _r_iban,
}
_GROUPS = {"auth_header": "cred", "bearer_token": "cred", "url_password": "pw"}


def _build_default_rules() -> tuple[Rule, ...]:
    rules = []
    for name, pattern in _BASE_PATTERNS.items():
        triggers, ci = _TRIGGERS.get(name, ((), False))
        rules.append(
            Rule(
                name=name,
                label=_LABELS[name],
                pattern=re.compile(pattern),
                description=_DESCRIPTIONS[name],
                group=_GROUPS.get(name),
                validate=_VALIDATORS.get(name),
                replace=_REPLACERS.get(name),
                triggers=triggers,
                ci_triggers=ci,
            )
        )
    return tuple(rules)


_DEFAULT_RULE_OBJECTS = _build_default_rules()
#: Names of the built-in rules, in the order they run.
DEFAULT_RULES: tuple[str, ...] = tuple(r.name for r in _DEFAULT_RULE_OBJECTS)

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
        known_names = {r.name for r in _DEFAULT_RULE_OBJECTS}
        known_labels = {r.label for r in _DEFAULT_RULE_OBJECTS}

        def targets(key: str) -> set[str]:
            if key in known_names:
                return {key}
            if key in known_labels:
                return {r.name for r in _DEFAULT_RULE_OBJECTS if r.label == key}
            raise ValueError(
                f"unknown redaction rule {key!r}; known rules: {', '.join(DEFAULT_RULES)}; "
                f"labels: {', '.join(sorted(known_labels))}"
            )

        enabled = dict.fromkeys(known_names, True)
        labels = {r.name: r.label for r in _DEFAULT_RULE_OBJECTS}
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
        for r in _DEFAULT_RULE_OBJECTS:
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
        for rule in self.rules:
            if rule.triggers:
                if rule.ci_triggers:
                    if lowered is None:
                        lowered = text.lower()
                    hay = lowered
                else:
                    hay = text
                if not any(t in hay for t in rule.triggers):
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


def _default_redactor() -> Redactor:
    global _default
    if _default is None:
        _default = Redactor()
    return _default


def redact(text: Any) -> str:
    """Redact ``text`` with the default rules (a shared :class:`Redactor`)."""
    return _default_redactor().redact(text)


def redact_value(obj: Any) -> Any:
    """Redact a nested JSON-like value with the default rules (a shared :class:`Redactor`)."""
    return _default_redactor().redact_value(obj)
