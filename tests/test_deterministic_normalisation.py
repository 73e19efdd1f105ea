"""The same upstream record gives byte-identical output in every process.

A harvest or `renormalise` in a new process must not republish records whose output only
changed order: Python's string hashing is salted per process (PYTHONHASHSEED), so any
iteration over a set of strings would leak into the themes, types and their reasons.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

NORMALISE_THE_SAMPLES = textwrap.dedent(
    """
    import dataclasses, json
    from datetime import date
    from lahella_bridge.normalise.lahella import normalise
    from lahella_bridge.normalise.outcome import Context, UnusableRecord
    from lahella_bridge.normalise.ptv_source import normalise_ptv
    from lahella_bridge.sample.data import generate, now_for
    from lahella_bridge.sample.ptv_data import generate_ptv
    from lahella_bridge.upstream.ptv_schemas import PtvService

    anchor = date(2026, 3, 2)
    context = Context(now=now_for(anchor))
    bundles = []
    ptv_sample = generate_ptv(anchor)
    for service in ptv_sample.services.values():
        parsed = PtvService.model_validate(service)
        responsible = parsed.responsible_organization()
        bundles.append({
            "service": service,
            "channels": [ptv_sample.channels[c] for c in parsed.channel_ids()],
            "organization": ptv_sample.organizations.get(responsible.id) if responsible else None,
        })
    jobs = [(normalise, r) for r in generate(count=2000, anchor=anchor)]
    jobs += [(normalise_ptv, b) for b in bundles]
    for mapping, raw in jobs:
        try:
            result = mapping(raw, context)
        except UnusableRecord as exc:
            print("unusable", exc)
            continue
        print(json.dumps(dataclasses.asdict(result), default=str, ensure_ascii=False))
    """
)


def normalised_in_a_process(hash_seed: str) -> list[str]:
    environment = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", NORMALISE_THE_SAMPLES],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return done.stdout.splitlines()


def test_the_samples_normalise_byte_identically_under_different_hash_seeds() -> None:
    first, second = normalised_in_a_process("1"), normalised_in_a_process("2")
    assert len(first) > 2000
    differing = [index for index, (a, b) in enumerate(zip(first, second, strict=True)) if a != b]
    assert not differing, f"{len(differing)} of {len(first)} records differ, e.g. {differing[:5]}"
