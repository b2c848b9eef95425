#!/usr/bin/python3
"""Drives the support console in Debian's headless Chromium (Selenium).

usage: console_browser_test.py BASE_URL TOKEN ORDER_ID SCREENSHOT_DIR SECRET...
Checks: refusal without the token, a wrong token refused, sign-in, look-up,
the order's deliveries and history, a resend with a reason recorded, and
that no SECRET appears on any page. Prints one line per step; exit 0 if all pass.
"""
import os, sys
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from console_browser import check, chromium, failures, screenshot, submit as submit_on

base, token, order_id, shots = sys.argv[1:5]
secrets = sys.argv[5:]
driver = chromium()
pages = []


def submit(button):
    submit_on(driver, button)


try:
    # Without the token: the order page is refused and the sign-in form shown.
    driver.get(base + "/support/orders?id=" + order_id)
    pages.append(driver.page_source)
    check(bool(driver.find_elements(By.ID, "token")) and "Please sign in" in driver.page_source,
          "without the token the order is refused and sign-in is asked for")
    check(not driver.find_elements(By.ID, "deliveries"), "no deliveries shown without the token")

    # A wrong token is refused.
    driver.get(base + "/support/")
    driver.find_element(By.ID, "token").send_keys("wrong-token")
    submit(driver.find_element(By.ID, "sign-in"))
    pages.append(driver.page_source)
    check("not valid" in driver.find_element(By.ID, "error").text, "a wrong token is refused")

    # Sign in, look the order up.
    driver.find_element(By.ID, "token").send_keys(token)
    submit(driver.find_element(By.ID, "sign-in"))
    check(bool(driver.find_elements(By.ID, "order-id")), "signed in: the look-up form is shown")
    driver.find_element(By.ID, "order-id").send_keys(order_id)
    submit(driver.find_element(By.ID, "look-up"))
    pages.append(driver.page_source)
    heading = driver.find_element(By.ID, "order-id").text
    check(heading == "Order " + order_id, "the order page shows the order: " + heading)
    rows = driver.find_elements(By.CSS_SELECTOR, "#deliveries tr")
    check(len(rows) >= 2 and "access-data" in driver.find_element(By.ID, "deliveries").text,
          "the deliveries are listed (%d rows)" % (len(rows) - 1))
    check("confirmed" in driver.find_element(By.ID, "history").text, "the history is listed")
    screenshot(driver, shots, "order.png")

    # Resend with a reason; the history records actor and reason.
    Select(driver.find_element(By.ID, "kind")).select_by_value("admin-notice")
    driver.find_element(By.ID, "reason").send_keys("administrator lost the notice")
    driver.find_element(By.ID, "actor").send_keys("agent.browser")
    submit(driver.find_element(By.ID, "resend"))
    pages.append(driver.page_source)
    check("Resend scheduled" in driver.find_element(By.ID, "notice").text, "the resend is confirmed")
    history = driver.find_element(By.ID, "history").text
    check("agent.browser" in history and "administrator lost the notice" in history,
          "the history shows actor and reason")
    screenshot(driver, shots, "resent.png")

    # Operator controls: hold everything, release it, cancel one delivery of an
    # order whose access data is scheduled for tomorrow.
    scheduled = os.environ.get("SCHEDULED_ORDER_ID")
    if scheduled:
        driver.get(base + "/support/")
        driver.find_element(By.ID, "hold-reason").send_keys("wrong template deployed")
        driver.find_element(By.ID, "hold-actor").send_keys("ops.browser")
        submit(driver.find_element(By.ID, "hold"))
        pages.append(driver.page_source)
        check("Held: everything" in driver.find_element(By.ID, "notice").text, "the hold is confirmed")
        check(driver.find_element(By.ID, "held-summary").text.startswith("1 deliveries are held"),
              "the held deliveries are counted: " + driver.find_element(By.ID, "held-summary").text)
        screenshot(driver, shots, "held.png")
        release = driver.find_element(By.CSS_SELECTOR, "form.hold")
        release.find_element(By.NAME, "reason").send_keys("template fixed")
        release.find_element(By.NAME, "actor").send_keys("ops.browser")
        submit(release.find_element(By.TAG_NAME, "button"))
        pages.append(driver.page_source)
        check("Released: everything; 1 deliveries are due again" in driver.find_element(By.ID, "notice").text,
              "the release is confirmed")
        check("No hold is in force" in driver.find_element(By.ID, "held-summary").text, "no hold is left")
        driver.get(base + "/support/orders?id=" + scheduled)
        Select(driver.find_element(By.ID, "delivery")).select_by_index(0)
        driver.find_element(By.ID, "cancel-reason").send_keys("customer cancelled this site by phone")
        driver.find_element(By.ID, "cancel-actor").send_keys("ops.browser")
        submit(driver.find_element(By.ID, "cancel"))
        pages.append(driver.page_source)
        check("cancelled" in driver.find_element(By.ID, "notice").text, "the cancellation is confirmed")
        check("customer cancelled this site by phone" in driver.find_element(By.ID, "history").text,
              "the history shows the cancellation's reason")
        screenshot(driver, shots, "cancelled.png")

    # Unknown order.
    driver.get(base + "/support/orders?id=NO-SUCH-ORDER")
    pages.append(driver.page_source)
    check(driver.find_element(By.ID, "missing-id").text == "NO-SUCH-ORDER", "an unknown order is reported")

    # Cookie is HttpOnly: page scripts cannot read it.
    cookie = driver.get_cookie("flexpost_support")
    check(cookie is not None and cookie.get("httpOnly") is True and token not in cookie.get("value", ""),
          "the session cookie is HttpOnly and does not hold the token")

    # Sign out.
    submit(driver.find_element(By.ID, "sign-out"))
    driver.get(base + "/support/orders?id=" + order_id)
    check(not driver.find_elements(By.ID, "deliveries"), "after sign-out the order is refused again")

    for secret in secrets:
        check(all(secret not in page for page in pages), "no secret on any page")
finally:
    driver.quit()
sys.exit(1 if failures else 0)
