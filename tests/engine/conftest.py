"""pytest options of the engine's tests.

``--rewrite-transcripts`` rewrites the expected output of the golden transcripts
(tests/engine/testdata/*.txt) from what the engine prints now; see tests/engine/transcripts.py.
pytest reads options only from the conftest files of the paths on its command line, so name the
test file (or folder) with the flag:

    .venv/bin/python -m pytest tests/engine/test_transcripts.py --rewrite-transcripts

``RAFTLAB_REWRITE=1`` does the same from any command line.
"""


def pytest_addoption(parser):
    parser.addoption("--rewrite-transcripts", action="store_true", default=False,
                     help="rewrite tests/engine/testdata/*.txt with the engine's current output")
