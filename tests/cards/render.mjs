// Renders cards with Microsoft's Adaptive Cards renderers (3.0.6 and 2.11.3) in headless Chromium.
// Usage: node render.mjs CASES.json SCREENSHOT_DIR  (prints one JSON result per case and renderer)
// A case: {name, card, hostConfig, fill: {inputId: value}, press: "Button title"}.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const RENDERERS = {
  "3.0.6": path.join(here, "node_modules/adaptivecards/dist/adaptivecards.min.js"),
  "2.11.3": path.join(here, "node_modules/adaptivecards-2/dist/adaptivecards.min.js"),
};
// Flags that keep Chromium off the network: this machine refuses every other address.
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const [casesFile, shotsDir] = process.argv.slice(2);
const cases = JSON.parse(fs.readFileSync(casesFile, "utf8"));
fs.mkdirSync(shotsDir, { recursive: true });

// In the page: parse, render, collect every parse/validation event, fill the inputs.
function renderCard({ card, hostConfig, fill }) {
  const AC = window.AdaptiveCards;
  const events = [];
  // Webex clients process Markdown in TextBlocks; here it is shown as escaped text (no markdown-it).
  AC.AdaptiveCard.onProcessMarkdown = (text, result) => {
    const escaped = document.createElement("span");
    escaped.textContent = text;
    result.outputHtml = escaped.innerHTML;
    result.didProcess = true;
  };
  const adaptive = new AC.AdaptiveCard();
  adaptive.hostConfig = new AC.HostConfig(hostConfig);
  const context = new AC.SerializationContext();
  adaptive.parse(card, context);
  for (let i = 0; i < context.eventCount; i++) events.push(`parse: ${context.getEventAt(i).message}`);
  const report = adaptive.validateProperties();
  for (let i = 0; i < report.eventCount; i++) events.push(`validate: ${report.getEventAt(i).message}`);
  window.submitted = null;
  adaptive.onExecuteAction = (action) => {
    window.submitted = { title: action.title, data: action.data };
  };
  const host = document.getElementById("host");
  host.innerHTML = "";
  const element = adaptive.render();
  if (element) host.appendChild(element);
  const inputs = adaptive.getAllInputs().map((input) => ({ id: input.id, type: input.getJsonTypeName(),
    label: input.label || null }));
  for (const [id, value] of Object.entries(fill || {})) {
    const control = adaptive.getElementById(id).renderedInputControlElement;
    control.value = value;
    control.dispatchEvent(new Event("input", { bubbles: true }));
    control.dispatchEvent(new Event("change", { bubbles: true }));
  }
  window.adaptive = adaptive;
  return { rendered: Boolean(element), events, inputs, height: host.getBoundingClientRect().height };
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ARGS });
const results = [];
try {
  for (const [version, script] of Object.entries(RENDERERS)) {
    const page = await browser.newPage({ viewport: { width: 480, height: 900 } });
    const console = [];
    page.on("console", (message) => {
      if (["warning", "error"].includes(message.type())) console.push(`${message.type()}: ${message.text()}`);
    });
    page.on("pageerror", (error) => console.push(`pageerror: ${error.message}`));
    await page.setContent('<!doctype html><html><body><div id="host" style="width:440px"></div></body></html>');
    await page.addScriptTag({ path: script });
    for (const item of cases) {
      console.length = 0;
      const result = { name: item.name, renderer: version };
      try {
        Object.assign(result, await page.evaluate(renderCard, item));
        if (item.press) {
          await page.locator("#host").getByRole("button", { name: item.press, exact: true }).click({ timeout: 5000 });
          result.submitted = await page.evaluate(() => window.submitted);
        }
        const shot = path.join(shotsDir, `${item.name}-${version}.png`);
        await page.locator("#host").screenshot({ path: shot });
        result.screenshot = shot;
      } catch (error) {
        result.error = String(error && error.message ? error.message : error);
      }
      result.console = [...console];
      results.push(result);
    }
    await page.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results));
