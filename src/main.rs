//! The `leadscore` binary: parse the command line, run the library, map errors to the
//! contract's exit codes (2 bad input or usage, 1 anything else, 3 for a rescore that
//! ran but found drift over its threshold with --fail-on-drift, 4 for a retrain that
//! ran and kept the model in use).

use std::process::ExitCode;

use clap::Parser;
use leadscore::cli::{run, Cli};

fn main() -> ExitCode {
    restore_default_sigpipe();
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
        Err(e @ leadscore::error::Error::Kept { .. }) => {
            // Not a fault: the retrain ran and the model in use stays.
            println!("{e}");
            ExitCode::from(e.exit_code() as u8)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// Rust ignores SIGPIPE, so `leadscore inspect model.bin | head -1` would panic on the
/// closed pipe (exit 101). Like other Unix tools, a reader that has seen enough ends the
/// writer quietly: restore the default action, which ends the process.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_DFL before any other thread exists
    // touches no Rust state; the call cannot fail for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
