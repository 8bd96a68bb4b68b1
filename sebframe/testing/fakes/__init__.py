"""Fake LMS servers for tests: real HTTP servers on 127.0.0.1 speaking the routes and JSON of the real systems.

Each fake lives in its own module (``sebframe.testing.fakes.openedx``, ...) and is imported from there, so
using one fake never imports the others.
"""
