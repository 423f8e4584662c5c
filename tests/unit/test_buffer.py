"""Unit tests for ctlshell.host._buffer: the fixed-size circular buffer."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from ctlshell.host._buffer import CircularBuffer


def test_empty() -> None:
    buf = CircularBuffer(4)
    assert len(buf) == 0 and buf.total == 0
    out = buf.last()
    assert out.shape == (0,)
    assert buf.last(3).shape == (0,)
    assert repr(buf) == "<CircularBuffer 0/4>"


@pytest.mark.parametrize("size", [0, -1, 2.0, "3", None])
def test_bad_size(size: object) -> None:
    with pytest.raises(ValueError, match="positive int"):
        CircularBuffer(size)  # type: ignore[arg-type]


def test_never_more_than_size_and_nbytes_constant() -> None:
    buf = CircularBuffer(5)
    nbytes = buf.nbytes
    assert nbytes == 5 * 8
    for i in range(23):
        buf.append(i)
        assert len(buf) == min(i + 1, 5)
        assert len(buf.last()) == min(i + 1, 5)
        assert buf.nbytes == nbytes
    buf.extend(np.arange(100))
    assert len(buf) == 5 and buf.nbytes == nbytes
    assert buf.total == 123
    assert repr(buf) == "<CircularBuffer 5/5>"


def test_last_is_oldest_first_across_wraparound() -> None:
    buf = CircularBuffer(4)
    for i in range(1, 4):
        buf.append(i)
    np.testing.assert_array_equal(buf.last(), [1, 2, 3])
    for i in range(4, 11):  # wraps more than once
        buf.append(i)
    np.testing.assert_array_equal(buf.last(), [7, 8, 9, 10])
    np.testing.assert_array_equal(buf.last(2), [9, 10])
    np.testing.assert_array_equal(buf.last(1), [10])
    np.testing.assert_array_equal(buf.last(4), [7, 8, 9, 10])
    np.testing.assert_array_equal(buf.last(99), [7, 8, 9, 10])
    assert buf.last(0).shape == (0,)
    assert buf.last(-3).shape == (0,)


def test_last_is_a_copy() -> None:
    buf = CircularBuffer(3)
    buf.extend([1.0, 2.0, 3.0])
    out = buf.last()
    out[:] = -1
    buf.append(4.0)
    np.testing.assert_array_equal(buf.last(), [2.0, 3.0, 4.0])


def test_extend_with_more_than_size_keeps_the_newest() -> None:
    buf = CircularBuffer(4)
    buf.append(-1)
    buf.extend(range(10))
    np.testing.assert_array_equal(buf.last(), [6, 7, 8, 9])
    assert buf.total == 11
    buf.append(10)  # appending after a full extend continues in order
    np.testing.assert_array_equal(buf.last(), [7, 8, 9, 10])


def test_extend_with_exactly_size() -> None:
    buf = CircularBuffer(3)
    buf.extend([1, 2])
    buf.extend([3, 4, 5])
    np.testing.assert_array_equal(buf.last(), [3, 4, 5])
    buf.extend([6])
    np.testing.assert_array_equal(buf.last(), [4, 5, 6])


def test_extend_across_the_wrap_point() -> None:
    buf = CircularBuffer(5)
    buf.extend([1, 2, 3, 4])  # next write at index 4
    buf.extend([5, 6, 7])  # one at the end, two at the start
    np.testing.assert_array_equal(buf.last(), [3, 4, 5, 6, 7])
    buf.extend([8, 9, 10, 11])
    np.testing.assert_array_equal(buf.last(), [7, 8, 9, 10, 11])
    np.testing.assert_array_equal(buf.last(3), [9, 10, 11])
    assert buf.total == 11


def test_extend_matches_appending_one_by_one() -> None:
    rng = np.random.default_rng(1)
    a, b = CircularBuffer(7), CircularBuffer(7)
    value = 0
    for n in rng.integers(0, 12, size=60):
        chunk = np.arange(value, value + n, dtype=float)
        value += n
        a.extend(chunk)
        for x in chunk:
            b.append(x)
        np.testing.assert_array_equal(a.last(), b.last())
        assert a.total == b.total == value


def test_extend_empty_changes_nothing() -> None:
    buf = CircularBuffer(3)
    buf.extend([1, 2])
    buf.extend([])
    assert buf.total == 2
    np.testing.assert_array_equal(buf.last(), [1, 2])


def test_rows_with_shape() -> None:
    buf = CircularBuffer(3, shape=(2,), dtype=np.int32)
    assert buf.nbytes == 3 * 2 * 4
    assert buf.last().shape == (0, 2)
    buf.append([1, 2])
    buf.append(np.array([3, 4]))
    buf.extend([[5, 6], [7, 8]])
    out = buf.last()
    assert out.shape == (3, 2) and out.dtype == np.int32
    np.testing.assert_array_equal(out, [[3, 4], [5, 6], [7, 8]])
    np.testing.assert_array_equal(buf.last(1), [[7, 8]])
    assert buf.last(0).shape == (0, 2)


def test_row_of_wrong_shape_is_refused_and_changes_nothing() -> None:
    buf = CircularBuffer(3, shape=(2,))
    buf.append([1, 2])
    with pytest.raises(ValueError):
        buf.append([1, 2, 3])
    assert buf.total == 1
    np.testing.assert_array_equal(buf.last(), [[1, 2]])


def test_clear() -> None:
    buf = CircularBuffer(3)
    buf.extend([1, 2, 3, 4])
    buf.clear()
    assert len(buf) == 0 and buf.total == 0
    assert buf.last().shape == (0,)
    buf.append(9)
    np.testing.assert_array_equal(buf.last(), [9])


def test_concurrent_appends_keep_the_total_exact() -> None:
    size, threads, per_thread = 1000, 4, 5000
    buf = CircularBuffer(size, dtype=np.int64)
    go = threading.Barrier(threads + 1)

    def writer(k: int) -> None:
        go.wait()
        seq = k * 1_000_000  # every value written is distinct
        for i in range(per_thread):
            if i % 10 == 0:
                buf.extend([seq, seq + 1, seq + 2])
                seq += 3
            else:
                buf.append(seq)
                seq += 1

    def reader() -> None:
        go.wait()
        for _ in range(300):
            assert len(buf.last(50)) <= 50

    workers = [threading.Thread(target=writer, args=(k,)) for k in range(threads)]
    workers.append(threading.Thread(target=reader))
    for t in workers:
        t.start()
    for t in workers:
        t.join(10)
    expected = threads * (per_thread + per_thread // 10 * 2)
    assert buf.total == expected
    assert len(buf) == size
    # every kept value was written by some writer, and none twice
    kept = buf.last()
    assert len(set(kept.tolist())) == size


def test_concurrent_last_never_sees_a_torn_extend() -> None:
    """A reader sees whole chunks: values are consecutive from oldest to newest."""
    buf = CircularBuffer(64, dtype=np.int64)
    stop = threading.Event()
    bad: list[np.ndarray] = []

    def writer() -> None:
        v = 0
        while not stop.is_set():
            buf.extend(np.arange(v, v + 5))
            v += 5

    def reader() -> None:
        for _ in range(2000):
            out = buf.last()
            if len(out) > 1 and not np.all(np.diff(out) == 1):
                bad.append(out)

    w, r = threading.Thread(target=writer), threading.Thread(target=reader)
    w.start()
    r.start()
    r.join(10)
    stop.set()
    w.join(10)
    assert not bad
