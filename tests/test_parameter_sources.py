"""Every parameter that drives the baseline has a recorded basis (sim/data/parameter_sources.yaml)
and the register agrees with the calibration file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim.docs import key_path_exists
from sim.model import BASELINE
from sim.parameter_sources import (
    Entry,
    awaiting_prior,
    calibrated_by,
    entry_for,
    generic_forms,
    load_register,
    missing_entries,
    missing_message,
    resolved_parameters,
)
from sim.scenario import load_scenario

CALIBRATION = Path(__file__).resolve().parent.parent / "calibration" / "abc.yaml"


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(BASELINE)


@pytest.fixture(scope="module")
def register():
    return load_register()


@pytest.fixture(scope="module")
def calibrated() -> list[str]:
    return list(yaml.safe_load(CALIBRATION.read_text(encoding="utf-8"))["parameters"])


def test_every_parameter_of_the_resolved_baseline_has_an_entry(baseline, register) -> None:
    missing = missing_entries(baseline, register)
    assert not missing, missing_message(missing)


def test_every_entry_names_a_schema_parameter_the_baseline_has(baseline, register) -> None:
    unknown = [key for key in register if not key_path_exists(key)]
    assert not unknown, f"register entries for keys the schema does not have: {unknown}"
    used = {entry_for(key, register).key for key in resolved_parameters(baseline)}
    stale = [key for key in register if key not in used]
    assert not stale, f"register entries that match no parameter of the baseline: {stale}"


def test_calibrated_entries_are_exactly_the_calibration_files_parameters(
    baseline, register, calibrated
) -> None:
    marked = {  # every concrete parameter an entry marks calibrated, "<name>"/"[i]" expanded
        key
        for key in resolved_parameters(baseline)
        if entry_for(key, register).basis == "calibrated"
    }
    without_prior = sorted(key for key in marked if calibrated_by(key, calibrated) is None)
    assert not without_prior, f"marked calibrated but not in {CALIBRATION.name}: {without_prior}"
    for name in calibrated:
        entry = entry_for(name, register) or next(
            (register[k] for k in register if name.startswith(k + ".")), None
        )
        assert entry is not None and entry.basis == "calibrated", (
            f"{CALIBRATION.name} calibrates {name}, but the register does not mark it calibrated"
        )


def test_assumptions_awaiting_a_prior_leave_out_calibrated_and_inert_ones(
    baseline, register, calibrated
) -> None:
    assert awaiting_prior(baseline, register, calibrated) == []
    without_falloff = [name for name in calibrated if name != "tenders.hardware_internet_falloff"]
    assert awaiting_prior(baseline, register, without_falloff) == []  # the register says calibrated
    reverted = {
        **register,
        "tenders.hardware_internet_falloff": Entry(
            "tenders.hardware_internet_falloff", "assumption"
        ),
    }
    assert awaiting_prior(baseline, reverted, without_falloff) == [
        "tenders.hardware_internet_falloff"
    ]
    inert = {
        **reverted,
        "tenders.hardware_internet_falloff": Entry(
            "tenders.hardware_internet_falloff", "assumption", drives=False
        ),
    }
    assert awaiting_prior(baseline, inert, without_falloff) == []


def test_entries_may_stand_for_every_name_and_list_item() -> None:
    assert generic_forms("states.US.export_controls[2].start") == [
        "states.US.export_controls[2].start",
        "states.US.export_controls[i].start",
        "states.<name>.export_controls[2].start",
        "states.<name>.export_controls[i].start",
    ]
    assert "providers.<name>.home_state" in generic_forms("providers.AWS.home_state")
    assert "tenders.kinds.<name>.share" in generic_forms("tenders.kinds.government_cloud.share")


def test_a_malformed_entry_is_refused_by_key(tmp_path) -> None:
    bad = tmp_path / "sources.yaml"
    bad.write_text("parameters:\n  choice.scale: {basis: guess}\n")
    with pytest.raises(ValueError, match="choice.scale"):
        load_register(bad)
    bad.write_text("parameters:\n  choice.scale: {basis: source}\n")
    with pytest.raises(ValueError, match="needs a source"):
        load_register(bad)


def test_the_missing_message_lists_each_key_with_its_value() -> None:
    message = missing_message({"states.US.export_credit.rate": 0.045})
    assert "states.US.export_credit.rate: {basis: TODO" in message and "0.045" in message
