"""Make layouts/assets/fonts/ again from the npm package @fontsource/noto-sans-sc.

Screens must not depend on the display PC's fonts (issue 8): every view loads Noto
Sans SC (SIL OFL 1.1) from our own server. The package slices the font into about
100 woff2 files by unicode-range; a browser fetches only the slices whose ranges the
page's text uses. We keep latin, the slices of the ~3,500 commonest hanzi (numbered
100-119, so a note typed into the emergency switch mostly renders too) and every
slice a label, a unit, a category or a district name of ours needs; in the two
weights the screens use (400, 700).

    cd "$(mktemp -d)" && npm pack @fontsource/noto-sans-sc && tar xzf fontsource-*.tgz
    .venv/bin/python docs/fonts.py "$OLDPWD/package"    # from the repository's root

tests/test_fonts.py fails when a new label needs a slice that is not kept: run this
again then.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FONTS = ROOT / "layouts" / "assets" / "fonts"
WEIGHTS = (400, 700)
COMMON = {f"[{n}]" for n in range(100, 120)}
ALWAYS = {"latin"} | COMMON
FACE = re.compile(
    r"/\* noto-sans-sc-(?P<subset>\S+)-(?P<weight>\d+)-normal \*/\s*(?P<face>@font-face \{.*?\})",
    re.S,
)
RANGE = re.compile(r"unicode-range: ([^;]+);")


def shown_text() -> str:
    """Every text our screens may show from the repository: labels, names, scripts."""
    sources = [*(ROOT / "layouts").rglob("*.py"), *(ROOT / "layouts" / "assets").glob("*.js")]
    sources += [*(ROOT / "dashboard" / "data").rglob("*.yaml")]
    return "".join(path.read_text(encoding="utf-8") for path in sources)


def ranges(face: str) -> list[tuple[int, int]]:
    """The code point ranges of an @font-face's unicode-range."""
    found = RANGE.search(face)
    assert found is not None, face
    spans = []
    for part in found.group(1).split(","):
        low, _, high = part.strip().removeprefix("U+").partition("-")
        spans.append((int(low, 16), int(high or low, 16)))
    return spans


def covers(spans: list[tuple[int, int]], text: set[str]) -> bool:
    """Whether any character of the text falls in the ranges."""
    return any(low <= ord(ch) <= high for ch in text for low, high in spans)


def main(package: Path) -> None:
    """Copy the slices we need and write fonts.css beside them."""
    version = json.loads((package / "package.json").read_text())["version"]
    wide = {ch for ch in shown_text() if ord(ch) > 0x7F}
    if FONTS.exists():
        shutil.rmtree(FONTS)
    FONTS.mkdir(parents=True)
    shutil.copy(package / "LICENSE", FONTS / "LICENSE")
    css = [
        f"/* Noto Sans SC {version} from @fontsource/noto-sans-sc (SIL OFL 1.1: LICENSE),\n"
        " * served by our server; made by docs/fonts.py, which says which slices are kept. */\n"
    ]
    for weight in WEIGHTS:
        for face in FACE.finditer((package / f"{weight}.css").read_text()):
            subset, body = face["subset"], face["face"]
            if subset not in ALWAYS and not covers(ranges(body), wide):
                continue
            name = f"noto-sans-sc-{subset.strip('[]')}-{weight}-normal.woff2"
            shutil.copy(package / "files" / name, FONTS / name)
            body = re.sub(r"src: [^;]+;", f"src: url(./{name}) format('woff2');", body)
            css.append(body + "\n")
    (FONTS / "fonts.css").write_text("".join(css))
    print(f"{len(css) - 1} faces into {FONTS}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
