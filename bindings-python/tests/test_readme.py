"""The README's complete example runs as written."""

from __future__ import annotations

import pathlib
import re


def test_readme_example_runs() -> None:
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    example = next(b for b in blocks if "keyplane.Keyring()" in b)
    exec(compile(example, "README.md", "exec"), {"__name__": "readme_example"})
