// web.mjs - the web pages in a real headless browser (Debian's Chromium through puppeteer-core,
// which never downloads a browser of its own). Run by tests/integration/test_web_browser.sh:
//   node web.mjs BASE_URL SCREENSHOT_DIR EXPECT_JSON
// EXPECT_JSON: {"listed": IP, "unlisted": IP, "ipv6": IP, "reason": "both", "days": {DATE: [traps, reports]},
//               "traponly": IP (listed on spam trap hits only), "testpoint": "127.0.0.2", "trapline": BINARY, "data": DIR,
//               "review": {"first": IP, "second": IP, "moderator": NAME, "password": PW, "dns_port": N,
//                          "zone": ZONE, "trapline": BINARY, "data": DIR}} (review.mjs)
// Prints "ok - ..." / "not ok - ..." lines and "N passed, M failed"; exits 1 on a failure.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import puppeteer from "puppeteer-core";
import { reviewFlow } from "./review.mjs";

const [base, shots, expectFile] = process.argv.slice(2);
const expect = JSON.parse(fs.readFileSync(expectFile, "utf8"));
let passed = 0, failed = 0;
const ok = (name) => { passed++; console.log(`ok - ${name}`); };
const fail = (name, ...detail) => {
  failed++;
  console.log(`not ok - ${name}`);
  for (const d of detail) console.log(`    # ${String(d).split("\n").join("\n    # ")}`);
};
const check = (name, cond, ...detail) => (cond ? ok(name) : fail(name, ...detail));

const profile = fs.mkdtempSync(path.join(os.tmpdir(), "trapline-chromium-"));
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  // The machine's network is closed: nothing of Chromium's own may try to reach out.
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         `--user-data-dir=${profile}`],
  timeout: 60000,
});
const deadline = setTimeout(() => { console.log("not ok - finished within 240 s"); process.exit(1); }, 240000);

try {
  const page = await browser.newPage();
  page.setDefaultTimeout(20000);
  const problems = [];
  // A page answered 400 or 404 on purpose is logged by Chromium as a failed load: what counts
  // is a stylesheet, icon or anything else under a page that fails, and any other error
  // (a Content-Security-Policy refusal among them).
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(m.text());
  });
  page.on("response", (r) => {
    if (r.request().resourceType() !== "document" && r.status() >= 400)
      problems.push(`${r.status()} for ${r.url()}`);
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  await page.setViewport({ width: 1280, height: 900 });

  // A person types an address into the box on the first page and presses the button.
  async function lookUp(what) {
    await page.goto(base + "/", { waitUntil: "load" });
    await page.type("#ip", what);
    const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: "load" }),
                                      page.click("form.lookup button")]);
    return resp;
  }
  const text = (sel) => page.$eval(sel, (e) => e.textContent.replace(/\s+/g, " ").trim()).catch(() => "");

  let resp = await lookUp(expect.listed);
  check("lookup of a listed address: 200", resp.status() === 200, resp.status());
  const verdict = await text("#verdict-h");
  check("lookup of a listed address: says it is listed", /is listed$/.test(verdict), verdict);
  const reason = await page.$eval("#reason .reason-name", (e) => e.dataset.reason).catch(() => "");
  check(`the reason is ${expect.reason}`, reason === expect.reason, reason);
  const meaning = await text("#meaning");
  check("the reason's meaning in plain words", /What it means: usually a compromised machine/.test(meaning), meaning);
  // The words and the advice are check --json's, one table for every reader.
  const words = async (ip) => {
    const want = JSON.parse(execFileSync(expect.trapline, ["check", ip, "--json", "--data", expect.data], { encoding: "utf8" })).meaning;
    const got = {
      what: await page.$eval("#meaning", (e) => e.dataset.what).catch(() => ""),
      usually: await text("#meaning strong"),
      advice: await page.$$eval("#advice li", (ls) => ls.map((l) => l.textContent.replace(/\s+/g, " ").trim())),
    };
    return [got, want];
  };
  let [got, want] = await words(expect.listed);
  check("the page's meaning and advice are check --json's", got.what === want.what && got.usually === want.usually &&
        JSON.stringify(got.advice) === JSON.stringify(want.advice), JSON.stringify(got), JSON.stringify(want));
  const expires = await text("#expires");
  check("when the listing ends by itself", /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/.test(expires), expires);
  check("the input stays in the box", (await page.$eval("#ip", (e) => e.value)) === expect.listed);

  // The chart: one bar group a day, the numbers as added, the listed period shaded.
  const days = await page.$$eval("svg.chart g.day", (gs) => gs.map((g) => [g.dataset.day, +g.dataset.traps, +g.dataset.reports]));
  check("the chart has 30 days", days.length === 30, days.length);
  const wrong = days.filter(([d, t, r]) => {
    const want = expect.days[d] || [0, 0];
    return want[0] !== t || want[1] !== r;
  });
  check("the chart's days hold the evidence that was added", wrong.length === 0, JSON.stringify(wrong), JSON.stringify(expect.days));
  const bars = await page.$$eval("svg.chart rect.traps, svg.chart rect.reports", (rs) => rs.filter((r) => r.getBBox().height > 0).length);
  const wantBars = Object.values(expect.days).reduce((n, [t, r]) => n + (t > 0) + (r > 0), 0);
  check("a visible bar for each kind on each day with evidence", bars === wantBars, `${bars} bars, want ${wantBars}`);
  const shaded = await page.$$eval("svg.chart rect.listed", (rs) => rs.map((r) => [r.dataset.to, r.getBBox().width]));
  check("the current listing is shaded", shaded.length === 1 && shaded[0][0] === "now" && shaded[0][1] > 0, JSON.stringify(shaded));
  const chartBox = await page.$eval("svg.chart", (s) => s.getBoundingClientRect().width);
  check("the chart is drawn (not zero width)", chartBox > 300, chartBox);

  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, "lookup-listed-desktop.png"), fullPage: true });
  await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await page.reload({ waitUntil: "load" });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check("phone width: nothing wider than the screen", overflow <= 0, `${overflow}px too wide`);
  await page.screenshot({ path: path.join(shots, "lookup-listed-phone.png"), fullPage: true });
  await page.setViewport({ width: 1280, height: 900 });

  // A listing on spamtrap hits that were spam: no word of bounces or backscatter.
  resp = await lookUp(expect.traponly);
  check("trap hits only: listed, reason traps, class spam",
        (await page.$eval("#reason .reason-name", (e) => `${e.dataset.reason}/${e.dataset.class}`).catch(() => "")) === "traps/spam");
  [got, want] = await words(expect.traponly);
  check("trap hits only, spam: the page's meaning and advice are check --json's", got.what === want.what &&
        got.usually === want.usually && JSON.stringify(got.advice) === JSON.stringify(want.advice), JSON.stringify(got), JSON.stringify(want));
  const why = await text("#reason") + " " + await text(".check");
  check("trap hits only, spam: nothing about bounces, backscatter or auto-responders", !/bounc|backscatter|auto-respond/i.test(why), why);
  await page.screenshot({ path: path.join(shots, "lookup-traps-spam-desktop.png"), fullPage: true });
  await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await page.reload({ waitUntil: "load" });
  check("trap hits only at phone width: nothing wider than the screen",
        (await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)) <= 0);
  await page.screenshot({ path: path.join(shots, "lookup-traps-spam-phone.png"), fullPage: true });
  await page.setViewport({ width: 1280, height: 900 });

  // The RFC 5782 test point: listed, as DNS says, with nothing of a listing's expiry or review.
  resp = await lookUp(expect.testpoint);
  check("the test point: listed", /127\.0\.0\.2 is listed$/.test(await text("#verdict-h")), await text("#verdict-h"));
  check("the test point: says it is the RFC 5782 test point", /RFC 5782 test point/.test(await text("#test-point")), await text("#test-point"));
  check("the test point: no expiry, no review form", (await page.$("#expires")) === null && (await page.$("form.review")) === null);
  await page.screenshot({ path: path.join(shots, "lookup-test-point-desktop.png"), fullPage: true });
  await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await page.reload({ waitUntil: "load" });
  check("the test point at phone width: nothing wider than the screen",
        (await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)) <= 0);
  await page.screenshot({ path: path.join(shots, "lookup-test-point-phone.png"), fullPage: true });
  await page.setViewport({ width: 1280, height: 900 });

  resp = await lookUp(expect.unlisted);
  check("lookup of an unlisted address: not listed", /is not listed$/.test(await text("#verdict-h")), await text("#verdict-h"));
  resp = await lookUp(expect.ipv6);
  const v6 = await text("#verdict-h");
  check("lookup of an IPv6 address: listed", v6.includes("is listed") && v6.includes(expect.ipv6.toLowerCase()), v6);
  resp = await lookUp("<b>not an address</b>");
  check("bad input: 400", resp.status() === 400, resp.status());
  const prob = await text("#problem h2");
  check("bad input: a clear message", prob === "That is not an IP address", prob);
  check("bad input: shown back as text, not markup", (await page.$$("#problem b")).length === 0 &&
        (await text("#problem .typed")) === "<b>not an address</b>");
  await page.screenshot({ path: path.join(shots, "lookup-bad-input-desktop.png") });

  // Every link of every page, followed: none broken.
  const seen = new Map();
  const queue = ["/"];
  while (queue.length && seen.size < 80) {
    const url = queue.shift();
    if (seen.has(url)) continue;
    const r = await page.goto(base + url, { waitUntil: "load" });
    seen.set(url, r.status());
    const ctype = r.headers()["content-type"] || "";
    if (!ctype.startsWith("text/html")) continue;
    const links = await page.$$eval("a[href], link[href]", (as) => as.map((a) => a.getAttribute("href")));
    for (const h of links) {
      const u = new URL(h, base + url);
      check(`${url}: link ${h} stays on the site`, u.origin === new URL(base).origin, u.href);
      if (u.origin === new URL(base).origin && !seen.has(u.pathname + u.search)) queue.push(u.pathname + u.search);
    }
  }
  const broken = [...seen].filter(([, s]) => s >= 400);
  check(`every link of every page answers (${seen.size} followed)`, broken.length === 0, JSON.stringify(broken));
  for (const p of ["/", "/about/end-users", "/about/listing", "/about/usage", "/about/warranty"])
    check(`${p} was reached by a link`, seen.has(p));
  await page.goto(base + "/about/listing", { waitUntil: "load" });
  await page.screenshot({ path: path.join(shots, "listing-desktop.png"), fullPage: true });
  await page.goto(base + "/", { waitUntil: "load" });
  await page.screenshot({ path: path.join(shots, "home-desktop.png"), fullPage: true });
  await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  for (const [p, name] of [["/about/end-users", "end-users-phone.png"], ["/about/usage", "usage-phone.png"]]) {
    await page.goto(base + p, { waitUntil: "load" });
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(`${p} at phone width: nothing wider than the screen`, wide <= 0, `${wide}px too wide`);
    await page.screenshot({ path: path.join(shots, name), fullPage: true });
  }
  // The review path of issue 14: form, ticket, queue, delist, reject (review.mjs).
  await reviewFlow({ page, base, shots, expect, check, problems });
  check("no console errors, blocked resources or failed requests (CSP keeps everything)", problems.length === 0, ...problems);
} catch (e) {
  fail("the browser run completes", e.stack || e);
} finally {
  clearTimeout(deadline);
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
