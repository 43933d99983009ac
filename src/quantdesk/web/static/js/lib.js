// The one door to the vendored UI layer (preact + htm, no build step): every module imports
// html, render and the hooks from here, so swapping the library touches one line.
export {
  html,
  render,
  useState,
  useEffect,
  useRef,
  useMemo,
  useCallback,
  useContext,
  createContext,
} from "../vendor/preact-htm.mjs";
