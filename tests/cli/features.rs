//! The feature pipeline on generated data: point-in-time correct, no leak from events
//! that only happen after closing, robust to categories and event types never seen.

use leadscore::data::columns::*;
use leadscore::data::events::EventIndex;
use leadscore::data::{load, InputPaths, LoadOptions, Tables};
use leadscore::features::cutoffs::{training_observations, CutoffParams};
use leadscore::features::spec::{FeatureSpec, SpecParams};
use leadscore::points::AS_OF;
use polars::prelude::*;

use crate::util::generate;

fn tables(dir: &std::path::Path) -> Tables {
    load(
        &InputPaths {
            leads: dir.join("leads.csv"),
            interactions: dir.join("interactions.csv"),
            outcomes: Some(dir.join("outcomes.csv")),
        },
        LoadOptions::default(),
    )
    .unwrap()
}

#[test]
fn features_see_nothing_at_or_after_the_cutoff_and_never_learn_post_close_events() {
    let root = tempfile::tempdir().unwrap();
    let tables = tables(&generate(root.path(), 1_500, 4, "csv"));
    let params = CutoffParams::default().check().unwrap();
    let observations = training_observations(&tables.leads, &tables.outcomes, &params).unwrap();
    let spec = FeatureSpec::learn(
        &tables.leads,
        &EventIndex::new(&tables.leads, &tables.interactions).unwrap(),
        &observations,
        &SpecParams::default(),
        None,
    )
    .unwrap();
    assert!(spec.event_types.contains(&"page_visit".to_string()));
    assert!(
        !spec.event_types.contains(&"product_login".to_string()),
        "{:?}",
        spec.event_types
    );
    assert!(
        spec.details
            .iter()
            .any(|(e, d)| e == "page_visit" && d == "/pricing"),
        "{:?}",
        spec.details
    );

    let features = spec
        .build(&tables.leads, &tables.interactions, &observations, None)
        .unwrap();
    assert_eq!(features.height(), observations.height());
    assert_eq!(features.width(), 2 + spec.names().len());
    for column in &features.columns()[2..] {
        assert_eq!(column.null_count(), 0, "{}", column.name());
    }

    // Add, for every lead, interactions stamped exactly at its latest cutoff and later:
    // no snapshot of that lead may see them.
    let late = observations
        .clone()
        .lazy()
        .group_by([col(LEAD_ID)])
        .agg([col(AS_OF).max()])
        .select([
            col(LEAD_ID),
            col(AS_OF).alias(OCCURRED_AT),
            lit("page_visit").alias(EVENT_TYPE),
            lit("/pricing").alias(DETAIL),
        ]);
    let later = late
        .clone()
        .with_column((col(OCCURRED_AT) + lit(Duration::parse("3d"))).alias(OCCURRED_AT));
    let flooded = concat(
        [tables.interactions.clone().lazy(), late, later],
        UnionArgs::default(),
    )
    .unwrap()
    .collect()
    .unwrap();
    let again = spec
        .build(&tables.leads, &flooded, &observations, None)
        .unwrap();
    assert!(
        features.equals_missing(&again),
        "a feature saw an interaction at or after its cutoff"
    );

    // The control: the same visits one microsecond before the cutoff are seen, so the
    // check above could fail.
    let just_before = observations
        .clone()
        .lazy()
        .group_by([col(LEAD_ID)])
        .agg([col(AS_OF).max()])
        .select([
            col(LEAD_ID),
            (col(AS_OF) - lit(Duration::parse("1us"))).alias(OCCURRED_AT),
            lit("page_visit").alias(EVENT_TYPE),
            lit("/pricing").alias(DETAIL),
        ]);
    let seen = concat(
        [tables.interactions.clone().lazy(), just_before],
        UnionArgs::default(),
    )
    .unwrap()
    .collect()
    .unwrap();
    let moved = spec
        .build(&tables.leads, &seen, &observations, None)
        .unwrap();
    let pricing = |frame: &DataFrame| -> f64 {
        frame
            .column("page_visit[/pricing]_7d")
            .unwrap()
            .f64()
            .unwrap()
            .sum()
            .unwrap()
    };
    assert!(pricing(&moved) > pricing(&features));
}

#[test]
fn unseen_categories_and_event_types_go_to_other() {
    let root = tempfile::tempdir().unwrap();
    let tables = tables(&generate(root.path(), 800, 6, "csv"));
    let params = CutoffParams::default().check().unwrap();
    let observations = training_observations(&tables.leads, &tables.outcomes, &params).unwrap();
    let spec = FeatureSpec::learn(
        &tables.leads,
        &EventIndex::new(&tables.leads, &tables.interactions).unwrap(),
        &observations,
        &SpecParams::default(),
        None,
    )
    .unwrap();

    let new_lead = df!(
        LEAD_ID => ["N1"],
        "industry" => ["Aerospace"],
        "country" => [None::<&str>],
    )
    .unwrap();
    let mut leads = tables
        .leads
        .head(Some(1))
        .lazy()
        .select([col(LEAD_ID), col(CREATED_AT)])
        .collect()
        .unwrap();
    leads = leads
        .lazy()
        .with_column(lit("N1").alias(LEAD_ID))
        .collect()
        .unwrap();
    let leads = leads
        .lazy()
        .join(
            new_lead.lazy(),
            [col(LEAD_ID)],
            [col(LEAD_ID)],
            JoinArgs::new(JoinType::Left),
        )
        .collect()
        .unwrap();
    let created = leads
        .column(CREATED_AT)
        .unwrap()
        .to_physical_repr()
        .i64()
        .unwrap()
        .get(0)
        .unwrap();
    let interactions = df!(
        LEAD_ID => ["N1", "N1"],
        OCCURRED_AT => [created + 1_000_000, created + 2_000_000],
        EVENT_TYPE => ["chat_message", "page_visit"],
        DETAIL => [None::<&str>, Some("/pricing")],
    )
    .unwrap()
    .lazy()
    .with_column(col(OCCURRED_AT).cast(DataType::Datetime(TimeUnit::Microseconds, None)))
    .collect()
    .unwrap();
    let scoring = leadscore::points::observations_at(&leads, created + 86_400_000_000).unwrap();
    let features = spec.build(&leads, &interactions, &scoring, None).unwrap();
    let value = |name: &str| {
        features
            .column(name)
            .unwrap()
            .f64()
            .unwrap()
            .get(0)
            .unwrap()
    };
    assert_eq!(value("industry=<other>"), 1.0);
    assert_eq!(value("country=<missing>"), 1.0);
    assert_eq!(value("<other>_all"), 2f64.ln());
    assert_eq!(value("page_visit[/pricing]_7d"), 2f64.ln());
    assert_eq!(value("never_active"), 0.0);
}

#[test]
fn a_model_on_snapshot_features_ranks_later_deals_well() {
    use leadscore::eval::metrics::roc_auc;
    use leadscore::features::cutoffs::WON_LABEL;
    use leadscore::model::matrix::to_matrix;
    use leadscore::model::train::{FitParams, LinearModel};

    let root = tempfile::tempdir().unwrap();
    let tables = tables(&generate(root.path(), 5_000, 12, "csv"));
    let params = CutoffParams::default().check().unwrap();
    let observations = training_observations(&tables.leads, &tables.outcomes, &params).unwrap();
    // Later deals validate earlier ones: split by close date, a lead on one side only.
    let closed: Vec<i64> = observations
        .column(CLOSED_AT)
        .unwrap()
        .to_physical_repr()
        .i64()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    let mut sorted = closed.clone();
    sorted.sort_unstable();
    let split = sorted[sorted.len() * 3 / 4];
    let side = |later: bool| {
        let mask: BooleanChunked = closed.iter().map(|&c| (c >= split) == later).collect();
        observations.filter(&mask).unwrap()
    };
    let (train, test) = (side(false), side(true));
    let spec = FeatureSpec::learn(
        &tables.leads,
        &EventIndex::new(&tables.leads, &tables.interactions).unwrap(),
        &train,
        &SpecParams::default(),
        None,
    )
    .unwrap();
    let matrix = |observed: &DataFrame| {
        let features = spec
            .build(&tables.leads, &tables.interactions, observed, None)
            .unwrap();
        to_matrix(&features.drop_many([LEAD_ID, AS_OF])).unwrap()
    };
    let labels = |observed: &DataFrame| -> Vec<bool> {
        observed
            .column(WON_LABEL)
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .map(|w| w.unwrap())
            .collect()
    };
    let model = LinearModel::fit(&matrix(&train), &labels(&train), &FitParams::default()).unwrap();
    let probability = model.probabilities(&matrix(&test));
    let auc = roc_auc(probability.as_slice().unwrap(), &labels(&test)).unwrap();
    eprintln!("time-split snapshot AUC {auc:.3}");
    assert!(auc > 0.65, "AUC {auc:.3}: not clearly better than chance");
}
