"""Drawing benchmarks (issue 3): how fast the Explorer redraws, plays, and whether it slows the engine.

Run with `make bench` (or `.venv/bin/python bench/viz.py`).  Figures are medians on this machine, as
CPU time of this process (steady when other work shares the machine) and as wall-clock time (what a
student waits; on an idle machine the two agree).  Matplotlib is the bottleneck of a redraw: the Renderer reuses one
figure, wipes the cluster and log axes artist by artist instead of rebuilding them, and draws labels as
cached glyph outlines in one artist per axes.
"""
from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

from raftlab import Simulation, viz  # noqa: E402
from raftlab.widgets import Explorer  # noqa: E402

FRAMES = 200


def busy(nodes: int, seed: int = 1) -> Simulation:
    """A cluster with a leader, a steady client load and messages in flight."""
    sim = Simulation(nodes=nodes, seed=seed, request_interval=30)
    sim.run_until_leader()
    sim.advance(200)
    return sim


def changing(nodes: int, seed: int = 1) -> Simulation:
    """:func:`busy`, then a server added (issue 12): the views draw each server's place in the configuration,
    the configuration it uses, and the configuration entries in the logs."""
    sim = busy(nodes, seed)
    assert sim.run_until(lambda s: s.leader() is not None and s.leader().commit_index >= 1, within=3000)
    sim.add_server(f"n{nodes + 1}")
    sim.advance(20)
    return sim


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(fn) -> tuple[float, float]:
    """(CPU seconds, wall-clock seconds) of fn()."""
    c, w = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c, time.perf_counter() - w


def step_and_redraw(nodes: int, views=("cluster", "logs"), make=busy) -> dict:
    """Step in the Explorer (sim.step, then a full redraw of picture and panes), and the picture alone
    (Renderer.png), over FRAMES frames; ``make(nodes)`` builds the simulation."""
    sim = make(nodes)
    explorer = Explorer(sim, views=views)
    steps = [timed(explorer.step_button.click) for _ in range(FRAMES)]
    renderer = viz.Renderer(views)
    pictures = []
    for _ in range(FRAMES // 4):
        sim.step()
        pictures.append(timed(lambda: renderer.png(sim)))
    explorer.close()
    return {"cpu": median_ms([c for c, _ in steps]), "wall": median_ms([w for _, w in steps]),
            "picture": median_ms([c for c, _ in pictures]), "png": len(renderer.png(sim))}


def play_fps(nodes: int, ms_per_frame: int = 10) -> tuple[float, float]:
    """Frames per second the kernel can draw in Play mode (each frame: advance 10 ms, redraw), by CPU
    time and by wall-clock time."""
    sim = busy(nodes)
    explorer = Explorer(sim)
    explorer.speed.value = ms_per_frame
    explorer.play.playing = True
    frames = []
    for _ in range(FRAMES // 2):
        explorer._last_tick = 0.0          # as if each tick came after the previous frame was done

        def tick():
            explorer.play.value += 1
        frames.append(timed(tick))
    explorer.close()
    return 1.0 / statistics.median(c for c, _ in frames), 1.0 / statistics.median(w for _, w in frames)


def events_per_second(with_explorer: bool) -> float:
    """Events per CPU second of sim.advance in 10 ms slices over 20 s of simulated time, client load on."""
    sim = Simulation(nodes=5, seed=2, request_interval=20)
    explorer = Explorer(sim) if with_explorer else None
    cpu, _wall = timed(lambda: [sim.advance(10) for _ in range(2000)])
    if explorer is not None:
        assert explorer.frames == 1, "the Explorer must not redraw while code runs"
        explorer.close()
    return sim.steps / cpu


def main() -> None:
    print("raftlab viz benchmarks (medians; CPU time of this process, and wall-clock time)")
    for nodes in (5, 9):
        r = step_and_redraw(nodes)
        print(f"  step + redraw, {nodes} servers (cluster + logs): {r['cpu']:5.1f} ms CPU, {r['wall']:5.1f} ms wall "
              f"over {FRAMES} frames (picture alone {r['picture']:4.1f} ms; PNG {r['png'] // 1024} KiB)"
              + ("   [target <= 60 ms]" if nodes == 5 else ""))
    r = step_and_redraw(5, make=changing)
    print(f"  step + redraw, 5 servers adding a 6th (membership drawn): {r['cpu']:5.1f} ms CPU, {r['wall']:5.1f} ms "
          f"wall (picture alone {r['picture']:4.1f} ms; PNG {r['png'] // 1024} KiB)   [target <= 60 ms]")
    r = step_and_redraw(5, ("cluster", "logs", "timeline"))
    print(f"  step + redraw, 5 servers (cluster + logs + timeline): {r['cpu']:5.1f} ms CPU, {r['wall']:5.1f} ms wall")
    cpu_fps, wall_fps = play_fps(5)
    print(f"  play mode, 5 servers: the kernel draws {cpu_fps:4.1f} frames/s by CPU time, {wall_fps:4.1f} by wall "
          f"clock (Play ticks 10 times a second; a late tick advances without drawing)   [target >= 10]")
    alone, attached = [], []
    for _ in range(5):                     # interleaved, so that a change in the machine's load hits both
        alone.append(events_per_second(False))
        attached.append(events_per_second(True))
    a, b = max(alone), max(attached)
    print(f"  sim.advance(10) x 2000, 5 servers with client load: {a:8,.0f} events/s without an Explorer, "
          f"{b:8,.0f} with one attached but not redrawn ({b / a:.0%})")


if __name__ == "__main__":
    main()
