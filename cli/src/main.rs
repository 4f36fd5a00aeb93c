//! `keyplane`: Keyplane keys in an embedded store, with AWS KMS-style commands.
//!
//! Exit codes: 0 ok; 1 a Keyplane operation failed (its error code is printed) or a file could
//! not be read or written; 2 usage error; 3 home, store or root key problem; 4 `verify` or
//! `verify-mac` found the signature or MAC invalid, or `audit verify` found the log broken.
#![forbid(unsafe_code)]

mod args;
mod audit;
mod bench;
mod commands;
mod encryption;
mod error;
mod home;
mod io;
mod keys;
mod output;
mod respond;
mod signing;
mod time;
mod transfer;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(error::EXIT_USAGE));
        }
    };
    match commands::run(cli.command, cli.output) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("{}", e.message());
            e.exit_code()
        }
    }
}
