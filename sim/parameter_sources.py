"""The register of where each parameter comes from (``sim/data/parameter_sources.yaml``).

Every parameter of the resolved baseline (the scenario file with the schema's defaults filled in)
has an entry: its basis (a source, a calibration, an assumption or a structural choice), the
citation and the reasoning. ``resolved_parameters`` lists the parameters of a scenario by key path
(``states.US.export_controls[0].start``); ``entry_for`` finds a parameter's entry, which may be
written for its concrete path or for every name (``providers.<name>.home_state``) or list item
(``states.US.export_controls[i].start``). The checks in ``tests/test_parameter_sources.py`` and
the tables of ``docs/baseline.md`` (``sim.baseline_doc``) read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from sim.schema import ScenarioFile

REGISTER_PATH = Path(__file__).resolve().parent / "data" / "parameter_sources.yaml"
BASES = ("source", "calibrated", "assumption", "structural")
NAMED_SECTIONS = ("providers", "states", "tenders.kinds")
LEFT_OUT = ("description",)
"""Fields that are text for readers, not parameters."""


@dataclass(frozen=True)
class Entry:
    """Where one parameter (or one family of them) comes from."""

    key: str
    basis: str
    source: str = ""
    note: str = ""
    drives: bool = True


def load_register(path: Path = REGISTER_PATH) -> dict[str, Entry]:
    """Read the register; raise ``ValueError`` naming the key of a malformed entry."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    register = {}
    for key, fields in (data.get("parameters") or {}).items():
        if not isinstance(fields, dict) or fields.get("basis") not in BASES:
            raise ValueError(f"{path}: parameters.{key}: expected basis one of {BASES}")
        unknown = set(fields) - {"basis", "source", "note", "drives"}
        if unknown:
            raise ValueError(f"{path}: parameters.{key}: unknown fields {sorted(unknown)}")
        if fields["basis"] == "source" and not fields.get("source"):
            raise ValueError(f"{path}: parameters.{key}: basis source needs a source")
        register[key] = Entry(
            key,
            fields["basis"],
            str(fields.get("source", "")),
            str(fields.get("note", "")),
            bool(fields.get("drives", True)),
        )
    return register


def resolved_parameters(settings: ScenarioFile) -> dict[str, Any]:
    """Every parameter of a scenario by key path, in schema order, with its resolved value."""
    return dict(_walk(settings, ""))


def _walk(section: BaseModel, path: str):
    for name in type(section).model_fields:
        value = getattr(section, name)
        key = f"{path}.{name}" if path else name
        if key in LEFT_OUT:
            continue
        if isinstance(value, BaseModel):
            yield from _walk(value, key)
        elif (
            isinstance(value, dict)
            and value
            and all(isinstance(item, BaseModel) for item in value.values())
        ):
            for item_name, item in value.items():
                yield from _walk(item, f"{key}.{item_name}")
        elif isinstance(value, list) and value and all(isinstance(i, BaseModel) for i in value):
            for index, item in enumerate(value):
                yield from _walk(item, f"{key}[{index}]")
        else:
            yield key, value


def generic_forms(key: str) -> list[str]:
    """The key itself, then the forms an entry may use for it: list items as ``[i]``, the names
    of providers, states and tender kinds as ``<name>``, and both."""
    items = re.sub(r"\[\d+\]", "[i]", key)
    forms = [key, items]
    for section in NAMED_SECTIONS:
        prefix = section + "."
        for form in (key, items):
            if form.startswith(prefix):
                rest = form[len(prefix) :].split(".", 1)
                if len(rest) == 2:
                    forms.append(f"{prefix}<name>.{rest[1]}")
    return list(dict.fromkeys(forms))


def entry_for(key: str, register: dict[str, Entry]) -> Entry | None:
    """The most specific entry that covers a parameter, or ``None``."""
    return next((register[form] for form in generic_forms(key) if form in register), None)


def missing_entries(settings: ScenarioFile, register: dict[str, Entry]) -> dict[str, Any]:
    """Parameters of the scenario that no entry covers, with their values."""
    return {
        key: value
        for key, value in resolved_parameters(settings).items()
        if entry_for(key, register) is None
    }


def calibrated_by(key: str, calibrated: list[str]) -> str | None:
    """The calibration parameter (a key of calibration/abc.yaml) that fits this entry's key."""
    return next((name for name in calibrated if name == key or name.startswith(key + ".")), None)


def awaiting_prior(
    settings: ScenarioFile, register: dict[str, Entry], calibrated: list[str]
) -> list[str]:
    """Parameters marked assumption that drive an answer and have no calibration prior."""
    awaiting = []
    for key in resolved_parameters(settings):
        entry = entry_for(key, register)
        if (
            entry
            and entry.basis == "assumption"
            and entry.drives
            and calibrated_by(key, calibrated) is None
        ):
            awaiting.append(key)
    return awaiting


def missing_message(missing: dict[str, Any], path: Path = REGISTER_PATH) -> str:
    """What to add to the register, as YAML lines to fill in."""
    lines = [
        f"{len(missing)} parameter(s) of the resolved baseline have no entry in {path.name}"
        " (add one each, or a <name>/[i] entry for a family):"
    ]
    lines += [
        f"  {key}: {{basis: TODO, source: '', note: ''}}   # baseline value: {value!r}"
        for key, value in missing.items()
    ]
    return "\n".join(lines)
