#!/usr/bin/env python3
"""Takes a screenshot of a page in real headless Chromium, through chromedriver.

Used for the README's pictures of the widget. Standard library only.
Usage: python3 tests/screenshot.py URL OUT.png [--size 900x600] [--wait 20]
       [--dark] [--until-selector CSS]
"""

import argparse
import base64
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")["value"]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("out")
    parser.add_argument("--size", default="900x600")
    parser.add_argument("--wait", type=float, default=5.0, help="seconds to wait after load")
    parser.add_argument("--dark", action="store_true", help="prefers-color-scheme: dark")
    parser.add_argument("--until-selector", help="wait until this CSS selector matches first")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    driver_bin = shutil.which("chromedriver")
    if not driver_bin:
        sys.exit("chromedriver is not installed (bash tests/setup.sh installs it)")
    port = free_port()
    driver = subprocess.Popen([driver_bin, f"--port={port}"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        profile = tempfile.mkdtemp(prefix="lsh-shot-")
        chrome_args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                       "--no-first-run", "--disable-background-networking",
                       "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                       f"--user-data-dir={profile}", f"--window-size={width},{height}"]
        if args.dark:
            chrome_args.append("--force-dark-mode")
        session = call(base, "POST", "/session", {"capabilities": {"alwaysMatch": {
            "goog:chromeOptions": {"args": chrome_args}}}})["sessionId"]
        s = f"/session/{session}"
        # The window size includes browser chrome in some modes; set the viewport exactly.
        call(base, "POST", f"{s}/chromium/send_command_and_get_result", {
            "cmd": "Emulation.setDeviceMetricsOverride",
            "params": {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}})
        if args.dark:
            call(base, "POST", f"{s}/chromium/send_command_and_get_result", {
                "cmd": "Emulation.setEmulatedMedia",
                "params": {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}})
        call(base, "POST", f"{s}/url", {"url": args.url})
        if args.until_selector:
            deadline = time.time() + 60
            while time.time() < deadline:
                found = call(base, "POST", f"{s}/execute/sync", {
                    "script": "return !!document.querySelector(arguments[0]);",
                    "args": [args.until_selector]})
                if found:
                    break
                time.sleep(0.2)
        time.sleep(args.wait)
        png = base64.b64decode(call(base, "GET", f"{s}/screenshot"))
        with open(args.out, "wb") as f:
            f.write(png)
        call(base, "DELETE", s)
        print(f"wrote {args.out} ({len(png)} bytes, {width}x{height})")
    finally:
        driver.terminate()
        driver.wait()


if __name__ == "__main__":
    main()
