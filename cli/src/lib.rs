//! The parts of the `keyplane` command-line tool that other code calls: the `--context`
//! parser, for the fuzz targets.
#![forbid(unsafe_code)]

pub mod context;
