// The dashboard against a real server holding the demo's data: sign in, charts,
// indicators, a backtest run and its tearsheet, comparison, alerts, paper orders, system.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { expect, test } from "@playwright/test";
import type { Page } from "@playwright/test";
import { consoleErrors, shoot, signIn } from "./session";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

async function noSeriousViolations(page: Page, where: string): Promise<void> {
  await page.evaluate(AXE); // through the DevTools protocol: the page's CSP still holds
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (c: Document) => Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> } }).axe;
    const result = await axe.run(document);
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${String(v.nodes.length)})`);
  });
  expect(found, `accessibility on ${where}`).toEqual([]);
}

test("a wrong password is refused with the problem's title", async ({ page }) => {
  await page.goto("/");
  await page.getByLabel("User name or e-mail").fill("local");
  await page.getByLabel("Password").fill("not the password at all");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText(/sign-in|credentials|password/i);
  await shoot(page, "sign-in");
});

test("market: candles of a stored symbol, an indicator in its own pane", async ({ page }) => {
  const errors = consoleErrors(page);
  await signIn(page);
  await expect(page).toHaveURL(/\/market$/);
  const chart = page.getByRole("img", { name: /AAPL 1m candles and volume/ });
  await expect(chart.locator("canvas").first()).toBeVisible();
  await expect(page.getByText(/bars, 2024-01-02 .* drawn in \d+ ms/)).toBeVisible();
  const before = (await chart.boundingBox())?.height ?? 0;

  await page.getByRole("combobox", { name: /^Indicator/ }).selectOption("rsi");
  await page.getByRole("button", { name: "Add" }).click();
  await page.getByRole("combobox", { name: /^Indicator/ }).selectOption("bbands");
  await page.getByRole("button", { name: "Add" }).click();
  const chips = page.getByRole("list", { name: "Indicators on the chart" });
  await expect(chips).toContainText("rsi(14)");
  await expect(chips).toContainText("bbands(5, 2, 2)");
  await expect.poll(async () => (await chart.boundingBox())?.height ?? 0).toBeGreaterThan(before);
  await shoot(page, "market");
  expect(errors).toEqual([]);
});

test("backtests: the demo's runs, a new run to its tearsheet, a comparison", async ({ page }) => {
  const errors = consoleErrors(page);
  await signIn(page);
  await page.getByRole("link", { name: "Backtests" }).click();
  const runs = page.getByRole("table", { name: /Recorded runs/ });
  await expect(runs.getByRole("link", { name: "demo sma_cross", exact: true })).toBeVisible();
  await expect(runs.locator("tbody tr")).toHaveCount(7);
  const heat = page.getByRole("table", { name: "sharpe by fast (across) and slow (down)" });
  await expect(heat.locator("tbody td")).toHaveCount(6);
  await expect(heat.locator("tbody td").filter({ hasText: "—" })).toHaveCount(0);
  await page.getByRole("combobox", { name: /Heat map of/ }).selectOption("total_return");
  await expect(page.getByRole("table", { name: /total_return by fast/ })).toContainText("%");
  await heat.or(page.getByRole("table", { name: /total_return by fast/ })).scrollIntoViewIfNeeded();
  await shoot(page, "sweep");
  await page.evaluate(() => { window.scrollTo(0, 0); });
  await shoot(page, "backtests");

  await runs.getByRole("checkbox", { name: /^Compare demo sma_cross [0-9a-f]{8}$/ }).check();
  await runs.getByRole("checkbox", { name: /^Compare demo model_signal after training/ }).check();
  await page.getByRole("button", { name: /Compare 2 selected/ }).click();
  await expect(page.getByRole("table", { name: "Metrics side by side" })).toContainText("sharpe");
  await expect(page.getByRole("img", { name: "Equity, rebased to 1" }).locator("canvas").first()).toBeVisible();
  await shoot(page, "compare");

  await page.getByRole("link", { name: "← Backtests" }).click();
  const form = page.getByRole("form", { name: "New backtest" });
  await form.getByLabel("Strategy").selectOption("sma_cross");
  await form.getByLabel("Fast").fill("20");
  await form.getByLabel("Slow").fill("60");
  await form.getByLabel("Symbols").fill("AAPL,MSFT");
  await form.getByLabel("Name").fill("from the dashboard");
  await form.getByRole("button", { name: "Run backtest" }).click();
  await expect(page.getByRole("heading", { name: /from the dashboard/ })).toBeVisible();
  await expect(page.getByRole("img", { name: "Equity" }).locator("canvas").first()).toBeVisible({ timeout: 60_000 });
  await expect(page.getByRole("img", { name: "Drawdown" })).toBeVisible();
  await expect(page.getByLabel("Metrics")).toContainText("sharpe");
  await expect(page.getByRole("table", { name: /Trades \(\d+\)/ })).toBeVisible();
  await expect(page.getByRole("img", { name: /AAPL prices with the run's trades/ })).toBeVisible();
  await shoot(page, "backtest-run");
  await noSeriousViolations(page, "a run's tearsheet");
  expect(errors).toEqual([]);
});

test("alerts: a price rule is created, disabled and listed", async ({ page }) => {
  await signIn(page);
  await page.getByRole("link", { name: "Alerts" }).click();
  const form = page.getByRole("form", { name: "New rule" });
  await form.getByLabel("Name").fill("AAPL breakout");
  await form.getByLabel("Symbol").fill("AAPL");
  await form.getByLabel("Level").fill("250");
  await form.getByRole("button", { name: "Add rule" }).click();
  const rules = page.getByRole("table", { name: "Rules" });
  await expect(rules).toContainText("AAPL breakout");
  await expect(rules).toContainText("price above 250");
  await rules.getByRole("button", { name: "Disable" }).click();
  await expect(rules).toContainText("disabled");
  await shoot(page, "alerts");
  await noSeriousViolations(page, "alerts");
});

test("trading: a paper account, an order placed and cancelled, the kill switch asks first", async ({ page }) => {
  await signIn(page);
  await page.getByRole("link", { name: "Trading" }).click();
  const open = page.getByRole("form", { name: "Open a paper account" });
  await open.getByLabel("Name").fill("e2e-paper");
  await open.getByRole("button", { name: "Open account" }).click();
  await expect(page.getByRole("combobox", { name: /^Account/ })).toContainText("e2e-paper");
  await page.getByRole("combobox", { name: /^Account/ }).selectOption({ label: "e2e-paper (paper, paper)" });

  const order = page.getByRole("form", { name: "Place an order" });
  await order.getByLabel("Symbol").fill("MSFT");
  await order.getByLabel("Quantity").fill("7");
  await order.getByRole("button", { name: "Place order" }).click();
  const orders = page.getByRole("table", { name: /Orders/ });
  await expect(orders).toContainText("MSFT");
  await expect(orders).toContainText("new");
  await orders.getByRole("button", { name: "Cancel" }).click();
  await expect(orders).toContainText("withdrawn before it was sent");

  await page.getByRole("button", { name: "Halt this account…" }).click();
  const dialog = page.getByRole("dialog", { name: "Halt trading on this account?" });
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Keep trading" }).click();
  await expect(dialog).toBeHidden();
  await shoot(page, "trading");
});

test("models and system pages answer; a phone-wide screen keeps every page reachable", async ({ page }) => {
  await signIn(page);
  await page.getByRole("link", { name: "Models" }).click();
  await expect(page.getByRole("table", { name: "Registered models" })).toContainText("demo-lgbm");
  const versions = page.getByRole("table", { name: /Versions of demo-lgbm/ });
  await expect(versions).toContainText("champion");
  const weights = page.getByRole("table", { name: /Feature importance of demo-lgbm v1/ });
  await expect(weights.getByRole("meter").first()).toBeVisible();
  await versions.getByRole("button", { name: "challenger" }).click();
  await expect(versions).toContainText("challenger, champion");
  await shoot(page, "models");
  await page.getByRole("link", { name: "System" }).click();
  const ready = page.getByRole("table", { name: /Readiness/ });
  await expect(ready).toContainText("database");
  await expect(page.getByRole("table", { name: /Recent failures/ })).toContainText("auth.login");
  await shoot(page, "system");
  await noSeriousViolations(page, "system");

  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole("link", { name: "Backtests" }).click();
  await expect(page.getByRole("table", { name: /Recorded runs/ })).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await shoot(page, "phone-backtests");
});

test("the other theme, and a signed-out page asks to sign in again", async ({ page }) => {
  await signIn(page);
  await expect(page.getByRole("img", { name: /candles and volume/ }).locator("canvas").first()).toBeVisible();
  const html = page.locator("html");
  const first = await html.getAttribute("data-theme");
  const other = first === "dark" ? "light" : "dark";
  await page.getByRole("button", { name: `Use the ${other} theme` }).click();
  await expect(html).toHaveAttribute("data-theme", other);
  await shoot(page, `market-${other}`);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  await page.goto("/backtests");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
});
