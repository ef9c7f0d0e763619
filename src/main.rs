//! The `leadscore` binary: parse the command line, run the library, map errors to the
//! contract's exit codes (2 bad input or usage, 1 anything else, 3 for a rescore that
//! ran but found drift over its threshold with --fail-on-drift).

use std::process::ExitCode;

use clap::Parser;
use leadscore::cli::{run, Cli};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap exits 0 for --help/--version and 2 for usage errors, as the contract wants.
            let _ = e.print();
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
