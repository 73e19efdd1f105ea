"""One activity, one record: the keys that find the same activity in two sources, and
the rule that merges them (the Lähellä.fi record wins for every field it has).

Pure functions; `store.writes` (`hide_duplicates`, `supplement_winners`) applies them to
the stored rows.
"""

from __future__ import annotations

import re
from typing import Any

# Organisation-form words that one source writes and the other may leave out.
_ORGANISATION_FORMS = re.compile(r"\b(ry|rf|r y|ry:n|oy|ab)\b")
_NOT_WORD = re.compile(r"[\W_]+")
FILLED_TEXTS = ("name", "summary", "description", "description_html")


def normal_text(value: str) -> str:
    """Case, punctuation and spacing folded away: 'Oulun  Seudun-Omaishoitajat ry' ->
    'oulun seudun omaishoitajat'."""
    folded = _NOT_WORD.sub(" ", value.casefold())
    return " ".join(_ORGANISATION_FORMS.sub(" ", folded).split())


def match_keys(
    *,
    lahella_key: str | None,
    name: str,
    organisation: str | None,
    business_id: str | None,
    municipalities: list[str],
) -> list[str]:
    """Keys two records share when they are the same activity.

    The Lähellä.fi key itself (PTV's `sourceId` carries it when Lähellä.fi pushed the
    record); the organisation's business id with the name; and name + organisation +
    municipality for records with neither.
    """
    keys = set()
    if lahella_key:
        keys.add(f"lahella:{lahella_key}")
    activity = normal_text(name)
    if business_id:
        keys.add(f"business:{business_id}|{activity}")
    if organisation and activity:
        owner = normal_text(organisation)
        keys.update(f"name:{activity}|{owner}|{code}" for code in municipalities or ["-"])
    return sorted(keys)


def without_supplement(document: dict[str, Any]) -> dict[str, Any]:
    """The document as its own source made it, before another source filled gaps."""
    supplied = document.get("also_from")
    if not supplied:
        return document
    base = {key: value for key, value in document.items() if key != "also_from"}
    for entry in supplied:
        for path in entry.get("filled", []):
            field, _, lang = path.partition(".")
            if lang:
                base[field] = {k: v for k, v in (base.get(field) or {}).items() if k != lang}
            else:
                base[field] = []
    return base


def supplement(primary: dict[str, Any], secondary: dict[str, Any]) -> dict[str, Any]:
    """`primary` with the gaps `secondary` can fill: languages it lacks, contacts if none.

    Idempotent: supplementing an already supplemented document first takes the earlier
    fill out, so a change in `secondary` is reflected, never stacked.
    """
    base = without_supplement(primary)
    document = dict(base)
    filled = []
    for field in FILLED_TEXTS:
        own = dict(base.get(field) or {})
        for lang, text in (secondary.get(field) or {}).items():
            if text and not own.get(lang):
                own[lang] = text
                filled.append(f"{field}.{lang}")
        if own or field in base:
            document[field] = own
    if not base.get("contacts") and secondary.get("contacts"):
        document["contacts"] = secondary["contacts"]
        filled.append("contacts")
    document["also_from"] = [
        {
            "source": secondary.get("source"),
            "id": secondary.get("id"),
            "upstream_id": secondary.get("upstream_id"),
            "filled": filled,
        }
    ]
    return document
