"""The classroom game: a class plays the states, providers and governments of one shared model.

``engine`` is the round engine (sessions, roles, claims, rounds, decisions; no browser needed);
``decisions`` checks what players submit; ``scenario_file`` writes the class's game as a
scenario that ``cloudrace run`` replays; ``views`` builds the role cards; ``debrief`` sets the
class's world beside the model's own run; ``store`` keeps sessions in their folder; ``app`` and
``server`` are the Solara screens and ``cloudrace classroom``.
"""
