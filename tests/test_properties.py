"""Property-based tests (Hypothesis): inputs generated from the schema, valid and mutated.

- Valid scenario files (every plain parameter of the schema drawn within its range, on the tiny
  scenario's short horizon and eight countries) must run: exit 0 and a complete results folder.
- Mutated scenario files, ``--set`` overrides and experiment files (wrong types, out-of-range,
  NaN/inf, unknown names, duplicated keys, alias bombs, deep nesting) must give exit status 2
  with one message naming the file (or option) and the key, no traceback, nothing written,
  within a time bound, with the process's peak memory bounded.

The CLI's ``main`` runs in this process (``run_cli``): the same code path as the command, much
faster than a fresh interpreter (tests/test_robustness.py checks exit statuses in subprocesses).

Profiles: ``HYPOTHESIS_PROFILE=ci`` (the default: a few hundred examples in all, see
``EXAMPLES``, the same ones every run so CI does not flicker) and ``HYPOTHESIS_PROFILE=long``
(ten times as many, new ones each run, by hand). No example database is written (the runs leave
nothing in the work tree); a failure prints the example to reproduce.
"""

from __future__ import annotations

import math
import os
import resource
import time
import typing
from pathlib import Path
from typing import Any

import yaml
from conftest import BASELINE, TINY_COUNTRIES, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from sim.schema import ProviderSettings, ScenarioFile, StateSettings, TenderKind

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
SCALE = {"ci": 1, "long": 10}[PROFILE]
EXAMPLES = {"valid_scenarios": 20, "mutated_scenarios": 200, "mutated_overrides": 120,
            "valid_experiments": 4, "mutated_experiments": 80}
"""Examples per property in the ci profile (the long profile runs ten times as many)."""
SECONDS_PER_REFUSAL = 20.0
"""Time bound for one refused input, generous for a loaded CI machine (typically < 0.5 s)."""
PEAK_MEMORY_MB = 2500
"""Bound on this process's peak resident memory: a bomb expanded would pass it at once."""

BASE = f"""\
extends: {BASELINE}
description: Generated scenario.
run: {{start_year: 2006, end_year: 2008, replications: 1, seed: 12345}}
population: {{only: [{', '.join(TINY_COUNTRIES[:4])}]}}
"""
"""The fixed part of every generated scenario: the tiny scenario's population, three years."""
SKIPPED = {("run",), ("population",), ("description",), ("tenders", "min_value_usd_m"),
           ("tenders", "max_value_usd_m"), ("financing", "grace_years"),
           ("financing", "maturity_years"), ("demand", "tender_rate")}
"""Keys not drawn freely: fixed by BASE, or constrained jointly with another key."""
ACTORS = {"providers": ("AWS", "Huawei"), "states": ("US", "China"),
          "kinds": ("national_data_centre", "government_cloud")}


def ci_settings(name: str):
    return settings(max_examples=EXAMPLES[name] * SCALE, deadline=None, database=None,
                    derandomize=PROFILE == "ci",
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


# --- the schema's leaves -----------------------------------------------------------------------


def _bounds(field) -> tuple[float | None, float | None]:
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    low, high = extra.get("minimum"), extra.get("maximum")
    for item in field.metadata:
        low = getattr(item, "ge", low)
        high = getattr(item, "le", high)
    return low, high


def schema_leaves(model: type[BaseModel] = ScenarioFile, prefix: tuple[str, ...] = ()
                  ) -> list[tuple[tuple[str, ...], str, float | None, float | None]]:
    """Every scalar parameter: (key path, kind, low, high); kind is float, int, bool or phased."""
    leaves = []
    for name, field in model.model_fields.items():
        path = (*prefix, name)
        annotation = field.annotation
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        nested = {"providers": ProviderSettings, "states": StateSettings,
                  "kinds": TenderKind}.get(name)
        if nested is not None and typing.get_origin(annotation) is dict:
            for actor in ACTORS[name]:
                leaves += schema_leaves(nested, (*path, actor))
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            leaves += schema_leaves(annotation, path)
        elif extra.get("phased"):
            leaves.append((path, "phased", *_bounds(field)))
        elif annotation in (float, int, bool):
            leaves.append((path, annotation.__name__, *_bounds(field)))
    return leaves


LEAVES = schema_leaves()
FREE = [leaf for leaf in LEAVES
        if not any(leaf[0][: len(s)] == s or leaf[0][-len(s):] == s for s in SKIPPED)]
NUMERIC = [leaf for leaf in FREE if leaf[1] in ("float", "int", "phased")]


def value_of(kind: str, low: float | None, high: float | None) -> st.SearchStrategy:
    """A valid value of one leaf."""
    if kind == "bool":
        return st.booleans()
    if kind == "int":
        return st.integers(int(low), int(min(high, low + 20)))
    number = st.floats(low, high, allow_nan=False, allow_infinity=False)
    if kind == "float":
        return number
    # phased: a number or a step function whose first step is at the start of the run
    return st.one_of(number, st.dictionaries(st.sampled_from([2007.5, 2008]), number,
                                             max_size=2).map(lambda d: {2000: low, **d}))


def nest(pairs: dict[tuple[str, ...], Any]) -> dict[str, Any]:
    """``{(a, b): v}`` -> ``{a: {b: v}}``."""
    tree: dict[str, Any] = {}
    for path, value in pairs.items():
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return tree


@st.composite
def valid_overrides(draw, count: int = 8) -> dict[tuple[str, ...], Any]:
    chosen = draw(st.lists(st.sampled_from(FREE), min_size=1, max_size=count,
                           unique_by=lambda leaf: leaf[0]))
    values = {path: draw(value_of(kind, low, high)) for path, kind, low, high in chosen}
    values[("demand", "tender_rate")] = draw(st.floats(0.5, 3.0))
    return values


def scenario_text(overrides: dict[tuple[str, ...], Any]) -> str:
    return BASE + yaml.safe_dump(nest(overrides), sort_keys=False)


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def assert_refused(result, started: float, *fragments: str) -> None:
    """Exit 2, one message naming what it must, no traceback, in time, memory bounded."""
    assert result.code == 2, (result.code, result.err[-2000:])
    assert "Traceback" not in result.err and "Traceback" not in result.out
    assert result.err.count("cloudrace: error:") + result.err.count(": error: argument") == 1, \
        result.err
    for fragment in fragments:
        assert fragment in result.err, (fragment, result.err)
    assert len(result.err) < 5000
    assert time.monotonic() - started < SECONDS_PER_REFUSAL
    assert peak_memory_mb() < PEAK_MEMORY_MB


def nothing_written(folder: Path, expected: set[str]) -> None:
    assert {p.name for p in folder.iterdir()} == expected


# --- valid scenarios run -----------------------------------------------------------------------


@ci_settings("valid_scenarios")
@given(overrides=valid_overrides())
def test_valid_generated_scenarios_run_and_write_a_complete_folder(overrides, tmp_path_factory,
                                                                   capsys):
    folder = tmp_path_factory.mktemp("valid")
    path = folder / "generated.yaml"
    path.write_text(scenario_text(overrides))
    result = run_cli(["run", path, "-q", "--no-figures", "--out", folder / "out"], capsys)
    assert result.code == 0, (result.err[-3000:], path.read_text())
    assert {p.name for p in (folder / "out").iterdir()} == {
        "contracts.csv", "yearly.csv", "countries.csv", "summary.md", "manifest.json"}
    nothing_written(folder, {"generated.yaml", "out"})


# --- mutated scenarios are refused -------------------------------------------------------------

BOMB_ANCHORS = ("anchors:\n  a0: &a0 [0, 0, 0, 0, 0, 0, 0, 0, 0]\n"
                + "".join(f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n"
                          for i in range(1, 5)))
BOMB = "[" + ", ".join(["*a4"] * 9) + "]"
"""Aliases expanding to 9^6 (531,441) values at one key, with the anchors elsewhere."""
MUTATIONS = ("wrong type", "out of range", "not finite", "unknown key", "duplicate key",
             "alias bomb", "deep nesting")


def wrong_type(kind: str) -> st.SearchStrategy:
    texts = st.text(alphabet="abcxyz", min_size=1, max_size=8)
    others = st.one_of(texts, st.lists(st.integers(), min_size=1, max_size=3),
                       st.just({"a": [1]}))
    if kind in ("float", "int"):
        return st.one_of(others, st.booleans())
    if kind == "phased":
        return st.one_of(texts, st.just([0.5]), st.just({2000: "x"}))
    return st.one_of(others, st.just(1.5))


def out_of_range(kind: str, low: float | None, high: float | None
                 ) -> st.SearchStrategy | None:
    choices = []
    if high is not None:
        choices.append(st.floats(high + max(1.0, abs(high)), high * 10 + 1e6))
    if low is not None:
        choices.append(st.floats(low - 1e6, low - max(1.0, abs(low))))
    if not choices:
        return None
    numbers = st.one_of(*choices)
    if kind == "int":
        return numbers.map(lambda v: int(v) if abs(v) < 2**62 else 2**63)
    if kind == "phased":
        return st.one_of(numbers, numbers.map(lambda v: {2000: v}))
    return numbers


@st.composite
def mutated_scenario(draw) -> tuple[str, str]:
    """A scenario text with one mutation, and what its message must name."""
    overrides = draw(valid_overrides(count=4))
    mutation = draw(st.sampled_from(MUTATIONS))
    path, kind, low, high = draw(st.sampled_from(NUMERIC if mutation in (
        "out of range", "not finite") else FREE))
    overrides.pop(path, None)
    key = ".".join(path)
    if mutation == "out of range" and (bad := out_of_range(kind, low, high)) is not None:
        overrides[path] = draw(bad)
    elif mutation == "not finite":
        overrides[path] = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    elif mutation == "unknown key":
        wrong = path[-1] + draw(st.sampled_from(["_x", "s", "z"]))
        overrides[(*path[:-1], wrong)] = 1.0
        key = ".".join((*path[:-1], wrong))
    elif mutation == "duplicate key":
        value = draw(value_of(kind, low, high)) if kind != "phased" else 0.5
        lines = [f"{'  ' * depth}{part}:" for depth, part in enumerate(path[:-1])]
        indent = "  " * (len(path) - 1)
        lines += [f"{indent}{path[-1]}: {yaml.safe_dump(value).split(chr(10))[0]}"] * 2
        # a separate document part: the generated overrides must not repeat the section
        text = BASE + "\n".join(lines) + "\n"
        return text, f"duplicate key '{path[-1]}'"
    elif mutation == "alias bomb":
        overrides[path] = "__BOMB__"
        text = BOMB_ANCHORS + scenario_text(overrides).replace("__BOMB__", BOMB)
        return text, f"{key} (line"
    elif mutation == "deep nesting":
        depth = draw(st.integers(70, 200))
        overrides[path] = "__DEEP__"
        return scenario_text(overrides).replace("__DEEP__", "[" * depth + "]" * depth), key
    else:
        overrides[path] = draw(wrong_type(kind))
    return scenario_text(overrides), key


@ci_settings("mutated_scenarios")
@given(mutated=mutated_scenario())
def test_mutated_scenarios_are_refused_with_one_message_naming_file_and_key(
        mutated, tmp_path_factory, capsys):
    text, key = mutated
    folder = tmp_path_factory.mktemp("mutated")
    path = folder / "mutated.yaml"
    path.write_text(text)
    started = time.monotonic()
    result = run_cli(["run", path, "-q", "--no-figures", "--out", folder / "out"], capsys)
    assert_refused(result, started, str(path), key)
    nothing_written(folder, {"mutated.yaml"})


# --- mutated --set overrides are refused -------------------------------------------------------


@st.composite
def mutated_override(draw) -> tuple[str, str]:
    """One bad ``--set key.path=value`` and what its message must name."""
    path, kind, low, high = draw(st.sampled_from(NUMERIC))
    key = ".".join(path)
    mutation = draw(st.sampled_from(["wrong type", "out of range", "not finite",
                                     "unknown key", "alias bomb", "deep nesting", "syntax"]))
    if mutation == "out of range" and (bad := out_of_range(kind, low, high)) is not None:
        value = yaml.safe_dump(draw(bad), default_flow_style=True).split("\n")[0]
    elif mutation == "not finite":
        value = draw(st.sampled_from([".nan", ".inf", "-.inf", ".NaN", "-.Inf"]))
    elif mutation == "unknown key":
        key = ".".join((*path[:-1], path[-1] + "_typo"))
        value = "1"
    elif mutation == "alias bomb":
        anchors = BOMB_ANCHORS.replace("anchors:\n", "").replace("\n  ", ", ").strip()
        value = "{" + anchors.strip(", ") + ", b: " + BOMB + "}"
        return f"{key}={value}", "--set"
    elif mutation == "deep nesting":
        depth = draw(st.integers(70, 150))
        return f"{key}={'[' * depth}{']' * depth}", "--set"
    elif mutation == "syntax":
        return f"{key}={draw(st.sampled_from(['[1,', '{a: 1', ': :', '- - [']))}", "--set"
    else:
        value = draw(st.sampled_from(["abc", "[1, 2]", "{a: 1}", "true", "'1.5'"])
                     if kind != "bool" else st.sampled_from(["abc", "[1]", "1.5"]))
    return f"{key}={value}", key


@ci_settings("mutated_overrides")
@given(override=mutated_override())
def test_mutated_overrides_are_refused_with_one_message_naming_the_key(
        override, tmp_path_factory, capsys):
    assignment, fragment = override
    folder = tmp_path_factory.mktemp("override")
    path = folder / "tiny.yaml"
    path.write_text(BASE)
    started = time.monotonic()
    result = run_cli(["run", path, "-q", "--no-figures", "--set", assignment, "--out",
                      folder / "out"], capsys)
    assert_refused(result, started, fragment)
    nothing_written(folder, {"tiny.yaml"})


# --- experiment files --------------------------------------------------------------------------

EXPERIMENT_PARAMETERS = [leaf for leaf in NUMERIC if leaf[1] == "float" and
                         leaf[2] is not None and leaf[3] is not None and
                         leaf[0][0] not in ("providers", "states")][:30]


@st.composite
def valid_experiment(draw) -> dict[str, Any]:
    chosen = draw(st.lists(st.sampled_from(EXPERIMENT_PARAMETERS), min_size=1, max_size=3,
                           unique_by=lambda leaf: leaf[0]))
    uncertainties = {}
    for path, _, low, high in chosen:
        a, b = sorted(draw(st.lists(st.floats(low, high), min_size=2, max_size=2,
                                    unique=True)))
        if a < b:
            uncertainties[".".join(path)] = {"range": [a, b]}
    if not uncertainties:
        uncertainties = {"choice.cost_weight": {"range": [1.0, 2.0]}}
    design = draw(st.sampled_from([{"method": "latin_hypercube", "samples": 2},
                                   {"method": "full_factorial", "resolution": 2}]))
    if design["method"] == "full_factorial" and len(uncertainties) > 1:
        uncertainties = dict(list(uncertainties.items())[:1])
    return {"description": "Generated experiment.", "scenario": "base.yaml",
            "uncertainties": uncertainties, "design": design, "replications": 1,
            "seed": draw(st.integers(0, 2**63 - 1)),
            "outcomes": ["share_new_china_2006_2008", "leverage_china_2008"]}


@ci_settings("valid_experiments")
@given(experiment=valid_experiment())
def test_valid_generated_experiments_sweep_to_the_end(experiment, tmp_path_factory, capsys):
    folder = tmp_path_factory.mktemp("experiment")
    (folder / "base.yaml").write_text(BASE)
    path = folder / "generated.yaml"
    path.write_text(yaml.safe_dump(experiment, sort_keys=False))
    result = run_cli(["sweep", path, "--executor", "serial", "-q", "--out", folder / "sweep"],
                     capsys)
    assert result.code == 0, (result.err[-3000:], path.read_text())
    assert "failed" not in result.out, result.out
    nothing_written(folder, {"base.yaml", "generated.yaml", "sweep"})


EXPERIMENT_MUTATIONS = {
    "design.samples": ["'x'", "0", "1.5", "[2]"],
    "design.method": ["'sobl'", "3"],
    "replications": ["0", "-2", "'two'", ".nan"],
    "seed": ["-1", "1.5", "'x'"],
    "outcomes": ["[]", "['no_such_outcome']", "'share_new_china_2006_2008'"],
    "scenario": ["3", "['base.yaml']"],
    "description": ["[1, 2]", "{a: 1}"],
}


@st.composite
def mutated_experiment(draw) -> tuple[str, str]:
    experiment = draw(valid_experiment())
    text = yaml.safe_dump(experiment, sort_keys=False)
    mutation = draw(st.sampled_from(["value", "range", "unknown key", "duplicate key",
                                     "alias bomb", "deep nesting", "set"]))
    name = next(iter(experiment["uncertainties"]))
    if mutation == "value":
        key = draw(st.sampled_from(sorted(EXPERIMENT_MUTATIONS)))
        value = draw(st.sampled_from(EXPERIMENT_MUTATIONS[key]))
        if key.startswith("design."):
            experiment["design"] = {"method": "latin_hypercube", "samples": 2,
                                    key.removeprefix("design."): "__V__"}
        else:
            experiment[key] = "__V__"
        return yaml.safe_dump(experiment, sort_keys=False).replace("__V__", value), key
    if mutation == "range":
        bad = draw(st.sampled_from(["[.nan, 1]", "[0, .inf]", "[2, 1]", "[1, 2, 3]", "'x'",
                                    "[1]"]))
        experiment["uncertainties"] = {name: "__R__"}
        text = yaml.safe_dump(experiment, sort_keys=False).replace(
            "__R__", f"{{range: {bad}}}").replace("'{range", "{range").replace("}'", "}")
        return text, f"uncertainties.{name}"
    if mutation == "unknown key":
        wrong = draw(st.sampled_from(["uncertainty", "design_", "replication", "levers_"]))
        return text + f"{wrong}: 1\n", wrong
    if mutation == "duplicate key":
        return text + "replications: 2\nreplications: 3\n", "duplicate key 'replications'"
    if mutation == "alias bomb":
        text = BOMB_ANCHORS + text.replace("description: Generated experiment.",
                                           f"description: {BOMB}")
        return text, "description (line"
    if mutation == "deep nesting":
        depth = draw(st.integers(70, 150))
        return text + f"set: {{description: {'[' * depth}{']' * depth}}}\n", "set"
    bad = draw(st.sampled_from([("demand.tender_rate", ".nan"), ("choice.cost_wieght", "1"),
                                ("run.end_year", "'x'"), ("tenders.min_value_usd_m", "1e9")]))
    return text + f"set: {{{bad[0]}: {bad[1]}}}\n", bad[0]


@ci_settings("mutated_experiments")
@given(mutated=mutated_experiment())
def test_mutated_experiments_are_refused_with_one_message_naming_file_and_key(
        mutated, tmp_path_factory, capsys):
    text, fragment = mutated
    folder = tmp_path_factory.mktemp("bad_experiment")
    (folder / "base.yaml").write_text(BASE)
    path = folder / "mutated.yaml"
    path.write_text(text)
    started = time.monotonic()
    result = run_cli(["sweep", path, "--executor", "serial", "-q", "--out", folder / "sweep"],
                     capsys)
    assert_refused(result, started, str(path), fragment)
    nothing_written(folder, {"base.yaml", "mutated.yaml"})


def test_the_generators_cover_the_schema():
    """Every scalar parameter of the schema is drawn (except the keys fixed on purpose)."""
    assert len(LEAVES) > 100
    assert len(FREE) > 0.85 * len(LEAVES)
    kinds = {kind for _, kind, _, _ in FREE}
    assert kinds == {"float", "int", "bool", "phased"}
