//! Integration tests: the real `leadscore` binary on temporary directories, the way a
//! user runs it, plus library-level checks that need generated data.

mod artifacts;
mod backtest;
mod bench;
mod compare;
mod export_sql;
mod exports;
mod features;
mod generate;
mod learnable;
mod notebooks;
mod points;
mod registry;
mod rescore;
mod safety;
mod snapshots;
mod suggest;
mod train;
mod util;
mod validate;
