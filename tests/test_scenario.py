"""Scenario files: extends, time-phased values, --set overrides, and one clear message per mistake.

Every bad input is refused with a ``UserError`` whose message names the file, the key path and
what was expected (the nearest valid key for a typo); through the command line it exits with
status 2, prints no traceback and writes no results folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import (
    BASELINE,
    RESULTS,
    TINY_COUNTRIES,
    listing,
    run_cli,
    run_cli_subprocess,
    tiny_scenario_text,
    write_scenario,
)

from sim.errors import UserError
from sim.model import CloudRaceModel, CloudRaceScenario
from sim.scenario import SCENARIO_DIR, load_scenario, scenario_hash
from sim.schema import ScenarioFile


def refused(path: Path, overrides: tuple[str, ...] = ()) -> str:
    """Load ``path`` expecting a UserError; return its message."""
    with pytest.raises(UserError) as caught:
        load_scenario(path, overrides)
    return str(caught.value)


def child(tmp_path: Path, body: str, name: str = "child.yaml") -> Path:
    """A scenario extending the shipped baseline with ``body``."""
    return write_scenario(tmp_path, name, f"extends: {BASELINE}\n{body}")


# --- the shipped scenarios ----------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.rglob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scenario_loads_and_states_its_question(path: Path):
    scenario = load_scenario(path)
    assert isinstance(scenario, ScenarioFile)
    assert scenario.description.strip()


def test_shipped_baseline_has_the_four_providers_the_other_suppliers_and_their_states():
    baseline = load_scenario(BASELINE)
    assert set(baseline.providers) == {"Huawei", "Alibaba", "AWS", "Microsoft", "Other"}
    assert set(baseline.states) == {"US", "China", "Others"}
    assert baseline.states["Others"].bloc == "none"
    assert baseline.providers["Huawei"].home_state == "China"
    assert baseline.run.start_year == 2006
    assert baseline.run.end_year == 2035


# --- unknown and misspelt keys ------------------------------------------------------------------


def test_misspelt_key_names_file_key_path_and_nearest_valid_key(tmp_path):
    path = child(tmp_path, "choice:\n  cost_wieght: 2.0\n")
    message = refused(path)
    assert str(path) in message
    assert "choice.cost_wieght" in message
    assert "unknown key" in message
    assert "did you mean 'cost_weight'" in message


def test_misspelt_top_level_section_suggests_the_section(tmp_path):
    message = refused(write_scenario(tmp_path, "s.yaml", "descripton: a question\n"))
    assert "descripton" in message
    assert "did you mean 'description'" in message


def test_misspelt_key_deep_in_a_named_state_suggests_the_key(tmp_path):
    path = child(tmp_path, "states:\n  China:\n    financing: {intrest_rate: 0.03}\n")
    message = refused(path)
    assert "states.China.financing.intrest_rate" in message
    assert "did you mean 'interest_rate'" in message


def test_misspelt_key_in_a_tender_kind_suggests_the_key(tmp_path):
    path = child(tmp_path, "tenders:\n  kinds:\n    government_cloud: {shar: 0.3}\n")
    message = refused(path)
    assert "tenders.kinds.government_cloud.shar" in message
    assert "did you mean 'share'" in message


def test_unknown_key_with_no_near_match_lists_the_valid_keys(tmp_path):
    message = refused(child(tmp_path, "choice:\n  zzzz: 1\n"))
    assert "choice.zzzz" in message
    assert "unknown key" in message
    assert "did you mean" not in message
    assert "cost_weight" in message and "defer_utility" in message


# --- wrong types --------------------------------------------------------------------------------


def test_text_where_a_number_is_expected(tmp_path):
    path = child(tmp_path, "choice:\n  cost_weight: abc\n")
    message = refused(path)
    assert str(path) in message
    assert "choice.cost_weight" in message
    assert "expected a number" in message and "'abc'" in message


def test_boolean_where_a_number_is_expected_is_refused(tmp_path):
    # YAML reads yes/true as a boolean; a weight of "true" is a mistake, not 1.0.
    message = refused(child(tmp_path, "choice:\n  cost_weight: true\n"))
    assert "choice.cost_weight" in message
    assert "number" in message


def test_text_where_a_time_phased_value_is_expected(tmp_path):
    message = refused(child(tmp_path, "states:\n  US: {promotion: lots}\n"))
    assert "states.US.promotion" in message
    assert "a number or a {year: value} mapping" in message


def test_text_as_a_step_value_in_a_time_phased_mapping(tmp_path):
    message = refused(child(tmp_path, "states:\n  US: {promotion: {2020: high}}\n"))
    assert "states.US.promotion" in message
    assert "'high'" in message


def test_word_where_true_or_false_is_expected(tmp_path):
    message = refused(child(tmp_path, "providers:\n  AWS: {can_bundle_hardware: maybe}\n"))
    assert "providers.AWS.can_bundle_hardware" in message
    assert "expected true or false" in message


def test_fraction_where_a_whole_number_is_expected(tmp_path):
    message = refused(child(tmp_path, "run: {end_year: 2012.5}\n"))
    assert "run.end_year" in message
    assert "expected an integer" in message


def test_number_where_a_section_is_expected(tmp_path):
    message = refused(child(tmp_path, "choice: 3\n"))
    assert "choice" in message
    assert "expected a mapping" in message


def test_text_where_a_list_is_expected(tmp_path):
    message = refused(child(tmp_path, "population: {only: KEN}\n"))
    assert "population.only" in message
    assert "expected a list" in message


def test_value_outside_a_literal_choice(tmp_path):
    message = refused(child(tmp_path, "states:\n  US: {bloc: east}\n"))
    assert "states.US.bloc" in message
    assert "'west', 'china' or 'none'" in message and "'east'" in message


def test_missing_required_key_of_a_new_provider(tmp_path):
    message = refused(child(tmp_path, "providers:\n  Google: {capability: 0.9}\n"))
    assert "providers.Google.home_state" in message
    assert "required key is missing" in message


# --- out-of-range values ------------------------------------------------------------------------


def test_value_above_its_range(tmp_path):
    path = child(tmp_path, "choice:\n  cost_weight: 99\n")
    message = refused(path)
    assert str(path) in message
    assert "choice.cost_weight" in message
    assert "<= 50" in message and "99" in message


def test_value_below_its_range(tmp_path):
    message = refused(child(tmp_path, "run: {replications: 0}\n"))
    assert "run.replications" in message
    assert ">= 1" in message


def test_time_phased_step_out_of_range_names_its_year(tmp_path):
    message = refused(child(tmp_path, "states:\n  US: {promotion: {2020: 2}}\n"))
    assert "states.US.promotion" in message
    assert "between 0 and 1" in message and "2020" in message


def test_time_phased_year_out_of_range(tmp_path):
    message = refused(child(tmp_path, "states:\n  US: {promotion: {1800: 0.5}}\n"))
    assert "states.US.promotion" in message
    assert "year between 1900 and 2200" in message


def test_financing_need_share_out_of_range(tmp_path):
    message = refused(child(tmp_path, "tenders:\n  financing_need: {Low: 1.5}\n"))
    assert "tenders.financing_need" in message
    assert "between 0 and 1" in message


def test_every_mistake_in_a_file_is_listed_one_per_line(tmp_path):
    path = child(tmp_path, "choice:\n  cost_weight: 99\n  qualty_weight: 1\nrun: {seed: -1}\n")
    message = refused(path)
    lines = message.splitlines()
    assert lines[0].startswith(str(path))
    assert any("choice.cost_weight" in line for line in lines[1:])
    assert any("did you mean 'quality_weight'" in line for line in lines[1:])
    assert any("run.seed" in line for line in lines[1:])


# --- cross-references ---------------------------------------------------------------------------


def test_provider_home_state_must_be_a_state(tmp_path):
    path = child(tmp_path, "providers:\n  Huawei: {home_state: Chna}\n")
    message = refused(path)
    assert str(path) in message
    assert "providers.Huawei.home_state" in message
    assert "one of the states (China, Others, US)" in message and "'Chna'" in message


def test_export_control_target_must_be_a_provider(tmp_path):
    path = child(tmp_path, "states:\n  US:\n    export_controls: [{target: Huwei, start: 2019}]\n")
    message = refused(path)
    assert "states.US.export_controls.0.target" in message
    assert "one of the providers" in message and "'Huwei'" in message


def test_grace_period_must_be_shorter_than_maturity(tmp_path):
    message = refused(child(tmp_path, "states:\n  US:\n    financing: {grace_years: 12}\n"))
    assert "states.US.financing.grace_years" in message
    assert "maturity_years" in message


def test_end_year_must_follow_start_year(tmp_path):
    message = refused(child(tmp_path, "run: {start_year: 2010, end_year: 2009}\n"))
    assert "run.end_year" in message and "2010" in message


def test_at_least_one_tender_kind_must_have_a_share(tmp_path):
    kinds = "".join(f"    {kind}: {{share: 0}}\n" for kind in (
        "national_data_centre", "e_government_platform", "government_cloud",
        "critical_infrastructure_system"))
    message = refused(child(tmp_path, "tenders:\n  kinds:\n" + kinds))
    assert "tenders.kinds" in message


# --- files: missing, unreadable YAML, empty, cycles ---------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.yaml"
    message = refused(path)
    assert str(path) in message
    assert "not found" in message


def test_missing_parent_in_extends_names_the_child_and_the_parent(tmp_path):
    path = write_scenario(tmp_path, "child.yaml", "extends: nope.yaml\n")
    message = refused(path)
    assert str(path) in message
    assert "extends" in message and "nope.yaml" in message and "not found" in message


def test_extends_must_be_a_file_name(tmp_path):
    message = refused(write_scenario(tmp_path, "child.yaml", "extends: [a.yaml, b.yaml]\n"))
    assert "extends" in message
    assert "expected a file name" in message


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = write_scenario(tmp_path, "broken.yaml",
                          "description: x\nchoice:\n  cost_weight: [1, 2\nrun: {}\n")
    message = refused(path)
    assert str(path) in message
    assert "YAML syntax error" in message
    assert "line" in message


def test_yaml_syntax_error_in_a_parent_names_the_parent(tmp_path):
    parent = write_scenario(tmp_path, "parent.yaml", "choice: {cost_weight: 1\n")
    path = write_scenario(tmp_path, "child.yaml", "extends: parent.yaml\n")
    message = refused(path)
    assert str(parent) in message
    assert "YAML syntax error" in message


def test_empty_file(tmp_path):
    path = write_scenario(tmp_path, "empty.yaml", "")
    message = refused(path)
    assert str(path) in message
    assert "empty" in message and "expected a mapping" in message


def test_file_of_comments_only_counts_as_empty(tmp_path):
    message = refused(write_scenario(tmp_path, "comments.yaml", "# nothing yet\n\n"))
    assert "empty" in message


def test_top_level_must_be_a_mapping(tmp_path):
    path = write_scenario(tmp_path, "list.yaml", "- a\n- b\n")
    message = refused(path)
    assert str(path) in message
    assert "expected a mapping" in message and "list" in message


def test_cycle_in_extends_is_named_with_its_files(tmp_path):
    write_scenario(tmp_path, "a.yaml", "extends: b.yaml\n")
    write_scenario(tmp_path, "b.yaml", "extends: a.yaml\n")
    message = refused(tmp_path / "a.yaml")
    assert str(tmp_path / "a.yaml") in message
    assert "cycle" in message
    assert "a.yaml -> b.yaml -> a.yaml" in message


def test_file_extending_itself_is_a_cycle(tmp_path):
    message = refused(write_scenario(tmp_path, "self.yaml", "extends: self.yaml\n"))
    assert "cycle" in message


def test_cycle_through_three_files(tmp_path):
    write_scenario(tmp_path, "a.yaml", "extends: b.yaml\n")
    write_scenario(tmp_path, "b.yaml", "extends: c.yaml\n")
    write_scenario(tmp_path, "c.yaml", "extends: b.yaml\n")
    message = refused(tmp_path / "a.yaml")
    assert "cycle" in message and "b.yaml -> c.yaml -> b.yaml" in message


def test_a_refused_scenario_leaves_its_folder_as_it_was(tmp_path):
    path = child(tmp_path, "choice:\n  cost_wieght: 2.0\n")
    before = listing(tmp_path)
    refused(path)
    assert listing(tmp_path) == before


# --- extends and time-phased merging ------------------------------------------------------------


def test_child_overrides_one_value_and_keeps_the_rest(tmp_path):
    baseline = load_scenario(BASELINE)
    scenario = load_scenario(child(tmp_path, "choice:\n  cost_weight: 2.0\n"))
    assert scenario.choice.cost_weight == 2.0
    assert scenario.choice.model_dump(exclude={"cost_weight"}) == \
        baseline.choice.model_dump(exclude={"cost_weight"})
    for section in ("run", "demand", "tenders", "bidding", "providers", "states", "description"):
        assert getattr(scenario, section) == getattr(baseline, section)


def test_child_merges_key_by_key_deep_inside_a_named_state(tmp_path):
    scenario = load_scenario(child(tmp_path, "states:\n  US:\n    financing: {coverage: 0.7}\n"))
    baseline = load_scenario(BASELINE)
    assert scenario.states["US"].financing.coverage == 0.7
    assert scenario.states["US"].financing.interest_rate \
        == baseline.states["US"].financing.interest_rate
    assert scenario.states["US"].export_controls == baseline.states["US"].export_controls
    assert scenario.states["China"] == baseline.states["China"]


def test_child_with_relative_extends_path(tmp_path):
    shutil.copy(BASELINE, tmp_path / "baseline.yaml")
    nested = tmp_path / "policy"
    nested.mkdir()
    path = write_scenario(nested, "p.yaml", "extends: ../baseline.yaml\ndescription: Q?\n")
    scenario = load_scenario(path)
    assert scenario.description == "Q?"
    assert scenario.providers == load_scenario(BASELINE).providers


def test_three_level_extends_chain_applies_each_change(tmp_path):
    write_scenario(tmp_path, "parent.yaml",
                   f"extends: {BASELINE}\nchoice: {{cost_weight: 2.0, quality_weight: 1.0}}\n")
    path = write_scenario(tmp_path, "grandchild.yaml",
                          "extends: parent.yaml\nchoice: {cost_weight: 4.0}\n")
    scenario = load_scenario(path)
    assert scenario.choice.cost_weight == 4.0
    assert scenario.choice.quality_weight == 1.0
    assert scenario.choice.security_weight == load_scenario(BASELINE).choice.security_weight


def test_time_phased_mapping_in_a_child_adds_a_step_to_the_parents(tmp_path):
    path = child(tmp_path, "states:\n  US:\n    development_finance:\n"
                           "      budget_usd_m: {2024: 1500}\n")
    budget = load_scenario(path).states["US"].development_finance.budget_usd_m
    assert budget == {2019.95: 150, 2022.5: 400, 2024: 1500}


def test_time_phased_mapping_in_a_child_replaces_a_step_of_the_same_year(tmp_path):
    path = child(tmp_path, "states:\n  US:\n    development_finance:\n"
                           "      budget_usd_m: {2022.5: 900}\n")
    assert load_scenario(path).states["US"].development_finance.budget_usd_m \
        == {2019.95: 150, 2022.5: 900}


def test_plain_number_in_a_child_replaces_the_whole_time_phased_mapping(tmp_path):
    path = child(tmp_path, "states:\n  US:\n    security_pressure: 0.2\n")
    assert load_scenario(path).states["US"].security_pressure == 0.2


def test_mapping_in_a_child_turns_a_parents_constant_into_steps(tmp_path):
    path = child(tmp_path, "states:\n  US:\n    subsidy_rate: {2025: 0.1}\n")
    assert load_scenario(path).states["US"].subsidy_rate == {2025: 0.1}


def test_list_in_a_child_replaces_the_parents_list(tmp_path):
    path = child(tmp_path, "states:\n  US:\n    export_controls: []\n")
    assert load_scenario(path).states["US"].export_controls == []


# --- --set overrides ----------------------------------------------------------------------------


def test_set_overrides_one_value():
    scenario = load_scenario(BASELINE, ["choice.cost_weight=2.5"])
    assert scenario.choice.cost_weight == 2.5
    assert scenario.choice.quality_weight == load_scenario(BASELINE).choice.quality_weight


def test_set_reads_its_value_as_yaml_and_merges_a_time_phased_mapping_as_extends_does():
    scenario = load_scenario(BASELINE, ["states.US.promotion={2020: 0.5}",
                                        "providers.AWS.can_bundle_hardware=true"])
    assert scenario.states["US"].promotion == {
        **load_scenario(BASELINE).states["US"].promotion, 2020: 0.5}
    assert load_scenario(BASELINE, ["states.US.promotion=!replace {2020: 0.5}"]
                         ).states["US"].promotion == {2020: 0.5}
    assert scenario.providers["AWS"].can_bundle_hardware is True


def test_set_is_applied_after_extends(tmp_path):
    path = child(tmp_path, "choice:\n  cost_weight: 2.0\n")
    assert load_scenario(path, ["choice.cost_weight=4.5"]).choice.cost_weight == 4.5


def test_later_set_wins_over_earlier_set():
    scenario = load_scenario(BASELINE, ["run.end_year=2020", "run.end_year=2025"])
    assert scenario.run.end_year == 2025


def test_set_with_unknown_key_names_it_and_the_nearest_key():
    message = refused(BASELINE, ("choice.cost_wieght=2",))
    assert str(BASELINE) in message
    assert "choice.cost_wieght" in message
    assert "--set" in message
    assert "did you mean 'cost_weight'" in message


def test_set_with_unknown_section_names_it_and_the_nearest_section():
    message = refused(BASELINE, ("chioce.cost_weight=2",))
    assert "chioce" in message
    assert "did you mean 'choice'" in message


def test_set_with_wrong_type_says_it_came_from_set():
    message = refused(BASELINE, ("choice.cost_weight=abc",))
    assert "choice.cost_weight (set with --set)" in message
    assert "expected a number" in message


def test_set_out_of_range():
    message = refused(BASELINE, ("choice.cost_weight=60",))
    assert "choice.cost_weight" in message and "<= 50" in message


def test_set_without_an_equals_sign():
    message = refused(BASELINE, ("choice.cost_weight",))
    assert "--set choice.cost_weight" in message
    assert "expected key.path=value" in message


def test_set_with_no_key():
    assert "expected key.path=value" in refused(BASELINE, ("=3",))


def test_set_into_a_value_as_if_it_were_a_section():
    message = refused(BASELINE, ("run.end_year.month=3",))
    assert "run.end_year is a value, not a section" in message


def test_set_with_unreadable_yaml_value():
    message = refused(BASELINE, ("choice.cost_weight=[1,",))
    assert "--set choice.cost_weight=[1," in message
    assert "cannot read the value" in message


# --- the population and names taken from the country data ------------------------------------


def test_population_only_selects_the_named_countries(tmp_path):
    path = write_scenario(tmp_path, "tiny.yaml", tiny_scenario_text())
    model = CloudRaceModel(CloudRaceScenario.from_settings(load_scenario(path), rng=1))
    assert sorted(government.iso3 for government in model.governments) == sorted(TINY_COUNTRIES)


def test_population_exclude_leaves_out_the_named_countries(tmp_path):
    path = child(tmp_path, "run: {end_year: 2007}\npopulation: {exclude: [KEN, ZMB]}\n")
    model = CloudRaceModel(CloudRaceScenario.from_settings(load_scenario(path), rng=1))
    names = {government.iso3 for government in model.governments}
    assert "GHA" in names
    assert not names & {"KEN", "ZMB"}


@pytest.mark.parametrize("key", ["only", "exclude"])
def test_unknown_country_code_in_population_names_the_key_and_the_code(tmp_path, key):
    path = child(tmp_path, f"population: {{{key}: [KEN, XXX]}}\n")
    message = refused(path)
    assert str(path) in message
    assert f"population.{key}" in message
    assert "XXX" in message
    assert "KEN" not in message


def test_unknown_country_code_in_barred_in(tmp_path):
    message = refused(child(tmp_path, "providers:\n  AWS: {barred_in: [QQQ]}\n"))
    assert "providers.AWS.barred_in" in message and "QQQ" in message


def test_tie_to_a_column_missing_from_the_country_data_suggests_the_column(tmp_path):
    message = refused(child(tmp_path, "states:\n  US: {ties: {us_security_partnr: 1.0}}\n"))
    assert "states.US.ties.us_security_partnr" in message
    assert "did you mean 'us_security_partner'" in message


# --- the scenario hash -------------------------------------------------------------------------


def test_scenario_hash_is_stable_for_the_same_parameters(tmp_path):
    first = scenario_hash(load_scenario(BASELINE))
    assert first == scenario_hash(load_scenario(BASELINE))
    assert len(first) == 64 and int(first, 16) >= 0
    copy = tmp_path / "baseline.yaml"
    shutil.copy(BASELINE, copy)
    assert scenario_hash(load_scenario(copy)) == first


def test_scenario_hash_ignores_how_a_value_is_written(tmp_path):
    same = child(tmp_path, "# a comment\nchoice: {cost_weight: 3}\n")
    assert load_scenario(BASELINE).choice.cost_weight == 3.0
    assert scenario_hash(load_scenario(same)) == scenario_hash(load_scenario(BASELINE))


def test_scenario_hash_changes_with_any_parameter():
    base = scenario_hash(load_scenario(BASELINE))
    assert scenario_hash(load_scenario(BASELINE, ["choice.cost_weight=3.01"])) != base
    assert scenario_hash(load_scenario(BASELINE, ["states.US.promotion={2020: 0.35}"])) != base
    assert scenario_hash(load_scenario(BASELINE, ["run.seed=1"])) != base


# --- through the command line: status 2, one message, no traceback, nothing written ------------


BAD_FILES = {
    "misspelt_key": ("choice:\n  cost_wieght: 2.0\n", ["choice.cost_wieght",
                                                      "did you mean 'cost_weight'"]),
    "syntax_error": ("choice: {cost_weight: [1, 2}\n", ["YAML syntax error", "line"]),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_cli_refuses_a_bad_scenario_with_status_2_and_writes_nothing(case, tmp_path):
    body, expected = BAD_FILES[case]
    path = child(tmp_path, body, name=f"{case}.yaml")
    out = tmp_path / "out"
    results_before = listing(RESULTS)
    process = run_cli_subprocess(["run", path, "--out", out, "-q"], cwd=tmp_path)
    assert process.returncode == 2
    assert "Traceback" not in process.stderr
    assert process.stderr.startswith("cloudrace: error: ")
    assert str(path) in process.stderr
    for text in expected:
        assert text in process.stderr
    assert not out.exists()
    assert not (tmp_path / "results").exists()
    assert listing(RESULTS) == results_before
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{case}.yaml"]


def test_cli_refuses_a_missing_file_with_status_2_and_writes_nothing(tmp_path):
    path = tmp_path / "missing.yaml"
    process = run_cli_subprocess(["run", path, "-q"], cwd=tmp_path)
    assert process.returncode == 2
    assert "Traceback" not in process.stderr
    assert process.stderr == f"cloudrace: error: {path}: scenario file not found\n"
    assert listing(tmp_path) == []


def test_cli_set_with_unknown_key_names_it_with_status_2(tmp_path):
    out = tmp_path / "out"
    process = run_cli_subprocess(["run", BASELINE, "--set", "choice.cost_wieght=2", "--out",
                                  out, "-q"], cwd=tmp_path)
    assert process.returncode == 2
    assert "Traceback" not in process.stderr
    assert "choice.cost_wieght (set with --set)" in process.stderr
    assert "did you mean 'cost_weight'" in process.stderr
    assert listing(tmp_path) == []


IN_PROCESS_CASES = {
    "wrong_type": "choice:\n  cost_weight: abc\n",
    "out_of_range": "states:\n  US: {promotion: {2020: 2}}\n",
    "bad_reference": "providers:\n  Huawei: {home_state: Chna}\n",
    "unknown_country": "population: {only: [XXX]}\n",
    "empty": "",
    "cycle": "extends: cycle.yaml\n",
}


@pytest.mark.parametrize("case", sorted(IN_PROCESS_CASES))
def test_cli_main_returns_2_for_each_bad_scenario_and_writes_nothing(case, tmp_path, capsys,
                                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    body = IN_PROCESS_CASES[case]
    path = (write_scenario(tmp_path, "cycle.yaml", body) if case in ("empty", "cycle")
            else child(tmp_path, body, name="cycle.yaml"))
    before = listing(tmp_path)
    result = run_cli(["run", path, "--out", tmp_path / "runs" / "one", "-q"], capsys)
    assert result.code == 2
    assert result.err.startswith(f"cloudrace: error: {path}")
    assert "Traceback" not in result.err
    assert result.out == ""
    assert listing(tmp_path) == before
