#!/usr/bin/python3
"""`stodepth serve` in headless Chromium, watching a `launch` in progress.

usage: serve_browser_test.py path/to/stodepth ARTIFACT_DIR

A small synthetic sweep (4 runs, ~30 s on 2 cores) is launched in the background and served
on 127.0.0.1 with --port 0. Chromium (chromedriver + python3-selenium) checks:
  - the Sweeps page lists the sweep, its hostile description shown as text (no script runs);
  - the Sweep page lists every run (tr[data-key]) and a chart gains points without a reload
    while launch writes;
  - after launch: smoothing changes the drawn values (and none draws them as before), the
    log-scale checkbox changes the y axis;
  - the Report page's tables equal those `stodepth report` writes to HTML, cell for cell;
  - the Run page's curve.csv has every iteration, each row with the run key;
  - the Content-Security-Policy header forbids inline script, and Chromium enforces it;
  - no SEVERE browser console entry on any page; serving leaves the database's bytes as they
    were; SIGINT stops the server with exit 0.
Screenshots of every page go to ARTIFACT_DIR (sweep.png is the README's "Watching a sweep").
Exits 77 (CTest's skip) when chromium, chromedriver or selenium is missing.
"""
import base64
import contextlib
import hashlib
import html.parser
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
try:
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
except ImportError:
    print("SKIP: python3-selenium is not installed")
    sys.exit(77)
if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
    print("SKIP: chromium or chromium-driver is not installed")
    sys.exit(77)

SWEEP = "browser"
HOSTILE = '<script>alert("not run")</script><img src=x onerror=alert(1)> & <b>bold</b>'
SWEEP_YAML = f"""name: {SWEEP}
description: '{HOSTILE}'
base:
  dataset: {{name: synthetic, train_subset: 2000, test_subset: 500}}
  model: {{depth: 8}}
  stochastic_depth: {{rule: linear}}
  train: {{epochs: 3, batch: 64, lr: {{schedule: cosine, base: 0.05}}}}
  eval: {{every: 5, batch: 100}}
grid:
  stochastic_depth.p_L: [1.0, 0.5]
seeds: [1, 2]
"""


class Checks:
    def __init__(self):
        self.passes, self.failures = 0, []

    def __call__(self, what, ok, detail=""):
        if ok:
            self.passes += 1
        else:
            self.failures.append(what)
            print(f"FAIL: {what}" + (f" ({detail})" if detail else ""), flush=True)
        return ok


check = Checks()


def wait_until(what, predicate, timeout=30.0, interval=0.2):
    """The predicate's first truthy value within `timeout` seconds, else None (a failed check)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except Exception:  # the page is (re)drawing: an element may come and go
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            check(f"within {timeout:.0f} s: {what}", False)
            return None
        time.sleep(interval)


def sql(db, query):
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        return conn.execute(query).fetchall()


def file_digest(path):
    h = hashlib.sha256()
    for suffix in ("", "-wal"):
        if os.path.exists(path + suffix):
            with open(path + suffix, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


class TableText(html.parser.HTMLParser):
    """The text of every <table>'s cells, row by row, whitespace collapsed."""

    def __init__(self):
        super().__init__()
        self.tables, self.cell, self.depth = [], None, 0

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.depth += 1
            self.tables.append([])
        elif tag == "tr" and self.depth:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.depth:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.depth -= 1
        elif tag in ("td", "th") and self.cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def browser_tables(driver):
    return driver.execute_script(
        """return [...document.querySelectorAll('div#report table')].map(t =>
             [...t.querySelectorAll('tr')].map(r =>
               [...r.querySelectorAll('td,th')].map(c => c.textContent.split(/\\s+/)
                 .filter(Boolean).join(' '))));""")


def other_addresses():
    """This machine's IPv4 addresses outside loopback."""
    out = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout
    return [a for a in out.split() if "." in a and not a.startswith("127.")]


def reachable(address, port):
    try:
        socket.create_connection((address, port), timeout=2).close()
        return True
    except OSError:
        return False


def start_serve(stodepth, db, work):
    log = open(os.path.join(work, "serve.err"), "w")
    serve = subprocess.Popen([stodepth, "serve", "--db", db, "--port", "0"],
                             stdout=subprocess.PIPE, stderr=log, text=True)
    line = serve.stdout.readline().strip()  # the contract: one line once it listens
    match = re.fullmatch(r"serving (.+) at (http://([0-9.]+):([0-9]+)/)", line)
    if not check("serve prints 'serving <db> at http://<bind>:<port>/'", match, repr(line)):
        serve.kill()
        sys.exit(1)
    check("serve binds 127.0.0.1 by default", match.group(3) == "127.0.0.1", line)
    check("--port 0 picks a real port", match.group(4) != "0", line)
    check("nothing listens on the machine's other addresses",
          not any(reachable(address, int(match.group(4))) for address in other_addresses()))
    return serve, match.group(2)


def new_driver(window):
    # chromedriver, and selenium talking to it, address "localhost": say so plainly where it
    # does not resolve (a root without /etc/hosts) rather than "Can not connect to the Service".
    try:
        socket.getaddrinfo("localhost", None)
    except socket.gaierror as error:
        sys.exit(f"FAIL: 'localhost' does not resolve ({error}): chromedriver needs it; "
                 "add '127.0.0.1 localhost' to /etc/hosts")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", f"--window-size={window}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


class Pages:
    """Visits pages, keeps a full-page screenshot of each, checks each console log."""

    def __init__(self, driver, base, artifacts):
        self.driver, self.base, self.artifacts = driver, base, artifacts

    def open(self, path):
        self.driver.get(self.base + path.lstrip("/"))

    def no_alert(self, page):
        try:
            text = self.driver.switch_to.alert.text
            check(f"{page}: no script of the sweep's text ran", False, f"alert {text!r}")
        except NoAlertPresentException:
            check(f"{page}: no script of the sweep's text ran", True)

    def done(self, page, name):
        self.no_alert(page)
        # The whole page, not the window: the Sweep page's charts run far below it.
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 8000),
                "scale": 1}
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True, "clip": clip})
        with open(os.path.join(self.artifacts, name), "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        severe = [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]
        check(f"{page}: no SEVERE console entry", not severe, "; ".join(severe))


def chart_state(driver, chart_id):
    return driver.execute_script(
        """const c = document.getElementById(arguments[0]);
           if (!c) return null;
           return {points: Number(c.getAttribute('data-points') || 0),
                   drawn: c.getAttribute('data-drawn'),
                   logscale: c.getAttribute('data-logscale'),
                   ylabels: [...c.querySelectorAll('.dygraph-axis-label-y')]
                              .map(e => e.textContent).join('|')};""", chart_id)


def sweep_page(pages, db, launch):
    driver = pages.driver
    pages.open(f"/sweep/{SWEEP}")
    keys = {k for (k,) in sql(db, "SELECT key FROM runs")}
    shown = wait_until("the Sweep page lists every run",
                       lambda: {e.get_attribute("data-key") for e in driver.find_elements(
                           By.CSS_SELECTOR, "table#jobs tr[data-key]")} == keys and keys)
    check("tr[data-key] are the database's run keys", shown, str(keys))
    charts = driver.execute_script(
        "return [...document.querySelectorAll('div[id^=chart-]')].map(e => e.id)")
    check("the Sweep page has a training-loss chart", "chart-train_loss" in charts, str(charts))
    chart = "chart-train_loss" if "chart-train_loss" in charts else (charts or ["none"])[0]
    first = wait_until("the chart draws points", lambda: chart_state(driver, chart)["points"])
    driver.execute_script("window.notReloaded = true;")  # a reload would lose it
    grown = wait_until("the chart gains points without a reload while launch runs",
                       lambda: (chart_state(driver, chart)["points"] or 0) > (first or 0),
                       timeout=40)
    check("the chart grew while launch was still running", grown and launch.poll() is None)
    check("the page was not reloaded", driver.execute_script("return window.notReloaded === true"))
    return chart


def stable_drawn(driver, chart):
    """data-drawn once two reads 1 s apart agree (the page redraws on its polls)."""
    def settled():
        a = chart_state(driver, chart)["drawn"]
        time.sleep(1.0)
        b = chart_state(driver, chart)["drawn"]
        return a if a and a == b else None
    return wait_until(f"{chart} settles", settled, timeout=20)


def controls(pages, chart):
    driver = pages.driver
    smoothing = Select(driver.find_element(By.CSS_SELECTOR, "select#smoothing"))
    smoothing.select_by_value("none")
    plain = stable_drawn(driver, chart)
    smoothing.select_by_value("ewma")
    smoothed = wait_until("EWMA smoothing changes data-drawn",
                          lambda: chart_state(driver, chart)["drawn"] not in (None, plain))
    smoothing.select_by_value("box")
    wait_until("box smoothing changes data-drawn",
               lambda: chart_state(driver, chart)["drawn"] not in (None, plain, smoothed))
    smoothing.select_by_value("none")
    wait_until("smoothing none draws the values as before",
               lambda: chart_state(driver, chart)["drawn"] == plain)

    before = chart_state(driver, chart)
    logscale = driver.find_element(By.CSS_SELECTOR, "input#logscale")
    was = logscale.is_selected()
    logscale.click()
    if before["logscale"] is not None:  # the page exposes dygraph's logscale option
        wait_until("input#logscale toggles the chart's data-logscale",
                   lambda: chart_state(driver, chart)["logscale"] not in (None, before["logscale"]))
    else:  # else the y axis ticks (a log axis labels other values)
        wait_until("input#logscale changes the y axis labels",
                   lambda: chart_state(driver, chart)["ylabels"] not in ("", before["ylabels"]))
    check("input#logscale is a checkbox that toggles", logscale.is_selected() != was)
    logscale.click()
    if before["logscale"] is not None:
        wait_until("unticking input#logscale restores data-logscale",
                   lambda: chart_state(driver, chart)["logscale"] == before["logscale"])
    else:
        wait_until("unticking input#logscale restores the linear y axis labels",
                   lambda: chart_state(driver, chart)["ylabels"] == before["ylabels"])


def report_page(pages, stodepth, db, work):
    driver = pages.driver
    out = os.path.join(work, "report.html")
    subprocess.run([stodepth, "report", "--db", db, "--sweep", SWEEP, "-o", out], check=True,
                   stdout=subprocess.DEVNULL)
    parser = TableText()
    with open(out, encoding="utf-8") as f:
        parser.feed(f.read())
    expected = [t for t in parser.tables if t]
    pages.open(f"/sweep/{SWEEP}/report")
    shown = wait_until("the Report page shows tables", lambda: browser_tables(driver))
    check("the Report page's tables are `stodepth report`'s", shown == expected,
          f"{len(shown or [])} tables vs {len(expected)}; first difference: " +
          next((f"{a} != {b}" for a, b in zip(shown or [], expected) if a != b), "in count"))
    linked = {a.get_attribute("href").rsplit("/", 1)[-1] for a in driver.find_elements(
        By.CSS_SELECTOR, "a[href^='/run/']")}
    keys = {k for (k,) in sql(db, "SELECT key FROM runs")}
    check("the Report page links to every run", keys <= linked, f"{keys - linked} not linked")


def csp_and_escaping(pages, db):
    driver = pages.driver
    with urllib.request.urlopen(pages.base) as response:
        csp = response.headers.get("Content-Security-Policy", "")
        body = response.read().decode("utf-8")
    check("pages send CSP default-src 'self'", "default-src 'self'" in csp, csp)
    directives = {}
    for directive in csp.split(";"):
        name, *sources = directive.split() or [""]
        directives[name] = sources
    scripts = directives.get("script-src", directives.get("default-src", []))
    check("the CSP allows scripts of the page's own origin only", scripts == ["'self'"], csp)
    inline = (re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body) or
              re.search(r"<[^>]*\son\w+\s*=", body))
    check("the Sweeps page has no inline script or handler", not inline,
          inline.group(0) if inline else "")
    pages.open("/")
    ran = driver.execute_script(
        """window.inlineRan = false;
           const s = document.createElement('script');
           s.textContent = 'window.inlineRan = true;';
           document.body.appendChild(s);
           return window.inlineRan;""")
    check("Chromium blocks an inline script under the page's CSP", ran is False)
    driver.get_log("browser")  # the refusal just provoked is expected


def run_and_compare(pages, db):
    key, iterations = sql(db, "SELECT run, count(*) FROM iterations GROUP BY run LIMIT 1")[0]
    pages.open(f"/run/{key}")
    wait_until("the Run page names its run", lambda: key in pages.driver.page_source)
    pages.done("Run page", "run.png")
    with urllib.request.urlopen(f"{pages.base}run/{key}/curve.csv") as response:
        rows = response.read().decode("utf-8").strip().splitlines()
    check("curve.csv has a header and every iteration", len(rows) >= iterations + 1,
          f"{len(rows)} lines, {iterations} iterations")
    check("every curve.csv row holds the run key", all(key in r for r in rows[1:]))
    keys = [k for (k,) in sql(db, "SELECT key FROM runs ORDER BY key LIMIT 3")]
    pages.open("/compare?runs=" + ",".join(keys))
    wait_until("the Compare page draws points", lambda: pages.driver.execute_script(
        "return [...document.querySelectorAll('[data-points]')]"
        ".some(e => Number(e.getAttribute('data-points')) > 0)"))
    pages.done("Compare page", "compare.png")


def main():
    stodepth, artifacts = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    shutil.rmtree(artifacts, ignore_errors=True)
    os.makedirs(artifacts)
    work = tempfile.mkdtemp(prefix="serve_browser.")
    db = os.path.join(work, "results.db")
    with open(os.path.join(work, "sweep.yaml"), "w") as f:
        f.write(SWEEP_YAML)
    launch = subprocess.Popen([stodepth, "launch", os.path.join(work, "sweep.yaml"), "--db", db,
                               "--quiet"], stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(work, "launch.err"), "w"))
    serve = driver = None
    try:
        wait_until("launch records iterations",
                   lambda: os.path.exists(db) and sql(db, "SELECT count(*) FROM iterations")[0][0],
                   timeout=120)
        serve, base = start_serve(stodepth, db, work)
        driver = new_driver("1280,900")
        pages = Pages(driver, base, artifacts)

        pages.open("/")
        wait_until("the Sweeps page lists the sweep",
                   lambda: SWEEP in driver.find_element(By.TAG_NAME, "body").text)
        wait_until("the Sweeps page fills in the sweep's progress (a live update)",
                   lambda: re.search(r"\d+ / \d+", driver.find_element(By.TAG_NAME, "body").text))
        text = driver.find_element(By.TAG_NAME, "body").text
        check("the hostile description is shown as text", HOSTILE in text, text[:300])
        check("no element came from the description", not driver.find_elements(
            By.CSS_SELECTOR, "img[src=x], b"))
        pages.done("Sweeps page", "sweeps.png")

        chart = sweep_page(pages, db, launch)
        pages.done("Sweep page (launch running)", "sweep-running.png")
        check("launch exits 0", launch.wait(timeout=300) == 0)
        unchanged = file_digest(db)
        pages.open(f"/sweep/{SWEEP}")
        wait_until("the Sweep page draws after launch",
                   lambda: chart_state(driver, chart)["points"])
        controls(pages, chart)
        pages.done("Sweep page", "sweep.png")

        report_page(pages, stodepth, db, work)
        pages.done("Report page", "report.png")
        run_and_compare(pages, db)
        csp_and_escaping(pages, db)

        serve.send_signal(signal.SIGINT)
        check("serve exits 0 on SIGINT", serve.wait(timeout=15) == 0)
        check("serving left the database's bytes unchanged", file_digest(db) == unchanged)
    finally:
        if driver:
            driver.quit()
        for process in (serve, launch):
            if process and process.poll() is None:
                process.kill()
                process.wait()
        if check.failures:
            for log in ("serve.err", "launch.err"):
                path = os.path.join(work, log)
                if os.path.exists(path):
                    print(f"--- {log}:\n" + open(path).read()[-3000:])
        shutil.rmtree(work, ignore_errors=True)
    print(f"{check.passes} passed, {len(check.failures)} failed; screenshots in {artifacts}")
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
