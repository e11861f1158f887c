/**
 * A stand-in for @raycast/api (Raycast cannot run on Linux): components render as plain host
 * elements carrying their props, and every side effect (toasts, HUD, clipboard, navigation,
 * preferences, storage) is recorded for assertions. Nothing of Whisper Fleet's own is stubbed.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { createElement, type ReactElement, type ReactNode } from "react";

type Props = Record<string, unknown> & { children?: ReactNode };

export const state: {
  finderItems: { path: string }[] | Error;
  preferences: Record<string, unknown>;
  storage: Map<string, string>;
  /** The app in front, as getFrontmostApplication reports it; later entries: what later calls see. */
  frontmostApp: { name: string; bundleId: string; path: string };
  laterFrontmostApps: { name: string; bundleId: string; path: string }[];
  /** What the user answers to confirmAlert. */
  confirmAnswer: boolean;
} = {
  confirmAnswer: true,
  laterFrontmostApps: [],
  finderItems: [],
  preferences: {},
  storage: new Map(),
  frontmostApp: { name: "TextEdit", bundleId: "com.apple.TextEdit", path: "/System/Applications/TextEdit.app" },
};

export const calls = {
  toasts: [] as ToastStub[],
  hud: [] as string[],
  copied: [] as string[],
  pasted: [] as string[],
  pushed: [] as ReactElement[],
  pops: 0,
  launched: [] as unknown[],
  preferencesOpened: 0,
  confirms: [] as string[],
  opened: [] as string[],
};

export function resetRaycast(): void {
  calls.toasts.length = 0;
  calls.hud.length = 0;
  calls.copied.length = 0;
  calls.pasted.length = 0;
  calls.pushed.length = 0;
  calls.pops = 0;
  calls.launched.length = 0;
  calls.preferencesOpened = 0;
  calls.confirms.length = 0;
  calls.opened.length = 0;
  state.confirmAnswer = true;
  state.storage.clear();
  state.frontmostApp = { name: "TextEdit", bundleId: "com.apple.TextEdit", path: "/System/Applications/TextEdit.app" };
  state.laterFrontmostApps = [];
}

export const environment = {
  // The real assets folder (the built addon, as a source build has it), or a store build's
  // (RAYCAST_ASSETS_PATH, set by the store-build test).
  assetsPath: process.env.RAYCAST_ASSETS_PATH ?? resolve(__dirname, "..", "..", "..", "assets"),
  supportPath: process.env.RAYCAST_SUPPORT_PATH ?? mkdtempSync(join(tmpdir(), "wf-raycast-support-")),
  commandName: "test",
  launchType: "userInitiated",
  extensionName: "whisper-fleet",
  isDevelopment: true,
  raycastVersion: "1.0.0",
};

enum ToastStyle {
  Success = "SUCCESS",
  Failure = "FAILURE",
  Animated = "ANIMATED",
}

export class ToastStub {
  static Style = ToastStyle;
  /** Every (style, title, message) the toast showed, in order. */
  readonly shown: { style: string; title: string; message?: string }[] = [];
  private _style: string;
  private _title: string;
  private _message?: string;
  primaryAction?: { title: string; onAction: () => void };
  hidden = false;
  constructor(options: { style?: string; title: string; message?: string; primaryAction?: { title: string; onAction: () => void } }) {
    this._style = options.style ?? ToastStyle.Success;
    this._title = options.title;
    this._message = options.message;
    this.primaryAction = options.primaryAction;
    this.record();
  }
  private record() {
    this.shown.push({ style: this._style, title: this._title, message: this._message });
  }
  get style() {
    return this._style;
  }
  set style(v: string) {
    this._style = v;
    this.record();
  }
  get title() {
    return this._title;
  }
  set title(v: string) {
    this._title = v;
    this.record();
  }
  get message() {
    return this._message;
  }
  set message(v: string | undefined) {
    this._message = v;
    this.record();
  }
  async hide() {
    this.hidden = true;
  }
  async show() {
    this.hidden = false;
  }
}
export const Toast = ToastStub;

export async function showToast(options: ConstructorParameters<typeof ToastStub>[0]): Promise<ToastStub> {
  const toast = new ToastStub(options);
  calls.toasts.push(toast);
  return toast;
}
export async function showHUD(message: string): Promise<void> {
  calls.hud.push(message);
}
export const Clipboard = {
  copy: async (text: string) => void calls.copied.push(text),
  paste: async (text: string) => void calls.pasted.push(text),
};
export async function getFrontmostApplication(): Promise<{ name: string; bundleId: string; path: string }> {
  const app = { ...state.frontmostApp };
  const next = state.laterFrontmostApps.shift();
  if (next) state.frontmostApp = next;
  return app;
}
export async function getSelectedFinderItems(): Promise<{ path: string }[]> {
  if (state.finderItems instanceof Error) throw state.finderItems;
  return state.finderItems;
}
export function getPreferenceValues<T>(): T {
  return state.preferences as T;
}
export const LocalStorage = {
  getItem: async <T,>(key: string) => state.storage.get(key) as T | undefined,
  setItem: async (key: string, value: string) => void state.storage.set(key, value),
  removeItem: async (key: string) => void state.storage.delete(key),
};
export async function openExtensionPreferences(): Promise<void> {
  calls.preferencesOpened++;
}
export const LaunchType = { UserInitiated: "userInitiated", Background: "background" };
export async function launchCommand(options: unknown): Promise<void> {
  calls.launched.push(options);
}
export async function confirmAlert(options: { title: string }): Promise<boolean> {
  calls.confirms.push(options.title);
  return state.confirmAnswer;
}
export async function open(target: string): Promise<void> {
  calls.opened.push(target);
}
/** Raycast's synchronous cache (useCachedPromise keeps the last result in it). */
export class Cache {
  private static store = new Map<string, string>();
  private readonly listeners = new Set<(key: string | undefined, data: string | undefined) => void>();
  get(key: string) {
    return Cache.store.get(key);
  }
  has(key: string) {
    return Cache.store.has(key);
  }
  set(key: string, data: string) {
    Cache.store.set(key, data);
    for (const l of this.listeners) l(key, data);
  }
  remove(key: string) {
    return Cache.store.delete(key);
  }
  clear() {
    Cache.store.clear();
  }
  subscribe(listener: (key: string | undefined, data: string | undefined) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  get isEmpty() {
    return Cache.store.size === 0;
  }
}
export const AI = {};
export const OAuth = {};
export function useNavigation() {
  return { push: (el: ReactElement) => void calls.pushed.push(el), pop: () => void calls.pops++ };
}

const names = new Proxy({}, { get: (_t, name) => String(name) }) as Record<string, string>;
export const Icon = names;
export const Color = names;
export const Keyboard = {
  Shortcut: {
    Common: { Save: { modifiers: ["cmd"], key: "s" }, Copy: { modifiers: ["cmd", "shift"], key: "c" }, Remove: { modifiers: ["ctrl"], key: "x" } },
  },
};

function host(name: string) {
  // Element-valued props (actions, detail, metadata) are rendered as children too, as Raycast
  // renders them, so tests can find and invoke what they contain.
  const component = (props: Props) =>
    createElement(name, props, props.children as ReactNode, props.actions as ReactNode, props.detail as ReactNode, props.metadata as ReactNode);
  component.displayName = name;
  return component;
}
function withChildren<T extends object>(base: ReturnType<typeof host>, extra: T) {
  return Object.assign(base, extra);
}

export const Form = withChildren(host("Form"), {
  FilePicker: host("Form.FilePicker"),
  Checkbox: host("Form.Checkbox"),
  TextField: host("Form.TextField"),
  Dropdown: withChildren(host("Form.Dropdown"), { Item: host("Form.Dropdown.Item") }),
});
export const Detail = withChildren(host("Detail"), {
  Metadata: withChildren(host("Detail.Metadata"), { Label: host("Detail.Metadata.Label") }),
});
export const List = withChildren(host("List"), {
  Section: host("List.Section"),
  EmptyView: host("List.EmptyView"),
  Item: withChildren(host("List.Item"), {
    Detail: withChildren(host("List.Item.Detail"), {
      Metadata: withChildren(host("List.Item.Detail.Metadata"), { Label: host("List.Item.Detail.Metadata.Label") }),
    }),
  }),
});
export const MenuBarExtra = withChildren(host("MenuBarExtra"), {
  Item: host("MenuBarExtra.Item"),
  Section: host("MenuBarExtra.Section"),
  Submenu: host("MenuBarExtra.Submenu"),
});
export const ActionPanel = withChildren(host("ActionPanel"), { Section: host("ActionPanel.Section") });
export const Action = withChildren(host("Action"), {
  CopyToClipboard: host("Action.CopyToClipboard"),
  Paste: host("Action.Paste"),
  Open: host("Action.Open"),
  ShowInFinder: host("Action.ShowInFinder"),
  Push: host("Action.Push"),
  SubmitForm: host("Action.SubmitForm"),
  Style: { Destructive: "destructive", Regular: "regular" },
});
