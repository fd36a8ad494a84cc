// Measure the dashboard in Debian's Chromium against a running server (bench/dashboard.py
// starts one): the first load of the page, and the time to draw a stored symbol's chart
// once its bars have arrived. Prints one JSON object.
//   node scripts/measure.mjs URL USER PASSWORD SYMBOL RUNS

import { chromium } from "@playwright/test";

const [url, user, password, symbol, runs = "5"] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CIFT_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const result = { first_load_ms: [], chart_draw_ms: [], bars: 0 };
for (let i = 0; i < Number(runs); i++) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(url);
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  const timing = await page.evaluate(() => {
    const [nav] = performance.getEntriesByType("navigation");
    return nav.loadEventEnd - nav.startTime;
  });
  result.first_load_ms.push(timing);
  await page.getByLabel("User name or e-mail").fill(user);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("combobox", { name: /^Symbol/ }).fill(symbol);
  const drawn = page.getByText(/drawn in \d+ ms/);
  await drawn.waitFor({ timeout: 120_000 });
  const label = await page.getByText(/ bars, .* drawn in \d+ ms/).innerText();
  result.chart_draw_ms.push(Number(/drawn in (\d+) ms/.exec(label)[1]));
  result.bars = Number(/^([\d,]+) bars/.exec(label)[1].replaceAll(",", ""));
  await context.close();
}
await browser.close();
console.log(JSON.stringify(result));
