//! `leadscore models`: the registry's record, and the rollback.

use std::path::PathBuf;

use clap::Args;

use crate::error::Result;
use crate::registry::{listing, rollback, Registry};

/// Flags of `leadscore models`, as typed.
#[derive(Debug, Args)]
pub(crate) struct ModelsArgs {
    /// The registry folder `retrain` writes.
    #[arg(value_name = "DIR")]
    pub(crate) registry: PathBuf,
    /// Put back the model in use before the current one (one rename) and record it.
    #[arg(long)]
    pub(crate) rollback: bool,
    /// The record as JSON (one object per line, as `registry.jsonl` holds it).
    #[arg(long, conflicts_with = "rollback")]
    pub(crate) json: bool,
}

/// Runs the command: the record on stdout, or the rollback done and said.
pub(crate) fn run(args: ModelsArgs) -> Result<()> {
    if !args.registry.is_dir() {
        return Err(crate::error::Error::InputFile {
            path: args.registry,
            reason: "no such registry folder (retrain --registry creates it)".into(),
        });
    }
    let registry = Registry::open(&args.registry)?;
    if args.rollback {
        let entry = rollback(&registry, crate::data::timestamp::now_micros())?;
        println!("{}", entry.reason);
        return Ok(());
    }
    let entries = registry.entries()?;
    if args.json {
        for entry in &entries {
            println!("{}", serde_json::to_string(entry).unwrap_or_default());
        }
        return Ok(());
    }
    print!("{}", listing(&entries, registry.current().as_deref()));
    Ok(())
}
