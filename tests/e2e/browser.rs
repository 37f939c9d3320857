//! Headless Chromium (Debian's `chromium`, installed by `scripts/setup.sh`;
//! `CHROMIUM` overrides the path) for what only a real browser can show: it
//! loads a page, lets its scripts run, and prints the final DOM.

use std::time::Duration;

use crate::harness::repo_root;

/// What Chromium printed for one page.
pub struct Dump {
    /// The final document (`--dump-dom`).
    pub dom: String,
    pub stderr: String,
    pub exit: Option<i32>,
}

/// Loads `url` in a fresh profile (`target/e2e-chromium-<profile>`), gives its
/// scripts up to 30 s of virtual time (network waits pause the clock, so
/// fetches and redirects finish first), and returns the DOM.
pub async fn dump_dom(url: &str, profile: &str) -> Result<Dump, String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_string());
    if !std::path::Path::new(&chromium).exists() {
        return Err(format!("{chromium} not found: run scripts/setup.sh (installs Debian's chromium)"));
    }
    let dir = repo_root().join(format!("target/e2e-chromium-{profile}"));
    let _ = std::fs::remove_dir_all(&dir);
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                &format!("--user-data-dir={}", dir.display()),
                "--virtual-time-budget=30000",
                "--dump-dom",
                url,
            ])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .map_err(|_| format!("chromium timed out on {url}"))?
    .map_err(|e| format!("chromium: {e}"))?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Dump {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        exit: out.status.code(),
    })
}
