"""Room rules without a database: SEB Server's placement into collecting rooms, and the token checker's rules."""

from __future__ import annotations

import time

import jwt
import pytest

from sebframe.core.proctoring.assignment import place
from sebframe.testing.fakes.jitsi import JitsiTokenChecker, TokenRejected


def test_first_room_with_space_then_new_rooms() -> None:
    placement = place([1, 2, 3, 4, 5], sizes={10: 2, 11: 0}, numbers={10: 1, 11: 2}, capacity=3)
    assert placement.into_existing == {10: [1], 11: [2, 3, 4]}
    assert placement.new_rooms == [[5]]


def test_new_rooms_are_filled_to_capacity() -> None:
    placement = place(list(range(45)), sizes={}, numbers={}, capacity=20)
    assert [len(room) for room in placement.new_rooms] == [20, 20, 5]


def test_unlimited_room_size_means_one_room() -> None:
    assert place([1, 2, 3], sizes={}, numbers={}, capacity=0).new_rooms == [[1, 2, 3]]
    assert place([4, 5], sizes={7: 300}, numbers={7: 1}, capacity=0).into_existing == {7: [4, 5]}


def test_checker_refuses_seb_servers_millisecond_exp() -> None:
    secret = "a-secret-long-enough-for-hs256-0123456789"
    checker = JitsiTokenChecker(domain="meet.example.org", secret=secret)
    claims = {"room": "r", "sub": "meet.example.org", "iss": "app", "aud": "jitsi"}
    in_seconds = jwt.encode({**claims, "exp": int(time.time()) + 60}, secret, algorithm="HS256")
    assert checker.check(in_seconds, "r").claims["room"] == "r"
    in_millis = jwt.encode({**claims, "exp": int(time.time() * 1000) + 60_000}, secret, algorithm="HS256")
    with pytest.raises(TokenRejected, match="milliseconds"):
        checker.check(in_millis, "r")
    numeric_user = jwt.encode({**claims, "exp": int(time.time()) + 60, "context": {"user": {"id": 5}}}, secret,
                              algorithm="HS256")
    with pytest.raises(TokenRejected, match="string"):
        checker.check(numeric_user, "r")
    long_secret = secret * 2  # HS512 wants 64 bytes of key; what is refused here is the algorithm
    with pytest.raises(TokenRejected, match="HS256"):
        JitsiTokenChecker(domain="meet.example.org", secret=long_secret).check(
            jwt.encode({**claims, "exp": 1}, long_secret, algorithm="HS512"), "r")
