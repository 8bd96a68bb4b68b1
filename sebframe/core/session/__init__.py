"""Live SEB client sessions: Exam-API tokens, the handshake, pings, events, instructions, notifications.

Import-light on purpose (the exam domain imports the pure rule ``ask`` from here);
the container of the domain's services is ``sessions.Sessions``.
"""
