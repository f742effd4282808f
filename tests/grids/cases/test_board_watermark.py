"""The board's safe cursor: ids are taken before commit, so a later-committed lower id is not lost."""

from __future__ import annotations

from grids.cases.board import Watermark


def test_the_cursor_waits_below_a_missing_id_and_sends_nothing_twice() -> None:
    mark = Watermark(6)
    assert mark.fresh([8, 9]) == {8, 9}  # 7 took its id first but has not committed yet
    assert mark.advance([8, 9], now_s=100.0) == 6  # a resume from 6 will still get 7
    assert mark.waiting
    assert mark.fresh([8, 9]) == set()  # read again while waiting: not sent twice
    assert mark.fresh([7, 8, 9]) == {7}  # 7 committed
    assert mark.advance([7, 8, 9], now_s=100.5) == 9
    assert not mark.waiting and mark.sent == set()


def test_a_hole_left_by_a_rollback_is_passed_after_the_wait() -> None:
    mark = Watermark(10)
    mark.fresh([12])
    assert mark.advance([12], now_s=0.0, wait_s=15.0) == 10
    assert mark.advance([12], now_s=14.0, wait_s=15.0) == 10
    assert mark.advance([12, 13], now_s=15.5, wait_s=15.0) == 13
    assert mark.gaps == {}
