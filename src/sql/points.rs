//! The classic rule model (points) as SQL: the parts that reproduce
//! `PointModel::evaluate` for every observed (lead, time), ending in `rule_points` with
//! `lead_id, as_of_us, points, tier, grade, fit_points, engagement_points`.
//!
//! The parts, each one step of `evaluate`:
//! - `rule_fit`: one column `f0, f1, …` per attribute rule (its points or 0), read from
//!   the leads table by the rules' own column names;
//! - `rule_events`: the visible interactions with one flag `m0, m1, …` per behaviour
//!   rule: the interaction matches the rule and is inside its window (the shorter of
//!   `window_days` and an `expire_after_days`);
//! - `rule_ranked`: for half-life rules with `max_count`, each matching interaction's
//!   rank by recency `r<i>` (1 = the youngest);
//! - `rule_engagement`: per lead, each behaviour rule's points `b0, b1, …` (counted,
//!   decayed, capped) and the last interaction `last_us`;
//! - `rule_totals`: fit and engagement (behaviour + inactivity + age rules), summed left
//!   to right in rule order as leadscore sums them;
//! - `rule_rounded`, `rule_points`: the points rounded to 0.1, tier and grade, and the
//!   parts shown to 0.01, all rounded half away from zero.
//!
//! Every name and value from the rules reaches the query through [`Dialect::ident`],
//! [`Dialect::text`] or [`Dialect::double`].
//!
//! What matches where (DuckDB is what the tests run; the rest is read from the engines'
//! documentation):
//! - Sums of decayed (half-life) points are floating-point sums, and leadscore sums a
//!   lead's rules with Kahan summation; the SQL sums plainly in rule order. The two can
//!   differ in the last bit, which the published rounding to 0.1 and 0.01 hides unless
//!   a total lies within an ulp of a rounding midpoint. Whole and half points are exact.
//! - Text conditions compare `lower(…)` of the value with the rule's text lower-cased
//!   by Rust. The engines' `lower` agrees with Rust's for ordinary letters (ASCII, é, Ü,
//!   Greek), not for the special cases: Rust lowers `İ` to two characters and a final
//!   `Σ` to `ς`, DuckDB to `i` and `σ`. PostgreSQL lowers by the database's locale: in
//!   the `C` locale only ASCII letters change, so a rule `equals = "zürich"` does not
//!   match `ZÜRICH` there (it does match `Zürich`).
//! - A text condition on a number column compares the engine's text of the number:
//!   integers and booleans read the same everywhere; a DOUBLE `5.0` is `5.0` in polars,
//!   DuckDB and Spark but `5` in PostgreSQL, and large or tiny doubles take exponent
//!   forms that differ between all of them.
//! - A numeric condition (`at_least`/`below`, `equals` a number) on a timestamp column,
//!   which leadscore allows (it compares the physical value), is a cast the engines
//!   refuse or read differently; write such rules on a number column.
//! - `detail_glob` becomes an anchored regex of `.*`, `.` and literals escaped with a
//!   backslash (`\-`, `\#`, `\&`, `\~` included). RE2 (DuckDB), Java (Spark) and
//!   PostgreSQL AREs all read a backslash before punctuation as that character, so the
//!   translation means the same in all three — except on details holding line breaks:
//!   `.` matches a newline in PostgreSQL (leadscore's and RE2's do not), Java's `.`
//!   also refuses `\r`, `\u0085`, `\u2028`, `\u2029`, and Java's `$` also matches before
//!   a final line break.
//! - `matches` is the user's regular expression in Rust's syntax, passed on as written.
//!   RE2 reads nearly all of it; `\d`, `\w`, `\b` are ASCII in RE2 and Java but Unicode
//!   in Rust; PostgreSQL's AREs differ more (`\b` is a backspace there, `\m`/`\M` are
//!   word edges). Keep such patterns to literals, classes, alternation and anchors.
//! - Spark reads the doubled backslashes of [`Dialect::text`] back as single ones
//!   unless `spark.sql.parser.escapedStringLiterals` is set; PostgreSQL needs
//!   `standard_conforming_strings` on (its default).
//! - `exp` is the C library's in DuckDB and PostgreSQL (as in leadscore on Linux);
//!   Spark's JVM `exp` may differ in the last bit (hidden by the rounding as above).

use std::f64::consts::LN_2;

use super::dialect::{Dialect, Query};
use super::{SqlTables, DAYS_PER_MICRO};
use crate::data::columns::LEAD_ID;
use crate::points::rules::{
    AgeRule, AttributeRule, Band, BehaviourRule, Condition, Decay, DetailMatch, Inactivity,
    PointModel,
};

/// Adds the parts that score every observed lead with `rules`, ending in `rule_points`
/// (`lead_id, points, tier, grade, fit_points, engagement_points`). Needs the parts
/// `observed` and `visible` of [`super::add_observations`].
pub(crate) fn add_rule_points(
    query: &mut Query,
    rules: &PointModel,
    d: Dialect,
    tables: &SqlTables,
) {
    query.with("rule_fit", fit_part(rules, d, tables));
    query.with("rule_events", events_part(rules, d));
    query.with("rule_ranked", ranked_part(rules));
    query.with("rule_engagement", engagement_part(rules, d));
    query.with("rule_totals", totals_part(rules, d));
    query.with(
        "rule_rounded",
        format!(
            "SELECT lead_id, as_of_us, fit, engagement,\n       {} AS points\nFROM rule_totals",
            round_half_away(
                d,
                &format!("{} + fit + engagement", d.double(rules.base_points)),
                1
            )
        ),
    );
    query.with(
        "rule_points",
        format!(
            "SELECT lead_id, as_of_us, points,\n       {} AS tier,\n       {} AS grade,\n       \
             {} AS fit_points,\n       {} AS engagement_points\nFROM rule_rounded",
            band(d, "points", &rules.tiers),
            band(d, "fit", &rules.grades),
            round_half_away(d, "fit", 2),
            round_half_away(d, "engagement", 2),
        ),
    );
}

/// `rule_fit`: `lead_id, as_of_us, created_us` and each attribute rule's points.
fn fit_part(rules: &PointModel, d: Dialect, tables: &SqlTables) -> String {
    let mut columns = vec![
        "o.lead_id".to_string(),
        "o.as_of_us".to_string(),
        "o.created_us".to_string(),
    ];
    columns.extend(
        rules
            .attributes
            .iter()
            .enumerate()
            .map(|(i, rule)| format!("{} AS f{i}", attribute_points(d, rule))),
    );
    format!(
        "SELECT {}\nFROM observed AS o LEFT JOIN {} AS l ON l.{} = o.lead_id",
        columns.join(",\n       "),
        tables.leads,
        d.ident(LEAD_ID)
    )
}

/// An attribute rule's points for the lead row `l`: its points where the condition
/// holds (or, negated, where a present value fails it), else 0.
fn attribute_points(d: Dialect, rule: &AttributeRule) -> String {
    let value = format!("l.{}", d.ident(&rule.column));
    let text = format!("lower({})", d.as_text(&value));
    let number = format!("CAST({value} AS {})", d.double_type());
    let lower = |s: &str| d.text(&s.to_lowercase());
    let holds = match &rule.condition {
        Condition::Equals(expected) => format!("{text} = {}", lower(expected)),
        Condition::EqualsNumber(expected) => format!("{number} = {}", d.double(*expected)),
        Condition::OneOf(options) => {
            let options: Vec<String> = options.iter().map(|o| lower(o)).collect();
            format!("{text} IN ({})", options.join(", "))
        }
        Condition::Range { at_least, below } => {
            let mut tests = vec![format!("{number} IS NOT NULL")];
            tests.extend(at_least.map(|lo| format!("{number} >= {}", d.double(lo))));
            tests.extend(below.map(|hi| format!("{number} < {}", d.double(hi))));
            tests.join(" AND ")
        }
        Condition::Contains(needle) => d.contains(&text, &needle.to_lowercase()),
        Condition::Matches(pattern) => d.regex_matches(&d.as_text(&value), pattern),
        Condition::Missing => format!("{value} IS NULL"),
    };
    let fires = if rule.negate {
        format!("NOT coalesce(({holds}), FALSE) AND {value} IS NOT NULL")
    } else {
        holds
    };
    points_when(d, &fires, rule.points)
}

/// `CASE WHEN condition THEN points ELSE 0 END` (a NULL condition gives 0).
fn points_when(d: Dialect, condition: &str, points: f64) -> String {
    format!(
        "CASE WHEN {condition} THEN {} ELSE {} END",
        d.double(points),
        d.double(0.0)
    )
}

/// `rule_events`: the visible interactions, each with one flag per behaviour rule.
fn events_part(rules: &PointModel, d: Dialect) -> String {
    let mut columns = vec![
        "v.lead_id".to_string(),
        "v.as_of_us".to_string(),
        "v.occurred_us".to_string(),
        "v.age_days".to_string(),
    ];
    columns.extend(
        rules
            .behaviours
            .iter()
            .enumerate()
            .map(|(i, rule)| format!("{} AS m{i}", behaviour_counts(d, rule))),
    );
    format!("SELECT {}\nFROM visible AS v", columns.join(",\n       "))
}

/// Whether the interaction `v` counts for a behaviour rule: its event type, its detail,
/// and young enough for the window (the shorter of the window and the expiry).
fn behaviour_counts(d: Dialect, rule: &BehaviourRule) -> String {
    let mut tests = vec![format!("v.event_type = {}", d.text(&rule.event_type))];
    tests.extend(rule.detail.as_ref().map(|detail| match detail {
        DetailMatch::Exact(text) => format!("v.detail = {}", d.text(text)),
        DetailMatch::Prefix(text) => d.starts_with("v.detail", text),
        DetailMatch::Glob { regex, .. } => d.regex_matches("v.detail", regex),
    }));
    tests.extend(
        rule.horizon_days()
            .map(|days| format!("v.age_days < {}", d.double(days))),
    );
    format!("CASE WHEN {} THEN TRUE ELSE FALSE END", tests.join(" AND "))
}

/// Whether a behaviour rule sums only its most recent occurrences one by one (decayed
/// ones are worth different amounts, so which are counted matters).
fn ranks_recent(rule: &BehaviourRule) -> Option<u32> {
    match rule.decay {
        Decay::HalfLife(_) => rule.max_count,
        Decay::None | Decay::Expire(_) => None,
    }
}

/// `rule_ranked`: `rule_events` with each counted interaction's recency rank for the
/// rules that need it.
fn ranked_part(rules: &PointModel) -> String {
    let mut columns = vec!["e.*".to_string()];
    columns.extend(
        rules
            .behaviours
            .iter()
            .enumerate()
            .filter(|(_, rule)| ranks_recent(rule).is_some())
            .map(|(i, _)| {
                format!(
                    "row_number() OVER (PARTITION BY e.lead_id, e.as_of_us, e.m{i} ORDER BY e.age_days) AS r{i}"
                )
            }),
    );
    format!(
        "SELECT {}\nFROM rule_events AS e",
        columns.join(",\n       ")
    )
}

/// `rule_engagement`: per lead with visible interactions, the last one's time and each
/// behaviour rule's points.
fn engagement_part(rules: &PointModel, d: Dialect) -> String {
    let mut columns = vec![
        "lead_id".to_string(),
        "as_of_us".to_string(),
        "max(occurred_us) AS last_us".to_string(),
    ];
    columns.extend(
        rules
            .behaviours
            .iter()
            .enumerate()
            .map(|(i, rule)| format!("{} AS b{i}", behaviour_points(d, rule, i))),
    );
    format!(
        "SELECT {}\nFROM rule_ranked\nGROUP BY lead_id, as_of_us",
        columns.join(",\n       ")
    )
}

/// A behaviour rule's points for one lead (an aggregate over its `rule_ranked` rows):
/// count × points, or the decayed worths of the (most recent) occurrences summed, then
/// clipped to ±`max_points`.
fn behaviour_points(d: Dialect, rule: &BehaviourRule, i: usize) -> String {
    let total = match rule.decay {
        Decay::HalfLife(days) => {
            let worth = format!(
                "{} * exp({} * age_days)",
                d.double(rule.points),
                d.double(-LN_2 / days)
            );
            let counted = match ranks_recent(rule) {
                Some(most) => format!("m{i} AND r{i} <= {most}"),
                None => format!("m{i}"),
            };
            format!(
                "coalesce(sum(CASE WHEN {counted} THEN {worth} END), {})",
                d.double(0.0)
            )
        }
        Decay::None | Decay::Expire(_) => {
            let count = format!("count(CASE WHEN m{i} THEN 1 END)");
            let count = match rule.max_count {
                Some(most) => format!("LEAST({count}, {most})"),
                None => count,
            };
            format!("{count} * {}", d.double(rule.points))
        }
    };
    match rule.max_points {
        Some(cap) => format!(
            "LEAST(GREATEST({total}, {}), {})",
            d.double(-cap),
            d.double(cap)
        ),
        None => total,
    }
}

/// `rule_totals`: per observed lead, `fit` (the attribute rules' points) and
/// `engagement` (behaviour rules, inactivity, age rules), unrounded.
fn totals_part(rules: &PointModel, d: Dialect) -> String {
    let zero = d.double(0.0);
    let fit = sum_in_order(d, (0..rules.attributes.len()).map(|i| format!("f.f{i}")));
    let behaviour = sum_in_order(
        d,
        (0..rules.behaviours.len()).map(|i| format!("coalesce(e.b{i}, {zero})")),
    );
    let inactivity = rules
        .inactivity
        .as_ref()
        .map_or(zero.clone(), |rule| inactivity_points(d, rule));
    let ages = sum_in_order(d, rules.ages.iter().map(|rule| age_points(d, rule)));
    format!(
        "SELECT f.lead_id, f.as_of_us,\n       {fit} AS fit,\n       \
         ({behaviour}) + ({inactivity}) + ({ages}) AS engagement\n\
         FROM rule_fit AS f\n     LEFT JOIN rule_engagement AS e ON e.lead_id = f.lead_id AND e.as_of_us = f.as_of_us"
    )
}

/// `0 + t0 + t1 + …`: left to right, as leadscore adds a lead's rules.
fn sum_in_order(d: Dialect, terms: impl Iterator<Item = String>) -> String {
    std::iter::once(d.double(0.0))
        .chain(terms)
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Days from `from_us` to the lead's as-of time, the same doubles as leadscore's.
fn days_until_as_of(d: Dialect, from_us: &str) -> String {
    format!(
        "CAST(f.as_of_us - {from_us} AS {}) * {}",
        d.double_type(),
        d.double(DAYS_PER_MICRO)
    )
}

/// Points for going quiet: no interaction (or, without any, no creation) for
/// `after_days` days.
fn inactivity_points(d: Dialect, rule: &Inactivity) -> String {
    let quiet = days_until_as_of(d, "coalesce(e.last_us, f.created_us)");
    points_when(
        d,
        &format!("{quiet} >= {}", d.double(rule.after_days)),
        rule.points,
    )
}

/// An age rule's points: the lead's age in `[from_days, below_days)`.
fn age_points(d: Dialect, rule: &AgeRule) -> String {
    let age = days_until_as_of(d, "f.created_us");
    let mut inside = format!("{age} >= {}", d.double(rule.from_days));
    if let Some(below) = rule.below_days {
        inside = format!("{inside} AND {age} < {}", d.double(below));
    }
    points_when(d, &inside, rule.points)
}

/// The band of `value`: the highest whose threshold it reaches, else the lowest (NULL
/// when there are no bands).
fn band(d: Dialect, value: &str, bands: &[Band]) -> String {
    let Some((lowest, higher)) = bands.split_first() else {
        return d.as_text("NULL");
    };
    let mut cases = String::from("CASE");
    for b in higher.iter().rev() {
        cases.push_str(&format!(
            " WHEN {value} >= {} THEN {}",
            d.double(b.from),
            d.text(&b.name)
        ));
    }
    format!("{cases} ELSE {} END", d.text(&lowest.name))
}

/// `value` rounded to `decimals` half away from zero, as polars rounds: the value times
/// 10^decimals rounded to a whole number, divided back. The whole number is the floor of
/// the magnitude plus one when the fraction is at least a half (exact, unlike
/// `floor(x + 0.5)`, which rounds 0.49999999999999994 up), signed. PostgreSQL's
/// `round(double)` rounds half to even, so no engine's `round` is used. (Spark's `floor`
/// of a double is a BIGINT, exact for every magnitude points reach.)
fn round_half_away(d: Dialect, value: &str, decimals: i32) -> String {
    let scale = d.double(10.0_f64.powi(decimals));
    let scaled = format!("({value}) * {scale}");
    let magnitude = format!("abs({scaled})");
    format!(
        "CASE WHEN {scaled} < {zero} THEN -1 ELSE 1 END\n         \
         * (floor({magnitude}) + CASE WHEN {magnitude} - floor({magnitude}) >= {half} THEN 1 ELSE 0 END)\n         \
         / {scale}",
        zero = d.double(0.0),
        half = d.double(0.5),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::timestamp::parse_timestamp;
    use crate::observations::observations_at;
    use crate::points::config::parse;
    use crate::sql::{add_observations, duckdb_test, tests::crm, AsOf, Observe};
    use polars::prelude::*;

    /// Scores `leads` with `rules` as of `as_of` in DuckDB and in leadscore and asserts
    /// every lead's five values are identical. Returns leadscore's scores.
    fn assert_same_scores(
        rules: &PointModel,
        leads: &DataFrame,
        interactions: &DataFrame,
        as_of: &str,
    ) -> DataFrame {
        let as_of = parse_timestamp(as_of).unwrap();
        let names = SqlTables {
            leads: "leads".into(),
            interactions: "interactions".into(),
        };
        let d = Dialect::DuckDb;
        let mut query = Query::default();
        add_observations(&mut query, d, &names, Observe::Leads(AsOf::At(as_of)), &[]);
        add_rule_points(&mut query, rules, d, &names);
        let sql = query.finish("SELECT * FROM rule_points");
        let sort = |frame: DataFrame| {
            frame
                .sort([LEAD_ID], SortMultipleOptions::default())
                .unwrap()
        };
        let got = sort(duckdb_test::run(&sql, leads, interactions));
        let want = sort(
            rules
                .evaluate(
                    leads,
                    interactions,
                    &observations_at(leads, as_of).unwrap(),
                    false,
                )
                .unwrap()
                .scores,
        );
        assert_eq!(got.height(), want.height());
        let numbers = |frame: &DataFrame, name: &str| -> Vec<f64> {
            let column = frame
                .column(name)
                .unwrap()
                .cast(&DataType::Float64)
                .unwrap();
            column.f64().unwrap().into_no_null_iter().collect()
        };
        assert_eq!(texts(&got, LEAD_ID), texts(&want, LEAD_ID));
        let ids = texts(&want, LEAD_ID);
        for name in ["tier", "grade"] {
            same_for_every_lead(name, &ids, &texts(&got, name), &texts(&want, name));
        }
        for name in ["points", "fit_points", "engagement_points"] {
            same_for_every_lead(name, &ids, &numbers(&got, name), &numbers(&want, name));
        }
        want
    }

    /// Fails naming how many leads' `name` differ between the SQL and leadscore, and
    /// the first.
    fn same_for_every_lead<T: PartialEq + std::fmt::Debug>(
        name: &str,
        ids: &[Option<String>],
        got: &[T],
        want: &[T],
    ) {
        let wrong: Vec<_> = (0..got.len()).filter(|&i| got[i] != want[i]).collect();
        assert!(
            wrong.is_empty(),
            "{} leads differ in {name}, first {:?}: SQL {:?}, leadscore {:?}",
            wrong.len(),
            ids[wrong[0]],
            got[wrong[0]],
            want[wrong[0]]
        );
    }

    /// The column `name` as text.
    fn texts(frame: &DataFrame, name: &str) -> Vec<Option<String>> {
        let column = frame.column(name).unwrap().cast(&DataType::String).unwrap();
        column
            .str()
            .unwrap()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }

    /// How many distinct values `name` takes.
    fn distinct(scores: &DataFrame, name: &str) -> usize {
        scores.column(name).unwrap().n_unique().unwrap()
    }

    #[test]
    fn the_builtin_rules_score_every_lead_as_leadscore_does() {
        let (_dir, tables) = crm(1500);
        let rules = PointModel::builtin().unwrap();
        for as_of in ["2025-03-01", "2025-09-01"] {
            let scores = assert_same_scores(&rules, &tables.leads, &tables.interactions, as_of);
            assert!(distinct(&scores, "tier") >= 3, "{scores}");
            assert!(distinct(&scores, "grade") >= 3, "{scores}");
        }
    }

    /// Every condition kind, negation, every detail match, both decays with and without
    /// `max_count`, windows, caps, inactivity, age rules, several tiers and grades, and
    /// points that land on rounding midpoints (x.x5 in binary: 0.25, 0.125).
    const EVERY_RULE: &str = r#"
base_points = 0.25

[[tier]]
name = "lost"
from = -40
[[tier]]
name = "cold"
from = 0
[[tier]]
name = "warm"
from = 12.5
[[tier]]
name = "hot"
from = 30.05
[[tier]]
name = "sales_ready"
from = 55

[[grade]]
name = "D"
from = -20
[[grade]]
name = "C"
from = 0
[[grade]]
name = "B"
from = 10.125
[[grade]]
name = "A"
from = 19.5

[[attribute]]
column = "industry"
equals = "SOFTWARE"
points = 10.125
[[attribute]]
column = "industry"
one_of = ["technology", "Financial Services"]
points = 7.5
[[attribute]]
column = "job_title"
contains = "MANAGER"
points = 3.3
[[attribute]]
column = "job_title"
matches = "^(Sales|Marketing) "
points = 2.25
[[attribute]]
column = "job_title"
matches = "^(Sales|Marketing) "
not = true
points = -1.1
[[attribute]]
column = "job_title"
missing = true
points = -4.75
[[attribute]]
column = "company_size"
at_least = 50
below = 500
points = 6.05
[[attribute]]
column = "company_size"
below = 10
points = -3.125
[[attribute]]
column = "company_size"
at_least = 1000
not = true
points = 0.35
[[attribute]]
column = "company_size"
missing = true
points = -0.45
[[attribute]]
column = "lucky_number"
equals = 7
points = 7.77
[[attribute]]
column = "lucky_number"
equals = 13
not = true
points = 0.01
[[attribute]]
column = "country"
one_of = ["us", "De"]
not = true
points = -6.5
[[attribute]]
column = "seniority"
equals = "Student"
not = true
points = 1.25

[[behaviour]]
event_type = "page_visit"
detail = "/pricing"
points = 4.5
max_count = 2
half_life_days = 14
[[behaviour]]
event_type = "email_open"
points = 0.7
max_points = 6.25
half_life_days = 10
[[behaviour]]
event_type = "download"
detail_prefix = "whitepaper-"
points = 5.25
expire_after_days = 45
[[behaviour]]
event_type = "form_submit"
detail_glob = "*contact*"
points = 8
window_days = 30
expire_after_days = 60
[[behaviour]]
event_type = "form_submit"
detail = "inquiry"
points = 6
window_days = 120
expire_after_days = 20
[[behaviour]]
event_type = "webinar"
detail_glob = "webinar-r?i-*"
points = 3.75
max_count = 2
[[behaviour]]
event_type = "page_visit"
detail_glob = "/blog/*-20?5"
points = 1.125
max_points = 2.5
window_days = 200
[[behaviour]]
event_type = "email_click"
points = 1.5
max_count = 5
window_days = 20
[[behaviour]]
event_type = "product_login"
points = 0.9
max_count = 3
max_points = 2
half_life_days = 7
window_days = 30
[[behaviour]]
event_type = "unsubscribe"
points = -30
max_count = 1
[[behaviour]]
event_type = "email_bounce"
points = -2.5
max_points = 4

[inactivity]
after_days = 21.5
points = -7.35

[[age]]
below_days = 30
points = 5.05
[[age]]
from_days = 30
below_days = 180.5
points = 0.25
[[age]]
from_days = 365
points = -12.5
"#;

    #[test]
    fn every_kind_of_rule_scores_every_lead_as_leadscore_does() {
        let (_dir, tables) = crm(1500);
        let rules = parse(EVERY_RULE, "every rule").unwrap();
        let (mut tiers, mut grades, mut fired) = (Vec::new(), Vec::new(), Vec::new());
        for as_of in ["2025-01-15", "2025-06-01T12:34:56", "2025-09-01"] {
            let scores = assert_same_scores(&rules, &tables.leads, &tables.interactions, as_of);
            assert!(distinct(&scores, "engagement_points") >= 50, "{scores}");
            tiers.extend(texts(&scores, "tier"));
            grades.extend(texts(&scores, "grade"));
            // Which rules gave some lead points (the fixture must exercise them all).
            let observations = observations_at(&tables.leads, parse_timestamp(as_of).unwrap());
            let breakdown = rules
                .evaluate(
                    &tables.leads,
                    &tables.interactions,
                    &observations.unwrap(),
                    true,
                )
                .unwrap()
                .breakdown
                .unwrap();
            let order = breakdown.column("order").unwrap().i32().unwrap();
            fired.extend(order.into_no_null_iter());
        }
        for found in [&mut tiers, &mut grades] {
            found.sort();
            found.dedup();
        }
        fired.sort_unstable();
        fired.dedup();
        assert_eq!(tiers.len(), rules.tiers.len(), "{tiers:?}");
        assert_eq!(grades.len(), rules.grades.len(), "{grades:?}");
        let rule_count = rules.attributes.len() + rules.behaviours.len() + 1 + rules.ages.len();
        let silent: Vec<usize> = (0..rule_count)
            .filter(|i| !fired.contains(&(*i as i32)))
            .collect();
        assert!(
            silent.is_empty(),
            "rules that never gave points: {silent:?}"
        );
    }

    /// A TOML basic string holding `text` exactly.
    fn toml_text(text: &str) -> String {
        toml::Value::String(text.to_string()).to_string()
    }

    #[test]
    fn names_and_values_that_hold_quotes_backslashes_and_unicode_cannot_break_the_query() {
        let (_dir, tables) = crm(600);
        let column = "in\"du'stry; --";
        let value = "O'Brien \"Ltd\" \\ Zürich; -- Ünïcødé";
        let event = "we\"ird' ev\\ent";
        let detail = "it's \"quoted\" \\ path/é";
        let replace = |name: &str, from: &str, to: &str| {
            when(col(name).eq(lit(from)))
                .then(lit(to.to_string()))
                .otherwise(col(name))
                .alias(name)
        };
        let mut leads = tables
            .leads
            .clone()
            .lazy()
            .with_column(replace("industry", "Software", value))
            .collect()
            .unwrap();
        leads.rename("industry", column.into()).unwrap();
        let interactions = tables
            .interactions
            .clone()
            .lazy()
            .with_columns([
                replace("detail", "webinar-roi-workshop", detail),
                replace("event_type", "webinar", event),
            ])
            .collect()
            .unwrap();
        let rules = format!(
            r#"
[[tier]]
name = {tier_low}
from = 0
[[tier]]
name = {tier_high}
from = 10
[[grade]]
name = {grade_low}
from = 0
[[grade]]
name = {grade_high}
from = 5

[[attribute]]
column = {column}
equals = {equals}
points = 5
[[attribute]]
column = {column}
contains = {contains}
points = 1
[[attribute]]
column = {column}
matches = {matches}
points = 2
[[attribute]]
column = {column}
one_of = [{equals}, "x"]
not = true
points = -1

[[behaviour]]
event_type = {event}
detail = {detail}
points = 3
[[behaviour]]
event_type = {event}
detail_prefix = {prefix}
points = 1
max_count = 1
[[behaviour]]
event_type = {event}
detail_glob = {glob}
points = 2
half_life_days = 30
"#,
            tier_low = toml_text("c'o\"ld\\"),
            tier_high = toml_text("hé'\"ot"),
            grade_low = toml_text("'"),
            grade_high = toml_text("\"A\\"),
            column = toml_text(column),
            equals = toml_text(&value.to_uppercase()),
            contains = toml_text("\"ltd\" \\ züRICH"),
            matches = toml_text("^O'Brien \"Ltd\" \\\\ Zürich; -- Ü"),
            event = toml_text(event),
            detail = toml_text(detail),
            prefix = toml_text("it's \"quoted\" \\"),
            glob = toml_text("it?s \"quoted\" \\ *é"),
        );
        let rules = parse(&rules, "hostile").unwrap();
        let scores = assert_same_scores(&rules, &leads, &interactions, "2025-09-01");
        // Every rule reads hostile names and values only, so points anywhere mean they
        // matched: some leads fit (5 + 1 + 2) and some engaged.
        let fit = scores.column("fit_points").unwrap().f64().unwrap();
        assert!(fit.into_no_null_iter().any(|v| v == 8.0), "{scores}");
        assert!(fit.into_no_null_iter().any(|v| v == -1.0), "{scores}");
        let engaged = scores.column("engagement_points").unwrap().f64().unwrap();
        assert!(engaged.into_no_null_iter().any(|v| v > 4.0), "{scores}");
        assert_eq!(distinct(&scores, "tier"), 2, "{scores}");
        assert_eq!(distinct(&scores, "grade"), 2, "{scores}");
    }

    #[test]
    fn rounding_is_half_away_from_zero_in_the_sql_too() {
        let values = [
            0.25,
            -0.25,
            0.35,
            1.05,
            -1.05,
            2.675,
            0.49999999999999994,
            -0.049999999999999996,
            0.0,
            1e15 + 0.5,
            123.45,
            -123.45,
        ];
        let selects: Vec<String> = values
            .iter()
            .map(|v| {
                let x = Dialect::DuckDb.double(*v);
                format!(
                    "SELECT {x} AS x, {} AS one, {} AS two",
                    round_half_away(Dialect::DuckDb, &x, 1),
                    round_half_away(Dialect::DuckDb, &x, 2)
                )
            })
            .collect();
        let sql = format!("{};", selects.join("\nUNION ALL\n"));
        let unused = df!("a" => [1i64]).unwrap();
        let got = duckdb_test::run(&sql, &unused, &unused)
            .sort(["x"], SortMultipleOptions::default())
            .unwrap();
        let column = |name: &str| -> Vec<f64> {
            got.column(name)
                .unwrap()
                .f64()
                .unwrap()
                .into_no_null_iter()
                .collect()
        };
        let x = column("x");
        let polars = |decimals: u32| -> Vec<f64> {
            Series::new("x".into(), &x)
                .round(decimals, RoundMode::HalfAwayFromZero)
                .unwrap()
                .f64()
                .unwrap()
                .into_no_null_iter()
                .collect()
        };
        assert_eq!(column("one"), polars(1));
        assert_eq!(column("two"), polars(2));
    }
}
