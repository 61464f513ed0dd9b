"""The classroom page renders and responds, in this process (Solara's test rendering, no browser).

``solara.render`` builds the widget tree of the app's ``Page``; the tests press its buttons and
move its controls through the widgets, as a user would, and read what the page shows (its HTML
pieces, by CSS class).
"""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path

import ipyvuetify as v
import ipywidgets
import pytest
import solara
from PIL import Image

from sim.app.app import SAVE_LABEL, Page
from sim.app.classroom import Levers
from sim.app.runs import RunKey, get_run

DEVELOPER_CONTROLS = ("Play Interval", "Render Interval", "Use Threads", "Time:", "PAGE 0")


@pytest.fixture
def app():
    """The rendered page: its render context, closed after the test."""
    _, context = solara.render(Page(), handle_error=False)
    yield context
    context.close()


def widgets(context) -> list[ipywidgets.Widget]:
    found, stack = [], [context.container]
    while stack:
        widget = stack.pop()
        found.append(widget)
        for attribute in ("children", "items"):
            stack += [
                child
                for child in getattr(widget, attribute, None) or []
                if isinstance(child, ipywidgets.Widget)
            ]
    return found


def _classes(widget) -> list[str]:
    attributes = getattr(widget, "attributes", None) or {}
    return (attributes.get("class") or getattr(widget, "class_", None) or "").split()


def shown(context, css: str) -> str:
    """The HTML of the page's pieces with this CSS class, joined."""
    return "".join(
        getattr(widget, "unsafe_innerHTML", "") or ""
        for widget in widgets(context)
        if css in _classes(widget)
    )


def all_text(context) -> str:
    parts = []
    for widget in widgets(context):
        parts.append(getattr(widget, "unsafe_innerHTML", "") or "")
        parts.append(str(getattr(widget, "label", "") or ""))
        parts += [
            child for child in getattr(widget, "children", None) or [] if isinstance(child, str)
        ]
    return " ".join(parts)


def screen_png(width: int, height: int) -> str:
    """A PNG data URL of ``width`` x ``height``, as the browser's capture sends it."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "#2874a6").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def press(context, label: str) -> None:
    context.find(v.Btn, children=[label]).widget.click()


def choose(context, title: str) -> None:
    context.find(v.Select).widget.v_model = title


def slider_after(context, label_start: str) -> v.Slider:
    """The slider right after the lever label that starts with ``label_start``."""
    for column in widgets(context):
        children = getattr(column, "children", None) or []
        for index, child in enumerate(children):
            html = getattr(child, "unsafe_innerHTML", "") or ""
            if html.startswith(label_start) and index + 1 < len(children):
                found = [w for w in [children[index + 1]] if isinstance(w, v.Slider)]
                if found:
                    return found[0]
    raise AssertionError(f"no slider labelled {label_start!r}")


def test_projector_page_shows_the_lesson_year_map_headline_and_chart_without_dev_controls(app):
    for label in ("▶ Play", "Step", "Reset", "Debrief", "Advanced"):
        assert app.find(v.Btn, children=[label]).widgets
    assert shown(app, "cloudrace-year") == "2006"
    assert "<svg" in shown(app, "cloudrace-map") and "data-iso3=" in shown(app, "cloudrace-map")
    assert 'class="cloudrace-chart cloudrace-new"' in shown(app, "cloudrace-focus")
    assert "New contracts so far: China <b>none yet</b>" in shown(app, "cloudrace-headline")
    assert "Leverage: China" in shown(app, "cloudrace-headline")
    text = all_text(app)
    assert "Baseline: the policies in force" in text
    assert not [name for name in DEVELOPER_CONTROLS if name in text]
    assert not app.find(v.Slider).widgets, "the baseline names no lever: none on screen"


def test_a_lesson_shows_its_question_its_try_and_only_its_levers_with_values(app):
    choose(app, "1. The first mover locks in")
    assert shown(app, "cloudrace-try").startswith('Try: set "Lock-in strength" to 0')
    assert len(app.find(v.Slider).widgets) == 1
    slider_after(app, "Lock-in strength (× lesson): <b>1</b>").v_model = 0.0
    assert "Lock-in strength (× lesson): <b>0</b>" in all_text(app)
    press(app, "Advanced")
    assert len(app.find(v.Slider).widgets) == 6 + 2  # every lever, the seed, the speed


def test_step_advances_a_year_and_redraws_map_chart_headline_and_ticker(app):
    before = {
        css: shown(app, css)
        for css in (
            "cloudrace-map-fills",
            "cloudrace-focus",
            "cloudrace-ticker",
            "cloudrace-headline",
        )
    }
    for _ in range(12):
        press(app, "Step")
    assert shown(app, "cloudrace-year") == "2018"
    assert all(shown(app, css) != html for css, html in before.items())
    assert " awards " in shown(app, "cloudrace-ticker")


def test_a_lever_change_forks_from_the_current_year_with_the_ghost_on_every_chart(app):
    choose(app, "2. The loan that wins the tender")
    for _ in range(10):
        press(app, "Step")
    slider_after(app, "China's loans (× lesson)").v_model = 0.0
    notice = shown(app, "cloudrace-notice")
    assert notice.startswith("From 2016 on: China's loans × 0. Same random history")
    assert 'class="ghost"' in shown(app, "cloudrace-focus")
    charts = [
        widget.unsafe_innerHTML
        for widget in widgets(app)
        if "cloudrace-chart" in (getattr(widget, "unsafe_innerHTML", "") or "")
    ]
    assert len(charts) == 4 and all('class="ghost"' in chart for chart in charts)
    # the same random history: the forked run is the previous run up to the fork
    title = "2. The loan that wins the tender"
    ghost = get_run(RunKey(title, 1, ((0, Levers()),)))
    forked = get_run(RunKey(title, 1, ((0, Levers()), (10, Levers(china_financing=0.0)))))
    assert forked.series.iloc[:10].equals(ghost.series.iloc[:10])
    assert not forked.series.equals(ghost.series)


def test_reset_starts_again_with_the_levers_and_keeps_the_played_run_as_ghost(app):
    choose(app, "4. Export controls")
    for _ in range(12):
        press(app, "Step")
    app.find(v.Checkbox, label="US export controls on Huawei").widget.v_model = False
    press(app, "Reset")
    assert shown(app, "cloudrace-year") == "2006"
    assert "the dashed lines are the run you just played" in shown(app, "cloudrace-notice")
    assert 'class="ghost"' in shown(app, "cloudrace-focus")  # the 12 years played
    assert 'class="current"' not in shown(app, "cloudrace-focus")


def test_the_debrief_compares_the_runs_and_saves_a_new_folder_each_time(
    app, tmp_path: Path, monkeypatch
):
    monkeypatch.setenv("CLOUDRACE_CLASS_RUNS", str(tmp_path))
    choose(app, "2. The loan that wins the tender")
    for _ in range(8):
        press(app, "Step")
    slider_after(app, "China's loans (× lesson)").v_model = 0.0
    for _ in range(6):
        press(app, "Step")
    press(app, "Debrief")
    table = shown(app, "cloudrace-debrief") + all_text(app)
    assert "Debt owed to Chinese banks" in table and "Governments dependent on China" in table
    button = next(w for w in widgets(app) if getattr(w, "label", None) == SAVE_LABEL)
    button.vue_picture({"png": "data:image/png;base64,AAAA", "width": 1366, "height": 768})
    assert "Not saved" in shown(app, "cloudrace-saved") and not list(tmp_path.iterdir())
    screen = screen_png(1366, 768)  # what the browser sends (the browser test takes a real one)
    for _ in range(2):
        button.vue_picture({"png": screen, "width": 1366, "height": 768})
    assert "Saved in" in shown(app, "cloudrace-saved")
    folders = sorted(path for path in tmp_path.iterdir())
    assert len(folders) == 2 and not [p for p in folders if p.name.startswith(".")]
    for folder in folders:
        assert (folder / "class-run.png").read_bytes() == base64.b64decode(screen.split(",")[1])
        with (folder / "numbers.csv").open() as handle:
            rows = list(csv.DictReader(handle))
        assert {row["run"] for row in rows} == {"this run", "previous run"}
        assert len(rows) == 2 * 14
