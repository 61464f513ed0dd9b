"""The app's parts without a page: levers, lessons, ticker sentences, map, front-end cache, CLI."""

from __future__ import annotations

import base64
import io
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
    assert [(c.start, c.provider.name) for c in classroom.contracts] == [
        (c.start, c.provider.name) for c in plain.contracts
    ]


def test_us_loans_add_to_every_step_from_the_first_year(lever_settings):
    values = Levers(us_financing_usd_m=50).overrides(lever_settings)
    assert values == {
        "states.US.financing_budget_usd_m": {2010.0: 50.0, 2012.0: 150.0, 2021.0: 350.0}
    }


def test_allied_pooling_adds_an_allied_lender_for_us_providers_from_mid_2022(lever_settings):
    values = Levers(allied_pooling_usd_m=500).overrides(lever_settings)
    allies = values["states.Allies"]
    assert allies["co_finances"] == ["US"] and allies["bloc"] == "west"
    assert allies["financing_budget_usd_m"] == {2022.48: 500.0}


def test_allied_pooling_adds_to_an_allied_state_the_lesson_already_has(tmp_path: Path):
    text = (
        LEVER_SCENARIO + "  Allies: {bloc: west, co_finances: [US], "
        "financing_budget_usd_m: {2015: 100}}\n"
    )
    settings = load_scenario(write_scenario(tmp_path, "allies.yaml", text))
    assert Levers(allied_pooling_usd_m=500).overrides(settings) == {
        "states.Allies.financing_budget_usd_m": {2010.0: 0.0, 2015.0: 100.0, 2022.48: 600.0}
    }


def test_pooled_allied_money_finances_us_providers_bids():
    model = ClassroomModel(allied_pooling_usd_m=1500)
    while model.running:
        model.step()
    lent = [c for c in model.contracts if c.bid.financing_state is model.states["Allies"]]
    assert lent and all(c.provider.home.name == "US" and c.start >= 2022.48 for c in lent)
    assert "financed by an allied (PGII) loan" in describe_contract(lent[0])


def test_factors_scale_every_step_within_the_parameter_range(lever_settings):
    values = Levers(
        us_pressure=2.0, china_financing=0.5, china_subsidies=3.0, lock_in_strength=0.0
    ).overrides(lever_settings)
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
    assert Levers(export_controls=False).overrides(load_scenario(lesson.path)) == {
        "states.US.export_controls": []
    }
    with_controls = ClassroomModel(lesson.title)
    without = ClassroomModel(lesson.title, export_controls=False)
    for model in (with_controls, without):
        for _ in range(16):
            model.step()
    assert with_controls.providers_by_name["Huawei"].capability_loss > 0
    assert without.providers_by_name["Huawei"].capability_loss == 0


def test_levers_are_described_in_words():
    assert Levers(
        china_financing=0.0, export_controls=False, allied_pooling_usd_m=300
    ).changes() == [
        "allied pooling 300 US$ m a year from 2022",
        "no US export controls",
        "China's loans × 0",
    ]


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


def _contract(
    kind="national_data_centre",
    provider="Huawei",
    lender=None,
    renewal=False,
    incumbent=None,
    start=2019.4,
    country="Kenya",
):
    holder = SimpleNamespace(name=provider)
    return SimpleNamespace(
        start=start,
        provider=holder,
        tender=SimpleNamespace(
            government=SimpleNamespace(name=country),
            kind=kind,
            renewal=renewal,
            incumbent=holder
            if incumbent == provider
            else (SimpleNamespace(name=incumbent) if incumbent else None),
        ),
        bid=SimpleNamespace(financing_state=SimpleNamespace(name=lender) if lender else None),
    )


def test_an_award_reads_as_a_sentence_with_its_loan():
    assert (
        describe_contract(_contract(lender="China"))
        == "2019 — Kenya awards a national data centre to Huawei, financed by a China Exim loan."
    )
    assert (
        describe_contract(_contract("e_government_platform", "AWS", "US", country="Ghana"))
        == "2019 — Ghana awards an e-government platform to AWS, financed by a US EXIM loan."
    )


def test_renewals_say_whether_the_government_stayed_or_switched():
    assert (
        describe_contract(_contract("government_cloud", renewal=True, incumbent="Huawei"))
        == "2019 — Kenya renews its government cloud with Huawei."
    )
    assert (
        describe_contract(
            _contract("government_cloud", "Microsoft", renewal=True, incumbent="Huawei")
        )
        == "2019 — Kenya moves its government cloud from Huawei to Microsoft."
    )


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
    assert all(
        government.country["lat"] == government.country["lat"]
        for government in model.governments
        if government.iso3 in dots
    )


def test_a_country_is_coloured_by_its_largest_installed_base():
    model = ClassroomModel()
    for _ in range(15):
        model.step()
    dominant = dominant_providers(model)
    assert dominant
    for government in model.governments:
        if government.installed:
            largest = max(government.installed.values())
            assert (
                government.installed[model.providers_by_name[dominant[government.iso3]]] == largest
            )
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
    tmp_path: Path, monkeypatch, capsys
):
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


# --- runs shared by the viewers, common random numbers, forks ----------------------------

LOAN = "2. The loan that wins the tender"


def _new_tenders(**levers) -> list[tuple]:
    model = ClassroomModel(LOAN, rng=3, **levers)
    model.record_tenders = True
    while model.running:
        model.step()
    return sorted(
        {
            (row["time"], row["country"], row["tender_kind"], row["value_usd_m"])
            for row in model.tender_log
            if not row["renewal"]
        }
    )


def test_common_random_numbers_give_every_lever_setting_the_same_tenders():
    as_written, without_loans = _new_tenders(), _new_tenders(china_financing=0.0)
    shared = set(as_written) & set(without_loans)
    # A tender put off comes back later as another arrival; every other tender is shared.
    assert len(shared) >= 0.9 * max(len(as_written), len(without_loans))


def test_a_run_is_computed_once_and_shared(monkeypatch):
    from sim.app import runs

    key = runs.RunKey(LOAN, 11, ((0, Levers(us_pressure=0.5)),))
    first = runs.get_run(key)
    monkeypatch.setattr(runs, "compute_run", lambda key: pytest.fail("computed twice"))
    assert runs.get_run(key) is first
    assert first.last_step == first.end_year - first.start_year + 1
    assert first.views[0].year == first.start_year and not first.views[0].dominant


def test_a_lever_change_forks_the_run_from_that_year_on():
    from sim.app.runs import RunKey, get_run

    key = RunKey(BASELINE_TITLE, 1, ((0, Levers()),))
    forked = key.changed_at(8, Levers(allied_pooling_usd_m=1500.0))
    assert forked.schedule[1] == (8, Levers(allied_pooling_usd_m=1500.0))
    assert forked.changed_at(0, Levers()) == key
    ghost, run = get_run(key), get_run(forked)
    columns = list(ghost.series.columns)
    assert run.series[columns].iloc[:8].equals(ghost.series.iloc[:8])
    assert run.series["financing_usd_m_Allies"].iloc[:16].sum() == 0  # pooling from 2022
    assert run.series["financing_usd_m_Allies"].iloc[16:].sum() > 0


# --- the story: milestones and the ticker --------------------------------------------------


def test_milestones_follow_the_lessons_scenario():
    from sim.app.story import scenario_events

    settings = load_scenario(find_lesson("4. Export controls").path)
    events = scenario_events(settings, 2006, 2032)
    controls = [c.start for c in settings.states["US"].export_controls]
    assert all(any(e.year == start for e in events) for start in controls)
    assert [e.text for e in events if e.year == 2019.37][0].startswith("Entity List")
    threat = load_scenario(find_lesson("5. The coercion dilemma").path)
    year = threat.states["China"].coercion_events[0].year
    assert any(
        e.year == year and "threatens" in e.text for e in scenario_events(threat, 2006, 2032)
    )


def test_the_ticker_keeps_the_last_twenty_lines_with_the_years_milestones_first():
    from sim.app.runs import RunKey, get_run
    from sim.app.story import TICKER_LINES, run_events, ticker_lines

    run = get_run(RunKey("4. Export controls", 1, ((0, Levers()),)))
    events = run_events(run)
    step = 2020 - run.start_year  # 2019 has just closed
    lines = ticker_lines(run, step, events)
    assert len(lines) == TICKER_LINES
    milestones_2019 = [e for e in events if int(e.year) == 2019]
    assert [kind for kind, _ in lines[: len(milestones_2019)]] == ["milestone"] * len(
        milestones_2019
    )
    assert all(text.startswith("2019 ") for _, text in lines[: len(milestones_2019) + 1])


def test_years_with_few_contracts_are_counts_not_shares():
    from sim.app.charts import FEW, build_chart
    from sim.app.debrief import new_contracts_text
    from sim.app.runs import RunKey, get_run

    run = get_run(RunKey(BASELINE_TITLE, 1, ((0, Levers()),)))
    rows = run.series
    few = rows[(rows["new_total"] > 0) & (rows["new_total"] < FEW)]
    assert len(few), "the early years have few contracts"
    chart = build_chart("new", run, run.last_step)
    shares = dict(chart.lines[0].points)
    for _, row in few.iterrows():
        assert shares[int(row["year"])] is None
        dots = [d for d in chart.dots if d.year == int(row["year"])][0]
        assert len(dots.colours) == row["new_total"]
        assert (
            new_contracts_text(row, "China") == f"{row['new_China']:.0f} of {row['new_total']:.0f}"
        )
    many = rows[rows["new_total"] >= FEW].iloc[0]
    assert shares[int(many["year"])] == pytest.approx(100 * many["new_China"] / many["new_total"])


def test_svg_charts_scale_and_mark_ghost_band_and_milestones():
    from sim.app.svg import Band, Chart, Line, Milestone, line_chart

    chart = Chart(
        "cloudrace-x",
        "Title",
        "unit",
        (2006, 2010),
        100.0,
        lines=[
            Line("A", "#f00", ((2006, 10.0), (2007, None), (2008, 30.0), (2009, 40.0))),
            Line("A", "#f00", ((2006, 20.0), (2007, 25.0)), ghost=True),
        ],
        bands=[Band("#f00", ((2008, 20.0, 40.0), (2009, 30.0, 50.0)))],
        milestones=[Milestone(1, 2008.5, "Something & more")],
        percent=True,
    )
    svg = line_chart(chart)
    assert svg.startswith(
        '<svg class="cloudrace-chart cloudrace-x" viewBox="0 0 760 300" width="100%"'
    )
    assert svg.count('class="ghost"') == 1 and svg.count('class="current"') == 2
    assert 'class="band"' in svg and 'data-year="2008.50"' in svg
    assert "Something &amp; more" in svg and "previous run" in svg


def test_the_svg_map_has_every_country_and_is_coloured_by_its_dominant_provider():
    from sim.app.map import map_fills, map_fills_css, map_geometry_svg
    from sim.palette import provider_colour
    from sim.worldmap import NO_CONTRACT

    model = ClassroomModel()
    for _ in range(15):
        model.step()
    dominant = dominant_providers(model)
    centroids = {g.iso3: (g.country["lon"], g.country["lat"]) for g in model.governments}
    svg = map_geometry_svg(tuple((iso3, *where) for iso3, where in centroids.items()))
    outlined = set(country_outlines())
    assert svg.count("<path ") == len(outlined)
    assert svg.count("<circle ") == len(set(centroids) - outlined)
    names = [p.name for p in model.providers]
    fills = map_fills(dominant, names, centroids)
    assert set(fills) == set(centroids)
    for iso3, colour in fills.items():
        expected = (
            provider_colour(dominant[iso3], names.index(dominant[iso3]))
            if iso3 in dominant
            else NO_CONTRACT
        )
        assert colour == expected
    assert f'[data-iso3="{iso3}"]{{fill:{colour}}}' in map_fills_css(dominant, names, centroids)


def test_saving_a_class_run_never_overwrites(tmp_path: Path):
    from datetime import datetime

    from sim.app.debrief import save_class_run
    from sim.app.runs import RunKey, get_run

    key = RunKey(LOAN, 1, ((0, Levers()),))
    run, previous = get_run(key.changed_at(0, Levers(china_financing=0.0))), get_run(key)
    moment = datetime(2026, 3, 1, 10, 15)
    picture = b"\x89PNG\r\n\x1a\n the picture of the screen"
    first = save_class_run(run, 12, previous, picture, root=tmp_path, now=moment)
    second = save_class_run(run, 12, previous, picture, root=tmp_path, now=moment)
    assert first != second and first.exists() and second.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.name, second.name]
    assert (first / "class-run.png").read_bytes() == picture
    text = (first / "numbers.csv").read_text()
    assert text.splitlines()[0].startswith("run,year,new_total,new_China")
    assert text.count("previous run") == 12 and text.count("this run") == 12


def _png_data_url(width: int, height: int, kind: str = "PNG") -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, format=kind)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_the_picture_from_the_browser_is_checked_before_it_is_saved():
    from sim.app.capture import CaptureError, decode_png

    good = _png_data_url(64, 36)
    assert decode_png(good, 64, 36)[:8] == b"\x89PNG\r\n\x1a\n"
    for data_url, width, height, message in (
        (good, 1366, 768, "the picture is 64 x 36, the screen 1366 x 768"),
        ("data:image/jpeg;base64,AAAA", 64, 36, "no PNG data URL"),
        ("data:image/png;base64,not base64!", 64, 36, "cannot be read"),
        ("data:image/png;base64,AAAA", 64, 36, "cannot be read"),
        (_png_data_url(64, 36, "JPEG"), 64, 36, "a JPEG, not a PNG"),
        (None, 64, 36, "no PNG data URL"),
    ):
        with pytest.raises(CaptureError, match=message):
            decode_png(data_url, width, height)
