"""The Kubernetes manifests load, reference real settings and probe real endpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from lahella_bridge.app import create_app
from lahella_bridge.config import Settings

K8S = Path(__file__).resolve().parents[1] / "deploy" / "k8s"
REQUIRED = {"ConfigMap", "Secret", "Job", "Deployment", "Service", "CronJob"}


def documents() -> list[dict[str, Any]]:
    return [
        doc
        for path in sorted(K8S.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text("utf-8"))
        if doc
    ]


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec", {})
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    if "template" in spec:
        return list(spec["template"]["spec"]["containers"])
    return []


def test_every_kind_is_there_with_api_version_and_name() -> None:
    docs = documents()
    assert {doc["kind"] for doc in docs} >= REQUIRED
    assert all(doc["apiVersion"] and doc["metadata"]["name"] for doc in docs)


def test_config_keys_are_real_settings() -> None:
    fields = {f"LAHELLA_BRIDGE_{name.upper()}" for name in Settings.model_fields}
    for doc in documents():
        if doc["kind"] in ("ConfigMap", "Secret"):
            data = doc.get("data") or doc.get("stringData")
            assert set(data) <= fields, set(data) - fields
        for container in containers(doc):
            assert {e["name"] for e in container.get("env", [])} <= fields


def test_commands_and_probes_exist() -> None:
    paths = set(create_app(Settings(), "postgresql+asyncpg://x/y").openapi()["paths"])
    commands = set()
    for doc in documents():
        for container in containers(doc):
            assert container["command"][0] == "lahella-bridge"
            commands.add(container["command"][1])
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                if probe in container:
                    assert container[probe]["httpGet"]["path"] in paths
    assert commands == {"serve", "migrate", "harvest"}


def test_the_harvest_cronjob_never_overlaps() -> None:
    cron = next(doc for doc in documents() if doc["kind"] == "CronJob")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
