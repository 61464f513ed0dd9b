"""The classroom: a Mesa SolaraViz app, its lesson scenarios and levers, for teaching offline.

``classroom`` builds a model from a lesson and the levers (no Solara in it, so the notebook
lesson uses it too); ``app`` declares the SolaraViz page; ``charts``, ``map`` and ``ticker`` are
its components; ``assets`` caches the browser files the app needs so it runs with no internet.
"""
