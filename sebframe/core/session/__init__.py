"""Live SEB client sessions: Exam-API tokens, the handshake, pings, events, instructions, notifications."""
