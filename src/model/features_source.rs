//! Training from rows a warehouse built (`train --features`): the features come from the
//! table the exported training query gave, the feature definitions from the model the
//! query was exported from. The pipeline is `train`'s own ([`super::pipeline`]), so the
//! same rows give the same model.

use std::path::Path;

use ndarray::{Array2, ShapeBuilder};
use polars::prelude::*;

use super::pipeline::{fit_model, DRIFT_REFERENCE_ROWS};
use super::source::{HoldoutRows, TrainingSource};
use super::{Model, TrainChoices};
use crate::data::columns::{CLOSED_AT, LEAD_ID};
use crate::data::training_rows::{read_training_rows, RowPart, TrainingRows};
use crate::error::{Error, Result};
use crate::features::cutoffs::WON_LABEL;
use crate::features::spec::FeatureSpec;
use crate::model::train::FitParams;
use crate::observations::{micros_type, AS_OF};
use crate::progress::Progress;
use crate::sql::training::training_columns;

/// The column that leads a snapshot or holdout frame back to its row in the file.
const ROW: &str = "training_row";

/// The setting that names the features file, for errors about its deals.
pub(crate) const FEATURES_SETTING: &str = "TrainingFeatures.path";

/// Trains on the training rows at `path`, built by the training query exported from
/// `source` (whose feature definitions, cutoffs and rule model the new model keeps), as
/// `train` would on the tables the rows were built from.
pub fn train_on_features(
    path: &Path,
    source: &Model,
    fit: &FitParams,
    choices: TrainChoices,
    progress: &Progress,
) -> Result<(Model, Vec<String>)> {
    let columns = training_columns(source)?;
    let rows = read_training_rows(path, &columns, source.feature_names.len())?;
    let features = FeaturesSource {
        rows,
        model: source,
    };
    let choices = TrainChoices {
        rule_features: source.spec.rules.is_some(),
        ..choices
    };
    fit_model(
        &features,
        source.points.clone(),
        &source.cutoffs,
        fit,
        choices,
        progress,
    )
}

/// Training rows read from a file, with the model whose query built them.
struct FeaturesSource<'a> {
    rows: TrainingRows,
    model: &'a Model,
}

impl FeaturesSource<'_> {
    /// The rows of `part`, in order.
    fn indices(&self, part: RowPart) -> Vec<usize> {
        (0..self.rows.part.len())
            .filter(|&i| self.rows.part[i] == part)
            .collect()
    }

    /// `lead_id, as_of, won, closed_at` and the row number of each of `indices`.
    fn frame(&self, indices: &[usize]) -> Result<DataFrame> {
        let rows = &self.rows;
        let times = |name: &str, values: Vec<Option<i64>>| -> Result<Column> {
            Ok(
                Int64Chunked::from_iter_options(name.into(), values.into_iter())
                    .into_column()
                    .cast(&micros_type())?,
            )
        };
        let columns = vec![
            StringChunked::from_iter_values(
                LEAD_ID.into(),
                indices.iter().map(|&i| rows.lead_id[i].as_str()),
            )
            .into_column(),
            times(
                AS_OF,
                indices.iter().map(|&i| Some(rows.as_of[i])).collect(),
            )?,
            BooleanChunked::from_iter_options(
                WON_LABEL.into(),
                indices.iter().map(|&i| rows.won[i]),
            )
            .into_column(),
            times(CLOSED_AT, indices.iter().map(|&i| rows.closed[i]).collect())?,
            UInt64Chunked::from_iter_values(ROW.into(), indices.iter().map(|&i| i as u64))
                .into_column(),
        ];
        Ok(DataFrame::new(indices.len(), columns)?)
    }

    /// Where `spec`'s features sit in the file's feature columns.
    fn columns_of(&self, spec: &FeatureSpec) -> Result<Vec<usize>> {
        let offset = if *spec == self.model.spec {
            0
        } else if self.model.holdout_spec.as_ref() == Some(spec) {
            self.model.feature_names.len()
        } else {
            return Err(Error::Artifact {
                reason: "training asked for features the training rows do not hold".into(),
            });
        };
        Ok((offset..offset + spec.names().len()).collect())
    }

    /// `spec`'s features of the `train` or `holdout` rows `indices`, column-major, as
    /// training reads them.
    fn gather(&self, spec: &FeatureSpec, indices: &[usize]) -> Result<Array2<f32>> {
        let columns = self.columns_of(spec)?;
        let mut x = Array2::<f32>::zeros((indices.len(), columns.len()).f());
        for (mut to, &j) in x.columns_mut().into_iter().zip(&columns) {
            let from = self.rows.features.column(j);
            for (t, &i) in to.iter_mut().zip(indices) {
                *t = from[i];
            }
        }
        Ok(x)
    }
}

impl TrainingSource for FeaturesSource<'_> {
    fn deals_setting(&self) -> &'static str {
        FEATURES_SETTING
    }

    fn deal_counts(&self) -> Result<(usize, usize)> {
        let mut deals = std::collections::BTreeMap::new();
        for i in self.indices(RowPart::Train) {
            deals.insert(self.rows.lead_id[i].as_str(), self.rows.won[i]);
        }
        let won = deals.values().filter(|w| **w == Some(true)).count();
        Ok((won, deals.len() - won))
    }

    fn snapshots(&self) -> Result<DataFrame> {
        self.frame(&self.indices(RowPart::Train))
    }

    fn holdout(&self) -> Result<HoldoutRows> {
        Ok(HoldoutRows {
            split: self.rows.split,
            every: self.rows.every,
            rows: self.frame(&self.indices(RowPart::Holdout))?,
        })
    }

    fn specs(&self, _earlier: &DataFrame, _all: &DataFrame) -> Result<(FeatureSpec, FeatureSpec)> {
        let all = self.model.spec.clone();
        Ok((
            self.model
                .holdout_spec
                .clone()
                .unwrap_or_else(|| all.clone()),
            all,
        ))
    }

    fn matrix(&self, spec: &FeatureSpec, rows: &DataFrame) -> Result<Array2<f32>> {
        let indices: Vec<usize> = rows
            .column(ROW)?
            .u64()?
            .into_no_null_iter()
            .map(|i| i as usize)
            .collect();
        self.gather(spec, &indices)
    }

    fn base_matrix(&self, spec: &FeatureSpec) -> Result<Array2<f64>> {
        if *spec != self.model.spec {
            return Err(Error::Artifact {
                reason: "the drift reference asked for features the base rows do not hold".into(),
            });
        }
        let base = &self.rows.base_features;
        let n = base.nrows();
        if n == 0 {
            return Err(Error::setting(
                FEATURES_SETTING,
                "no `base` rows: the drift reference describes the lead base at the data's end, which the training query adds",
            ));
        }
        if n <= DRIFT_REFERENCE_ROWS {
            return Ok(base.clone());
        }
        let picked: Vec<usize> = (0..DRIFT_REFERENCE_ROWS)
            .map(|k| k * n / DRIFT_REFERENCE_ROWS)
            .collect();
        Ok(base.select(ndarray::Axis(0), &picked))
    }

    fn data_as_of(&self) -> i64 {
        let base = self.indices(RowPart::Base);
        base.iter().map(|&i| self.rows.as_of[i]).max().unwrap_or(0)
    }

    fn fingerprint(&self) -> String {
        self.rows.fingerprint.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::select::L2Choice;
    use crate::sql::score::tests::{make_hostile, trained, HOSTILE};
    use crate::sql::tests::crm;
    use crate::sql::training::tests::rows_from_duckdb;

    /// Trains on a generated CRM, builds its training rows in DuckDB, writes them in
    /// reverse order (an engine keeps no order) and trains on them: the model must be
    /// `train`'s, bit for bit, but for the fingerprint of the data it read.
    fn same_model_from_duckdb_rows(rule_features: bool, hostile: bool) {
        let (_dir, mut tables) = crm(600);
        if hostile {
            make_hostile(&mut tables);
        }
        let model = trained(&tables, rule_features);
        assert!(model.holdout_spec.is_some());
        let rows = rows_from_duckdb(&model, &tables);
        let mut reversed = rows.reverse();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.parquet");
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .finish(&mut reversed)
            .unwrap();
        let (from_rows, _) = train_on_features(
            &path,
            &model,
            &FitParams::default(),
            TrainChoices::new(L2Choice::Auto),
            &Progress::hidden(),
        )
        .unwrap();
        assert_ne!(from_rows.data_fingerprint, model.data_fingerprint);
        let from_rows = Model {
            data_fingerprint: model.data_fingerprint.clone(),
            ..from_rows
        };
        assert_eq!(from_rows.linear.weights, model.linear.weights);
        assert_eq!(from_rows.linear.intercept, model.linear.intercept);
        assert_eq!(from_rows.holdout, model.holdout);
        assert_eq!(from_rows, model);
        if hostile {
            assert!(model.feature_names.iter().any(|n| n.contains(HOSTILE)));
        }
    }

    #[test]
    fn the_model_fitted_on_duckdbs_rows_is_trains() {
        same_model_from_duckdb_rows(false, false);
    }

    #[test]
    fn the_model_with_rule_features_fitted_on_duckdbs_rows_is_trains() {
        same_model_from_duckdb_rows(true, false);
    }

    #[test]
    fn hostile_names_and_values_reach_the_same_model() {
        same_model_from_duckdb_rows(false, true);
    }
}
