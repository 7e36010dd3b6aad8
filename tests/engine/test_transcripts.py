"""Golden transcripts of the engine (tests/engine/testdata/*.txt), and tests of their runner.

Each transcript is a short story in operator commands with the exact trace the engine prints;
the format is described in tests/engine/transcripts.py.  When the engine's output changes on
purpose, rewrite them and review the diff:

    .venv/bin/python -m pytest tests/engine/test_transcripts.py --rewrite-transcripts
    (or RAFTLAB_REWRITE=1 .venv/bin/python -m pytest tests/engine/test_transcripts.py)
"""
import os
import re
from pathlib import Path

import pytest

from .transcripts import TranscriptError, check_file, parse, parse_command, render

TESTDATA = Path(__file__).parent / "testdata"
TRANSCRIPTS = sorted(TESTDATA.glob("*.txt"))


@pytest.fixture
def rewrite(request) -> bool:
    return bool(request.config.getoption("--rewrite-transcripts", default=False)
                or os.environ.get("RAFTLAB_REWRITE") == "1")


def test_there_are_transcripts():
    assert len(TRANSCRIPTS) >= 5


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
def test_transcript(path, rewrite):
    text = path.read_text()
    assert text.startswith("#"), f"{path.name} must open with prose saying what it shows"
    check_file(path, rewrite=rewrite)


# --- the runner itself -----------------------------------------------------------------------
# These tests read the engine's words as little as they can, so that a change of rendering is
# fixed by rewriting the transcripts alone.

SMALL = """\
# Three servers; n1 times out first.
new nodes=3 seed=1 drop=0
----

timeout n1
----
{timeout}
"""


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "t.txt"
    path.write_text(text)
    return path


def test_the_rewrite_flag_writes_the_actual_output(tmp_path):
    path = write(tmp_path, SMALL.format(timeout="(to be written)"))
    assert check_file(path, rewrite=True) is True
    text = path.read_text()
    assert "(to be written)" not in text
    assert re.search(r"^timeout n1\n----\nt=0 .*n1.*\n", text, re.M), text
    assert text.startswith("# Three servers; n1 times out first.\nnew nodes=3 seed=1 drop=0\n----\n\n")
    assert check_file(path) is False                           # now it passes as it is
    assert check_file(path, rewrite=True) is False             # and a rewrite changes nothing


def test_a_wrong_expected_output_fails_with_a_unified_diff(tmp_path):
    path = write(tmp_path, SMALL.format(timeout="t=0      n2 became leader at term 7"))
    with pytest.raises(AssertionError) as failure:
        check_file(path)
    message = str(failure.value)
    assert "t.txt (expected)" in message and "t.txt (actual)" in message and "@@" in message
    assert "\n-t=0      n2 became leader at term 7\n" in message
    assert re.search(r"^\+t=0 .*n1", message, re.M), message
    assert "--rewrite-transcripts" in message
    assert "n2 became leader at term 7" in path.read_text()   # the file is left alone


def test_an_unknown_command_names_the_file_and_line(tmp_path):
    path = write(tmp_path, SMALL.format(timeout="x") + "\nfrobnicate n1\n----\n")
    with pytest.raises(TranscriptError, match=r"t\.txt:9: unknown command 'frobnicate'"):
        check_file(path, rewrite=True)
    assert "frobnicate" in path.read_text()                    # nothing was written


def test_wrong_arguments_name_the_line(tmp_path):
    path = write(tmp_path, SMALL.format(timeout="x") + "\ncrash n1 n2 n3\n----\n")
    with pytest.raises(TranscriptError, match=r"t\.txt:9: 'crash n1 n2 n3' raised TypeError"):
        check_file(path)


def test_a_command_before_new_is_an_error(tmp_path):
    path = write(tmp_path, "# nothing yet\nstep\n----\n")
    with pytest.raises(TranscriptError, match=r"t\.txt:2: no simulation yet"):
        check_file(path)


def test_a_command_without_separator_is_an_error(tmp_path):
    path = write(tmp_path, "# oops\nnew nodes=3\nstep\n----\n")
    with pytest.raises(TranscriptError, match=r"t\.txt:2: the command 'new nodes=3' must be followed"):
        check_file(path)


def test_raftlab_errors_are_output(tmp_path):
    path = write(tmp_path, "# errors\nnew nodes=3\n----\n\ncrash n9\n----\n")
    check_file(path, rewrite=True)
    assert re.search(r"^crash n9\n----\nerror: .*n9", path.read_text(), re.M)


def test_parse_and_render_round_trip():
    text = SMALL.format(timeout="t=0      a line\n#12 not prose: output") + \
        "\n# more prose\n\n\nsummary\n----\nline\n"
    items = parse(text)
    assert [i.command for i in items if not isinstance(i, str)] == ["new nodes=3 seed=1 drop=0", "timeout n1",
                                                                     "summary"]
    assert render(items, actual=False) == text


@pytest.mark.parametrize("command, expected", [
    ("step", ("step", [], {})),
    ("advance 50", ("advance", [50], {})),
    ('client_request "put x 1" n2 client=c1', ("client_request", ["put x 1", "n2"], {"client": "c1"})),
    ("partition n1 n2 | n3 n4 n5", ("partition", [["n1", "n2"], ["n3", "n4", "n5"]], {})),
    ("partition n1 n2 |", ("partition", [["n1", "n2"]], {})),
    ("set_pre_vote true", ("set_pre_vote", [True], {})),
    ("new nodes=5 election_timeout=150-300 drop=0.1 pre_vote=false",
     ("new", [], {"nodes": 5, "election_timeout": (150, 300), "drop": 0.1, "pre_vote": False})),
])
def test_parse_command(command, expected):
    assert parse_command(command) == expected
