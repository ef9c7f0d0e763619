//! Where training takes its rows and their features from. `train` builds them from the
//! three tables ([`TablesSource`]); `train --features` reads them from a table a
//! warehouse built with the exported training query (`super::features_file`). Both
//! answer the same questions in the same order, so one fitting pipeline serves both
//! and gives the same model from the same rows.

use ndarray::Array2;
use polars::prelude::*;

use super::pipeline::{close_quantile, evenly_spread, DRIFT_REFERENCE_ROWS};
use crate::data::history::History;
use crate::error::Result;
use crate::features::cutoffs::{
    evaluation_dates, open_at_dates, training_observations, typical_open_time, ValidCutoffParams,
};
use crate::features::spec::{FeatureSpec, SpecParams};
use crate::observations::observations_at;
use crate::points::PointModel;

/// The rows the holdout judges: the leads open at evaluation dates from the split on.
pub(crate) struct HoldoutRows {
    /// Deals closed before this time (µs) train the holdout model.
    pub(crate) split: i64,
    /// Time between evaluation dates (µs).
    pub(crate) every: i64,
    /// One row per (date, open lead): `lead_id`, `as_of`, `won`, `closed_at`.
    pub(crate) rows: DataFrame,
}

/// What training asks of its data, in the order it asks.
pub(crate) trait TrainingSource {
    /// The setting that names the closed deals, for errors about them.
    fn deals_setting(&self) -> &'static str;
    /// Closed deals (won, lost).
    fn deal_counts(&self) -> Result<(usize, usize)>;
    /// One row per (closed deal, snapshot): `lead_id`, `as_of`, `won`, `closed_at`, by
    /// lead and snapshot (see [`training_observations`]); any further column is the
    /// source's own, kept through filters and samples.
    fn snapshots(&self) -> Result<DataFrame>;
    /// The holdout's split and its rows.
    fn holdout(&self) -> Result<HoldoutRows>;
    /// The features of the holdout model (learned on `earlier`, the earlier deals'
    /// snapshots) and of the shipped model (learned on `all`).
    fn specs(&self, earlier: &DataFrame, all: &DataFrame) -> Result<(FeatureSpec, FeatureSpec)>;
    /// The f32 feature matrix of `spec` for `rows` (snapshots or holdout rows this
    /// source gave).
    fn matrix(&self, spec: &FeatureSpec, rows: &DataFrame) -> Result<Array2<f32>>;
    /// The lead base as a nightly run would score it at the end of the data, for the
    /// drift reference: `spec`'s matrix of at most [`DRIFT_REFERENCE_ROWS`] leads.
    fn base_matrix(&self, spec: &FeatureSpec) -> Result<Array2<f64>>;
    /// The latest time in the data (µs).
    fn data_as_of(&self) -> i64;
    /// Which data this is (see `crate::data::fingerprint`).
    fn fingerprint(&self) -> String;
}

/// The three tables, features built by leadscore's own engine.
pub(crate) struct TablesSource<'a> {
    /// The history read.
    pub(crate) history: History,
    /// The rule model, whose scores are features when `rule_features`.
    pub(crate) points: &'a PointModel,
    /// Whether the rule model's scores are features.
    pub(crate) rule_features: bool,
    /// Where snapshots are cut.
    pub(crate) cutoffs: &'a ValidCutoffParams,
}

impl TrainingSource for TablesSource<'_> {
    fn deals_setting(&self) -> &'static str {
        "InputPaths.outcomes"
    }

    fn deal_counts(&self) -> Result<(usize, usize)> {
        let tables = &self.history.tables;
        let won = tables.won_count()?;
        Ok((won, tables.outcomes.height() - won))
    }

    fn snapshots(&self) -> Result<DataFrame> {
        let tables = &self.history.tables;
        training_observations(&tables.leads, &tables.outcomes, self.cutoffs)
    }

    fn holdout(&self) -> Result<HoldoutRows> {
        let tables = &self.history.tables;
        let split = close_quantile(&tables.outcomes, 0.8)?;
        let every = typical_open_time(&tables.leads, &tables.outcomes)?;
        let last_close = close_quantile(&tables.outcomes, 1.0)?;
        let rows = open_at_dates(
            &tables.leads,
            &tables.outcomes,
            &evaluation_dates(split, last_close, every),
        )?;
        Ok(HoldoutRows { split, every, rows })
    }

    fn specs(&self, earlier: &DataFrame, all: &DataFrame) -> Result<(FeatureSpec, FeatureSpec)> {
        let params = SpecParams::default();
        let rules = self.rule_features.then_some(self.points);
        let learn = |rows: &DataFrame| {
            FeatureSpec::learn(
                &self.history.tables.leads,
                &self.history.events,
                rows,
                &params,
                rules,
            )
        };
        Ok((learn(earlier)?, learn(all)?))
    }

    fn matrix(&self, spec: &FeatureSpec, rows: &DataFrame) -> Result<Array2<f32>> {
        let tables = &self.history.tables;
        // Training matrices are f32 (see `MatrixWriter::rows_f32`): the fit reads f32,
        // and half the memory is what lets a large history train on one machine.
        spec.writer(
            &self.history.events,
            &tables.leads,
            &tables.interactions,
            rows,
            Some(self.points),
        )?
        .rows_f32(|_| {})
    }

    fn base_matrix(&self, spec: &FeatureSpec) -> Result<Array2<f64>> {
        let tables = &self.history.tables;
        let base = observations_at(&tables.leads, self.history.data_as_of)?;
        // A base of millions of leads is summarised by an even spread of them: quantile
        // bins need no more, and the matrix with its prepared copy stays bounded.
        let base = evenly_spread(base, DRIFT_REFERENCE_ROWS)?;
        spec.matrix_indexed(
            &self.history.events,
            &tables.leads,
            &tables.interactions,
            &base,
            Some(self.points),
        )
    }

    fn data_as_of(&self) -> i64 {
        self.history.data_as_of
    }

    fn fingerprint(&self) -> String {
        self.history.fingerprint.clone()
    }
}
