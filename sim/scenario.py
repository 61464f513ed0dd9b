"""Reading scenario files: YAML, ``extends``, ``--set`` overrides, validation, clear errors.

``load_scenario(path, overrides)`` returns a validated ``ScenarioFile`` or raises ``UserError``
with one readable message naming the file, the key path and what was expected (and, for a
misspelt key, the nearest valid one). Nothing is written on the way.

Rules:
- ``extends: other.yaml`` (relative to the file) loads the parent first; the child's mappings are
  merged key by key into the parent's, anything else (numbers, lists, strings) replaces. A
  time-phased mapping therefore adds or replaces steps; a plain number replaces the whole.
- ``--set key.path=value`` overrides are applied after ``extends``; the value is read as YAML
  and means what the same value means in a child scenario file: a mapping (a time-phased
  ``{year: value}`` schedule) is merged into the one it overrides (adding or replacing steps),
  anything else replaces. ``--set 'key.path=!replace {2024: 1500}'`` replaces a whole mapping.
"""

from __future__ import annotations

import collections
import difflib
import hashlib
import json
import reprlib
import types
import typing
from pathlib import Path
from typing import Any

from pandas.api.types import is_bool_dtype, is_numeric_dtype
from pydantic import BaseModel, ValidationError

from sim.countries import load_countries
from sim.errors import UserError
from sim.limits import MAX_EXTENDS_DEPTH, MAX_INPUT_FILE_BYTES
from sim.market.financing import repayment_periods
from sim.schema import ScenarioFile
from sim.shipped import scenario_path, shipped_folder
from sim.strict_yaml import load_yaml

SCENARIO_DIR = shipped_folder("scenarios")
"""The shipped scenarios (the checkout's ``scenarios/``, or the installed package data)."""
MAX_MESSAGE_LINES = 20
"""A message lists at most this many problems (then says how many more)."""


def load_scenario(path: str | Path, overrides: typing.Sequence[str] = (),
                  values: typing.Mapping[str, Any] | None = None, *,
                  merge_values: bool = False) -> ScenarioFile:
    """Load, merge, override and validate a scenario file.

    ``path`` is a file, or a shipped scenario's name as ``cloudrace scenarios`` prints it
    (``baseline``, ``policy/us_dfc_push.yaml``). ``overrides`` are ``key.path=value`` strings
    as on the command line (the value read as YAML); ``values`` maps key paths to Python
    values directly. An override merges a mapping into the mapping it overrides, as ``extends``
    does (``!replace`` replaces it whole); ``values`` replace whole values (the app and
    experiments compute them whole) unless ``merge_values`` (the Python API, where they mean
    what ``--set`` means).
    """
    path = scenario_path(path)
    files: list[Path] = []
    raw = _read_with_extends(path, chain=(), files=files)
    raw.pop("extends", None)
    # Validation runs on the merged file: name the whole chain, since the key may come from any.
    label = str(path) if len(files) == 1 else \
        f"{path} (extending {' <- '.join(str(f) for f in files[1:])})"
    override_paths = []
    assignments = [(*_parse_override(assignment), assignment) for assignment in overrides]
    assignments += [(key.split("."), value, not merge_values, f"{key}={show(value)}")
                    for key, value in (values or {}).items()]
    for key_path, value, replace, assignment in assignments:
        _set_path(raw, key_path, value, assignment, replace)
        override_paths.append(tuple(key_path))
    _resolve_data_file(raw, path)
    try:
        scenario = ScenarioFile.model_validate(raw)
    except ValidationError as error:
        raise UserError(format_validation_error(label, error, override_paths)) from None
    _check_references(label, scenario)
    return scenario


def scenario_hash(scenario: ScenarioFile) -> str:
    """SHA-256 of the resolved scenario's canonical JSON (same parameters, same hash)."""
    canonical = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _read_yaml(path: Path) -> dict[str, Any]:
    data = load_yaml(read_text(path, "scenario"), str(path))
    if data is None:
        raise UserError(f"{path}: the file is empty; expected a mapping of scenario sections "
                        "(at least 'description:')")
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of scenario sections at the top level, "
                        f"got {type(data).__name__}")
    return data


def read_text(path: Path, noun: str) -> str:
    """The text of a user's input file, or ``UserError`` (missing, unreadable, binary, huge)."""
    try:
        if not path.is_file():
            raise UserError(f"{path}: {noun} file not found")
        size = path.stat().st_size
        if size > MAX_INPUT_FILE_BYTES:
            raise UserError(f"{path}: the {noun} file is {size:,} bytes; at most "
                            f"{MAX_INPUT_FILE_BYTES:,} are read")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: cannot read the {noun} file: it is not UTF-8 text") from None
    except OSError as error:
        raise UserError(f"{path}: cannot read the {noun} file ({error.strerror or error})"
                        ) from None


def _read_with_extends(path: Path, chain: tuple[Path, ...], files: list[Path]
                       ) -> dict[str, Any]:
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError) as error:  # a symbolic link loop
        raise UserError(f"{path}: cannot open the scenario file ({error})") from None
    if resolved in chain:
        cycle = " -> ".join(p.name for p in (*chain, resolved))
        raise UserError(f"{path}: 'extends' forms a cycle: {cycle}")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise UserError(f"{files[0]}: 'extends' chains more than {MAX_EXTENDS_DEPTH} files "
                        f"(reached {path})")
    data = _read_yaml(path)
    files.append(path)
    parent_name = data.get("extends")
    if parent_name is None:
        return data
    if not isinstance(parent_name, str):
        raise UserError(f"{path}: extends: expected a file name such as baseline.yaml, "
                        f"got {show(parent_name)}")
    parent_path = path.parent / parent_name
    if not parent_path.is_file():
        raise UserError(f"{path}: extends: file not found: {parent_path}")
    parent = _read_with_extends(parent_path, (*chain, resolved), files)
    parent.pop("extends", None)
    return _deep_merge(parent, data)


def _deep_merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


REPLACE = "!replace"
"""The prefix of a ``--set`` value that replaces a whole mapping instead of merging into it."""


def _parse_override(assignment: str) -> tuple[list[str], Any, bool]:
    """The key path, the value (read as YAML) and whether it replaces a mapping whole."""
    key, sep, text = assignment.partition("=")
    if not sep or not key.strip():
        raise UserError(f"--set {clip(assignment)}: expected key.path=value, e.g. "
                        "--set choice.cost_weight=2.5")
    replace = text.lstrip().startswith(REPLACE)
    if replace:
        text = text.lstrip().removeprefix(REPLACE)
    if not text.strip():
        return key.strip().split("."), None, replace
    try:
        value = load_yaml(text, "value")
    except UserError as error:
        raise UserError(f"--set {clip(assignment)}: cannot read the value "
                        f"({str(error).removeprefix('value: ')})") from None
    return key.strip().split("."), value, replace


_SHOW = reprlib.Repr(maxlevel=2, maxdict=4, maxlist=4, maxtuple=4, maxset=4, maxstring=60,
                     maxlong=40, maxother=60)


def clip(text: str, limit: int = 100) -> str:
    """``text`` as it is, or its first ``limit`` characters and ``...``."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def show(value: Any) -> str:
    """A short repr of a user's value for a message: long or nested values are cut (``...``).

    Never the full repr: a value can be a structure of 10^9 items (aliases) or a huge string.
    """
    return clip(_SHOW.repr(value), 120)


def _set_path(raw: dict[str, Any], key_path: list[str], value: Any, assignment: str,
              replace: bool) -> None:
    """Set ``value`` at ``key_path``; a mapping merges into a mapping there unless ``replace``
    (the rule of ``extends``)."""
    node = raw
    for depth, part in enumerate(key_path[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            where = ".".join(key_path[: depth + 1])
            raise UserError(f"--set {assignment}: {where} is a value, not a section")
        node = child
    last = key_path[-1]
    if not replace and isinstance(value, dict) and isinstance(node.get(last), dict):
        value = _deep_merge(node[last], value)
    node[last] = value


def _resolve_data_file(raw: dict[str, Any], path: Path) -> None:
    population = raw.get("population")
    if isinstance(population, dict) and isinstance(population.get("data_file"), str):
        population["data_file"] = str((path.parent / population["data_file"]).resolve())


def format_validation_error(label: str, error: ValidationError,
                             override_paths: list[tuple[str, ...]],
                             root: type[BaseModel] = ScenarioFile, noun: str = "scenario") -> str:
    """One readable message for a validation error of a file checked against ``root``."""
    lines = []
    seen = set()
    for item in error.errors():
        loc = tuple(str(part) for part in item["loc"] if not _is_type_tag(part))
        if loc in seen:
            continue
        seen.add(loc)
        key = ".".join(clip(part, 60) for part in loc) or "(top level)"
        origin = " (set with --set)" if any(
            loc[: len(o)] == o or o[: len(loc)] == loc for o in override_paths) else ""
        lines.append(f"  {key}{origin}: {_expectation(item, loc, root)}")
    header = f"{label}: invalid {noun}"
    if len(lines) > MAX_MESSAGE_LINES:
        lines[MAX_MESSAGE_LINES:] = [f"  ... and {len(lines) - MAX_MESSAGE_LINES} more"]
    if len(lines) == 1:
        return f"{header}: {lines[0].strip()}"
    return header + "\n" + "\n".join(lines)


def _is_type_tag(part: Any) -> bool:
    """Pydantic adds the union member's type to the location; it is not a key of the file."""
    return isinstance(part, str) and (
        part in ("float", "int", "bool", "str") or "[" in part or part.startswith("function-"))


def _expectation(item: dict[str, Any], loc: tuple[str, ...], root: type[BaseModel]) -> str:
    kind = item["type"]
    given = item.get("input")
    if kind == "extra_forbidden":
        valid = _valid_keys(loc[:-1], root)
        nearest = difflib.get_close_matches(loc[-1], valid, n=1, cutoff=0.6)
        hint = f"; did you mean '{nearest[0]}'?" if nearest else ""
        return f"unknown key{hint} (valid keys: {', '.join(sorted(valid))})"
    if kind == "missing":
        return "required key is missing"
    if kind == "finite_number":
        return f"expected a finite number, got {show(given)}"
    if kind == "value_error":
        return "expected " + str(item["ctx"]["error"])
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = {"greater_than_equal": ">=", "less_than_equal": "<=",
                 "greater_than": ">", "less_than": "<"}[kind]
        limit = next(iter(item["ctx"].values()))
        return f"expected a number {bound} {limit}, got {show(given)}"
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "dict_type",
                "int_from_float"):
        if _is_phased(loc, root):
            return f"expected a number or a {{year: value}} mapping, got {show(given)}"
        noun = {"dict_type": "a mapping"}.get(kind, "an integer" if "int" in kind else "a number")
        return f"expected {noun}, got {show(given)}"
    if kind in ("bool_parsing", "bool_type"):
        return f"expected true or false, got {show(given)}"
    if kind == "literal_error":
        return f"expected {item['ctx']['expected']}, got {show(given)}"
    if kind in ("list_type", "string_type", "model_type"):
        noun = {"list_type": "a list", "string_type": "text", "model_type": "a mapping"}[kind]
        return f"expected {noun}, got {show(given)}"
    return f"{item['msg']} (got {show(given)})"


def _field_type(loc: tuple[str, ...], root: type[BaseModel]) -> Any:
    """Follow a key path through the schema's annotations; ``None`` when it leaves the schema."""
    current: Any = root
    for part in loc:
        if typing.get_origin(current) in (typing.Union, types.UnionType):
            members = typing.get_args(current)
            models = [a for a in members if isinstance(a, type) and issubclass(a, BaseModel)]
            containers = [a for a in members if typing.get_origin(a) in (dict, list)]
            current = (models or containers or [None])[0]
        if typing.get_origin(current) in (dict, list):
            current = typing.get_args(current)[-1]
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            current = field.annotation if field else None
        else:
            return None
    return current


def _valid_keys(parent_loc: tuple[str, ...], root: type[BaseModel]) -> list[str]:
    target = _field_type(parent_loc, root) if parent_loc else root
    if isinstance(target, type) and issubclass(target, BaseModel):
        return list(target.model_fields)
    return []


def _is_phased(loc: tuple[str, ...], root: type[BaseModel]) -> bool:
    parent = _field_type(loc[:-1], root) if len(loc) > 1 else root
    if isinstance(parent, type) and issubclass(parent, BaseModel):
        field = parent.model_fields.get(loc[-1])
        extra = field.json_schema_extra if field else None
        return isinstance(extra, dict) and bool(extra.get("phased"))
    return False


def _check_references(label: str, scenario: ScenarioFile) -> None:
    """Cross-references the schema alone cannot check: names that must exist elsewhere."""
    problems = []
    if scenario.run.end_year < scenario.run.start_year:
        problems.append(f"run.end_year: expected a year no earlier than run.start_year "
                        f"({scenario.run.start_year}), got {scenario.run.end_year}")
    states = sorted(scenario.states)
    start = scenario.run.start_year
    for name, provider in scenario.providers.items():
        for key in ("capability", "cost_share"):
            schedule = getattr(provider, key)
            if isinstance(schedule, dict) and (not schedule or min(schedule) > start):
                problems.append(f"providers.{name}.{key}: expected the first year at or before "
                                f"run.start_year ({start}); a time-phased value is 0 before its "
                                "first year")
        if provider.home_state not in scenario.states:
            problems.append(f"providers.{name}.home_state: expected one of the states "
                            f"({', '.join(states)}), got {show(provider.home_state)}")
    for state_name, state in scenario.states.items():
        for index, control in enumerate(state.export_controls):
            if control.target not in scenario.providers:
                problems.append(
                    f"states.{state_name}.export_controls.{index}.target: expected one of the "
                    f"providers ({', '.join(sorted(scenario.providers))}), got "
                    f"{show(control.target)}")
        for ally in state.co_finances:
            if ally not in scenario.states:
                problems.append(f"states.{state_name}.co_finances: expected names of states "
                                f"({', '.join(states)}), got {show(ally)}")
        terms = state.financing
        if terms.grace_years >= terms.maturity_years:
            problems.append(f"states.{state_name}.financing.grace_years: expected fewer years "
                            f"than maturity_years ({terms.maturity_years:g})")
        elif repayment_periods(terms.maturity_years, terms.grace_years) < 1:
            problems.append(f"states.{state_name}.financing.grace_years: expected at least one "
                            f"whole year of repayment after the grace period (loans are repaid "
                            f"yearly; maturity {terms.maturity_years:g} and grace "
                            f"{terms.grace_years:g} years both round to "
                            f"{round(terms.maturity_years)})")
    providers = ", ".join(sorted(scenario.providers))
    hand = scenario.hand
    for key, entries in (("bidding", hand.bidding), ("choices", hand.choices),
                         ("events", hand.events)):
        for index, entry in enumerate(entries):
            if entry.provider not in scenario.providers and not (key == "choices"
                                                                 and entry.provider == ""):
                problems.append(f"hand.{key}.{index}.provider: expected one of the providers "
                                f"({providers}), got {entry.provider!r}")
    if sum(kind.share for kind in scenario.tenders.kinds.values()) <= 0:
        problems.append("tenders.kinds: expected at least one kind with a share above 0")
    problems += _column_clashes(scenario)
    problems += _data_problems(scenario)
    if problems:
        if len(problems) > MAX_MESSAGE_LINES:
            problems[MAX_MESSAGE_LINES:] = [f"... and {len(problems) - MAX_MESSAGE_LINES} more"]
        if len(problems) == 1:
            raise UserError(f"{label}: invalid scenario: {problems[0]}")
        raise UserError(f"{label}: invalid scenario\n" + "\n".join(f"  {p}" for p in problems))


def _column_clashes(scenario: ScenarioFile) -> list[str]:
    """Provider and state names whose yearly.csv columns would overwrite one another.

    A provider named ``state_US`` would write ``share_new_state_US``, the column of the state
    ``US``. The column names are the model's own (``YearlyMetrics``), so the check follows them.
    """
    from sim.metrics import YearlyMetrics

    names = types.SimpleNamespace(
        providers=[types.SimpleNamespace(name=name) for name in scenario.providers],
        states=dict.fromkeys(scenario.states))
    counts = collections.Counter(YearlyMetrics(names).columns)
    repeated = sorted(column for column, count in counts.items() if count > 1)
    if not repeated:
        return []
    return [f"providers/states: the names {', '.join(sorted(scenario.providers))} (providers) "
            f"and {', '.join(sorted(scenario.states))} (states) give yearly.csv the same column "
            f"more than once ({', '.join(repeated[:3])}); rename one (a provider must not be "
            "named state_<state>, nor <provider>_region_..., _fh_... or _income_...)"]


def _data_problems(scenario: ScenarioFile) -> list[str]:
    """Names the scenario takes from the country data: ISO3 codes and tie columns."""
    countries = load_countries(scenario.population.data_file)
    problems = []
    known = set(countries["iso3"])
    population = scenario.population
    for key, codes in (("population.only", population.only),
                       ("population.exclude", population.exclude)):
        unknown = sorted(set(codes) - known)
        if unknown:
            problems.append(f"{key}: unknown ISO3 codes {_codes(unknown)} (not in the "
                            "country data)")
    taking_part = (set(population.only) or known) - set(population.exclude)
    if not taking_part & known:
        problems.append("population: no country takes part (population.only, less "
                        "population.exclude, leaves none); expected at least one")

    for key, entries in (("choices", scenario.hand.choices), ("events", scenario.hand.events)):
        unknown = sorted({entry.country for entry in entries} - known)
        if unknown:
            problems.append(f"hand.{key}: unknown ISO3 codes {', '.join(unknown)} (not in the "
                            "country data)")
    for name, provider in scenario.providers.items():
        unknown = sorted(set(provider.barred_in) - known)
        if unknown:
            problems.append(f"providers.{name}.barred_in: unknown ISO3 codes "
                            f"{_codes(unknown)}")
        unknown = sorted(set(provider.cloud_regions) - known)
        if unknown:
            problems.append(f"providers.{name}.cloud_regions: unknown ISO3 codes "
                            f"{_codes(unknown)} (not in the country data)")
    for name, state in scenario.states.items():
        for column in state.ties_from:
            if column not in state.ties:
                problems.append(f"states.{name}.ties_from.{clip(column, 60)}: expected one of the "
                                f"state's ties ({', '.join(sorted(state.ties)) or 'none'})")
        for column in state.ties:
            if column not in countries.columns:
                nearest = difflib.get_close_matches(column, list(countries.columns), n=1)
                hint = f"; did you mean {nearest[0]!r}?" if nearest else ""
                problems.append(f"states.{name}.ties.{clip(column, 60)}: no such column in the "
                                f"country data{hint}")
            elif not (is_bool_dtype(countries[column]) or is_numeric_dtype(countries[column])):
                problems.append(f"states.{name}.ties.{column}: the column is not numeric or "
                                "true/false")
    return problems


def _codes(codes: list[str], limit: int = 10) -> str:
    shown = ", ".join(show(code).strip("'") for code in codes[:limit])
    return shown + (f" and {len(codes) - limit} more" if len(codes) > limit else "")
