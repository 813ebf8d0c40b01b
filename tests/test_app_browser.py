"""A person's visit: headless Chromium opens the page, draws on the sketchpad with the mouse.

Uses Debian's ``chromium`` (``/usr/bin/chromium``) through Playwright. Saves the page as
``tests/artifacts/app.png`` (the README's screenshot), and ``<test>-failure.png`` on a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from webapp import chromium

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TIMEOUT_MS = 60_000  # a shared 2-core machine can be slow to render and answer

SEVEN = [(0.25, 0.2), (0.72, 0.2), (0.42, 0.85)]
ONE = [(0.5, 0.15), (0.52, 0.85)]


expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture
def page(app_url: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """The app's page in a fresh browser; a screenshot is saved if the test fails."""
    failures = request.session.testsfailed
    with sync_playwright() as playwright:
        browser = chromium.launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(app_url)
        expect(page.locator("#sketchpad canvas").first).to_be_visible()
        yield page
        if request.session.testsfailed > failures:  # the test's own report is counted by now
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=ARTIFACTS / f"{request.node.name}-failure.png", full_page=True)
        browser.close()


def test_drawing_a_seven_shows_it_with_neighbours(page: Page) -> None:
    chromium.draw(page, SEVEN)
    expect(page.locator("#prediction h2")).to_have_text("7")
    expect(page.locator("#neighbours img")).to_have_count(4)
    expect(page.locator("#neighbours figcaption").first).to_contain_text("vote")
    expect(page.locator("#preview img")).to_be_visible()
    expect(page.locator("#votes strong").first).to_have_text("7")
    # The images come inline: no file is fetched for them.
    assert page.locator("#preview img").get_attribute("src").startswith("data:image/png")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "app.png", full_page=True)


def test_clearing_the_canvas_gives_the_hint_and_a_new_digit_follows(page: Page) -> None:
    chromium.draw(page, SEVEN)
    expect(page.locator("#prediction h2")).to_have_text("7")
    page.locator("#sketchpad button[aria-label='Clear canvas']").click()
    expect(page.locator("#votes")).to_contain_text("draw a digit", ignore_case=True)
    chromium.draw(page, ONE)
    expect(page.locator("#prediction h2")).to_have_text("1")


def test_advanced_k_applies_at_once(page: Page) -> None:
    chromium.draw(page, ONE)
    expect(page.locator("#neighbours img")).to_have_count(4)
    page.get_by_text("Advanced").click()
    slider = page.locator("input[type=range]").first
    expect(slider).to_have_value("4")
    # As a person at the keyboard does: press until it shows 9. Gradio may re-render the slider
    # with its first value just after the panel opens, undoing an early key press.
    for _ in range(15):
        if slider.input_value() == "9":
            break
        slider.press("ArrowRight")
    expect(slider).to_have_value("9")
    expect(page.locator("#neighbours img")).to_have_count(9)
    expect(page.locator("#prediction h2")).to_have_text("1")


def test_an_example_from_the_upload_tab_is_classified(page: Page) -> None:
    page.get_by_role("tab", name="Upload").click()
    page.locator("img[src*='digit-3.png']").first.click()
    expect(page.locator("#prediction h2")).to_have_text("3")
    expect(page.locator("#neighbours img")).to_have_count(4)


def test_a_correction_is_learnt_at_once_for_this_visitor(page: Page) -> None:
    chromium.draw(page, SEVEN)
    expect(page.locator("#prediction h2")).to_have_text("7")
    page.locator("#teach-1").click()  # "Wrong? It's a 1"
    expect(page.locator("#prediction h2")).to_have_text("1")
    page.locator("#sketchpad button[aria-label='Clear canvas']").click()
    expect(page.locator("#votes")).to_contain_text("draw a digit", ignore_case=True)
    chromium.draw(page, SEVEN)  # the same hand again
    expect(page.locator("#prediction h2")).to_have_text("1")
    expect(page.locator("#neighbours .yours").first).to_be_visible()
    page.get_by_text("Your examples").click()
    expect(page.locator("#yours img")).to_have_count(1)


def test_an_answer_let_stand_is_learnt_when_the_canvas_is_cleared(page: Page) -> None:
    chromium.draw(page, SEVEN)
    expect(page.locator("#prediction h2")).to_have_text("7")
    expect(page.locator("#neighbours .yours")).to_have_count(0)
    page.locator("#sketchpad button[aria-label='Clear canvas']").click()
    expect(page.locator("#votes")).to_contain_text("draw a digit", ignore_case=True)
    chromium.draw(page, SEVEN)  # the next one, drawn alike: the first is among its neighbours
    expect(page.locator("#prediction h2")).to_have_text("7")
    expect(page.locator("#neighbours .yours").first).to_be_visible()
    page.get_by_text("Your examples").click()
    expect(page.locator("#yours")).to_contain_text("Answers you let stand")
    expect(page.locator("#yours img")).to_have_count(1)


def test_a_number_is_read_as_it_is_written(page: Page) -> None:
    page.get_by_role("tab", name="Number").click()
    expect(page.locator("#number-pad canvas").first).to_be_visible()
    area = {"pad": "number-pad", "aspect": 3.0, "widest": 10_000}  # the 900x300 canvas, scaled
    chromium.draw(page, [(0.22, 0.15), (0.23, 0.85)], **area)  # a 1 ...
    chromium.draw(page, [(0.4, 0.2), (0.6, 0.2), (0.47, 0.85)], **area)  # ... a 7, brush ready
    expect(page.locator("#number h1")).to_have_text("17")
    expect(page.locator("#number-digits img")).to_have_count(2)
    chromium.settle(page, "#number-digits")  # the pad's last report of the 7 is read, too
    page.locator("#number-pick label").nth(1).click()
    expect(page.locator("#prediction h2")).to_have_text("7")
    # Its four voters; non-digit references near this quick 7 may be shown beside them.
    expect(page.locator("#neighbours figure:not(.reference) img")).to_have_count(4)
    page.locator("#teach-2").click()  # "Wrong? It's a 2": the number is read again with it
    expect(page.locator("#number h1")).to_have_text("12")
    expect(page.locator("#prediction h2")).to_have_text("2")
    expect(page.locator("#number-pick input:checked")).to_have_value("2: 2")


PHONE = {"width": 390, "height": 844}


def test_a_phone_draws_with_a_finger_and_fits_the_screen(app_url: str) -> None:
    with sync_playwright() as playwright:
        browser = chromium.launch(playwright)
        context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        try:
            page.goto(app_url)
            canvas = page.locator("#sketchpad canvas").first
            expect(canvas).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            # The canvas comes before the results: reachable without scrolling past them.
            canvas_top = canvas.bounding_box()["y"]
            assert canvas_top < page.locator("#prediction").bounding_box()["y"]
            assert canvas_top < PHONE["height"]
            # The pad's box shrinks with its canvas: the answer shows below it, on the first
            # screen, while the finger draws (Gradio's fixed box height would push it off).
            prediction = page.locator("#prediction").bounding_box()
            assert prediction["y"] + prediction["height"] <= PHONE["height"]
            # "Wrong? It's a ..." stays on one line beside the digits' buttons.
            assert page.locator("#teach-label").bounding_box()["height"] < 40
            chromium.touch(page, SEVEN)
            expect(page.locator("#prediction h2")).to_have_text("7")
            expect(page.locator("#neighbours img")).to_have_count(4)
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=ARTIFACTS / "phone-failure.png", full_page=True)
            raise
        finally:
            browser.close()
