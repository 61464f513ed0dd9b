"""The classroom app renders and responds, in this process (Solara's test rendering, no browser).

``solara.render`` builds the widget tree of the app's ``Page`` inside ``solara.AppLayout`` (as
the server does; without it the sidebar's controls are dropped); the tests then press its
buttons and move its controls through the widgets, as a user would.
"""

from __future__ import annotations

import ipyvuetify as v
import ipywidgets
import pytest
import solara

from sim.app.app import Page


@pytest.fixture
def app():
    """The rendered app: its render context, closed after the test."""
    _, context = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    yield context
    context.close()


def widgets(context) -> list[ipywidgets.Widget]:
    """Every widget on the page (the grid keeps its components in ``items``)."""
    found, stack = [], [context.container]
    while stack:
        widget = stack.pop()
        found.append(widget)
        for attribute in ("children", "items"):
            stack += [child for child in getattr(widget, attribute, None) or []
                      if isinstance(child, ipywidgets.Widget)]
    return found


def texts(context) -> list[str]:
    """Every plain text shown on the page."""
    return [widget.children[0] for widget in widgets(context) if isinstance(widget, v.Html)
            and len(widget.children) == 1 and isinstance(widget.children[0], str)]


def images(context) -> dict[str, bytes]:
    """Each chart's and the map's PNG bytes, by the component's CSS class."""
    found = {}
    for widget in widgets(context):
        names = [name for name in (getattr(widget, "class_", "") or "").split()
                 if name.startswith("cloudrace-")]
        pictures = [child for child in widget.children if isinstance(child, ipywidgets.Image)] \
            if names else []
        if pictures:
            found[names[0]] = pictures[0].value
    return found


def press(context, label: str) -> None:
    context.find(v.Btn, children=[label]).widget.click()


def test_app_shows_controls_levers_charts_map_ticker_and_lesson(app):
    for label in ("Reset", "▶", "Step"):
        assert app.find(v.Btn, children=[label]).widgets
    slider_labels = {widget.label for widget in app.find(v.Slider).widgets}
    assert {"US loans: extra US$ m a year", "Allied pooling: US$ m a year from 2022",
            "US security pressure (× lesson)", "China's loans (× lesson)",
            "China's subsidies (× lesson)", "Lock-in strength (× lesson)"} <= slider_labels
    assert app.find(v.Checkbox, label="US export controls on Huawei").widgets
    lessons = app.find(v.Select, label="Lesson").widget.items
    assert lessons[0].startswith("Baseline") and len(lessons) >= 5
    assert set(images(app)) == {"cloudrace-map", "cloudrace-new-contracts",
                                "cloudrace-installed-base", "cloudrace-leverage"}
    shown = texts(app)
    assert "Latest contracts" in shown and "Baseline: the policies in force" in shown


def test_step_advances_a_year_and_redraws_charts_map_and_ticker(app):
    before = images(app)
    for _ in range(6):
        press(app, "Step")
    after = images(app)
    assert "Time: 6.0" in texts(app)
    assert all(after[name] != before[name] for name in before), "a chart or the map is unchanged"
    assert any(" — " in text and (" awards " in text or " renews " in text)
               for text in texts(app)), "the ticker shows no contract"


def test_reset_rebuilds_the_model_with_the_chosen_lesson_and_levers(app):
    press(app, "Step")
    app.find(v.Select, label="Lesson").widget.v_model = "5. The coercion dilemma"
    app.find(v.Slider, label="China's loans (× lesson)").widget.v_model = 0.0
    app.find(v.Checkbox, label="US export controls on Huawei").widget.v_model = False
    press(app, "Reset")
    shown = texts(app)
    assert "Time: 0.0" in shown
    assert "5. The coercion dilemma" in shown
    assert "Levers: no US export controls; China's loans × 0; random seed 1." in shown
