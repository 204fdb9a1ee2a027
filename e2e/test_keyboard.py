"""Every page type by keyboard alone (issue 13, point 7), for each demo role.

For each role (a visitor, a citizen, a business acting through its legal representative, the
clerk, the officer, the supervisor and the administrator) the test follows the links of the pages
it reaches, one page per route, and on each page presses only Tab, Shift+Tab and Enter:

- the first Tab lands on the skip link, which is visible then, and Enter moves the focus to the
  main content;
- Tab walks every control in document order (a radio group is one stop), each with a visible
  focus indicator of 3:1 contrast against its surroundings (WCAG 1.4.11), on screen and not
  hidden under anything (a sticky header);
- after the last control the focus leaves the page (no trap), and Shift+Tab walks them all back;
- every stop is a control a keyboard can operate (a link, a button, a form control, a summary),
  never a bare element made focusable;
- Enter on the first link of the main content follows it.

axe-core checks every page on the way (the `new_context` fixture).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect
from werkzeug.exceptions import HTTPException

from .conftest import platform_app
from .test_journey import sign_in

# Links never followed: they leave the platform, sign out, download a file, or answer in JSON.
NOT_PAGES = re.compile(
    r"^/(auth/(login/|logout|callback)|lang|metrics|readyz|healthz|api/|\.well-known/|static/|audit/)"
    r"|\.(pdf|ofd|png|json|csv|jwt|sd-jwt|pem)$|/qr\.png$|/attachments/\d+$"
)
PAGES_PER_ROLE = 40

#: Marks the controls a keyboard should reach, in document order, and records every focus move.
PREPARE = """() => {
  const selector = 'a[href], area[href], button, input, select, textarea, summary, iframe, [tabindex], [contenteditable]';
  const reachable = (el) => el.tabIndex >= 0 && !el.disabled && !(el.type === 'hidden')
      && el.checkVisibility({visibilityProperty: true}) && !el.closest('[inert]')
      && !(el.tagName === 'SUMMARY' && el.parentElement.tagName !== 'DETAILS');
  const describe = (el) => el === document.body || !el ? '(page)' :
      `<${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.name ? ' name=' + el.name : ''}> `
      + (el.getAttribute('aria-label') || el.textContent || el.value || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
  const stops = [], seenGroups = new Set();
  for (const el of document.querySelectorAll(selector)) {
    if (!reachable(el)) continue;
    if (el.type === 'radio' && el.name) {  // a radio group is one Tab stop (arrows move inside it)
      const key = (el.form ? el.form.id || 'f' : 'doc') + ':' + el.name;
      if (seenGroups.has(key)) { el.__stop = stops.length - 1 - [...stops].reverse().findIndex(s => s.group === key); continue; }
      seenGroups.add(key);
      el.__stop = stops.length; stops.push({text: describe(el), group: key}); continue;
    }
    el.__stop = stops.length; stops.push({text: describe(el)});
  }
  window.__kbd = {stops, moves: []};
  const operable = (el) => el.matches('a[href], area[href], button, input, select, textarea, summary, iframe')
      || ['button', 'link', 'checkbox', 'radio', 'tab', 'menuitem', 'option', 'switch', 'textbox', 'combobox', 'slider']
          .includes(el.getAttribute('role'));
  document.addEventListener('focusin', (e) => {
    const el = e.target, style = getComputedStyle(el), r = el.getBoundingClientRect();
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 1;
    const ring = outline || (style.boxShadow && style.boxShadow !== 'none');
    const cx = Math.min(Math.max(r.left + r.width / 2, 0), innerWidth - 1), cy = Math.min(Math.max(r.top + r.height / 2, 0), innerHeight - 1);
    const top = document.elementFromPoint(cx, cy);
    // WCAG 1.4.11: a focus ring needs 3:1 against what surrounds it (the outline sits outside the
    // element, on its parent's background); the browser's own ring ('auto') is two-tone
    const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
        .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    const around = () => { for (let e = el.parentElement; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor); if (c.length < 4 || c[3] > 0) return c; } return [255, 255, 255]; };
    let contrast = null;
    if (outline && style.outlineStyle !== 'auto') {
      const a = lum(rgb(style.outlineColor)), b = lum(around());
      contrast = Math.round((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) * 100) / 100;
    }
    const onScreen = r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth;
    window.__kbd.moves.push({stop: el.__stop ?? null, text: describe(el), ring, onScreen, skip: el.classList.contains('skip'), contrast,
        covered: onScreen && !!top && !(el === top || el.contains(top) || top.contains(el) || (el.labels && [...el.labels].some(l => l.contains(top)))),
        operable: operable(el), id: el.id || null});
  }, true);
  return stops.length;
}"""  # noqa: E501


@pytest.fixture(scope="module")
def url_map(base_url, instance_dir, database_url, idp_url):
    """The platform's routes, to name the page type (the endpoint) of a link."""
    app = platform_app(instance_dir, database_url, idp_url, base_url)
    return app.url_map.bind("127.0.0.1")


def _endpoint(url_map, path: str) -> str | None:
    try:
        endpoint, _ = url_map.match(path, method="GET")
    except HTTPException:
        return None
    return endpoint


def _links(page: Page, base_url: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")
    out = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != base_url or NOT_PAGES.search(parts.path):
            continue
        out.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return out


# Has the forward walk come round: the last stop reached, then the first again?
_ROUND = """() => { const s = window.__kbd.moves.map(m => m.stop), n = window.__kbd.stops.length;
  const last = s.lastIndexOf(n - 1); return n === 0 || (last >= 0 && s.slice(last + 1).includes(0)); }"""


def _walk(page: Page) -> list[str]:
    """Tab / Shift+Tab / Enter through the page as it has loaded; the problems found."""
    problems = []
    count = page.evaluate(PREPARE)
    stops = page.evaluate("() => window.__kbd.stops")
    # every stop, out of the page, and round to the first again (a scrollable region is a stop
    # too in Chromium, not listed: press on until the walk has come round)
    for _ in range(count + 2):
        page.keyboard.press("Tab")
    for _ in range(count + 20):
        if page.evaluate(_ROUND):
            break
        page.keyboard.press("Tab")
    forward = page.evaluate("() => window.__kbd.moves")
    first = forward[0] if forward else None
    if not first or not first["skip"]:
        problems.append(f"the first Tab does not reach the skip link (it reached {first and first['text']})")
    elif not first["onScreen"]:
        problems.append("the skip link is not visible when focused")
    visited = [m["stop"] for m in forward if m["stop"] is not None]
    missing = [stops[i]["text"] for i in range(count) if i not in set(visited)]
    if missing:
        problems.append(f"not reachable by Tab: {missing[:5]}")
    order = list(dict.fromkeys(visited))
    if order != sorted(order):
        problems.append("Tab does not follow the document order")
    if count and (count - 1) in visited:
        after = visited[visited.index(count - 1) + 1 :]
        if after and after[0] != 0:
            problems.append(f"the focus is trapped after the last control (it goes on to {stops[after[0]]['text']})")
    elif count and not missing:
        problems.append("the last control was never left")
    for m in forward:
        if m["stop"] is None:
            continue
        if not m["ring"]:
            problems.append(f"no visible focus on {m['text']}")
        elif m["contrast"] is not None and m["contrast"] < 3:
            problems.append(f"the focus ring on {m['text']} has {m['contrast']}:1 against its surroundings, not 3:1")
        if not m["onScreen"]:
            problems.append(f"focused but off screen: {m['text']}")
        elif m["covered"]:
            problems.append(f"focused but covered by another element: {m['text']}")
        if not m["operable"]:
            problems.append(f"a focus stop a keyboard cannot operate: {m['text']}")
    # and back
    page.evaluate("() => { window.__kbd.moves = []; }")
    for _ in range(count + 1):
        page.keyboard.press("Shift+Tab")
    for _ in range(count + 20):
        if (
            page.evaluate("() => new Set(window.__kbd.moves.map(m => m.stop).filter(s => s !== null)).size")
            >= count - 1
        ):
            break
        page.keyboard.press("Shift+Tab")
    backward = {m["stop"] for m in page.evaluate("() => window.__kbd.moves") if m["stop"] is not None}
    if count and len(backward) < count - 1:  # the stop Shift+Tab starts beside may be the page itself
        problems.append(f"Shift+Tab reaches {len(backward)} of {count} controls")
    # Enter on the skip link moves the focus to the main content
    for _ in range(count + 3):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.classList.contains('skip')"):
            page.keyboard.press("Enter")
            if page.evaluate("() => document.activeElement.id") != "main":
                problems.append("Enter on the skip link does not move the focus to the main content")
            break
    return list(dict.fromkeys(problems))


def _follow_main_link(page: Page) -> str | None:
    """Enter on the first link of the main content, reached by Tab from the skip link."""
    target = page.evaluate(
        """() => { const a = [...document.querySelectorAll('main a[href]')].find(a => a.checkVisibility()
                   && !/\\.(pdf|ofd|png|json|csv|jwt)$/.test(a.pathname) && a.origin === location.origin
                   && !a.hash && a.target !== '_blank');
                  return a ? a.href : null; }"""
    )
    if target is None:
        return None
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.href || null") == target:
            with page.expect_navigation():
                page.keyboard.press("Enter")
            if page.url.split("#")[0] != target.split("#")[0]:
                return f"Enter on the link {target} went to {page.url}"
            return None
    return f"the link {target} was never reached by Tab"


def _crawl(page: Page, base_url: str, url_map, start: list[str], limit: int = PAGES_PER_ROLE) -> dict[str, list[str]]:
    """One page per route reachable from `start`: route -> the problems found there."""
    queue, seen_endpoints, seen_paths, report = list(start), set(), set(), {}
    while queue and len(report) < limit:
        path = queue.pop(0)
        endpoint = _endpoint(url_map, path.split("?")[0])
        if endpoint is None or path in seen_paths or endpoint in seen_endpoints:
            continue
        seen_paths.add(path)
        try:
            answer = page.goto(path)
        except PlaywrightError:  # a download, not a page
            continue
        if "#" in page.url:  # a redirect to a part of a page: the focus starts there, by design
            answer = page.goto(page.url.split("#")[0])
        if answer is None or answer.status >= 400 or "text/html" not in answer.headers.get("content-type", ""):
            continue
        seen_endpoints.add(endpoint)
        report[f"{endpoint} {path}"] = _walk(page)
        queue.extend(link for link in _links(page, base_url) if link not in seen_paths)
    return report


def _failures(report: dict[str, list[str]]) -> str:
    return "\n".join(f"{where}: {p}" for where, problems in report.items() for p in problems)


ROLES = {
    "visitor": (None, ["/", "/items/", "/progress/", "/open/", "/petitions/published", "/auth/login"]),
    "citizen": ("张三", ["/", "/cases", "/wallet", "/notices/", "/petitions/mine", "/bundles/", "/auth/me"]),
    "clerk": ("赵敏", ["/window/", "/window/find", "/auth/me"]),
    "officer": ("刘洋", ["/review/", "/review/certificates", "/items/consultations", "/auth/me"]),
    "supervisor": ("孙强", ["/supervision/", "/auth/me"]),
    "admin": ("郑华", ["/", "/auth/me"]),
}


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_works_by_keyboard_alone(new_context, base_url, url_map, role):
    name, start = ROLES[role]
    page = new_context().new_page()
    if name:
        sign_in(page, name)
    report = _crawl(page, base_url, url_map, start)
    assert len(report) >= 3, report  # the walk reached the role's pages
    failures = _failures(report)
    assert not failures, f"{len(report)} pages walked as {role}; by keyboard:\n{failures}"
    page.goto(start[0])
    problem = _follow_main_link(page)
    assert problem is None, problem


def test_a_business_works_by_keyboard_alone_while_acting_for_it(new_context, base_url, url_map):
    page = new_context().new_page()
    sign_in(page, "王五")
    header = page.get_by_role("banner")
    header.get_by_text("办事身份：本人").click()
    header.get_by_label("办事身份").select_option(label="北京朝阳示例餐饮有限公司（法定代表人）")
    header.get_by_role("button", name="切换").click()
    expect(header).to_contain_text("办事身份：北京朝阳示例餐饮有限公司")
    report = _crawl(page, base_url, url_map, ["/enterprise/", "/apply/scjgj-spjyxk-bg", "/wallet", "/cases"])
    assert len(report) >= 3, report
    failures = _failures(report)
    assert not failures, f"{len(report)} pages walked acting for the business; by keyboard:\n{failures}"


@pytest.mark.parametrize("role", ["visitor", "citizen", "clerk"])
def test_pages_work_by_keyboard_at_phone_width(new_context, base_url, url_map, role):
    """A phone with a keyboard (or a narrow window): the same walk at 390 px, where the header
    folds and tables scroll."""
    name, start = ROLES[role]
    page = new_context(viewport={"width": 390, "height": 844}).new_page()
    if name:
        sign_in(page, name)
    report = _crawl(page, base_url, url_map, start, limit=15)
    assert len(report) >= 3, report
    failures = _failures(report)
    assert not failures, f"{len(report)} pages walked as {role} at 390 px; by keyboard:\n{failures}"


def _tab_to(page: Page, condition: str, limit: int = 300) -> None:
    """Tab until the focused element meets `condition` (JavaScript over `el`)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const el = document.activeElement; return !!({condition}); }}"):
            return
    raise AssertionError(f"never reached by Tab: {condition}")


def test_a_form_with_errors_and_a_confirmation_work_by_keyboard(new_context):
    """The pages a POST leads to: a form sent back with its errors, and a confirmation before a
    decision that cannot be undone, reached, walked and left by keyboard."""
    citizen = new_context().new_page()
    sign_in(citizen, "张三")
    citizen.goto("/apply/gaj-csdj")
    _tab_to(citizen, "el.textContent.trim() === '提交申请'")
    with citizen.expect_navigation():
        citizen.keyboard.press("Enter")
    expect(citizen.get_by_role("main")).to_contain_text("申请未提交：请按提示修改标出的内容。")
    assert _walk(citizen) == []

    officer = new_context().new_page()
    sign_in(officer, "刘洋")
    officer.goto("/review/certificates")
    _tab_to(officer, "el.id && el.id.startsWith('reason-')")
    officer.keyboard.type("键盘测试：仅到确认页，不吊销")
    officer.keyboard.press("Tab")
    assert officer.evaluate("() => document.activeElement.textContent.trim()") == "吊销"
    with officer.expect_navigation():
        officer.keyboard.press("Enter")
    expect(officer.get_by_role("heading", name="确认前请了解后果")).to_be_visible()
    assert _walk(officer) == []
    _tab_to(officer, "el.textContent.trim() === '返回，不作此决定'")
    with officer.expect_navigation():
        officer.keyboard.press("Enter")
    assert urlsplit(officer.url).path == "/review/certificates"  # back to the certificate, nothing decided
