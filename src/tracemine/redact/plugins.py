"""Redaction rules backed by well-kept libraries, used by :mod:`tracemine.redact`.

* ``detect-secrets`` plugins: their patterns (``denylist``) for provider keys the built-in rules do not
  name — SendGrid, Azure storage account keys, Slack webhooks, Discord bot tokens, Twilio, Mailchimp,
  Square, Telegram, Artifactory, npm ``_authToken`` lines, PyPI upload tokens, AWS key ids and quoted AWS
  secrets, GitHub, GitLab, Stripe and OpenAI keys. Each pattern becomes one rule (``ds_<plugin>`` or
  ``ds_<plugin>_<n>`` for a plugin's n-th pattern) that runs only when a cheap substring trigger occurs.
  The keyword, high-entropy, IP and IBM/Cloudant/SoftLayer plugins are left out: their assignment
  patterns are slow on long runs of spaces and the built-in ``secret_kv`` rule covers the same text.
* ``python-stdnum``: IBAN structure and checksum per country, Luhn for card numbers, US SSN validity.
* ``phonenumbers``: bare ten-digit North American numbers must be valid numbers of an assigned area code.

Everything is imported on first use (detect-secrets costs ~0.2 s to import).
"""

from __future__ import annotations

import base64
import binascii
import importlib
import re
from dataclasses import dataclass
from functools import cache

__all__ = [
    "PLUGIN_SPECS",
    "PluginSpec",
    "basic_credentials_ok",
    "card_ok",
    "entropy",
    "iban_ok",
    "nanp_phone_ok",
    "plugin_patterns",
    "plugin_span",
    "rule_names",
    "ssn_ok",
]


@dataclass(frozen=True, slots=True)
class PluginSpec:
    """One detect-secrets plugin used as redaction rules.

    ``patterns`` picks patterns of the plugin's ``denylist`` by position (rule names: ``name`` for the
    first, ``name_2`` … for the others); ``group`` replaces the pattern's first group rather than the
    whole hit; ``keep`` is a literal prefix of the hit that stays readable
    (``https://hooks.slack.com/services/``); ``bounded`` requires that the hit is not glued to letters or
    digits on either side (patterns such as Twilio's ``AC…`` have no boundaries of their own).
    """

    name: str
    module: str
    cls: str
    label: str
    triggers: tuple[str, ...]
    ci: bool = False
    patterns: tuple[int, ...] = (0,)
    group: bool = False
    keep: str = ""
    bounded: bool = True
    min_len: int = 0
    min_digits: int = 0
    description: str = ""


PLUGIN_SPECS: tuple[PluginSpec, ...] = (
    PluginSpec("ds_azure_storage", "azure_storage_key", "AzureStorageKeyDetector", "api_key",
               ("accountkey",), ci=True, description="Azure storage account keys AccountKey=… (88 characters)"),
    PluginSpec("ds_sendgrid", "sendgrid", "SendGridDetector", "api_key", ("SG.",),
               description="SendGrid API keys SG.….…"),
    PluginSpec("ds_slack", "slack", "SlackDetector", "api_key", ("xox",), ci=True,
               description="Slack tokens xox?-…"),
    PluginSpec("ds_slack_webhook", "slack", "SlackDetector", "token", ("hooks.slack.com",), ci=True, patterns=(1,),
               keep="https://hooks.slack.com/services/", bounded=False,
               description="Slack incoming webhook URLs (host kept)"),
    PluginSpec("ds_discord", "discord", "DiscordBotTokenDetector", "token", (".",), min_len=59,
               description="Discord bot tokens"),
    PluginSpec("ds_twilio", "twilio", "TwilioKeyDetector", "api_key", ("AC", "SK"), patterns=(0, 1), min_len=34,
               description="Twilio account SIDs and API keys"),
    PluginSpec("ds_mailchimp", "mailchimp", "MailchimpDetector", "api_key", ("-us",), min_len=36,
               description="Mailchimp API keys …-usN"),
    PluginSpec("ds_square", "square_oauth", "SquareOAuthDetector", "secret", ("sq0csp-",),
               description="Square OAuth secrets sq0csp-…"),
    PluginSpec("ds_telegram", "telegram_token", "TelegramBotTokenDetector", "token", (":AA",), min_len=44, min_digits=8,
               description="Telegram bot tokens <digits>:AA<33 characters>"),
    PluginSpec("ds_artifactory", "artifactory", "ArtifactoryDetector", "api_key", ("AKC", "AP"), patterns=(0, 1),
               description="Artifactory API tokens and passwords"),
    PluginSpec("ds_npm", "npm", "NpmDetector", "api_key", ("_authToken",), group=True, bounded=False,
               description="npm _authToken lines (.npmrc)"),
    PluginSpec("ds_pypi", "pypi_token", "PypiTokenDetector", "api_key", ("pypi-",), patterns=(0, 1),
               description="PyPI upload tokens pypi-AgEIcHlwaS5vcmc…"),
    PluginSpec("ds_aws", "aws", "AWSKeyDetector", "aws_access_key", ("AKIA", "ASIA", "ABIA", "ACCA", "A3T"),
               description="AWS access key ids AKIA/ASIA/ABIA/ACCA/A3T…"),
    PluginSpec("ds_aws_secret", "aws", "AWSKeyDetector", "aws_secret_key", ("aws",), ci=True, patterns=(1,), group=True,
               bounded=False,
               description="quoted AWS secret keys after 'aws … key/token/password'"),
    PluginSpec("ds_github", "github_token", "GitHubTokenDetector", "api_key",
               ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), description="GitHub tokens"),
    PluginSpec("ds_gitlab", "gitlab_token", "GitLabTokenDetector", "api_key",
               ("gl", "GR1348941"), patterns=tuple(range(7)), description="GitLab tokens of every kind"),
    PluginSpec("ds_stripe", "stripe", "StripeDetector", "api_key", ("_live_",),
               description="Stripe live keys"),
    PluginSpec("ds_openai", "openai", "OpenAIDetector", "api_key", ("T3BlbkFJ",),
               description="OpenAI keys carrying the T3BlbkFJ marker"),
)


def rule_names(spec: PluginSpec) -> list[str]:
    """The rule names of ``spec``'s patterns (known without importing detect-secrets)."""
    return [spec.name if k == 0 else f"{spec.name}_{k + 1}" for k in range(len(spec.patterns))]


@cache
def plugin_patterns(spec: PluginSpec) -> tuple[re.Pattern[str], ...]:
    """The compiled patterns of ``spec``'s plugin, in ``spec.patterns`` order (imported on first use)."""
    module = importlib.import_module(f"detect_secrets.plugins.{spec.module}")
    denylist = tuple(getattr(module, spec.cls).denylist)
    return tuple(denylist[i] for i in spec.patterns)


_EDGE = ' \t\r\n=:"'


def plugin_span(spec: PluginSpec, m: re.Match[str]) -> tuple[int, int] | None:
    """The part of a plugin hit to replace: the pattern's first group when it has one, else the hit
    without the delimiters some patterns include; ``None`` rejects a hit glued to a longer word."""
    if spec.group and m.group(1) is not None:
        start, end = m.span(1)
    else:
        start, end = m.span()
        text = m.string
        while start < end and text[start] in _EDGE:
            start += 1
        while end > start and text[end - 1] in _EDGE:
            end -= 1
    if spec.keep and m.string.startswith(spec.keep, start):
        start += len(spec.keep)
    if end <= start:
        return None
    if spec.bounded:
        text = m.string
        if (start > 0 and text[start - 1].isalnum()) or (end < len(text) and text[end].isalnum()):
            return None
    return start, end


# ----------------------------------------------------------------------------------------- numbers


def entropy(text: str) -> float:
    """Shannon entropy per character, as detect-secrets computes it for its high-entropy plugins."""
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString

    return float(Base64HighEntropyString(limit=4.5).calculate_shannon_entropy(text))


def iban_ok(compact: str) -> bool:
    """A valid IBAN: known country, the country's length and structure, ISO 7064 mod-97 checksum."""
    from stdnum import iban

    return bool(iban.is_valid(compact))


def card_ok(digits: str) -> bool:
    """A plausible payment card number: Luhn checksum (python-stdnum)."""
    from stdnum import luhn

    return bool(luhn.is_valid(digits))


def ssn_ok(digits: str) -> bool:
    """A US social security number outside the never-issued ranges (python-stdnum)."""
    from stdnum.us import ssn

    return bool(ssn.is_valid(digits))


# numbers that are ten digits but are integer limits, not phones
_INT_LIMITS = frozenset({"2147483647", "2147483648", "4294967295", "4294967296"})


def nanp_phone_ok(digits: str) -> bool:
    """A bare ten-digit North American number with an assigned area code and exchange (phonenumbers)."""
    if digits in _INT_LIMITS:
        return False
    import phonenumbers

    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(digits, "US")))
    except phonenumbers.NumberParseException:
        return False


def basic_credentials_ok(value: str) -> bool:
    """Whether ``value`` is base64 of ``user:password`` (what HTTP Basic credentials are)."""
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return ":" in text and text.isprintable()


