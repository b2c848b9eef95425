#!/usr/bin/python3
"""Drives the support console of a team (SPEC §7 people and roles) in
Debian's headless Chromium (Selenium).

usage: console_team_browser_test.py BASE_URL ORDER_ID CUSTOMER_NUMBER PHONE SCREENSHOT_DIR
The environment gives AGENT and VIEWER as name:password. Checks: sign-in by
keyboard alone, search by phone number and by customer number, the order's
"why", a resend by the agent recorded under her name, a POST without the
CSRF token refused, the overview and its chart, sign-out and the old cookie
refused after it, the viewer without a resend button and refused when she
posts one, labels on every field, and the pages in German for a browser that
prefers German. A screenshot of each page goes to SCREENSHOT_DIR. Prints one
line per step; exit 0 if all pass.
"""
import os, sys
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select
from console_browser import (check, chromium, failures, post_form, screenshot, submit, unlabelled_fields,
                             wait_for_next_page)

base, order_id, customer, phone, shots = sys.argv[1:6]
agent, agent_password = os.environ["AGENT"].split(":", 1)
viewer, viewer_password = os.environ["VIEWER"].split(":", 1)


def text(driver, element_id):
    found = driver.find_elements(By.ID, element_id)
    return found[0].text if found else ""


def accessible(driver, page):
    lang = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
    missing = unlabelled_fields(driver)
    check(not missing and len(driver.find_elements(By.TAG_NAME, "h1")) == 1 and driver.find_elements(By.TAG_NAME, "main"),
          "%s: one h1, a main, a label on every field (unlabelled: %s; lang %s)" % (page, missing, lang))
    return lang


def sign_in(driver, name, password):
    driver.get(base + "/support/")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    submit(driver, driver.find_element(By.ID, "sign-in"))


english = chromium("en-US,en")
try:
    # Sign-in by keyboard alone: the skip link first, then name, password, Enter.
    english.get(base + "/support/")
    check(accessible(english, "sign-in") == "en", "the page says it is English")
    screenshot(english, shots, "login.png")
    body = english.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    check(english.switch_to.active_element.get_attribute("class") == "skip", "the first Tab reaches the skip link")
    english.switch_to.active_element.send_keys(Keys.TAB)
    check(english.switch_to.active_element.get_attribute("id") == "name", "the next Tab reaches the name field")
    english.switch_to.active_element.send_keys(agent + Keys.TAB)
    old = english.find_element(By.TAG_NAME, "html")
    english.switch_to.active_element.send_keys(agent_password + Keys.ENTER)
    wait_for_next_page(english, old)
    check(text(english, "person") == agent, "signed in by keyboard as " + text(english, "person"))
    accessible(english, "first page")
    screenshot(english, shots, "home.png")

    # Search: the phone number as the customer says it on the phone opens the order.
    english.find_element(By.ID, "order-id").send_keys(phone)
    submit(english, english.find_element(By.ID, "look-up"))
    check(text(english, "order-id") == "Order " + order_id, "the phone number %s finds %s" % (phone, text(english, "order-id")))
    english.get(base + "/support/")
    english.find_element(By.ID, "order-id").send_keys(customer)
    submit(english, english.find_element(By.ID, "look-up"))
    rows = english.find_elements(By.CSS_SELECTOR, "#orders tr")
    check(len(rows) >= 3 and "newest first" in text(english, "search-summary"),
          "the customer number lists the customer's orders: " + text(english, "search-summary"))
    accessible(english, "search")
    screenshot(english, shots, "search.png")
    english.find_element(By.LINK_TEXT, order_id).click()
    check(text(english, "order-id") == "Order " + order_id, "a result opens its order")
    check("R1:" in text(english, "why") and "one-time password" in text(english, "why"),
          "why: when the access data goes and whether the one-time password is in it")
    check(not english.find_elements(By.ID, "actor"), "the agent types no name: she acts as herself")
    accessible(english, "order")
    screenshot(english, shots, "order.png")

    # A resend by the agent, recorded under her name.
    Select(english.find_element(By.ID, "kind")).select_by_value("admin-notice")
    english.find_element(By.ID, "reason").send_keys("administrator lost the notice")
    submit(english, english.find_element(By.ID, "resend"))
    check("Resend scheduled" in text(english, "notice"), "the resend is confirmed")
    history = english.find_elements(By.CSS_SELECTOR, "#history tr")
    check(any((" %s resend " % agent) in row.text and "administrator lost the notice" in row.text for row in history),
          "the history names the agent and the reason")
    screenshot(english, shots, "resent.png")

    # A POST without the session's CSRF token (as another site's page would send it): refused.
    before = text(english, "history").count("resend")
    post_form(english, base + "/support/orders/%s/resend" % order_id,
              {"kind": "admin-notice", "reason": "forged"})
    check("not sent from your support console session" in text(english, "error"), "a POST without the CSRF token is refused")
    english.get(base + "/support/orders?id=" + order_id)
    check(text(english, "history").count("resend") == before, "and nothing was resent")

    # The overview: counts per state, the chart of the last 24 hours.
    english.find_element(By.ID, "overview-link").click()
    chart = english.find_elements(By.CSS_SELECTOR, "#chart svg")
    bars = [rect for rect in english.find_elements(By.CSS_SELECTOR, "#chart svg rect[height]")
            if float(rect.get_attribute("height") or 0) > 0 and rect.get_attribute("width") != "10"]
    check(bool(chart) and "per hour" in english.find_element(By.CSS_SELECTOR, "#chart svg title").get_attribute("textContent"),
          "the overview draws the chart")
    check(len(bars) >= 1 and "sent" in text(english, "day-summary"), "the chart has the mail sent today: %d bars" % len(bars))
    check("sent" in text(english, "states"), "the counts per state are listed")
    accessible(english, "overview")
    screenshot(english, shots, "overview.png")

    # Sign-out; the old cookie, replayed, is refused.
    cookie = english.get_cookie("flexpost_support")
    submit(english, english.find_element(By.ID, "sign-out"))
    check(bool(english.find_elements(By.ID, "sign-in")), "signed out")
    screenshot(english, shots, "signed-out.png")
    english.add_cookie({"name": cookie["name"], "value": cookie["value"], "path": cookie.get("path", "/")})
    english.get(base + "/support/orders?id=" + order_id)
    check(not english.find_elements(By.ID, "deliveries") and english.find_elements(By.ID, "sign-in"),
          "the cookie replayed after sign-out is refused")

    # The viewer: no resend button, and a resend she posts anyway is refused.
    sign_in(english, viewer, viewer_password)
    english.get(base + "/support/orders?id=" + order_id)
    check(bool(english.find_elements(By.ID, "deliveries")) and not english.find_elements(By.ID, "resend"),
          "the viewer sees the order, no resend button")
    csrf = english.find_element(By.CSS_SELECTOR, "input[name=csrf]").get_attribute("value")
    post_form(english, base + "/support/orders/%s/resend" % order_id,
              {"kind": "admin-notice", "reason": "viewer tries", "csrf": csrf})
    check("as viewer you may not resend" in text(english, "error"), "the viewer's resend is refused: " + text(english, "error"))
    screenshot(english, shots, "viewer-refused.png")
finally:
    english.quit()

german = chromium("de-DE,de;q=0.9,en;q=0.5")
try:
    german.get(base + "/support/")
    check(accessible(german, "Anmeldung") == "de" and german.find_element(By.ID, "sign-in").text == "Anmelden",
          "a browser preferring German gets the sign-in in German")
    screenshot(german, shots, "login-de.png")
    sign_in(german, viewer, viewer_password)
    check("Auftrag suchen" in german.page_source, "the first page in German")
    screenshot(german, shots, "home-de.png")
    german.get(base + "/support/orders?id=" + order_id)
    check(text(german, "order-id") == "Auftrag " + order_id and "R1: bestätigt" in text(german, "why"),
          "the order and its why in German")
    screenshot(german, shots, "order-de.png")
    german.find_element(By.ID, "overview-link").click()
    check("Geht die Post hinaus?" in text(german, "overview-heading") and
          "je Stunde" in german.find_element(By.CSS_SELECTOR, "#chart svg title").get_attribute("textContent"),
          "the overview and its chart in German")
    screenshot(german, shots, "overview-de.png")
finally:
    german.quit()
sys.exit(1 if failures else 0)
