"""What every workload shares: phase timers, the report line, optional profiling.

A workload is a script run in a fresh process by ``benchmarks/run.py`` (the project's
``.venv`` or, for rasterstats, the baselines' environment). Its last line of output is
one JSON object: the seconds of each phase, the peak resident memory and what it
computed, so that ``run.py`` can compare the figures of the two sides.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

START = time.perf_counter()


class Phases:
    """Seconds spent in each named phase, in order."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - t0, 4)


def peak_rss_mb() -> float:
    """Peak resident memory of this process (MB): VmHWM of its own address space.

    ``getrusage`` would also count the parent's memory at the fork before ``exec``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def report(phases: Phases, **values) -> None:
    """Print the workload's result as the last line of output."""
    line = {"phases": phases.seconds, "process_s": round(time.perf_counter() - START, 4),
            "peak_rss_mb": peak_rss_mb(), **values}
    sys.stdout.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def run(main: Callable[[list[str]], object], argv: list[str] | None = None) -> None:
    """Run ``main``; with ``--profile FILE`` first in argv, under pyinstrument (if it can be
    imported, e.g. from benchmarks/.profile-lib on PYTHONPATH) or cProfile, into FILE."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) >= 2 and argv[0] == "--profile":
        target, argv = Path(argv[1]), argv[2:]
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            from pyinstrument import Profiler
        except ImportError:
            Profiler = None  # noqa: N806
        if Profiler is not None:
            profiler = Profiler(interval=0.005)
            profiler.start()
            try:
                main(argv)
            finally:
                profiler.stop()
                target.write_text(profiler.output_text(unicode=True, color=False,
                                                       show_all=False), encoding="utf-8")
            return
        import cProfile
        import io
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        try:
            main(argv)
        finally:
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(60)
            target.write_text(out.getvalue(), encoding="utf-8")
        return
    main(argv)
