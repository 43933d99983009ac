// The palette charts draw with: the CSS variables of app.css, read when a chart is built and
// again when the OS switches between light and dark (prefers-color-scheme), so canvases
// follow the page. `useTheme()` re-renders a component on such a switch.
import { useEffect, useState } from "./lib.js";

const NAMES = ["bg", "panel", "text", "muted", "border", "accent", "up", "down", "warn", "grid"];

export function themeColors() {
  const style = getComputedStyle(document.documentElement);
  const colors = {};
  for (const name of NAMES) colors[name] = style.getPropertyValue(`--${name}`).trim();
  return colors;
}

const dark = matchMedia("(prefers-color-scheme: dark)");

/** The current palette; a new object (so effects re-run) whenever the scheme changes. */
export function useTheme() {
  const [colors, setColors] = useState(themeColors);
  useEffect(() => {
    const changed = () => setColors(themeColors());
    dark.addEventListener("change", changed);
    return () => dark.removeEventListener("change", changed);
  }, []);
  return colors;
}

/** `#rrggbb` + alpha (0..1) as rgba(), for translucent fills drawn on a canvas. */
export function alpha(color, opacity) {
  const hex = color.replace("#", "");
  if (!/^[0-9a-f]{6}$/i.test(hex)) return color;
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `rgba(${r}, ${g}, ${b}, ${opacity})`;
}
