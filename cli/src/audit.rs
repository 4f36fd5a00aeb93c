//! `keyplane audit verify`: checking an audit log's hash chain and checkpoints.

use std::path::Path;

use crate::args;
use crate::error::{CliError, EXIT_INVALID, EXIT_OK};
use crate::home;
use crate::output::{Obj, Val};
use crate::respond::Out;

pub(crate) fn audit_verify(out: &Out, a: args::AuditVerifyArgs) -> Result<u8, CliError> {
    let key = match &a.audit_key_file {
        Some(path) => home::read_key_file(Path::new(path), "audit key")?,
        None => home::audit_key_from_env()?,
    };
    let key = keyplane::audit::AuditKey::new(key.as_ref())?;
    let files: Vec<std::path::PathBuf> = match &a.dir {
        Some(dir) => keyplane::audit::log_files_in(dir)
            .map_err(|e| CliError::Io(format!("cannot list the audit log files in {dir}: {e}")))?,
        None => a.files.iter().map(std::path::PathBuf::from).collect(),
    };
    if files.is_empty() {
        return Err(CliError::Io(format!(
            "no audit log files (audit-*.jsonl) in {}",
            a.dir.as_deref().unwrap_or("the arguments")
        )));
    }
    for file in &files {
        if !file.is_file() {
            return Err(CliError::Io(format!(
                "cannot read audit log file {}",
                file.display()
            )));
        }
    }
    let place = |(file, line): &(std::path::PathBuf, u64)| {
        Obj::new()
            .with("File", file.display().to_string())
            .with("Line", *line)
    };
    match keyplane::audit::verify(&files, &key) {
        Ok(report) => {
            let checkpoint = report.last_checkpoint.as_ref().map_or(Val::Null, |c| {
                place(&(c.0.clone(), c.1))
                    .with("Time", crate::time::format(c.2))
                    .into()
            });
            out.print(
                &Obj::new()
                    .with("Intact", true)
                    .with("Records", report.records)
                    .with("LastCheckpoint", checkpoint)
                    .with("Closed", report.closed)
                    .with(
                        "EndsAt",
                        report
                            .ends_at
                            .as_ref()
                            .map_or(Val::Null, |e| place(e).into()),
                    )
                    .with("IncompleteTail", report.incomplete_tail),
            )?;
            if !report.closed {
                eprintln!(
                    "keyplane: the log does not end with its closing checkpoint: the writer \
                     stopped without closing it (a crash), or lines after the last checkpoint \
                     were cut off; everything up to the end verifies"
                );
            }
            Ok(EXIT_OK)
        }
        Err(broken) => {
            out.print(
                &Obj::new()
                    .with("Intact", false)
                    .with("File", broken.file.display().to_string())
                    .with("Line", broken.line)
                    .with("Reason", broken.reason.clone()),
            )?;
            eprintln!("keyplane: audit log broken at {broken}");
            Ok(EXIT_INVALID)
        }
    }
}
