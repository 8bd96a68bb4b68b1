"""Load generator: plays N real SEB clients (the Exam API conversation) against a sebframe server.

Not part of the installed package; run from the repository root with ``python -m bench``. See README.md.
"""
