// review.mjs - the review path of issues 14 and 19 in the real browser, as its people live it: the
// owner of a listed address files a request from the lookup page and follows its ticket; a second
// request about the same address joins it (the form says so first); a pasted bounce with angle
// brackets is taken as text; a moderator
// logs in, reads the request beside the evidence, delists (the address leaves DNS, the audit log
// and the ticket page say so), rejects another, and logs out. Screenshots of the form, the ticket
// page and the queue at desktop and phone width. Called by web.mjs with its page and checks.
import { execFileSync } from "node:child_process";
import path from "node:path";

const phone = { width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const desktop = { width: 1280, height: 900 };

export async function reviewFlow({ page, base, shots, expect, check, problems }) {
  const r = expect.review;
  const text = (sel) => page.$eval(sel, (e) => e.textContent.replace(/\s+/g, " ").trim()).catch(() => "");
  const dig = (ip) => execFileSync("dig", ["@127.0.0.1", "-p", String(r.dns_port), "+short", "+time=1", "+tries=1",
    ip.split(".").reverse().join(".") + "." + r.zone, "A"], { encoding: "utf8" }).trim();
  const trapline = (...args) => execFileSync(r.trapline, [...args, "--data", r.data], { encoding: "utf8" });
  // Any dialog would be a script that ran: the pages have none, and the CSP allows none.
  page.on("dialog", async (d) => { problems.push(`a dialog opened: ${d.message()}`); await d.dismiss(); });
  const shot = async (name, full = true) => {
    await page.screenshot({ path: path.join(shots, name), fullPage: full });
  };
  const fitsPhone = async (what) => {
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(`${what} at phone width: nothing wider than the screen`, wide <= 0, `${wide}px too wide`);
  };
  const submit = async (sel) => {
    const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(sel)]);
    return resp;
  };

  // ---- the owner of 193.0.2.44 asks for a review ----
  // (A change between phone and desktop emulation reloads the page, so the phone's look at the
  // form comes first, before anything is typed.)
  await page.setViewport(phone);
  await page.goto(`${base}/lookup?ip=${r.first}`, { waitUntil: "load" });
  await fitsPhone("the lookup page with the form");
  await (await page.$("#review")).screenshot({ path: path.join(shots, "review-form-phone.png") });
  await page.setViewport(desktop);
  await page.goto(`${base}/lookup?ip=${r.first}`, { waitUntil: "load" });
  check("the lookup page of a listed address has the review form", (await page.$("form.review")) !== null);
  await page.type("#email", "postmaster@example.org");
  await page.type("#fixed", "A contact form on our web server sent spam.\nWe removed it on Monday; the queue is empty since.");
  await page.type("#comment", "Our customers' mail bounces \"550 listed\" & we'd like it back < tomorrow.");
  await (await page.$("#review")).screenshot({ path: path.join(shots, "review-form-desktop.png") });
  let resp = await submit("form.review button[type=submit]");
  check("sending the form lands on the request's page (200)", resp.status() === 200, resp.status());
  const ticketUrl = page.url();
  const first = (ticketUrl.match(/\/ticket\/([0-9a-f]{32})$/) || [])[1];
  check("its address is /ticket/ and 32 hex digits", !!first, ticketUrl);
  check("it waits for a moderator", /Waiting for a moderator/.test(await text("#status-h")), await text("#status-h"));
  check("it shows what was fixed, as typed", (await page.$eval("#ticket-fixed", (e) => e.textContent)).includes("We removed it on Monday"));
  check("quotes, '&' and '<' come back as text", (await text("#ticket-comment")).includes("\"550 listed\" & we'd like it back < tomorrow"),
        await text("#ticket-comment"));
  await shot("ticket-open-desktop.png");
  await page.setViewport(phone);
  await fitsPhone("the ticket page");
  await shot("ticket-open-phone.png");
  await page.setViewport(desktop);

  // ---- a second request about 193.0.2.44 joins the open ticket; the form says it will ----
  await page.setViewport(phone);
  await page.goto(`${base}/lookup?ip=${r.first}`, { waitUntil: "load" });
  check("the form says a request about the address is open, and that this one joins it",
        /already open .* Yours will be added to it/.test(await text("#open-ticket")), await text("#open-ticket"));
  await fitsPhone("the form with an open ticket");
  await (await page.$("#review")).screenshot({ path: path.join(shots, "review-form-joined-phone.png") });
  await page.setViewport(desktop);
  await page.goto(`${base}/lookup?ip=${r.first}`, { waitUntil: "load" });
  await page.type("#email", "noc@example.org");
  await page.type("#fixed", "Our NOC: the form is gone, the relay is closed.");
  await (await page.$("#review")).screenshot({ path: path.join(shots, "review-form-joined-desktop.png") });
  resp = await submit("form.review button[type=submit]");
  const joined = (page.url().match(/\/ticket\/([0-9a-f]{32})$/) || [])[1];
  check("the second request is filed, with a page of its own", resp.status() === 200 && !!joined && joined !== first, page.url());
  check("its page says it was added to the open request", /already open, so yours was added to it/.test(await text("#joined")), await text("#joined"));
  check("and shows nothing of the first request", !(await page.content()).includes("A contact form on our web server") &&
        !(await page.content()).includes("postmaster@example.org"));
  await shot("ticket-joined-desktop.png");

  // ---- a request about 193.0.2.45 with a pasted bounce: angle brackets are text ----
  await page.goto(`${base}/lookup?ip=${r.second}`, { waitUntil: "load" });
  await page.type("#email", "abuse@example.net");
  const bounce = "550 5.1.1 <user@example.org>: Recipient address rejected <script>alert('x')</script>";
  await page.type("#fixed", bounce);
  resp = await submit("form.review button[type=submit]");
  const second = (page.url().match(/\/ticket\/([0-9a-f]{32})$/) || [])[1];
  check("a pasted bounce with <angle brackets> is taken", resp.status() === 200 && !!second, `${resp.status()} ${page.url()}`);
  check("and shown as typed, as text", (await page.$eval("#ticket-fixed", (e) => e.textContent)) === bounce,
        await page.$eval("#ticket-fixed", (e) => e.textContent).catch(() => ""));
  check("no script element came from it", (await page.$$("main script")).length === 0);
  await shot("ticket-bounce-desktop.png");

  // ---- a moderator logs in ----
  resp = await page.goto(`${base}/admin/`, { waitUntil: "load" });
  check("the queue without a session: 403 and the login form", resp.status() === 403 && (await page.$("form.login")) !== null, resp.status());
  await page.type("#username", r.moderator);
  await page.type("#password", "not the password");
  resp = await submit("form.login button[type=submit]");
  check("a wrong password: refused (403)", resp.status() === 403 && /Wrong name or password/.test(await text("#login-problem")), resp.status());
  await shot("admin-login-desktop.png");
  await page.type("#password", r.password);
  resp = await submit("form.login button[type=submit]");
  check("logged in: the queue", resp.status() === 200 && new URL(page.url()).pathname === "/admin/", page.url());
  const rows = await page.$$eval("#queue li", (ls) => ls.map((l) => [l.dataset.ticket, l.dataset.status]));
  check("both tickets wait in the queue", rows.some(([id]) => id === first) && rows.some(([id]) => id === second), JSON.stringify(rows));
  check("the joined request is in its ticket, not a row of its own", !rows.some(([id]) => id === joined), JSON.stringify(rows));
  check("the ticket says it holds two requests", (await text(`#queue li[data-ticket="${first}"] .row-requests`)) === "2 requests",
        await text(`#queue li[data-ticket="${first}"] .row-requests`));
  await shot("admin-queue-desktop.png");
  await page.setViewport(phone);
  await fitsPhone("the queue");
  await shot("admin-queue-phone.png");
  await page.setViewport(desktop);

  // ---- the first request beside its evidence; delist ----
  resp = await submit(`#queue li[data-ticket="${first}"] a`);
  check("the request's page for moderators", resp.status() === 200, resp.status());
  check("the request is shown", (await text("#ticket-fixed")).includes("A contact form on our web server sent spam"));
  check("with the request that joined it", (await text("#joined .joined-fixed")).includes("the relay is closed") &&
        (await text("#joined .joined-email")) === "noc@example.org", await text("#joined"));
  const summary = await text("#evidence-summary");
  check("with the evidence summary: listed, and why", /^Listed since .* On spamtrap hits and user reports: usually a compromised machine/.test(summary), summary);
  check("the counts of the last 7 days", (await text("#traps-7d")) === "3" && (await text("#reports-7d")) === "2",
        `${await text("#traps-7d")} / ${await text("#reports-7d")}`);
  check("the trap classes", /spam 3/.test(await text("#trap-classes")), await text("#trap-classes"));
  await shot("admin-ticket-desktop.png");
  await page.setViewport(phone);
  await fitsPhone("a request's page for moderators");
  await shot("admin-ticket-phone.png");
  await page.setViewport(desktop);
  await page.type("#reason", "The form is gone and no spam has come since Monday.");
  resp = await submit("#do-delist");
  check("delisted: back on the request, which says so", resp.status() === 200 && (await text("#ticket-status")) === "delisted",
        await text("#ticket-status"));
  let gone = "";
  for (let i = 0; i < 50 && (gone = dig(r.first)) !== ""; i++) await new Promise((ok) => setTimeout(ok, 100));
  check(`${r.first} is gone from DNS`, gone === "", gone);
  const audit = trapline("audit");
  check("the audit log has the delisting, the moderator and the ticket",
        audit.includes(`delist ${r.first} who="moderator:${r.moderator}" why="ticket ${first}: The form is gone`), audit);
  await page.goto(ticketUrl, { waitUntil: "load" });
  check("the requester's page shows the delisting", /was delisted/.test(await text("#status-h")), await text("#status-h"));
  check("and the moderator's reason", (await text("#reason")).includes("The form is gone"), await text("#reason"));
  check("its history: filed, a request added, delisted", (await page.$$eval("#events li", (ls) => ls.map((l) => l.dataset.what))).join(",") === "filed,added,delist",
        (await page.$$eval("#events li", (ls) => ls.map((l) => l.dataset.what))).join(","));
  check("it says the list's operators delisted it, and no name", /The list's operators delisted the address/.test(await text("#status")) &&
        !(await page.content()).includes(r.moderator), await text("#status"));
  await shot("ticket-delisted-desktop.png");
  await page.goto(`${base}/ticket/${joined}`, { waitUntil: "load" });
  check("the request that joined it shows the same decision", /was delisted/.test(await text("#status-h")), await text("#status-h"));
  check("its history: filed, joined, delisted", (await page.$$eval("#events li", (ls) => ls.map((l) => l.dataset.what))).join(",") === "filed,joined,delist");
  await page.goto(`${base}/lookup?ip=${r.first}`, { waitUntil: "load" });
  check("the lookup page: not listed, delisted by the list's operators", /is not listed$/.test(await text("#verdict-h")) &&
        /The list's operators delisted/.test(await text("#delisted")),
        await text("#verdict-h"));

  // ---- the second request: reject ----
  await page.goto(`${base}/admin/ticket/${second}`, { waitUntil: "load" });
  const sample = await page.$eval("#samples pre.headers", (e) => e.textContent).catch(() => "");
  check("its trap hits' headers, the trap address masked", /To: \*\*\*@trap\.example/.test(sample) && !/jane@/.test(sample), sample);
  await (await page.$("#samples")).screenshot({ path: path.join(shots, "admin-samples-desktop.png") });
  await page.type("#reason", "The address sent spam to the traps yesterday; it is yours since March.");
  resp = await submit("#do-reject");
  check("rejected", (await text("#ticket-status")) === "rejected", await text("#ticket-status"));
  check(`${r.second} stays in DNS`, dig(r.second) === "127.0.0.2", dig(r.second));
  await page.goto(`${base}/ticket/${second}`, { waitUntil: "load" });
  check("the requester's page shows the rejection", /The listing stands/.test(await text("#status-h")), await text("#status-h"));
  check("with the reason", (await text("#reason")).includes("it is yours since March"));
  await shot("ticket-rejected-desktop.png");
  await page.setViewport(phone);
  await shot("ticket-rejected-phone.png");
  await page.setViewport(desktop);

  // ---- logout ----
  await page.goto(`${base}/admin/?all=1`, { waitUntil: "load" });
  check("every request, decided ones too", (await page.$$("#queue li")).length >= 2);
  await shot("admin-all-desktop.png");
  resp = await submit("#logout");
  check("logged out: the login form", new URL(page.url()).pathname === "/admin/login" && (await page.$("form.login")) !== null, page.url());
  resp = await page.goto(`${base}/admin/`, { waitUntil: "load" });
  check("the queue after logout: 403", resp.status() === 403, resp.status());
}
