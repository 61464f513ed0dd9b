"""Cloud Race in the classroom: a SolaraViz app to watch and play with the model, offline.

Choose a lesson, set the levers, press Reset to rebuild the model with them, then Step (one
year) or ▶. Start it with ``cloudrace app`` (or ``solara run sim/app/app.py`` with the offline
settings of ``sim.app.assets``). Each browser tab gets its own model.
"""

import solara
from mesa.visualization import Slider, SolaraViz
from mesa.visualization.utils import update_counter

from sim.app.charts import InstalledBaseChart, LeverageChart, NewContractsChart, moment
from sim.app.classroom import BASELINE_TITLE, DEFAULT_SEED, ClassroomModel, lessons
from sim.app.map import WorldMap
from sim.app.ticker import ContractTicker

model_params = {
    "lesson": {"type": "Select", "label": "Lesson", "value": BASELINE_TITLE,
               "values": [lesson.title for lesson in lessons()]},
    "us_financing_usd_m": Slider("US loans: extra US$ m a year", 0, 0, 1500, 50),
    "allied_pooling_usd_m": Slider("Allied pooling: US$ m a year from 2022", 0, 0, 1500, 50),
    "us_pressure": Slider("US security pressure (× lesson)", 1.0, 0.0, 2.0, 0.1),
    "export_controls": {"type": "Checkbox", "label": "US export controls on Huawei",
                        "value": True},
    "china_financing": Slider("China's loans (× lesson)", 1.0, 0.0, 3.0, 0.1),
    "china_subsidies": Slider("China's subsidies (× lesson)", 1.0, 0.0, 3.0, 0.1),
    "lock_in_strength": Slider("Lock-in strength (× lesson)", 1.0, 0.0, 3.0, 0.1),
    "rng": Slider("Random seed", DEFAULT_SEED, 1, 100, 1),
}


@solara.component
def LessonCard(model):
    """The lesson's title, the year reached and the text students read."""
    update_counter.get()
    with solara.Column(classes=["cloudrace-lesson"], style={"padding": "8px"}):
        solara.Text(model.lesson.title, style={"font-weight": "bold", "font-size": "1.1em"})
        solara.Text(f"Now: {moment(model)}; the lesson runs to the end of {model.end_year}. "
                    "Change a lever, then press Reset to start again with it.")
        changes = model.levers.changes()
        solara.Text("Levers: " + ("; ".join(changes) if changes else "as in the lesson")
                    + f"; random seed {model.lesson_seed}.")
        for state, outcome in model.coercion_outcomes.items():
            if outcome["complied"] or outcome["backlash"]:
                solara.Text(f"{state}'s threats so far: {outcome['complied']} governments "
                            f"complied, {outcome['backlash']} pushed back.")
        solara.Text(model.lesson.description)


components = [WorldMap, NewContractsChart, InstalledBaseChart, LeverageChart, ContractTicker,
              LessonCard]


@solara.component
def Page():
    """The app: a model per browser tab, the levers in the sidebar, the components in a grid."""
    model = solara.use_memo(ClassroomModel, [])
    SolaraViz(model, components=components, model_params=model_params, play_interval=250,
              name="Cloud Race — the classroom")
