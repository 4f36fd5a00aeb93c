//! Prints the table that sets a FIPS build's benchmark rows beside a non-FIPS build's:
//! `fips-table <non-FIPS rows.json> <FIPS rows.json>`, the files that the benches wrote when
//! `KEYPLANE_BENCH_ROWS` named them. `benches/fips-table` runs both builds and then this.

use std::env;
use std::path::PathBuf;
use std::process::ExitCode;

use keyplane_benches::{Rows, print_beside};

fn main() -> ExitCode {
    let paths: Vec<PathBuf> = env::args_os().skip(1).map(PathBuf::from).collect();
    let [non_fips, fips] = paths.as_slice() else {
        eprintln!("usage: fips-table <non-FIPS rows.json> <FIPS rows.json>");
        return ExitCode::from(2);
    };
    let (non_fips, fips) = match (Rows::read(non_fips), Rows::read(fips)) {
        (Ok(n), Ok(f)) => (n, f),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("fips-table: {e}");
            return ExitCode::FAILURE;
        }
    };
    if non_fips.fips_build || !fips.fips_build {
        eprintln!(
            "fips-table: expected a non-FIPS build's rows, then a FIPS build's (got {}, then {})",
            non_fips.module, fips.module
        );
        return ExitCode::FAILURE;
    }
    if non_fips.bench != fips.bench {
        eprintln!(
            "fips-table: rows of two different benches ({} and {})",
            non_fips.bench, fips.bench
        );
        return ExitCode::FAILURE;
    }
    print_beside(&non_fips, &fips);
    ExitCode::SUCCESS
}
