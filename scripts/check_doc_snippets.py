#!/usr/bin/env python3
"""Checks that code quoted in the docs is the code that is tested.

A Markdown file quotes a file with a marker line followed by a fenced block:

    <!-- snippet: examples/rust/quickstart.rs -->
    ```rust
    ...exact contents of the file...
    ```

`python3 scripts/check_doc_snippets.py` fails when a block differs from its file;
`--fix` rewrites the blocks from the files.
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^<!-- snippet: (\S+) -->$")


def docs() -> list[pathlib.Path]:
    found = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
    found += sorted(ROOT.glob("bindings-*/README.md"))
    found += sorted(
        p for p in (ROOT / "examples").glob("**/README.md") if "node_modules" not in p.parts
    )
    return [p for p in found if p.is_file()]


def process(doc: pathlib.Path, fix: bool, problems: list[str]) -> int:
    lines = doc.read_text().split("\n")
    out: list[str] = []
    count = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        m = MARKER.match(line)
        i += 1
        if not m:
            continue
        count += 1
        where = f"{doc.relative_to(ROOT)}:{i}"
        if i >= len(lines) or not lines[i].startswith("```"):
            problems.append(f"{where}: snippet marker not followed by a fenced block")
            continue
        out.append(lines[i])
        end = i + 1
        while end < len(lines) and lines[end] != "```":
            end += 1
        if end == len(lines):
            problems.append(f"{where}: fenced block never closed")
            out.extend(lines[i + 1 :])
            break
        body = lines[i + 1 : end]
        src = ROOT / m[1]
        if not src.is_file():
            problems.append(f"{where}: quoted file {m[1]} does not exist")
            want = body
        else:
            want = src.read_text().rstrip("\n").split("\n")
            if body != want and not fix:
                problems.append(
                    f"{where}: snippet of {m[1]} differs from the file "
                    "(run python3 scripts/check_doc_snippets.py --fix)"
                )
        out.extend(want if fix else body)
        out.append("```")
        i = end + 1
    if fix:
        doc.write_text("\n".join(out))
    return count


def main() -> int:
    fix = "--fix" in sys.argv[1:]
    problems: list[str] = []
    count = sum(process(doc, fix, problems) for doc in docs())
    for p in problems:
        print(p, file=sys.stderr)
    print(f"doc snippets: {count} checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
