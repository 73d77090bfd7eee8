"""The walkthrough page in a real browser: headless Chromium driven by Selenium.

Each test opens a saved page from disk, steps through the whole forward and
backward pass with the arrow keys (no click first) and the buttons, reads the
panel and the gradients on the picture at every step, and compares them with
`.steps` and with the `.grad` that `backward()` fills. Needs Debian's
`chromium` and `chromium-driver` and the `browser` extra (selenium); when one
is missing the test fails with the command that installs it.
"""

import json
import os
import re
import shutil
import tempfile

import numpy as np
import pytest

from autograd import walkthrough
from autograd.graph_reading import format_number, summarize
from tests.support.walkthrough_cases import paths_meet, tensor_mlp, worked_example

pytestmark = pytest.mark.slow  # drives a headless browser

INSTALL = (
    "apt-get install chromium chromium-driver (Debian/Ubuntu) and "
    "pip install -e '.[browser]' (selenium); `make setup` and .ci/run do both"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1300,800",
]


def find_program(*names):
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(f"the browser tests need {' or '.join(names)}, which is not installed: {INSTALL}")


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail(f"the browser tests need selenium, which is not installed: {INSTALL}")
    options = webdriver.ChromeOptions()
    options.binary_location = find_program("chromium", "chromium-browser")
    profile = tempfile.mkdtemp(prefix="walkthrough-chromium-")  # a fresh profile every run
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=find_program("chromedriver")))
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


# What the page shows, read from its DOM in one call: the position, the panel's lines, the
# text of every gradient on the picture and the highlighted vertices and edges.
READ_PAGE = """
var grads = {};
document.querySelectorAll("#graph g.node").forEach(function (g) {
  var t = g.querySelector("text.grad");
  if (t) grads[g.querySelector("title").textContent] = t.textContent;
});
var current = [];
document.querySelectorAll("#graph .current").forEach(function (g) {
  current.push(g.querySelector("title").textContent);
});
return {position: document.getElementById("position").textContent,
        lines: Array.from(document.querySelectorAll("#lines li")).map(function (li) { return li.textContent; }),
        grads: grads, current: current.sort()};
"""


def open_page(browser, walk, tmp_path, name):
    path = walk.save(tmp_path / f"{name}.html")
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get_log("performance")
    browser.get("file://" + os.path.abspath(path))
    return browser.execute_script(READ_PAGE)


def press(browser, key):
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).send_keys(key).perform()  # to the page itself: nothing was clicked
    return browser.execute_script(READ_PAGE)


def click(browser, button):
    from selenium.webdriver.common.by import By

    browser.find_element(By.ID, button).click()
    return browser.execute_script(READ_PAGE)


def number(text):
    return float(text)


def check_step_numbers(step, lines):
    """The panel's numbers for a scalar backward step equal the step's fields."""
    assert lines == step.text
    if step.phase != "backward" or not step.op:
        return
    assert number(re.fullmatch(r"upstream d\S+ = (\S+)", lines[1]).group(1)) == pytest.approx(step.upstream, rel=1e-5)
    for parent, line, running in zip(step.to_parents, lines[2::2], lines[3::2]):
        local, upstream, sent = re.search(r"= (\S+); upstream (\S+); sends (\S+)$", line).groups()
        assert number(local) == pytest.approx(step.local[parent], rel=1e-5, abs=1e-12)
        assert number(upstream) == pytest.approx(step.upstream, rel=1e-5)
        assert number(sent) == pytest.approx(step.to_parents[parent], rel=1e-5, abs=1e-12)
        total = re.search(r"(\S+)(   \(paths meet\))?$", running).group(1)
        assert number(total) == pytest.approx(step.accumulated[parent], rel=1e-5, abs=1e-12)


def check_no_network_and_no_errors(browser, page_url):
    resources = browser.execute_script("return performance.getEntriesByType('resource').length")
    assert resources == 0, "the page loaded a resource"
    requests = [
        json.loads(e["message"])["message"]["params"]
        for e in browser.get_log("performance")
        if "Network.requestWillBeSent" in e["message"]
    ]
    # the browser's own new-tab page reads chrome:// and data: URLs; nothing may go to the network
    assert not [
        r["request"]["url"] for r in requests if not r["request"]["url"].startswith(("file:", "chrome:", "data:"))
    ]
    from_page = [r["request"]["url"] for r in requests if r["documentURL"].startswith("file:")]
    assert len(from_page) == 1 and from_page[0].endswith(page_url), from_page  # the page itself, from disk
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert not errors, f"the page logged: {errors}"


def walk_through(browser, walk, tmp_path, name, check):
    """Every step forwards by keyboard, back by the button, forwards again by the button."""
    from selenium.webdriver.common.keys import Keys

    state = open_page(browser, walk, tmp_path, name)
    n = len(walk.steps)
    seen = [state]
    for _ in range(1, n):
        seen.append(press(browser, Keys.ARROW_RIGHT))
    assert press(browser, Keys.ARROW_RIGHT) == seen[-1]  # the last step stays
    for k, (step, state) in enumerate(zip(walk.steps, seen)):
        assert state["position"] == f"step {k + 1} of {n} ({step.phase})"
        check(step, state)
    for k in range(n - 2, -1, -1):  # back: the same states
        assert click(browser, "prev") == seen[k], f"stepping back to step {k + 1}"
    for k in range(1, n):
        assert click(browser, "next") == seen[k]
    assert press(browser, Keys.HOME) == seen[0] and press(browser, Keys.END) == seen[-1]
    assert press(browser, Keys.ARROW_LEFT) == seen[-2]
    check_no_network_and_no_errors(browser, f"{name}.html")
    return seen


def grads_on_picture(walk, final_state):
    vertex_of = walk.vertex_of()
    return {name: final_state["grads"][v] for name, v in vertex_of.items() if v in final_state["grads"]}


def test_worked_example_in_the_browser(browser, tmp_path):
    f, (x, w, b) = worked_example()
    walk = walkthrough(f)
    seen = walk_through(
        browser, walk, tmp_path, "worked_example", lambda step, state: check_step_numbers(step, state["lines"])
    )
    f.backward()
    final = grads_on_picture(walk, seen[-1])
    assert final["w"] == "grad 0.25" and final["b"] == "grad 0.25" and final["x"] == "grad 0"
    for name, node in (("w", w), ("b", b), ("x", x)):
        assert number(final[name].split()[1]) == node.grad
    assert seen[-1]["lines"][-1] == "df/dw = 0.25   (w.grad)"
    assert seen[-1]["current"] == [walk.vertex_of()["w"]]
    first_backward = next(s for s in seen if "backward" in s["position"])
    assert first_backward["lines"][2] == "df/dh5 = -1/h5^2 = -0.25; upstream 1; sends -0.25"
    assert all(g == "grad ·" for g in seen[0]["grads"].values())  # before the backward pass
    fitted = "return document.querySelector('#graph svg').classList.contains('fit')"
    assert browser.execute_script(fitted)  # a small picture opens fitted to the page
    assert click(browser, "zoom") == seen[-2] and not browser.execute_script(fitted)  # walk_through ends one back
    shot = tmp_path / "last_step.png"
    browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_paths_meet_in_the_browser(browser, tmp_path):
    y, (a,) = paths_meet()
    walk = walkthrough(y)
    seen = walk_through(
        browser, walk, tmp_path, "paths_meet", lambda step, state: check_step_numbers(step, state["lines"])
    )
    running = [
        number(s["grads"][walk.vertex_of()["a"]].split()[1])
        for s in seen
        if s["grads"][walk.vertex_of()["a"]] != "grad ·"
    ]
    assert len(set(running)) == 3  # three paths arrive one after the other
    y.backward()
    assert running[-1] == pytest.approx(a.grad, rel=1e-3)  # the picture has 4 digits
    assert sum("(paths meet)" in line for s in seen for line in s["lines"]) >= 2


def test_tensor_mlp_in_the_browser(browser, tmp_path):
    loss, params = tensor_mlp()
    walk = walkthrough(loss)
    seen = walk_through(
        browser,
        walk,
        tmp_path,
        "tensor_mlp",
        lambda step, state: (
            (lambda: None)() if state["lines"] == step.text else pytest.fail(f"panel {state['lines']} != {step.text}")
        ),
    )
    loss.backward()
    final = grads_on_picture(walk, seen[-1])
    leaves = {s.node: s for s in walk.steps if s.phase == "backward" and not s.op}
    by_shape = {p.shape: p for p in params}
    for name in leaves:
        grad = by_shape[np.shape(leaves[name].upstream)].grad
        assert final[name] == "grad " + summarize(grad)  # 4 digits, as draw_graph writes it
    loss_value = next(s for s in seen if "backward" in s["position"])
    assert loss_value["lines"][1] == "upstream dloss/dloss = 1"
    assert format_number(1.0) == "1"


def test_notebook_display_runs_in_a_sandboxed_iframe(browser, tmp_path):
    """What Jupyter shows: _repr_html_ inside a host page. The page runs in the iframe's own
    document with scripts allowed and nothing else (as VS Code's and JupyterLab's output
    sandboxes give it), so the buttons and the panel work there too."""
    from selenium.webdriver.common.by import By

    f, _ = worked_example()
    walk = walkthrough(f)
    host = tmp_path / "notebook_output.html"
    host.write_text(f"<!DOCTYPE html><html><body><h1>Out[1]:</h1>{walk._repr_html_()}</body></html>", encoding="utf-8")
    browser.get_log("browser")
    browser.get("file://" + str(host))
    browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
    try:
        assert browser.execute_script(READ_PAGE)["lines"] == walk.steps[0].text
        for k in range(1, len(walk.steps)):
            state = click(browser, "next")
            assert state["lines"] == walk.steps[k].text
        assert state["grads"][walk.vertex_of()["w"]] == "grad 0.25"
    finally:
        browser.switch_to.default_content()
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_a_missing_browser_fails_with_the_install_command():
    with pytest.raises(pytest.fail.Exception, match=r"no-such-chromium.*apt-get install chromium chromium-driver"):
        find_program("no-such-chromium")
