"""The README's Python example runs and prints what it says."""
import os
import re
import subprocess
import sys

from conftest import ROOT


def test_readme_example(name):
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    block = re.search(r"<!-- python-example:begin -->\n```python\n(.*?)```",
                      text, re.S).group(1)
    assert len(block.strip().splitlines()) <= 10
    code = block.replace('"hello"', repr(name))
    out = subprocess.run([sys.executable, "-c", code], check=True,
                         capture_output=True, text=True).stdout
    assert out == "0 b'hi there'\n"
