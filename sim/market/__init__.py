"""The market arithmetic as pure functions: financing, entry, pricing, choice, coercion, export
controls and concentration.

Nothing in this package knows about Mesa or scenario files: every function takes numbers and
returns numbers, so each can be tested against a hand-worked value.
"""
