#!/usr/bin/env python3
"""Precision and recall of stackaudit's rules on real code, from hand labels.

Fetches nothing: point it at checkouts of the labelled repositories, at the labelled
commits, and at a stackaudit binary.

    tests/realworld/evaluate.py --stackaudit target/release/stackaudit \\
        --checkout polarsource/polar=/tmp/polar --checkout fastapi/full-stack-fastapi-template=/tmp/fst

labels.tsv (tab-separated, one header line): repo, commit, path, line, rule, verdict,
reason. Verdicts of findings: `true`, `debatable`, `false`. Of places the rule must
judge right without a finding: `near-miss` (must stay quiet; a finding there counts
as false) and `missed` (a real problem it should find; found, it counts for recall).

Prints, per rule: findings now, labelled true / debatable / false (a near-miss reported
counts as false), precision (true / (true + false), debatable apart), recall over
`missed` labels, the near-misses labelled, the findings no label covers (to label
next), and the labelled findings no longer reported ("gone": relabel them).
"""

import argparse
import collections
import csv
import json
import os
import subprocess
import sys


def load_labels(path):
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for row in rows:
        row["line"] = int(row["line"])
        if row["verdict"] not in {"true", "debatable", "false", "near-miss", "missed"}:
            sys.exit(f"labels.tsv: unknown verdict {row['verdict']!r} at {row['path']}:{row['line']}")
    return rows


def findings_of(binary, checkout):
    run = subprocess.run(
        [binary, "check", checkout, "--no-cache", "--output-format", "json"],
        capture_output=True,
        text=True,
    )
    if run.returncode not in (0, 1):
        sys.exit(f"stackaudit failed on {checkout}: {run.stderr.strip()}")
    found = set()
    for finding in json.loads(run.stdout or "[]"):
        path = os.path.relpath(finding["filename"], checkout)
        found.add((path, finding["location"]["row"], finding["code"]))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stackaudit", required=True)
    parser.add_argument("--checkout", action="append", default=[], metavar="REPO=PATH")
    parser.add_argument("--show", action="append", default=[], metavar="RULE",
                        help="also list the unlabelled findings of RULE")
    parser.add_argument(
        "--labels", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "labels.tsv")
    )
    arguments = parser.parse_args()
    checkouts = dict(item.split("=", 1) for item in arguments.checkout)
    labels = load_labels(arguments.labels)

    counts = collections.defaultdict(collections.Counter)
    unlabelled = collections.defaultdict(list)
    for repo, checkout in sorted(checkouts.items()):
        found = findings_of(arguments.stackaudit, checkout)
        labelled = {(row["path"], row["line"], row["rule"]): row for row in labels if row["repo"] == repo}
        for key in sorted(found):
            path, line, rule = key
            counts[rule]["findings"] += 1
            row = labelled.get(key)
            if row is None:
                unlabelled[rule].append(f"{repo}:{path}:{line}")
            elif row["verdict"] == "near-miss":
                counts[rule]["false"] += 1
                counts[rule]["near-miss reported"] += 1
            elif row["verdict"] == "missed":
                counts[rule]["missed found"] += 1
                counts[rule]["true"] += 1
            else:
                counts[rule][row["verdict"]] += 1
        for key, row in labelled.items():
            if row["verdict"] == "missed":
                counts[row["rule"]]["missed"] += 1
            if row["verdict"] == "near-miss":
                counts[row["rule"]]["near-misses"] += 1
            if row["verdict"] in {"true", "debatable", "false"} and key not in found:
                counts[row["rule"]]["labelled, not reported"] += 1

    print(
        f"{'rule':32} {'found':>6} {'true':>5} {'deb.':>5} {'false':>5} {'precision':>9} "
        f"{'recall':>7} {'near':>5} {'unlab.':>6} {'gone':>5}"
    )
    for rule in sorted(counts):
        c = counts[rule]
        judged = c["true"] + c["false"]
        precision = f"{c['true'] / judged:.2f}" if judged else "-"
        recall = f"{c['missed found'] / c['missed']:.2f}" if c["missed"] else "-"
        print(
            f"{rule:32} {c['findings']:>6} {c['true']:>5} {c['debatable']:>5} {c['false']:>5} "
            f"{precision:>9} {recall:>7} {c['near-misses']:>5} {len(unlabelled[rule]):>6} "
            f"{c['labelled, not reported']:>5}"
        )
    for rule in arguments.show:
        print(f"\nunlabelled {rule}:")
        for place in unlabelled[rule]:
            print(f"  {place}")
    missing = sorted(set(row["repo"] for row in labels) - set(checkouts))
    if missing:
        print(f"\nnot evaluated (no --checkout): {', '.join(missing)}")


if __name__ == "__main__":
    main()
