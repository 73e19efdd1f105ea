"""Contact values from foreign text made safe to publish: phone numbers, URLs, e-mails."""

from __future__ import annotations

import re


def phone_parts(value: str) -> tuple[str, str] | None:
    digits = re.sub(r"[^\d+]", "", value)
    if digits.startswith("+358"):
        prefix, number = "+358", digits[4:]
    elif digits.startswith("00358"):
        prefix, number = "+358", digits[5:]
    elif digits.startswith("0"):
        prefix, number = "+358", digits[1:]
    else:
        prefix, number = "+358", digits.lstrip("+")
    return (prefix, number) if re.fullmatch(r"\d{1,20}", number) else None


def safe_url(value: str | None) -> str | None:
    if value and re.match(r"^https?://[^\s\"'<>]+$", value.strip(), re.IGNORECASE):
        return value.strip()[:500]
    return None


def safe_email(value: str | None) -> str | None:
    if value and re.fullmatch(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+", value.strip()):
        return value.strip()[:100]
    return None
