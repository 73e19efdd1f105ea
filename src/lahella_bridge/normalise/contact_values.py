"""Contact values from foreign text made safe to publish: phone numbers, URLs, e-mails."""

from __future__ import annotations

import re

_NOT_PHONE_DIGIT = re.compile(r"[^\d+]")
_PHONE_NUMBER = re.compile(r"\d{1,20}")
_URL = re.compile(r"^https?://[^\s\"'<>]+$", re.IGNORECASE)
_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+")


def phone_parts(value: str) -> tuple[str, str] | None:
    digits = _NOT_PHONE_DIGIT.sub("", value)
    if digits.startswith("+358"):
        prefix, number = "+358", digits[4:]
    elif digits.startswith("00358"):
        prefix, number = "+358", digits[5:]
    elif digits.startswith("0"):
        prefix, number = "+358", digits[1:]
    else:
        prefix, number = "+358", digits.lstrip("+")
    return (prefix, number) if _PHONE_NUMBER.fullmatch(number) else None


def safe_url(value: str | None) -> str | None:
    if value and _URL.match(value.strip()):
        return value.strip()[:500]
    return None


def safe_email(value: str | None) -> str | None:
    if value and _EMAIL.fullmatch(value.strip()):
        return value.strip()[:100]
    return None
