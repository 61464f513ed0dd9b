"""The docs cannot drift from the code: the parameter reference (docs/parameters.md and the copy
embedded in docs/ODD.md) is regenerated from the schema, the model description keeps the ODD
protocol's elements and a section per mechanism naming its parameters, and every parameter the
docs name exists in the schema."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from sim.docs import (
    ODD_END,
    ODD_PATH,
    ODD_START,
    REFERENCE_PATH,
    REGENERATE_COMMAND,
    embed_reference,
    key_path_exists,
    main,
    render_embedded_reference,
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
MODEL_DOC = DOCS / "ODD.md"
BASELINE_DOC = DOCS / "baseline.md"

# The seven elements of the ODD protocol (Grimm et al. 2020, JASSS 23(2) 7), in order, and the
# design concepts of its checklist.
ODD_ELEMENTS = (
    "Purpose and patterns", "Entities, state variables and scales",
    "Process overview and scheduling", "Design concepts", "Initialization", "Input data",
    "Submodels",
)
DESIGN_CONCEPTS = (
    "Basic principles", "Emergence", "Adaptation", "Objectives", "Learning", "Prediction",
    "Sensing", "Interaction", "Stochasticity", "Collectives", "Observation",
)

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
        f"{STATE}.financing_budget_usd_m", f"{STATE}.co_finances", f"{PROVIDER}.state_financing"],
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


def odd_with_markers(tmp_path: Path, block: str = "stale\n") -> Path:
    """A small ODD file whose embedded reference is ``block``."""
    odd = tmp_path / "ODD.md"
    odd.write_text(f"# ODD\n\n## Appendix C\n\n{ODD_START}\n{block}{ODD_END}\n\nAfter.\n",
                   encoding="utf-8")
    return odd


def baseline_copy(tmp_path: Path) -> list[str]:
    """``--baseline`` pointing at a copy of the baseline page, so the repository's is untouched."""
    copy = tmp_path / "baseline.md"
    copy.write_text(BASELINE_DOC.read_text(encoding="utf-8"), encoding="utf-8")
    return ["--baseline", str(copy)]


def test_check_flag_fails_on_a_stale_file(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "parameters.md"
    odd = ["--odd", str(odd_with_markers(tmp_path, render_embedded_reference())),
           *baseline_copy(tmp_path)]
    assert main(["--check", "--output", str(output), *odd]) == 1
    output.write_text("stale\n", encoding="utf-8")
    assert main(["--check", "--output", str(output), *odd]) == 1
    assert REGENERATE_COMMAND in capsys.readouterr().err
    assert main(["--output", str(output), *odd]) == 0
    assert main(["--check", "--output", str(output), *odd]) == 0


# --- the reference embedded in the ODD ------------------------------------------------------

def embedded_block(text: str) -> str:
    """What stands between the ODD's parameter-reference markers."""
    assert text.count(ODD_START) == 1 and text.count(ODD_END) == 1, (
        f"docs/ODD.md needs the markers {ODD_START} and {ODD_END} once each")
    return text.split(ODD_START, 1)[1].split(ODD_END, 1)[0]


def test_odd_embedded_reference_is_up_to_date() -> None:
    assert ODD_PATH == MODEL_DOC
    assert ODD_PATH.is_file(), "docs/ODD.md is missing"
    block = embedded_block(ODD_PATH.read_text(encoding="utf-8"))
    assert block == "\n" + render_embedded_reference(), (
        f"the parameter reference in docs/ODD.md is out of date with sim/schema.py: run "
        f"{REGENERATE_COMMAND}")


def test_embedded_reference_lists_every_schema_field_under_the_odds_appendix() -> None:
    block = render_embedded_reference()
    missing = [path for path in schema_fields() if f"| `{path}` |" not in block]
    assert not missing, f"fields missing from the embedded reference: {missing}"
    # One heading level below the appendix that holds it, so the ODD's outline stays intact.
    assert not re.search(r"^#{1,2} ", block, flags=re.MULTILINE)
    assert "### `choice`" in block


def test_check_flag_fails_when_the_odds_reference_is_stale(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "parameters.md"
    output.write_text(render_parameter_reference(), encoding="utf-8")
    odd = odd_with_markers(tmp_path, "| `choice.cost_weight` | 2 |\n")
    arguments = ["--output", str(output), "--odd", str(odd), *baseline_copy(tmp_path)]
    assert main(["--check", *arguments]) == 1
    error = capsys.readouterr().err
    assert "ODD.md" in error and REGENERATE_COMMAND in error
    assert main(arguments) == 0
    rewritten = odd.read_text(encoding="utf-8")
    assert rewritten.startswith("# ODD\n\n## Appendix C\n\n")
    assert rewritten.endswith(f"{ODD_END}\n\nAfter.\n")
    assert embedded_block(rewritten) == "\n" + render_embedded_reference()
    assert main(["--check", *arguments]) == 0


def test_an_odd_without_markers_is_refused_and_left_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "parameters.md"
    odd = tmp_path / "ODD.md"
    odd.write_text("# ODD\n\nNo markers.\n", encoding="utf-8")
    assert main(["--output", str(output), "--odd", str(odd), *baseline_copy(tmp_path)]) == 1
    assert ODD_START in capsys.readouterr().err
    assert odd.read_text(encoding="utf-8") == "# ODD\n\nNo markers.\n"
    assert main(["--check", "--output", str(output), "--odd", str(odd),
                 *baseline_copy(tmp_path)]) == 1


def test_embedding_keeps_the_text_around_the_markers() -> None:
    text = f"before\n{ODD_START}\nold\n{ODD_END}\nafter\n"
    assert embed_reference(text) == (
        f"before\n{ODD_START}\n{render_embedded_reference()}{ODD_END}\nafter\n")
    assert embed_reference(embed_reference(text)) == embed_reference(text)
    with pytest.raises(ValueError):
        embed_reference(f"{ODD_END}\n{ODD_START}\n")


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


def numbered_section(text: str, title: str) -> str | None:
    """The section titled ``title`` (a leading number such as ``7.`` is allowed)."""
    pattern = re.compile(rf"^(\d+\.\s*)?{re.escape(title)}$")
    return next((body for heading, body in sections(text).items() if pattern.match(heading)),
                None)


@pytest.fixture(scope="module")
def model_doc() -> str:
    assert MODEL_DOC.is_file(), "docs/ODD.md is missing"
    return MODEL_DOC.read_text(encoding="utf-8")


def test_odd_has_the_seven_elements_in_order(model_doc: str) -> None:
    titles = [match[2].strip() for line in model_doc.splitlines()
              if (match := HEADING.match(line)) and len(match[1]) == 2]
    expected = [f"{number}. {element}" for number, element in enumerate(ODD_ELEMENTS, start=1)]
    assert [title for title in titles if title in expected] == expected, (
        f"docs/ODD.md: expected the sections {expected} in this order, found {titles}")


@pytest.mark.parametrize("concept", DESIGN_CONCEPTS)
def test_odd_design_concepts_cover_the_checklist(model_doc: str, concept: str) -> None:
    concepts = numbered_section(model_doc, "Design concepts") or ""
    assert numbered_section(concepts, concept) is not None, (
        f"docs/ODD.md, Design concepts: no sub-section titled {concept!r}")


def test_odd_points_to_calibration_and_validation(model_doc: str) -> None:
    body = numbered_section(model_doc, "Calibration and validation")
    assert body is not None, "docs/ODD.md has no section titled 'Calibration and validation'"
    assert "(calibration.md)" in body


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_model_doc_has_a_section_per_mechanism(model_doc: str, mechanism: str) -> None:
    submodels = numbered_section(model_doc, "Submodels") or ""
    assert mechanism_section(submodels, mechanism) is not None, (
        f"docs/ODD.md, Submodels: no section titled {mechanism!r}")


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_model_doc_names_each_mechanisms_parameters(model_doc: str, mechanism: str) -> None:
    body = mechanism_section(model_doc, mechanism) or ""
    expected = [path for path in MECHANISM_PARAMETERS[mechanism] if key_path_exists(path)]
    missing = [path for path in expected if f"`{path}`" not in body]
    assert not missing, f"docs/ODD.md, {mechanism}: parameters not named: {missing}"


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
