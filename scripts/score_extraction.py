#!/usr/bin/env python3
"""Scores newswatch's article extraction on the readability corpus.

Usage:
  scripts/score_extraction.py [--corpus DIR] [--pred PREDICTED.json] [--profile P] [--all]

Builds the expected texts from each page's expected.html (tags stripped,
block elements as paragraphs separated by blank lines, scripts/styles
dropped), then, unless --pred is given, runs
`cargo run --profile P --example bench_extract -- --json OUT CORPUS` (P: release
unless --profile says otherwise, e.g. `eval`, the fast-build profile) and scores its
output with ../shared/tools/extraction_score.py. Prints the scorer's lines.
"""
import html.parser
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared")
SKIP = {"script", "style", "noscript", "template", "head", "title", "svg", "math",
        "iframe", "object", "button", "select", "textarea", "input", "canvas", "video", "audio"}
BLOCKS = set("""address article aside blockquote body caption dd details dialog div dl dt
fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li
main nav ol p pre section summary table tbody td tfoot th thead tr ul""".split())
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIP and tag not in VOID:
            self.skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag in SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_text(markup):
    p = Text()
    p.feed(markup)
    p.close()
    paras = []
    for para in "".join(p.parts).split("\n\n"):
        lines = [" ".join(l.split()) for l in para.split("\n")]
        t = "\n".join(l for l in lines if l)
        if t:
            paras.append(t)
    return "\n\n".join(paras)


def main():
    args = sys.argv[1:]
    corpus = os.path.join(SHARED, "corpus", "readability")
    pred = None
    if "--corpus" in args:
        corpus = args[args.index("--corpus") + 1]
    if "--pred" in args:
        pred = args[args.index("--pred") + 1]
    profile = "release"
    if "--profile" in args:
        profile = args[args.index("--profile") + 1]
    tmp = tempfile.mkdtemp(prefix="score_extraction.")
    expected = {}
    for page in sorted(os.listdir(corpus)):
        path = os.path.join(corpus, page, "expected.html")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                expected[page] = {"articleBody": html_text(f.read())}
    exp_path = os.path.join(tmp, "expected.json")
    with open(exp_path, "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False)
    if pred is None:
        pred = os.path.join(tmp, "predicted.json")
        subprocess.run(["cargo", "run", "--quiet", "--profile", profile, "--example", "bench_extract", "--",
                        "--json", pred, corpus], cwd=ROOT, check=True)
    scorer = os.path.join(SHARED, "tools", "extraction_score.py")
    extra = ["--all"] if "--all" in args else []
    subprocess.run([sys.executable, scorer, exp_path, pred] + extra, check=True)


main()
