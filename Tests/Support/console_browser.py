"""What the console's browser tests share: Debian's headless Chromium under
Selenium, a step that reports ok/FAIL, and a submit that waits for the next
page. Imported by console_browser_test.py and console_team_browser_test.py."""
import os
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

failures = []


def check(condition, step):
    print(("ok   " if condition else "FAIL ") + step, flush=True)
    if not condition:
        failures.append(step)


def chromium(accept_languages="en-US,en"):
    """A headless Chromium whose requests carry the given Accept-Language."""
    options = Options()
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900"]:
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": accept_languages})
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(20)
    return driver


def detached(element):
    """A wait condition: the element no longer belongs to the page. Chromium
    reports a node of the replaced document either as a stale element or, now
    and then, as a generic inspector error ("Node with given id does not belong
    to the document"), which Selenium's staleness_of does not catch."""
    def predicate(_):
        try:
            element.is_enabled()
            return False
        except WebDriverException:
            return True
    return predicate


def wait_for_next_page(driver, old):
    WebDriverWait(driver, 15).until(detached(old))
    WebDriverWait(driver, 15).until(lambda d: d.execute_script("return document.readyState") == "complete")


def submit(driver, button):
    """Clicks a submit button and waits until the next page has replaced this one."""
    old = driver.find_element(By.TAG_NAME, "html")
    WebDriverWait(driver, 15).until(EC.element_to_be_clickable(button))
    button.click()
    wait_for_next_page(driver, old)


def screenshot(driver, directory, name):
    path = os.path.join(directory, name)
    driver.save_screenshot(path)
    print("     screenshot " + name, flush=True)


def post_form(driver, action, fields):
    """Posts a form the page itself does not offer (a forged or refused
    request), from the console's own origin: built in the page's DOM and
    submitted, as a browser would. Waits for the answer's page."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.execute_script("""
        const form = document.createElement('form');
        form.method = 'post'; form.action = arguments[0];
        for (const [name, value] of Object.entries(arguments[1])) {
            const input = document.createElement('input');
            input.type = 'hidden'; input.name = name; input.value = value;
            form.appendChild(input);
        }
        document.body.appendChild(form);
        form.submit();
    """, action, fields)
    wait_for_next_page(driver, old)


def unlabelled_fields(driver):
    """The visible form fields without a label a screen reader would read."""
    return driver.execute_script("""
        return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter(field =>
            !(field.id && document.querySelector('label[for="' + field.id + '"]')) && !field.closest('label')
        ).map(field => field.name || field.id);
    """)
