//! End-to-end checks: the worker under workerd (`wrangler dev`), rules in its
//! local KV, real origins over real HTTP. One suite per capability, each with
//! its own edge and rules.
//!
//! Run with `cargo test -p e2e` (after `scripts/setup.sh`); `E2E_ONLY=name`
//! runs one suite. Prints one line per check and a closing `N passed, M failed`.

mod auth;
mod browser;
mod cors_browser;
mod crs;
mod botauth;
mod delivery;
mod faults;
mod harness;
mod js_origins;
mod limit;
mod nginx_diff;
mod observability;
mod python_origins;
mod skeleton;
mod waf;

/// `return Err(..)` with a message unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

fn main() {
    let only = std::env::var("E2E_ONLY").ok();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let mut report = harness::Report::default();
    runtime.block_on(async {
        let wanted = |name: &str| only.as_deref().is_none_or(|o| o == name);
        if wanted("skeleton") {
            skeleton::run(&mut report).await;
        }
        if wanted("limit") {
            limit::run(&mut report).await;
        }
        if wanted("auth") {
            auth::run(&mut report).await;
        }
        if wanted("waf") {
            waf::run(&mut report).await;
        }
        if wanted("crs") {
            crs::run(&mut report).await;
        }
        if wanted("observability") {
            observability::run(&mut report).await;
        }
        if wanted("delivery") {
            delivery::run(&mut report).await;
        }
        if wanted("cors_browser") {
            cors_browser::run(&mut report).await;
        }
        if wanted("botauth") {
            botauth::run(&mut report).await;
        }
        if wanted("faults") {
            faults::run(&mut report).await;
        }
        if wanted("js_origins") {
            js_origins::run(&mut report).await;
        }
        if wanted("python_origins") {
            python_origins::run(&mut report).await;
        }
        if wanted("nginx_diff") {
            nginx_diff::run(&mut report).await;
        }
    });
    println!("\n{} passed, {} failed", report.passed, report.failed);
    if report.failed > 0 {
        std::process::exit(1);
    }
}
