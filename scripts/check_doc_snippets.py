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
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
PATTERN = re.compile(
    r"(<!-- snippet: (?P<path>[^ ]+) -->\n```(?P<lang>[a-z]*)\n)(?P<body>.*?)(\n```)", re.S
)


def main() -> int:
    fix = "--fix" in sys.argv[1:]
    problems = []
    count = 0
    for doc in DOCS:
        if not doc.exists():
            continue
        text = doc.read_text()

        def replace(m: re.Match) -> str:
            nonlocal count
            count += 1
            src = ROOT / m["path"]
            if not src.is_file():
                problems.append(f"{doc.relative_to(ROOT)}: quoted file {m['path']} does not exist")
                return m[0]
            want = src.read_text().rstrip("\n")
            if m["body"] != want:
                if not fix:
                    problems.append(
                        f"{doc.relative_to(ROOT)}: snippet of {m['path']} differs from the file "
                        "(run python3 scripts/check_doc_snippets.py --fix)"
                    )
                return m[1] + want + m[5]
            return m[0]

        new = PATTERN.sub(replace, text)
        if fix and new != text:
            doc.write_text(new)
    for p in problems:
        print(p, file=sys.stderr)
    print(f"doc snippets: {count} checked, {len(problems)} stale")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
