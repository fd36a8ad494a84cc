// Dark and light themes: the choice is kept, and charts read their colours from CSS.

export type Theme = "dark" | "light";
const KEY = "cift.theme";

export function savedTheme(): Theme {
  const saved = localStorage.getItem(KEY);
  if (saved === "dark" || saved === "light") return saved;
  return window.matchMedia("(prefers-color-scheme: light)").matches ? "light" : "dark";
}

export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
  localStorage.setItem(KEY, theme);
  window.dispatchEvent(new Event("cift-theme"));
}

export interface ChartColors {
  background: string;
  text: string;
  grid: string;
}

export function chartColors(): ChartColors {
  const style = getComputedStyle(document.documentElement);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    background: read("--panel", "#161b22"),
    text: read("--text", "#e6edf3"),
    grid: read("--grid", "#30363d"),
  };
}
