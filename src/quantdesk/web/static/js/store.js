// A tiny observable value and the hook that re-renders a component when it changes: the
// session, the stream's connection state and the theme are shared this way.
import { useEffect, useState } from "./lib.js";

export function store(initial) {
  let value = initial;
  const listeners = new Set();
  return {
    get: () => value,
    set(next) {
      value = typeof next === "function" ? next(value) : next;
      for (const listener of listeners) listener(value);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export function useStore(shared) {
  const [value, setValue] = useState(shared.get());
  useEffect(() => {
    setValue(shared.get()); // it may have changed between the first render and this effect
    return shared.subscribe(setValue);
  }, [shared]);
  return value;
}
