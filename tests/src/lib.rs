//! Harness for the tests that need real parts: a sandbox around the real kernel, the
//! nslab binary, and a real Chromium driven through chromedriver.

pub mod axe;
pub mod browser;
pub mod client;
pub mod expected;
pub mod kernel;
pub mod labs;
pub mod page;
pub mod paths;
pub mod process;
pub mod sandbox;
pub mod server;
pub mod terminal;
