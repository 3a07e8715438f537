"""The documentation site in a real browser: headless Chromium over ``file://``, no server.

Every page loads without console errors, every image has rendered, internal links resolve,
the search finds "concurrence", MathJax typesets offline, and a click on the interactive phase
diagram shows exactly what ``qkit theory`` prints for that point. Screenshots of the home page
and the interactive page are saved in a temporary folder (``$QKIT_DOCS_SCREENSHOTS`` if set).

The site is ``docs/_build/html``, built by ``make docs`` (CI builds it before the tests). The
suite never builds it itself: a build writes into the source tree (``docs/_generated``,
``docs/_build``) and the tests write only into temporary folders. Skipped when the site is not
built, or Chromium or chromedriver is not installed (``.ci/install-browser``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("QKIT_DOCS_HTML", REPO / "docs" / "_build" / "html"))

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
CHROMIUM = next(
    filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None
)
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None or CHROMEDRIVER is None,
        reason="chromium and chromedriver are not installed (.ci/install-browser)",
    ),
]


def _qkit(*argv: str) -> str:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-m", "qkit.cli", *argv], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def site() -> Path:
    if not (SITE / "index.html").exists():
        pytest.skip(f"the site is not built ({SITE}): make docs")
    return SITE


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1100",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(60)
    yield browser
    browser.quit()


def _pages(site: Path) -> list[Path]:
    skip = {"_static", "_sources", "_images"}
    return sorted(p for p in site.rglob("*.html") if not skip & set(p.relative_to(site).parts))


def _load(driver, url: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def _severe(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


@cache
def _ids(path: Path) -> frozenset[str]:
    return frozenset(re.findall(r'\sid="([^"]+)"', path.read_text(encoding="utf-8")))


def test_every_page_loads_renders_its_images_and_links_resolve(site, driver):
    from selenium.webdriver.support.ui import WebDriverWait

    pages = _pages(site)
    assert len(pages) > 20, [p.name for p in pages]
    problems = []
    for page in pages:
        _load(driver, page.as_uri())
        name = page.relative_to(site)
        # images: wait until loaded, then every one must have a natural width
        WebDriverWait(driver, 20).until(
            lambda d: d.execute_script("return Array.from(document.images).every(i => i.complete)")
        )
        broken = driver.execute_script(
            "return Array.from(document.images).filter(i => !(i.naturalWidth > 0))"
            ".map(i => i.getAttribute('src'))"
        )
        problems += [f"{name}: image {src} did not render" for src in broken]
        for href in driver.execute_script(
            "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"
        ):
            parts = urlsplit(href)
            if parts.scheme != "file":
                continue
            target = Path(unquote(parts.path))
            if not target.exists():
                problems.append(f"{name}: link to missing {target}")
            elif parts.fragment and target.suffix == ".html":
                if unquote(parts.fragment) not in _ids(target):
                    problems.append(f"{name}: link to missing anchor {href}")
        problems += [f"{name}: console: {m}" for m in _severe(driver)]
    assert not problems, "\n".join(problems[:40])


def test_math_is_typeset_offline(site, driver):
    from selenium.webdriver.support.ui import WebDriverWait

    _load(driver, (site / "physics.html").as_uri())
    scripts = driver.execute_script(
        "return Array.from(document.scripts).map(s => s.src).filter(s => /mathjax/i.test(s))"
    )
    assert scripts and all(s.startswith("file://") for s in scripts), scripts
    WebDriverWait(driver, 30).until(
        lambda d: (
            d.execute_script("return document.querySelectorAll('mjx-container svg').length") > 20
        )
    )
    errors = driver.execute_script("return document.querySelectorAll('mjx-merror').length")
    assert errors == 0
    assert not _severe(driver)


def test_search_finds_concurrence(site, driver):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _load(driver, (site / "search.html").as_uri() + "?q=concurrence")
    WebDriverWait(driver, 60).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#search-results li")) > 0
    )
    hits = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#search-results li a")]
    assert any("physics" in h.lower() or "theory" in h.lower() for h in hits), hits
    assert not _severe(driver)


def _click_canvas(driver, canvas_id: str, x: float, y: float) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    canvas = driver.find_element(By.ID, canvas_id)
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", canvas
    )
    width, height = driver.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return [r.width, r.height]", canvas
    )
    ActionChains(driver).move_to_element_with_offset(
        canvas, round(x - width / 2), round(y - height / 2)
    ).click().perform()


@pytest.mark.parametrize(("success", "amplitude"), [(0.5, 0.3), (0.37, 0.42), (0.9, 0.71)])
def test_phase_diagram_click_shows_what_qkit_theory_prints(site, driver, success, amplitude):
    from selenium.webdriver.common.by import By

    _load(driver, (site / "phase-diagram.html").as_uri())
    x, y = driver.execute_script(
        "return window.qkitPhase.pixelOf(arguments[0], arguments[1])", success, amplitude
    )
    _click_canvas(driver, "qkit-phase-mixup", x, y)
    shown = driver.find_element(By.ID, "qkit-phase-mixup-output").text
    printed = _qkit("theory", "mixup", "--success", str(success), "--amplitude", str(amplitude))
    for quantity in ("concurrence", "chsh_max"):
        line = next(ln for ln in printed.splitlines() if ln.split()[0] == quantity)
        assert line.strip() in [ln.strip() for ln in shown.splitlines()], (quantity, shown)
    assert shown.split() == printed.split()
    assert not _severe(driver)


def test_phase_diagram_eta_click_and_sampled_estimates(site, driver):
    from selenium.webdriver.common.by import By

    _load(driver, (site / "phase-diagram.html").as_uri())
    x, y = driver.execute_script("return window.qkitPhase.pixelOfEta(0.5)")
    _click_canvas(driver, "qkit-phase-channel", x, y)
    shown = driver.find_element(By.ID, "qkit-phase-channel-output").text
    assert shown.split() == _qkit("theory", "channel", "--eta", "0.5").split()
    assert "mutual information" in driver.find_element(By.ID, "qkit-phase-channel-sample").text
    # a point the shipped sweep sampled shows its estimates with intervals
    x, y = driver.execute_script("return window.qkitPhase.pixelOf(0.5, 0.3)")
    _click_canvas(driver, "qkit-phase-mixup", x, y)
    sample = driver.find_element(By.ID, "qkit-phase-mixup-sample").text
    assert re.search(r"concurrence\s+[\d.]+ \[[\d.]+, [\d.]+\]", sample), sample


def test_gallery_shows_every_figure_qkit_reproduce_drew(site, driver):
    import json

    from selenium.webdriver.common.by import By

    run = json.loads((site.parent / "gallery" / "results.json").read_text())
    _load(driver, (site / "reproduce-gallery.html").as_uri())
    images = driver.find_elements(By.CSS_SELECTOR, "figure img")
    assert len(images) == len(run["figures"]) >= 8
    captions = driver.find_elements(By.CSS_SELECTOR, "figure figcaption")
    shown = " ".join(" ".join(c.text.split()) for c in captions)
    for fig in run["figures"]:
        assert " ".join(fig["caption"].split())[:60] in shown, fig["name"]


def test_screenshots_of_home_and_phase_diagram(site, driver, tmp_path):
    chosen = os.environ.get("QKIT_DOCS_shots")
    shots = Path(chosen) if chosen else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    driver.set_window_size(1400, 1100)
    _load(driver, (site / "index.html").as_uri())
    assert driver.save_screenshot(str(shots / "home.png"))
    _load(driver, (site / "phase-diagram.html").as_uri())
    driver.execute_script(
        "document.getElementById('qkit-phase')"
        ".scrollIntoView({block: 'start', behavior: 'instant'});"
        "window.scrollBy({top: -40, behavior: 'instant'})"
    )
    assert driver.save_screenshot(str(shots / "phase-diagram.png"))
    assert (shots / "home.png").stat().st_size > 10_000


@pytest.mark.parametrize("page", ["api/qkit.mixup.theory.html", "api/qkit.channel.theory.html"])
def test_api_formulas_are_typeset_as_maths(site, driver, page):
    """The theory modules' ASCII formulas (``C = max(0, 2 S a sqrt(1-a^2) ...)``) are maths on
    the API pages (docs/_ext/qkit_math.py), typeset without a MathJax error."""
    from selenium.webdriver.support.ui import WebDriverWait

    _load(driver, (site / page).as_uri())
    WebDriverWait(driver, 30).until(
        lambda d: (
            d.execute_script("return document.querySelectorAll('mjx-container svg').length") > 10
        )
    )
    assert driver.execute_script("return document.querySelectorAll('mjx-merror').length") == 0
    source = (site / page).read_text(encoding="utf-8")
    assert "sqrt(" not in re.sub(r"<pre.*?</pre>", "", source, flags=re.S)  # no ASCII maths left
    assert not _severe(driver)


@pytest.mark.parametrize(
    ("typed_s", "typed_a"), [("1.5", "0.3"), ("0", "0.3"), ("0.5", "1.2"), ("-0.1", "0.3")]
)
def test_phase_diagram_refuses_what_the_command_line_refuses(site, driver, typed_s, typed_a):
    from selenium.webdriver.common.by import By

    _load(driver, (site / "phase-diagram.html").as_uri())
    for field, value in (("qkit-phase-S", typed_s), ("qkit-phase-a", typed_a)):
        box = driver.find_element(By.ID, field)
        box.clear()
        box.send_keys(value)
    driver.execute_script("document.querySelector('#qkit-phase-mixup-form button').click()")
    shown = driver.find_element(By.ID, "qkit-phase-mixup-output").text
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-m", "qkit.cli", "theory", "mixup", "--success", typed_s]
        + ["--amplitude", typed_a],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 2 and shown == done.stderr.strip(), (shown, done.stderr)
    assert not _severe(driver)


def test_phase_diagram_is_large_with_a_smooth_chsh_line(site, driver):
    _load(driver, (site / "phase-diagram.html").as_uri())
    width = driver.execute_script("return document.getElementById('qkit-phase-mixup').width")
    line = driver.execute_script("return window.QKIT_PHASE.mixup.chsh_line")
    assert width >= 600
    points = [p for p in line if p is not None]
    assert len(points) > 500  # far finer than the 0.01 grid of the cells
    assert len({round(s, 6) for s, _ in points}) > 100  # S varies along it: not a staircase
