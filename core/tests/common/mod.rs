//! Helpers shared by integration tests.

use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Starts this test binary again, running only its ignored test `crash_child` with `var` set
/// to `dir`, its standard output piped: a child process a test can kill at any moment.
pub(crate) fn spawn_crash_child(var: &str, dir: &Path) -> Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "crash_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(var, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the crash child")
}
