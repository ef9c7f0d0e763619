//! The command line: clap definitions, one file per command, each a thin adapter that
//! turns what the user typed into checked library settings and calls the library.

pub(crate) mod backtest;
pub(crate) mod bench;
pub(crate) mod compare;
pub(crate) mod export_sql;
pub(crate) mod flags;
pub(crate) mod generate;
pub(crate) mod history;
pub(crate) mod inspect;
pub(crate) mod models;
pub(crate) mod points;
pub(crate) mod rescore;
pub(crate) mod retrain;
pub(crate) mod score;
pub(crate) mod suggest;
pub(crate) mod trail;
pub(crate) mod train;
pub(crate) mod validate;

use clap::{Parser, Subcommand};

use crate::error::Result;

/// Predictive lead scoring: a classic point model and a learned logistic model, side by side.
#[derive(Debug, Parser)]
#[command(name = "leadscore", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The commands that exist so far.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Replay history: train on what was known at a date, score the leads open then, judge by how they closed.
    Backtest(backtest::BacktestArgs),
    /// The train-and-score job timed stage by stage (read, features, train, score, write), for the benchmark against Python.
    Bench(bench::BenchArgs),
    /// Rule points against predictive probability on the same closed leads: report with charts, JSON, Markdown.
    Compare(compare::CompareArgs),
    /// The model as one SQL query (DuckDB, Spark, PostgreSQL) that scores every lead where the data lives.
    ExportSql(export_sql::ExportSqlArgs),
    /// Write a realistic synthetic CRM (leads, interactions, outcomes, truth) to a directory.
    Generate(generate::GenerateArgs),
    /// One lead's path through the rescore history and why it moved (rules and reasons that came and went), or every lead's as a table.
    History(trail::HistoryArgs),
    /// Show what is in a model artifact (format, fingerprint, features, coefficients, metrics).
    Inspect(inspect::InspectArgs),
    /// The model registry's record of retrains (published, kept, refused) and rollbacks; --rollback puts back the previous model.
    Models(models::ModelsArgs),
    /// Score every lead with the classic point model (rules in TOML), with tiers, grades and breakdowns.
    Points(points::PointsArgs),
    /// The scheduled job: current scores, score history, change list, drift check and run summary in a directory.
    Rescore(rescore::RescoreArgs),
    /// The scheduled retrain: train a candidate, judge it against the model in use on the latest deals, publish it only if it is not worse (exit 0 published, 4 kept).
    Retrain(retrain::RetrainArgs),
    /// Score every lead: rule points, tier, grade, predicted probability and reasons.
    Score(score::ScoreArgs),
    /// A rule file (same TOML as --points) learned from the model, with a diff against the rules in use.
    SuggestPoints(suggest::SuggestArgs),
    /// Learn the predictive model from closed deals and write the model artifact.
    #[command(
        override_usage = "leadscore train [OPTIONS] --leads <F> --interactions <F> --outcomes <F> --out <MODEL>\n       \
                          leadscore train [OPTIONS] --features <F> --model <MODEL> --out <MODEL>"
    )]
    Train(train::TrainArgs),
    /// Check the three input tables as training would and print a data-quality summary.
    Validate(validate::ValidateArgs),
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let ran = match cli.command {
        Command::Backtest(args) => backtest::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Compare(args) => compare::run(args),
        Command::ExportSql(args) => export_sql::run(args),
        Command::Generate(args) => generate::run(args),
        Command::History(args) => trail::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Models(args) => models::run(args),
        Command::Points(args) => points::run(args),
        Command::Rescore(args) => rescore::run(args),
        Command::Retrain(args) => retrain::run(args),
        Command::Score(args) => score::run(args),
        Command::SuggestPoints(args) => suggest::run(args),
        Command::Train(args) => train::run(args),
        Command::Validate(args) => validate::run(args),
    };
    ran.map_err(flags::in_flag_terms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_mapped_library_setting_maps_to_a_real_flag() {
        let command = Cli::command();
        let flags: std::collections::BTreeSet<String> = command
            .get_subcommands()
            .flat_map(|sub| sub.get_arguments())
            .filter_map(|arg| arg.get_long().map(|long| format!("--{long}")))
            .collect();
        for (library, flag) in flags::FLAG_OF_SETTING {
            assert!(
                flags.contains(*flag),
                "{library} maps to {flag}, no such flag"
            );
        }
    }

    #[test]
    fn library_errors_reach_the_user_in_flag_terms() {
        let bad_fit = crate::model::train::FitParams {
            l2: -1.0,
            ..Default::default()
        };
        let error = bad_fit.check().unwrap_err();
        assert_eq!(
            error.to_string(),
            "setting `FitParams.l2`: -1 is not a number ≥ 0"
        );
        assert_eq!(
            flags::in_flag_terms(error).to_string(),
            "setting `--l2`: -1 is not a number ≥ 0"
        );
        let named_in_reason = crate::error::Error::setting(
            "RescoreOptions.as_of",
            "pass `RescoreOptions.backfill` to add it",
        );
        assert_eq!(
            flags::in_flag_terms(named_in_reason).to_string(),
            "setting `--as-of`: pass --backfill to add it"
        );
    }
}
