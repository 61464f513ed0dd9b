"""The documented size limits: every command checks what it is about to do against them first.

A limit protects the machine from an input that is valid in form but would take unbounded time
or memory (a billion replications, a design of 10^11 points, a YAML file that expands a
thousandfold through aliases). Each is checked before anything is allocated, and a request beyond
one is refused with a message naming the limit. docs/reliability.md lists them (a test checks
that the table there matches this module).
"""

from __future__ import annotations

MAX_INPUT_FILE_BYTES = 2_000_000
"""Largest scenario, experiment or calibration file read (bytes)."""
MAX_YAML_NODES = 200_000
"""Largest number of values a YAML document may expand to, aliases expanded."""
MAX_YAML_DEPTH = 64
"""Deepest nesting of a YAML document."""
MAX_EXTENDS_DEPTH = 32
"""Longest chain of scenario files extending each other."""
MAX_REPLICATIONS = 100_000
"""Most replications of one scenario in one command (``run -n``, ``validate -n``, ...)."""
MAX_WORKERS = 512
"""Most worker processes one command starts (``--workers``)."""
MAX_COMMAND_RUNS = 1_000_000
"""Most model runs one ``compare``, ``validate`` or ``attribute`` command makes in total."""
MAX_DESIGN_POINTS = 1_000_000
"""Most points of an experiment's design."""
MAX_SWEEP_RUNS = 10_000_000
"""Most runs of a sweep (design points times replications)."""
