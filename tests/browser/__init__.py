"""Tests that drive real frontends in headless Chromium against the real server."""
