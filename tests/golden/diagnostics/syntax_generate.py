#!/usr/bin/env python3
"""Writes the syntax_*.nn golden inputs that are awkward to keep by hand: binary bytes,
100,000-deep nesting, a 1 MB line. Run from anywhere; the files go next to this script.
The matching .expected files are checked by tests/dsl/ParserGoldenTest.cpp
(NNC_BLESS=1 rewrites them; review the diff)."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
MLP_HEAD = "model deep\ninput image: f32[batch, 28, 28]\nflat = flatten(image)\n"


def write(name, data):
    with open(os.path.join(HERE, "syntax_" + name + ".nn"), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


write("empty_file", b"")
write("binary_file", b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00\x01\x00\x00\x00"
      + bytes(range(256)))
write("nul_byte", "model m\ninput x: f32[batch, 4]\ny = relu(x)\x00\x00\x00\n")
write("invalid_utf8", "model m\n# r\xe9sum\xe9 in a comment is fine\ninput x: f32[batch, 4]\n".encode()
      + b"y = relu(x) \xe9\n")
write("deep_nesting", MLP_HEAD + "h = " + "(" * 100000 + "flat" + ")" * 100000 + "\n")
# The other kinds of nesting: 10,000 deep is as good a test and keeps the files small.
write("deep_lists", MLP_HEAD + "shape = " + "[" * 10000 + "\n")
write("deep_minus", MLP_HEAD + "h = " + "-" * 10000 + "flat\n")
write("deep_calls", MLP_HEAD + "h = " + "relu(" * 10000 + "flat" + ")" * 10000 + "\n")
write("long_chain", MLP_HEAD + "h = flat" + " + flat" * 300 + "\n")
# One line of 1 MB: a list missing a comma near its end.
write("long_line", "model long_line\nweights = [" + ", ".join(["0.5"] * 209715) + " 0.5]\n")
