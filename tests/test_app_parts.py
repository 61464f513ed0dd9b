"""The app's parts without a page: levers, lessons, ticker sentences, map, front-end cache, CLI."""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import run_cli, write_scenario

from sim.app import assets
from sim.app.classroom import (
    BASELINE_TITLE,
    ClassroomModel,
    Levers,
    find_lesson,
    lesson_title,
    lessons,
)
from sim.app.map import dominant_providers, world_map_figure
from sim.app.ticker import describe_contract, latest_contracts
from sim.errors import UserError
from sim.model import CloudRaceModel
from sim.scenario import load_scenario
from sim.worldmap import country_outlines

LEVER_SCENARIO = """\
description: Hand-worked levers (no extends, so every schedule is exactly as written).
run: {start_year: 2010, end_year: 2015}
lock_in: {incumbency_weight: 2.0, switching_weight: 1.0}
states:
  US:
    bloc: west
    financing_budget_usd_m: {2012: 100, 2021: 300}
    security_pressure: {2010: 0.2, 2018: 0.7}
  China:
    bloc: china
    financing_budget_usd_m: 400
    subsidy_budget_usd_m: {2008: 50, 2012: 200}
    subsidy_rate: 0.3
"""


@pytest.fixture
def lever_settings(tmp_path: Path):
    return load_scenario(write_scenario(tmp_path, "levers.yaml", LEVER_SCENARIO))


# --- levers -------------------------------------------------------------------------------

def test_neutral_levers_change_nothing(lever_settings):
    assert Levers().overrides(lever_settings) == {}
    assert Levers().changes() == []


def test_default_classroom_model_runs_the_lesson_as_written():
    lesson = find_lesson("4. Export controls")
    classroom = ClassroomModel(lesson.title, rng=7)
    plain = CloudRaceModel(rng=7, scenario_file=lesson.path)
    for _ in range(8):
        classroom.step()
        plain.step()
    assert [(c.start, c.provider.name) for c in classroom.contracts] == \
        [(c.start, c.provider.name) for c in plain.contracts]


def test_us_loans_add_to_every_step_from_the_first_year(lever_settings):
    values = Levers(us_financing_usd_m=50).overrides(lever_settings)
    assert values == {"states.US.financing_budget_usd_m": {2010.0: 50.0, 2012.0: 150.0,
                                                           2021.0: 350.0}}


def test_allied_pooling_adds_an_allied_lender_for_us_providers_from_mid_2022(lever_settings):
    values = Levers(allied_pooling_usd_m=500).overrides(lever_settings)
    allies = values["states.Allies"]
    assert allies["co_finances"] == ["US"] and allies["bloc"] == "west"
    assert allies["financing_budget_usd_m"] == {2022.48: 500.0}


def test_allied_pooling_adds_to_an_allied_state_the_lesson_already_has(tmp_path: Path):
    text = LEVER_SCENARIO + "  Allies: {bloc: west, co_finances: [US], " \
        "financing_budget_usd_m: {2015: 100}}\n"
    settings = load_scenario(write_scenario(tmp_path, "allies.yaml", text))
    assert Levers(allied_pooling_usd_m=500).overrides(settings) == {
        "states.Allies.financing_budget_usd_m": {2010.0: 0.0, 2015.0: 100.0, 2022.48: 600.0}}


def test_pooled_allied_money_finances_us_providers_bids():
    model = ClassroomModel(allied_pooling_usd_m=1500)
    while model.running:
        model.step()
    lent = [c for c in model.contracts if c.bid.financing_state is model.states["Allies"]]
    assert lent and all(c.provider.home.name == "US" and c.start >= 2022.48 for c in lent)
    assert "financed by an allied (PGII) loan" in describe_contract(lent[0])


def test_factors_scale_every_step_within_the_parameter_range(lever_settings):
    values = Levers(us_pressure=2.0, china_financing=0.5, china_subsidies=3.0,
                    lock_in_strength=0.0).overrides(lever_settings)
    assert values == {
        "states.US.security_pressure": {2010.0: 0.4, 2018.0: 1.0},
        "states.China.financing_budget_usd_m": 200.0,
        "states.China.subsidy_budget_usd_m": {2010.0: 150.0, 2012.0: 600.0},
        "states.China.subsidy_rate": pytest.approx(0.9),
        "lock_in.incumbency_weight": 0.0,
        "lock_in.switching_weight": 0.0,
    }


def test_export_controls_off_spares_huawei():
    lesson = find_lesson("4. Export controls")
    assert Levers(export_controls=False).overrides(load_scenario(lesson.path)) == \
        {"states.US.export_controls": []}
    with_controls = ClassroomModel(lesson.title)
    without = ClassroomModel(lesson.title, export_controls=False)
    for model in (with_controls, without):
        for _ in range(16):
            model.step()
    assert with_controls.providers_by_name["Huawei"].capability_loss > 0
    assert without.providers_by_name["Huawei"].capability_loss == 0


def test_levers_are_described_in_words():
    assert Levers(china_financing=0.0, export_controls=False,
                  allied_pooling_usd_m=300).changes() == [
        "allied pooling 300 US$ m a year from 2022", "no US export controls",
        "China's loans × 0"]


# --- lessons ------------------------------------------------------------------------------

def test_lesson_titles_come_from_numbered_file_names():
    assert lesson_title(Path("3-pressure-and-its-limits.yaml")) == "3. Pressure and its limits"
    assert lesson_title(Path("extra.yaml")) == "Extra"


def test_the_chooser_offers_the_baseline_then_the_lessons_in_order():
    titles = [lesson.title for lesson in lessons()]
    assert titles[0] == BASELINE_TITLE
    numbers = [int(title.split(".")[0]) for title in titles[1:]]
    assert numbers == sorted(numbers) and len(numbers) >= 4


def test_an_unknown_lesson_is_a_user_error_listing_the_lessons():
    with pytest.raises(UserError, match="no lesson titled 'Nope'.*1. The first mover"):
        find_lesson("Nope")


# --- ticker -------------------------------------------------------------------------------

def _contract(kind="national_data_centre", provider="Huawei", lender=None, renewal=False,
              incumbent=None, start=2019.4, country="Kenya"):
    holder = SimpleNamespace(name=provider)
    return SimpleNamespace(
        start=start, provider=holder,
        tender=SimpleNamespace(government=SimpleNamespace(name=country), kind=kind,
                               renewal=renewal,
                               incumbent=holder if incumbent == provider else
                               (SimpleNamespace(name=incumbent) if incumbent else None)),
        bid=SimpleNamespace(financing_state=SimpleNamespace(name=lender) if lender else None))


def test_an_award_reads_as_a_sentence_with_its_loan():
    assert describe_contract(_contract(lender="China")) == \
        "2019 — Kenya awards a national data centre to Huawei, financed by a China Exim loan."
    assert describe_contract(_contract("e_government_platform", "AWS", "US", country="Ghana")) \
        == "2019 — Ghana awards an e-government platform to AWS, financed by a US EXIM loan."


def test_renewals_say_whether_the_government_stayed_or_switched():
    assert describe_contract(_contract("government_cloud", renewal=True, incumbent="Huawei")) \
        == "2019 — Kenya renews its government cloud with Huawei."
    assert describe_contract(_contract("government_cloud", "Microsoft", renewal=True,
                                       incumbent="Huawei")) == \
        "2019 — Kenya moves its government cloud from Huawei to Microsoft."


def test_the_ticker_shows_the_latest_contracts_newest_first():
    model = ClassroomModel()
    for _ in range(12):
        model.step()
    lines = latest_contracts(model)
    assert len(lines) == 8
    years = [int(line[:4]) for line in lines]
    assert years == sorted(years, reverse=True)
    assert lines[0] == describe_contract(model.contracts[-1])


# --- map ----------------------------------------------------------------------------------

def test_the_map_draws_every_country_of_the_population():
    outlines = country_outlines()
    model = ClassroomModel()
    codes = {government.iso3 for government in model.governments}
    dots = codes - set(outlines)
    # The 1:110m shapes lack only small states; a key mismatch would leave large ones out.
    assert len(dots) <= 35
    assert {"BRA", "KEN", "IDN", "SSD", "XKX", "NGA"} <= set(outlines)
    assert all(government.country["lat"] == government.country["lat"]
               for government in model.governments if government.iso3 in dots)


def test_a_country_is_coloured_by_its_largest_installed_base():
    model = ClassroomModel()
    for _ in range(15):
        model.step()
    dominant = dominant_providers(model)
    assert dominant
    for government in model.governments:
        if government.installed:
            largest = max(government.installed.values())
            assert government.installed[model.providers_by_name[dominant[government.iso3]]] \
                == largest
        else:
            assert government.iso3 not in dominant
    figure = world_map_figure(model)
    assert "2021" in figure.axes[0].get_title()


# --- front-end cache ----------------------------------------------------------------------

FAKE_NPM = """#!/bin/sh
# Stands in for `npm pack NAME@VERSION --json --pack-destination DIR`: writes a tarball.
set -e
spec="$2"; dest="$5"
name=$(echo "$spec" | tr '@/' '__')
mkdir -p "$dest/src/package/dist"
echo '{"name": "fake"}' > "$dest/src/package/package.json"
echo 'x' > "$dest/src/package/dist/main.js"
tar -czf "$dest/$name.tgz" -C "$dest/src" package
rm -rf "$dest/src"
echo "[{\\"filename\\": \\"$name.tgz\\"}]"
"""


def test_an_empty_cache_is_reported_with_the_make_target(tmp_path: Path):
    assert len(assets.missing_packages(tmp_path)) == len(assets.FRONTEND_PACKAGES)
    with pytest.raises(UserError, match="make app-assets"):
        assets.check_cache(tmp_path)


def test_install_unpacks_each_package_once(tmp_path: Path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(FAKE_NPM)
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    cache = tmp_path / "cache"
    installed = assets.install(cache)
    assert len(installed) == len(assets.FRONTEND_PACKAGES)
    assert assets.missing_packages(cache) == []
    vuetify = cache / "@widgetti" / "solara-vuetify-app@10.1.1"
    assert json.loads((vuetify / "package.json").read_text()) == {"name": "fake"}
    assert (vuetify / "dist" / "main.js").is_file()
    assert assets.install(cache) == []
    assert not [path for path in cache.iterdir() if path.name.startswith(".download-")]


def test_the_server_environment_points_at_the_cache_and_turns_telemetry_off(tmp_path: Path):
    environment = assets.solara_environment(tmp_path)
    assert environment["SOLARA_ASSETS_PROXY_CACHE_DIR"] == str(tmp_path)
    assert environment["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert "SOLARA_HOME" in environment


# --- command line -------------------------------------------------------------------------

def _complete_cache(folder: Path) -> Path:
    for name, version in assets.FRONTEND_PACKAGES:
        package = assets.package_dir(folder, name, version)
        package.mkdir(parents=True)
        (package / "package.json").write_text("{}")
    return folder


def test_cloudrace_app_without_the_cache_says_which_make_target_fills_it(
        tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("CLOUDRACE_ASSETS_DIR", str(tmp_path / "empty"))
    result = run_cli(["app"], capsys)
    assert result.code == 2
    assert "make app-assets" in result.err and "Traceback" not in result.err


def test_cloudrace_app_refuses_a_port_in_use(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("CLOUDRACE_ASSETS_DIR", str(_complete_cache(tmp_path / "cache")))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(["app", "--port", port], capsys)
    assert result.code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.err
    assert run_cli(["app", "--port", 70000], capsys).code == 2


def test_cloudrace_app_help_names_its_options(capsys):
    result = run_cli(["app", "--help"], capsys)
    assert result.code == 0
    assert "--port" in result.out and "--host" in result.out
