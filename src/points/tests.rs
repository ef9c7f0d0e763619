//! The point model against hand-computed fixtures, every config error against its line,
//! and the invariants (caps hold, decay never raises, the cutoff is strict, row order
//! does not matter) as property tests.

use std::io::Cursor;

use polars::prelude::*;
use proptest::prelude::*;

use super::config::parse;
use super::*;
use crate::data::tables::{type_interactions, type_leads};
use crate::data::timestamp::parse_timestamp;
use crate::error::{Error, Problems};

fn raw(csv: &str) -> DataFrame {
    CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .into_reader_with_file_handle(Cursor::new(csv.as_bytes().to_vec()))
        .finish()
        .unwrap()
}

fn leads(csv: &str) -> DataFrame {
    let mut problems = Problems::default();
    let typed = type_leads("leads.csv", &raw(csv), &mut problems).unwrap();
    assert!(problems.is_empty(), "{problems}");
    typed.unwrap()
}

fn interactions(csv: &str) -> DataFrame {
    let mut problems = Problems::default();
    let typed = type_interactions("interactions.csv", &raw(csv), &mut problems).unwrap();
    assert!(problems.is_empty(), "{problems}");
    typed.unwrap()
}

fn at(text: &str) -> i64 {
    parse_timestamp(text).unwrap()
}

const MODEL: &str = r#"
base_points = 100

[[tier]]
name = "cold"
from = 0
[[tier]]
name = "warm"
from = 120
[[tier]]
name = "sales_ready"
from = 150

[[grade]]
name = "D"
from = -100
[[grade]]
name = "C"
from = 0
[[grade]]
name = "B"
from = 20
[[grade]]
name = "A"
from = 40

[[attribute]]
column = "industry"
one_of = ["software", "technology"]
points = 15
[[attribute]]
column = "job_title"
contains = "FOUNDER"
points = 20
[[attribute]]
column = "country"
one_of = ["US", "GB"]
not = true
points = -10
[[attribute]]
column = "employees"
at_least = 50
below = 5000
points = 10
[[attribute]]
column = "job_title"
missing = true
points = -5
[[attribute]]
column = "industry"
matches = "^Manu"
points = 10

[[behaviour]]
name = "Email open"
event_type = "email_open"
points = 2
max_points = 5
[[behaviour]]
name = "Pricing"
event_type = "page_visit"
detail = "/pricing"
points = 10
max_count = 2
[[behaviour]]
name = "Blog"
event_type = "page_visit"
detail_prefix = "/blog/"
points = 1
window_days = 30
[[behaviour]]
name = "Whitepaper"
event_type = "download"
detail_glob = "white*"
points = 8
half_life_days = 10
[[behaviour]]
name = "Unsubscribe"
event_type = "unsubscribe"
points = -20
expire_after_days = 20

[inactivity]
after_days = 30
points = -7
"#;

const LEADS: &str = "lead_id,created_at,industry,job_title,country,employees
L1,2025-01-01,Software,Co-Founder,US,120
L2,2025-02-20,retail,,IN,5
L3,2024-06-01,Manufacturing,Sales Manager,,
";

const INTERACTIONS: &str = "lead_id,occurred_at,event_type,detail
L1,2025-02-01,email_open,
L1,2025-02-10,email_open,
L1,2025-02-20,email_open,
L1,2025-01-10,page_visit,/pricing
L1,2025-02-10,page_visit,/pricing
L1,2025-02-25,page_visit,/pricing
L1,2025-01-15,page_visit,/blog/a
L1,2025-02-15,page_visit,/blog/b
L1,2025-02-19,download,whitepaper-x
L1,2025-03-01T00:00:00Z,email_open,
L1,2025-03-05,page_visit,/pricing
L2,2025-02-21,unsubscribe,
L3,2024-12-01,unsubscribe,
L3,2025-01-30,download,whitepaper-y
";

fn score(
    model: &PointModel,
    leads: &DataFrame,
    interactions: &DataFrame,
    as_of: &str,
) -> PointScores {
    let observations = observations_at(leads, at(as_of)).unwrap();
    model
        .evaluate(leads, interactions, &observations, true)
        .unwrap()
}

fn column_f64(frame: &DataFrame, name: &str) -> Vec<f64> {
    frame
        .column(name)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect()
}

fn column_str(frame: &DataFrame, name: &str) -> Vec<String> {
    frame
        .column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap().to_string())
        .collect()
}

#[test]
fn hand_computed_fixture() {
    let model = parse(MODEL, "model.toml").unwrap();
    let scored = score(
        &model,
        &leads(LEADS),
        &interactions(INTERACTIONS),
        "2025-03-01",
    );
    let s = &scored.scores;
    // L1: fit 15 + 20 + 10 = 45; email 3×2 capped at 5, pricing 2 most recent = 20,
    //     one blog visit inside 30 days = 1, whitepaper 10 days old = 8 × ½ = 4.
    //     The email at exactly 2025-03-01 and the visit after it do not count.
    // L2: fit -10 (outside target) -5 (no title) = -15; unsubscribe 8 days ago -20.
    // L3: fit +10 (regex ^Manu); unsubscribe 90 days ago expired; whitepaper 30 days
    //     old = 8 × ⅛ = 1; last activity 30 days ago: inactivity -7.
    assert_eq!(column_f64(s, "fit_points"), [45.0, -15.0, 10.0]);
    assert_eq!(column_f64(s, "engagement_points"), [30.0, -20.0, -6.0]);
    assert_eq!(column_f64(s, "points"), [175.0, 65.0, 104.0]);
    assert_eq!(column_str(s, "tier"), ["sales_ready", "cold", "cold"]);
    assert_eq!(column_str(s, "grade"), ["A", "D", "C"]);

    let breakdown = scored.breakdown.unwrap();
    let l1 = breakdown
        .clone()
        .lazy()
        .filter(col(OBS).eq(lit(0u32)))
        .collect()
        .unwrap();
    assert_eq!(
        column_str(&l1, "rule"),
        [
            "industry is one of software, technology",
            "job_title contains FOUNDER",
            "employees in 50..5000",
            "Email open",
            "Pricing",
            "Blog",
            "Whitepaper"
        ]
    );
    let counts: Vec<u32> = l1
        .column("count")
        .unwrap()
        .u32()
        .unwrap()
        .iter()
        .map(|c| c.unwrap())
        .collect();
    assert_eq!(counts, [1, 1, 1, 3, 2, 1, 1]);
    assert_eq!(
        column_f64(&l1, "points"),
        [15.0, 20.0, 10.0, 5.0, 20.0, 1.0, 4.0]
    );
}

#[test]
fn tier_thresholds_are_inclusive_and_the_lowest_tier_catches_everything_below() {
    let model = parse(
        "base_points = 119\n[[tier]]\nname = \"cold\"\nfrom = 0\n[[tier]]\nname = \"warm\"\nfrom = 120\n\
         [[behaviour]]\nevent_type = \"x\"\npoints = 1\n[[attribute]]\ncolumn = \"industry\"\nequals = \"neg\"\npoints = -200\n",
        "m.toml",
    )
    .unwrap();
    let leads =
        leads("lead_id,created_at,industry\nA,2025-01-01,a\nB,2025-01-01,a\nC,2025-01-01,neg\n");
    let events = interactions("lead_id,occurred_at,event_type\nA,2025-01-02,x\n");
    let s = score(&model, &leads, &events, "2025-02-01").scores;
    assert_eq!(column_f64(&s, "points"), [120.0, 119.0, -81.0]);
    assert_eq!(column_str(&s, "tier"), ["warm", "cold", "cold"]);
}

#[test]
fn max_count_with_decay_keeps_the_most_recent_occurrences() {
    let model = parse(
        &format!("{TIERS}[[behaviour]]\nevent_type = \"v\"\npoints = 8\nmax_count = 2\nhalf_life_days = 10\n[[behaviour]]\nevent_type = \"u\"\npoints = -4\nmax_count = 1\nhalf_life_days = 10\n"),
        "m.toml",
    )
    .unwrap();
    let leads = leads("lead_id,created_at\nA,2024-01-01\n");
    // v: 30, 10 and 20 days old: the two youngest count, 8 × ½ + 8 × ¼ = 6.
    // u: 20 and 10 days old: the youngest counts, -4 × ½ = -2.
    let events = interactions(
        "lead_id,occurred_at,event_type\nA,2025-01-30,v\nA,2025-02-19,v\nA,2025-02-09,v\nA,2025-02-09,u\nA,2025-02-19,u\n",
    );
    let scored = score(&model, &leads, &events, "2025-03-01");
    assert_eq!(column_f64(&scored.scores, "engagement_points"), [4.0]);
    let counts: Vec<u32> = scored
        .breakdown
        .unwrap()
        .column("count")
        .unwrap()
        .u32()
        .unwrap()
        .iter()
        .map(|c| c.unwrap())
        .collect();
    assert_eq!(counts, [2, 1]);
}

#[test]
fn header_only_interactions_score_on_attributes_alone() {
    let model = parse(MODEL, "model.toml").unwrap();
    let scored = score(
        &model,
        &leads(LEADS),
        &interactions("lead_id,occurred_at,event_type,detail\n"),
        "2025-03-01",
    );
    // Without any activity: L1 (created 59 days ago) and L3 are inactive, L2 is 9 days old.
    assert_eq!(column_f64(&scored.scores, "points"), [138.0, 85.0, 103.0]);
}

#[test]
fn age_rules_give_points_by_lead_age_at_the_cutoff() {
    let rules = format!(
        "base_points = 100\n{TIERS}[[age]]\nname = \"Fresh\"\nbelow_days = 30\npoints = 5\n\
         [[age]]\nname = \"Stale\"\nfrom_days = 30\nbelow_days = 60\npoints = -10\n\
         [[age]]\nfrom_days = 60\npoints = -20\n"
    );
    let model = parse(&rules, "rules.toml").unwrap();
    let leads =
        leads("lead_id,created_at\nA,2025-02-20\nB,2025-01-15\nC,2024-12-01\nD,2025-01-30\n");
    let scored = score(
        &model,
        &leads,
        &interactions("lead_id,occurred_at,event_type,detail\n"),
        "2025-03-01",
    );
    // Ages 9, 45, 90 and exactly 30 days (the lower bound is inclusive).
    assert_eq!(
        column_f64(&scored.scores, "points"),
        [105.0, 90.0, 80.0, 90.0]
    );
    assert_eq!(column_f64(&scored.scores, "fit_points"), [0.0; 4]);
    let breakdown = scored.breakdown.unwrap();
    assert_eq!(
        column_str(&breakdown, "rule"),
        ["Fresh", "Stale", "Lead age 60+ days", "Stale"]
    );
    assert_eq!(column_str(&breakdown, "kind"), ["age"; 4]);
}

#[test]
fn rejects_empty_or_inverted_age_bands_with_their_line() {
    let (line, reason) = config_error(&format!("{TIERS}[[age]]\npoints = 3\n"));
    assert_eq!(line, 7);
    assert!(reason.contains("from_days, below_days"), "{reason}");
    let (line, reason) = config_error(&format!(
        "{TIERS}[[age]]\nfrom_days = 30\nbelow_days = 10\npoints = 3\n"
    ));
    assert_eq!(line, 7);
    assert!(reason.contains("above from_days"), "{reason}");
}

#[test]
fn builtin_model_parses_and_reads_generated_columns() {
    let model = PointModel::builtin().unwrap();
    assert_eq!(model.action_tier_name(), "sales_ready");
    assert_eq!(model.base_points, 100.0);
    let columns: Vec<&str> = model.attributes.iter().map(|r| r.column.as_str()).collect();
    for expected in ["industry", "job_title", "seniority", "country"] {
        assert!(columns.contains(&expected));
    }
}

// ---- every config error names its line ----

fn config_error(text: &str) -> (usize, String) {
    match parse(text, "rules.toml") {
        Err(Error::Config { path, line, reason }) => {
            assert_eq!(path, "rules.toml");
            (line, reason)
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

const TIERS: &str = "[[tier]]\nname = \"cold\"\nfrom = 0\n[[tier]]\nname = \"hot\"\nfrom = 150\n";

#[test]
fn rejects_unknown_key_with_its_line() {
    let (line, reason) = config_error(&format!(
        "{TIERS}[[behaviour]]\nevent_type = \"x\"\npoints = 1\nhalf_life = 3\n"
    ));
    assert_eq!(line, 10);
    assert!(reason.contains("unknown field `half_life`"), "{reason}");
}

#[test]
fn rejects_wrong_type_with_its_line() {
    let (line, reason) = config_error(&format!("base_points = 100\n{TIERS}[[attribute]]\ncolumn = \"a\"\nequals = \"x\"\npoints = \"ten\"\n"));
    assert_eq!(line, 11);
    assert!(reason.contains("invalid type"), "{reason}");
}

#[test]
fn rejects_unordered_thresholds_with_their_line() {
    let (line, reason) = config_error(
        "[[tier]]\nname = \"hot\"\nfrom = 150\n\n[[tier]]\nname = \"cold\"\nfrom = 0\n",
    );
    assert_eq!(line, 5);
    assert!(reason.contains("out of order"), "{reason}");
}

#[test]
fn rejects_overlapping_thresholds_with_their_line() {
    let (line, reason) =
        config_error("[[tier]]\nname = \"a\"\nfrom = 100\n[[tier]]\nname = \"b\"\nfrom = 100\n");
    assert_eq!(line, 4);
    assert!(reason.contains("overlaps"), "{reason}");
}

#[test]
fn rejects_duplicate_tier_names_and_unordered_grades() {
    let (line, _) =
        config_error("[[tier]]\nname = \"a\"\nfrom = 1\n[[tier]]\nname = \"a\"\nfrom = 2\n");
    assert_eq!(line, 4);
    let (line, reason) = config_error(&format!(
        "{TIERS}[[grade]]\nname = \"A\"\nfrom = 40\n[[grade]]\nname = \"B\"\nfrom = 20\n"
    ));
    assert_eq!(line, 10);
    assert!(reason.contains("grade `B`"), "{reason}");
}

#[test]
fn rejects_negative_half_life_with_its_line() {
    let (line, reason) = config_error(&format!(
        "{TIERS}\n[[behaviour]]\nevent_type = \"email_open\"\npoints = 2\nhalf_life_days = -30\n"
    ));
    assert_eq!(line, 8);
    assert!(reason.contains("half_life_days"), "{reason}");
}

#[test]
fn rejects_contradictory_rules_with_their_line() {
    let cases = [
        ("[[attribute]]\ncolumn = \"a\"\npoints = 1\n", "no condition"),
        ("[[attribute]]\ncolumn = \"a\"\nequals = \"x\"\ncontains = \"y\"\npoints = 1\n", "more than one condition"),
        ("[[attribute]]\ncolumn = \"a\"\nmatches = \"(\"\npoints = 1\n", "not a valid regular expression"),
        ("[[attribute]]\ncolumn = \"a\"\nat_least = 10\nbelow = 5\npoints = 1\n", "empty range"),
        ("[[behaviour]]\nevent_type = \"x\"\ndetail = \"a\"\ndetail_prefix = \"b\"\npoints = 1\n", "at most one of detail"),
        ("[[behaviour]]\nevent_type = \"x\"\npoints = 1\nmax_count = 0\n", "max_count"),
        ("[[behaviour]]\nevent_type = \"x\"\npoints = 1\nhalf_life_days = 3\nexpire_after_days = 9\n", "not both"),
        ("[[behaviour]]\nevent_type = \"x\"\npoints = 1\nwindow_days = 0\n", "window_days"),
        ("[inactivity]\nafter_days = -1\npoints = -5\n", "after_days"),
    ];
    for (rule, expected) in cases {
        let (line, reason) = config_error(&format!("{TIERS}{rule}"));
        assert_eq!(line, 7, "{rule}");
        assert!(reason.contains(expected), "{rule}: {reason}");
    }
}

#[test]
fn rejects_missing_tiers() {
    let (line, reason) = config_error("base_points = 100\n");
    assert_eq!(line, 1);
    assert!(reason.contains("no [[tier]]"), "{reason}");
}

#[test]
fn rejects_a_rule_on_a_column_the_leads_lack_with_its_line() {
    let model = parse(
        &format!("{TIERS}\n[[attribute]]\ncolumn = \"industy\"\nequals = \"x\"\npoints = 1\n"),
        "rules.toml",
    )
    .unwrap();
    let leads = leads("lead_id,created_at,industry\nA,2025-01-01,x\n");
    match model.check_columns(&leads) {
        Err(Error::Config { line, reason, .. }) => {
            assert_eq!(line, 8);
            assert!(
                reason.contains("no column `industy`") && reason.contains("industry"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    let numeric = parse(
        &format!("{TIERS}[[attribute]]\ncolumn = \"industry\"\nat_least = 3\npoints = 1\n"),
        "r.toml",
    )
    .unwrap();
    assert!(matches!(
        numeric.check_columns(&leads),
        Err(Error::Config { line: 7, .. })
    ));
}

// ---- invariants ----

const EVENTS: [(&str, &str); 5] = [
    ("email_open", ""),
    ("page_visit", "/pricing"),
    ("page_visit", "/blog/x"),
    ("download", "whitepaper-1"),
    ("unsubscribe", ""),
];

/// (lead 0..3, event index, minutes relative to the cutoff)
fn events_strategy() -> impl Strategy<Value = Vec<(usize, usize, i64)>> {
    prop::collection::vec(
        (0usize..3, 0usize..EVENTS.len(), -200_000i64..50_000),
        0..40,
    )
}

const CUTOFF: &str = "2025-06-01";

fn events_csv(events: &[(usize, usize, i64)]) -> String {
    let mut csv = String::from("lead_id,occurred_at,event_type,detail\n");
    for &(lead, event, minutes) in events {
        let at = at(CUTOFF) + minutes * 60_000_000;
        let (event_type, detail) = EVENTS[event];
        csv.push_str(&format!(
            "L{lead},{},{event_type},{detail}\n",
            crate::data::timestamp::format_timestamp(at)
        ));
    }
    csv
}

const PROP_LEADS: &str = "lead_id,created_at,industry,job_title,country,employees
L0,2024-01-01,Software,Founder,US,100
L1,2024-03-01,Retail,,IN,
L2,2024-05-01,Manufacturing,Manager,GB,20
";

fn by_lead(scores: &DataFrame) -> DataFrame {
    scores
        .clone()
        .lazy()
        .sort(
            [crate::data::columns::LEAD_ID],
            SortMultipleOptions::default(),
        )
        .drop(cols([OBS]))
        .collect()
        .unwrap()
}

fn close(a: &DataFrame, b: &DataFrame) -> bool {
    ["fit_points", "engagement_points", "points"]
        .iter()
        .all(|name| {
            column_f64(a, name)
                .iter()
                .zip(column_f64(b, name))
                .all(|(x, y)| (x - y).abs() < 1e-6)
        })
        && column_str(a, "lead_id") == column_str(b, "lead_id")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn caps_hold(events in events_strategy()) {
        let model = parse(MODEL, "model.toml").unwrap();
        let scored = score(&model, &leads(PROP_LEADS), &interactions(&events_csv(&events)), CUTOFF);
        let breakdown = scored.breakdown.unwrap();
        let rules = column_str(&breakdown, "rule");
        let points = column_f64(&breakdown, "points");
        let counts: Vec<u32> = breakdown.column("count").unwrap().u32().unwrap().iter().map(|c| c.unwrap()).collect();
        for ((rule, points), count) in rules.iter().zip(points).zip(counts) {
            if rule == "Email open" { prop_assert!(points.abs() <= 5.0 + 1e-9); }
            if rule == "Pricing" { prop_assert!(count <= 2 && points.abs() <= 20.0 + 1e-9); }
        }
    }

    #[test]
    fn decay_never_raises_a_score(events in events_strategy()) {
        let decayed = parse(&format!("{TIERS}[[behaviour]]\nevent_type = \"email_open\"\npoints = 3\nhalf_life_days = 7\n[[behaviour]]\nevent_type = \"page_visit\"\npoints = 10\nexpire_after_days = 30\n"), "d.toml").unwrap();
        let flat = parse(&format!("{TIERS}[[behaviour]]\nevent_type = \"email_open\"\npoints = 3\n[[behaviour]]\nevent_type = \"page_visit\"\npoints = 10\n"), "f.toml").unwrap();
        let leads = leads(PROP_LEADS);
        let table = interactions(&events_csv(&events));
        let with_decay = column_f64(&score(&decayed, &leads, &table, CUTOFF).scores, "engagement_points");
        let without = column_f64(&score(&flat, &leads, &table, CUTOFF).scores, "engagement_points");
        for (d, f) in with_decay.iter().zip(without) {
            prop_assert!(*d <= f + 1e-9, "decayed {d} > undecayed {f}");
        }
        // With no new activity, time passing never makes a lead worth more.
        let old_only = interactions(&events_csv(&events_before_cutoff_only(&events)));
        let now = column_f64(&score(&decayed, &leads, &old_only, CUTOFF).scores, "engagement_points");
        let later = column_f64(&score(&decayed, &leads, &old_only, "2025-09-01").scores, "engagement_points");
        for (now, later) in now.iter().zip(later) {
            prop_assert!(later <= *now + 1e-9, "later {later} > now {now}");
        }
    }

    #[test]
    fn interactions_at_or_after_the_cutoff_change_nothing(events in events_strategy(), late in prop::collection::vec((0usize..3, 0usize..EVENTS.len(), 0i64..100_000), 1..20)) {
        let model = parse(MODEL, "model.toml").unwrap();
        let leads = leads(PROP_LEADS);
        let before: Vec<_> = events_before_cutoff_only(&events);
        let mut with_late = before.clone();
        with_late.extend(late);
        let a = score(&model, &leads, &interactions(&events_csv(&before)), CUTOFF).scores;
        let b = score(&model, &leads, &interactions(&events_csv(&with_late)), CUTOFF).scores;
        prop_assert!(a.equals_missing(&b));
    }

    #[test]
    fn row_order_changes_nothing(events in events_strategy(), seed in any::<u64>()) {
        let model = parse(MODEL, "model.toml").unwrap();
        let forward = score(&model, &leads(PROP_LEADS), &interactions(&events_csv(&events)), CUTOFF).scores;
        let mut shuffled = events.clone();
        let mut state = seed;
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (state >> 33) as usize % (i + 1));
        }
        let mut lead_lines: Vec<&str> = PROP_LEADS.lines().skip(1).collect();
        lead_lines.reverse();
        let reversed_leads = format!("{}\n{}\n", PROP_LEADS.lines().next().unwrap(), lead_lines.join("\n"));
        let backward = score(&model, &leads(&reversed_leads), &interactions(&events_csv(&shuffled)), CUTOFF).scores;
        prop_assert!(close(&by_lead(&forward), &by_lead(&backward)));
        prop_assert_eq!(column_str(&by_lead(&forward), "tier"), column_str(&by_lead(&backward), "tier"));
    }
}

fn events_before_cutoff_only(events: &[(usize, usize, i64)]) -> Vec<(usize, usize, i64)> {
    events.iter().copied().filter(|e| e.2 < 0).collect()
}
