"""The public API (``sim``): the README's "From Python" code, results like the CLI's, no side
effects on import, and ``--set`` on time-phased values meaning what a child file means."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, run_cli, run_cli_subprocess
from matplotlib.figure import Figure

import sim
from sim.scenario import load_scenario
from sim.shipped import scenario_names


def readme_python_block() -> str:
    """The code of the README's "From Python" section."""
    section = (REPO / "README.md").read_text().split("## From Python", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the From Python section has one python block"
    return blocks[0]


def test_the_readmes_from_python_code_runs_and_gives_a_table_of_differences():
    code = readme_python_block()
    assert len(code.strip().splitlines()) == 5
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    table = namespace["table"]
    assert isinstance(table, pd.DataFrame)
    assert set(table["scenario"]) == {"us_dfc_push"}
    assert {"outcome", "base_mean", "scenario_mean"} <= set(table.columns)
    results = namespace["results"]
    assert results.contracts["replication"].nunique() == 2
    assert results.yearly["year"].max() == 2024


def test_public_names_are_listed_and_imported_on_first_use():
    code = (
        "import sys, sim; before = set(sys.modules); sim.run; "
        "print('pandas' in before, 'sim.api' in before, 'sim.api' in sys.modules)"
    )
    process = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert process.stdout.split() == ["False", "False", "True"]
    for name in sim.__all__:
        assert getattr(sim, name) is not None, name
    with pytest.raises(AttributeError):
        sim.no_such_name  # noqa: B018


def test_load_scenario_takes_shipped_names_and_overrides_with_the_cross_checks(tmp_path: Path):
    by_name = sim.load_scenario("policy/us_dfc_push")
    assert by_name == load_scenario(REPO / "scenarios" / "policy" / "us_dfc_push.yaml")
    assert sim.load_scenario("policy/us_dfc_push.yaml") == by_name
    assert sim.load_scenario("baseline", {"choice.cost_weight": 2.5}).choice.cost_weight == 2.5
    assert sim.load_scenario("baseline", ["choice.cost_weight=2.5"]).choice.cost_weight == 2.5
    with pytest.raises(sim.UserError, match="did you mean baseline"):
        sim.load_scenario("basline")
    # Overrides are validated as --set is: a misspelt key is named.
    with pytest.raises(sim.UserError, match="choice.cost_wieght"):
        sim.load_scenario("baseline", {"choice.cost_wieght": 2.5})


def test_every_name_cloudrace_scenarios_prints_loads(capsys):
    printed = run_cli(["scenarios"], capsys).out
    names = [line for line in printed.splitlines() if line and not line.startswith(" ")]
    assert sorted(name.removesuffix(".yaml") for name in names) == scenario_names()
    for name in names:
        assert sim.load_scenario(name).description


@pytest.fixture(scope="module")
def short_run() -> sim.Results:
    return sim.run(
        sim.load_scenario("baseline", {"run.end_year": 2010}),
        replications=2,
        seed=3,
        name="baseline",
    )


def test_run_gives_the_tables_of_cloudrace_run_with_the_same_seed(
    short_run, tmp_path: Path, capsys
):
    out = tmp_path / "cli"
    result = run_cli(
        [
            "run",
            "baseline",
            "-n",
            "2",
            "--seed",
            "3",
            "--set",
            "run.end_year=2010",
            "-q",
            "--no-figures",
            "-o",
            out,
        ],
        capsys,
    )
    assert result.code == 0, result.err
    saved = short_run.save(tmp_path / "api", figures=False)
    for name in ("contracts.csv", "yearly.csv", "countries.csv", "summary.md"):
        assert (saved / name).read_bytes() == (out / name).read_bytes(), name
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["replication_seeds"] == short_run.manifest["replication_seeds"]
    assert short_run.summary() == (out / "summary.md").read_text()


def test_save_never_overwrites(short_run, tmp_path: Path):
    folder = tmp_path / "taken"
    folder.mkdir()
    with pytest.raises(sim.UserError, match="already exists"):
        short_run.save(folder, figures=False)
    assert list(folder.iterdir()) == []


def test_plots_are_figures_of_the_object_api(short_run):
    for plot in (
        short_run.plot_market_share,
        short_run.plot_leverage,
        short_run.plot_deals_by_region,
        short_run.plot_world_map,
    ):
        figure = plot()
        assert isinstance(figure, Figure)
        assert figure.axes
    assert "matplotlib.pyplot" not in sys.modules or not _pyplot_figures()


def _pyplot_figures() -> list[int]:
    import matplotlib.pyplot as plt

    return plt.get_fignums()


def test_countries_table_has_a_row_per_replication_year_and_country(short_run):
    countries = short_run.countries
    settings = short_run.scenario
    years = short_run.yearly["year"].nunique()
    governments = countries["country"].nunique()
    assert len(countries) == 2 * years * governments
    assert not countries.duplicated(["replication", "year", "country"]).any()
    shares = countries[[f"installed_share_{p}" for p in settings.providers]].sum(axis=1)
    assert ((shares.round(5) == 1.0) | (shares == 0.0)).all()
    # The yearly leverage index is the mean of the countries' leverage over hosting governments.
    for state in settings.states:
        hosting = countries[shares > 0]
        mean = hosting.groupby(["replication", "year"])[f"leverage_{state}"].mean()
        yearly = short_run.yearly.set_index(["replication", "year"])[f"leverage_{state}"]
        assert mean.to_numpy() == pytest.approx(yearly.loc[mean.index].to_numpy(), abs=1e-5)
        count = countries.groupby(["replication", "year"])[f"dependent_{state}"].sum()
        assert (
            count
            == short_run.yearly.set_index(["replication", "year"])[f"dependent_{state}"].loc[
                count.index
            ]
        ).all()


def test_countries_csv_is_the_same_file_whatever_the_workers(
    shared_tiny_scenario: Path, tmp_path: Path
):
    folders = {}
    for workers in ("1", "2"):
        folders[workers] = tmp_path / f"w{workers}"
        process = run_cli_subprocess(
            [
                "run",
                shared_tiny_scenario,
                "-n",
                "3",
                "-w",
                workers,
                "-q",
                "--no-figures",
                "-o",
                folders[workers],
            ],
            cwd=tmp_path,
            timeout=120,
        )
        assert process.returncode == 0, process.stderr
    first, second = (folder / "countries.csv" for folder in folders.values())
    assert first.read_bytes() == second.read_bytes()
    assert len(first.read_text().splitlines()) > 1


def test_summary_names_the_governments_most_dependent_on_each_state(short_run):
    text = short_run.summary()
    section = text.split("## Governments most dependent on each state in 2010", 1)[1]
    for state in short_run.scenario.states:
        assert f"- {state}: " in section


def test_importing_any_module_leaves_matplotlib_and_pyplot_alone():
    modules = sorted(
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for path in (REPO / "sim").rglob("*.py")
    )
    code = (
        "import importlib, sys, matplotlib\n"
        "matplotlib.use('svg')\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()\n"
        "if 'matplotlib.pyplot' in sys.modules:\n"
        "    assert sys.modules['matplotlib.pyplot'].get_fignums() == []\n"
        "print(len(sys.modules))\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=180,
        check=False,
    )
    assert process.returncode == 0, process.stderr[-2000:]


# --- --set on a time-phased value --------------------------------------------------------------


def readme_set_assignments() -> list[str]:
    """The ``--set`` assignments of the README's run example."""
    text = (REPO / "README.md").read_text()
    return [
        value.strip('"')
        for value in re.findall(
            r'--set (\S+="[^"]+"|\S+=\S+)', text.split("## Running scenarios")[1].split("```")[1]
        )
    ]


def test_the_readmes_set_example_adds_a_step_and_keeps_the_pgii_step():
    assignments = readme_set_assignments()
    assert any("development_finance.budget_usd_m" in a for a in assignments)
    baseline = load_scenario("baseline").states["US"].development_finance.budget_usd_m
    assert 2022.5 in baseline
    changed = load_scenario("baseline", [a.replace('"', "") for a in assignments])
    budget = changed.states["US"].development_finance.budget_usd_m
    assert budget == {**baseline, 2024.0: 1500.0}


def test_set_on_a_schedule_means_what_a_child_file_means(tmp_path: Path):
    child = tmp_path / "child.yaml"
    child.write_text(
        f"extends: {REPO / 'scenarios' / 'baseline.yaml'}\ndescription: child\n"
        "states:\n  China:\n    promotion: {2024: 0.9}\n"
    )
    by_file = load_scenario(child).states["China"].promotion
    by_set = load_scenario("baseline", ["states.China.promotion={2024: 0.9}"])
    assert by_set.states["China"].promotion == by_file
    assert len(by_file) == len(load_scenario("baseline").states["China"].promotion) + 1
    by_api = sim.load_scenario("baseline", {"states.China.promotion": {2024: 0.9}})
    assert by_api.states["China"].promotion == by_file


def test_set_replace_replaces_a_whole_schedule_and_a_number_replaces_it_too():
    replaced = load_scenario("baseline", ["states.China.promotion=!replace {2024: 0.9}"])
    assert replaced.states["China"].promotion == {2024: 0.9}
    constant = load_scenario("baseline", ["states.China.promotion=0.4"])
    assert constant.states["China"].promotion == 0.4


def test_validate_gives_the_table_cloudrace_validate_writes(tmp_path: Path, capsys):
    result = run_cli(["validate", "-n", "2", "--seed", "5", "-q", "-o", tmp_path / "v"], capsys)
    assert result.code in (0, 1), result.err
    validation = sim.validate(replications=2, seed=5)
    assert validation.table.to_csv(index=False) == (tmp_path / "v" / "validation.csv").read_text()
    assert validation.report() in result.out
