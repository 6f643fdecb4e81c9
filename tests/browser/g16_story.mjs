// The g16 PeerPrep frontend's user story, by two people in headless Chromium (playwright-core,
// Debian's /usr/bin/chromium), against whatever server the frontend's build points at.
//
//   node tests/browser/g16_story.mjs '<spec as JSON>'
//
// spec: {
//   frontend: "http://127.0.0.1:<port>",      the frontend's origin (its own static server)
//   api: "http://127.0.0.1:<port>",           the server's base URL (only to tell its requests apart)
//   artifacts: "/abs/dir",                     screenshots go there as NN-<step>-<a|b>.png
//   chromium: "/usr/bin/chromium",
//   users: [{email, username, password}, {…}], A then B
//   lines: ["print(\"…\")", "print(\"…\")"],   what A, then B, types into the editor
//   expectOutputs: ["…", "…"] | null,         what Run must print (null: any output, e.g. the test judge)
//   stepTimeoutMs: 30000, storyTimeoutMs: 240000
// }
//
// Prints one JSON object a line: {"event":"step","step":…,"ok":true,"ms":…,"detail":…,"screenshots":[…]}
// for each step done, then {"event":"done","ok":true|false,…}. On a failure the last line names the
// step, the error, and for each user the failing requests to the server (status, method, URL),
// requests that failed outright, console errors and warnings, uncaught page errors, dialogs and
// WebSockets, plus the last requests made. Exits 0 when the story ran through, 1 otherwise.
// Every host but 127.0.0.1 resolves to nothing (--host-resolver-rules): the frontend's Google
// Fonts stylesheet fails at once instead of reaching out.

import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(new URL("../js/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const spec = JSON.parse(process.argv[2]);
const STEP_TIMEOUT = spec.stepTimeoutMs ?? 30000;
const t0 = Date.now();
const emit = (object) => process.stdout.write(JSON.stringify(object) + "\n");
const since = () => Date.now() - t0;

class StepFailure extends Error {}

function fail(message) {
  throw new StepFailure(message);
}

// --- what each page did -----------------------------------------------------------------------

function watch(page, who) {
  const log = { who, requests: [], failed: [], console: [], pageErrors: [], dialogs: [], sockets: [], bodies: {} };
  const ours = (url) => url.startsWith(spec.api);
  page.on("response", async (response) => {
    const request = response.request();
    const url = response.url();
    if (!ours(url)) return;
    const entry = { at: since(), method: request.method(), url, status: response.status() };
    // The answers the story reasons about (match request, question, attempt save, run) are
    // listed once their bodies are read.
    const pathOf = new URL(url).pathname;
    if (request.method() !== "OPTIONS" && /^\/(match\/request|questionBank\/questions\/\d+|attempt|run)$/.test(pathOf)) {
      try {
        entry.body = (await response.text()).slice(0, 2000);
        try {
          entry.json = JSON.parse(entry.body);
        } catch {}
      } catch (error) {
        entry.bodyError = String(error?.message ?? error).slice(0, 300);
      }
    }
    log.requests.push(entry);
  });
  page.on("requestfailed", (request) => {
    log.failed.push({ at: since(), method: request.method(), url: request.url(), error: request.failure()?.errorText });
  });
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") {
      const where = message.location();
      log.console.push({ at: since(), type: message.type(), text: message.text().slice(0, 1000), url: where?.url });
    }
  });
  page.on("pageerror", (error) => log.pageErrors.push({ at: since(), error: String(error?.stack ?? error).slice(0, 2000) }));
  page.on("dialog", async (dialog) => {
    log.dialogs.push({ at: since(), type: dialog.type(), message: dialog.message() });
    await dialog.dismiss().catch(() => {});
  });
  page.on("websocket", (socket) => {
    const entry = { at: since(), url: socket.url(), sent: 0, received: 0, closedAt: null, errors: [] };
    log.sockets.push(entry);
    socket.on("framesent", () => entry.sent++);
    socket.on("framereceived", () => entry.received++);
    socket.on("socketerror", (error) => entry.errors.push(String(error)));
    socket.on("close", () => (entry.closedAt = since()));
  });
  return log;
}

function diagnostics(log) {
  const external = (url) => !url.startsWith(spec.api) && !url.startsWith(spec.frontend);
  return {
    failingResponses: log.requests.filter((r) => r.status >= 400).map(({ body, json, ...r }) => ({ ...r, body })),
    failedRequests: log.failed.map((r) => ({ ...r, external: external(r.url) })),
    console: log.console.slice(-40),
    pageErrors: log.pageErrors.slice(-10),
    dialogs: log.dialogs,
    sockets: log.sockets,
    lastRequests: log.requests.slice(-25).map(({ body, json, ...r }) => r),
  };
}

// --- helpers on the app -------------------------------------------------------------------------

async function until(what, predicate, timeout = STEP_TIMEOUT, every = 100) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) fail(`${what} (waited ${timeout} ms)`);
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

async function editorText(page) {
  return page.evaluate(() => {
    const lines = [...document.querySelectorAll("#editor .view-lines .view-line")];
    lines.sort((x, y) => parseFloat(x.style.top) - parseFloat(y.style.top));
    return lines.map((line) => line.textContent.replace(/\u00a0/g, " ")).join("\n");
  });
}

async function waitForText(page, text, what, timeout = STEP_TIMEOUT) {
  try {
    await page.getByText(text).first().waitFor({ state: "visible", timeout });
  } catch {
    fail(`${what}: ${JSON.stringify(String(text))} did not appear within ${timeout} ms on ${page.url()}`);
  }
}

async function register(page, log, user) {
  await page.goto(`${spec.frontend}/register`, { waitUntil: "domcontentloaded" });
  try {
    await page.getByLabel("Email Address").waitFor({ timeout: STEP_TIMEOUT });
  } catch {
    fail(`the register form did not appear on ${page.url()}`);
  }
  await page.getByLabel("Email Address").fill(user.email);
  await page.getByLabel("Username").fill(user.username);
  const passwords = page.getByLabel("Password", { exact: true });
  await passwords.nth(0).fill(user.password);
  await passwords.nth(1).fill(user.password);
  const errorsBefore = log.pageErrors.length;
  await page.getByRole("button", { name: "Register", exact: true }).click();
  // The page registers, logs in, and navigates home ("Match Me"), which loads topics and languages.
  // A refused register or login shows nothing: its error is thrown out of the form's handler.
  const home = page.getByText("Match Me").first();
  await until(`after registering, the home page ("Match Me") to appear (still on ${page.url()})`, async () => {
    if (log.pageErrors.length > errorsBefore) fail(`registering failed: ${log.pageErrors.at(-1).error.split("\n")[0]}`);
    return home.isVisible();
  });
  if (new URL(page.url()).pathname !== "/") fail(`after registering the page is ${page.url()}, not the home page`);
  await until(
    "the home page's topic, difficulty and language choices to load",
    async () => (await page.getByRole("combobox").count()) >= 3,
  );
  return { url: page.url() };
}

async function pick(page, placeholder, wanted, prefer) {
  const trigger = page.getByRole("combobox").filter({ hasText: placeholder }).first();
  await trigger.click();
  const options = page.getByRole("option");
  try {
    await options.first().waitFor({ timeout: 5000 });
  } catch {
    await page.keyboard.press("Escape");
    fail(`the "${placeholder}" choice offers nothing to pick`);
  }
  const names = (await options.allInnerTexts()).map((name) => name.trim()).filter(Boolean);
  let choice = wanted;
  if (choice === undefined) choice = names.find((name) => prefer?.test(name)) ?? names[0];
  if (!names.includes(choice)) {
    await page.keyboard.press("Escape");
    fail(`the "${placeholder}" choice offers ${JSON.stringify(names)}, not ${JSON.stringify(choice)}`);
  }
  await page.getByRole("option", { name: choice, exact: true }).click();
  await until(`"${placeholder}" to show ${choice}`, async () => (await page.getByRole("combobox").filter({ hasText: choice }).count()) > 0, 5000);
  return { choice, offered: names };
}

async function choose(page, wanted = {}) {
  const topic = await pick(page, "Question Topics", wanted.topic);
  const difficulty = await pick(page, "Difficulty Level", wanted.difficulty, /^easy$/i);
  const language = await pick(page, "Language", wanted.language, /python/i);
  return { topic: topic.choice, difficulty: difficulty.choice, language: language.choice, offered: {
    topics: topic.offered, difficulties: difficulty.offered, languages: language.offered } };
}

function matchAnswer(log) {
  const answer = [...log.requests].reverse().find((r) => r.method === "POST" && new URL(r.url).pathname === "/match/request");
  return answer ? { status: answer.status, json: answer.json ?? null, body: answer.json ? undefined : answer.body } : null;
}

function roomOf(page) {
  const url = new URL(page.url());
  return url.pathname === "/collab" ? url.searchParams.get("roomId") : null;
}

async function openCollab(page, log, who) {
  const roomId = await until(`${who} to land on /collab?roomId=… (still on ${page.url()})`, async () => roomOf(page), STEP_TIMEOUT);
  try {
    await page.locator("#editor .monaco-editor").waitFor({ timeout: STEP_TIMEOUT });
  } catch {
    fail(`${who}: the Monaco editor did not appear on ${page.url()}`);
  }
  const socket = await until(
    `${who}: a WebSocket to ${spec.api.replace(/^http/, "ws")}/collab/ws/${roomId} that the server answers`,
    async () => log.sockets.find((s) => s.url.includes(`/collab/ws/${encodeURIComponent(roomId)}`) && s.received > 0 && s.closedAt === null),
  );
  const questionAnswers = () => log.requests.filter((r) => /^\/questionBank\/questions\/\d+$/.test(new URL(r.url).pathname));
  const answer = await until(
    `${who}: GET /questionBank/questions/<id> of the session's question to succeed`,
    async () => questionAnswers().find((r) => r.status === 200),
  ).catch((error) => {
    const seen = questionAnswers().map((r) => `${r.status} ${r.url} ${r.body ?? ""}`);
    fail(`${error.message}; answers: ${JSON.stringify(seen)}`);
  });
  const shown = page.locator("main .text-2xl.font-semibold").first();
  const title = answer.json?.title ?? (await until(`${who}: the question's title`, async () => {
    const text = (await shown.innerText().catch(() => "")).trim();
    return text && !["Loading question…", "Question unavailable", "Unavailable Room."].includes(text) ? text : null;
  }));
  await waitForText(page, title, `${who}: the question's title`);
  return { roomId, question: { id: answer.json?.id ?? Number(new URL(answer.url).pathname.split("/").pop()), title },
           socket: socket.url, initialText: await editorText(page) };
}

async function typeInEditor(page, keys, text) {
  await page.locator("#editor .view-lines").click();
  for (const key of keys) await page.keyboard.press(key);
  await page.keyboard.type(text, { delay: 15 });
}

function sessionPolls(log, roomId) {
  return log.requests.filter((r) => r.method === "GET" && new URL(r.url).pathname === `/collab/sessions/${roomId}` && r.status === 200);
}

// --- the story ------------------------------------------------------------------------------------

const results = { steps: [], screenshots: [] };
let browser;
let failure = null;
const logs = {};
const pages = {};
let stepNumber = 0;

async function shoot(name, who) {
  const file = path.join(spec.artifacts, `${String(stepNumber).padStart(2, "0")}-${name}-${who}.png`);
  await pages[who].screenshot({ path: file, fullPage: true, animations: "disabled", timeout: 15000 });
  results.screenshots.push(file);
  return file;
}

async function step(name, who, body) {
  stepNumber += 1;
  const started = Date.now();
  let detail;
  try {
    detail = await body();
  } catch (error) {
    const shots = [];
    for (const each of Object.keys(pages)) shots.push(await shoot(`${name}-FAILED`, each).catch((e) => `(no screenshot: ${e.message})`));
    error.step = name;
    error.screenshots = shots;
    throw error;
  }
  const screenshots = [];
  for (const each of who) screenshots.push(await shoot(name, each));
  const record = { event: "step", step: name, ok: true, ms: Date.now() - started, detail, screenshots };
  results.steps.push(record);
  emit(record);
  return detail;
}

async function story() {
  mkdirSync(spec.artifacts, { recursive: true });
  browser = await chromium.launch({
    executablePath: spec.chromium,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ],
  });
  results.browser = browser.version();
  for (const who of ["a", "b"]) {
    // One context each: a cookie jar of its own, as two people on two machines.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    pages[who] = await context.newPage();
    pages[who].setDefaultTimeout(STEP_TIMEOUT);
    logs[who] = watch(pages[who], who);
  }
  const { a, b } = pages;
  const [userA, userB] = spec.users;

  await step("a-registers", ["a"], () => register(a, logs.a, userA));
  await step("b-registers", ["b"], () => register(b, logs.b, userB));
  const chosen = await step("a-chooses", ["a"], () => choose(a));
  await step("b-chooses", ["b"], () => choose(b, chosen));

  await step("a-finds-match", ["a"], async () => {
    await a.getByRole("button", { name: "Match Me!" }).click();
    await until("A's POST /match/request to be answered", async () => matchAnswer(logs.a));
    const answer = matchAnswer(logs.a);
    if (answer.status >= 300) fail(`A's POST /match/request answered ${answer.status}: ${answer.body ?? JSON.stringify(answer.json)}`);
    if (answer.json?.status !== "matched") {
      await waitForText(a, "Searching", "A waits");
      // B may ask only once A listens: the original server drops a match signalled before that.
      await until(`A's EventSource GET /match/subscribe/<A's id> to be answered 200`, async () =>
        logs.a.requests.find((r) => new URL(r.url).pathname.startsWith("/match/subscribe/") && r.status === 200),
      );
    }
    return { answer };
  });

  await step("b-finds-match", ["a", "b"], async () => {
    await b.getByRole("button", { name: "Match Me!" }).click();
    await until("B's POST /match/request to be answered", async () => matchAnswer(logs.b));
    const answer = matchAnswer(logs.b);
    if (answer.status >= 300) fail(`B's POST /match/request answered ${answer.status}: ${answer.body ?? JSON.stringify(answer.json)}`);
    if (answer.json?.status !== "matched") fail(`B's POST /match/request answered ${JSON.stringify(answer.json)}, not {status: "matched", roomId}`);
    await waitForText(b, "Match Found!", "B is matched (by the HTTP answer)");
    if (matchAnswer(logs.a).json?.status === "matched") fail("A was matched by the HTTP answer, so the SSE path went untried");
    await waitForText(a, "Match Found!", "A is matched (by the SSE event MATCH_FOUND)");
    return { answerA: matchAnswer(logs.a), answerB: answer };
  });

  const session = await step("both-open-the-room", ["a", "b"], async () => {
    const [roomA, roomB] = [await openCollab(a, logs.a, "A"), await openCollab(b, logs.b, "B")];
    if (roomA.roomId !== roomB.roomId) fail(`A is in room ${roomA.roomId}, B in ${roomB.roomId}`);
    return { roomId: roomA.roomId, question: roomA.question, a: roomA, b: roomB };
  });

  const [lineA, lineB] = spec.lines;
  await step("a-types", ["a", "b"], async () => {
    await typeInEditor(a, ["Control+a"], lineA);
    await until(`A's editor to hold ${lineA}`, async () => (await editorText(a)).includes(lineA), 10000);
    await until(`B's editor to show A's line ${lineA}`, async () => (await editorText(b)).includes(lineA));
    return { a: await editorText(a), b: await editorText(b) };
  });

  await step("b-types", ["a", "b"], async () => {
    await typeInEditor(b, ["Control+End", "Enter"], lineB);
    await until(`B's editor to hold ${lineB}`, async () => (await editorText(b)).includes(lineB), 10000);
    await until(`A's editor to show B's line ${lineB}`, async () => (await editorText(a)).includes(lineB));
    const [textA, textB] = [await editorText(a), await editorText(b)];
    if (textA !== textB) fail(`the editors differ: A ${JSON.stringify(textA)}, B ${JSON.stringify(textB)}`);
    return { text: textA };
  });

  await step("a-runs", ["a"], async () => {
    await a.getByRole("button", { name: "Run Code", exact: true }).click();
    const output = a.locator("xpath=//div[normalize-space(text())='Runtime Output']/ancestor::div[.//pre][1]//pre");
    const shown = await until("the run's output", async () => {
      const text = (await output.innerText().catch(() => "")).trim();
      const running = (await a.getByRole("button", { name: "Running…" }).count()) > 0;
      return !running && text && text !== "— No output yet —" ? text : null;
    });
    const run = [...logs.a.requests].reverse().find((r) => r.method === "POST" && new URL(r.url).pathname === "/run");
    await waitForText(a, "Run complete.", "the run's toast");
    if (!run || run.status !== 200) fail(`POST /run answered ${run?.status}: ${run?.body}; the page shows ${JSON.stringify(shown)}`);
    for (const expected of spec.expectOutputs ?? []) {
      if (!shown.includes(expected)) fail(`the output ${JSON.stringify(shown)} lacks ${JSON.stringify(expected)}`);
    }
    return { output: shown, answer: run.json ?? run.body };
  });

  await step("a-saves", ["a"], async () => {
    // The page learns the partner (the attempt's collabId) from its 2 s poll of the session.
    await until("A's page to poll GET /collab/sessions/<room> successfully twice", async () => sessionPolls(logs.a, session.roomId).length >= 2);
    await a.getByRole("button", { name: "Save Progress", exact: true }).click();
    const outcome = a.getByText(/^(Progress saved successfully\.|Failed to save progress\.|No code to save!|Missing data to save progress\.)$/);
    try {
      await outcome.first().waitFor({ timeout: STEP_TIMEOUT });
    } catch {
      fail("no toast said how saving went");
    }
    const said = (await outcome.first().innerText()).trim();
    const saved = [...logs.a.requests].reverse().find((r) => r.method === "POST" && new URL(r.url).pathname === "/attempt");
    if (said !== "Progress saved successfully.") fail(`saving said ${JSON.stringify(said)}; POST /attempt answered ${saved?.status}: ${saved?.body}`);
    return { toast: said, answer: saved && { status: saved.status, body: saved.body } };
  });

  await step("a-sees-the-attempt-on-the-profile", ["a"], async () => {
    await a.locator('header button[aria-haspopup="menu"]').click();
    await a.getByRole("menuitem", { name: "My Account" }).click();
    await a.getByRole("menu").waitFor({ state: "hidden" }).catch(() => {});
    await until(`A's profile /user/<id> to open (now ${a.url()})`, async () => new URL(a.url()).pathname.startsWith("/user/"), 10000);
    await waitForText(a, "Question History", "the profile page");
    const row = a.locator("div.flex.items-center", { hasText: session.question.title }).filter({ hasText: "With:" });
    try {
      await row.first().waitFor({ timeout: STEP_TIMEOUT });
    } catch {
      fail(`the profile lists no attempt of "${session.question.title}" (GET /attempt/user/<id>, then per attempt GET /questionBank/questions/<q> and GET /user/<collabId>)`);
    }
    const text = (await row.first().innerText()).replace(/\s+/g, " ").trim();
    if (!text.includes(userB.username)) fail(`the attempt lists ${JSON.stringify(text)}, not B (${userB.username}) as the partner`);
    return { profile: a.url(), attempt: text };
  });
}

const timer = setTimeout(() => {
  emit({ event: "done", ok: false, failedStep: "(story)", error: `the story took over ${spec.storyTimeoutMs} ms`,
         diagnostics: Object.fromEntries(Object.entries(logs).map(([who, log]) => [who, diagnostics(log)])) });
  process.exit(1);
}, spec.storyTimeoutMs ?? 240000);

try {
  await story();
} catch (error) {
  failure = error;
}
clearTimeout(timer);
const done = {
  event: "done",
  ok: failure === null,
  ms: since(),
  browser: results.browser,
  screenshots: results.screenshots,
  diagnostics: Object.fromEntries(Object.entries(logs).map(([who, log]) => [who, diagnostics(log)])),
};
if (failure) {
  done.failedStep = failure.step ?? "(setup)";
  done.error = failure instanceof StepFailure ? failure.message : String(failure?.stack ?? failure);
  done.failureScreenshots = failure.screenshots ?? [];
}
emit(done);
await browser?.close().catch(() => {});
process.exit(failure ? 1 : 0);
