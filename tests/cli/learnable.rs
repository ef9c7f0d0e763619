//! A generated data set is learnable: a plain linfa logistic regression on simple
//! per-lead counts (only interactions before the deal closed) and attribute dummies
//! ranks held-out leads clearly better than chance, and the truth file's probabilities
//! rank them better still (they are the ceiling no model can pass).

use leadscore::data::columns::*;
use leadscore::data::{load, InputPaths, LoadOptions};
use leadscore::eval::metrics::roc_auc;
use leadscore::generate::catalog::{COUNTRIES, EVENT_MIX, INDUSTRIES, SOURCES, TITLES};
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2, ShapeBuilder};
use polars::prelude::*;

use crate::util::generate;

/// The event types leads produce before closing, as the generator knows them.
fn events() -> Vec<&'static str> {
    EVENT_MIX.iter().map(|(event, _, _)| event.name()).collect()
}

#[test]
fn plain_logistic_regression_beats_chance_and_truth_beats_it() {
    let root = tempfile::tempdir().unwrap();
    let dir = generate(root.path(), 6_000, 21, "csv");
    let tables = load(
        &InputPaths {
            leads: dir.join("leads.csv"),
            interactions: dir.join("interactions.csv"),
            outcomes: Some(dir.join("outcomes.csv")),
        },
        LoadOptions::default(),
    )
    .unwrap();
    let truth = CsvReadOptions::default()
        .try_into_reader_with_file_path(Some(dir.join("truth.csv")))
        .unwrap()
        .finish()
        .unwrap();

    // Counts strictly before closed_at: the post-close onboarding must not leak in.
    let mut counts: Vec<Expr> = events()
        .iter()
        .map(|e| {
            col(EVENT_TYPE)
                .eq(lit(*e))
                .sum()
                .cast(DataType::Float64)
                .alias(*e)
        })
        .collect();
    counts.push(
        col(DETAIL)
            .eq(lit("/pricing"))
            .sum()
            .cast(DataType::Float64)
            .alias("pricing"),
    );
    let before_close = tables
        .interactions
        .clone()
        .lazy()
        .join(
            tables.outcomes.clone().lazy(),
            [col(LEAD_ID)],
            [col(LEAD_ID)],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col(OCCURRED_AT).lt(col(CLOSED_AT)))
        .group_by([col(LEAD_ID)])
        .agg(counts);

    let mut features: Vec<Expr> = events()
        .iter()
        .chain(["pricing"].iter())
        .map(|e| {
            (col(*e).fill_null(lit(0.0)) + lit(1.0))
                .log(lit(std::f64::consts::E))
                .alias(*e)
        })
        .collect();
    let mut dummy = |column: &str, values: Vec<&str>| {
        for value in values {
            let name = format!("{column}={value}");
            features.push(
                col(column)
                    .eq(lit(value))
                    .fill_null(lit(false))
                    .cast(DataType::Float64)
                    .alias(name),
            );
        }
    };
    dummy("industry", INDUSTRIES.iter().map(|c| c.value).collect());
    dummy("job_title", TITLES.iter().map(|t| t.value).collect());
    dummy("country", COUNTRIES.iter().map(|c| c.value).collect());
    dummy("source", SOURCES.iter().map(|s| s.value).collect());
    let n_features = features.len();

    let frame = tables
        .outcomes
        .clone()
        .lazy()
        .join(
            tables.leads.clone().lazy(),
            [col(LEAD_ID)],
            [col(LEAD_ID)],
            JoinArgs::new(JoinType::Inner),
        )
        .join(
            before_close,
            [col(LEAD_ID)],
            [col(LEAD_ID)],
            JoinArgs::new(JoinType::Left),
        )
        .join(
            truth.lazy(),
            [col(LEAD_ID)],
            [col(LEAD_ID)],
            JoinArgs::new(JoinType::Inner),
        )
        .sort([LEAD_ID], SortMultipleOptions::default())
        .select(
            [
                col(LEAD_ID),
                col(OUTCOME).eq(lit(WON)).alias("won"),
                col("true_probability"),
            ]
            .into_iter()
            .chain(features)
            .collect::<Vec<_>>(),
        )
        .collect()
        .unwrap();

    // Hold out every fourth lead by id.
    let ids: Vec<&str> = frame
        .column(LEAD_ID)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    let held_out: Vec<bool> = ids
        .iter()
        .map(|id| id[1..].parse::<usize>().unwrap() % 4 == 0)
        .collect();
    let won: Vec<bool> = frame
        .column("won")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .map(|w| w.unwrap())
        .collect();
    let truth: Vec<f64> = frame
        .column("true_probability")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .map(|p| p.unwrap())
        .collect();
    let matrix = |keep: bool| {
        let rows: Vec<usize> = (0..ids.len()).filter(|&i| held_out[i] == keep).collect();
        let mut values = Vec::with_capacity(rows.len() * n_features);
        for column in &frame.columns()[3..] {
            let column = column.f64().unwrap();
            values.extend(rows.iter().map(|&i| column.get(i).unwrap()));
        }
        let x = Array2::from_shape_vec((rows.len(), n_features).f(), values).unwrap();
        let y: Array1<bool> = rows.iter().map(|&i| won[i]).collect();
        let t: Vec<f64> = rows.iter().map(|&i| truth[i]).collect();
        (x, y, t)
    };
    let (x_train, y_train, _) = matrix(false);
    let (x_test, y_test, truth_test) = matrix(true);
    assert!(y_test.len() > 500, "{} held-out leads", y_test.len());

    let model = LogisticRegression::default()
        .alpha(1.0)
        .max_iterations(300)
        .fit(&Dataset::new(x_train, y_train))
        .unwrap();
    let mut probability = model.predict_probabilities(&x_test);
    // linfa's positive class is the more frequent label: orient towards "won".
    if !model.labels().pos.class {
        probability.mapv_inplace(|p| 1.0 - p);
    }
    let y_test = y_test.to_vec();
    let model_auc = roc_auc(probability.as_slice().unwrap(), &y_test).unwrap();
    let truth_auc = roc_auc(&truth_test, &y_test).unwrap();
    eprintln!("held-out AUC: model {model_auc:.3}, truth {truth_auc:.3}");
    assert!(
        model_auc > 0.70,
        "model AUC {model_auc:.3} is not clearly better than chance"
    );
    assert!(
        truth_auc > model_auc,
        "truth AUC {truth_auc:.3} should beat the model's {model_auc:.3}"
    );
}
