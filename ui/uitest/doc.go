// Package uitest tests the status page of package ui in a real browser:
// headless Chromium, driven by chromedp, against a cluster of three
// members served over HTTP. It has no non-test code, and it is a package
// of its own so that only its tests need Chromium (they skip, saying how
// to install it, where there is none).
package uitest
