"""The docs cannot drift from the code: the parameter reference is regenerated from the schema,
and every parameter the model description names exists in the schema."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from sim.docs import (
    REFERENCE_PATH,
    REGENERATE_COMMAND,
    key_path_exists,
    main,
    render_parameter_reference,
)
from sim.schema import (
    BiddingSettings,
    ChoiceSettings,
    CoercionEvent,
    DemandSettings,
    ExportControl,
    FinancingTerms,
    GovernmentSettings,
    IncidentSettings,
    LockInSettings,
    ScenarioFile,
    TenderKind,
    TenderSettings,
)

DOCS = Path(__file__).resolve().parent.parent / "docs"
MODEL_DOC = DOCS / "model.md"
BASELINE_DOC = DOCS / "baseline.md"

MECHANISMS = (
    "Digital demand and tenders", "Bidding", "Financing", "Choice", "Lock-in",
    "Pressure works through dependence", "Export controls", "Incidents and debt distress",
    "Leverage",
)


def fields(prefix: str, model: type[BaseModel], *, leave_out: tuple[str, ...] = ()) -> list[str]:
    """Key paths of a section's fields (today's and any added later)."""
    return [f"{prefix}.{name}" for name in model.model_fields if name not in leave_out]


STATE = "states.<name>"
PROVIDER = "providers.<name>"

# The main parameters of each mechanism: its section of the schema, plus the levers it reads
# elsewhere. A parameter not (or no longer) in the schema is skipped.
MECHANISM_PARAMETERS: dict[str, list[str]] = {
    "Digital demand and tenders": (
        fields("demand", DemandSettings) + fields("tenders", TenderSettings)
        + fields("tenders.kinds.<name>", TenderKind)),
    "Bidding": fields("bidding", BiddingSettings) + [
        f"{STATE}.strategic_value", f"{STATE}.subsidy_budget_usd_m", f"{STATE}.subsidy_rate",
        f"{STATE}.barrier_removal", f"{PROVIDER}.cost_share", f"{PROVIDER}.risk_appetite",
        f"{PROVIDER}.cloud_regions", f"{PROVIDER}.can_bundle_hardware"],
    "Financing": fields(f"{STATE}.financing", FinancingTerms) + [
        f"{STATE}.financing_budget_usd_m", f"{PROVIDER}.state_financing"],
    "Choice": fields("choice", ChoiceSettings) + [
        f"{PROVIDER}.capability", f"{STATE}.exposure", f"{STATE}.promotion",
        f"{STATE}.security_pressure"],
    "Lock-in": fields("lock_in", LockInSettings) + ["tenders.renewal_value_share"],
    "Pressure works through dependence": (
        fields("governments", GovernmentSettings, leave_out=("trust_recovery",))
        + ["dependence.debt_weight", f"{STATE}.ties", f"{STATE}.ties_from",
           f"{STATE}.security_pressure", f"{STATE}.promotion", f"{STATE}.technical_assistance"]),
    "Export controls": fields(f"{STATE}.export_controls[i]", ExportControl),
    "Incidents and debt distress": (fields("incidents", IncidentSettings)
                                    + ["governments.trust_recovery"]),
    "Leverage": (fields(f"{STATE}.coercion_events[i]", CoercionEvent)
                 + ["dependence.dependent_threshold"]),
}

FILE_SUFFIX = re.compile(r"\.(csv|md|json|png|ya?ml|py|txt|parquet)$")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
HEADING = re.compile(r"^(#+)\s+(.*)$")


# --- the parameter reference ----------------------------------------------------------------

def schema_fields(model: type[BaseModel] = ScenarioFile, prefix: str = "") -> Iterator[str]:
    """Every field's key path, found by walking the schema independently of ``sim.docs``."""
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        yield path
        annotation = info.annotation
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from schema_fields(annotation, path)
        elif origin in (dict, list):
            item = typing.get_args(annotation)[-1]
            if isinstance(item, type) and issubclass(item, BaseModel):
                yield from schema_fields(item, f"{path}.<name>" if origin is dict else f"{path}[i]")


def test_parameter_reference_is_up_to_date() -> None:
    assert REFERENCE_PATH.is_file(), f"docs/parameters.md is missing: run {REGENERATE_COMMAND}"
    current = REFERENCE_PATH.read_text(encoding="utf-8")
    assert current == render_parameter_reference(), (
        f"docs/parameters.md is out of date with sim/schema.py: run {REGENERATE_COMMAND}")


def test_every_schema_field_is_in_the_reference() -> None:
    reference = render_parameter_reference()
    missing = [path for path in schema_fields() if f"| `{path}` |" not in reference]
    assert not missing, f"fields missing from the parameter reference: {missing}"


def test_reference_names_its_generator() -> None:
    head = render_parameter_reference().splitlines()[:5]
    assert any("Generated" in line and REGENERATE_COMMAND in line for line in head)


def test_reference_shows_ranges_and_time_phasing() -> None:
    reference = render_parameter_reference()
    assert "| `choice.cost_weight` | 3 | per value | 0 – 50 | no |" in reference
    assert "| `providers.<name>.capability` | 0.8 | 0-1.5 | 0 – 1.5 | yes |" in reference
    assert "| `states.<name>.bloc` | required |" in reference


def test_check_flag_fails_on_a_stale_file(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "parameters.md"
    assert main(["--check", "--output", str(output)]) == 1
    output.write_text("stale\n", encoding="utf-8")
    assert main(["--check", "--output", str(output)]) == 1
    assert REGENERATE_COMMAND in capsys.readouterr().err
    assert main(["--output", str(output)]) == 0
    assert main(["--check", "--output", str(output)]) == 0


@pytest.mark.parametrize("path, exists", [
    ("choice.cost_weight", True),
    ("choice.cost_wieght", False),
    ("states.<name>.financing.coverage", True),
    ("states.US.financing.coverage", True),
    ("states.<name>.export_controls[i].start", True),
    ("states.<name>.export_controls.start", False),
    ("tenders.kinds.national_data_centre.share", True),
    ("tenders.financing_need.Low", True),
    ("tenders.financing_need.Rich", False),
    ("choice.cost_weight.more", False),
])
def test_key_path_exists(path: str, exists: bool) -> None:
    assert key_path_exists(path) is exists


# --- the model description ------------------------------------------------------------------

def sections(text: str) -> dict[str, str]:
    """Each heading's title mapped to its text, up to the next heading of the same or a higher
    level (so a section includes its sub-sections)."""
    lines = text.splitlines()
    headings = [(index, len(match[1]), match[2].strip()) for index, line in enumerate(lines)
                if (match := HEADING.match(line))]
    found = {}
    for position, (start, level, title) in enumerate(headings):
        end = next((index for index, other_level, _ in headings[position + 1:]
                    if other_level <= level), len(lines))
        found[title] = "\n".join(lines[start:end])
    return found


def mechanism_section(text: str, mechanism: str) -> str | None:
    """The section whose heading is the mechanism's name (a leading number is allowed)."""
    pattern = re.compile(rf"^(\d+\.\s*)?{re.escape(mechanism)}$")
    return next((body for title, body in sections(text).items() if pattern.match(title)), None)


def schema_key_paths_in(text: str) -> list[str]:
    """Code spans that read as a scenario key path (``choice.cost_weight``), not a file name."""
    top = set(ScenarioFile.model_fields)
    found = []
    for span in CODE_SPAN.findall(text):
        candidate = span.split("=", 1)[0].strip()
        if (re.fullmatch(r"[a-z_]+(\.[^\s.`]+)+", candidate)
                and candidate.split(".", 1)[0] in top
                and not FILE_SUFFIX.search(candidate)):
            found.append(candidate)
    return found


@pytest.fixture(scope="module")
def model_doc() -> str:
    assert MODEL_DOC.is_file(), "docs/model.md is missing"
    return MODEL_DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_model_doc_has_a_section_per_mechanism(model_doc: str, mechanism: str) -> None:
    assert mechanism_section(model_doc, mechanism) is not None, (
        f"docs/model.md has no section titled {mechanism!r}")


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_model_doc_names_each_mechanisms_parameters(model_doc: str, mechanism: str) -> None:
    body = mechanism_section(model_doc, mechanism) or ""
    expected = [path for path in MECHANISM_PARAMETERS[mechanism] if key_path_exists(path)]
    missing = [path for path in expected if f"`{path}`" not in body]
    assert not missing, f"docs/model.md, {mechanism}: parameters not named: {missing}"


@pytest.mark.parametrize("doc", [MODEL_DOC, BASELINE_DOC], ids=lambda path: path.name)
def test_parameters_named_in_docs_exist_in_schema(doc: Path) -> None:
    assert doc.is_file(), f"{doc.name} is missing"
    paths = schema_key_paths_in(doc.read_text(encoding="utf-8"))
    assert paths, f"{doc.name} names no parameters"
    unknown = sorted({path for path in paths if not key_path_exists(path)})
    assert not unknown, f"{doc.name} names parameters that are not in the schema: {unknown}"


def test_key_path_detection_skips_file_names() -> None:
    text = "`tenders.csv`, `choice.cost_weight`, `--set choice.scale=2`, `states.US.exposure`"
    assert schema_key_paths_in(text) == ["choice.cost_weight", "states.US.exposure"]
