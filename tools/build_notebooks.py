"""Build the lesson notebooks from their sources, run them, and store their outputs.

The lessons are written as Python scripts in the "percent" format (the one jupytext and VS Code read), in
tools/lessons/NN_name.py:

    # %% [markdown]
    # # A title
    #
    # Some prose, every line commented with "# ".

    # %%
    sim = Simulation(seed=1)

    # %% tags=["nbval-ignore-output"]
    Explorer(sim)

Text before the first `# %%` is a note for maintainers and is not copied. A code cell may carry cell tags
(jupytext's syntax); `nbval-ignore-output` makes nbval run the cell without comparing its output, and is
invisible to a student (unlike a `# NBVAL_IGNORE_OUTPUT` comment).

    python tools/build_notebooks.py              # build and execute every lesson into notebooks/
    python tools/build_notebooks.py 02 05        # only lessons 02 and 05
    python tools/build_notebooks.py --no-execute # write the cells only (nbval then only runs them)
    python tools/build_notebooks.py --check      # fail if a notebook's cells differ from its source

Executing uses nbclient with the python3 kernel, in notebooks/ (where nbval runs them too). A lesson that
raises, or writes anything to stderr (a warning would fail nbval), stops the build with the cell that did it.

What is stored, and why:
- text outputs exactly as a fresh run prints them (nbval compares them);
- figures as PNG, re-encoded with a 256-colour palette to keep the folder small (nbval ignores image/png);
- a widget (the Explorer) only as its short text repr: no widget-view output and no saved widget state.
  JupyterLab cannot show a saved Explorer anyway ("Error displaying widget: model not found" until the cells
  run), while the text reads fine in Lab, on GitHub and in nbval, and keeps each notebook ~200 KB smaller;
- no execution timings, and cell ids derived from the cell's position, so a rebuild changes only what
  really changed.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import base64
import io

import nbformat
from nbclient import NotebookClient
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "tools" / "lessons"
NOTEBOOKS = ROOT / "notebooks"

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CELL_TIMEOUT = 60          # s; nbval's own limit is far higher, the lessons' budget is 20 s per cell

_MARKER = re.compile(r"^# %%(?P<md> \[markdown\])?(?:\s+tags=(?P<tags>\[.*\]))?\s*$")


def parse(text: str) -> list:
    """The cells of a percent-format script, as nbformat cells (without ids)."""
    cells = []
    kind, tags, lines = None, [], []

    def flush():
        if kind is None:
            return
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if kind == "markdown":
            body = "\n".join(_uncomment(line) for line in lines)
            cells.append(nbformat.v4.new_markdown_cell(body))
        else:
            cell = nbformat.v4.new_code_cell("\n".join(lines))
            if tags:
                cell.metadata["tags"] = tags
            cells.append(cell)

    for line in text.splitlines():
        m = _MARKER.match(line)
        if m:
            flush()
            kind = "markdown" if m.group("md") else "code"
            tags = json.loads(m.group("tags")) if m.group("tags") else []
            lines = []
        elif kind is not None:
            lines.append(line)
    flush()
    return cells


def _uncomment(line: str) -> str:
    if line.startswith("# "):
        return line[2:]
    if line.rstrip() == "#":
        return ""
    raise ValueError(f"a markdown line must start with '# ' (or be '#'): {line!r}")


def notebook_for(source: Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = parse(source.read_text())
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{source.stem[:2]}-{i:02d}-{cell.cell_type[:2]}"
    nb.metadata = {"kernelspec": dict(KERNELSPEC),
                   "language_info": {"name": "python"}}
    return nb


def execute(nb: nbformat.NotebookNode, name: str) -> list[tuple[float, int, str]]:
    """Run ``nb`` in place; return (seconds, cell index, first line) per code cell."""
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", record_timing=False,
                            store_widget_state=False, resources={"metadata": {"path": str(NOTEBOOKS)}})
    timings = []
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            start = time.perf_counter()
            client.execute_cell(cell, index)
            timings.append((time.perf_counter() - start, index, cell.source.splitlines()[0] if cell.source else ""))
            for out in cell.outputs:
                if out.output_type == "stream" and out.name == "stderr":
                    raise SystemExit(f"{name}: cell {index} wrote to stderr (nbval would fail):\n"
                                     f"{cell.source}\n--- stderr ---\n{out.text}")
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            out.get("data", {}).pop(WIDGET_VIEW, None)
    return timings


def shrink_png(data: str) -> str:
    """The same picture as a PNG with a 256-colour palette, if that is smaller. Figures of flat colours
    look the same; nbval never compares image/png, so this changes only the size of the committed file."""
    raw = base64.b64decode(data)
    image = Image.open(io.BytesIO(raw))
    small = io.BytesIO()
    image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(small, "PNG", optimize=True)
    out = small.getvalue()
    return base64.b64encode(out).decode() if len(out) < len(raw) else data


def shrink_images(nb: nbformat.NotebookNode) -> None:
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "image/png" in out.get("data", {}):
                out.data["image/png"] = shrink_png(out.data["image/png"])


def build(source: Path, run: bool) -> None:
    nb = notebook_for(source)
    target = NOTEBOOKS / f"{source.stem}.ipynb"
    t0 = time.perf_counter()
    if run:
        timings = execute(nb, source.stem)
        shrink_images(nb)
        slow = max(timings, default=(0.0, 0, ""))
        print(f"{target.relative_to(ROOT)}: {len(timings)} code cells in {time.perf_counter() - t0:.1f} s; "
              f"slowest: cell {slow[1]} ({slow[0]:.1f} s) {slow[2][:60]}")
    else:
        print(f"{target.relative_to(ROOT)}: written without outputs")
    nbformat.validate(nb)
    target.write_text(nbformat.writes(nb) + "\n")


def check(source: Path) -> list[str]:
    """Differences between a lesson's source and its committed notebook (cell kinds, sources, tags)."""
    target = NOTEBOOKS / f"{source.stem}.ipynb"
    if not target.exists():
        return [f"{target.relative_to(ROOT)} is missing: run tools/build_notebooks.py {source.stem[:2]}"]
    want = notebook_for(source).cells
    have = nbformat.read(target, as_version=4).cells

    def key(c):
        return (c.cell_type, c.source, c.metadata.get("tags", []))
    if [key(c) for c in want] != [key(c) for c in have]:
        return [f"{target.relative_to(ROOT)} differs from {source.relative_to(ROOT)}: "
                f"run tools/build_notebooks.py {source.stem[:2]}"]
    return []


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lessons", nargs="*", help="lesson numbers or names (default: all)")
    parser.add_argument("--no-execute", action="store_true", help="write cells without running them")
    parser.add_argument("--check", action="store_true", help="only compare notebooks with their sources")
    args = parser.parse_args(argv)
    sources = sorted(SOURCES.glob("[0-9][0-9]_*.py"))
    if args.lessons:
        sources = [s for s in sources if any(s.stem.startswith(w) for w in args.lessons)]
        if not sources:
            parser.error(f"no lesson matches {' '.join(args.lessons)} in {SOURCES.relative_to(ROOT)}")
    if args.check:
        problems = [p for s in sources for p in check(s)]
        print("\n".join(problems) or f"{len(sources)} notebooks match their sources")
        return 1 if problems else 0
    for source in sources:
        build(source, run=not args.no_execute)
    return 0


if __name__ == "__main__":
    sys.exit(main())
