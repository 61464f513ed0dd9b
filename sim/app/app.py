"""Cloud Race in the classroom: a Solara page for a projector, with comparisons built in.

One screen at 1366 x 768 holds the lesson's question and its "Try:", the year, the world map, a
headline strip and the chart the lesson is about; the ticker, the other charts and an
"Advanced" drawer (every lever, the random seed, the play speed) sit below or beside it.

How a class compares: every run is computed once with common random numbers
(``sim.app.runs``), so changing a lever forks the run *from the current year* on the same random
history, and the run before the change stays on every chart as a dashed ghost; **Reset** starts
again from the first year with the levers now set, keeping the run just played as the ghost.
"5 seeds" draws the range of five random histories. **Debrief** lists this run against the
previous one and saves both (a picture and a CSV) into a new folder.

Start it with ``cloudrace app`` (the front-end files come from the local cache of
``sim.app.assets``; nothing is fetched from the internet).
"""

from __future__ import annotations

import dataclasses
import functools
import html
import re
import time

import solara

from sim.app.capture import CAPTURE_PACKAGE, CaptureError, SaveButton, decode_png
from sim.app.charts import CAPTIONS, build_chart
from sim.app.classroom import BASELINE_TITLE, DEFAULT_SEED, Levers, find_lesson, lessons
from sim.app.debrief import debrief, headline, save_class_run
from sim.app.map import legend_entries, map_fills_css, map_geometry_svg
from sim.app.runs import RunKey, band_runs, get_run
from sim.app.story import run_events, ticker_lines
from sim.app.svg import line_chart

try:  # the page is for a class, not an advert: no "This website runs on Solara" badge
    from solara.server import settings as _server_settings

    _server_settings.theme.show_banner = False
except ImportError:  # rendering without the server (tests, notebooks)
    pass

SAVE_LABEL = "Save the class run (PNG + CSV)"
PLAY_INTERVAL_S = 0.35
"""Seconds between two years while playing (about three years a second)."""


@dataclasses.dataclass(frozen=True)
class LeverControl:
    """One lever on screen: the ``Levers`` field, its label and its range."""

    field: str
    label: str
    low: float = 0.0
    high: float = 0.0
    step: float = 0.0

    @property
    def is_toggle(self) -> bool:
        return self.high == self.low


LEVER_CONTROLS = (
    LeverControl("us_financing_usd_m", "US loans: extra US$ m a year", 0, 1500, 50),
    LeverControl("allied_pooling_usd_m", "Allied pooling: US$ m a year from 2022", 0, 1500, 50),
    LeverControl("us_pressure", "US security pressure (× lesson)", 0.0, 2.0, 0.1),
    LeverControl("export_controls", "US export controls on Huawei"),
    LeverControl("china_financing", "China's loans (× lesson)", 0.0, 3.0, 0.1),
    LeverControl("china_subsidies", "China's subsidies (× lesson)", 0.0, 3.0, 0.1),
    LeverControl("lock_in_strength", "Lock-in strength (× lesson)", 0.0, 3.0, 0.1),
)
SEED_LABEL = "Random seed"
CONTROL_LABELS = [control.label for control in LEVER_CONTROLS] + [SEED_LABEL]
"""Every control a lesson's "Try:" may name."""
FOCUS_CHARTS = {"1": "new", "2": "deals", "3": "partners", "4": "new", "5": "leverage"}
"""The chart each lesson is about (by its number); the baseline's is "new"."""
CHART_KINDS = ("new", "deals", "partners", "leverage")


FOCUS_CHART_WIDTH = 760
"""The lesson's chart, in SVG units: it fills about 820 px at 1366 x 768."""
SMALL_CHART_WIDTH = 600
"""The other charts (two a row below the screen), in SVG units: about 650 px each there."""


@functools.lru_cache(maxsize=1024)
def chart_svg(
    kind: str,
    key: RunKey,
    step: int,
    ghost: RunKey | None,
    ghost_step: int,
    band: bool,
    width: int = FOCUS_CHART_WIDTH,
) -> str:
    """A chart as SVG, drawn once for every tab showing the same run, ghost and year."""
    run = get_run(key)
    return line_chart(
        build_chart(
            kind,
            run,
            step,
            get_run(ghost) if ghost else None,
            ghost_step,
            band_runs(key) if band else None,
            run_events(run),
        ),
        width=width,
    )


@functools.lru_cache(maxsize=256)
def _events(key: RunKey):
    return run_events(get_run(key))


def split_description(text: str) -> tuple[str, str]:
    """A lesson's text as (question, "Try: ..."); the second part is empty if it has none."""
    question, found, rest = text.partition("Try:")
    return question.strip(), f"Try:{rest}".strip() if found else ""


def lesson_controls(title: str) -> list[str]:
    """The labels of the controls a lesson's "Try:" names (in quotes), in that order."""
    _, attempt = split_description(find_lesson(title).description)
    named = re.findall(r'"([^"]+)"', attempt)
    return [label for name in named for label in CONTROL_LABELS if label.startswith(name)]


def focus_chart(title: str) -> str:
    return FOCUS_CHARTS.get(title.split(".", 1)[0], "new")


CSS = """
.cloudrace-app { font-size: 18px; line-height: 1.35; color: #1b1b1b; }
.cloudrace-app .v-btn { font-size: 18px !important; text-transform: none; letter-spacing: 0; }
.cloudrace-app .v-label, .cloudrace-app .v-select__selection, .cloudrace-app input,
.cloudrace-app .v-list-item__title { font-size: 18px !important; }
.v-menu__content .v-list-item__title { font-size: 18px !important; }
.cloudrace-top { display: flex; align-items: center; gap: 12px; padding: 4px 12px;
  background: #f4f6f7; border-bottom: 1px solid #ccc; height: 60px; }
.cloudrace-top .cloudrace-lesson-select { max-width: 420px; }
.cloudrace-year { font-size: 34px; font-weight: bold; min-width: 96px; text-align: center; }
.cloudrace-main { display: grid; grid-template-columns: 38fr 62fr; gap: 12px; padding: 8px 12px;
  height: calc(100vh - 68px); min-height: 640px; box-sizing: border-box; }
.cloudrace-left { display: flex; flex-direction: column; gap: 8px; min-height: 0; }
.cloudrace-right { display: flex; flex-direction: column; gap: 6px; min-height: 0; }
.cloudrace-lesson h2 { font-size: 22px; margin: 0 0 4px 0; }
.cloudrace-lesson p { margin: 0 0 6px 0; }
.cloudrace-try { background: #fef5e7; border-left: 6px solid #f39c12; padding: 4px 8px; }
.cloudrace-notice { background: #eaf2f8; border-left: 6px solid #2874a6; padding: 4px 8px; }
.cloudrace-ticker { flex: 1 1 0; min-height: 90px; overflow-y: auto; overflow-x: hidden;
  border-top: 1px solid #ccc; padding-top: 4px; }
.cloudrace-ticker p { margin: 0 0 4px 0; }
.cloudrace-ticker .milestone { color: #6c3483; font-weight: bold; }
.cloudrace-headline { display: flex; gap: 18px; flex-wrap: wrap; background: #f8f9f9;
  padding: 4px 10px; border-radius: 4px; }
.cloudrace-headline .previous { color: #666; }
.cloudrace-mapbox { display: flex; gap: 8px; align-items: flex-start; }
.cloudrace-mapbox .cloudrace-map { flex: 0 0 78%; }
.cloudrace-mapbox.debrief-on .cloudrace-map { flex: 0 0 52%; }
.cloudrace-debrief h3 { font-size: 20px; margin: 0; }
.cloudrace-legend { font-size: 18px; }
.cloudrace-legend span.swatch { display: inline-block; width: 16px; height: 16px;
  margin-right: 6px; vertical-align: middle; border: 1px solid #999; }
.cloudrace-caption { font-size: 18px; color: #444; margin: 0; }
.cloudrace-more { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; padding: 12px; }
.cloudrace-lever .v-input__slot { min-width: 260px; }
.cloudrace-lever { padding: 0 4px; }
.cloudrace-debrief table { border-collapse: collapse; width: 100%; }
.cloudrace-debrief td, .cloudrace-debrief th { border-bottom: 1px solid #ddd; padding: 2px 8px;
  text-align: right; }
.cloudrace-debrief td:first-child, .cloudrace-debrief th:first-child { text-align: left; }
.solara-watermark, .v-application--wrap > .v-footer { display: none !important; }
"""


@solara.component
def LeverInput(control: LeverControl, levers: Levers, on_change) -> None:
    """One lever, its value always shown next to its label."""
    value = getattr(levers, control.field)
    with solara.Column(classes=["cloudrace-lever"], gap="0px"):
        if control.is_toggle:
            solara.Checkbox(
                label=control.label,
                value=bool(value),
                on_value=lambda new: on_change(control.field, bool(new)),
            )
        else:
            solara.HTML(
                tag="div",
                unsafe_innerHTML=f"{control.label}: <b>{value:g}</b>",
                classes=["cloudrace-lever-label"],
            )
            solara.SliderFloat(
                label="",
                value=float(value),
                min=control.low,
                max=control.high,
                step=control.step,
                thumb_label=False,
                on_value=lambda new: on_change(control.field, float(new)),
            )


def _ticker_html(lines: list[tuple[str, str]]) -> str:
    if not lines:
        return "<p>No contracts yet: press ▶ or Step.</p>"
    return "".join(f'<p class="{kind}">{html.escape(text)}</p>' for kind, text in lines)


def _headline_html(groups, has_previous: bool) -> str:
    parts = []
    for title, items in groups:
        values = " · ".join(
            f"{state} <b>{now}</b>"
            + (f' <span class="previous">(before {before})</span>' if has_previous else "")
            for state, now, before in items
        )
        parts.append(f"<span>{title}: {values}</span>")
    return "".join(parts)


def _legend_html(providers: list[str]) -> str:
    return "".join(
        f'<div><span class="swatch" style="background:{colour}"></span>{label}</div>'
        for colour, label in legend_entries(providers)
    )


def _milestone_caption(events) -> str:
    from sim.app.charts import milestone_markers

    return " · ".join(
        f"<b>{marker.number}</b> {int(marker.year)}: {marker.text}"
        for marker in milestone_markers(events)
    )


def _debrief_html(measures, has_previous: bool) -> str:
    rows = "".join(
        f"<tr><td>{m.label}</td><td><b>{m.now}</b></td><td>{m.before}</td></tr>" for m in measures
    )
    note = (
        ""
        if has_previous
        else "<p>No previous run yet: change a lever or press Reset, then play again.</p>"
    )
    return f"{note}<table><tr><th></th><th>this run</th><th>previous run</th></tr>{rows}</table>"


@solara.component
def Page() -> None:
    """The classroom page: one state per browser tab, runs shared by all tabs."""
    key = solara.use_reactive(RunKey(BASELINE_TITLE, DEFAULT_SEED, ((0, Levers()),)))
    step = solara.use_reactive(0)
    previous = solara.use_reactive(None)  # (RunKey, years played) of the ghost, or None
    changed_at = solara.use_reactive(-1)  # the step of the last lever change
    playing = solara.use_reactive(False)
    band_on = solara.use_reactive(False)
    debrief_on = solara.use_reactive(False)
    advanced_on = solara.use_reactive(False)
    notice = solara.use_reactive("Press ▶ to play, or Step for one year.")
    saved = solara.use_reactive("")
    interval = solara.use_reactive(PLAY_INTERVAL_S)

    run = get_run(key.value)
    ghost = get_run(previous.value[0]) if previous.value else None
    lesson = find_lesson(key.value.lesson)
    levers = key.value.levers
    at_end = step.value >= run.last_step

    def play_loop() -> None:
        """One year per ``interval`` while playing, on a steady beat (a slow redraw does not
        stretch it)."""
        beat = time.monotonic()
        while playing.value:
            beat += interval.value
            time.sleep(max(0.0, beat - time.monotonic()))
            if not playing.value:
                return
            if step.value >= get_run(key.value).last_step:
                playing.value = False
                return
            step.value = step.value + 1
            beat = max(beat, time.monotonic() - interval.value)

    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)

    def keep_ghost() -> None:
        """The run on screen becomes the ghost (unless nothing was played since the last
        change, so dragging a slider keeps comparing with the run that was played)."""
        if previous.value is None or changed_at.value != step.value:
            previous.value = (key.value, step.value)

    def change_lever(field: str, value) -> None:
        new = dataclasses.replace(key.value.levers, **{field: value})
        if new == key.value.levers:
            return
        keep_ghost()
        changed_at.value = step.value
        key.value = key.value.changed_at(step.value, new)
        year = run.start_year + step.value
        words = "; ".join(new.changes()) or "every lever as in the lesson"
        notice.value = (
            f"From {year} on: {words}. Same random history; the dashed lines are "
            "the run before the change. Press Reset to try it from the start."
        )

    def change_seed(value: float) -> None:
        seed = int(value)
        if seed == key.value.seed:
            return
        keep_ghost()
        changed_at.value = step.value
        key.value = RunKey(key.value.lesson, seed, key.value.schedule)
        notice.value = (
            f"Random seed {seed}: another random history with the same levers "
            "(dashed: the previous seed)."
        )

    def choose_lesson(title: str) -> None:
        playing.value = False
        previous.value = None
        changed_at.value = -1
        step.value = 0
        key.value = RunKey(title, key.value.seed, ((0, Levers()),))
        notice.value = "New lesson: read the question, then press ▶."
        saved.value = ""

    def reset() -> None:
        playing.value = False
        if step.value > 0:
            previous.value = (key.value, step.value)
        changed_at.value = 0
        key.value = RunKey(key.value.lesson, key.value.seed, ((0, key.value.levers),))
        step.value = 0
        notice.value = (
            "Back to the start with the levers as set now; the dashed lines are "
            "the run you just played."
        )

    def step_once() -> None:
        if step.value < run.last_step:
            step.value = step.value + 1

    def save(picture: dict) -> None:
        """Store the browser's picture of the screen and the run's numbers in a new folder."""
        try:
            png = decode_png(picture.get("png"), picture.get("width"), picture.get("height"))
        except CaptureError as error:
            saved.value = f"Not saved: {error}."
            return
        folder = save_class_run(run, step.value, ghost, png)
        saved.value = f"Saved in {folder} (class-run.png, numbers.csv)."

    def save_failed(message: str) -> None:
        saved.value = f"Not saved: the browser could not take the picture ({message})."

    events = _events(key.value)
    ghost_key, ghost_step = previous.value if previous.value else (None, 0)
    kind = focus_chart(lesson.title)
    question, attempt = split_description(lesson.description)
    shown = lesson_controls(lesson.title)
    view = run.view(step.value)

    solara.Style(CSS)
    with solara.Column(classes=["cloudrace-app"], gap="0px"):
        with solara.Row(classes=["cloudrace-top"]):
            solara.HTML(tag="b", unsafe_innerHTML="Cloud Race", style="font-size: 22px")
            solara.Select(
                label="",
                values=[item.title for item in lessons()],
                value=lesson.title,
                on_value=choose_lesson,
                classes=["cloudrace-lesson-select"],
            )
            solara.Button(
                "❚❚ Pause" if playing.value and not at_end else "▶ Play",
                color="primary",
                on_click=lambda: playing.set(not playing.value),
                disabled=at_end,
            )
            solara.Button("Step", on_click=step_once, disabled=playing.value or at_end)
            solara.Button("Reset", on_click=reset)
            solara.HTML(
                tag="div",
                unsafe_innerHTML=str(view.year if not at_end else f"{run.end_year} ✓"),
                classes=["cloudrace-year"],
                attributes={"title": f"start of {view.year}"},
            )
            solara.Switch(label="5 seeds", value=band_on)
            solara.Button(
                "Debrief",
                on_click=lambda: debrief_on.set(not debrief_on.value),
                outlined=not debrief_on.value,
            )
            solara.Button(
                "Advanced", on_click=lambda: advanced_on.set(not advanced_on.value), text=True
            )
        with solara.Div(classes=["cloudrace-main"]):
            with solara.Column(classes=["cloudrace-left"], gap="6px"):
                with solara.Column(classes=["cloudrace-lesson"], gap="0px"):
                    solara.HTML(tag="h2", unsafe_innerHTML=lesson.title)
                    solara.HTML(tag="p", unsafe_innerHTML=question)
                    if attempt:
                        solara.HTML(tag="p", unsafe_innerHTML=attempt, classes=["cloudrace-try"])
                for control in LEVER_CONTROLS:
                    if control.label in shown or advanced_on.value:
                        LeverInput(control, levers, change_lever)
                if advanced_on.value or SEED_LABEL in shown:
                    solara.HTML(
                        tag="div", unsafe_innerHTML=f"{SEED_LABEL}: <b>{key.value.seed}</b>"
                    )
                    solara.SliderFloat(
                        label="",
                        value=float(key.value.seed),
                        min=1,
                        max=100 if advanced_on.value else 10,
                        step=1,
                        thumb_label=False,
                        on_value=change_seed,
                    )
                if advanced_on.value:
                    solara.HTML(
                        tag="div",
                        unsafe_innerHTML="Seconds per year while playing: "
                        f"<b>{interval.value:g}</b>",
                    )
                    solara.SliderFloat(
                        label="", value=interval, min=0.1, max=2.0, step=0.05, thumb_label=False
                    )
                solara.HTML(tag="div", unsafe_innerHTML=notice.value, classes=["cloudrace-notice"])
                if saved.value:
                    solara.HTML(
                        tag="div",
                        unsafe_innerHTML=html.escape(saved.value),
                        classes=["cloudrace-saved"],
                    )
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=_ticker_html(ticker_lines(run, step.value, events)),
                    classes=["cloudrace-ticker"],
                )
            with solara.Column(classes=["cloudrace-right"], gap="4px"):
                solara.HTML(
                    tag="div",
                    classes=["cloudrace-headline"],
                    unsafe_innerHTML=_headline_html(
                        headline(run, step.value, ghost), ghost is not None
                    ),
                )
                with solara.Div(
                    classes=["cloudrace-mapbox"] + (["debrief-on"] if debrief_on.value else [])
                ):
                    solara.HTML(
                        tag="style",
                        classes=["cloudrace-map-fills"],
                        unsafe_innerHTML=map_fills_css(view.dominant, run.providers, run.centroids),
                    )
                    solara.HTML(
                        tag="div",
                        classes=["cloudrace-map"],
                        unsafe_innerHTML=map_geometry_svg(
                            tuple((iso3, *where) for iso3, where in run.centroids.items())
                        ),
                    )
                    solara.HTML(
                        tag="div",
                        classes=["cloudrace-legend"],
                        unsafe_innerHTML=_legend_html(run.providers),
                    )
                if debrief_on.value:
                    with solara.Column(classes=["cloudrace-debrief"], gap="4px"):
                        with solara.Row(style="align-items: center"):
                            solara.HTML(
                                tag="h3",
                                unsafe_innerHTML=f"Debrief: this run and the previous one, "
                                f"start of {view.year}",
                            )
                            SaveButton(
                                label=SAVE_LABEL,
                                package=CAPTURE_PACKAGE,
                                event_picture=save,
                                event_failure=save_failed,
                            )
                        solara.HTML(
                            tag="div",
                            unsafe_innerHTML=_debrief_html(
                                debrief(run, step.value, ghost), ghost is not None
                            ),
                        )
                else:
                    solara.HTML(
                        tag="div",
                        classes=["cloudrace-focus"],
                        unsafe_innerHTML=chart_svg(
                            kind, key.value, step.value, ghost_key, ghost_step, band_on.value
                        ),
                    )
        with solara.Column(
            classes=["cloudrace-app", "cloudrace-below"], gap="8px", style="padding: 8px 12px"
        ):
            solara.HTML(
                tag="p",
                classes=["cloudrace-caption"],
                unsafe_innerHTML=f"<b>The chart above.</b> {CAPTIONS[kind]}",
            )
            solara.HTML(
                tag="p",
                classes=["cloudrace-caption"],
                unsafe_innerHTML="<b>Milestones</b> (numbered on the time axis): "
                + _milestone_caption(events),
            )
            with solara.Div(classes=["cloudrace-more"]):
                for other in CHART_KINDS:
                    if other != kind:
                        with solara.Column(gap="2px"):
                            solara.HTML(
                                tag="div",
                                unsafe_innerHTML=chart_svg(
                                    other,
                                    key.value,
                                    step.value,
                                    ghost_key,
                                    ghost_step,
                                    band_on.value,
                                    SMALL_CHART_WIDTH,
                                ),
                            )
                            solara.HTML(
                                tag="p",
                                classes=["cloudrace-caption"],
                                unsafe_innerHTML=CAPTIONS[other],
                            )
