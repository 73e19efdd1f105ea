"""The county's domain model (stages, themes, activity types, segments, referral steps,
municipalities) and the table-driven placement of upstream classifications in it.

Everything here is data loaded once from `data/`, plus pure lookups.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

Labels = dict[str, str]  # language -> text


@dataclass(frozen=True)
class Term:
    slug: str
    labels: Labels


@dataclass(frozen=True)
class Stage(Term):
    activity_types: tuple[str, ...]
    requires_channel: tuple[str, ...] = ()


@dataclass(frozen=True)
class Theme(Term):
    sub_activities: tuple[str, ...]


@dataclass(frozen=True)
class ReferralStep(Term):
    segments: tuple[str, ...]


@dataclass(frozen=True)
class Municipality:
    code: str
    labels: Labels


@dataclass(frozen=True)
class CodeItem:
    """A PTV code-list entry (service class, target group or life event)."""

    code: str
    uri: str
    labels: Labels
    parent: str | None
    parent_uri: str | None
    description: Labels


@dataclass(frozen=True)
class Reason:
    """Why an activity was placed under a term: the rule and the upstream value."""

    rule: str
    value: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "value": self.value}


@dataclass
class Placement:
    """A classification result: term slug or code -> the reasons that placed it."""

    activity_types: dict[str, list[Reason]] = field(default_factory=dict)
    themes: dict[str, list[Reason]] = field(default_factory=dict)
    stages: dict[str, list[Reason]] = field(default_factory=dict)
    target_groups: dict[str, list[Reason]] = field(default_factory=dict)
    life_events: dict[str, list[Reason]] = field(default_factory=dict)
    service_classes: dict[str, list[Reason]] = field(default_factory=dict)
    ontology_terms: dict[str, list[Reason]] = field(default_factory=dict)
    unmapped: list[tuple[str, str]] = field(default_factory=list)


def localised(labels: Labels | None, lang: str = "fi") -> tuple[str, str] | None:
    """(text, its language): `lang`, else Finnish, Swedish, English; None if all are empty."""
    for candidate in (lang, "fi", "sv", "en"):
        if labels and labels.get(candidate):
            return labels[candidate], candidate
    return None


def label_in(labels: Labels | None, lang: str) -> str | None:
    """The text in `lang`, falling back fi -> sv -> en per field (`localised`), then to
    any language the labels have; None when they have none."""
    found = localised(labels, lang)
    if found is not None:
        return found[0]
    return next(iter(labels.values()), None) if labels else None


def _load(name: str) -> Any:
    return json.loads(resources.files(__package__).joinpath("data", name).read_text("utf-8"))


def _labels(item: dict[str, Any]) -> Labels:
    return {lang: item[lang] for lang in ("fi", "sv", "en") if item.get(lang)}


@dataclass(frozen=True)
class Taxonomy:
    stages: tuple[Stage, ...]
    themes: tuple[Theme, ...]
    activity_types: tuple[Term, ...]
    segments: tuple[Term, ...]
    referral_steps: tuple[ReferralStep, ...]
    service_areas: tuple[dict[str, Any], ...]
    municipalities: dict[str, Municipality]
    service_classes: dict[str, CodeItem]
    target_groups: dict[str, CodeItem]
    life_events: dict[str, CodeItem]
    lahella: dict[str, Any]
    ptv: dict[str, Any]

    def stage(self, slug: str) -> Stage | None:
        return _by_slug("stages").get(slug)  # type: ignore[return-value]

    def theme(self, slug: str) -> Theme | None:
        return _by_slug("themes").get(slug)  # type: ignore[return-value]

    def activity_type(self, slug: str) -> Term | None:
        return _by_slug("activity_types").get(slug)

    def steps_for_segment(self, segment: str) -> list[ReferralStep]:
        return [step for step in self.referral_steps if segment in step.segments]

    def municipality_by_name(self, name: str) -> Municipality | None:
        return _municipality_names().get(name.strip().casefold())

    def municipality(self, code_or_name: str) -> Municipality | None:
        return (
            self.municipalities.get(code_or_name.zfill(3))
            if code_or_name.isdigit()
            else (self.municipality_by_name(code_or_name))
        )


def _code_items(name: str) -> dict[str, CodeItem]:
    items = {}
    for raw in _load(name)["items"]:
        items[raw["code"]] = CodeItem(
            code=raw["code"],
            uri=raw["uri"],
            labels={k: v for k, v in raw["name"].items() if v},
            parent=raw.get("parent"),
            parent_uri=raw.get("parentUri"),
            description={k: v for k, v in (raw.get("description") or {}).items() if v},
        )
    return items


@cache
def taxonomy() -> Taxonomy:
    """The taxonomy, loaded once per process."""
    county = _load("county.json")
    return Taxonomy(
        stages=tuple(
            Stage(
                slug=s["slug"],
                labels=_labels(s),
                activity_types=tuple(s["activity_types"]),
                requires_channel=tuple(s.get("requires_channel", ())),
            )
            for s in county["stages"]
        ),
        themes=tuple(
            Theme(slug=t["slug"], labels=_labels(t), sub_activities=tuple(t["sub_activities"]))
            for t in county["themes"]
        ),
        activity_types=tuple(Term(t["slug"], _labels(t)) for t in county["activity_types"]),
        segments=tuple(Term(s["slug"], _labels(s)) for s in county["segments"]),
        referral_steps=tuple(
            ReferralStep(slug=r["slug"], labels=_labels(r), segments=tuple(r["segments"]))
            for r in county["referral_steps"]
        ),
        service_areas=tuple(county["service_areas"]),
        municipalities={
            m["code"]: Municipality(m["code"], _labels(m["name"]))
            for m in _load("municipalities-pohjois-pohjanmaa.json")["items"]
        },
        service_classes=_code_items("service-classes.json"),
        target_groups=_code_items("target-groups.json"),
        life_events=_code_items("life-events.json"),
        lahella=_load("lahella-mappings.json"),
        ptv=_load("ptv-mappings.json"),
    )


@cache
def _by_slug(kind: str) -> dict[str, Term]:
    return {term.slug: term for term in getattr(taxonomy(), kind)}


@cache
def _municipality_names() -> dict[str, Municipality]:
    return {
        label.casefold(): municipality
        for municipality in taxonomy().municipalities.values()
        for label in municipality.labels.values()
    }


@cache
def _keyword_pattern() -> tuple[re.Pattern[str], dict[str, list[dict[str, Any]]]]:
    """One alternation of every keyword stem, matched at word starts."""
    by_stem: dict[str, list[dict[str, Any]]] = {}
    for rule in taxonomy().lahella["keywords"]:
        for stem in rule["stems"]:
            by_stem.setdefault(stem.casefold(), []).append(rule)
    stems = sorted(by_stem, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(s) for s in stems) + ")", re.IGNORECASE)
    return pattern, by_stem


@dataclass(frozen=True)
class Features:
    """What classification looks at, already pulled out of an upstream record."""

    activity_kind: str | None
    themes: tuple[str, ...]
    formats: tuple[str, ...]
    demographics: tuple[str, ...]
    channel_types: tuple[str, ...]
    text: str


def _add(target: dict[str, list[Reason]], keys: list[str], reason: Reason) -> None:
    for key in keys:
        reasons = target.setdefault(key, [])
        if reason not in reasons:
            reasons.append(reason)


def _apply(placement: Placement, mapping: dict[str, Any], reason: Reason) -> None:
    _add(placement.themes, mapping.get("themes", []), reason)
    _add(placement.service_classes, mapping.get("service_classes", []), reason)
    _add(placement.target_groups, mapping.get("target_groups", []), reason)
    _add(placement.life_events, mapping.get("life_events", []), reason)
    _add(placement.ontology_terms, mapping.get("ontology_terms", []), reason)


def _age_range(code: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"ageGroup/range:(\d+)-(\d+)", code)
    return (int(match[1]), int(match[2])) if match else None


def _age_target_groups(low: int, high: int) -> list[str]:
    groups: list[str] = []
    for rule in taxonomy().lahella["age_groups"]:
        if "max_age_at_most" in rule and low <= rule["max_age_at_most"]:
            groups += rule["target_groups"]
        if "overlaps" in rule and low <= rule["overlaps"][1] and high >= rule["overlaps"][0]:
            groups += rule["target_groups"]
        if "min_age_at_least" in rule and high >= rule["min_age_at_least"]:
            groups += rule["target_groups"]
    return groups


def _classify_codes(features: Features, placement: Placement) -> None:
    tables = taxonomy().lahella
    for theme in features.themes:
        mapping = tables["theme"].get(theme)
        if mapping is None:
            placement.unmapped.append(("traits.theme", theme))
            continue
        _apply(placement, mapping, Reason("theme", theme))
    for fmt in features.formats:
        mapping = tables["format"].get(fmt)
        if mapping is None:
            placement.unmapped.append(("traits.format", fmt))
            continue
        _add(placement.activity_types, mapping["activity_types"], Reason("format", fmt))
        _apply(placement, mapping, Reason("format", fmt))
    for code in features.demographics:
        age = _age_range(code)
        if age is not None:
            _add(placement.target_groups, _age_target_groups(*age), Reason("age_group", code))
        elif code not in tables["gender"]:
            placement.unmapped.append(("traits.demographic", code))


def _classify_keywords(features: Features, placement: Placement) -> None:
    pattern, by_stem = _keyword_pattern()
    # Stems in order of first appearance: a set's order would follow PYTHONHASHSEED.
    for stem in dict.fromkeys(m.casefold() for m in pattern.findall(features.text)):
        for rule in by_stem[stem]:
            reason = Reason("keyword", f"{rule['rule']}: {stem}")
            _add(placement.activity_types, rule.get("activity_types", []), reason)
            _apply(placement, rule, reason)


def _classify_stages(features: Features, placement: Placement) -> None:
    for stage in taxonomy().stages:
        if stage.requires_channel and not set(stage.requires_channel) & set(features.channel_types):
            continue
        for activity_type in placement.activity_types:
            if activity_type in stage.activity_types:
                _add(placement.stages, [stage.slug], Reason("activity_type", activity_type))


def classify(features: Features) -> Placement:
    """Place one activity in the county taxonomy and PTV code lists, with reasons."""
    placement = Placement()
    type_mapping = taxonomy().lahella["type"].get(features.activity_kind or "")
    if features.activity_kind and type_mapping is None:
        placement.unmapped.append(("traits.type", features.activity_kind))
    _classify_codes(features, placement)
    _classify_keywords(features, placement)
    if type_mapping is not None:
        reason = Reason("type", str(features.activity_kind))
        if not placement.activity_types:
            _add(placement.activity_types, type_mapping["activity_types"], reason)
        _apply(placement, type_mapping, reason)
    _add(placement.target_groups, ["KR1"], Reason("default", "all residents"))
    _classify_stages(features, placement)
    return placement


@dataclass(frozen=True)
class PtvFeatures:
    """What PTV classification looks at: the service's code lists and its provider."""

    service_classes: tuple[str, ...]
    target_groups: tuple[str, ...]
    life_events: tuple[str, ...]
    organization_type: str | None
    channel_types: tuple[str, ...]
    text: str


def _class_rule(code: str) -> tuple[str, dict[str, Any]] | None:
    """The rule for a service class: its own, else its nearest listed parent's."""
    rules = taxonomy().ptv["service_classes"]
    parts = code.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in rules:
            return candidate, rules[candidate]
    return None


def _under(code: str, prefixes: list[str]) -> bool:
    return any(code == p or code.startswith(p + ".") for p in prefixes)


def ptv_kind(features: PtvFeatures) -> str:
    """'sote' for the county's social and health services, else 'activity' (seed split)."""
    rules = taxonomy().ptv["sote"]
    if features.organization_type not in rules["organization_types"]:
        return "activity"
    sote_classes = [
        code
        for code in features.service_classes
        if _under(code, rules["service_classes"])
        and not _under(code, rules["low_threshold_service_classes"])
    ]
    return "sote" if sote_classes else "activity"


def classify_ptv(features: PtvFeatures) -> tuple[str, Placement]:
    """Place one PTV service: its kind, and stages and themes through its code lists."""
    tax, placement = taxonomy(), Placement()
    kind = ptv_kind(features)
    for code in features.service_classes:
        if code in tax.service_classes:
            _add(placement.service_classes, [code], Reason("ptv", code))
        found = _class_rule(code)
        if found is None:
            placement.unmapped.append(("serviceClasses", code))
            continue
        listed, rule = found
        reason = Reason("service_class", listed)
        _add(placement.activity_types, rule.get("activity_types", []), reason)
        _add(placement.themes, rule.get("themes", []), reason)
        if kind == "sote":
            _add(placement.stages, rule.get("sote_stages", []), reason)
    for code in features.life_events:
        if code in tax.life_events:
            _add(placement.life_events, [code], Reason("ptv", code))
        rule = tax.ptv["life_events"].get(code)
        if rule is not None:
            _add(placement.themes, rule.get("themes", []), Reason("life_event", code))
    for code in features.target_groups:
        if code in tax.target_groups:
            _add(placement.target_groups, [code], Reason("ptv", code))
        else:
            placement.unmapped.append(("targetGroups", code))
        if (rule := tax.ptv["target_groups"].get(code)) is not None:
            _add(placement.themes, rule.get("themes", []), Reason("target_group", code))
    if not placement.target_groups:
        _add(placement.target_groups, ["KR1"], Reason("default", "all residents"))
    if kind == "sote":
        rules = tax.ptv["sote"]
        if not placement.stages:
            _add(placement.stages, rules["default_stages"], Reason("default", "sote service"))
        if {"online", "phone"} & set(features.channel_types):
            _add(placement.stages, [rules["digital_stage"]], Reason("channel", "online or phone"))
        placement.stages = {
            s.slug: placement.stages[s.slug] for s in tax.stages if s.slug in placement.stages
        }
    else:
        # The Lähellä.fi keyword and stage rules, on what a PTV service has of their input.
        as_lahella = Features(None, (), (), (), features.channel_types, features.text)
        _classify_keywords(as_lahella, placement)
        _classify_stages(as_lahella, placement)
    return kind, placement
