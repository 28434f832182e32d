#!/usr/bin/env python3
"""Project lint: checks a compiler cannot.

GCC 12 destroys class-type temporaries created inside a co_await expression twice (a bad free
at run time; seen with ASan here). So a statement containing `co_await` must not build a
braced-init-list, a std::string or a std::function argument in place, and an aggregate
initializer or a conditional operator (?:) must not contain a co_await: name the value in a
statement of its own first. This scans every statement that contains co_await for those shapes.
Exit 1 with file:line for each finding.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PATTERNS = [
    (re.compile(r"[(,]\s*\{"), "braced-init-list argument"),
    (re.compile(r"std::(string|to_string|function)\s*[({]"), "std::string/function temporary"),
    (re.compile(r"\{[^{};]*co_await"), "co_await inside an initializer"),
    (re.compile(r"\?[^;]*co_await|co_await[^;]*\?"), "co_await inside a conditional operator"),
    (re.compile(r"\[[^\]]+\]\s*\([^)]*\)\s*(mutable\s*)?->\s*(core::Task|boost::asio::awaitable|asio::awaitable|Task)"),
     "capturing coroutine lambda"),
]


BLOCK_WORDS = ("else", "try", "do")
BLOCK_HEADS = re.compile(r"^\s*(template\s*<[^;]*>\s*)?(struct|class|namespace|enum|union)\b")


def opens_block(stmt):
    """True when a '{' after `stmt` opens a block (body), not a braced initializer."""
    head = stmt.rstrip()
    if not head or head[-1] in ")];{}:":
        return True
    if head.endswith(BLOCK_WORDS) or BLOCK_HEADS.search(head):
        return True
    return head[-1] == ">" and "->" in head  # trailing return type of a lambda/function


def statements(text):
    """Yields (line, statement): pieces of code split at ';' and at block braces, so a
    braced initializer stays inside its statement."""
    depth, line, buf, start = 0, 1, [], None
    for ch in text:
        if ch == "\n":
            line += 1
        if start is None and not ch.isspace():
            start = line
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if depth == 0 and (ch == ";" or ch == "}" or (ch == "{" and opens_block("".join(buf)))):
            if ch == ";":
                buf.append(ch)
            if buf and start is not None:
                yield start, "".join(buf)
            buf, start = [], None
            continue
        buf.append(ch)
    if buf and start is not None:
        yield start, "".join(buf)


TOKENS = re.compile(
    r'//[^\n]*'                      # line comment
    r'|/\*.*?\*/'                     # block comment
    r'|R"(?P<d>\w*)\(.*?\)(?P=d)"'      # raw string
    r'|"(?:\\.|[^"\\\n])*"'           # string
    r"|'(?:\\.|[^'\\\n])'",            # character
    re.S)


def strip_comments_and_strings(text):
    """Blanks comments and literals in one left-to-right pass (line numbers kept), so a "//"
    inside a string is not taken for a comment."""
    def blank(m):
        t = m.group()
        keep = re.sub(r"[^\n]", " ", t)
        return ('""' + keep[2:]) if t.startswith(('"', 'R"')) else keep
    return TOKENS.sub(blank, text)


def main():
    findings = []
    for path in [p for d in ("src", "tools", "fuzz") for p in sorted((ROOT / d).rglob("*.[ch]pp"))]:
        text = strip_comments_and_strings(path.read_text(encoding="utf-8"))
        for line, stmt in statements(text):
            if "co_await" not in stmt and "awaitable" not in stmt and "Task" not in stmt:
                continue
            for pattern, what in PATTERNS:
                if what == "capturing coroutine lambda":
                    if pattern.search(stmt):
                        findings.append(f"{path.relative_to(ROOT)}:{line}: {what}")
                    continue
                if "co_await" not in stmt:
                    continue
                whole = what in ("co_await inside an initializer",
                                 "co_await inside a conditional operator")
                after = stmt if whole else stmt[stmt.index("co_await"):]
                if pattern.search(after):
                    findings.append(f"{path.relative_to(ROOT)}:{line}: {what} inside co_await")
    for f in findings:
        print(f)
    if findings:
        print(f"lint: {len(findings)} finding(s); see the note in scripts/lint.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
