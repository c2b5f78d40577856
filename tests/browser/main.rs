//! Browser tests: the dashboard in headless Chromium through ChromeDriver (fantoccini), against a
//! whole node and the in-process mock. They print `SKIPPED` when Chromium is not installed, unless
//! `KRAWALL_REQUIRE_BROWSER=1` (CI), which makes them fail instead.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_docs;
mod automation_forms;
mod batches;
mod compare_report;
mod driver;
mod flow;
mod harness;
mod load_form;
mod report;
mod report_page;
mod tour;
mod users;
