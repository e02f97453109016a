"""Helpers for the browser tests: Debian's Chromium launched for a closed network as root, a
page at a given width logged in as a member through Django's own session, and the layout checks
run in the page."""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings
from django.test import Client

from tests.conftest import CHROMIUM

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}


@contextmanager
def chromium():
    """Debian's Chromium through Playwright, closed at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def browser_page(*, width: int = 1280, javascript: bool = True, locale: str = "ja-JP"):
    height = PHONE["height"] if width <= PHONE["width"] else 900
    with chromium() as browser:
        context = browser.new_context(
            locale=locale,
            viewport={"width": width, "height": height},
            java_script_enabled=javascript,
            is_mobile=width <= PHONE["width"],
            has_touch=width <= PHONE["width"],
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            yield page
        finally:
            context.close()


def logged_in(page, live_server, customer) -> None:
    """Log the member in by handing the browser a session made by Django's test client."""
    client = Client()
    client.force_login(customer.user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


# Run in the page: what sticks out. The page must not scroll sideways, and no visible element
# may stick out of its parent's box (outside a container that scrolls sideways on purpose).
OVERFLOWS_JS = """() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) {
    problems.push(`page is ${root.scrollWidth}px wide in a ${root.clientWidth}px viewport`);
  }
  const scrollsSideways = (el) => {
    for (let a = el.parentElement; a; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === "auto" || o === "scroll") return true;
    }
    return false;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "");
  for (const el of document.body.querySelectorAll("*")) {
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden" || el.closest("[hidden]")) continue;
    if (["SCRIPT", "OPTION", "BR"].includes(el.tagName)) continue;
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) continue;  // visually hidden (skip link, labels)
    const parent = el.parentElement;
    if (!parent || parent === document.body) continue;
    const p = parent.getBoundingClientRect();
    if (p.width <= 1 || p.height <= 1) continue;  // inside a visually hidden box
    // A negative margin reaches into the padding around the parent on purpose (a grid row's
    // gutters): allowed, by that much.
    const left = Math.max(0, -parseFloat(style.marginLeft));
    const right = Math.max(0, -parseFloat(style.marginRight));
    if ((r.right > p.right + right + 1 || r.left < p.left - left - 1) && !scrollsSideways(el)) {
      problems.push(`${name(el)} sticks out of ${name(parent)} (${Math.round(r.left)}..${Math.round(r.right)} in ${Math.round(p.left)}..${Math.round(p.right)})`);
    }
  }
  return problems;
}"""

# Run in the page: texts of buttons and table cells that wrap nearly one character per line.
NARROW_TEXT_JS = """(selector) => {
  const problems = [];
  for (const el of document.querySelectorAll(selector)) {
    const text = el.innerText.trim();
    if (text.length < 4) continue;
    let hidden = false;  // visually hidden (a table head kept for screen readers)
    for (let a = el; a; a = a.parentElement) {
      const r = a.getBoundingClientRect();
      if (r.width <= 1 || r.height <= 1) hidden = true;
    }
    if (hidden) continue;
    // The line boxes of the text itself (not of the boxes around it, such as a form).
    const tops = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) if (r.width > 0) tops.push(r.top);
    }
    tops.sort((a, b) => a - b);
    const lines = tops.filter((top, i) => i === 0 || top - tops[i - 1] > 4).length;
    if (text.length / lines < 4) problems.push(`${text} (${lines} lines)`);
  }
  return problems;
}"""


def relative_luminance(rgb) -> float:
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground, background) -> float:
    lighter, darker = sorted(
        (relative_luminance(foreground), relative_luminance(background)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


# Run in the page: each visible link's colour and the colour behind it (semi-transparent
# colours blended over what is under them), as [text, [r,g,b], [r,g,b]].
LINK_COLOURS_JS = """() => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const blend = (top, under) => {
    const a = top.length > 3 ? top[3] : 1;
    return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a));
  };
  const background = (el) => {
    const layers = [];
    for (let a = el; a; a = a.parentElement) {
      const c = parse(getComputedStyle(a).backgroundColor);
      if (c.length && (c.length < 4 || c[3] > 0)) layers.push(c);
      if (c.length && (c.length < 4 || c[3] === 1)) break;
    }
    let colour = [255, 255, 255];
    for (const layer of layers.reverse()) colour = blend(layer, colour);
    return colour;
  };
  const out = [];
  for (const a of document.querySelectorAll("a[href]")) {
    const r = a.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1 || getComputedStyle(a).visibility === "hidden") continue;
    const bg = background(a);
    out.push([a.innerText.trim().slice(0, 40), blend(parse(getComputedStyle(a).color), bg), bg]);
  }
  return out;
}"""
