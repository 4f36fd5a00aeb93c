//! What the Keyplane benchmarks (`benches/`) share: the paired-ratio measurement and reading
//! criterion's results back for the summary tables.
//!
//! Criterion measures each benchmark for seconds, one after the other; on a shared machine
//! whose speed drifts, the ratio of two criterion means says more about the drift than about
//! Keyplane. A *paired* ratio runs the two sides in alternating rounds (A B B A …) and takes the
//! median of the per-round ratios, which cancels the drift.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Runs `f` `iters` times and returns the elapsed time.
pub fn time_iters(iters: u32, f: &mut dyn FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed()
}

/// Runs `f` for at least `at_least` and returns the time of one call.
pub fn warm_up(f: &mut dyn FnMut(), at_least: Duration) -> Duration {
    let start = Instant::now();
    let mut iters = 0u32;
    while start.elapsed() < at_least {
        f();
        iters += 1;
    }
    start.elapsed() / iters.max(1)
}

/// How a paired ratio is taken.
#[derive(Debug, Clone, Copy)]
pub struct Pairing {
    /// Alternating rounds (odd, so the median is one of them).
    pub rounds: usize,
    /// The length of one round of the `baseline` side.
    pub round: Duration,
    /// Warm-up of each side before the first round.
    pub warm_up: Duration,
}

impl Default for Pairing {
    fn default() -> Self {
        Self {
            rounds: 41,
            round: Duration::from_millis(2),
            warm_up: Duration::from_millis(50),
        }
    }
}

/// The median over alternating rounds of `baseline` time / `subject` time: above 1.0 when the
/// subject is faster.
pub fn paired_median(subject: &mut dyn FnMut(), baseline: &mut dyn FnMut(), how: Pairing) -> f64 {
    warm_up(subject, how.warm_up);
    let per_call = warm_up(baseline, how.warm_up).max(Duration::from_nanos(1));
    let iters = u32::try_from(how.round.as_nanos() / per_call.as_nanos())
        .unwrap_or(u32::MAX)
        .clamp(1, 1_000_000);
    let mut ratios: Vec<f64> = (0..how.rounds.max(1))
        .map(|round| {
            let (s, b) = if round % 2 == 0 {
                let s = time_iters(iters, subject);
                (s, time_iters(iters, baseline))
            } else {
                let b = time_iters(iters, baseline);
                (time_iters(iters, subject), b)
            };
            b.as_secs_f64() / s.as_secs_f64().max(f64::MIN_POSITIVE)
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios[ratios.len() / 2]
}

/// Where criterion writes its results, in criterion's own order of preference; the first that
/// holds one of `groups` is the one this run wrote to.
#[must_use]
pub fn criterion_dir(groups: &[&str]) -> Option<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(home) = env::var_os("CRITERION_HOME") {
        dirs.push(PathBuf::from(home));
    }
    if let Some(target) = env::var_os("CARGO_TARGET_DIR") {
        dirs.push(PathBuf::from(target).join("criterion"));
    }
    // The bench binary is `<target>/[<triple>/]<profile>/deps/<name>-<hash>`; this also covers
    // a relative CARGO_TARGET_DIR (relative to where cargo started, not to our cwd).
    if let Ok(exe) = env::current_exe() {
        dirs.extend(exe.ancestors().skip(1).map(|dir| dir.join("criterion")));
    }
    if let Some(root) = Path::new(env!("CARGO_MANIFEST_DIR")).parent() {
        dirs.push(root.join("target").join("criterion"));
    }
    dirs.push(PathBuf::from("target").join("criterion"));
    dirs.into_iter()
        .find(|dir| groups.iter().any(|group| dir.join(group).is_dir()))
}

/// The mean time in nanoseconds of `group/function/param`, if this run (started at `since`)
/// wrote it.
#[must_use]
pub fn mean_ns(
    dir: &Path,
    group: &str,
    function: &str,
    param: &str,
    since: SystemTime,
) -> Option<f64> {
    let path = dir
        .join(group)
        .join(function)
        .join(param)
        .join("new")
        .join("estimates.json");
    let modified = fs::metadata(&path).and_then(|m| m.modified()).ok()?;
    if modified < since {
        return None; // left over from an earlier run
    }
    let json: serde_json::Value = serde_json::from_slice(&fs::read(&path).ok()?).ok()?;
    json.get("mean")?
        .get("point_estimate")?
        .as_f64()
        .filter(|ns| ns.is_finite() && *ns > 0.0)
}

/// `ns` in the largest unit that keeps it at least 1.
#[must_use]
pub fn format_time(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.1} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

/// Whether criterion was asked only to check, list or profile the benchmarks (`--test`,
/// `--list`, `--profile-time`): then
/// the slow paired pass is skipped.
#[must_use]
pub fn quick_mode() -> bool {
    env::args().any(|a| ["--test", "--list", "--profile-time"].contains(&a.as_str()))
}
