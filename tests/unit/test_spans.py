from ember.observe.spans import PHASES, Spans


def test_phases_are_consecutive_differences_of_marks():
    spans = Spans(marks={"received": 1_000_000})
    marks = ["acquiring", "acquired", "thawed", "initialised", "taken", "responded", "done"]
    for offset, name in enumerate(marks, start=1):
        spans.mark(name, 1_000_000 + offset * 500_000)
    assert spans.durations_ms() == {phase: 0.5 for phase, _, _ in PHASES}
    assert spans.server_timing().startswith("resolve;dur=0.500, acquire;dur=0.500, thaw;dur=0.500, init;dur=0.500")


def test_a_missing_mark_makes_its_phases_zero():
    spans = Spans(marks={"received": 1_000_000})
    spans.mark("acquiring", 2_000_000)
    spans.mark("acquired", 3_000_000)
    spans.mark("thawed", 3_000_000)
    spans.mark("initialised", 3_000_000)
    spans.mark("responded", 9_000_000)
    spans.mark("done", 10_000_000)
    durations = spans.durations_ms()
    assert durations["deliver"] == 0.0 and durations["run"] == 0.0
    assert durations["finish"] == 1.0 and durations["init"] == 0.0
