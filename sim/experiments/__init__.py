"""Experiments at scale: designs over uncertainties and levers, run anywhere, stored safely.

One module per concept, after EMA Workbench's ``em_framework``: ``parameters`` (uncertainties
and levers), ``designs`` (the samplers), ``outcomes`` (what each run records), ``spec`` (the
experiment file), ``executors`` (where runs execute), ``store`` (where results go), ``sweep``
(the orchestration), ``sensitivity`` (Sobol' and Morris indices), ``ema_export`` (EMA Workbench's
``(experiments, outcomes)`` shape) and ``cli`` (the ``sweep`` and ``sensitivity`` commands). The
design, the executor and the store are each replaceable without touching the others. The guide
is docs/experiments.md.
"""
