//! What the Keyplane benchmarks (`benches/`) share: the paired-ratio measurement, reading
//! criterion's results back for the summary tables, and the rows a FIPS build's table is set
//! beside a non-FIPS build's with (`benches/fips-table`).
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

// ----- the FIPS table: one build's rows beside the other's --------------------------------------

/// When set, a bench writes the rows of its summary table to this file (JSON), so that
/// `benches/fips-table` can set a FIPS build's figures beside a non-FIPS build's: one binary
/// cannot link both AWS-LC backends, so the two builds run one after the other.
pub const ROWS_ENV: &str = "KEYPLANE_BENCH_ROWS";

/// One row of a summary table: a Keyplane call, the raw aws-lc-rs call it is compared with, and
/// their paired ratio (raw time / Keyplane time).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// What the row measures, e.g. `"encrypt 64B"`; rows of two builds match by label.
    pub label: String,
    /// Criterion's mean time of the Keyplane call, in nanoseconds.
    pub keyplane_ns: Option<f64>,
    /// Criterion's mean time of the raw call, in nanoseconds.
    pub raw_ns: Option<f64>,
    /// The paired ratio.
    pub ratio: Option<f64>,
    /// A 95% interval of the ratio, where the bench computes one.
    pub interval: Option<(f64, f64)>,
}

/// The rows one run of a bench wrote, and the build that wrote them.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    /// The bench, e.g. `"symmetric"`.
    pub bench: String,
    /// Whether the run was a FIPS build (`keyplane::fips::FIPS_BUILD`).
    pub fips_build: bool,
    /// The module and its version as it reports itself, e.g. `"AWS-LC FIPS 4.2.0"`.
    pub module: String,
    /// Anything the reader of a row must know about this build's raw floor.
    pub note: String,
    /// The rows, in the bench's order.
    pub rows: Vec<Row>,
}

fn opt_number(value: Option<f64>) -> serde_json::Value {
    value.map_or(serde_json::Value::Null, serde_json::Value::from)
}

impl Rows {
    /// The rows of `bench` as this build measured them, labelled with this build's module.
    #[must_use]
    pub fn new(bench: &str, note: &str, rows: Vec<Row>) -> Self {
        let status = keyplane::fips::status();
        Self {
            bench: bench.to_owned(),
            fips_build: status.fips_build,
            module: format!("{} {}", status.module, status.module_version),
            note: note.to_owned(),
            rows,
        }
    }

    /// Writes the rows to the file named by [`ROWS_ENV`], if it is set.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write_if_asked(&self) -> std::io::Result<()> {
        match env::var_os(ROWS_ENV) {
            Some(path) => self.write(Path::new(&path)),
            None => Ok(()),
        }
    }

    /// Writes the rows to `path`, as JSON.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|row| {
                serde_json::json!({
                    "label": row.label,
                    "keyplane_ns": opt_number(row.keyplane_ns),
                    "raw_ns": opt_number(row.raw_ns),
                    "ratio": opt_number(row.ratio),
                    "interval": row.interval.map(|(lo, hi)| [lo, hi]),
                })
            })
            .collect();
        let json = serde_json::json!({
            "bench": self.bench,
            "fips_build": self.fips_build,
            "module": self.module,
            "note": self.note,
            "rows": rows,
        });
        fs::write(path, serde_json::to_vec_pretty(&json)?)
    }

    /// Reads rows that [`Rows::write_if_asked`] wrote.
    ///
    /// # Errors
    /// When the file cannot be read or is not such rows.
    pub fn read(path: &Path) -> Result<Self, String> {
        let bad = |what: &str| format!("{}: {what}", path.display());
        let bytes = fs::read(path).map_err(|e| bad(&e.to_string()))?;
        let json: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| bad(&e.to_string()))?;
        let text = |value: &serde_json::Value, field: &str| {
            value
                .get(field)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| bad(&format!("no text field {field:?}")))
        };
        let number = |value: &serde_json::Value, field: &str| {
            value
                .get(field)
                .and_then(serde_json::Value::as_f64)
                .filter(|x| x.is_finite())
        };
        let rows = json
            .get("rows")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| bad("no rows"))?
            .iter()
            .map(|row| {
                let interval = match row.get("interval").and_then(serde_json::Value::as_array) {
                    Some(pair) => match pair.as_slice() {
                        [lo, hi] => lo.as_f64().zip(hi.as_f64()),
                        _ => return Err(bad("an interval is not a pair")),
                    },
                    None => None,
                };
                Ok(Row {
                    label: text(row, "label")?,
                    keyplane_ns: number(row, "keyplane_ns"),
                    raw_ns: number(row, "raw_ns"),
                    ratio: number(row, "ratio"),
                    interval,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            bench: text(&json, "bench")?,
            fips_build: json
                .get("fips_build")
                .and_then(serde_json::Value::as_bool)
                .ok_or_else(|| bad("no fips_build"))?,
            module: text(&json, "module")?,
            note: text(&json, "note")?,
            rows,
        })
    }
}

/// How far a FIPS build's ratio to its raw floor may stray from the non-FIPS build's ratio to
/// its own, relatively, for the FIPS build to cost what the non-FIPS one does over raw aws-lc.
pub const FIPS_RATIO_TOLERANCE: f64 = 0.05;

/// Whether `fips` / `non_fips` lies within [`FIPS_RATIO_TOLERANCE`] of 1: `Some(true)` or
/// `Some(false)` when settled, `None` when an interval straddles a bound.
#[must_use]
pub fn within_tolerance(non_fips: &Row, fips: &Row) -> Option<bool> {
    let (n, f) = (non_fips.ratio?, fips.ratio?);
    let (n_lo, n_hi) = non_fips.interval.unwrap_or((n, n));
    let (f_lo, f_hi) = fips.interval.unwrap_or((f, f));
    let (lo, hi) = (f_lo / n_hi, f_hi / n_lo.max(f64::MIN_POSITIVE));
    let (min, max) = (1.0 - FIPS_RATIO_TOLERANCE, 1.0 + FIPS_RATIO_TOLERANCE);
    if lo >= min && hi <= max {
        Some(true)
    } else if hi < min || lo > max {
        Some(false)
    } else {
        None
    }
}

fn time_cell(ns: Option<f64>) -> String {
    ns.map_or_else(|| "—".to_owned(), format_time)
}

fn ratio_cell(row: &Row) -> String {
    match (row.ratio, row.interval) {
        (Some(r), Some((lo, hi))) => format!("{r:.2} ({lo:.2}–{hi:.2})"),
        (Some(r), None) => format!("{r:.2}"),
        (None, _) => "—".to_owned(),
    }
}

/// Prints the Markdown table that sets the FIPS build's rows beside the non-FIPS build's:
/// each build's Keyplane time, raw time and ratio, the quotient of the two ratios, and whether
/// it is within [`FIPS_RATIO_TOLERANCE`] of 1. A row the FIPS build does not have is a service
/// it refuses.
pub fn print_beside(non_fips: &Rows, fips: &Rows) {
    println!(
        "### {}: {} (non-FIPS) beside {} (FIPS build)",
        non_fips.bench, non_fips.module, fips.module
    );
    println!();
    for rows in [non_fips, fips] {
        if !rows.note.is_empty() {
            println!("- {}: {}", rows.module, rows.note);
        }
    }
    println!();
    println!(
        "| operation | Keyplane | raw | ratio | Keyplane-FIPS | raw FIPS | ratio FIPS | \
         FIPS ÷ non-FIPS | within ±{:.0}% |",
        FIPS_RATIO_TOLERANCE * 100.0
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut labels: Vec<&str> = non_fips.rows.iter().map(|r| r.label.as_str()).collect();
    labels.extend(
        fips.rows
            .iter()
            .map(|r| r.label.as_str())
            .filter(|label| !non_fips.rows.iter().any(|r| r.label == *label)),
    );
    for label in labels {
        let find = |rows: &Rows| rows.rows.iter().find(|r| r.label == label).cloned();
        let (n, f) = (find(non_fips), find(fips));
        let cells = |row: &Option<Row>, missing: &str| match row {
            Some(row) => format!(
                "{} | {} | {}",
                time_cell(row.keyplane_ns),
                time_cell(row.raw_ns),
                ratio_cell(row)
            ),
            None => format!("{missing} | — | —"),
        };
        let (quotient, verdict) = match (&n, &f) {
            (Some(n), Some(f)) => match (n.ratio, f.ratio) {
                (Some(nr), Some(fr)) => (
                    format!("{:.3}", fr / nr),
                    match within_tolerance(n, f) {
                        Some(true) => "yes",
                        Some(false) => "**no**",
                        None => "unresolved",
                    },
                ),
                _ => ("—".to_owned(), "—"),
            },
            _ => ("—".to_owned(), "—"),
        };
        println!(
            "| {label} | {} | {} | {quotient} | {verdict} |",
            cells(&n, "—"),
            cells(&f, "refused (not approved)"),
        );
    }
    println!();
    println!(
        "ratio = raw time / Keyplane time in the same build (median of interleaved rounds; with \
         a bootstrap 95% interval where one is shown); FIPS ÷ non-FIPS = the FIPS build's ratio \
         over the non-FIPS build's; within ±{:.0}%: whether that quotient is between {:.2} and \
         {:.2} (unresolved: an interval straddles a bound).",
        FIPS_RATIO_TOLERANCE * 100.0,
        1.0 - FIPS_RATIO_TOLERANCE,
        1.0 + FIPS_RATIO_TOLERANCE
    );
    println!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(label: &str, ratio: Option<f64>, interval: Option<(f64, f64)>) -> Row {
        Row {
            label: label.to_owned(),
            keyplane_ns: Some(120.5),
            raw_ns: None,
            ratio,
            interval,
        }
    }

    #[test]
    fn rows_read_back_as_written() {
        let rows = Rows {
            bench: "symmetric".to_owned(),
            fips_build: true,
            module: "AWS-LC FIPS 4.2.0".to_owned(),
            note: "a note".to_owned(),
            rows: vec![
                row("encrypt 64B", Some(0.8), None),
                row("data key pair RSA-2048", Some(1.0), Some((0.9, 1.1))),
                row("decrypt 1MiB", None, None),
            ],
        };
        let path = env::temp_dir().join(format!("keyplane-bench-rows-{}.json", std::process::id()));
        rows.write(&path).expect("write");
        let read = Rows::read(&path);
        fs::remove_file(&path).expect("remove");
        assert_eq!(read, Ok(rows));
    }

    #[test]
    fn rows_that_are_not_rows_are_an_error() {
        let path = env::temp_dir().join(format!("keyplane-bench-bad-{}.json", std::process::id()));
        fs::write(&path, br#"{"bench": "symmetric", "rows": [{"label": 3}]}"#).expect("write");
        let read = Rows::read(&path);
        fs::remove_file(&path).expect("remove");
        assert!(read.is_err());
    }

    #[test]
    fn tolerance_is_relative_to_the_non_fips_ratio() {
        let n = row("x", Some(0.80), None);
        assert_eq!(
            within_tolerance(&n, &row("x", Some(0.83), None)),
            Some(true)
        );
        assert_eq!(
            within_tolerance(&n, &row("x", Some(0.77), None)),
            Some(true)
        );
        assert_eq!(
            within_tolerance(&n, &row("x", Some(0.85), None)),
            Some(false)
        );
        assert_eq!(
            within_tolerance(&n, &row("x", Some(0.75), None)),
            Some(false)
        );
        assert_eq!(within_tolerance(&n, &row("x", None, None)), None);
        // An interval that straddles a bound settles nothing.
        let wide = row("x", Some(0.80), Some((0.70, 0.90)));
        assert_eq!(within_tolerance(&n, &wide), None);
        let narrow = row("x", Some(0.80), Some((0.79, 0.81)));
        assert_eq!(within_tolerance(&n, &narrow), Some(true));
    }
}
