"""The parameter reference, generated from the scenario schema (``sim.schema``).

``render_parameter_reference()`` walks ``ScenarioFile`` and every section model it contains
(through plain sub-models, ``{name: model}`` mappings and lists of models) and writes one markdown
table per section: key path, default, unit, range, whether the value is time-phased, and meaning.
Everything comes from the schema itself (``model_fields``, the ``Ge``/``Le`` constraints pydantic
keeps in ``FieldInfo.metadata``, and the ``json_schema_extra`` of ``param``/``phased``), so a new
field appears in the reference without touching this module.

Key paths use ``<name>`` for a key the scenario chooses (a provider, a state, a tender kind) and
``[i]`` for an item of a list: ``states.<name>.export_controls[i].start``.

Run ``python -m sim.docs`` to rewrite ``docs/parameters.md``; ``python -m sim.docs --check`` exits
with status 1 if the file is out of date.
"""

from __future__ import annotations

import argparse
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from sim.schema import ScenarioFile

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_PATH = PROJECT_ROOT / "docs" / "parameters.md"
REGENERATE_COMMAND = "python -m sim.docs"
NAME_PLACEHOLDER = "<name>"
ITEM_SUFFIX = "[i]"
NONE = "—"

HEADER = f"""\
<!-- Generated from sim/schema.py by `{REGENERATE_COMMAND}`. Do not edit by hand. -->
# Parameter reference

Generated from the scenario schema (`sim/schema.py`) by `{REGENERATE_COMMAND}`; do not edit by
hand. `{REGENERATE_COMMAND} --check` tells whether this file is up to date.

Every parameter of a scenario file, section by section. **Key path** is what you write in YAML
(nested keys joined by dots) or after `--set`; `<name>` stands for a name you choose (a provider,
a state, a tender kind) and `[i]` for an item of a list. **Range** is inclusive; a value outside it
is refused. A **time-phased** value is a number or a `{{year: value}}` step function (0 before its
first year; see `docs/model.md`), every value within the range. The model description is in
`docs/model.md`; the baseline's values and their sources are in `docs/baseline.md`.
"""


@dataclass(frozen=True)
class ParameterRow:
    """One row of the reference: a field of a section."""

    key_path: str
    default: str
    unit: str
    range: str
    phased: bool
    meaning: str


@dataclass
class SectionDoc:
    """One section of the reference: a schema model reached at a key path."""

    key_path: str
    model: type[BaseModel]
    rows: list[ParameterRow] = field(default_factory=list)
    default_entries: str = ""


# --- walking the schema ---------------------------------------------------------------------

def _model_type(annotation: Any) -> type[BaseModel] | None:
    """The annotation itself if it is a schema model, else ``None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _container(annotation: Any) -> tuple[str, type[BaseModel]] | None:
    """``("model" | "dict" | "list", item model)`` for a field holding sub-models, else ``None``."""
    model = _model_type(annotation)
    if model is not None:
        return "model", model
    origin = typing.get_origin(annotation)
    if origin in (dict, list):
        item = _model_type(typing.get_args(annotation)[-1])
        if item is not None:
            return ("dict" if origin is dict else "list"), item
    return None


def _child_path(path: str, kind: str) -> str:
    """Key path of the items of a container field at ``path``."""
    if kind == "dict":
        return f"{path}.{NAME_PLACEHOLDER}"
    if kind == "list":
        return f"{path}{ITEM_SUFFIX}"
    return path


def iter_sections(model: type[BaseModel] = ScenarioFile, key_path: str = "",
                  default: Any = PydanticUndefined) -> Iterator[SectionDoc]:
    """Every section reachable from ``model``, parents before their children.

    ``default`` is the container's default value (for a ``{name: model}`` mapping, its default
    entries are summarised in the section).
    """
    section = SectionDoc(key_path, model)
    if isinstance(default, dict) and default:
        section.default_entries = _describe_entries(model, default)
    children: list[tuple[type[BaseModel], str, Any]] = []
    for name, info in model.model_fields.items():
        container = _container(info.annotation)
        path = f"{key_path}.{name}" if key_path else name
        section.rows.append(_row(path, info, container))
        if container is not None:
            kind, item = container
            children.append((item, _child_path(path, kind), _default_of(info)))
    yield section
    for item, path, child_default in children:
        yield from iter_sections(item, path, child_default)


def schema_key_paths() -> list[str]:
    """The key path of every field of every section, in reference order."""
    return [row.key_path for section in iter_sections() for row in section.rows]


def _split_path(key_path: str) -> list[str]:
    """``"states.US.export_controls[0].start"`` -> ``["states", "US", "export_controls", "[]",
    "start"]``."""
    parts: list[str] = []
    for part in key_path.split("."):
        if part.endswith("]") and "[" in part:
            parts += [part[: part.index("[")], "[]"]
        else:
            parts.append(part)
    return parts


def key_path_exists(key_path: str) -> bool:
    """Whether a key path names a field or section of the schema.

    Names chosen by the scenario may be written as placeholders (``providers.<name>.capability``)
    or as concrete names (``providers.Huawei.capability``); list items as ``[i]`` or ``[0]``.
    """
    current: Any = ScenarioFile
    for part in _split_path(key_path):
        model = _model_type(current)
        origin = typing.get_origin(current)
        if model is not None:
            info = model.model_fields.get(part)
            if info is None:
                return False
            current = info.annotation
        elif origin is dict:
            key_type, current = typing.get_args(current)
            if typing.get_origin(key_type) is typing.Literal and part not in typing.get_args(
                    key_type) and not (part.startswith("<") and part.endswith(">")):
                return False
        elif origin is list and part == "[]":
            current = typing.get_args(current)[0]
        else:
            return False
    return True


# --- formatting -----------------------------------------------------------------------------

def _default_of(info: FieldInfo) -> Any:
    if info.is_required():
        return PydanticUndefined
    return info.get_default(call_default_factory=True)


def _number(value: float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (float(value).is_integer() and abs(value) < 1e16):
        return str(int(value))
    return format(float(value), ".12g")


def _value(value: Any) -> str:
    """A default value as it would be written in YAML (short form)."""
    if value is PydanticUndefined:
        return "required"
    if value is None:
        return "none"
    if isinstance(value, bool | int | float):
        return _number(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, BaseModel):
        return "see section"
    if isinstance(value, dict):
        if not value:
            return "{}"
        if all(isinstance(item, BaseModel) for item in value.values()):
            return ", ".join(str(key) for key in value) + " (see section)"
        return "{" + ", ".join(f"{key}: {_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    return str(value)


def _range(info: FieldInfo) -> str:
    """Inclusive bounds from ``ge``/``le`` (or ``gt``/``lt``), ``minimum``/``maximum``, or the
    allowed values of a ``Literal``; ``—`` when the schema states none."""
    low = high = None
    low_text, high_text = "≥", "≤"
    for constraint in info.metadata:
        if isinstance(constraint, annotated_types.Ge):
            low = constraint.ge
        elif isinstance(constraint, annotated_types.Gt):
            low, low_text = constraint.gt, ">"
        elif isinstance(constraint, annotated_types.Le):
            high = constraint.le
        elif isinstance(constraint, annotated_types.Lt):
            high, high_text = constraint.lt, "<"
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    low = extra.get("minimum", low)
    high = extra.get("maximum", high)
    if low is not None and high is not None:
        return f"{_number(low)} – {_number(high)}"
    if low is not None:
        return f"{low_text} {_number(low)}"
    if high is not None:
        return f"{high_text} {_number(high)}"
    annotation = info.annotation
    if typing.get_origin(annotation) is typing.Literal:
        return "one of " + ", ".join(str(choice) for choice in typing.get_args(annotation))
    if typing.get_origin(annotation) is dict:
        key_type = typing.get_args(annotation)[0]
        if typing.get_origin(key_type) is typing.Literal:
            return "keys: " + ", ".join(str(choice) for choice in typing.get_args(key_type))
    return NONE


def _is_phased(info: FieldInfo) -> bool:
    extra = info.json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("phased"))


def _unit(info: FieldInfo) -> str:
    extra = info.json_schema_extra
    unit = extra.get("unit") if isinstance(extra, dict) else None
    return str(unit) if unit else NONE


def _meaning(info: FieldInfo, path: str, container: tuple[str, type[BaseModel]] | None) -> str:
    meaning = (info.description or "").strip()
    if container is not None:
        meaning += f" Fields: see `{_child_path(path, container[0])}`."
    return meaning.strip()


def _row(path: str, info: FieldInfo, container: tuple[str, type[BaseModel]] | None) -> ParameterRow:
    return ParameterRow(key_path=path, default=_value(_default_of(info)), unit=_unit(info),
                        range=_range(info), phased=_is_phased(info),
                        meaning=_meaning(info, path, container))


def _describe_entries(model: type[BaseModel], entries: dict[str, Any]) -> str:
    """``name`` (fields that differ from the model's own defaults) for each default entry."""
    parts = []
    for name, entry in entries.items():
        settings = []
        for field_name, info in model.model_fields.items():
            value = getattr(entry, field_name)
            if info.is_required() or value != _default_of(info):
                settings.append(f"{field_name} {_value(value)}")
        parts.append(f"`{name}` ({', '.join(settings)})" if settings else f"`{name}`")
    return "; ".join(parts)


def _cell(text: str) -> str:
    """A table cell: pipes escaped; ``<`` and ``>`` escaped outside code spans (so that
    ``<column>`` is not read as an HTML tag)."""
    pieces = text.replace("|", "\\|").replace("\n", " ").split("`")
    for index in range(0, len(pieces), 2):
        pieces[index] = pieces[index].replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(pieces)


def _docstring(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or "").split())


def _render_section(section: SectionDoc) -> str:
    title = f"`{section.key_path}`" if section.key_path else "Top level"
    lines = [f"## {title}", "", _cell(_docstring(section.model)), ""]
    if section.default_entries:
        lines += ["Default entries when a scenario does not give this mapping (each with the "
                  f"fields that differ from the defaults below): {_cell(section.default_entries)}.",
                  ""]
    lines += ["| key path | default | unit | range | time-phased | meaning |",
              "|---|---|---|---|---|---|"]
    for row in section.rows:
        cells = (f"`{row.key_path}`", row.default, row.unit, row.range,
                 "yes" if row.phased else "no", row.meaning)
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def render_parameter_reference() -> str:
    """The whole parameter reference as markdown (the content of ``docs/parameters.md``)."""
    return HEADER + "".join("\n" + _render_section(section) for section in iter_sections())


# --- command line ---------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    """Write ``docs/parameters.md``, or with ``--check`` report whether it is up to date."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.docs",
        description="Generate the parameter reference (docs/parameters.md) from sim/schema.py.")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if the file is missing or out of date")
    parser.add_argument("--output", type=Path, default=REFERENCE_PATH,
                        help="file to write or check (default: docs/parameters.md)")
    args = parser.parse_args(argv)
    expected = render_parameter_reference()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else None
        if current != expected:
            state = "missing" if current is None else "out of date with sim/schema.py"
            print(f"{_shown(args.output)} is {state}; regenerate it with: {REGENERATE_COMMAND}",
                  file=sys.stderr)
            return 1
        print(f"{_shown(args.output)} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(expected, encoding="utf-8")
    print(f"Wrote {_shown(args.output)}")
    return 0


def _shown(path: Path) -> str:
    """A path as printed: relative to the project when it is inside it."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
