"""The similarity report: which submissions' exercise code looks copied, from the reference or
from each other.  It flags; it never deducts -- the instructor reads the fragments and decides.

For each exercise N, only the code that solves it is compared: the student's functions named
for exercise N's rules (``raftlab.rules.EXERCISE_RULES[N]``), plus the top-level helpers of the
same file they call.  The handout's stubs of those functions are *boilerplate*: what the
handout gave every student (signatures, docstrings) does not count as similarity.

The fingerprints are copydetect's (the tool in the MOSS family, Schleimer et al.'s
winnowing, SIGMOD 2003): the code is tokenized and names, strings and comments are
abstracted away (:func:`copydetect.utils.filter_code`), every k-gram of the filtered text is
hashed, and winnowing keeps one hash per window.  Two pieces of code share a fingerprint only
where they share a run of at least ``k`` filtered characters.  A submission's similarity to
another is the share of its (non-boilerplate) fingerprinted code found in the other: a copy of
the reference scores near 100%.  The k-grams are hashed with BLAKE2b rather than Python's
``hash`` (which copydetect uses), so the report is the same under any ``PYTHONHASHSEED``.

    report = build_report({"alice": {3: "def handle_append_entries(...): ..."}, ...}, threshold=0.8)
    report.flags["alice"]        # ["ex3: 97% like the reference"]
    write_html(report, Path("similarity"))
"""
from __future__ import annotations

import ast
import hashlib
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from ... import rules as reference_rules
from .. import parse_python
from ..check.exam import PACKAGE

__all__ = ["REFERENCE", "DEFAULT_THRESHOLD", "Fingerprint", "Match", "SimilarityReport", "exercise_code",
           "folder_code", "reference_code", "stub_code", "fingerprint", "compare", "build_report",
           "write_html"]

#: The name the reference goes by in the report (never a student's: names starting with "<" are not
#: folder names a class would use, and a student's is compared to it, not listed as it).
REFERENCE = "<reference>"
#: Flag a submission whose exercise code is at least this much like another's (a share, 0..1).
DEFAULT_THRESHOLD = 0.8
#: Length of a fingerprinted k-gram, in filtered characters, and the winnowing window:
#: copydetect's defaults (noise threshold 25, guarantee threshold 30).
K = 25
WINDOW = 6
#: Code with fewer fingerprinted characters than this (after the boilerplate is removed) is too
#: short for a share of it to mean anything: it is listed, never flagged.
MIN_CHARS = 60
#: How many pairs per exercise the HTML page shows side by side.
TOP_PAIRS = 20


# --- what is compared --------------------------------------------------------------------------

def exercise_code(source: str, names) -> str:
    """The top-level functions of ``source`` named in ``names``, and the top-level functions and
    assignments of the same file they use (helpers), in file order; "" if none (or if the file does
    not parse)."""
    try:
        tree = parse_python(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ""
    top: dict = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            top[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name):
                    top[target.id] = node
    wanted = [n for n in names if isinstance(top.get(n), (ast.FunctionDef, ast.AsyncFunctionDef))]
    taken: dict = {}
    while wanted:
        name = wanted.pop(0)
        node = top[name]
        if id(node) in taken:
            continue
        taken[id(node)] = node
        used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        wanted += sorted(u for u in used if u in top and id(top[u]) not in taken)
    chosen = sorted(taken.values(), key=lambda n: n.lineno)
    return "\n\n".join(ast.get_source_segment(source, n) or "" for n in chosen).strip()


def folder_code(folder: Optional[Path], numbers) -> dict:
    """{exercise: its code} from a submission's staged ``exercises/`` folder (every ``.py`` file in
    it, sorted by path: a rule may live in any of them)."""
    out: dict = {}
    if folder is None or not Path(folder).is_dir():
        return {n: "" for n in numbers}
    files = sorted(p for p in Path(folder).rglob("*.py") if p.is_file() and not p.is_symlink())
    sources = []
    for p in files:
        try:
            sources.append(p.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    for n in numbers:
        names = reference_rules.EXERCISE_RULES[n]
        out[n] = "\n\n".join(c for c in (exercise_code(s, names) for s in sources) if c)
    return out


def reference_code(number: int) -> str:
    """Exercise ``number``'s reference functions, from the kit's ``raftlab/rules.py``."""
    source = (PACKAGE / "rules.py").read_text()
    names = reference_rules.EXERCISE_RULES[number]
    try:
        tree = parse_python(source)
    except SyntaxError:
        return ""
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in names]
    return "\n\n".join(ast.get_source_segment(source, f) or "" for f in funcs)


def stub_code(number: int) -> str:
    """The handout's stubs of exercise ``number`` (its boilerplate), from the kit's ``exercises/``;
    "" when the kit has none."""
    from .. import EXERCISES
    path = PACKAGE.parent / EXERCISES[number].path
    try:
        return exercise_code(path.read_text(), reference_rules.EXERCISE_RULES[number])
    except OSError:
        return ""


# --- fingerprints --------------------------------------------------------------------------------

def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little", signed=True)


@dataclass
class Fingerprint:
    """copydetect's fingerprint of one piece of code, with stable hashes."""
    text: str                          #: the code as written
    filtered: str                      #: tokenized, names/strings/comments abstracted
    offsets: Any                       #: copydetect's map from filtered to written positions
    hashes: set                        #: the winnowed k-gram hashes (boilerplate removed)
    where: dict                        #: hash -> positions in ``filtered``
    coverage: float                    #: filtered characters covered by the kept k-grams

    @property
    def too_short(self) -> bool:
        return self.coverage < MIN_CHARS


def fingerprint(text: str, boilerplate=frozenset()) -> Fingerprint:
    """``text``'s winnowed fingerprints, without those in ``boilerplate`` (a set of hashes)."""
    import numpy as np
    from copydetect.utils import filter_code, get_token_coverage, winnow
    filtered, offsets = filter_code(text, "exercise.py", "python") if text else ("", np.array([]))
    grams = [_hash(filtered[i:i + K]) for i in range(len(filtered) - K + 1)]
    where: dict = {}
    if grams:
        selected, idx = winnow(np.array(grams, dtype=np.int64), WINDOW, remove_duplicates=False)
        for h, i in zip(selected.tolist(), idx.tolist(), strict=True):
            if h not in boilerplate:
                where.setdefault(h, []).append(i)
    coverage = float(get_token_coverage(where, K, len(filtered))) if filtered else 0.0
    return Fingerprint(text, filtered, offsets, set(where), where, coverage)


def compare(a: Fingerprint, b: Fingerprint) -> tuple:
    """(share of ``a`` found in ``b``, share of ``b`` found in ``a``, slices of ``a``, slices of
    ``b``): the slices are [[starts], [ends]] in the code as written."""
    import numpy as np
    from copydetect.utils import get_copied_slices
    common = sorted(a.hashes & b.hashes)
    if not common or not a.coverage or not b.coverage:
        return 0.0, 0.0, np.array([[], []], dtype=int), np.array([[], []], dtype=int)
    shares, slices = [], []
    for fp in (a, b):
        idx = np.array(sorted(i for h in common for i in fp.where[h]), dtype=int)
        s = get_copied_slices(idx, K)
        shares.append(min(1.0, float(np.sum(s[1] - s[0])) / fp.coverage))
        if len(fp.offsets) > 0:         # positions in the filtered text -> in the code as written
            s = s + fp.offsets[:, 1][np.clip(np.searchsorted(fp.offsets[:, 0], s), 0, fp.offsets.shape[0] - 1)]
        slices.append(s.astype(int))
    return shares[0], shares[1], slices[0], slices[1]


# --- the report -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Match:
    """Two pieces of code of one exercise that share fingerprints."""
    exercise: int
    a: str                 #: a student
    b: str                 #: another student, or REFERENCE
    share_a: float         #: how much of a's code is found in b's
    share_b: float         #: how much of b's code is found in a's

    @property
    def score(self) -> float:
        return max(self.share_a, self.share_b)


@dataclass
class SimilarityReport:
    """Every exercise's matches, and the submissions at or above the threshold."""
    threshold: float
    numbers: list
    matches: dict = field(default_factory=dict)     #: exercise -> [Match], highest first
    short: dict = field(default_factory=dict)       #: exercise -> students whose code is too short to judge
    flags: dict = field(default_factory=dict)       #: student -> ["ex3: 97% like the reference", ...]
    prints: dict = field(default_factory=dict)      #: (exercise, owner) -> Fingerprint (for the page)

    def column(self, student: str) -> str:
        """The gradebook's ``similarity`` cell: empty unless the student is flagged."""
        return "; ".join(self.flags.get(student, []))

    def reference_share(self, exercise: int, student: str) -> float:
        """How much of ``student``'s code of ``exercise`` is found in the reference."""
        for m in self.matches.get(exercise, []):
            if m.a == student and m.b == REFERENCE:
                return m.share_a
        return 0.0

    def pair(self, exercise: int, a: str, b: str) -> Optional[Match]:
        for m in self.matches.get(exercise, []):
            if {m.a, m.b} == {a, b}:
                return m
        return None


def build_report(codes: Mapping[str, Mapping[int, str]], numbers, threshold: float = DEFAULT_THRESHOLD,
                 references: Optional[Mapping[int, str]] = None,
                 stubs: Optional[Mapping[int, str]] = None) -> SimilarityReport:
    """Compare, for each exercise in ``numbers``, every student's code (``codes``: student ->
    exercise -> code) with the reference and with every other student's.  A student whose
    code of an exercise is at least ``threshold`` like the reference's, or like another
    student's (either way round), is flagged."""
    if not 0 < threshold <= 1:
        raise ValueError(f"the similarity threshold must be a share between 0 and 1, not {threshold!r}")
    numbers = sorted(numbers)
    report = SimilarityReport(threshold, numbers)
    for n in numbers:
        stub = stubs[n] if stubs is not None else stub_code(n)
        boilerplate = fingerprint(stub).hashes if stub else set()
        ref = fingerprint(references[n] if references is not None else reference_code(n), boilerplate)
        report.prints[(n, REFERENCE)] = ref
        students = sorted(s for s in codes if codes[s].get(n))
        prints = {s: fingerprint(codes[s][n], boilerplate) for s in students}
        report.prints.update({(n, s): fp for s, fp in prints.items()})
        report.short[n] = [s for s in students if prints[s].too_short]
        judged = [s for s in students if not prints[s].too_short]
        found = []
        for i, s in enumerate(judged):
            share, ref_share, _, _ = compare(prints[s], ref)
            if share or ref_share:
                found.append(Match(n, s, REFERENCE, round(share, 4), round(ref_share, 4)))
            for t in judged[i + 1:]:
                if prints[s].hashes & prints[t].hashes:
                    share_s, share_t, _, _ = compare(prints[s], prints[t])
                    found.append(Match(n, s, t, round(share_s, 4), round(share_t, 4)))
        found.sort(key=lambda m: (-m.score, m.a, m.b))
        report.matches[n] = found
        _flag(report, n, [m for m in found if m.score >= threshold])
    return report


#: How many other submissions a gradebook cell names for one exercise (the page lists them all).
NAMED = 3


def _flag(report: SimilarityReport, number: int, flagged: list) -> None:
    """Note in ``report.flags`` what each student's code of exercise ``number`` is like: the
    reference, and the (at most ``NAMED``) most alike other submissions, "and K more"."""
    peers: dict = {}
    for m in flagged:
        if m.b == REFERENCE:
            report.flags.setdefault(m.a, []).append(f"ex{number}: {m.share_a:.0%} like the reference")
        else:
            peers.setdefault(m.a, []).append((-m.score, m.b))
            peers.setdefault(m.b, []).append((-m.score, m.a))
    for student in sorted(peers):
        alike = sorted(peers[student])
        names = ", ".join(name for _, name in alike[:NAMED])
        more = f" and {len(alike) - NAMED} more" if len(alike) > NAMED else ""
        report.flags.setdefault(student, []).append(f"ex{number}: {-alike[0][0]:.0%} like {names}{more}")


# --- the HTML pages -------------------------------------------------------------------------------

_STYLE = """body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
.flag{background:#fdd}pre{font-size:90%;margin:0;white-space:pre-wrap}mark{background:#fe8}
.side{display:grid;grid-template-columns:1fr 1fr;gap:1em}"""


def _highlighted(fp: Fingerprint, slices) -> str:
    """``fp``'s code as HTML, the fragments in ``slices`` marked."""
    text, out, at = fp.text, [], 0
    starts, ends = (list(map(int, row)) for row in slices)
    for start, end in zip(starts, ends, strict=True):
        start, end = max(start, at), max(end, at)
        out.append(html.escape(text[at:start]) + "<mark>" + html.escape(text[start:end]) + "</mark>")
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)


def _label(owner: str) -> str:
    return "the reference" if owner == REFERENCE else owner


def exercise_page(report: SimilarityReport, number: int) -> str:
    """One exercise's page: every pair found, highest first, the top ones side by side."""
    matches = report.matches.get(number, [])
    rows = []
    for m in matches:
        cls = ' class="flag"' if m.score >= report.threshold else ""
        rows.append(f"<tr{cls}><td>{html.escape(m.a)}</td><td>{html.escape(_label(m.b))}</td>"
                    f"<td>{m.share_a:.0%}</td><td>{m.share_b:.0%}</td></tr>")
    parts = [f"<!doctype html><meta charset=utf-8><title>Exercise {number}: similarity</title>"
             f"<style>{_STYLE}</style>",
             f"<h1>Exercise {number}: similarity</h1>",
             f"<p>Only the functions of exercise {number} (and the helpers they call) are compared; what the "
             f"handout's stubs already hold does not count.  A share is how much of one side's code is found in "
             f"the other's.  Rows at or above {report.threshold:.0%} are flagged: read the fragments and "
             f"decide; the grades are not changed.</p>",
             "<table><tr><th>submission</th><th>compared with</th><th>its code found there</th>"
             "<th>and the other way</th></tr>", *rows, "</table>"]
    if not matches:
        parts.append("<p>No two pieces of code share a fragment.</p>")
    if report.short.get(number):
        parts.append("<p>Too short to judge (listed, never flagged): "
                     + ", ".join(html.escape(s) for s in report.short[number]) + "</p>")
    for m in matches[:TOP_PAIRS]:
        a, b = report.prints[(number, m.a)], report.prints[(number, m.b)]
        _, _, slices_a, slices_b = compare(a, b)
        parts.append(f"<h2>{html.escape(m.a)} and {html.escape(_label(m.b))}: {m.share_a:.0%} / "
                     f"{m.share_b:.0%}</h2><div class=side>"
                     f"<div><h3>{html.escape(m.a)}</h3><pre>{_highlighted(a, slices_a)}</pre></div>"
                     f"<div><h3>{html.escape(_label(m.b))}</h3><pre>{_highlighted(b, slices_b)}</pre></div></div>")
    return "\n".join(parts) + "\n"


def index_page(report: SimilarityReport) -> str:
    rows = []
    for n in report.numbers:
        top = report.matches.get(n, [])[:1]
        best = f"{html.escape(top[0].a)} and {html.escape(_label(top[0].b))}: {top[0].score:.0%}" if top else "-"
        flagged = sum(1 for m in report.matches.get(n, []) if m.score >= report.threshold)
        rows.append(f'<tr><td><a href="ex{n}.html">exercise {n}</a></td><td>{best}</td><td>{flagged}</td></tr>')
    flags = "".join(f"<li>{html.escape(s)}: {html.escape(report.column(s))}</li>" for s in sorted(report.flags))
    return (f"<!doctype html><meta charset=utf-8><title>Similarity</title><style>{_STYLE}</style>"
            f"<h1>Similarity of the exercise code</h1><p>Threshold {report.threshold:.0%}.  Flagged, not "
            f"deducted: the instructor decides.</p><table><tr><th>exercise</th><th>most alike</th>"
            f"<th>pairs flagged</th></tr>{''.join(rows)}</table><h2>Flagged submissions</h2>"
            f"<ul>{flags or '<li>none</li>'}</ul>\n")


def write_html(report: SimilarityReport, folder: Path) -> list:
    """``folder/index.html`` and one ``exN.html`` per exercise (mode 0600: they hold students' code);
    returns the paths written."""
    from .report import write_atomic
    folder = Path(folder)
    written = []
    for n in report.numbers:
        path = folder / f"ex{n}.html"
        write_atomic(path, exercise_page(report, n))
        written.append(path)
    write_atomic(folder / "index.html", index_page(report))
    return [folder / "index.html", *written]
