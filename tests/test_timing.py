"""The timing helpers' bookkeeping (no speed is asserted here: that is the benchmarks' job)."""

import rnnlib
from rnnlib import timing


def test_compare_interleaves_and_summarises():
    order = []
    result = timing.compare({"a": lambda: order.append("a"), "b": lambda: order.append("b")},
                            repeat=3, min_time=0.0, warmup=1)
    assert set(result) == {"a", "b"}
    for t in result.values():
        assert len(t.times) == 3 and t.min <= t.median <= t.max
    # after one warm-up and one calibration call each, the rounds alternate a, b, a, b, ...
    assert order[4:] == ["a", "b"] * 3


def test_sweep_and_machine_info():
    out = timing.sweep(lambda n: {"f": lambda: sum(range(n))}, [10, 20], repeat=2, min_time=0.0)
    assert len(out["f"]) == 2
    info = timing.machine_info()
    assert info["numpy"] == __import__("numpy").__version__ and info["cpus"]
    assert isinstance(rnnlib.timing.time_call(lambda: None, repeat=2, min_time=0.0), timing.Timing)
