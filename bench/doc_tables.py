"""What the bench scripts' `report` commands share (storm-threads.sh, restart-ready.sh): a folder's runs in the
order they ran, and a generated table written into a doc between <!-- <kind>:<folder> --> and its closing marker."""
import glob
import json
import os
import sys


def report_args(argv):
    """`<folder> <doc>` as the scripts pass them: the folder (no trailing slash), the doc, and the folder's runs."""
    folder = argv[1].rstrip("/")
    return folder, argv[2], runs_in_order(folder)


def runs_in_order(folder):
    """The load generator's JSONs of `folder` (<label>_r<n>.json), oldest first."""
    runs = [(json.load(open(f)), f) for f in glob.glob(f"{folder}/*_r*.json")]
    return [run for run, _ in sorted(runs, key=lambda pair: pair[0]["Started"] + pair[1])]


def write_section(doc, kind, folder, lines):
    """Replaces what `doc` holds between the folder's markers with `lines`; exits if the markers are missing."""
    name = os.path.basename(folder)
    start, end = f"<!-- {kind}:{name} -->", f"<!-- /{kind}:{name} -->"
    text = open(doc).read()
    a, b = text.find(start), text.find(end)
    if a < 0 or b < a:
        sys.exit(f"{doc} has no {start} ... {end} section")
    open(doc, "w").write(text[:a + len(start)] + "\n" + "\n".join(lines) + "\n" + text[b:])
